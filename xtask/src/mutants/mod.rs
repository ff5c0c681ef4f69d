//! `cargo xtask mutants`: proof that the suite bites; each mutation of openapi.yaml must make the tests fail.
//!
//! The workspace (what `git ls-files -co --exclude-standard` lists) is mirrored into one fixed folder,
//! `target/mutants/workspace`, and tested there with its own target dir, `target/mutants/target`:
//! repeated runs rewrite only the files that changed, registry dependencies compile once, and a
//! mutation rebuilds only the crates that read openapi.yaml. A separate target dir also keeps the
//! mutated binaries (the mock's, say) from overwriting the real ones in `target/debug`.
//!
//! The unmutated suite must pass in the copy first. Then, for each mutation: write the mutated spec,
//! run the suite, put the spec back. A mutation is caught when the suite fails, a failing build
//! included; the tests that failed are read from cargo's and libtest's output. A suite that hangs
//! is killed at a time limit, with every process it started, and fails the step: a hang is neither
//! caught nor survived.
//!
//! The suite here is `cargo test --workspace --exclude xtask --no-fail-fast`. xtask's own tests are
//! left out on purpose: one of them checks that every mutation applies to the *unmutated* spec, and
//! another lints the spec, so either would "catch" every mutation and hide whether the contract
//! suite does. Whether a mutated spec is still lint-clean is reported in its own column instead.
//!
//! Modules: `mutations` (the edits of the spec), `options` (the arguments), `paths` (where a run
//! keeps its files), `mirror` (the copy of the workspace), `suite` (one `cargo test` in the copy),
//! `catchers` (what failed, read from its output), `report` (the table and the verdict).

mod catchers;
mod mirror;
mod mutations;
mod options;
mod paths;
mod report;
mod suite;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use self::mirror::mirror;
use self::mutations::Mutation;
use self::options::Options;
use self::paths::Paths;
use self::report::{Lint, Outcome, judge, report};
use self::suite::{BASELINE_LIMIT, MUTATION_FLOOR, Verdict, suite};
use crate::tools::Tools;
use crate::{Error, Result, project, spec_lint};

/// `cargo xtask mutants [ARGS]`.
pub(crate) fn run(args: &[String]) -> Result {
    check(&Options::parse(args)?)
}

/// The CI step: every mutation against the whole suite.
pub(crate) fn ci() -> Result {
    check(&Options::default())
}

fn check(options: &Options) -> Result {
    let started = Instant::now();
    let spec = fs::read_to_string(project::spec()).map_err(|error| {
        Error::new(format!(
            "could not read {}: {error}",
            project::spec().display()
        ))
    })?;
    // Every anchor is checked before anything is built, so a stale one costs seconds, not minutes.
    let mutated: Vec<(&Mutation, String)> = options
        .selected()
        .into_iter()
        .map(|mutation| mutation.apply(&spec).map(|text| (mutation, text)))
        .collect::<Result<_>>()?;
    if !options.packages.is_empty() {
        println!(
            "mutants: testing only {} (--package): a development run, not proof about the whole suite",
            options.packages.join(", ")
        );
    }

    let paths = Paths::new();
    let synced = Instant::now();
    let written = mirror(&project::root(), &paths.workspace)?;
    println!(
        "mutants: mirrored the workspace into {} ({written} files rewritten) in {:.1}s",
        project::relative(&paths.workspace),
        synced.elapsed().as_secs_f64()
    );
    fs::create_dir_all(&paths.logs).map_err(|error| {
        Error::new(format!(
            "could not create {}: {error}",
            paths.logs.display()
        ))
    })?;

    println!("mutants: [baseline] the unmutated suite must pass first");
    let baseline = suite(options, &paths, "baseline", BASELINE_LIMIT)?;
    if baseline.verdict != Verdict::Passed {
        return Err(Error::new(format!(
            "mutants: the unmutated suite fails in {}, so no mutation result would mean anything. \
             Make `cargo test` pass first. What failed: {}. Log: {}",
            project::relative(&paths.workspace),
            baseline.failure(),
            project::relative(&baseline.log)
        )));
    }
    let limit = MUTATION_FLOOR.max(Duration::from_secs_f64(2.0 * baseline.seconds));
    println!("mutants: [baseline] passed in {:.1}s", baseline.seconds);

    let linters = Tools::new();
    let linters = linters.check_installed().is_ok().then_some(&linters);
    let total = mutated.len();
    let mut outcomes = Vec::new();
    for (index, (mutation, text)) in mutated.into_iter().enumerate() {
        let step = format!("[{}/{total}] {}", index + 1, mutation.name);
        println!("mutants: {step}: {}", mutation.summary);
        let outcome = try_mutation(options, &paths, linters, mutation, (&spec, &text), limit)?;
        println!(
            "mutants: {step} {} in {:.1}s",
            match outcome.run.verdict {
                Verdict::Passed => "SURVIVED",
                Verdict::Failed => "caught",
                Verdict::TimedOut => "TIMED OUT",
            },
            outcome.run.seconds
        );
        outcomes.push(outcome);
    }

    let report = report(&baseline, &outcomes, started.elapsed().as_secs_f64());
    print!("\n{report}");
    write(&paths.report, report.as_bytes())?;
    judge(&outcomes, &paths)
}

/// Runs the suite in the copy with the mutated spec in place of the original,
/// linting the mutated spec first when the linters are installed.
fn try_mutation(
    options: &Options,
    paths: &Paths,
    linters: Option<&Tools>,
    mutation: &'static Mutation,
    (original, mutated): (&str, &str),
    limit: Duration,
) -> Result<Outcome> {
    let spec = paths.workspace.join("openapi.yaml");
    let restore = Restore::write(&spec, original, mutated)?;
    let lint = match linters {
        Some(tools) => match spec_lint::complaints(tools, &spec)? {
            complaints if complaints.is_empty() => Lint::Clean,
            complaints => Lint::Complaints(complaints),
        },
        None => Lint::Unchecked,
    };
    let run = suite(options, paths, mutation.name, limit)?;
    restore.finish()?;
    Ok(Outcome {
        mutation,
        lint,
        run,
    })
}

/// Puts the copy's spec back when dropped, so an error midway never leaves a mutated spec behind
/// for the next run's baseline (the mirror would repair it anyway, one build later).
struct Restore<'a> {
    path: &'a Path,
    original: &'a str,
    armed: bool,
}

impl<'a> Restore<'a> {
    fn write(path: &'a Path, original: &'a str, mutated: &str) -> Result<Self> {
        write(path, mutated.as_bytes())?;
        Ok(Self {
            path,
            original,
            armed: true,
        })
    }

    fn finish(mut self) -> Result {
        self.armed = false;
        write(self.path, self.original.as_bytes())
    }
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: this runs on an error path that is already being reported.
            let _ = fs::write(self.path, self.original);
        }
    }
}

fn write(path: &Path, contents: &[u8]) -> Result {
    fs::write(path, contents)
        .map_err(|error| Error::new(format!("could not write {}: {error}", path.display())))
}
