//! `cargo xtask fuzz [--seconds N] [--target NAME]...`: runs the cargo-fuzz targets of `fuzz/`
//! (`form`, `request`, `spec`) for a bounded time each, on stable Rust, and fails on any crash,
//! naming the input that caused it and the command that replays it.
//!
//! cargo-fuzz is installed on first use into `.tools/cargo-fuzz/` (pinned, `cargo install
//! --locked`; `cargo xtask tools` installs it too). Every build and run uses `--sanitizer none`
//! (the sanitizers need nightly) and `--debug-assertions` (overflow checks on, as in the tests).
//! The targets are built once, in release with coverage instrumentation: a separate build of
//! every dependency in `fuzz/target/` (minutes the first time), then each target runs with
//! `-max_total_time=N` on a scratch corpus, `fuzz/scratch/TARGET/`, that starts from the
//! checked-in seeds in `fuzz/corpus/TARGET/`. The targets run side by side, one per core (each
//! libFuzzer run is one thread), so on 2 cores the three take two runs' time, not three. What
//! the fuzzer grows stays in the scratch folder (ignored by git); merging it into the seeds is a
//! deliberate act:
//! `cargo fuzz run --sanitizer none TARGET -- -merge=1 fuzz/corpus/TARGET fuzz/scratch/TARGET`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cargo_fuzz::CargoFuzz;
use crate::tools::Tools;
use crate::{Error, Result, process, project};

/// The fuzz targets, as `fuzz/Cargo.toml` names its `[[bin]]`s.
pub(crate) const TARGETS: &[&str] = &["form", "request", "spec"];

/// How long each target runs when `--seconds` is not given, and in `ci`.
const DEFAULT_SECONDS: u64 = 30;

/// The options of every build and run: the same for both, so a run never rebuilds.
/// `--codegen-units 16`: cargo-fuzz's default of 1 leaves a core idle while the largest crates
/// compile, on a build that is most of the step's time.
const BUILD_OPTIONS: &[&str] = &[
    "--sanitizer",
    "none",
    "--debug-assertions",
    "--codegen-units",
    "16",
];

/// The longest one input may take before libFuzzer calls it a hang and saves it (`timeout-*`).
const INPUT_TIMEOUT_SECONDS: u64 = 20;

/// What `cargo xtask fuzz` was asked to do.
#[derive(clap::Args, Debug, PartialEq)]
pub(crate) struct Options {
    /// How long each target runs, in seconds
    #[arg(short, long, value_name = "N", default_value_t = DEFAULT_SECONDS, value_parser = crate::seconds)]
    seconds: u64,
    /// Run only this target (repeatable)
    #[arg(short, long = "target", value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    targets: Vec<String>,
}

impl Options {
    /// The targets asked for, each once, in the order given; all of them when none was.
    fn targets(&self) -> Vec<&'static str> {
        let mut targets: Vec<&'static str> = Vec::new();
        for name in &self.targets {
            if let Some(target) = TARGETS.iter().find(|target| *target == name)
                && !targets.contains(target)
            {
                targets.push(target);
            }
        }
        if targets.is_empty() {
            TARGETS.to_vec()
        } else {
            targets
        }
    }
}

/// The CI step: every target, for the default time.
pub(crate) fn ci() -> Result {
    run(&Options {
        seconds: DEFAULT_SECONDS,
        targets: Vec::new(),
    })
}

pub(crate) fn run(options: &Options) -> Result {
    let cargo_fuzz = CargoFuzz::new(Tools::new().dir());
    cargo_fuzz.ensure()?;

    // The root's lock, so the fuzz build uses the versions the workspace does; cargo adds what
    // only the fuzz package needs (libfuzzer-sys).
    let lock = project::root().join("fuzz").join("Cargo.lock");
    fs::copy(project::root().join("Cargo.lock"), &lock).map_err(project::failed("write", &lock))?;

    // Built once, in sight: the first build compiles every dependency anew (release, coverage
    // instrumentation), which is most of this command's time; later ones take seconds.
    let started = Instant::now();
    let mut build = cargo_fuzz.command();
    build.arg("build").args(BUILD_OPTIONS);
    println!("$ {}", process::display(&build));
    process::run(&mut build)?;
    println!(
        "fuzz: targets built in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let results = run_targets(&cargo_fuzz, &options.targets(), options.seconds)?;
    println!("\nfuzz results ({}s each):", options.seconds);
    for (target, result) in &results {
        println!("  {target:<8} {}", result.summary());
    }
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(target, result)| result.failure(target))
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::new(failures.join("\n\n")))
    }
}

