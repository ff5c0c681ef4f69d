//! One run of the suite (`cargo test`) in the copy, under a time limit, its output in a log.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::Paths;
use super::catchers::{Catcher, catchers, still_running};
use super::options::Options;
use crate::tools::{self, Tools};
use crate::{Result, process, project};

/// How long the unmutated suite may take, cold build included (about 3 minutes on 2 cores when
/// this was written, plus the tests). A hang is a bug in the suite: its tests must bound their waits.
pub(super) const BASELINE_LIMIT: Duration = Duration::from_secs(30 * 60);

/// How long a mutated suite may take: twice the baseline, which rebuilt more, but at least this.
pub(super) const MUTATION_FLOOR: Duration = Duration::from_secs(10 * 60);

/// What one `cargo test` runs: the arguments after `cargo test`, those after `--` (libtest's
/// filters), and whether cargo stops at the first failing test target.
pub(super) struct Selection {
    pub(super) args: Vec<String>,
    pub(super) test_args: Vec<String>,
    pub(super) fail_fast: bool,
}

impl Selection {
    /// The whole suite, every target run even after one fails: today's complete answer.
    pub(super) fn whole(options: &Options) -> Self {
        Self {
            args: options.scope(),
            test_args: Vec::new(),
            fail_fast: false,
        }
    }
}

/// One run of the suite, read from its log.
pub(super) struct SuiteRun {
    pub(super) verdict: Verdict,
    pub(super) seconds: f64,
    pub(super) catchers: Vec<Catcher>,
    /// How many tests ran (libtest's `N passed; M failed` summed over the targets).
    pub(super) tests_run: usize,
    pub(super) log: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Passed,
    Failed,
    /// Killed at its time limit: neither caught nor survived, and the step fails.
    TimedOut,
}

impl SuiteRun {
    /// Why it did not pass, for an error message.
    pub(super) fn failure(&self) -> String {
        let what: Vec<String> = self.catchers.iter().map(|c| c.brief(10)).collect();
        match self.verdict {
            Verdict::TimedOut if what.is_empty() => format!(
                "still running after {:.0}s, so it was killed (no test said it was slow)",
                self.seconds
            ),
            Verdict::TimedOut => format!(
                "still running after {:.0}s, so it was killed: {}",
                self.seconds,
                what.join("; ")
            ),
            Verdict::Passed | Verdict::Failed => what.join("; "),
        }
    }
}

/// Runs `selection` in the copy, its output in `target/mutants/logs/<name>.log`, for at most
/// `limit`.
pub(super) fn suite(
    selection: &Selection,
    paths: &Paths,
    name: &str,
    limit: Duration,
) -> Result<SuiteRun> {
    let log = paths.logs.join(format!("{name}.log"));
    let mut command = process::cargo();
    command
        .current_dir(&paths.workspace)
        .arg("test")
        .args(&selection.args);
    if !selection.fail_fast {
        command.arg("--no-fail-fast");
    }
    if !selection.test_args.is_empty() {
        command.arg("--").args(&selection.test_args);
    }
    command
        .env("CARGO_TARGET_DIR", &paths.target)
        .env(tools::DIR_ENV, Tools::new().dir())
        .env("CARGO_TERM_COLOR", "never")
        // A failing snapshot must fail, and must not leave `.snap.new` files in the copy.
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_FORCE_PASS");
    println!(
        "mutants: $ {} (log: {})",
        process::display(&command),
        project::relative(&log)
    );
    let started = Instant::now();
    let status = process::to_file_within(&mut command, &log, limit)?;
    let seconds = started.elapsed().as_secs_f64();
    let output = fs::read(&log).map_err(project::failed("read", &log))?;
    let output = String::from_utf8_lossy(&output);
    let (verdict, catchers) = match status {
        None => (Verdict::TimedOut, still_running(&output)),
        Some(status) if status.success() => (Verdict::Passed, catchers(&output)),
        Some(_) => {
            let mut catchers = catchers(&output);
            if catchers.is_empty() {
                // Such as a manifest naming a test file that does not exist: cargo stops before
                // building.
                let error = output
                    .lines()
                    .find(|line| line.starts_with("error"))
                    .map(|line| line.trim().to_string());
                catchers.push(Catcher::Unidentified { error });
            }
            (Verdict::Failed, catchers)
        }
    };
    Ok(SuiteRun {
        verdict,
        seconds,
        catchers,
        tests_run: tests_run(&output),
        log,
    })
}

/// The tests that ran, from libtest's summaries: `test result: ok. 3 passed; 1 failed; ...`.
fn tests_run(output: &str) -> usize {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("test result: "))
        .map(|summary| {
            summary
                .split(';')
                .filter_map(|part| {
                    let mut words = part.split_whitespace().rev();
                    let kind = words.next()?;
                    let count: usize = words.next()?.parse().ok()?;
                    matches!(kind, "passed" | "failed").then_some(count)
                })
                .sum::<usize>()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tests_that_ran_are_counted_from_the_summaries() {
        let output = "\
test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.07s
test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 41 filtered out; finished in 0.00s
test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 3.10s
";
        assert_eq!(tests_run(output), 15);
        assert_eq!(tests_run("nothing ran"), 0);
    }
}
