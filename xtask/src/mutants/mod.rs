//! `cargo xtask mutants`: proof that the suite bites; each mutation of openapi.yaml must make the tests fail.
//!
//! The workspace (what `git ls-files -co --exclude-standard` lists) is mirrored into one fixed folder,
//! `target/mutants/workspace`, and tested there with its own target dir, `target/mutants/target`
//! (on a first run seeded with the dependencies `target/debug` holds, so they need not compile):
//! repeated runs rewrite only the files that changed, registry dependencies compile once, and a
//! mutation rebuilds only the crates that read openapi.yaml. A separate target dir also keeps the
//! mutated binaries (the mock's, say) from overwriting the real ones in `target/debug`: cargo
//! names a workspace member's artifacts by its path relative to the workspace root, which the copy
//! shares, and judges them fresh by the mtimes of the files they were built from, so a mutated
//! build in the main target dir could later pass for an unmutated one.
//!
//! The unmutated suite must pass in the copy first. Then, for each mutation: write the mutated spec,
//! run the tests, put the spec back. A mutation is caught when the tests fail, a failing build
//! included; the tests that failed are read from cargo's and libtest's output. A run that hangs
//! is killed at a time limit, with every process it started, and fails the step: a hang is neither
//! caught nor survived.
//!
//! Which tests run per mutation is `stages`: the tests that caught it before, then the tests that
//! read the spec, then (only if both pass) the whole suite, so a mutation is called survived only
//! when the whole suite passed. `--full` runs the whole suite with `--no-fail-fast` for the
//! baseline and every mutation instead, naming every test that catches each.
//!
//! The suite here is `cargo test --workspace --exclude xtask`. xtask's own tests are
//! left out on purpose: one of them checks that every mutation applies to the *unmutated* spec, and
//! another lints the spec, so either would "catch" every mutation and hide whether the contract
//! suite does. Whether a mutated spec is still lint-clean is reported in its own column instead.
//!
//! Modules: `mutations` (the edits of the spec), `options` (the arguments), `seed` (a first run's
//! dependencies, copied from the main target dir), `stages` (which tests a mutation meets, in what
//! order), `suite` (one `cargo test` in the copy), `catchers` (what failed, read from its output),
//! `report` (the table and the verdict). Where a run keeps its files ([`Paths`]) is here; the copy
//! holds the files git lists ([`project::workspace_files`]).

mod catchers;
mod mutations;
mod options;
mod report;
mod seed;
mod stages;
mod suite;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use self::mutations::Mutation;
pub(crate) use self::options::Options;
use self::report::{Lint, Outcome, Stage, judge, report};
use self::suite::{BASELINE_LIMIT, MUTATION_FLOOR, Selection, SuiteRun, Verdict, suite};
use crate::project::write;
use crate::tools::Tools;
use crate::{Error, Result, project, spec_lint};

/// The CI step: every mutation, each through the stages (a survivor only after the whole suite).
pub(crate) fn ci() -> Result {
    run(&Options::default())
}

/// `cargo xtask mutants [OPTIONS]`.
pub(crate) fn run(options: &Options) -> Result {
    let started = Instant::now();
    let spec = project::read(&project::spec())?;
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
    let root = project::root();
    let written = project::sync(&root, &paths.workspace, &project::workspace_files()?)?;
    println!(
        "mutants: mirrored the workspace into {} ({written} files rewritten) in {:.1}s",
        project::relative(&paths.workspace),
        synced.elapsed().as_secs_f64()
    );
    let seeding = Instant::now();
    // The main target dir, where `cargo test` (ci's `test` step) compiled the dependencies.
    let main_target = project::target_dir();
    if let Some(copied) = seed::seed(&main_target, &paths.target, &paths.workspace)? {
        println!(
            "mutants: seeded {} with the {copied} dependency units of {} in {:.1}s",
            project::relative(&paths.target),
            project::relative(&main_target),
            seeding.elapsed().as_secs_f64()
        );
    }
    project::create_dir(&paths.logs)?;

    stages::check_map().map_err(Error::new)?;
    let mut run = Run {
        options,
        paths: &paths,
        baselines: Vec::new(),
        readers_baseline_passed: false,
        whole_baseline_passed: false,
        limit: MUTATION_FLOOR,
    };
    if options.full {
        run.whole_baseline()?;
    } else {
        let names: Vec<&str> = mutated.iter().map(|(mutation, _)| mutation.name).collect();
        run.known_baseline(&names)?;
    }

    let linters = Tools::new();
    let linters = linters.check_installed().is_ok().then_some(&linters);
    let total = mutated.len();
    let mut outcomes = Vec::new();
    for (index, (mutation, text)) in mutated.into_iter().enumerate() {
        let step = format!("[{}/{total}] {}", index + 1, mutation.name);
        println!("mutants: {step}: {}", mutation.summary);
        let outcome = run.try_mutation(linters, mutation, (&spec, &text))?;
        println!(
            "mutants: {step} {} in {:.1}s",
            match outcome.run.verdict {
                Verdict::Passed => "SURVIVED".to_owned(),
                Verdict::Failed => format!("caught ({})", outcome.stage.label()),
                Verdict::TimedOut => "TIMED OUT".to_owned(),
            },
            outcome.run.seconds
        );
        outcomes.push(outcome);
    }

    let report = report(&run.baselines, &outcomes, started.elapsed().as_secs_f64());
    print!("\n{report}");
    write(&paths.report, report.as_bytes())?;
    let known = paths.logs.with_file_name("known_catchers.txt");
    write(
        &known,
        stages::record(
            outcomes
                .iter()
                .filter(|outcome| outcome.run.verdict == Verdict::Failed)
                .map(|outcome| (outcome.mutation.name, outcome.run.catchers.as_slice())),
        )
        .as_bytes(),
    )?;
    println!(
        "mutants: the tests that caught each mutation are in {}; copy it to \
         xtask/src/mutants/known_catchers.txt to make them stage 1 of the next runs",
        project::relative(&known)
    );
    judge(&outcomes, &paths)
}

