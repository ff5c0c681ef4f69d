//! The outcome of every mutation: the Markdown table (for the README) and the verdict of the run.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::Paths;
use super::catchers::Catcher;
use super::mutations::Mutation;
use super::suite::{SuiteRun, Verdict};
use crate::{Error, Result, project};

/// What happened to one mutation.
pub(super) struct Outcome {
    pub(super) mutation: &'static Mutation,
    pub(super) lint: Lint,
    /// The stage whose run decided (`stages`).
    pub(super) stage: Stage,
    pub(super) run: SuiteRun,
}

/// The stages of `stages`, by the run that decided a mutation's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    /// The tests that caught it before (`known_catchers.txt`).
    Known,
    /// The spec-reading tests: the suite less `stages::SKIPPED`.
    Readers,
    /// The whole suite.
    Whole,
}

impl Stage {
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Known => "by the known catchers",
            Self::Readers => "by the spec-reading tests",
            Self::Whole => "by the whole suite",
        }
    }
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
pub(super) fn report(baselines: &[(String, f64)], outcomes: &[Outcome], total: f64) -> String {
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
                Verdict::Passed => "**no, survived** (whole suite)".to_owned(),
                Verdict::Failed => format!("yes, {}", outcome.stage.label()),
                Verdict::TimedOut => "**timed out**".to_owned(),
            },
            if by.is_empty() {
                "-".to_string()
            } else {
                by.join("<br>")
            },
            outcome.run.seconds
        );
    }
    let baselines: Vec<String> = baselines
        .iter()
        .map(|(name, seconds)| format!("{name} (unmutated) {seconds:.0}s"))
        .collect();
    let _ = writeln!(
        text,
        "\n{}; total {:.0}s; logs in {}\n",
        baselines.join(", "),
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