/// What one target's run came to.
#[derive(Debug)]
struct Outcome {
    stats: Stats,
    /// The run's exit was a failure: what libFuzzer said about it.
    crash: Option<Crash>,
    elapsed: Duration,
}

impl Outcome {
    fn summary(&self) -> String {
        let found = match &self.crash {
            None => "no crash".to_owned(),
            Some(crash) => format!("FAILED: {}", crash.kind),
        };
        format!(
            "{}, {found} ({:.0}s)",
            self.stats,
            self.elapsed.as_secs_f64()
        )
    }

    fn failure(&self, target: &str) -> Option<String> {
        let crash = self.crash.as_ref()?;
        let mut text = format!("fuzz target `{target}`: {}", crash.kind);
        if let Some(message) = &crash.message {
            text.push_str(&format!("\n  {message}"));
        }
        text.push_str(&format!("\n  log: {}", project::relative(&crash.log)));
        match &crash.artifact {
            Some(artifact) => {
                let options = BUILD_OPTIONS.join(" ");
                text.push_str(&format!(
                    "\n  input: {artifact}\
                     \n  replay it (with .tools/cargo-fuzz/bin on PATH): cargo fuzz run {options} {target} {artifact}\
                     \n  minimize it: cargo fuzz tmin {options} {target} {artifact}\
                     \n  then make it a regression test in the normal test suite, and fix it"
                ));
            }
            None => text.push_str("\n  no input was saved: see the log"),
        }
        Some(text)
    }
}

/// Runs `targets`, as many at once as the machine has cores (libFuzzer runs an input at a time,
/// on one thread, so two targets side by side on 2 cores each execute as many inputs as they
/// would alone, in half the wall time of running them one after the other). Results in the
/// order of `targets`; the first error (a log that could not be written, say) after every
/// started run has ended.
fn run_targets(
    cargo_fuzz: &CargoFuzz,
    targets: &[&'static str],
    seconds: u64,
) -> Result<Vec<(&'static str, Outcome)>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    process::side_by_side(
        targets.iter().copied(),
        cores,
        "a fuzz run's thread panicked",
        |target| run_target(cargo_fuzz, target, seconds).map(|outcome| (target, outcome)),
    )
}

/// Runs one target for `seconds` with its output in a log; a crash is an `Outcome`, not an
/// `Err`, so every selected target runs before the command fails.
fn run_target(cargo_fuzz: &CargoFuzz, target: &str, seconds: u64) -> Result<Outcome> {
    let fuzz_dir = project::root().join("fuzz");
    let scratch = fuzz_dir.join("scratch").join(target);
    project::create_dir(&scratch)?;
    let log = fuzz_dir.join("scratch").join(format!("{target}.log"));
    let mut command = cargo_fuzz.command();
    // The scratch corpus first: libFuzzer writes new inputs into the first folder only.
    command
        .arg("run")
        .args(BUILD_OPTIONS)
        .arg(target)
        .arg(&scratch)
        .arg(fuzz_dir.join("corpus").join(target))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1");
    println!(
        "\nfuzz: {target} for {seconds}s (log: {})\n$ {}",
        project::relative(&log),
        process::display(&command)
    );
    let started = Instant::now();
    // Loading the corpus and a last slow input come on top of the fuzzing time.
    let limit = Duration::from_secs(seconds * 2 + 120);
    let status = process::to_file_within(&mut command, &log, limit)?;
    let elapsed = started.elapsed();
    let output = fs::read_to_string(&log).unwrap_or_default();
    let stats = Stats::parse(&output);
    let crash = match status {
        Some(status) if status.success() => None,
        Some(_) => Some(Crash::parse(&output, log.clone())),
        None => Some(Crash {
            kind: format!("still running after {}s, stopped", limit.as_secs()),
            message: None,
            artifact: None,
            log: log.clone(),
        }),
    };
    let outcome = Outcome {
        stats,
        crash,
        elapsed,
    };
    println!("fuzz: {target}: {}", outcome.summary());
    if outcome.crash.is_some() {
        // The end of the log says what happened; all of it is in the file.
        let lines: Vec<&str> = output.lines().collect();
        for line in &lines[lines.len().saturating_sub(40)..] {
            println!("  | {line}");
        }
    }
    Ok(outcome)
}

/// libFuzzer's counts at the end of a run.
#[derive(Debug, Default, PartialEq)]
struct Stats {
    executions: Option<u64>,
    per_second: Option<u64>,
    coverage: Option<u64>,
    corpus: Option<u64>,
}

