//! `cargo xtask ci`: every check CI runs, in order, stopping at the first failure, with each step's time.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::process::Background;
use crate::tools::{self, Tools};
use crate::{
    Error, Result, dist, fuzz, install_lines, mutants, package, process, project, soak, spec_lint,
};

/// What the steps of one run share: the tools' install, started in the background before the
/// first step (most of it waits on the network and unpacks archives, which costs little CPU
/// beside `clippy` and `doc`) and awaited by the `tools` step.
struct Context {
    tools: Option<Background>,
}

/// One step of the CI run.
type Step = fn(&mut Context) -> Result;

/// The steps, cheapest and most likely to fail first. The tools' install starts in the
/// background with the run; the `tools` step waits for it (its time is what was left to wait)
/// before `spec-lint` and `test`, which use what it installs. `soak` follows `test`: the mock under load for 10 s, in the
/// dev profile `test` compiled (nothing to build), which is worth it only once the suite passes.
/// `dist` packs that same binary for npm and as an archive, then installs and runs the packages
/// as a user would (offline, with no cargo on PATH) and compiles the TypeScript types.
/// `package` follows `test`: it builds and tests the crates again as published, reusing the
/// dependencies `test` compiled, which is worth it only once they pass in the workspace.
/// `install-lines` runs the docs' install commands labelled `# Works today` against a clone:
/// its `cargo install --debug` of the mock reuses what `package` built, its `npm install` the
/// packages `dist` made. `fuzz`
/// runs each fuzz target for 30 s, side by side (one per core), after a release build of its own of every dependency
/// (cargo-fuzz's instrumentation; several minutes the first time, seconds after). `mutants`
/// comes last: it tries each mutation of openapi.yaml in a copy of the workspace (its target
/// dir seeded with `test`'s dependencies), which only means something once `test` has passed.
/// Each step's time goes to `target/ci/timings.json`.
const STEPS: &[(&str, Step)] = &[
    ("fmt", |_| cargo("fmt --all --check", |_| {})),
    ("clippy", |_| {
        cargo("clippy --workspace --all-targets -- -D warnings", |_| {})
    }),
    ("doc", |_| {
        cargo("doc --no-deps --workspace", |command| {
            command.env("RUSTDOCFLAGS", "-Dwarnings");
        })
    }),
    ("tools", await_tools),
    ("spec-lint", |_| spec_lint::run()),
    ("test", |_| test()),
    ("soak", |_| soak::ci()),
    ("dist", |_| dist::ci()),
    ("package", |_| package::run()),
    ("install-lines", |_| install_lines::run()),
    ("fuzz", |_| fuzz::ci()),
    ("mutants", |_| mutants::ci()),
];

pub(crate) fn run() -> Result {
    let started = Instant::now();
    let run = Run {
        commit: process::stdout(process::git().args(["rev-parse", "HEAD"]))
            .unwrap_or_else(|_| "unknown".to_owned()),
        date: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        fresh_target: fresh_target(&project::root().join("target"), &xtask_packages()),
    };
    let mut context = Context {
        tools: Some(start_tools()?),
    };
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    for (index, &(name, step)) in STEPS.iter().enumerate() {
        println!("\n==> ci [{}/{}] {name}", index + 1, STEPS.len());
        let step_started = Instant::now();
        let outcome = step(&mut context);
        let elapsed = step_started.elapsed();
        timings.push((name, elapsed));
        if let Err(error) = outcome {
            print_timings(&timings, started.elapsed());
            write_timings(&run, &timings, started.elapsed());
            return Err(Error::new(format!(
                "ci: step `{name}` failed after {:.1}s: {error}",
                elapsed.as_secs_f64()
            )));
        }
        println!("<== ci: {name} passed in {:.1}s", elapsed.as_secs_f64());
    }
    print_timings(&timings, started.elapsed());
    write_timings(&run, &timings, started.elapsed());
    println!("ci: all {} steps passed", STEPS.len());
    Ok(())
}

/// What `target/ci/timings.json` says about the run besides the steps' times.
struct Run {
    commit: String,
    date: String,
    fresh_target: bool,
}

/// A file of `target/ci/`: the step times a run writes (`timings.json`, which the bench reads for
/// BENCHMARKS.md) and the background install's log (`tools.log`).
fn ci_file(name: &str) -> std::path::PathBuf {
    project::root().join("target").join("ci").join(name)
}

