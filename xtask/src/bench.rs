//! `cargo xtask bench [OPTIONS]`: the mock's benchmarks, run by hand, and BENCHMARKS.md, which
//! they write. Never part of `cargo xtask ci`: timings on a shared CI machine are too noisy to
//! gate on (`ci` runs the harness's smoke run instead, which judges nothing).
//!
//! 1. Installs the bench's peers (WireMock, Mockoon: `cargo xtask tools --bench`) when they are
//!    missing, unless the run is a smoke run or gives `--no-peers`; if that fails, says so and
//!    goes on (the bench leaves them out and says so in BENCHMARKS.md).
//! 2. Builds the mock's binary in release, then runs `cargo bench -p musicgpt-cover-mock --bench
//!    cover -- OPTIONS --markdown target/bench/cover.md` (also release) with the binary's path in
//!    [`BIN_ENV`]: throughput, start-up, webhooks, memory, conversion. The bench prints its
//!    options with `--help`, exits 1 when a target is missed and 2 when the run is not valid.
//! 3. The soak for [`SOAK_SECONDS`] s (`cargo bench --bench soak`, as `cargo xtask soak` runs it),
//!    its output shown as it comes and its RSS figures kept: the mock's memory under mixed load.
//! 4. With `--with-build` (or `--only build`), the build rows: a clean `cargo build --workspace`
//!    into a fresh temporary target dir, and the client's tests after touching openapi.yaml.
//! 5. BENCHMARKS.md: the sections measured replace the last run's; `target/ci/timings.json`
//!    (written by `cargo xtask ci`) gives the `ci` section. See [`crate::benchmarks`].

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::benchmarks::{self, Section};
use crate::tools::{self, Tools};
use crate::{Error, Result, mock, process, project, soak};

/// Where the bench finds the mock's binary (its child-process measurements run it).
const BIN_ENV: &str = "MUSICGPT_BENCH_MOCK_BIN";
/// The soak's length in a bench run: the 60 s of mixed load.
const SOAK_SECONDS: u64 = 60;
/// The client's tests after a spec edit must take at most this long.
const SPEC_EDIT_TARGET: Duration = Duration::from_secs(60);

/// `cargo xtask bench`'s command line: xtask's options, then the cover bench's.
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct Options {
    /// Neither install nor measure WireMock and Mockoon (installed otherwise, into
    /// .tools/bench-npm, as `cargo xtask tools --bench` does); passed on to the cover bench
    #[arg(long)]
    no_peers: bool,
    /// `build`: only the build rows (clean workspace build, spec edit -> client tests); `soak`:
    /// only the soak's memory row; any other PART goes to the cover bench
    /// (rss|client|throughput|startup|webhooks|pitch), which then runs that part alone, without
    /// the soak
    #[arg(long, value_name = "PART")]
    only: Option<String>,
    /// The build rows too (not by default: a clean build takes 2 to 3 minutes on 2 cores)
    #[arg(long)]
    with_build: bool,
    /// The soak's length, in seconds
    #[arg(long, value_name = "N", default_value_t = SOAK_SECONDS, value_parser = crate::seconds)]
    soak_seconds: u64,
    /// Leave BENCHMARKS.md as it is
    #[arg(long)]
    no_write: bool,
    /// The cover bench's smoke run only (no peers, no soak, nothing written; the build rows only
    /// with --with-build)
    #[arg(long)]
    smoke: bool,
    /// This help, then the cover bench's own options
    #[arg(short, long)]
    help: bool,
    /// The cover bench's options: everything from the first option xtask does not know on
    /// (`cargo xtask bench --only throughput --rounds 1`; `cargo xtask bench -- --rounds 3` too)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "BENCH OPTIONS"
    )]
    bench: Vec<String>,
}

/// What this run measures.
#[derive(Debug, PartialEq)]
struct Plan {
    cover: bool,
    soak: bool,
    build: bool,
    write: bool,
    soak_seconds: u64,
    /// Whether to install the bench's peers first (not for a smoke run nor with `--no-peers`).
    peers: bool,
    /// The options passed on to the cover bench.
    bench_args: Vec<String>,
}

