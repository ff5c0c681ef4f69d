//! One run of the suite (`cargo test`) in the copy, under a time limit, its output in a log.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::catchers::{Catcher, catchers, still_running};
use super::options::Options;
use super::paths::Paths;
use crate::tools::{self, Tools};
use crate::{Error, Result, process, project};

/// How long the unmutated suite may take, cold build included (about 3 minutes on 2 cores when
/// this was written, plus the tests). A hang is a bug in the suite: its tests must bound their waits.
pub(super) const BASELINE_LIMIT: Duration = Duration::from_secs(30 * 60);

/// How long a mutated suite may take: twice the baseline, which rebuilt more, but at least this.
pub(super) const MUTATION_FLOOR: Duration = Duration::from_secs(10 * 60);

/// One run of the suite, read from its log.
pub(super) struct SuiteRun {
    pub(super) verdict: Verdict,
    pub(super) seconds: f64,
    pub(super) catchers: Vec<Catcher>,
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

/// Runs the suite in the copy, its output in `target/mutants/logs/<name>.log`, for at most `limit`.
pub(super) fn suite(
    options: &Options,
    paths: &Paths,
    name: &str,
    limit: Duration,
) -> Result<SuiteRun> {
    let log = paths.logs.join(format!("{name}.log"));
    let mut command = process::cargo();
    command
        .current_dir(&paths.workspace)
        .arg("test")
        .args(options.scope())
        .arg("--no-fail-fast")
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
    let output = fs::read(&log)
        .map_err(|error| Error::new(format!("could not read {}: {error}", log.display())))?;
    let output = String::from_utf8_lossy(&output);
    let Some(status) = status else {
        return Ok(SuiteRun {
            verdict: Verdict::TimedOut,
            seconds,
            catchers: still_running(&output),
            log,
        });
    };
    let mut catchers = catchers(&output);
    if !status.success() && catchers.is_empty() {
        // Such as a manifest naming a test file that does not exist: cargo stops before building.
        let error = output
            .lines()
            .find(|line| line.starts_with("error"))
            .map(|line| line.trim().to_string());
        catchers.push(Catcher::Unidentified { error });
    }
    Ok(SuiteRun {
        verdict: if status.success() {
            Verdict::Passed
        } else {
            Verdict::Failed
        },
        seconds,
        catchers,
        log,
    })
}