/// Writes the timings as JSON; a failure to write is reported and does not fail the run.
fn write_timings(run: &Run, timings: &[(&str, Duration)], total: Duration) {
    let path = ci_file("timings.json");
    let written = path
        .parent()
        .map_or(Ok(()), fs::create_dir_all)
        .and_then(|()| fs::write(&path, timings_json(run, timings, total)));
    match written {
        Ok(()) => println!("ci: timings written to {}", project::relative(&path)),
        Err(error) => eprintln!("ci: could not write {}: {error}", path.display()),
    }
}

/// `target/ci/timings.json`: the run and each step's time, seconds to a tenth. The bench reads it
/// back for BENCHMARKS.md (`benchmarks::ci_section`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Timings {
    pub(crate) commit: String,
    pub(crate) date: String,
    pub(crate) fresh_target: bool,
    pub(crate) steps: Vec<StepTime>,
    pub(crate) total_seconds: f64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StepTime {
    pub(crate) name: String,
    pub(crate) seconds: f64,
}

fn timings_json(run: &Run, timings: &[(&str, Duration)], total: Duration) -> String {
    let tenths = |elapsed: Duration| (elapsed.as_secs_f64() * 10.0).round() / 10.0;
    let timings = Timings {
        commit: run.commit.clone(),
        date: run.date.clone(),
        fresh_target: run.fresh_target,
        steps: timings
            .iter()
            .map(|(name, elapsed)| StepTime {
                name: (*name).to_owned(),
                seconds: tenths(*elapsed),
            })
            .collect(),
        total_seconds: tenths(total),
    };
    // Plain data of strings and numbers: serializing it cannot fail.
    serde_json::to_string_pretty(&timings).unwrap_or_default() + "\n"
}

/// Whether `target` held no build when the run began: absent, or holding only what `cargo
/// xtask` itself needed to start (`cargo run -p xtask` builds xtask and its dependencies,
/// [`xtask_packages`], before `ci` runs).
fn fresh_target(target: &Path, xtask_packages: &BTreeSet<String>) -> bool {
    let Ok(entries) = fs::read_dir(target) else {
        return true;
    };
    let others = entries.filter_map(|entry| entry.ok()).any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // cargo's own marker files, and the debug profile xtask was built in (judged below).
        !(name == "debug" || name == "CACHEDIR.TAG" || name.starts_with(".rustc_info"))
    });
    if others {
        return false;
    }
    match fs::read_dir(target.join("debug").join(".fingerprint")) {
        // A unit's fingerprint folder is `<package>-<hash>`: only xtask's and its dependencies'.
        Ok(units) => units.filter_map(|entry| entry.ok()).all(|unit| {
            let name = unit.file_name();
            let name = name.to_string_lossy();
            name.rsplit_once('-')
                .is_some_and(|(package, _)| xtask_packages.contains(package))
        }),
        Err(_) => true,
    }
}

/// The packages `cargo build -p xtask` compiles (xtask and its dependencies, build ones
/// included), as `cargo tree` resolves them; just xtask if that fails.
fn xtask_packages() -> BTreeSet<String> {
    let mut tree = process::cargo();
    tree.args(["tree", "--package", "xtask", "--edges", "normal,build"])
        .args(["--prefix", "none", "--format", "{p}"]);
    let mut packages: BTreeSet<String> = process::stdout(&mut tree)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    packages.insert("xtask".to_owned());
    packages
}

fn print_timings(timings: &[(&str, Duration)], total: Duration) {
    println!("\nci timings:");
    for (name, elapsed) in timings {
        println!("  {name:<10} {:>7.1}s", elapsed.as_secs_f64());
    }
    println!("  {:<10} {:>7.1}s", "total", total.as_secs_f64());
}

/// How long the tools' install may take (a fresh one takes one to two minutes on 2 cores).
const TOOLS_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Starts `cargo xtask tools` (this program again) in the background, its output going to
/// `target/ci/tools.log`; the `tools` step waits for it and shows the log.
fn start_tools() -> Result<Background> {
    let log = ci_file("tools.log");
    if let Some(dir) = log.parent() {
        project::create_dir(dir)?;
    }
    let program = std::env::current_exe()
        .map_err(|error| Error::new(format!("could not find xtask's own program: {error}")))?;
    let mut command = Command::new(program);
    command.arg("tools").current_dir(project::root());
    println!(
        "ci: installing the tools in the background (`cargo xtask tools`, log: {})",
        project::relative(&log)
    );
    Background::spawn(&mut command, &log)
}

