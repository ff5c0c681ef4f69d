//! The mock's soak, run by `cargo xtask soak [--seconds N]` (a `harness = false` target: `cargo
//! test` never runs it; `cargo bench -p musicgpt-cover-mock --bench soak` does).
//!
//! The mock's release binary runs as a child process on 127.0.0.1 with a real clock and a small
//! `--time-scale`, so its tasks finish, and send their webhooks, all through the run. 64
//! keep-alive connections send a paced mix for N seconds: valid Covers (by URL, url-encoded, and
//! small uploads: WAV it decodes and bytes it cannot; most with a webhook to a receiver in this
//! process, some to a host the mock must refuse, a few asked to fail), byId polls of tasks it
//! accepted, voice searches and lists, and bad requests (422, 401, 404, 400). Every answer is
//! checked against what its request should get. Then, within a bound, every task must be final
//! and every webhook settled, and the counts must add up: the mock's webhook totals, the Covers it
//! accepted, what the receiver got.
//!
//! It checks: no unexpected answer, no 5xx, no socket error, the mock still running and no panic
//! in its log, its RSS and the uploads it keeps on disk flat after warm-up (`rss`), every
//! accepted task final and no more upload files than tasks kept, no webhook pending, due =
//! delivered + refused + dropped + failed, due = the accepted Covers with a webhook_url that
//! complete, refused = those to other hosts, the receiver got each delivered webhook exactly once
//! and none went missing; and last, that SIGTERM stops it within its grace, leaving its TMPDIR
//! empty. The output ends with one line, `soak: PASS: ...` or `soak: FAIL: ...` naming the checks
//! that failed.
//!
//! Exit status: 0 when every check passed, 1 when one failed, 2 when the run is not valid (bad
//! options, no binary, the mock or receiver could not start).
//!
//! Layout: `options`, `mock` (the child's log and TMPDIR), `receiver` (the webhook receiver),
//! `mix` (the kinds of request and their bytes), `check` (is this answer right), `ledger` (the
//! accepted tasks), `load` (the connections), `rss` (sampling memory and disk, flatness), `drain`
//! (waiting for final states), `verdict` (the checks) and `report` (the tables); and `common`,
//! shared with the cover bench (the HTTP/1.1 client, the mock's binary as a child, the options'
//! grammar).

mod check;
#[path = "../common/mod.rs"]
mod common;
mod drain;
mod ledger;
mod load;
mod mix;
mod mock;
mod options;
mod receiver;
mod report;
mod rss;
mod verdict;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use crate::common::Temp;
use crate::common::mib;
use crate::common::options::parsed;
use crate::ledger::Ledger;
use crate::mock::Mock;
use crate::options::{Options, usage};
use crate::receiver::Receiver;
use crate::verdict::{Accepted, Audit, Evidence};