fn plan(options: &Options) -> Plan {
    let (mut cover, mut soak, mut build) = (true, true, options.with_build);
    let mut bench_args = Vec::new();
    match options.only.as_deref() {
        Some("build") => (cover, soak, build) = (false, false, true),
        Some("soak") => (cover, soak, build) = (false, true, false),
        Some(part) => {
            soak = false;
            bench_args.extend(["--only".to_owned(), part.to_owned()]);
        }
        None => {}
    }
    if options.smoke {
        soak = false;
        bench_args.push("--smoke".to_owned());
    }
    if options.no_peers {
        bench_args.push("--no-peers".to_owned());
    }
    bench_args.extend(options.bench.iter().cloned());
    Plan {
        cover,
        soak,
        build,
        write: !options.no_write && !options.smoke,
        soak_seconds: options.soak_seconds,
        peers: !options.no_peers && !options.smoke,
        bench_args,
    }
}

pub(crate) fn run(options: &Options) -> Result {
    if options.help {
        print!("{}", crate::help_of("bench"));
        println!("\nThe cover bench's options:");
        let mut help = cover_command(&["--help".to_owned()]);
        return process::run(&mut help);
    }
    let plan = plan(options);
    let command = std::iter::once("cargo xtask bench".to_owned())
        .chain(std::env::args().skip(2))
        .collect::<Vec<_>>()
        .join(" ");
    let started = Instant::now();
    let started_utc = benchmarks::now_utc();
    let mut fresh: Vec<Section> = Vec::new();
    let mut missed = Vec::new();
    let binary = if plan.cover || plan.soak {
        Some(mock::build("bench", true, None)?)
    } else {
        None
    };
    if plan.cover && plan.peers {
        // The bench runs without them (and says so), so a failed install is reported, not fatal.
        if let Err(e) = Tools::new().install_bench() {
            println!(
                "bench: the peers WireMock and Mockoon could not be installed ({e}); the bench leaves them out"
            );
        }
    }
    if plan.cover
        && let Some(binary) = &binary
    {
        let markdown = project::root()
            .join("target")
            .join("bench")
            .join("cover.md");
        let _ = std::fs::remove_file(&markdown);
        let mut args = plan.bench_args.clone();
        args.push("--markdown".to_owned());
        args.push(markdown.display().to_string());
        let mut bench = cover_command(&args);
        bench.env(BIN_ENV, binary);
        println!(
            "bench: {BIN_ENV}={} {}",
            binary.display(),
            process::display(&bench)
        );
        let status = process::status(&mut bench)?;
        match status.code() {
            Some(0) => {}
            Some(1) => missed.push("a target of the cover bench (FAIL above)".to_owned()),
            _ => {
                return Err(Error::new(format!(
                    "bench: `{}` failed ({status}): the run is not valid (error above); nothing written",
                    process::display(&bench)
                )));
            }
        }
        if let Ok(text) = std::fs::read_to_string(&markdown) {
            fresh.extend(benchmarks::sections(&text));
        }
    }
    if plan.soak
        && let Some(binary) = &binary
    {
        let (section, passed) = soak(binary, plan.soak_seconds)?;
        if !passed {
            missed.push("a check of the soak (FAIL above)".to_owned());
        }
        fresh.push(section);
    }
    if plan.build {
        let (section, met) = build_rows()?;
        if !met {
            missed.push("a build target".to_owned());
        }
        fresh.push(section);
    }
    if plan.write {
        benchmarks::write(&fresh, &command, &started_utc)?;
    }
    println!("bench: {:.0} s in all", started.elapsed().as_secs_f64());
    if missed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!("bench: missed: {}", missed.join("; "))))
    }
}

/// `cargo bench -p musicgpt-cover-mock --bench cover -- ARGS`.
fn cover_command(args: &[String]) -> Command {
    let mut bench = process::cargo();
    // Where `cargo xtask tools` (and `--bench`) installed Prism, WireMock and Mockoon.
    bench
        .env(tools::DIR_ENV, Tools::new().dir())
        .args([
            "bench",
            "--package",
            "musicgpt-cover-mock",
            "--bench",
            "cover",
            "--",
        ])
        .args(args);
    bench
}