/// Where a run keeps its copy, target dir, logs and report: under the real `target/`, which git ignores.
pub(super) struct Paths {
    pub(super) workspace: PathBuf,
    pub(super) target: PathBuf,
    pub(super) logs: PathBuf,
    pub(super) report: PathBuf,
}

impl Paths {
    pub(super) fn new() -> Self {
        let dir = project::root().join("target").join("mutants");
        Self {
            workspace: dir.join("workspace"),
            target: dir.join("target"),
            logs: dir.join("logs"),
            report: dir.join("report.md"),
        }
    }
}

/// A run in progress: its options and paths, the baselines run so far, the per-run time limit.
struct Run<'a> {
    options: &'a Options,
    paths: &'a Paths,
    /// Each baseline run so far, by name, with its seconds (for the report).
    baselines: Vec<(String, f64)>,
    readers_baseline_passed: bool,
    whole_baseline_passed: bool,
    /// How long one mutated `cargo test` may take: twice the longest baseline run, at least
    /// `MUTATION_FLOOR`.
    limit: Duration,
}

impl Run<'_> {
    /// Runs `selection` on the unmutated spec, which must pass; returns its seconds.
    fn baseline(&mut self, name: &str, what: &str, selection: &Selection) -> Result<f64> {
        println!("mutants: [{name}] {what}");
        let baseline = suite(selection, self.paths, name, BASELINE_LIMIT)?;
        if baseline.verdict != Verdict::Passed {
            return Err(Error::new(format!(
                "mutants: the unmutated suite fails in {}, so no mutation result would mean \
                 anything. Make `cargo test` pass first. What failed: {}. Log: {}",
                project::relative(&self.paths.workspace),
                baseline.failure(),
                project::relative(&baseline.log)
            )));
        }
        println!("mutants: [{name}] passed in {:.1}s", baseline.seconds);
        self.baselines.push((name.to_owned(), baseline.seconds));
        self.limit = self
            .limit
            .max(Duration::from_secs_f64(2.0 * baseline.seconds));
        Ok(baseline.seconds)
    }

    /// Stage 1's tests (every known catcher of the mutations to try) on the unmutated spec.
    fn known_baseline(&mut self, mutations: &[&str]) -> Result {
        for (index, group) in stages::known_baseline(self.options, mutations)
            .into_iter()
            .enumerate()
        {
            let what = format!(
                "the known catchers in `{}` must pass unmutated first",
                group.target
            );
            self.baseline(
                &format!("baseline-known-{}", index + 1),
                &what,
                &Selection {
                    args: group.args,
                    test_args: group.test_args,
                    fail_fast: false,
                },
            )?;
        }
        Ok(())
    }

    /// Stage 2's tests on the unmutated spec, once per run, before the first stage 2.
    fn readers_baseline(&mut self) -> Result {
        self.baseline(
            "baseline-readers",
            "the spec-reading tests must pass unmutated first",
            &Selection {
                args: self.options.scope(),
                test_args: stages::skip_args(),
                fail_fast: false,
            },
        )?;
        self.readers_baseline_passed = true;
        Ok(())
    }

    /// The whole suite on the unmutated spec, once per run, before the first stage 3.
    fn whole_baseline(&mut self) -> Result {
        self.baseline(
            "baseline-whole",
            "the whole suite must pass unmutated first",
            &Selection::whole(self.options),
        )?;
        self.whole_baseline_passed = true;
        Ok(())
    }

    /// Runs the tests in the copy with the mutated spec in place of the original, linting the
    /// mutated spec first when the linters are installed.
    fn try_mutation(
        &mut self,
        linters: Option<&Tools>,
        mutation: &'static Mutation,
        (original, mutated): (&str, &str),
    ) -> Result<Outcome> {
        let spec = self.paths.workspace.join("openapi.yaml");
        let restore = Restore::write(&spec, original, mutated)?;
        let lint = match linters {
            Some(tools) => match spec_lint::complaints(tools, &spec)? {
                complaints if complaints.is_empty() => Lint::Clean,
                complaints => Lint::Complaints(complaints),
            },
            None => Lint::Unchecked,
        };
        let (stage, run) = if self.options.full {
            let run = suite(
                &Selection::whole(self.options),
                self.paths,
                mutation.name,
                self.limit,
            )?;
            (Stage::Whole, run)
        } else {
            self.staged(mutation.name, &restore)?
        };
        restore.finish()?;
        Ok(Outcome {
            mutation,
            lint,
            stage,
            run,
        })
    }

    /// The stages of `stages`, stopping at the first that fails; the run returned is the one that
    /// decided, its seconds those of every stage run.
    fn staged(&mut self, name: &str, restore: &Restore<'_>) -> Result<(Stage, SuiteRun)> {
        let mut seconds = 0.0;
        let decided = |stage, mut run: SuiteRun, seconds: f64| {
            run.seconds += seconds;
            Ok((stage, run))
        };
        for (index, group) in stages::known_groups(self.options, name)
            .into_iter()
            .enumerate()
        {
            let builds_only = group.builds_only();
            let selection = Selection {
                args: group.args,
                test_args: group.test_args,
                fail_fast: true,
            };
            let run = suite(
                &selection,
                self.paths,
                &format!("{name}.known-{}", index + 1),
                self.limit,
            )?;
            if run.verdict != Verdict::Passed {
                return decided(Stage::Known, run, seconds);
            }
            if run.tests_run == 0 && !builds_only {
                println!(
                    "mutants: warning: none of the tests xtask/src/mutants/known_catchers.txt \
                     names for `{name}` in `{}` exists any more; update the map",
                    group.target
                );
            }
            seconds += run.seconds;
        }
        if !self.readers_baseline_passed {
            // Its own run of the unmutated spec: the spec goes back for it, then mutated again.
            restore.put_back()?;
            self.readers_baseline()?;
            restore.mutate_again()?;
        }
        let readers = Selection {
            args: self.options.scope(),
            test_args: stages::skip_args(),
            fail_fast: true,
        };
        let run = suite(&readers, self.paths, &format!("{name}.readers"), self.limit)?;
        if run.verdict != Verdict::Passed {
            return decided(Stage::Readers, run, seconds);
        }
        seconds += run.seconds;
        if !self.whole_baseline_passed {
            println!(
                "mutants: `{name}` passed the spec-reading tests; the whole suite decides, after \
                 its own unmutated run"
            );
            restore.put_back()?;
            self.whole_baseline()?;
            restore.mutate_again()?;
        }
        let run = suite(
            &Selection::whole(self.options),
            self.paths,
            &format!("{name}.whole"),
            self.limit,
        )?;
        decided(Stage::Whole, run, seconds)
    }
}

/// Puts the copy's spec back when dropped, so an error midway never leaves a mutated spec behind
/// for the next run's baseline (the mirror would repair it anyway, one build later).
struct Restore<'a> {
    path: &'a Path,
    original: &'a str,
    mutated: &'a str,
    armed: bool,
}

impl<'a> Restore<'a> {
    fn write(path: &'a Path, original: &'a str, mutated: &'a str) -> Result<Self> {
        write(path, mutated.as_bytes())?;
        Ok(Self {
            path,
            original,
            mutated,
            armed: true,
        })
    }

    /// The original back for a while (a baseline run midway); the guard stays armed.
    fn put_back(&self) -> Result {
        write(self.path, self.original.as_bytes())
    }

    fn mutate_again(&self) -> Result {
        write(self.path, self.mutated.as_bytes())
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