impl Stats {
    /// Reads the final counts from libFuzzer's output: the `stat::` lines of
    /// `-print_final_stats=1` when they are there, else the last status line (`#N DONE cov: ...`,
    /// or the last `#N pulse`/`NEW` line of a run that crashed), else `Done N runs in S second(s)`.
    fn parse(output: &str) -> Self {
        let mut stats = Stats::default();
        let field = |line: &str, name: &str| -> Option<u64> {
            let mut words = line.split_whitespace();
            words.find(|w| *w == name)?;
            let value = words.next()?;
            // `corp: 57/3123b`: the count of inputs.
            value.split('/').next()?.parse().ok()
        };
        for line in output.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix('#') {
                let Some((count, status)) = rest.split_once(char::is_whitespace) else {
                    continue;
                };
                let Ok(count) = count.parse::<u64>() else {
                    continue;
                };
                stats.executions = Some(count);
                stats.per_second = field(status, "exec/s:").or(stats.per_second);
                stats.coverage = field(status, "cov:").or(stats.coverage);
                stats.corpus = field(status, "corp:").or(stats.corpus);
            } else if let Some(rest) = line.strip_prefix("Done ") {
                if let Some(runs) = rest.split_whitespace().next().and_then(|n| n.parse().ok()) {
                    stats.executions = Some(runs);
                }
            } else if let Some((name, value)) =
                line.strip_prefix("stat::").and_then(|l| l.split_once(':'))
            {
                let value = value.trim().parse().ok();
                match name {
                    "number_of_executed_units" => stats.executions = value.or(stats.executions),
                    "average_exec_per_sec" => stats.per_second = value.or(stats.per_second),
                    _ => {}
                }
            }
        }
        stats
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or_unknown = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), thousands);
        write!(
            f,
            "{} executions ({}/s), coverage {}, corpus {}",
            or_unknown(self.executions),
            or_unknown(self.per_second),
            or_unknown(self.coverage),
            or_unknown(self.corpus)
        )
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a failed run left behind.
#[derive(Debug, PartialEq)]
struct Crash {
    /// What kind of failure: a panic, a hang, memory, or an exit libFuzzer did not explain.
    kind: String,
    /// The panic's message (the line after `panicked at`), when there was one.
    message: Option<String>,
    /// The input that caused it, as libFuzzer wrote it (`Test unit written to PATH`).
    artifact: Option<String>,
    log: PathBuf,
}

