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

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::tools::{self, Tools};
use crate::{Error, Result, process, project, spec_lint};

/// One textual edit of the spec. Each anchor must occur exactly once, so a spec change that moves
/// or rewords the anchored text fails loudly instead of silently turning the mutation off.
enum Edit {
    /// Replace `find` with `with`.
    Replace {
        find: &'static str,
        with: &'static str,
    },
    /// Remove everything from `from` (included) up to the first `until` after it (kept).
    Cut {
        from: &'static str,
        until: &'static str,
    },
}

/// A drift that a spec edit could introduce, which the suite must notice.
struct Mutation {
    name: &'static str,
    summary: &'static str,
    edits: &'static [Edit],
}

/// The mutations. Each keeps openapi.yaml a valid, lint-clean spec (the table's `lint-clean`
/// column checks it), so what catches it is the contract suite, not a broken document.
const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "rename-eta",
        summary: "CoverResponse's `eta` renamed `eta_seconds` everywhere: property, `required`, both 200 examples",
        edits: &[
            Edit::Replace {
                find: "        - conversion_id\n        - eta\n      properties:\n",
                with: "        - conversion_id\n        - eta_seconds\n      properties:\n",
            },
            Edit::Replace {
                find: "        eta:\n          type: integer\n          minimum: 0\n          description: Estimated seconds",
                with: "        eta_seconds:\n          type: integer\n          minimum: 0\n          description: Estimated seconds",
            },
            // Twenty spaces: the Cover 200 examples; byId's examples indent `eta` by twenty-two.
            Edit::Replace {
                find: "\n                    eta: 33\n",
                with: "\n                    eta_seconds: 33\n",
            },
            Edit::Replace {
                find: "\n                    eta: 71\n",
                with: "\n                    eta_seconds: 71\n",
            },
        ],
    },
    Mutation {
        name: "narrow-pitch",
        summary: "CoverRequest's `pitch` maximum 12 → 6",
        edits: &[Edit::Replace {
            find: "          maximum: 12\n          default: 0\n          description: Pitch shift",
            with: "          maximum: 6\n          default: 0\n          description: Pitch shift",
        }],
    },
    Mutation {
        name: "drop-402",
        summary: "`POST /v1/Cover` loses its 402 response (insufficient credit)",
        edits: &[Edit::Cut {
            from: "        '402':\n",
            until: "        '403':\n",
        }],
    },
    Mutation {
        name: "change-200-example",
        summary: "the Cover 200 `minimal` example's `eta` 33 → 34",
        edits: &[Edit::Replace {
            find: "\n                    eta: 33\n",
            with: "\n                    eta: 34\n",
        }],
    },
    Mutation {
        name: "voice-id-optional",
        summary: "CoverRequest's `voice_id` no longer required",
        edits: &[Edit::Replace {
            find: "      required:\n        - voice_id\n      properties:\n",
            with: "      properties:\n",
        }],
    },
    Mutation {
        name: "change-422-example",
        summary: "the Cover 422 `no_audio` example's text reworded",
        edits: &[Edit::Replace {
            find: "error: Both audio_url and audio_file cannot be None\n",
            with: "error: Neither audio_url nor audio_file was given\n",
        }],
    },
];

impl Mutation {
    /// The mutated spec; fails, naming the anchor, unless every edit applies exactly once.
    fn apply(&self, spec: &str) -> Result<String> {
        let mut text = spec.to_string();
        for edit in self.edits {
            text = match edit {
                Edit::Replace { find, with } => {
                    let at = self.locate(&text, find)?;
                    let mut mutated = text[..at].to_string();
                    mutated.push_str(with);
                    mutated.push_str(&text[at + find.len()..]);
                    mutated
                }
                Edit::Cut { from, until } => {
                    let start = self.locate(&text, from)?;
                    let length = text[start..].find(until).ok_or_else(|| {
                        self.broken(format!("found {from:?} but no {until:?} after it"))
                    })?;
                    let mut mutated = text[..start].to_string();
                    mutated.push_str(&text[start + length..]);
                    mutated
                }
            };
        }
        Ok(text)
    }

    /// Where `anchor` starts in `text`, when it occurs there exactly once.
    fn locate(&self, text: &str, anchor: &str) -> Result<usize> {
        let found: Vec<usize> = text.match_indices(anchor).map(|(at, _)| at).collect();
        match found.as_slice() {
            [at] => Ok(*at),
            [] => Err(self.broken(format!("the anchor {anchor:?} is not in openapi.yaml"))),
            _ => Err(self.broken(format!(
                "the anchor {anchor:?} occurs {} times in openapi.yaml, so the edit is ambiguous",
                found.len()
            ))),
        }
    }

