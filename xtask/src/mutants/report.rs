//! The outcome of every mutation: the Markdown table (for the README) and the verdict of the run.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::catchers::Catcher;
use super::mutations::Mutation;
use super::paths::Paths;
use super::suite::{SuiteRun, Verdict};
use crate::{Error, Result, project};

/// What happened to one mutation.
pub(super) struct Outcome {
    pub(super) mutation: &'static Mutation,
    pub(super) lint: Lint,
    pub(super) run: SuiteRun,
}

pub(super) enum Lint {
    Clean,
    Complaints(Vec<&'static str>),
    /// The linters are not installed (`cargo xtask tools`); the suite runs all the same.
    Unchecked,
}

impl Lint {
    fn cell(&self) -> String {
        match self {
            Self::Clean => "yes".to_string(),
            Self::Complaints(linters) => format!("no ({})", linters.join(", ")),
            Self::Unchecked => "not checked".to_string(),
        }
    }
}

/// Fails unless every mutation was caught: a survivor means a drift the suite would not notice,
/// and a hang means the suite itself needs fixing.
pub(super) fn judge(outcomes: &[Outcome], paths: &Paths) -> Result {
    let survivors: Vec<&str> = outcomes
        .iter()
        .filter(|outcome| outcome.run.verdict == Verdict::Passed)
        .map(|outcome| outcome.mutation.name)
        .collect();
    let mut problems = Vec::new();
    if !survivors.is_empty() {
        problems.push(format!(
            "the suite passed with these mutations of openapi.yaml, so it does not notice them: \
             {}. Add a test that fails for each (the table above says what each changes)",
            survivors.join(", ")
        ));
    }
    for outcome in outcomes
        .iter()
        .filter(|outcome| outcome.run.verdict == Verdict::TimedOut)
    {
        problems.push(format!(
            "with mutation `{}` the suite hung: {}. Log: {}",
            outcome.mutation.name,
            outcome.run.failure(),
            project::relative(&outcome.run.log)
        ));
    }
    if problems.is_empty() {
        println!(
            "mutants: all {} mutations caught (report: {})",
            outcomes.len(),
            project::relative(&paths.report)
        );
        Ok(())
    } else {
        Err(Error::new(format!(
            "mutants: {}",
            problems.join("\nmutants: ")
        )))
    }
}

/// The table of mutation → caught? → by which tests, in Markdown, so it can go into the README.
pub(super) fn report(baseline: &SuiteRun, outcomes: &[Outcome], total: f64) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "| mutation | what it changes in openapi.yaml | spec still lint-clean | caught | by (failing targets and tests) | time |"
    );
    let _ = writeln!(text, "|---|---|---|---|---|---|");
    for outcome in outcomes {
        let by: Vec<String> = outcome.run.catchers.iter().map(|c| c.brief(4)).collect();
        let _ = writeln!(
            text,
            "| `{}` | {} | {} | {} | {} | {:.0}s |",
            outcome.mutation.name,
            outcome.mutation.summary,
            outcome.lint.cell(),
            match outcome.run.verdict {
                Verdict::Passed => "**no, survived**",
                Verdict::Failed => "yes",
                Verdict::TimedOut => "**timed out**",
            },
            if by.is_empty() {
                "-".to_string()
            } else {
                by.join("<br>")
            },
            outcome.run.seconds
        );
    }
    let _ = writeln!(
        text,
        "\nbaseline (unmutated) {:.0}s; total {:.0}s; logs in {}\n",
        baseline.seconds,
        total,
        project::relative(&Paths::new().logs)
    );
    for outcome in outcomes {
        let tests: BTreeSet<String> = outcome
            .run
            .catchers
            .iter()
            .flat_map(|catcher| match catcher {
                Catcher::Target { rerun, tests } => tests
                    .iter()
                    .map(|test| format!("{rerun}: {test}"))
                    .collect(),
                other => vec![other.brief(0)],
            })
            .collect();
        if tests.len() > 4 {
            let _ = writeln!(text, "{} was caught by:", outcome.mutation.name);
            for test in tests {
                let _ = writeln!(text, "  {test}");
            }
        }
    }
    text
}