impl Crash {
    fn parse(output: &str, log: PathBuf) -> Self {
        let lines: Vec<&str> = output.lines().collect();
        let artifact = lines.iter().find_map(|line| {
            line.split_once("Test unit written to ")
                .map(|(_, path)| project::relative(Path::new(path.trim())))
        });
        let panic = lines.iter().position(|line| line.contains("panicked at"));
        let message = panic.map(|at| {
            let place = lines[at].trim();
            let said = lines.get(at + 1).map_or("", |line| line.trim());
            format!("{place} {said}").trim().to_owned()
        });
        let kind = if panic.is_some() {
            "a panic"
        } else if output.contains("libFuzzer: timeout") {
            "an input over the time limit (a hang)"
        } else if output.contains("libFuzzer: out-of-memory") {
            "an input over the memory limit"
        } else if output.contains("libFuzzer: deadly signal") {
            "a deadly signal"
        } else if artifact.is_none() {
            "the run failed before fuzzing (see the log)"
        } else {
            "a crash"
        };
        Crash {
            kind: kind.to_owned(),
            message,
            artifact,
            log,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_to_every_target_for_30_seconds() {
        let none: Options = crate::parse(&[]).expect("no arguments");
        assert_eq!((none.seconds, none.targets()), (30, TARGETS.to_vec()));
        let options: Options = crate::parse(&[
            "--seconds",
            "5",
            "-t",
            "spec",
            "--target",
            "form",
            "-t",
            "spec",
        ])
        .expect("valid arguments");
        assert_eq!(
            (options.seconds, options.targets()),
            (5, vec!["spec", "form"])
        );
        for bad in [
            &["--seconds"][..],
            &["--seconds", "0"],
            &["--seconds", "x"],
            &["--target", "nope"],
            &["--fast"],
        ] {
            assert!(crate::parse::<Options>(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// The end of a real run (libFuzzer 0.4 as cargo-fuzz 0.13 drives it).
    const DONE: &str = "\
INFO: Running with entropic power schedule (0xFF, 100).
#2\tINITED cov: 1873 ft: 1874 corp: 12/3121b exec/s: 0 rss: 48Mb
#65536\tpulse  cov: 2544 ft: 6880 corp: 215/21Kb lim: 4096 exec/s: 21845 rss: 61Mb
#658893\tDONE   cov: 2611 ft: 7322 corp: 257/27Kb lim: 4096 exec/s: 21254 rss: 64Mb
Done 658893 runs in 31 second(s)
stat::number_of_executed_units: 658893
stat::average_exec_per_sec:     21254
stat::new_units_added:          1442
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              64
";

    #[test]
    fn stats_come_from_the_final_lines() {
        assert_eq!(
            Stats::parse(DONE),
            Stats {
                executions: Some(658_893),
                per_second: Some(21_254),
                coverage: Some(2611),
                corpus: Some(257),
            }
        );
        assert_eq!(
            Stats::parse(DONE).to_string(),
            "658,893 executions (21,254/s), coverage 2,611, corpus 257"
        );
        // Without the stat lines: the DONE line, then the Done line.
        let short: String = DONE.lines().take(4).collect::<Vec<_>>().join("\n");
        assert_eq!(Stats::parse(&short).executions, Some(658_893));
        assert_eq!(
            Stats::parse("Done 12 runs in 1 second(s)").executions,
            Some(12)
        );
        assert_eq!(Stats::parse("nothing here"), Stats::default());
    }

    #[test]
    fn a_crash_names_its_input_and_message() {
        let output = "\
#1024\tpulse  cov: 100 ft: 120 corp: 10/1Kb lim: 4096 exec/s: 512 rss: 40Mb

thread '<unnamed>' panicked at fuzz_targets/form.rs:41:5:
status 500 for a bad form: oops
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
==4242== ERROR: libFuzzer: deadly signal
MS: 2 ChangeByte-InsertByte-; base unit: 0000
artifact_prefix='/w/fuzz/artifacts/form/'; Test unit written to /w/fuzz/artifacts/form/crash-da39a3ee
";
        let crash = Crash::parse(output, PathBuf::from("form.log"));
        assert_eq!(crash.kind, "a panic");
        assert_eq!(
            crash.message.as_deref(),
            Some(
                "thread '<unnamed>' panicked at fuzz_targets/form.rs:41:5: status 500 for a bad form: oops"
            )
        );
        assert_eq!(
            crash.artifact.as_deref(),
            Some("/w/fuzz/artifacts/form/crash-da39a3ee")
        );
        assert_eq!(Stats::parse(output).executions, Some(1024));

        let hang = "==1== ERROR: libFuzzer: timeout after 20 seconds\n\
                    artifact_prefix='a/'; Test unit written to a/timeout-1\n";
        assert_eq!(
            Crash::parse(hang, PathBuf::new()).kind,
            "an input over the time limit (a hang)"
        );
        assert_eq!(
            Crash::parse("error: could not compile", PathBuf::new()).kind,
            "the run failed before fuzzing (see the log)"
        );
    }

    /// Each target has its `[[bin]]` in fuzz/Cargo.toml and a small checked-in seed corpus
    /// (a few dozen files, well under 200 KB in all: what the fuzzer grows is not checked in).
    #[test]
    fn every_target_is_declared_and_seeded() {
        let fuzz = project::root().join("fuzz");
        let manifest = fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
        let mut files = 0;
        let mut bytes = 0;
        for target in TARGETS {
            assert!(
                manifest.contains(&format!(
                    "name = \"{target}\"\npath = \"fuzz_targets/{target}.rs\""
                )),
                "fuzz/Cargo.toml has no [[bin]] {target}"
            );
            assert!(
                fuzz.join("fuzz_targets")
                    .join(format!("{target}.rs"))
                    .is_file()
            );
            let seeds: Vec<_> = fs::read_dir(fuzz.join("corpus").join(target))
                .expect("a seed corpus")
                .filter_map(|entry| entry.ok())
                .collect();
            assert!(!seeds.is_empty(), "no seeds for {target}");
            files += seeds.len();
            bytes += seeds
                .iter()
                .filter_map(|seed| seed.metadata().ok())
                .map(|meta| meta.len())
                .sum::<u64>();
        }
        // And the other way: no [[bin]] the ci step would leave unfuzzed.
        assert_eq!(
            manifest.matches("[[bin]]").count(),
            TARGETS.len(),
            "fuzz/Cargo.toml declares a [[bin]] that TARGETS lacks"
        );
        assert!(files <= 80, "{files} seed files: keep the corpus small");
        assert!(
            bytes <= 200 * 1024,
            "{bytes} bytes of seeds: keep the corpus small"
        );
    }
}
