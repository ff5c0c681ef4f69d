//! `cargo xtask soak [--seconds N] [OPTIONS]`: the mock's release binary under a mixed load of 64
//! connections for N seconds (60 by default), then every task final and every webhook accounted
//! for. A `ci` step with [`CI_ARGS`] (10 s).
//!
//! By hand, builds the mock's binary in release, then runs `cargo bench -p musicgpt-cover-mock
//! --bench soak -- OPTIONS` (also release) with the binary's path in [`BIN_ENV`], as `bench` does.
//! The soak prints its options with `--help` and exits non-zero when a check fails, naming it.
//! Unlike the benchmarks it judges no timing, only counts and bounds, so it can gate CI.
//!
//! In `ci` the binary and the soak are the dev profile's instead (`cargo bench --profile dev`),
//! with the whole workspace selected as `cargo test --workspace` selects it, so cargo finds every
//! dependency already compiled by the `test` step, features included. A release build of its own
//! cost 10 minutes on a fresh checkout (2 cores), for a 10 s run whose checks (answers, counts,
//! flat RSS and uploads, final tasks, webhooks, a clean stop) are the same in either profile.
//! `cargo xtask soak` by hand keeps the release binary: the one people run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{Error, Result, mock, process};

/// Where the soak finds the mock's binary.
pub(crate) const BIN_ENV: &str = "MUSICGPT_SOAK_MOCK_BIN";

/// The soak as `cargo xtask ci` runs it: long enough for the stores to fill and for RSS to be
/// judged over thirds of a few seconds each, short enough for every CI run.
const CI_ARGS: [&str; 2] = ["--seconds", "10"];

/// Which build of the mock the soak runs (the release one by hand, the one `cargo test` made in
/// `ci`) and `dist` packages (its `--profile`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub(crate) enum Profile {
    /// `cargo build --release`: what is published
    Release,
    /// The dev build `cargo test --workspace` made: the `ci` step's, to check the packaging
    Dev,
}

impl Profile {
    /// Builds the mock's binary in this profile (for `target`, in release), announced as the
    /// command `who`; its path.
    pub(crate) fn binary(self, who: &str, target: Option<&str>) -> Result<PathBuf> {
        match self {
            Self::Release => mock::build(who, true, target),
            Self::Dev => build_dev(),
        }
    }

    /// The arguments after `cargo bench` that select the soak in this profile.
    fn bench_args(self) -> &'static [&'static str] {
        match self {
            Self::Release => &["--package", "musicgpt-cover-mock", "--bench", "soak"],
            // `--workspace`: the features `cargo test --workspace` resolved, so nothing recompiles.
            Self::Dev => &["--profile", "dev", "--workspace", "--bench", "soak"],
        }
    }
}

/// `cargo xtask soak`'s command line: everything goes to the soak.
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct Options {
    /// This help, then the soak's own (`--seconds N`, the length, and the rest)
    #[arg(short, long)]
    help: bool,
    /// The soak's options
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "SOAK OPTIONS"
    )]
    args: Vec<String>,
}

pub(crate) fn run(options: &Options) -> Result {
    let mut args = options.args.clone();
    if options.help {
        print!("{}", crate::help_of("soak"));
        args.insert(0, "--help".to_owned());
    }
    soak(&args, Profile::Release)
}

fn soak(args: &[String], profile: Profile) -> Result {
    let started = Instant::now();
    let binary = profile.binary("soak", None)?;
    let built = started.elapsed();

    let mut soak = command(&binary, profile, args);
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
        "soak: {:.1}s in all: the mock's {} build {:.1}s, then the soak (its build and run) {:.1}s",
        started.elapsed().as_secs_f64(),
        match profile {
            Profile::Release => "release",
            Profile::Dev => "dev-profile",
        },
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
    outcome
}

/// `cargo bench` of the soak in `profile`, with `args` and the mock's `binary` in [`BIN_ENV`]: the
/// soak as this command and `bench` run it.
pub(crate) fn command(binary: &Path, profile: Profile, args: &[String]) -> Command {
    let mut soak = process::cargo();
    soak.arg("bench")
        .args(profile.bench_args())
        .arg("--")
        .args(args)
        .env(BIN_ENV, binary);
    soak
}

/// The `ci` step: [`CI_ARGS`], in the dev profile.
pub(crate) fn ci() -> Result {
    let args: Vec<String> = CI_ARGS.iter().map(|a| (*a).to_owned()).collect();
    soak(&args, Profile::Dev)
}

/// Builds the soak and with it the mock's binary in the dev profile, selected as `cargo test
/// --workspace` selects them (after the `test` step, nothing to compile), and returns the
/// binary's path. `dist`'s ci step packages it.
pub(crate) fn build_dev() -> Result<PathBuf> {
    let mut build = process::cargo();
    build
        .arg("bench")
        .args(Profile::Dev.bench_args())
        .arg("--no-run");
    mock::built("soak", build)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything goes to the soak, a leading `--` aside; `--help` shows xtask's help first.
    #[test]
    fn the_options_are_the_soaks() {
        let parse = |args: &[&str]| crate::parse::<Options>(args).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse(&["--seconds", "5"]).args, ["--seconds", "5"]);
        assert_eq!(parse(&["--", "--seconds", "5"]).args, ["--seconds", "5"]);
        let help = parse(&["--help"]);
        assert!(help.help && help.args.is_empty());
    }

    /// ci's soak selects the packages as `cargo test --workspace` does, in the dev profile, so it
    /// reuses that build; by hand it is the release build of the mock's package.
    #[test]
    fn ci_soaks_the_test_steps_build_and_a_person_the_release_build() {
        assert_eq!(
            Profile::Dev.bench_args(),
            ["--profile", "dev", "--workspace", "--bench", "soak"]
        );
        assert!(!Profile::Release.bench_args().contains(&"--profile"));
        assert_eq!(CI_ARGS, ["--seconds", "10"]);
    }
}
