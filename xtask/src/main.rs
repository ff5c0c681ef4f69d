//! `cargo xtask`: the project's automation (install tools, lint the spec, run the mock, mutate the spec, benchmark
//! the mock, package it for npm, run CI). Its command line is clap's; what each command does is in
//! its module.

mod bench;
mod benchmarks;
mod cargo_fuzz;
mod chromium;
mod ci;
mod dist;
mod docs_check;
mod fuzz;
mod install_lines;
mod mock;
mod mutants;
mod package;
mod process;
mod project;
mod slow_tests;
mod soak;
mod spec;
mod spec_lint;
mod tidy;
mod tools;
mod verify_live;

use std::fmt;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// The project's automation. `cargo xtask ci` is the test command: everything CI checks.
#[derive(Parser)]
#[command(name = "xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the external tools (Python venv, npm linters, Prism, Chromium) into .tools/, once
    Tools {
        /// Only the bench's peers (WireMock, Mockoon), which CI does not need
        #[arg(long)]
        bench: bool,
    },
    /// Lint openapi.yaml with redocly, spectral and openapi-spec-validator
    SpecLint,
    /// Run the mock server: cargo run --release -p musicgpt-cover-mock -- ARGS
    ///
    /// Every argument goes to the mock (`cargo xtask mock --help` prints the mock's).
    #[command(disable_help_flag = true)]
    Mock {
        /// The mock's arguments
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// Proof that the suite bites: each mutation of openapi.yaml must fail the tests
    Mutants(mutants::Options),
    /// The benchmarks, written to BENCHMARKS.md; by hand, never in ci
    ///
    /// Throughput beside a bare server, Prism, WireMock and Mockoon, start-up, webhooks, memory,
    /// the soak's RSS; build times with --with-build.
    Bench(bench::Options),
    /// The mock's release binary under 64 connections of mixed requests for N seconds
    ///
    /// Default 60; in ci 10, on the dev-profile build. No unexpected answer or socket error, flat
    /// RSS, every task final, every webhook accounted for.
    Soak(soak::Options),
    /// The docs agree with the code
    ///
    /// docs/mock.md's flag table is the mock's --help, and every relative link in README.md,
    /// ARCHITECTURE.md and docs/ resolves.
    DocsCheck,
    /// The dependencies are exactly what is used
    ///
    /// Each through [workspace.dependencies], each named in its crate's source, no unused entry in
    /// the workspace table.
    Tidy,
    /// The crates as published
    ///
    /// cargo package and publish --dry-run without warnings, build and test each from its .crate
    /// outside the workspace, cargo install the mock and ask it (in target/packaged/).
    Package,
    /// The mock for people without Rust, in target/dist/
    ///
    /// The npm package musicgpt-cover-mock (a bin script, openapi.yaml, TypeScript types), the
    /// platform's package holding the release binary, and a .tar.gz with its .sha256; checked by
    /// installing and running them (offline, no cargo) when TRIPLE is this machine's.
    Dist(dist::Options),
    /// Every install command of the docs labelled `# Works today` works
    ///
    /// Run against a clone of this repository (cargo add in a fresh crate, cargo install --debug,
    /// npm install of the last dist's packages); every other is labelled `# After publishing`.
    InstallLines,
    /// Run the cargo-fuzz targets (form, request, spec) on stable Rust; fails on a crash
    ///
    /// Installs cargo-fuzz into .tools/ first.
    Fuzz(fuzz::Options),
    /// Call the real API through the mock's proxy mode, which checks each exchange against openapi.yaml
    ///
    /// The key comes from MUSICGPT_API_KEY. Prints the violations, fails on an error. A Cover
    /// (which costs credits) only with --spend.
    VerifyLive(verify_live::Options),
    /// Everything CI checks, in order, failing fast (the README's test command)
    Ci,
}

/// What went wrong, worded for the person who typed the command: what failed and what to do.
pub(crate) struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// `Debug` shows the message as is, so a test that fails on an `Error` prints a readable text.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) type Result<T = ()> = std::result::Result<T, Error>;

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Tools { bench: false } => tools::Tools::new().install(),
        Command::Tools { bench: true } => tools::Tools::new().install_bench(),
        Command::SpecLint => spec_lint::run(),
        Command::Mock { args } => mock::run(&args),
        Command::Mutants(options) => mutants::run(&options),
        Command::Bench(options) => bench::run(&options),
        Command::Soak(options) => soak::run(&options),
        Command::DocsCheck => docs_check::run(),
        Command::Tidy => tidy::run(),
        Command::Package => package::run(),
        Command::Dist(options) => dist::run(&options),
        Command::InstallLines => install_lines::run(),
        Command::Fuzz(options) => fuzz::run(&options),
        Command::VerifyLive(options) => verify_live::run(&options),
        Command::Ci => ci::run(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask NAME --help` as clap prints it, for the commands whose `--help` then shows the
/// options of the program they pass the rest on to (`bench`, `soak`).
pub(crate) fn help_of(name: &str) -> String {
    let mut cli = Cli::command();
    cli.build();
    cli.find_subcommand_mut(name)
        .map(|command| command.render_long_help().to_string())
        .unwrap_or_default()
}

/// A whole number of seconds above 0, for the options that take one.
pub(crate) fn seconds(text: &str) -> std::result::Result<u64, String> {
    text.parse()
        .ok()
        .filter(|&seconds| seconds > 0)
        .ok_or_else(|| "takes a whole number of seconds above 0".to_owned())
}

/// Parses `args` (without a program name) as the options `T` of one command, for the commands'
/// tests.
#[cfg(test)]
pub(crate) fn parse<T: clap::Args + clap::FromArgMatches>(
    args: &[&str],
) -> std::result::Result<T, clap::Error> {
    let command = T::augment_args(clap::Command::new("xtask-test"));
    let matches =
        command.try_get_matches_from(std::iter::once("xtask-test").chain(args.iter().copied()))?;
    T::from_arg_matches(&matches)
}

/// Writes `text` to `path`, making its folders first, for the commands' tests' file trees.
#[cfg(test)]
pub(crate) fn put(path: &std::path::Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
}

/// A test's own empty folder under the system's temp dir, `xtask-NAME-PID`, removed with what it
/// holds when dropped, whether the test passed or not.
#[cfg(test)]
pub(crate) struct Scratch(std::path::PathBuf);

#[cfg(test)]
pub(crate) fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
    project::recreate_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    Scratch(dir)
}

#[cfg(test)]
impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

#[cfg(test)]
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        assert!(help_of("bench").contains("Usage: cargo xtask bench"));
    }

    /// `mock` passes everything on, `--help` and a leading `--` included.
    #[test]
    fn the_mocks_arguments_are_passed_on() {
        let args = |line: &[&str]| match Cli::try_parse_from(line).map(|cli| cli.command) {
            Ok(Command::Mock { args }) => args,
            _ => panic!("{line:?} is not a mock command"),
        };
        assert_eq!(
            args(&["xtask", "mock", "--seed", "7", "--help"]),
            ["--seed", "7", "--help"]
        );
        assert_eq!(
            args(&["xtask", "mock", "--", "--seed", "1"]),
            ["--seed", "1"]
        );
        assert!(Cli::try_parse_from(["xtask", "tidy", "extra"]).is_err());
        assert_eq!(seconds("5"), Ok(5));
        assert!(seconds("0").is_err() && seconds("x").is_err());
    }
}