    fn broken(&self, what: String) -> Error {
        Error::new(format!(
            "mutation `{}`: {what}; the spec changed under it: update its anchors in \
             xtask/src/mutants.rs so it still mutates what it says ({})",
            self.name, self.summary
        ))
    }
}

/// What `cargo xtask mutants` was asked to do.
#[derive(Default)]
struct Options {
    /// Test only these packages instead of the workspace: for developing a mutation or the tool
    /// while some crate does not build. Such a run proves nothing about the whole suite.
    packages: Vec<String>,
    /// Run only these mutations.
    only: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let list = match arg.as_str() {
                "--package" | "-p" => &mut options.packages,
                "--mutation" | "-m" => &mut options.only,
                other => {
                    return Err(Error::new(format!(
                        "`cargo xtask mutants` does not know `{other}`\n\n{USAGE}"
                    )));
                }
            };
            let value = args
                .next()
                .ok_or_else(|| Error::new(format!("`{arg}` needs a value\n\n{USAGE}")))?;
            list.push(value.clone());
        }
        let unknown: Vec<&String> = options
            .only
            .iter()
            .filter(|name| !MUTATIONS.iter().any(|mutation| mutation.name == **name))
            .collect();
        if let Some(name) = unknown.first() {
            let names: Vec<&str> = MUTATIONS.iter().map(|mutation| mutation.name).collect();
            return Err(Error::new(format!(
                "there is no mutation `{name}`; the mutations are: {}",
                names.join(", ")
            )));
        }
        Ok(options)
    }

    fn selected(&self) -> Vec<&'static Mutation> {
        MUTATIONS
            .iter()
            .filter(|mutation| self.only.is_empty() || self.only.iter().any(|n| n == mutation.name))
            .collect()
    }

    /// The arguments after `cargo test` that pick what runs.
    fn scope(&self) -> Vec<String> {
        if self.packages.is_empty() {
            ["--workspace", "--exclude", "xtask"]
                .map(String::from)
                .to_vec()
        } else {
            self.packages
                .iter()
                .flat_map(|package| ["--package".to_string(), package.clone()])
                .collect()
        }
    }
}

const USAGE: &str = "\
usage: cargo xtask mutants [--package NAME]... [--mutation NAME]...

  --package, -p NAME   test only this package (repeatable) instead of the workspace without xtask;
                       for development while another crate does not build: it proves nothing
  --mutation, -m NAME  run only this mutation (repeatable)";

/// Where a run keeps its copy, target dir, logs and report: under the real `target/`, which git ignores.
struct Paths {
    workspace: PathBuf,
    target: PathBuf,
    logs: PathBuf,
    report: PathBuf,
}

impl Paths {
    fn new() -> Self {
        let dir = project::root().join("target").join("mutants");
        Self {
            workspace: dir.join("workspace"),
            target: dir.join("target"),
            logs: dir.join("logs"),
            report: dir.join("report.md"),
        }
    }
}

/// How long the unmutated suite may take, cold build included (about 3 minutes on 2 cores when
/// this was written, plus the tests). A hang is a bug in the suite: its tests must bound their waits.
const BASELINE_LIMIT: Duration = Duration::from_secs(30 * 60);

/// How long a mutated suite may take: twice the baseline, which rebuilt more, but at least this.
const MUTATION_FLOOR: Duration = Duration::from_secs(10 * 60);

/// One run of the suite, read from its log.
struct SuiteRun {
    verdict: Verdict,
    seconds: f64,
    catchers: Vec<Catcher>,
    log: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    /// Killed at its time limit: neither caught nor survived, and the step fails.
    TimedOut,
}

/// A test target that failed, with the tests that failed in it, or a crate whose build failed.
#[derive(Debug, PartialEq, Eq)]
enum Catcher {
    /// `rerun` is what cargo says to pass to rerun the target, such as `-p tests --test contract`.
    Target {
        rerun: String,
        tests: Vec<String>,
    },
    Build {
        krate: String,
    },
    /// A test still running when the suite was killed at its time limit.
    Running {
        name: String,
    },
    /// The suite failed but its output names no test and no crate: cargo's first error, if any.
    Unidentified {
        error: Option<String>,
    },
}

