//! What the soak prints after the load: the requests by kind, the mock's memory, the tasks and
//! webhooks, every check, and one closing line that says PASS or FAIL and why.

use std::process::ExitCode;

use musicgpt_cover_mock::ADMIN_PATH;

use crate::Held;
use crate::common::{mib, quantile_ms};
use crate::drain::Drained;
use crate::load::Tally;
use crate::mix::KINDS;
use crate::mock::Log;
use crate::rss::{Flatness, GROWTH_BYTES, GROWTH_SHARE, Point};
use crate::thousands;
use crate::verdict::{Accepted, Audit, Verdict};

/// The `q` quantile of `micros`, in milliseconds to a tenth.
fn quantile(micros: &mut [u32], q: f64) -> String {
    quantile_ms(micros, q).map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1}"))
}

pub(crate) fn requests(tally: &mut Tally, rate: u32) {
    println!(
        "\nrequests by kind                       sent      2xx      4xx   5xx  unexpected  socket  p50 ms  p99 ms  max ms"
    );
    let row = |label: &str, k: &mut crate::load::KindTally| {
        let in_range =
            |from: u16, to: u16| -> u64 { k.statuses.range(from..to).map(|(_, n)| n).sum() };
        let (ok, client, server) = (in_range(200, 300), in_range(400, 500), in_range(500, 600));
        let [sent, ok, client, server, unexpected, socket] =
            [k.sent, ok, client, server, k.unexpected, k.socket_errors].map(thousands);
        let [p50, p99, max] = [0.5, 0.99, 1.0].map(|q| quantile(&mut k.latencies, q));
        println!(
            "  {label:<33} {sent:>9} {ok:>8} {client:>8} {server:>5} {unexpected:>11} {socket:>7} {p50:>7} {p99:>7} {max:>7}"
        );
    };
    let mut total = tally.total();
    for ((_, label, _), k) in KINDS.iter().zip(tally.kinds.iter_mut()) {
        row(label, k);
    }
    row("total", &mut total);
    let statuses: Vec<String> = total
        .statuses
        .iter()
        .map(|(status, n)| format!("{status} x{}", thousands(*n)))
        .collect();
    println!("answers by status: {}", statuses.join(", "));
    let seconds = tally.elapsed.as_secs_f64();
    println!(
        "{} requests in {seconds:.1} s: {:.0} a second (asked {}); {} connections opened for {}, {} answers said Connection: close",
        thousands(total.sent),
        total.sent as f64 / seconds,
        thousands(u64::from(rate)),
        tally.connections_opened,
        tally.connections,
        tally.closed_by_server
    );
    for (what, examples) in [
        ("unexpected answers", &tally.unexpected_examples),
        ("socket errors", &tally.socket_examples),
    ] {
        if !examples.is_empty() {
            println!("first {what}:");
            for e in examples {
                println!("  {e}");
            }
        }
    }
}

pub(crate) fn held(
    memory: &Result<Flatness, String>,
    disk: &Result<Flatness, String>,
    held: &Held,
) {
    let after_drain = [
        held.rss.map(|rss| format!("{:.1} MiB", mib(rss))),
        Some(format!("{} files", thousands(held.files))),
    ];
    for ((what, flatness), after) in [
        ("mock RSS (VmRSS from /proc/PID/status)", memory),
        ("uploads on disk (bytes under the mock's TMPDIR)", disk),
    ]
    .into_iter()
    .zip(after_drain)
    {
        println!("\n{what}, every second");
        let f = match flatness {
            Ok(f) => f,
            Err(why) => {
                println!("  not measured: {why}");
                continue;
            }
        };
        let at = |p: Point| format!("{:.1} MiB (t={} s)", mib(p.value), p.second);
        println!("  start             {}", at(f.start));
        println!("  after warm-up     {}", at(f.warmed));
        println!("  end               {}", at(f.end));
        println!("  max               {}", at(f.max));
        if let Some(after) = after {
            println!("  after the drain   {after}");
        }
        println!(
            "  flat: the max of the last third (t >= {} s), {:.1} MiB, must be at most after-warm-up x {:.2} + {} MiB = {:.1} MiB",
            f.last_third_from,
            mib(f.last_third_max.value),
            1.0 + GROWTH_SHARE,
            GROWTH_BYTES >> 20,
            mib(f.limit)
        );
    }
}