/// The `tools` step: waits for the background install started with the run, then shows its log.
fn await_tools(context: &mut Context) -> Result {
    let Some(install) = context.tools.take() else {
        return Tools::new().install();
    };
    let status = install.wait_within(TOOLS_LIMIT)?;
    let log = ci_file("tools.log");
    print!("{}", fs::read_to_string(&log).unwrap_or_default());
    match status {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(Error::new(format!(
            "`cargo xtask tools` failed ({status}); its output is above and in {}",
            project::relative(&log)
        ))),
        None => Err(Error::new(format!(
            "`cargo xtask tools` was still running after {} minutes and was stopped",
            TOOLS_LIMIT.as_secs() / 60
        ))),
    }
}

/// `cargo test --workspace` (xtask included: `--workspace` ignores `default-members`), told where
/// the tools are so tests can run schemathesis, Prism and the Python sample. Then the benchmark
/// harness's smoke run (every part for about a second, nothing judged), in the test profile
/// whose dependencies the first command built, so the harness cannot rot unnoticed.
fn test() -> Result {
    let tools = Tools::new();
    cargo("test --workspace", |command| {
        command.env(tools::DIR_ENV, tools.dir());
    })?;
    // `--workspace`, not `--package musicgpt-cover-mock`: cargo resolves features per selection,
    // and the mock alone would build axum, hyper, reqwest and serde_json (and all on them) a
    // second time with other features; only the mock has a `cover` bench.
    cargo("test --workspace --bench cover -- --smoke", |command| {
        command.env(tools::DIR_ENV, tools.dir());
    })
}

/// `cargo ARGS` (words split at spaces), shown, then run.
fn cargo(args: &str, configure: impl FnOnce(&mut Command)) -> Result {
    let mut command = process::cargo();
    command.args(args.split_whitespace());
    configure(&mut command);
    println!("$ {}", process::display(&command));
    process::run(&mut command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timings_are_json_with_every_step() {
        let run = Run {
            commit: "abc123".to_owned(),
            date: "2026-11-29T09:00:00Z".to_owned(),
            fresh_target: true,
        };
        let json = timings_json(
            &run,
            &[
                ("fmt", Duration::from_millis(1234)),
                ("test", Duration::from_secs(359)),
            ],
            Duration::from_millis(360_250),
        );
        let read: Timings = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(
            read,
            Timings {
                commit: "abc123".to_owned(),
                date: "2026-11-29T09:00:00Z".to_owned(),
                fresh_target: true,
                steps: vec![
                    StepTime {
                        name: "fmt".to_owned(),
                        seconds: 1.2
                    },
                    StepTime {
                        name: "test".to_owned(),
                        seconds: 359.0
                    },
                ],
                total_seconds: 360.3,
            }
        );
        assert!(json.ends_with("}\n"), "{json}");
    }

    #[test]
    fn a_target_holding_only_xtask_is_fresh() {
        let own = xtask_packages();
        assert!(
            ["xtask", "clap", "serde_json", "proc-macro2"]
                .iter()
                .all(|package| own.contains(*package)),
            "{own:?}"
        );
        assert!(!own.contains("tokio"), "{own:?}");
        let dir = crate::scratch("ci-fresh");
        let target = dir.join("target");
        let absent = fresh_target(&target, &own);
        let units = target.join("debug").join(".fingerprint");
        fs::create_dir_all(units.join("xtask-0123")).unwrap_or_else(|e| panic!("{e}"));
        fs::create_dir_all(units.join("proc-macro2-89ab")).unwrap_or_else(|e| panic!("{e}"));
        fs::write(target.join("CACHEDIR.TAG"), "").unwrap_or_else(|e| panic!("{e}"));
        let only_xtask = fresh_target(&target, &own);
        fs::create_dir_all(units.join("tokio-4567")).unwrap_or_else(|e| panic!("{e}"));
        let with_a_dependency = fresh_target(&target, &own);
        fs::remove_dir_all(units.join("tokio-4567")).unwrap_or_else(|e| panic!("{e}"));
        fs::create_dir_all(target.join("release")).unwrap_or_else(|e| panic!("{e}"));
        let with_release = fresh_target(&target, &own);
        assert!(absent && only_xtask);
        assert!(!with_a_dependency && !with_release);
    }
}
