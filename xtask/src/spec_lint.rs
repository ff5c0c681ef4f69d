//! `cargo xtask spec-lint`: openapi.yaml passes redocly, spectral and openapi-spec-validator with no problems.
//!
//! The linters' configurations are committed in `xtask/tools/` (`redocly.yaml`: the recommended
//! rules with warnings as errors; `spectral.yaml`: `spectral:oas`). The same check is a `#[test]`
//! below, so `cargo test --workspace` enforces it too.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::tools::Tools;
use crate::{Error, Result, process, project};

/// What one linter said about the spec.
struct Verdict {
    linter: &'static str,
    command_line: String,
    clean: bool,
    output: String,
    seconds: f64,
}

/// Runs the three linters, printing what each said; fails unless all three are clean.
pub(crate) fn run() -> Result {
    let verdicts = lint(&Tools::new(), &project::spec())?;
    for verdict in &verdicts {
        println!(
            "spec-lint: {} {} in {:.1}s: {}",
            verdict.linter,
            if verdict.clean { "clean" } else { "FAILED" },
            verdict.seconds,
            verdict.command_line
        );
        let output = verdict.output.trim();
        if !output.is_empty() {
            println!("{output}\n");
        }
    }
    match failures(&verdicts) {
        None => {
            println!("spec-lint: openapi.yaml is clean for all three linters");
            Ok(())
        }
        Some(failed) => Err(Error::new(format!(
            "spec-lint: openapi.yaml has problems according to {failed} (their output is above)"
        ))),
    }
}

/// The linters that found a problem in `spec`, any OpenAPI file (empty when all three are clean).
pub(crate) fn complaints(tools: &Tools, spec: &Path) -> Result<Vec<&'static str>> {
    Ok(lint(tools, spec)?
        .into_iter()
        .filter(|verdict| !verdict.clean)
        .map(|verdict| verdict.linter)
        .collect())
}

/// The linters, as commands run from the workspace root against `spec`.
fn linters(tools: &Tools, spec: &Path) -> Vec<(&'static str, Command)> {
    let configs = project::tool_configs();

    let mut redocly = Command::new(tools.npm_program("redocly"));
    redocly
        .arg("lint")
        .arg(spec)
        .arg("--config")
        .arg(configs.join("redocly.yaml"))
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true");

    let mut spectral = Command::new(tools.npm_program("spectral"));
    spectral
        .arg("lint")
        .arg(spec)
        .arg("--ruleset")
        .arg(configs.join("spectral.yaml"))
        .arg("--fail-severity=warn");

    let mut validator = Command::new(tools.venv_program("openapi-spec-validator"));
    validator.arg(spec);

    let mut linters = vec![
        ("redocly", redocly),
        ("spectral", spectral),
        ("openapi-spec-validator", validator),
    ];
    for (_, command) in &mut linters {
        command.current_dir(project::root());
    }
    linters
}

/// Runs the linters side by side (each spends most of its time starting node or Python).
fn lint(tools: &Tools, spec: &Path) -> Result<Vec<Verdict>> {
    tools.check_installed()?;
    let linters = linters(tools, spec);
    let at_once = linters.len();
    process::side_by_side(
        linters,
        at_once,
        "a linter thread panicked",
        |(linter, mut command)| {
            let started = Instant::now();
            let output = process::capture(&mut command)?;
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            Ok(Verdict {
                linter,
                command_line: process::display(&command),
                clean: output.status.success(),
                output: text,
                seconds: started.elapsed().as_secs_f64(),
            })
        },
    )
}

/// The names of the linters that were not clean, or `None` when all were.
fn failures(verdicts: &[Verdict]) -> Option<String> {
    let failed: Vec<&str> = verdicts
        .iter()
        .filter(|verdict| !verdict.clean)
        .map(|verdict| verdict.linter)
        .collect();
    (!failed.is_empty()).then(|| failed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask spec-lint` as a test, so `cargo test --workspace` keeps openapi.yaml lint-clean.
    #[test]
    fn openapi_yaml_is_lint_clean() {
        let verdicts = lint(&Tools::new(), &project::spec()).unwrap_or_else(|e| panic!("{e}"));
        if let Some(failed) = failures(&verdicts) {
            let report: Vec<String> = verdicts
                .iter()
                .filter(|verdict| !verdict.clean)
                .map(|verdict| format!("--- {}\n{}", verdict.command_line, verdict.output))
                .collect();
            panic!(
                "openapi.yaml has problems according to {failed}:\n{}",
                report.join("\n")
            );
        }
    }

    /// Each linter must reject a spec that is broken, or a clean verdict above would mean nothing.
    #[test]
    fn every_linter_rejects_an_operation_without_responses() {
        let dir = crate::scratch("spec-lint");
        let spec = dir.join("broken.yaml");
        let broken = "openapi: 3.0.3\n\
                      info: {title: Broken, version: '1'}\n\
                      paths:\n  /thing:\n    get:\n      operationId: getThing\n";
        crate::put(&spec, broken);
        let verdicts = lint(&Tools::new(), &spec).unwrap_or_else(|e| panic!("{e}"));
        for verdict in &verdicts {
            assert!(
                !verdict.clean,
                "{} found nothing wrong with an operation that has no responses:\n{}",
                verdict.linter, verdict.output
            );
        }
        assert_eq!(verdicts.len(), 3);
    }
}