pub(crate) fn stop(stopped: &Result<String, String>, left: &[String]) {
    match stopped {
        Ok(status) => println!("\nstopped with SIGTERM: exited ({status})"),
        Err(why) => println!("\nstopped with SIGTERM: {why}"),
    }
    if left.is_empty() {
        println!("  its TMPDIR is empty: the upload directory went with it");
    } else {
        println!("  left in its TMPDIR: {}", left.join(", "));
    }
}

pub(crate) fn tasks(accepted: &Accepted, drained: &Result<Drained, String>, audit: &Audit) {
    let a = accepted;
    let [all, to_receiver, to_refused, without, failing] =
        [a.all, a.to_receiver, a.to_refused, a.without, a.failing].map(thousands);
    println!(
        "\ntasks: {all} Covers accepted: {to_receiver} with a webhook to the receiver, {to_refused} to a non-loopback host, {without} without, {failing} asked to end FAILED/ERROR (no webhook due)"
    );
    let d = match drained {
        Ok(d) => d,
        Err(why) => {
            println!("  after the load: the admin API could not say: {why}");
            return;
        }
    };
    let statuses: Vec<String> = d
        .statuses
        .iter()
        .map(|(s, n)| format!("{s} {}", thousands(*n)))
        .collect();
    println!(
        "  after the load the store keeps {} ({}), {}all final {:.1} s after the load; the {} others were evicted, which the store does only to final tasks",
        thousands(d.kept),
        statuses.join(", "),
        if d.all_final { "" } else { "NOT " },
        d.final_after.as_secs_f64(),
        thousands(accepted.all.saturating_sub(d.kept))
    );
    let t = d.totals;
    let [due, delivered, refused, failed, dropped] =
        [t.due, t.delivered, t.refused, t.failed, t.dropped].map(thousands);
    println!(
        "webhooks (GET {ADMIN_PATH}/webhooks, {:.1} s after the load): due {due} = delivered {delivered} + refused {refused} + failed {failed} + dropped {dropped}; pending {}",
        d.settled_after.as_secs_f64(),
        thousands(t.pending)
    );
    println!(
        "  receiver: {} tasks got (more than once: {}), not due to it: {}, not a webhook: {}; due to it and never got: {}",
        thousands(audit.got),
        audit.duplicated,
        audit.stray,
        audit.malformed,
        thousands(audit.missing)
    );
}

pub(crate) fn log(log: &Log) {
    println!(
        "\nmock's stderr (warnings only): {} lines: {} `webhook refused` warnings (one per refused webhook), {} other",
        thousands(log.lines),
        thousands(log.refused),
        thousands(log.other_count)
    );
    for line in &log.others {
        println!("  | {line}");
    }
    if log.other_count > log.others.len() as u64 {
        println!(
            "  | ... and {} more",
            log.other_count - log.others.len() as u64
        );
    }
}

/// Prints every check and the closing line; the exit status: 0 when all passed, 1 when one
/// failed.
pub(crate) fn verdicts(verdicts: &[Verdict], summary: &str) -> ExitCode {
    println!("\nchecks");
    for v in verdicts {
        let mark = if v.pass { "PASS" } else { "FAIL" };
        println!("  {mark}  {}: {}", v.name, v.detail);
    }
    let failed: Vec<&str> = verdicts
        .iter()
        .filter(|v| !v.pass)
        .map(|v| v.name)
        .collect();
    if failed.is_empty() {
        println!("\nsoak: PASS: {summary}");
        ExitCode::SUCCESS
    } else {
        println!(
            "\nsoak: FAIL: {} of {} checks failed: {}; {summary}",
            failed.len(),
            verdicts.len(),
            failed.join("; ")
        );
        ExitCode::from(1)
    }
}
