//! `cargo xtask soak [--seconds N] [OPTIONS]`: the mock's release binary under a mixed load of 64
//! connections for N seconds (60 by default), then every task final and every webhook accounted
//! for. A `ci` step with [`CI_ARGS`] (10 s).
//!
//! Builds the mock's binary in release, then runs `cargo bench -p musicgpt-cover-mock --bench soak
//! -- OPTIONS` (also release) with the binary's path in [`BIN_ENV`], as `bench` does. The soak
//! prints its options with `--help` and exits non-zero when a check fails, naming it. Unlike the
//! benchmarks it judges no timing, only counts and bounds, so it can gate CI.

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
    let binary = crate::bench::build_mock("soak")?;
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
