//! `cargo xtask`: the project's automation (install tools, lint the spec, run the mock, mutate the spec, benchmark
//! the mock, package it for npm, run CI), std only.

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
mod spec_lint;
mod tidy;
mod tools;
mod verify_live;

use std::fmt;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  tools [--bench]
               install the external tools (Python venv, npm linters, Prism, Chromium) into .tools/, once;
               --bench: only the bench's peers (WireMock, Mockoon), which CI does not need
  spec-lint    lint openapi.yaml with redocly, spectral and openapi-spec-validator
  mock [ARGS]  run the mock server: cargo run --release -p musicgpt-cover-mock -- ARGS
  mutants [--full] [--package NAME]... [--mutation NAME]...
               proof that the suite bites: each mutation of openapi.yaml must fail the tests
  bench [OPTIONS]
               the benchmarks (throughput beside a bare server, Prism, WireMock and Mockoon,
               start-up, webhooks, memory, the soak's RSS; build times with --with-build), written
               to BENCHMARKS.md;
               by hand, never in ci; `cargo xtask bench --help` lists OPTIONS
  soak [--seconds N] [OPTIONS]
               the mock's release binary under 64 connections of mixed requests for N seconds
               (default 60; in ci 10, on the dev-profile build): no unexpected answer or socket
               error, flat RSS, every task final, every webhook accounted for; `cargo xtask soak
               --help` lists OPTIONS
  docs-check   the docs agree with the code: docs/mock.md's flag table is the mock's --help,
               and every relative link in README.md, ARCHITECTURE.md and docs/ resolves
  tidy         the dependencies are exactly what is used: each through [workspace.dependencies],
               each named in its crate's source, no unused entry in the workspace table
  package      the crates as published: cargo package and publish --dry-run without warnings,
               build and test each from its .crate outside the workspace, cargo install the mock
               and ask it (in target/packaged/)
  dist [--target TRIPLE] [--platform-only] [--profile release|dev]
               the mock for people without Rust, in target/dist/: the npm package
               musicgpt-cover-mock (a bin script, openapi.yaml, TypeScript types), the platform's
               package holding the release binary, and a .tar.gz with its .sha256; checked by
               installing and running them (offline, no cargo) when TRIPLE is this machine's.
               --profile dev: the dev build `cargo test` made, into target/ci/dist/ (ci's step)
  install-lines
               every install command of the docs labelled `# Works today` works: run against a
               clone of this repository (cargo add in a fresh crate, cargo install --debug, npm
               install of the last dist's packages); every other is labelled `# After publishing`
  fuzz [--seconds N] [--target NAME]...
               run the cargo-fuzz targets (form, request, spec) N seconds each (default 30) on
               stable Rust; installs cargo-fuzz into .tools/ first; fails on a crash
  verify-live [--spend] [--task-id ID] [--upstream URL] [--strict]
               calls the real API (key from MUSICGPT_API_KEY) through the mock's proxy mode,
               which checks each exchange against openapi.yaml; prints the violations, fails on
               an error. A Cover (which costs credits) only with --spend
  ci           everything CI checks, in order, failing fast (the README's test command)
  help         print this message
";

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
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let outcome = match command.as_deref() {
        Some("tools") => tools_command(&rest),
        Some("spec-lint") => no_args("spec-lint", &rest).and_then(|()| spec_lint::run()),
        Some("mock") => mock::run(&rest),
        Some("mutants") => mutants::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("soak") => soak::run(&rest),
        Some("docs-check") => no_args("docs-check", &rest).and_then(|()| docs_check::run()),
        Some("tidy") => no_args("tidy", &rest).and_then(|()| tidy::run()),
        Some("package") => no_args("package", &rest).and_then(|()| package::run()),
        Some("dist") => dist::run(&rest),
        Some("install-lines") => {
            no_args("install-lines", &rest).and_then(|()| install_lines::run())
        }
        Some("fuzz") => fuzz::run(&rest),
        Some("verify-live") => verify_live::run(&rest),
        Some("ci") => no_args("ci", &rest).and_then(|()| ci::run()),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        None => Err(Error::new(format!("no command given\n\n{USAGE}"))),
        Some(other) => Err(Error::new(format!("unknown command `{other}`\n\n{USAGE}"))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask tools [--bench]`.
fn tools_command(rest: &[String]) -> Result {
    match rest {
        [] => tools::Tools::new().install(),
        [flag] if flag == "--bench" => tools::Tools::new().install_bench(),
        [arg, ..] => Err(Error::new(format!(
            "`cargo xtask tools` takes only --bench, got `{arg}`"
        ))),
    }
}

fn no_args(command: &str, rest: &[String]) -> Result {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(Error::new(format!(
            "`cargo xtask {command}` takes no arguments, got `{arg}`"
        ))),
    }
}