/// The soak as `cargo xtask soak --seconds N` runs it, its output shown as it comes; its memory
/// section and whether every check passed.
fn soak(binary: &std::path::Path, seconds: u64) -> Result<(Section, bool)> {
    let args = ["--seconds".to_owned(), seconds.to_string()];
    let mut soak = soak::command(binary, soak::Profile::Release, &args);
    soak.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    println!(
        "bench: {}={} {}",
        soak::BIN_ENV,
        binary.display(),
        process::display(&soak)
    );
    let mut child = soak
        .spawn()
        .map_err(|error| process::spawn_error(&soak, &error))?;
    let mut lines = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            lines.push(line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::new(format!("the soak: {e}")))?;
    let text = lines.join("\n");
    let memory = soak_memory(&text);
    if memory.is_none() && !status.success() {
        return Err(Error::new(format!(
            "bench: the soak failed ({status}) before measuring memory; nothing written"
        )));
    }
    let passed = status.success();
    Ok((
        soak_section(
            seconds,
            memory.as_ref(),
            soak_verdict(&text).as_deref(),
            passed,
        ),
        passed,
    ))
}

/// The soak's RSS block: (start, after warm-up, end, max, the flatness rule) as it printed them.
#[derive(Debug, PartialEq)]
struct SoakMemory {
    start: String,
    warmed: String,
    end: String,
    max: String,
    flat: String,
}

