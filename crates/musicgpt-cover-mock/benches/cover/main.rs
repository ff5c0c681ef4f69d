//! The mock's benchmarks, run by `cargo xtask bench` (a `harness = false` target: `cargo bench -p
//! musicgpt-cover-mock --bench cover` runs it; `cargo test` only when asked for `--smoke`).
//!
//! - **rss**: the mock's release binary as a child process, sent a 1 GiB `audio_file` streamed
//!   from a generator; target: its peak RSS (`VmHWM`) at most [`rss::RSS_TARGET_BYTES`] over its
//!   RSS before. Then an upload over `--max-upload-bytes` must get 413, again without the RSS
//!   growing.
//! - **client**: the client (`musicgpt_cover::AudioFile::from_path`) uploading a 1 GiB file from
//!   disk to the mock's binary, in a child process of its own (this program run again with
//!   [`client::CHILD_ARG`]); target: its peak RSS under [`client::CLIENT_TARGET_BYTES`].
//! - **throughput**: seven rows (Cover with a URL, a 2 KiB and a 1 MiB file of random bytes, a
//!   short MP3 song and a 1 MiB one; GET byId; GET getAllVoices), the mock in-process beside a bare
//!   axum server (the same parsing, a fixed answer) and the peers users would pick instead
//!   (Prism, WireMock, Mockoon; those not installed are left out, saying so), at 32 connections;
//!   targets: mock/bare at least [`throughput::BARE_TARGET`] (and the random-bytes rows' own
//!   floors, [`scenario::Scenario::bare_floor`]), mock/Prism at least
//!   [`throughput::PRISM_TARGET`], mock/WireMock [`throughput::WIREMOCK_TARGET`], mock/Mockoon
//!   [`throughput::MOCKOON_TARGET`] (a peer not measured makes its targets "not measured"), the
//!   small requests' p99 at most [`throughput::P99_TARGET_MS`] ms. The song rows hold the mock's
//!   background conversions back while they run: they measure the request path, as the others.
//! - **startup**: the release binary from exec to its first answered request, `MockServer::start()`
//!   in a fresh process (this program run again), medians of 20, and the peers' beside them.
//! - **webhooks**: 10,000 tasks due at the same moment, each with a webhook to one local
//!   receiver: every one delivered, the last within [`webhooks::LAST_TARGET`] of the due time.
//! - **pitch**: an uploaded song's conversion, in-process: a 3-minute stereo MP3, its first minute
//!   decoded and pitch-shifted (median of 3 runs); target: under the shortest time a task takes
//!   at the default time scale (an eta of 20 s × 0.05 = 1 s).
//!
//! The load generator shares the machine's cores with the servers: they run on a Tokio runtime of
//! their own (one worker thread by default) and it on another (one worker), so neither starves
//! the other and work stealing cannot mix them. Every measurement also reports, from /proc, the
//! servers' CPU use and other processes' (a busy machine shows). docs/benchmarks.md has the whole
//! method; `cargo xtask bench` writes the results into BENCHMARKS.md (from `--markdown`).
//!
//! `--smoke` runs every part for about a second with small sizes and one round, judging nothing:
//! `cargo xtask ci`'s test step runs it (`cargo test --workspace --bench cover -- --smoke`, in the
//! test profile), so the harness cannot rot.
//!
//! Exit status: 0 when every target is met (always in a smoke run), 1 when one is missed, 2 when
//! the run is not valid (a request failed, a server could not start, bad options).
//!
//! Layout: one module per measurement, `rss`, `client`, `throughput`, `startup`, `webhooks` and
//! `pitch`, whose `measure` prints its table and returns a [`Part`]: its targets' [`Verdict`]s
//! (`verdict` lists them last) and its Markdown section; adding a measurement is adding such a
//! module and its row in [`PARTS`] (the name `--only` picks it by; the usage text and the `--only`
//! error list the names from there), and placing its section's name (its `Part::new`'s, which
//! may differ: `rss` writes `mock-upload`) in xtask's `benchmarks::ORDER`. The rest is what
//! measurements share: `options`, `scenario` and `request` (the requests sent), `load` (the load
//! generator), `bare` (the bare server), `peers` (Prism, WireMock and Mockoon, found, set up and
//! started), `child` (the tools folder, child servers), `songs` (the MP3s of the upload rows and
//! the pitch part), `upload` (the big uploads), `procfs` (CPU use from /proc) and `setup`
//! (runtimes, the HTTP client); and `common`, shared with the soak (the HTTP/1.1 client, the
//! mock's binary as a child, the options' grammar).