impl Catcher {
    /// For the table: the target and at most `limit` test names.
    fn brief(&self, limit: usize) -> String {
        match self {
            Self::Target { rerun, tests } if tests.is_empty() => {
                format!("`{rerun}` (no test named)")
            }
            Self::Target { rerun, tests } => {
                let shown: Vec<String> =
                    tests.iter().take(limit).map(|t| format!("`{t}`")).collect();
                let more = tests.len().saturating_sub(limit);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("`{rerun}`: {}{more}", shown.join(", "))
            }
            Self::Build { krate } => format!("build: `{krate}`"),
            Self::Running { name } => format!("`{name}` (still running)"),
            Self::Unidentified { error: Some(error) } => format!("no test named: `{error}`"),
            Self::Unidentified { error: None } => "no test named (see the log)".to_string(),
        }
    }
}

/// What happened to one mutation.
struct Outcome {
    mutation: &'static Mutation,
    lint: Lint,
    run: SuiteRun,
}

enum Lint {
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

impl SuiteRun {
    /// Why it did not pass, for an error message.
    fn failure(&self) -> String {
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

/// Fails unless every mutation was caught: a survivor means a drift the suite would not notice,
/// and a hang means the suite itself needs fixing.
fn judge(outcomes: &[Outcome], paths: &Paths) -> Result {
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

/// Runs the suite in the copy, its output in `target/mutants/logs/<name>.log`, for at most `limit`.
fn suite(options: &Options, paths: &Paths, name: &str, limit: Duration) -> Result<SuiteRun> {
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

/// The failing targets, tests and builds named in the output of `cargo test --no-fail-fast`.
///
/// The lines read, as libtest (the first two, while a target runs) and cargo print them:
///
/// ```text
/// test <name> ... FAILED
/// ---- <name> stdout ----
/// error: test failed, to rerun pass `<args>`        (closes a failed target)
/// error: could not compile `<crate>` (lib) due to 1 previous error
/// error: failed to run custom build command for `<crate> <version> (<path>)`
/// ```
fn catchers(output: &str) -> Vec<Catcher> {
    let mut found = Vec::new();
    let mut failing: Vec<String> = Vec::new();
    for line in output.lines().map(str::trim_end) {
        // cargo's own lines, indented as cargo indents them, so a test printing "Running" is not one.
        if line.starts_with("     Running ") || line.starts_with("   Doc-tests ") {
            failing.clear();
        } else if let Some(name) = failed_test(line) {
            if !failing.contains(&name) {
                failing.push(name);
            }
        } else if let Some(rerun) = between(line, "to rerun pass `", "`") {
            found.push(Catcher::Target {
                rerun: rerun.to_string(),
                tests: std::mem::take(&mut failing),
            });
        } else if let Some(krate) = build_failure(line) {
            let catcher = Catcher::Build { krate };
            if !found.contains(&catcher) {
                found.push(catcher);
            }
        }
    }
    found
}

/// The tests libtest said were slow (`test <name> has been running for over 60 seconds`) and that
/// had not finished when the suite was killed.
fn still_running(output: &str) -> Vec<Catcher> {
    let mut slow: Vec<String> = Vec::new();
    for line in output.lines().map(str::trim_end) {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some((name, _)) = rest.split_once(" has been running for over ") {
            slow.push(name.to_string());
        } else if let Some((name, _)) = rest.rsplit_once(" ... ") {
            slow.retain(|slow| slow != name);
        }
    }
    slow.into_iter()
        .map(|name| Catcher::Running { name })
        .collect()
}

fn failed_test(line: &str) -> Option<String> {
    let name = line
        .strip_prefix("test ")
        .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        .or_else(|| {
            line.strip_prefix("---- ")
                .and_then(|rest| rest.strip_suffix(" stdout ----"))
        })?;
    Some(name.to_string())
}

fn build_failure(line: &str) -> Option<String> {
    if let Some(krate) = between(line, "error: could not compile `", "`") {
        return Some(krate.to_string());
    }
    let package = between(line, "error: failed to run custom build command for `", "`")?;
    // `<crate> v0.1.0 (/path)`: the crate is the first word.
    package.split_whitespace().next().map(str::to_string)
}

/// The text after the first `start` in `line`, up to the next `end`.
fn between<'a>(line: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &line[line.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The table of mutation → caught? → by which tests, in Markdown, so it can go into the README.
fn report(baseline: &SuiteRun, outcomes: &[Outcome], total: f64) -> String {
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

/// Makes `copy` hold exactly the workspace's tracked and untracked-but-not-ignored files, writing
/// only those whose contents differ so cargo sees unchanged files as unchanged. Returns how many
/// files were written.
fn mirror(root: &Path, copy: &Path) -> Result<usize> {
    sync(root, copy, &listed(root)?)
}

/// What `git ls-files --cached --others --exclude-standard` lists, less anything deleted.
fn listed(root: &Path) -> Result<BTreeSet<PathBuf>> {
    let listing = process::stdout(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root),
    )
    .map_err(|error| {
        Error::new(format!(
            "mutants: could not list the workspace's files: {error}"
        ))
    })?;
    let files: BTreeSet<PathBuf> = listing
        .split('\0')
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        // Never the tools or build output, even if a .gitignore change let them through; and not
        // a tracked file deleted from the working tree.
        .filter(|path| !path.starts_with(".tools") && !path.starts_with("target"))
        .filter(|path| root.join(path).is_file())
        .collect();
    Ok(files)
}

/// Copies `files` from `root` into `copy` where they differ, then prunes everything else.
fn sync(root: &Path, copy: &Path, files: &BTreeSet<PathBuf>) -> Result<usize> {
    fs::create_dir_all(copy)
        .map_err(|error| Error::new(format!("could not create {}: {error}", copy.display())))?;
    let mut written = 0;
    for path in files {
        let source = root.join(path);
        let target = copy.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|error| {
                Error::new(format!("could not create {}: {error}", parent.display()))
            })?;
        }
        if is_symlink(&source) {
            written += usize::from(mirror_symlink(&source, &target)?);
            continue;
        }
        let contents = fs::read(&source)
            .map_err(|error| Error::new(format!("could not read {}: {error}", source.display())))?;
        if is_symlink(&target) {
            // Copying onto a link would write through it, into the file it points to.
            remove(&target)?;
        } else if fs::read(&target).is_ok_and(|existing| existing == contents) {
            continue;
        }
        // `fs::copy` keeps the permissions, so `.ci/run` stays executable in the copy.
        fs::copy(&source, &target).map_err(|error| {
            Error::new(format!(
                "could not copy {} to {}: {error}",
                source.display(),
                target.display()
            ))
        })?;
        written += 1;
    }
    prune(copy, copy, files)?;
    Ok(written)
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

/// Makes `target` a symlink with the same (relative) target as `source`; returns whether it had to
/// write. The crates' `openapi.yaml` are links to the root spec: copied as files, they would keep
/// the unmutated spec and the mutations would silently stop reaching the client and the mock.
fn mirror_symlink(source: &Path, target: &Path) -> Result<bool> {
    let points_to = fs::read_link(source)
        .map_err(|error| Error::new(format!("could not read {}: {error}", source.display())))?;
    if points_to.is_absolute() {
        return Err(Error::new(format!(
            "mutants: {} is a symlink to the absolute path {}: in the copy it would still point \
             at the unmutated original. Make the link relative",
            source.display(),
            points_to.display()
        )));
    }
    if fs::read_link(target).is_ok_and(|existing| existing == points_to) {
        return Ok(false);
    }
    if fs::symlink_metadata(target).is_ok() {
        remove(target)?;
    }
    #[cfg(unix)]
    let linked = std::os::unix::fs::symlink(&points_to, target);
    #[cfg(windows)]
    let linked = std::os::windows::fs::symlink_file(&points_to, target);
    linked.map_err(|error| {
        Error::new(format!(
            "could not create the symlink {} -> {}: {error}",
            target.display(),
            points_to.display()
        ))
    })?;
    Ok(true)
}

fn remove(path: &Path) -> Result {
    fs::remove_file(path)
        .map_err(|error| Error::new(format!("could not remove {}: {error}", path.display())))
}

/// Removes from the copy every file the workspace no longer lists (deleted files, `.snap.new`
/// leftovers), and the folders that leaves empty.
fn prune(copy: &Path, dir: &Path, keep: &BTreeSet<PathBuf>) -> Result {
    let entries = fs::read_dir(dir)
        .map_err(|error| Error::new(format!("could not read {}: {error}", dir.display())))?;
    for entry in entries {
        let entry = entry
            .map_err(|error| Error::new(format!("could not read {}: {error}", dir.display())))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|error| Error::new(format!("could not read {}: {error}", path.display())))?;
        if file_type.is_dir() {
            prune(copy, &path, keep)?;
            if fs::read_dir(&path).is_ok_and(|mut entries| entries.next().is_none()) {
                fs::remove_dir(&path).map_err(|error| {
                    Error::new(format!("could not remove {}: {error}", path.display()))
                })?;
            }
        } else if !keep.contains(path.strip_prefix(copy).unwrap_or(&path)) {
            fs::remove_file(&path).map_err(|error| {
                Error::new(format!("could not remove {}: {error}", path.display()))
            })?;
        }
    }
    Ok(())
}

fn write(path: &Path, contents: &[u8]) -> Result {
    fs::write(path, contents)
        .map_err(|error| Error::new(format!("could not write {}: {error}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> String {
        match fs::read_to_string(project::spec()) {
            Ok(spec) => spec,
            Err(error) => panic!("could not read openapi.yaml: {error}"),
        }
    }

    /// A spec edit that moves an anchor must fail here, in `cargo test`, not first in the CI step.
    #[test]
    fn every_mutation_applies_exactly_once_to_openapi_yaml() {
        let spec = spec();
        for mutation in MUTATIONS {
            let mutated = match mutation.apply(&spec) {
                Ok(mutated) => mutated,
                Err(error) => panic!("{error}"),
            };
            assert_ne!(
                mutated, spec,
                "mutation `{}` changed nothing",
                mutation.name
            );
        }
    }

    #[test]
    fn mutations_have_distinct_names_and_results() {
        let spec = spec();
        let names: BTreeSet<&str> = MUTATIONS.iter().map(|mutation| mutation.name).collect();
        assert_eq!(names.len(), MUTATIONS.len());
        let results: BTreeSet<String> = MUTATIONS
            .iter()
            .filter_map(|mutation| mutation.apply(&spec).ok())
            .collect();
        assert_eq!(results.len(), MUTATIONS.len());
    }

    #[test]
    fn the_rename_reaches_the_schema_the_required_list_and_the_examples() {
        let Some(rename) = MUTATIONS.iter().find(|m| m.name == "rename-eta") else {
            panic!("no rename-eta mutation");
        };
        let mutated = match rename.apply(&spec()) {
            Ok(mutated) => mutated,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(mutated.matches("eta_seconds").count(), 4);
        // byId's Conversion keeps its own `eta`: the rename touches CoverResponse only.
        assert!(mutated.contains("\n                      eta: 33\n"));
    }

    #[test]
    fn an_anchor_that_is_missing_or_repeated_is_an_error_naming_the_mutation() {
        let mutation = Mutation {
            name: "example",
            summary: "a test mutation",
            edits: &[Edit::Replace {
                find: "eta: 33",
                with: "eta: 34",
            }],
        };
        let missing = mutation.apply("nothing here").err().map(|e| e.to_string());
        assert!(missing.is_some_and(|m| m.contains("`example`") && m.contains("is not in")));
        let repeated = mutation
            .apply("eta: 33\neta: 33\n")
            .err()
            .map(|e| e.to_string());
        assert!(repeated.is_some_and(|m| m.contains("occurs 2 times")));
        assert_eq!(
            mutation.apply("a\neta: 33\nb").ok().as_deref(),
            Some("a\neta: 34\nb")
        );
    }

    #[test]
    fn a_cut_removes_up_to_the_next_anchor() {
        let mutation = Mutation {
            name: "cut",
            summary: "a test cut",
            edits: &[Edit::Cut {
                from: "'402':\n",
                until: "'403':\n",
            }],
        };
        let spec = "'400':\n  a\n'402':\n  b\n  c\n'403':\n  d\n'402x'\n";
        assert_eq!(
            mutation.apply(spec).ok().as_deref(),
            Some("'400':\n  a\n'403':\n  d\n'402x'\n")
        );
        let no_end = mutation.apply("'402':\n  b\n").err().map(|e| e.to_string());
        assert!(no_end.is_some_and(|m| m.contains("no \"'403':\\n\" after it")));
    }

    /// Output of `cargo test --workspace --no-fail-fast` (cargo 1.95), cut down: two failing
    /// targets, a passing one, a doctest, and a test that prints uncaptured output.
    const SAMPLE: &str = "\
   Compiling a v0.1.0 (/tmp/mt/a)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.25s
     Running unittests src/lib.rs (target/debug/deps/a-3110576fc3c3c96d)

running 3 tests
test tests::fails_two ... FAILED
test tests::fails_one ... FAILED
test tests::passes ... ok

failures:

---- tests::fails_two stdout ----
out

thread 'tests::fails_two' (21956) panicked at a/src/lib.rs:6:47:
boom

---- tests::fails_one stdout ----

thread 'tests::fails_one' (21955) panicked at a/src/lib.rs:5:30:
assertion `left == right` failed

failures:
    tests::fails_one
    tests::fails_two

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.07s

error: test failed, to rerun pass `-p a --lib`
     Running tests/it/main.rs (target/debug/deps/it-e9084a9c25208d2e)

running 2 tests
test snapshots::cover_200 ... ok
test round_trip::cover_402 ... FAILED

failures:

---- round_trip::cover_402 stdout ----
thread 'round_trip::cover_402' panicked at tests/it/round_trip.rs:1:25:
x

failures:
    round_trip::cover_402

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.06s

error: test failed, to rerun pass `-p contract --test it`
     Running unittests src/lib.rs (target/debug/deps/c-b8f9cf2b557ae793)

running 1 test
test fine ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests a

running 1 test
test a/src/lib.rs - (line 3) ... FAILED

failures:

---- a/src/lib.rs - (line 3) stdout ----
Test executable failed (exit status: 101).

failures:
    a/src/lib.rs - (line 3)

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

error: doctest failed, to rerun pass `-p a --doc`
error: 3 targets failed:
    `-p a --lib`
    `-p contract --test it`
    `-p a --doc`
";

    #[test]
    fn failing_tests_are_read_from_libtest_output() {
        let target = |rerun: &str, tests: &[&str]| Catcher::Target {
            rerun: rerun.to_string(),
            tests: tests.iter().map(|test| test.to_string()).collect(),
        };
        assert_eq!(
            catchers(SAMPLE),
            vec![
                target("-p a --lib", &["tests::fails_two", "tests::fails_one"]),
                target("-p contract --test it", &["round_trip::cover_402"]),
                target("-p a --doc", &["a/src/lib.rs - (line 3)"]),
            ]
        );
    }

    #[test]
    fn a_build_failure_names_the_crate() {
        let output = "\
   Compiling musicgpt-cover v0.1.0 (/w/crates/musicgpt-cover)
error[E0609]: no field `eta` on type `CoverResponse`
error: could not compile `musicgpt-cover` (lib) due to 1 previous error
warning: build failed, waiting for other jobs to finish...
error: failed to run custom build command for `musicgpt-cover-mock v0.1.0 (/w/crates/musicgpt-cover-mock)`
error: could not compile `musicgpt-cover` (lib test) due to 1 previous error
";
        assert_eq!(
            catchers(output),
            vec![
                Catcher::Build {
                    krate: "musicgpt-cover".to_string()
                },
                Catcher::Build {
                    krate: "musicgpt-cover-mock".to_string()
                },
            ]
        );
    }

    #[test]
    fn a_killed_run_names_the_tests_that_never_finished() {
        let output = "\
     Running tests/mock/main.rs (target/debug/deps/mock-818158a5e17e8349)

running 3 tests
test prefer::every_named_example_byte_for_byte ... ok
test samples::the_seed_curl_sample_works has been running for over 60 seconds
test samples::the_seed_python_sample_works has been running for over 60 seconds
test samples::the_seed_curl_sample_works ... ok
";
        assert_eq!(
            still_running(output),
            vec![Catcher::Running {
                name: "samples::the_seed_python_sample_works".to_string()
            }]
        );
    }

    #[test]
    fn a_passing_run_names_nothing() {
        let passing = "     Running unittests src/lib.rs (x)\n\nrunning 1 test\ntest fine ... ok\n\n\
                       test result: ok. 1 passed; 0 failed\n";
        assert_eq!(catchers(passing), Vec::new());
    }

    #[test]
    fn the_table_cell_shortens_long_lists() {
        let catcher = Catcher::Target {
            rerun: "-p t --test contract".to_string(),
            tests: (1..=6).map(|n| format!("t{n}")).collect(),
        };
        assert_eq!(
            catcher.brief(2),
            "`-p t --test contract`: `t1`, `t2` and 4 more"
        );
    }

    /// The mirror rewrites only what changed (cargo then rebuilds only what changed) and drops
    /// what the workspace no longer has, such as a `.snap.new` left by a failed snapshot.
    #[test]
    fn the_mirror_writes_only_changes_and_prunes_the_rest() {
        let dir = std::env::temp_dir().join(format!("xtask-mutants-{}", std::process::id()));
        let (root, copy) = (dir.join("root"), dir.join("copy"));
        let put = |path: &Path, text: &str| {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
        };
        put(&root.join("openapi.yaml"), "a");
        put(&root.join("tests/snapshots/x.snap"), "b");
        let files: BTreeSet<PathBuf> = ["openapi.yaml", "tests/snapshots/x.snap"]
            .map(PathBuf::from)
            .into();
        let first = sync(&root, &copy, &files).ok();
        let again = sync(&root, &copy, &files).ok();
        put(&root.join("openapi.yaml"), "changed");
        put(&copy.join("tests/snapshots/x.snap.new"), "leftover");
        put(&copy.join("gone/deep/file.rs"), "deleted upstream");
        let after_change = sync(&root, &copy, &files).ok();
        let spec = fs::read_to_string(copy.join("openapi.yaml")).ok();
        let leftover = copy.join("tests/snapshots/x.snap.new").exists();
        let gone = copy.join("gone").exists();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!((first, again, after_change), (Some(2), Some(0), Some(1)));
        assert_eq!(spec.as_deref(), Some("changed"));
        assert!(
            !leftover,
            "a file the workspace does not list survived the mirror"
        );
        assert!(!gone, "an emptied folder survived the mirror");
    }

    /// A crate's `openapi.yaml` is a link to the root spec; mirrored as a link, it shows the copy's
    /// mutated spec, and a link replaced by a file upstream is replaced without writing through it.
    #[cfg(unix)]
    #[test]
    fn the_mirror_keeps_symlinks_so_mutations_reach_the_crates() {
        let dir = std::env::temp_dir().join(format!("xtask-mutants-links-{}", std::process::id()));
        let (root, copy) = (dir.join("root"), dir.join("copy"));
        let link = Path::new("crates/a/openapi.yaml");
        let put = |path: &Path, text: &str| {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
        };
        put(&root.join("openapi.yaml"), "spec");
        fs::create_dir_all(root.join("crates/a")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink("../../openapi.yaml", root.join(link))
            .unwrap_or_else(|e| panic!("{e}"));
        let files: BTreeSet<PathBuf> = [PathBuf::from("openapi.yaml"), link.to_path_buf()].into();
        let first = sync(&root, &copy, &files).ok();
        let again = sync(&root, &copy, &files).ok();
        let kept = fs::read_link(copy.join(link)).ok();
        put(&copy.join("openapi.yaml"), "mutated");
        let seen = fs::read_to_string(copy.join(link)).ok();
        put(&copy.join("openapi.yaml"), "spec");
        fs::remove_file(root.join(link)).unwrap_or_else(|e| panic!("{e}"));
        put(&root.join(link), "a copy now");
        let replaced = sync(&root, &copy, &files).ok();
        let root_spec = fs::read_to_string(copy.join("openapi.yaml")).ok();
        let now_a_file = !is_symlink(&copy.join(link));
        let _ = fs::remove_dir_all(&dir);
        assert_eq!((first, again, replaced), (Some(2), Some(0), Some(1)));
        assert_eq!(kept, Some(PathBuf::from("../../openapi.yaml")));
        assert_eq!(seen.as_deref(), Some("mutated"));
        assert_eq!(
            root_spec.as_deref(),
            Some("spec"),
            "the copy wrote through the link"
        );
        assert!(now_a_file);
    }

    #[test]
    fn options_select_packages_and_mutations() {
        let args: Vec<String> = ["-p", "a", "--mutation", "narrow-pitch"]
            .map(String::from)
            .to_vec();
        let options = match Options::parse(&args) {
            Ok(options) => options,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(options.scope(), ["--package", "a"]);
        let names: Vec<&str> = options.selected().iter().map(|m| m.name).collect();
        assert_eq!(names, ["narrow-pitch"]);
        assert_eq!(
            Options::default().scope(),
            ["--workspace", "--exclude", "xtask"]
        );
        assert!(Options::parse(&["--mutation".to_string(), "nope".to_string()]).is_err());
        assert!(Options::parse(&["--package".to_string()]).is_err());
    }
}