/// How long the mock may take to exit after SIGTERM: its --shutdown-grace (10 s), and a margin.
const STOP_WITHIN: Duration = Duration::from_secs(15);
/// Where `cargo xtask soak` says the mock's release binary is.
const MOCK_BIN_ENV: &str = "MUSICGPT_SOAK_MOCK_BIN";

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --benches` (or `--all-targets`) runs this
    // program without it, in the test profile: there, soak nothing.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "soak: not run by `cargo bench` (no --bench argument), so nothing is soaked; run \
             `cargo xtask soak`"
        );
        return ExitCode::SUCCESS;
    }
    let options = match parsed(Options::parse(std::env::args().skip(1)), &usage()) {
        Ok(options) => options,
        Err(code) => return code,
    };
    match soak(&options) {
        Ok(code) => code,
        Err(e) => {
            println!("\nsoak: NOT VALID: {e}");
            ExitCode::from(2)
        }
    }
}

fn soak(o: &Options) -> Result<ExitCode, String> {
    let spec = Arc::new(mix::Spec::read()?);
    let binary = common::mock::binary()?;
    let receiver = Receiver::start()?;
    let (scale, capacity) = (o.time_scale.to_string(), o.task_capacity.to_string());
    let mock_args = [
        "--clock",
        "real",
        "--time-scale",
        &scale,
        "--task-capacity",
        &capacity,
    ];
    // The mock's TMPDIR, made for the run and removed at its end (what the mock leaves in it too).
    let tmp = Temp::dir(&format!("musicgpt-soak-{}", std::process::id()))?;
    let mut mock = Mock::start(&binary, &mock_args, &tmp.0)?;
    let (connections, seconds, seed) = (o.connections, o.seconds, o.seed);
    let (shortest, longest) = o.task_seconds();
    println!(
        "soak: {connections} connections for {seconds} s at {} requests a second; mix seed {seed} (--seed {seed} repeats it)\n  \
         mock      TMPDIR={} {} --addr 127.0.0.1:0 {} (pid {}, http://{})\n  \
         receiver  {} (in this process)\n  \
         tasks take {shortest:.2} to {longest:.2} s; the store keeps {} tasks",
        thousands(u64::from(o.rate)),
        tmp.0.display(),
        binary.display(),
        mock_args.join(" "),
        mock.pid(),
        mock.running.addr,
        receiver.url,
        thousands(o.task_capacity as u64),
    );
    // The load's own runtime, one thread: the paced load needs little, and the mock (two
    // threads of its own) should have the machine's cores.
    let runtime = common::runtime("soak-load", 1)?;

    let ledger = Arc::new(Ledger::default());
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let sampler = rss::sample(
        mock.pid(),
        tmp.0.clone(),
        start,
        o.seconds,
        Arc::clone(&sent),
    );
    let mut tally = runtime.block_on(load::run(
        o,
        mock.running.addr,
        &receiver.url,
        spec,
        Arc::clone(&ledger),
        sent,
        start,
    ));
    let samples = sampler
        .join()
        .unwrap_or_else(|_| Err("the sampler panicked".to_owned()));
    let load_ended = Instant::now();

    // The drain's bound counts from the end of the load: the longest task, then webhook
    // retries, fit well inside it.
    let drained = match mock.exited() {
        None => runtime.block_on(drain::drain(
            mock.running.addr,
            load_ended + Duration::from_secs_f64(o.drain),
        )),
        Some(status) => Err(format!("the mock is not running ({status})")),
    };
    let held = Held {
        rss: mock.running.memory().ok().map(|m| m.rss),
        files: rss::usage(&tmp.0).0,
    };
    let exited = mock.exited();
    // Last, stopped as a user stops it: within its --shutdown-grace (10 s) and a margin, and
    // leaving nothing in its TMPDIR.
    let stopped = match &exited {
        None => mock.stop(STOP_WITHIN),
        Some(status) => Err(format!("it had exited already ({status})")),
    };
    let left = crate::mock::entries(&tmp.0);
    let log = mock.log();

    let tasks = ledger.all();
    let accepted = Accepted::count(&tasks);
    let audit = Audit::of(&tasks, &receiver.received());
    let thirds = |measure: fn(&rss::Sample) -> u64| {
        samples.clone().and_then(|s| {
            rss::judge(&s, o.seconds, measure)
                .ok_or_else(|| "too few samples to have thirds".to_owned())
        })
    };
    let memory = thirds(|s| s.rss);
    let disk = thirds(|s| s.disk);

    report::requests(&mut tally, o.rate);
    report::held(&memory, &disk, &held);
    report::tasks(&accepted, &drained, &audit);
    report::stop(&stopped, &left);
    report::log(&log);
    let verdicts = verdict::verdicts(&Evidence {
        tally: &tally,
        memory: &memory,
        disk: &disk,
        held: &held,
        exited: &exited,
        stopped: &stopped,
        left: &left,
        log: &log,
        accepted: &accepted,
        drained: &drained,
        audit: &audit,
    });
    let total = tally.total();
    let rss = match &memory {
        Ok(f) => format!(
            "RSS {:.1} -> {:.1} MiB (max {:.1})",
            mib(f.start.value),
            mib(f.end.value),
            mib(f.max.value)
        ),
        Err(_) => "RSS not measured".to_owned(),
    };
    let webhooks = match &drained {
        Ok(d) => format!(
            "{} webhooks due = {} delivered + {} refused + {} failed + {} dropped",
            thousands(d.totals.due),
            thousands(d.totals.delivered),
            thousands(d.totals.refused),
            thousands(d.totals.failed),
            thousands(d.totals.dropped)
        ),
        Err(_) => "webhooks not counted".to_owned(),
    };
    let summary = format!(
        "{} requests in {seconds} s over {connections} connections, {} Covers accepted, {} unexpected, {} socket errors, {rss}, {webhooks}",
        thousands(total.sent),
        thousands(accepted.all),
        thousands(total.unexpected),
        thousands(total.socket_errors),
    );
    Ok(report::verdicts(&verdicts, &summary))
}

/// What the mock held once the drain was over.
pub(crate) struct Held {
    pub(crate) rss: Option<u64>,
    /// Files in its upload directory: each belongs to a task it still keeps.
    pub(crate) files: u64,
}

/// `1234567` as `1,234,567`, as the report prints numbers.
pub(crate) fn thousands(n: u64) -> String {
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