mod bare;
mod child;
mod client;
#[path = "../common/mod.rs"]
mod common;
mod load;
mod options;
mod peers;
mod pitch;
mod procfs;
mod request;
mod rss;
mod scenario;
mod setup;
mod songs;
mod startup;
mod throughput;
mod upload;
mod verdict;
mod webhooks;

use std::process::ExitCode;

use crate::common::options::parsed;
use crate::options::{Options, usage};
use crate::verdict::Verdict;

/// Where `cargo xtask bench` says the mock's release binary is.
const MOCK_BIN_ENV: &str = "MUSICGPT_BENCH_MOCK_BIN";

/// What a measurement returns: its targets' outcomes and its part of the results, as Markdown:
/// `cargo xtask bench` puts it in BENCHMARKS.md between `<!-- section NAME -->` and
/// `<!-- /section NAME -->`, replacing the last run's.
pub(crate) struct Part {
    verdicts: Vec<Verdict>,
    name: &'static str,
    title: &'static str,
    markdown: String,
}

impl Part {
    /// The part of `verdicts`, its section `markdown` followed by their table.
    fn new(
        name: &'static str,
        title: &'static str,
        mut markdown: String,
        verdicts: Vec<Verdict>,
    ) -> Measured {
        markdown.push_str(&verdict::markdown(&verdicts));
        Ok(Part {
            verdicts,
            name,
            title,
            markdown,
        })
    }
}

/// What a measurement returns, or why the run is not valid.
type Measured = Result<Part, String>;

/// A measurement, given the options and the machine's cores.
type Measure = fn(&Options, usize) -> Measured;

/// Every measurement, in the order they run, by the name `--only` picks it by.
pub(crate) const PARTS: [(&str, Measure); 6] = [
    ("rss", |o, _| rss::measure(o)),
    ("client", |o, _| client::measure(o)),
    ("throughput", throughput::measure),
    ("startup", |o, _| startup::measure(o)),
    ("webhooks", |o, _| webhooks::measure(o)),
    ("pitch", pitch::measure),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // This program run again as a child, to measure in a process of its own.
    if let Some(code) = client::child(&args).or_else(|| startup::child(&args)) {
        return code;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` (or `--all-targets`) runs this
    // program without it, in the test profile: there, measure nothing unless asked to smoke.
    if !args.iter().any(|a| a == "--bench" || a == "--smoke") {
        println!(
            "cover bench: not run by `cargo bench` (no --bench argument) nor with --smoke, so \
             nothing is measured; run `cargo xtask bench`"
        );
        return ExitCode::SUCCESS;
    }
    let options = match parsed(Options::parse(args.into_iter()), &usage()) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let note = options
        .smoke
        .then_some(" (smoke run: short, small, nothing judged)");
    println!(
        "musicgpt-cover-mock benchmarks{}: {cores} CPU core(s); servers, load generator and uploader share them",
        note.unwrap_or_default()
    );
    procfs::report_others_before(cores);
    let mut parts = Vec::new();
    for (name, measure) in PARTS {
        if options.only.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        match measure(&options, cores) {
            Ok(part) => parts.push(part),
            Err(e) => return invalid(&e),
        }
    }
    if let Some(path) = &options.markdown {
        if options.smoke {
            println!("\n(smoke run: {} not written)", path.display());
        } else if let Err(e) = write_sections(path, &parts) {
            return invalid(&e);
        } else {
            println!("\nthe results' Markdown is in {}", path.display());
        }
    }
    let verdicts: Vec<Verdict> = parts.into_iter().flat_map(|p| p.verdicts).collect();
    verdict::report(&verdicts, options.smoke)
}

/// Every section, between its markers, into `path`.
fn write_sections(path: &std::path::Path, sections: &[Part]) -> Result<(), String> {
    let mut out = String::new();
    for s in sections {
        out.push_str(&format!(
            "<!-- section {} -->\n## {}\n\n{}\n<!-- /section {} -->\n",
            s.name,
            s.title,
            s.markdown.trim_end(),
            s.name
        ));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

fn invalid(why: &str) -> ExitCode {
    eprintln!("\nerror: the run is not valid: {why}");
    ExitCode::from(2)
}
