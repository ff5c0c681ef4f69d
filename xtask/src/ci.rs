//! `cargo xtask ci`: every check CI runs, in order, stopping at the first failure, with each step's time.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::tools::{self, Tools};
use crate::{Error, Result, fuzz, mutants, package, process, soak, spec_lint};

/// One step of the CI run.
struct Step {
    name: &'static str,
    run: fn() -> Result,
}

/// The steps, cheapest and most likely to fail first. `tools` comes before `spec-lint` and `test`
/// because both use what it installs. `soak` follows `test`: the mock's release binary
/// under load for 10 s (after a release build, a few minutes the first time), which is worth
/// it only once the suite passes. `package` follows `test`: it builds and tests the crates
/// again as published, reusing what `test` compiled, which is worth it only once they pass in the
/// workspace. `fuzz` runs each fuzz target for 30 s, after a release build of its own of every
/// dependency (cargo-fuzz's instrumentation; several minutes the first time, seconds after).
/// `mutants` comes last: it reruns the suite once per mutation of openapi.yaml in a copy of the
/// workspace, which only means something once `test` has passed.
const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        run: fmt,
    },
    Step {
        name: "clippy",
        run: clippy,
    },
    Step {
        name: "doc",
        run: doc,
    },
    Step {
        name: "tools",
        run: install_tools,
    },
    Step {
        name: "spec-lint",
        run: spec_lint::run,
    },
    Step {
        name: "test",
        run: test,
    },
    Step {
        name: "soak",
        run: soak::ci,
    },
    Step {
        name: "package",
        run: package::run,
    },
    Step {
        name: "fuzz",
        run: fuzz::ci,
    },
    Step {
        name: "mutants",
        run: mutants::ci,
    },
];

pub(crate) fn run() -> Result {
    let started = Instant::now();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    for (index, step) in STEPS.iter().enumerate() {
        println!("\n==> ci [{}/{}] {}", index + 1, STEPS.len(), step.name);
        let step_started = Instant::now();
        let outcome = (step.run)();
        let elapsed = step_started.elapsed();
        timings.push((step.name, elapsed));
        if let Err(error) = outcome {
            print_timings(&timings, started.elapsed());
            return Err(Error::new(format!(
                "ci: step `{}` failed after {:.1}s: {error}",
                step.name,
                elapsed.as_secs_f64()
            )));
        }
        println!(
            "<== ci: {} passed in {:.1}s",
            step.name,
            elapsed.as_secs_f64()
        );
    }
    print_timings(&timings, started.elapsed());
    println!("ci: all {} steps passed", STEPS.len());
    Ok(())
}

fn print_timings(timings: &[(&str, Duration)], total: Duration) {
    println!("\nci timings:");
    for (name, elapsed) in timings {
        println!("  {name:<10} {:>7.1}s", elapsed.as_secs_f64());
    }
    println!("  {:<10} {:>7.1}s", "total", total.as_secs_f64());
}

fn fmt() -> Result {
    cargo(&["fmt", "--all", "--check"], |_| {})
}

fn clippy() -> Result {
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        |_| {},
    )
}

fn doc() -> Result {
    cargo(&["doc", "--no-deps", "--workspace"], |command| {
        command.env("RUSTDOCFLAGS", "-Dwarnings");
    })
}

fn install_tools() -> Result {
    Tools::new().install()
}

/// `cargo test --workspace` (xtask included: `--workspace` ignores `default-members`), told where
/// the tools are so tests can run schemathesis, Prism and the Python sample.
fn test() -> Result {
    let tools = Tools::new();
    cargo(&["test", "--workspace"], |command| {
        command.env(tools::DIR_ENV, tools.dir());
    })
}

fn cargo(args: &[&str], configure: impl FnOnce(&mut Command)) -> Result {
    let mut command = process::cargo();
    command.args(args);
    configure(&mut command);
    println!("$ {}", process::display(&command));
    process::run(&mut command)
}