fn soak_memory(output: &str) -> Option<SoakMemory> {
    let block = output.split("\nmock RSS").nth(1)?;
    let field = |name: &str| {
        block
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    Some(SoakMemory {
        start: field("start")?,
        warmed: field("after warm-up")?,
        end: field("end")?,
        max: field("max")?,
        flat: field("flat:")?,
    })
}

/// The soak's closing line, `soak: PASS: ...` or `soak: FAIL: ...`.
fn soak_verdict(output: &str) -> Option<String> {
    output
        .lines()
        .rev()
        .find(|l| l.starts_with("soak: PASS") || l.starts_with("soak: FAIL"))
        .map(str::to_owned)
}

fn soak_section(
    seconds: u64,
    memory: Option<&SoakMemory>,
    verdict: Option<&str>,
    passed: bool,
) -> Section {
    let mut body = format!(
        "## The mock's memory under {seconds} s of mixed load (issue 12, item 5)\n\n\
         The soak (`cargo bench -p musicgpt-cover-mock --bench soak -- --seconds {seconds}`, as \
         `cargo xtask soak` runs it; see docs/testing.md): the release binary under 64 connections \
         of mixed requests, its `VmRSS` sampled every second.\n\n"
    );
    match memory {
        Some(m) => body.push_str(&format!(
            "| mock RSS | value |\n|---|---|\n| start | {} |\n| after warm-up | {} |\n| **end** | **{}** |\n| max | {} |\n\n\
             Flat: {}.\n\n",
            m.start, m.warmed, m.end, m.max, m.flat
        )),
        None => body.push_str("The soak printed no RSS figures.\n\n"),
    }
    body.push_str(&format!(
        "| target | verdict | measured |\n|---|---|---|\n| RSS flat after warm-up, every check of the soak | {} | `{}` |\n",
        if passed { "met" } else { "**missed**" },
        verdict.unwrap_or("no closing line").replace('|', "\\|")
    ));
    Section {
        name: "soak".to_owned(),
        body,
    }
}

/// The build rows: a clean `cargo build --workspace` into a fresh temporary target dir, and
/// `cargo test -p musicgpt-cover` after touching openapi.yaml; whether the target was met.
fn build_rows() -> Result<(Section, bool)> {
    let dir =
        std::env::temp_dir().join(format!("musicgpt-bench-clean-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut clean = process::cargo();
    clean
        .args(["build", "--workspace"])
        .env("CARGO_TARGET_DIR", &dir);
    println!(
        "bench: CARGO_TARGET_DIR={} {}",
        dir.display(),
        process::display(&clean)
    );
    let started = Instant::now();
    let outcome = process::run(&mut clean);
    let clean_time = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    outcome?;

    // The client's tests built once, so the timed run is what a spec edit costs.
    let mut warm = process::cargo();
    warm.args(["test", "--package", "musicgpt-cover", "--no-run"]);
    println!("bench: {}", process::display(&warm));
    process::run(&mut warm)?;
    let spec = project::spec();
    std::fs::File::options()
        .append(true)
        .open(&spec)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .map_err(project::failed("touch", &spec))?;
    let mut test = process::cargo();
    test.args(["test", "--package", "musicgpt-cover"]);
    println!("bench: touch openapi.yaml; {}", process::display(&test));
    let started = Instant::now();
    process::run(&mut test)?;
    let edit_time = started.elapsed();
    let met = edit_time <= SPEC_EDIT_TARGET;
    let verdict = if met {
        "met".to_owned()
    } else {
        format!(
            "**missed**: {:.1} s over, {:.2} × the target",
            (edit_time - SPEC_EDIT_TARGET).as_secs_f64(),
            edit_time.as_secs_f64() / SPEC_EDIT_TARGET.as_secs_f64()
        )
    };
    let body = format!(
        "## Build (issue 12, item 6)\n\n\
         | build | command | time |\n|---|---|---|\n\
         | clean workspace build (dev profile) | `CARGO_TARGET_DIR=<fresh temporary dir> cargo build --workspace` | **{:.1} s** ({:.1} min) |\n\
         | a spec edit reaching the client's tests | `touch openapi.yaml && cargo test -p musicgpt-cover` (its tests built before) | **{:.1} s** |\n\n\
         | target | verdict | measured |\n|---|---|---|\n\
         | spec edit → client's tests | {verdict} | {:.1} s (target <= {} s) |\n",
        clean_time.as_secs_f64(),
        clean_time.as_secs_f64() / 60.0,
        edit_time.as_secs_f64(),
        edit_time.as_secs_f64(),
        SPEC_EDIT_TARGET.as_secs()
    );
    Ok((
        Section {
            name: "build".to_owned(),
            body,
        },
        met,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    fn plan_of(args: &[&str]) -> Plan {
        plan(&crate::parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}")))
    }

    #[test]
    fn the_plan_follows_the_options() {
        let all = plan_of(&[]);
        assert!(all.cover && all.soak && !all.build && all.write);
        assert_eq!(all.soak_seconds, SOAK_SECONDS);

        let build = plan_of(&["--only", "build"]);
        assert!(!build.cover && !build.soak && build.build);

        let part = plan_of(&["--only=startup", "--rounds", "5"]);
        assert!(part.cover && !part.soak && !part.build);
        assert_eq!(
            part.bench_args,
            strings(&["--only", "startup", "--rounds", "5"])
        );
        let passed = plan_of(&["--", "--rounds", "3", "--seconds", "1"]);
        assert_eq!(
            passed.bench_args,
            strings(&["--rounds", "3", "--seconds", "1"])
        );

        assert!(all.peers);
        let smoke = plan_of(&["--smoke", "--with-build"]);
        assert!(smoke.cover && !smoke.soak && smoke.build && !smoke.write && !smoke.peers);
        let bare = plan_of(&["--no-peers"]);
        assert!(bare.cover && !bare.peers);
        assert_eq!(bare.bench_args, strings(&["--no-peers"]));

        let with = plan_of(&["--with-build", "--soak-seconds", "10", "--no-write"]);
        assert!(with.build && with.soak && !with.write);
        assert_eq!(with.soak_seconds, 10);
        for bad in [&["--soak-seconds", "0"][..], &["--only"]] {
            assert!(crate::parse::<Options>(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_soaks_memory_figures_and_verdict_are_read_from_its_output() {
        let output = "\
answers by status: 200 x1,000

mock RSS (VmRSS from /proc/PID/status), every second
  start             10.2 MiB (t=0 s)
  after warm-up     30.5 MiB (t=20 s)
  end               31.0 MiB (t=60 s)
  max               31.4 MiB (t=41 s)
  after the drain   29.0 MiB
  flat: the max of the last third (t >= 40 s), 31.4 MiB, must be at most after-warm-up x 1.10 + 8 MiB = 41.5 MiB

uploads on disk (bytes under the mock's TMPDIR), every second
  start             0.0 MiB (t=0 s)

checks
  PASS  rss flat: fine

soak: PASS: 12 checks";
        let memory = soak_memory(output).expect("found");
        assert_eq!(memory.start, "10.2 MiB (t=0 s)");
        assert_eq!(memory.end, "31.0 MiB (t=60 s)");
        assert_eq!(memory.max, "31.4 MiB (t=41 s)");
        assert!(memory.flat.starts_with("the max of the last third"));
        assert_eq!(
            soak_verdict(output).as_deref(),
            Some("soak: PASS: 12 checks")
        );
        let section = soak_section(60, Some(&memory), soak_verdict(output).as_deref(), true);
        assert!(
            section.body.contains("| **end** | **31.0 MiB (t=60 s)** |"),
            "{}",
            section.body
        );
        assert!(soak_memory("no figures").is_none());
    }
}
