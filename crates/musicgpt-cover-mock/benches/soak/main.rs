//! The mock's soak, run by `cargo xtask soak [--seconds N]` (a `harness = false` target: `cargo
//! test` never runs it; `cargo bench -p musicgpt-cover-mock --bench soak` does).
//!
//! The mock's release binary runs as a child process on 127.0.0.1 with a real clock and a small
//! `--time-scale`, so its tasks finish, and send their webhooks, all through the run. 64
//! keep-alive connections send a paced mix for N seconds: valid Covers (URL, url-encoded and
//! small uploads; most with a webhook to a receiver in this process, some to a host the mock
//! must refuse, a few asked to fail), byId polls of tasks it accepted, voice searches and lists,
//! and bad requests (422, 401, 404, 400). Every answer is checked against what its request should
//! get. Then, within a bound, every task must be final and every webhook settled, and the counts
//! must add up: the mock's webhook totals, the Covers it accepted, what the receiver got.
//!
//! It checks: no unexpected answer, no 5xx, no socket error, the mock still running and no panic
//! in its log, its RSS flat after warm-up (`rss`), every accepted task final, no webhook pending,
//! due = delivered + refused + dropped + failed, due = the accepted Covers with a webhook_url that
//! complete, refused = those to other hosts, the receiver got each delivered webhook exactly once
//! and none went missing. The output ends with one line, `soak: PASS: ...` or `soak: FAIL: ...`
//! naming the checks that failed.
//!
//! Exit status: 0 when every check passed, 1 when one failed, 2 when the run is not valid (bad
//! options, no binary, the mock or receiver could not start).
//!
//! Layout: `options`, `mock` (the child, its RSS and log), `receiver` (the webhook receiver), `mix` (the
//! kinds of request and their bytes), `http1` (the client), `check` (is this answer right),
//! `ledger` (the accepted tasks), `load` (the connections), `rss` (sampling, flatness), `drain`
//! (waiting for final states), `verdict` (the checks) and `report` (the tables).

mod check;
mod drain;
mod http1;
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

use crate::ledger::Ledger;
use crate::mock::Mock;
use crate::options::{Options, USAGE};
use crate::receiver::Receiver;
use crate::report::{mib, thousands};
use crate::verdict::{Accepted, Audit, Evidence};

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
    match soak(&options) {
        Ok(code) => code,
        Err(e) => {
            println!("\nsoak: NOT VALID: {e}");
            ExitCode::from(2)
        }
    }
}

fn soak(o: &Options) -> Result<ExitCode, String> {
    let binary = mock::binary()?;
    let receiver = Receiver::start()?;
    let mock_args: Vec<String> = [
        "--clock",
        "real",
        "--time-scale",
        &o.time_scale.to_string(),
        "--task-capacity",
        &o.task_capacity.to_string(),
    ]
    .map(str::to_owned)
    .to_vec();
    let mut mock = Mock::start(&binary, &mock_args)?;
    println!(
        "soak: {} connections for {} s at {} requests a second; mix seed {} (--seed {} repeats it)\n  \
         mock      {} --addr 127.0.0.1:0 {} (pid {}, http://{})\n  \
         receiver  {} (in this process)\n  \
         tasks take {:.2} to {:.2} s; the store keeps {} tasks",
        o.connections,
        o.seconds,
        thousands(u64::from(o.rate)),
        o.seed,
        o.seed,
        binary.display(),
        mock_args.join(" "),
        mock.pid(),
        mock.addr,
        receiver.url,
        20.0 * o.time_scale,
        o.longest_task_seconds(),
        thousands(o.task_capacity as u64),
    );
    // The load's own runtime, one thread: the paced load needs little, and the mock (two
    // threads of its own) should have the machine's cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("soak-load")
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the load's runtime: {e}"))?;

    let ledger = Arc::new(Ledger::default());
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let sampler = rss::sample(mock.pid(), start, o.seconds, Arc::clone(&sent));
    let mut tally = runtime.block_on(load::run(
        o,
        mock.addr,
        &receiver.url,
        Arc::clone(&ledger),
        sent,
        start,
    ));
    let samples = sampler
        .join()
        .unwrap_or_else(|_| Err("the RSS sampler panicked".to_owned()));
    let load_ended = Instant::now();

    // The drain's bound counts from the end of the load: the longest task, then webhook
    // retries, fit well inside it.
    let drained = match mock.exited() {
        None => runtime.block_on(drain::drain(
            mock.addr,
            load_ended + Duration::from_secs_f64(o.drain),
        )),
        Some(status) => Err(format!("the mock is not running ({status})")),
    };
    let after_drain = mock::rss(mock.pid()).ok();
    let exited = mock.exited();
    let log = mock.log();

    let tasks = ledger.all();
    let accepted = Accepted::count(&tasks);
    let audit = Audit::of(&tasks, &receiver.received());
    let flatness = samples.and_then(|s| {
        rss::judge(&s, o.seconds).ok_or_else(|| "too few samples to have thirds".to_owned())
    });

    report::requests(&mut tally, o.rate);
    report::rss(flatness.as_ref().map_err(String::as_str), after_drain);
    report::tasks(&accepted, drained.as_ref().map_err(String::as_str), &audit);
    report::log(&log);
    let verdicts = verdict::verdicts(&Evidence {
        tally: &tally,
        rss: flatness.as_ref().map_err(String::as_str),
        exited: exited.as_deref(),
        log: &log,
        accepted: &accepted,
        drained: drained.as_ref().map_err(String::as_str),
        audit: &audit,
    });
    let total = tally.total();
    let rss = match &flatness {
        Ok(f) => format!(
            "RSS {:.1} -> {:.1} MiB (max {:.1})",
            mib(f.start.rss),
            mib(f.end.rss),
            mib(f.max.rss)
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
        "{} requests in {} s over {} connections, {} Covers accepted, {} unexpected, {} socket errors, {rss}, {webhooks}",
        thousands(total.sent),
        o.seconds,
        o.connections,
        thousands(accepted.all),
        thousands(total.unexpected),
        thousands(total.socket_errors),
    );
    Ok(report::verdicts(&verdicts, &summary))
}
