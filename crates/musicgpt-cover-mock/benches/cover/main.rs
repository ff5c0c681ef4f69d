//! The mock's benchmarks, run by `cargo xtask bench` (a `harness = false` target: `cargo test`
//! never runs it; `cargo bench -p musicgpt-cover-mock --bench cover` does).
//!
//! - **throughput**: the mock in-process against a bare axum server that only streams the same
//!   multipart body through multer, loaded side by side in one process with the same request;
//!   target: the mock's requests/s at least [`throughput::THROUGHPUT_TARGET`] × the bare
//!   server's (the median of the per-round ratios).
//! - **rss**: the mock's release binary as a child process, sent a 1 GiB `audio_file` streamed
//!   from a generator; target: its peak RSS (`VmHWM`) at most [`rss::RSS_TARGET_BYTES`] over its
//!   RSS before. Then an upload over `--max-upload-bytes` must get 413, again without the RSS
//!   growing.
//! - **pitch**: an uploaded song's conversion, in-process: a 3-minute stereo MP3, its first minute
//!   decoded and pitch-shifted (median of 3 runs); target: under the shortest time a task takes
//!   at the default time scale (an eta of 20 s × 0.05 = 1 s).
//!
//! The load generator shares the machine's cores with the servers: they run on a Tokio runtime of
//! their own (one worker thread by default) and it on another (one worker), so neither starves
//! the other and work stealing cannot mix them. Every measurement also reports, from /proc, the
//! servers' CPU use and other processes' (a busy machine shows). The README's "Benchmarks" section
//! has the whole method and the results.
//!
//! Exit status: 0 when every target is met, 1 when one is missed, 2 when the run is not valid (a
//! request failed, a server could not start, bad options).
//!
//! Layout: one module per measurement, `throughput`, `rss` and `pitch`, whose `measure` prints its table
//! and returns its targets' [`Verdict`]s (`verdict` lists them last); adding a measurement is
//! adding such a module, an `Only` value for `--only`, and a row in `main`'s list. The rest is
//! what measurements share: `options`, `scenario` and `request` (the bodies sent), `load` (the
//! load generators), `bare` (the bare multipart server), `spawned` (the mock's binary as a
//! child), `upload` (the big uploads), `procfs` (CPU and memory from /proc), `http1`
//! (reading an answer by hand) and `setup` (runtimes, the HTTP client).

mod bare;
mod http1;
mod load;
mod options;
mod pitch;
mod procfs;
mod request;
mod rss;
mod scenario;
mod setup;
mod spawned;
mod throughput;
mod upload;
mod verdict;

use std::process::ExitCode;

use crate::options::{Only, Options, USAGE};
use crate::verdict::Verdict;

/// What a measurement returns: its targets' outcomes, or why the run is not valid.
type Measured = Result<Vec<Verdict>, String>;

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --benches` (or `--all-targets`) runs this
    // program without it, in the test profile: there, measure nothing.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "cover bench: not run by `cargo bench` (no --bench argument), so nothing is measured; \
             run `cargo xtask bench`"
        );
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "musicgpt-cover-mock benchmarks: {cores} CPU core(s); servers, load generator and uploader share them"
    );
    procfs::report_others_before(cores);
    // Every measurement, in the order they run; `--only` picks one.
    let measurements: [(Only, &dyn Fn() -> Measured); 3] = [
        (Only::Rss, &|| rss::measure(&options)),
        (Only::Throughput, &|| throughput::measure(&options, cores)),
        (Only::Pitch, &|| pitch::measure(cores)),
    ];
    let mut verdicts = Vec::new();
    for (which, measure) in measurements {
        if options.only.is_some_and(|only| only != which) {
            continue;
        }
        match measure() {
            Ok(v) => verdicts.extend(v),
            Err(e) => return invalid(&e),
        }
    }
    verdict::report(&verdicts)
}

fn invalid(why: &str) -> ExitCode {
    eprintln!("\nerror: the run is not valid: {why}");
    ExitCode::from(2)
}
