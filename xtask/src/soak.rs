//! `cargo xtask soak [--seconds N] [OPTIONS]`: the mock's release binary under a mixed load of 64
//! connections for N seconds (60 by default), then every task final and every webhook accounted
//! for. A `ci` step with [`CI_ARGS`] (10 s).
//!
//! Builds the mock's binary in release, then runs `cargo bench -p musicgpt-cover-mock --bench soak
//! -- OPTIONS` (also release) with the binary's path in [`BIN_ENV`], as `bench` does. The soak
//! prints its options with `--help` and exits non-zero when a check fails, naming it. Unlike the
//! benchmarks it judges no timing, only counts and bounds, so it can gate CI.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use crate::{Error, Result, process};

/// Where the soak finds the mock's binary.
const BIN_ENV: &str = "MUSICGPT_SOAK_MOCK_BIN";

/// The soak as `cargo xtask ci` runs it: long enough for the stores to fill and for RSS to be
/// judged over thirds of a few seconds each, short enough for every CI run.
const CI_ARGS: [&str; 2] = ["--seconds", "10"];

pub(crate) fn run(args: &[String]) -> Result {
    // `cargo xtask soak -- --seconds 5` reads naturally too; one `--` for cargo is added below.
    let args = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => args,
    };
    let started = Instant::now();
    let binary = build_mock()?;
    let built = started.elapsed();

    let mut soak = process::cargo();
    soak.args([
        "bench",
        "--package",
        "musicgpt-cover-mock",
        "--bench",
        "soak",
        "--",
    ])
    .args(args)
    .env(BIN_ENV, &binary);
    println!(
        "soak: {BIN_ENV}={} {}",
        binary.display(),
        process::display(&soak)
    );
    let outcome = process::run(&mut soak).map_err(|error| {
        Error::new(format!(
            "soak: {error}: a check failed (FAIL above) or the run was not valid (NOT VALID above)"
        ))
    });
    println!(
        "soak: {:.1}s in all: the mock's release build {:.1}s, then the soak (its build and run) {:.1}s",
        started.elapsed().as_secs_f64(),
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
    outcome
}

/// The `ci` step.
pub(crate) fn ci() -> Result {
    let args: Vec<String> = CI_ARGS.iter().map(|a| (*a).to_owned()).collect();
    run(&args)
}

/// `cargo build --release -p musicgpt-cover-mock --bin musicgpt-cover-mock`; returns the
/// binary's absolute path, as cargo reports it (so `CARGO_TARGET_DIR` and the like are honoured).
/// The same as `bench` does, kept apart so that each command can change on its own.
fn build_mock() -> Result<PathBuf> {
    let mut build = process::cargo();
    build.args([
        "build",
        "--release",
        "--package",
        "musicgpt-cover-mock",
        "--bin",
        "musicgpt-cover-mock",
        // JSON on stdout, to find the binary; the usual progress and diagnostics on stderr.
        "--message-format=json-render-diagnostics",
    ]);
    println!("soak: {}", process::display(&build));
    let output = build
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| {
            Error::new(format!(
                "`{}` could not start: {error}",
                process::display(&build)
            ))
        })?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "`{}` failed ({})",
            process::display(&build),
            output.status
        )));
    }
    let messages = String::from_utf8_lossy(&output.stdout);
    executable(&messages).map(PathBuf::from).ok_or_else(|| {
        Error::new(format!(
            "`{}` named no executable in its output",
            process::display(&build)
        ))
    })
}

/// The `executable` of the mock's binary in cargo's JSON messages (one object a line).
fn executable(messages: &str) -> Option<String> {
    messages
        .lines()
        .filter(|line| {
            line.contains(r#""reason":"compiler-artifact""#)
                && line.contains(r#""name":"musicgpt-cover-mock""#)
                && line.contains(r#""kind":["bin"]"#)
        })
        .find_map(|line| json_string_after(line, r#""executable":""#))
}

/// The JSON string that starts right after `key` in `line`, unescaped (the escapes a path can
/// hold: `\\`, `\"`, `\/`; any other makes it `None`).
fn json_string_after(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let mut out = String::new();
    let mut chars = line[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                c @ ('\\' | '"' | '/') => out.push(c),
                _ => return None,
            },
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_is_found_in_cargos_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"musicgpt_cover_mock"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"musicgpt-cover-mock"},"executable":"/w/t \"x\"\\release/musicgpt-cover-mock"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable(messages).as_deref(),
            Some(r#"/w/t "x"\release/musicgpt-cover-mock"#)
        );
        assert_eq!(executable(r#"{"reason":"build-finished"}"#), None);
    }
}
