//! The throughput rows: for each request (Cover with a URL, with a 2 KiB file, with a 1 MiB file;
//! with a short MP3 song, with a 1 MiB MP3; GET byId; GET getAllVoices), the mock's 2xx answers
//! per second and latency beside the bare server's (the same parsing, a fixed answer) and the
//! peers' (Prism, WireMock, Mockoon: `peers.rs`), loaded one after the other, round by round,
//! with the same bytes.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use musicgpt_cover_mock::{MockConfig, MockServer, api_base_path, audio_lab};

use crate::Part;
use crate::bare::start_bare;
use crate::load::{Measurement, Target, load};
use crate::options::Options;
use crate::peers::{self, Kind, LeftOut, Started};
use crate::procfs::{
    CpuSample, OTHERS_WARNING, cpu_share, jiffies_used, process_jiffies, thread_jiffies,
};
use crate::request::{probe, raw_request};
use crate::scenario::Scenario;
use crate::setup::{http_client, runtime};
use crate::songs;
use crate::verdict::{Verdict, round_like};

/// The mock's throughput must be at least this share of the bare server's, on every row (the
/// goal of issues 12 and 21); the random-bytes rows have a floor besides
/// ([`Scenario::bare_floor`]).
pub(crate) const BARE_TARGET: f64 = 0.8;
/// And at least this many times Prism's (issue 12), on every row.
pub(crate) const PRISM_TARGET: f64 = 25.0;
/// WireMock's (issue 21), on every row.
pub(crate) const WIREMOCK_TARGET: f64 = 3.0;
/// Mockoon's (issue 21), on every row.
pub(crate) const MOCKOON_TARGET: f64 = 25.0;
/// The most a small request's p99 latency may be on the mock, in milliseconds.
pub(crate) const P99_TARGET_MS: f64 = 5.0;
/// The name of the servers' runtime's threads, to measure their CPU use.
const SERVER_THREADS: &str = "bench-server";
/// The name of the load generator's runtime's threads.
const CLIENT_THREADS: &str = "bench-client";

/// The servers, in the order of the columns: these two, then the peers started.
const BARE: usize = 0;
const MOCK: usize = 1;
const PEERS: usize = 2;
/// How long the mock's threads may take to go idle after a row whose songs it converts, once
/// the conversions held back during the row are let go (each finds its upload gone, dropped by
/// the reset, and ends at once; one that still ran would take about 0.8 s of CPU for a minute of
/// song on a quiet machine).
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// The mock's throughput over a peer's that must be reached on every row.
pub(crate) fn peer_target(kind: Kind) -> f64 {
    match kind {
        Kind::Prism => PRISM_TARGET,
        Kind::WireMock => WIREMOCK_TARGET,
        Kind::Mockoon => MOCKOON_TARGET,
    }
}

/// What one server did in one round.
#[derive(Clone, Copy)]
struct Cell {
    per_second: f64,
    p50: f64,
    p99: f64,
    /// Its CPU per 2xx answer, in microseconds.
    micros: f64,
}

/// One row's medians over its rounds.
struct Row {
    scenario: Scenario,
    /// The servers' cells, bare, mock, then each peer.
    cells: Vec<Option<Cell>>,
    mock_bare: f64,
    mock_bare_range: (f64, f64),
    /// mock / each peer, the median of the per-round ratios.
    mock_peer: Vec<Option<f64>>,
    others: f64,
    /// Each peer's answers that were not 2xx (not counted): how many, of how many, the first.
    refused: Vec<(u64, u64, String)>,
}

/// Every row, side by side, round by round.
pub(crate) fn measure(o: &Options, cores: usize) -> Result<Part, String> {
    let servers = runtime(SERVER_THREADS, o.server_threads)?;
    let clients = runtime(CLIENT_THREADS, o.client_threads)?;
    // The binary's defaults but for the time scale: tasks end as soon as they are accepted (time
    // scale 0), so the 10,000-task store fills with finished tasks, which are evicted, and not
    // with running ones, which would be refused with 429 at this rate (a place frees only when a
    // task ends). Every key starts with the default 100,000,000 credits: enough for every Cover
    // of a run. The 1,000-entry journal is full within the warm-up. No webhook_url: no webhooks.
    let mock = servers
        .block_on(MockServer::try_start(MockConfig::new().time_scale(0.0)))
        .map_err(|e| format!("the mock could not start: {e}"))?;
    let client = http_client()?;
    let (started, left_out) = peers::start_all(o)?;
    let names: Vec<&str> = started.iter().map(|p| p.kind.name()).collect();
    let names = Some(names.join(", ")).filter(|n| !n.is_empty());
    println!(
        "\n== throughput: the mock beside a bare axum server (same parsing, fixed answer) and the peers ==\n\
         servers in this process on a {}-thread runtime, load generator on a {}-thread runtime,\n\
         the peers ({}) child processes (all compete for the same cores); {} keep-alive HTTP/1.1\n\
         connections, each request written whole, only 2xx answers counted; {} round(s) per row of\n\
         {} s per server, the order rotating; {} s warm-up for the mock and bare, {} s for each peer",
        o.server_threads,
        o.client_threads,
        names.as_deref().unwrap_or("none"),
        o.concurrency,
        o.rounds,
        o.seconds,
        o.warmup,
        peer_warmup(o)
    );
    let mut rows = Vec::new();
    let mut verdicts = Vec::new();
    for &scenario in &o.scenarios {
        let row = measure_row(
            o, cores, scenario, &servers, &clients, &client, &mock, &started,
        )?;
        verdicts.extend(row_verdicts(o, &row, &started, &left_out));
        rows.push(row);
    }
    // Stopped, and its uploads' directory removed, before the runtime goes; not waiting for what
    // is left of the held conversions on its blocking pool (only a smoke run leaves any: a
    // measured run waited for the mock's threads to go idle after each song row).
    servers.block_on(mock.shutdown());
    servers.shutdown_background();
    let md = rows_markdown(o, &rows, &started, &left_out);
    Part::new(
        "throughput",
        "Throughput and latency (issue 12, item 1; issue 21, items 1 and 2)",
        md,
        verdicts,
    )
}

/// A peer's warm-up: a whole round's length (the JVM's and V8's compilers warm up on it), at
/// least the mock's.
fn peer_warmup(o: &Options) -> f64 {
    o.seconds.max(o.warmup)
}

/// After a row whose songs the mock converts: its uploads dropped (a queued conversion then finds
/// its upload gone and ends at once), the conversions held back during the row let go and, if
/// `wait`, the mock's threads waited for until idle, so the next row starts on a quiet mock. How
/// long that took.
fn settle(mock: &MockServer, held: audio_lab::ConversionsHeld, wait: bool) -> Duration {
    let started = std::time::Instant::now();
    mock.state().reset();
    drop(held);
    if !wait {
        return started.elapsed();
    }
    let mut before = thread_jiffies(SERVER_THREADS);
    while started.elapsed() < SETTLE_LIMIT {
        std::thread::sleep(Duration::from_millis(200));
        let after = thread_jiffies(SERVER_THREADS);
        // Under 2 jiffies (20 ms of CPU) in 200 ms: nothing is converting.
        if jiffies_used(before.as_ref(), after.as_ref()) < 2 {
            break;
        }
        before = after;
    }
    started.elapsed()
}

#[allow(clippy::too_many_arguments)]
fn measure_row(
    o: &Options,
    cores: usize,
    scenario: Scenario,
    servers: &tokio::runtime::Runtime,
    clients: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    mock: &MockServer,
    peers: &[Started],
) -> Result<Row, String> {
    let body = scenario.body()?;
    let (base, spec_path) = (api_base_path(), scenario.spec_path()?);
    // The songs' background conversions wait for the row's end: taken now, before the mock's
    // first song (a conversion running from the last row is waited for), so the row's figures
    // are the request path's alone. The request path is unchanged: each Cover still keeps its
    // song and queues its conversion, as for a user whose conversions are queued behind
    // another's.
    let held = scenario
        .converts()
        .then(|| servers.block_on(audio_lab::hold_conversions()))
        .transpose()?;
    // byId asks about tasks the mock accepted: one per connection, made now (the Cover rows
    // before have long evicted older ones).
    let ids: Vec<String> = if scenario == Scenario::ById {
        (0..o.concurrency)
            .map(|_| {
                let answer = clients.block_on(probe(
                    client,
                    "POST",
                    &mock.url(Scenario::Url.spec_path()?),
                    Scenario::Url.body()?,
                ))?;
                let answer: serde_json::Value =
                    serde_json::from_str(&answer).map_err(|e| e.to_string())?;
                answer["task_id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("a Cover's answer has no task_id: {answer}"))
            })
            .collect::<Result<_, String>>()?
    } else {
        vec![String::new()]
    };
    let path_and_query = |prefix: &str, id: &str| match scenario.query(id) {
        query if query.is_empty() => format!("{prefix}{spec_path}"),
        query => format!("{prefix}{spec_path}?{query}"),
    };
    // The mock's answer becomes the bare server's fixed answer.
    let mock_answer = clients.block_on(probe(
        client,
        scenario.method(),
        &format!("http://{}{}", mock.addr(), path_and_query(&base, &ids[0])),
        body.clone(),
    ))?;
    let answers = Arc::new(HashMap::from([(
        format!("{base}{spec_path}"),
        Bytes::from(mock_answer.clone()),
    )]));
    let (bare_addr, bare_task) = servers.block_on(start_bare(answers))?;
    // The servers, in the order of the columns, and the same requests to each.
    let peers_at = peers.iter().map(|p| (p.server.addr, p.kind.prefix()));
    let targets: Vec<Target> = [(bare_addr, base.clone()), (mock.addr(), base.clone())]
        .into_iter()
        .chain(peers_at)
        .map(|(addr, prefix)| Target {
            addr,
            requests: ids
                .iter()
                .map(|id| {
                    let path = path_and_query(&prefix, id);
                    raw_request(scenario.method(), addr, &path, body.as_deref())
                })
                .collect(),
        })
        .collect();
    let names: Vec<&str> = ["bare", "mock"]
        .into_iter()
        .chain(peers.iter().map(|p| p.kind.name()))
        .collect();
    println!(
        "\nrow {} ({}): {} {}, {}; {} bytes of body",
        scenario.name(),
        scenario.label(),
        scenario.method(),
        spec_path,
        scenario.describe(),
        body.as_ref().map_or(0, Bytes::len)
    );
    let answers = |who: &str, answer: &str| {
        let start: String = answer.chars().take(96).collect();
        println!("  {who} answers 200, {} bytes: {start}", answer.len());
    };
    answers("the mock", &mock_answer);
    if scenario.converts() {
        let seconds = clients.block_on(songs::duration_heard(client, mock, &mock_answer))?;
        println!("  the mock took the song as audio: conversion_duration {seconds} s");
    }
    // What each peer answers, to see it is the spec's example (not counted, not judged).
    for p in peers {
        let path = path_and_query(&p.kind.prefix(), &ids[0]);
        let url = format!("http://{}{path}", p.server.addr);
        match clients.block_on(probe(client, scenario.method(), &url, body.clone())) {
            Ok(answer) => answers(p.kind.name(), &answer),
            Err(e) => println!(
                "  {}: {}",
                p.kind.name(),
                e.chars().take(160).collect::<String>()
            ),
        }
    }

    // A peer's CPU is its process's; the mock's and bare's, their runtime's threads.
    let jiffies = |i: usize| match i.checked_sub(PEERS) {
        Some(peer) => process_jiffies(peers[peer].server.pid()),
        None => thread_jiffies(SERVER_THREADS),
    };
    let run = |i: usize, seconds: f64| -> (Measurement, u64) {
        let (before, duration) = (jiffies(i), Duration::from_secs_f64(seconds));
        let mut m = clients.block_on(load(&targets[i], o.concurrency, duration));
        let after = jiffies(i);
        m.server_cpu = cpu_share(before.as_ref(), after.as_ref(), cores);
        // A peer's CPU, which is not the others' (0 for the mock and bare, in this process).
        let peer_jiffies = jiffies_used(before.as_ref().filter(|_| i >= PEERS), after.as_ref());
        if i == MOCK && scenario.converts() {
            // Each turn starts from no kept songs, as the first did: a kept song is held until its
            // task leaves the 10,000-task store, and once the songs held fill the mock's 256 MiB
            // for uploads in memory, each further one is appended to a segment file.
            mock.state().reset();
        }
        (m, peer_jiffies)
    };
    let checked = |i: usize, m: &Measurement| -> Result<(), String> {
        // The mock and the bare server must answer every request 2xx: anything else makes the
        // run invalid. A peer's other answers are only left out, and reported.
        if i < PEERS && (m.failed > 0 || m.ok == 0) {
            return Err(format!(
                "{} of {} requests to the {} server were not answered 2xx in row {}; the first: {}",
                m.failed,
                m.ok + m.failed,
                names[i],
                scenario.name(),
                m.first_failure.as_deref().unwrap_or("none answered")
            ));
        }
        Ok(())
    };
    for i in 0..targets.len() {
        let seconds = if i >= PEERS { peer_warmup(o) } else { o.warmup };
        if seconds > 0.0 {
            let (m, _) = run(i, seconds);
            checked(i, &m)?;
        }
    }
    print_header(&names);
    let mut rounds: Vec<Vec<Option<Cell>>> = Vec::new();
    let mut others = Vec::new();
    let mut refused = vec![(0u64, 0u64, String::new()); peers.len()];
    for round in 0..o.rounds {
        // The order rotates each round, so drift spreads over every server.
        let n = targets.len();
        let cpu = CpuSample::now();
        let mut excluded = 0;
        let mut cells: Vec<Option<Cell>> = vec![None; n];
        for k in 0..n {
            let i = (round + k) % n;
            let (mut m, peer_jiffies) = run(i, o.seconds);
            checked(i, &m)?;
            excluded += peer_jiffies;
            if let Some(peer) = i.checked_sub(PEERS) {
                let r = &mut refused[peer];
                r.0 += m.failed;
                r.1 += m.ok + m.failed;
                if r.2.is_empty() {
                    r.2 = m.first_failure.take().unwrap_or_default();
                }
                if m.ok == 0 {
                    continue;
                }
            }
            cells[i] = Some(Cell {
                per_second: m.per_second(),
                p50: m.latency_ms(0.5),
                p99: m.latency_ms(0.99),
                micros: m.server_micros_per_request(),
            });
        }
        let busy = cpu
            .and_then(|c| c.others_since(cores, excluded))
            .unwrap_or(f64::NAN);
        others.push(busy);
        print_round(&(round + 1).to_string(), &cells, busy, None);
        rounds.push(cells);
    }
    let n = targets.len();
    bare_task.abort();
    if let Some(held) = held {
        // A smoke run judges nothing, so it does not wait for the held conversions to drain.
        let took = settle(mock, held, !o.smoke);
        if took >= SETTLE_LIMIT {
            println!("  warning: the mock's threads were still busy {took:?} after the row");
        } else if took >= Duration::from_secs(1) {
            println!(
                "  (the mock's threads went idle {:.1} s after the row)",
                took.as_secs_f64()
            );
        }
    }
    // Medians of each column, and of the per-round ratios.
    let column = |i: usize, f: fn(&Cell) -> f64| -> Option<f64> {
        let values: Vec<f64> = rounds.iter().filter_map(|r| r[i].as_ref().map(f)).collect();
        (!values.is_empty()).then(|| median(values))
    };
    let cell = |i: usize| -> Option<Cell> {
        Some(Cell {
            per_second: column(i, |c| c.per_second)?,
            p50: column(i, |c| c.p50)?,
            p99: column(i, |c| c.p99)?,
            micros: column(i, |c| c.micros)?,
        })
    };
    let ratios = |over: usize| -> Vec<f64> {
        rounds
            .iter()
            .filter_map(|r| Some(r[MOCK]?.per_second / r[over]?.per_second))
            .collect()
    };
    let bare_ratios = ratios(BARE);
    let row = Row {
        scenario,
        cells: (0..n).map(cell).collect(),
        mock_bare: median(bare_ratios.clone()),
        mock_bare_range: (
            bare_ratios.iter().copied().fold(f64::INFINITY, f64::min),
            bare_ratios.iter().copied().fold(0.0, f64::max),
        ),
        mock_peer: (PEERS..n)
            .map(|i| {
                let r = ratios(i);
                (!r.is_empty()).then(|| median(r))
            })
            .collect(),
        others: median(others.clone()),
        refused,
    };
    let mut ratios_line = vec![row.mock_bare];
    ratios_line.extend(row.mock_peer.iter().map(|r| r.unwrap_or(f64::NAN)));
    print_round("median", &row.cells, row.others, Some(&ratios_line));
    let mut summary = format!(
        "  mock/bare {:.3} (rounds {:.3} to {:.3})",
        row.mock_bare, row.mock_bare_range.0, row.mock_bare_range.1
    );
    for (p, ratio) in peers.iter().zip(&row.mock_peer) {
        if let Some(r) = ratio {
            summary.push_str(&format!(", mock/{} {r:.1}", p.kind.name()));
        }
    }
    println!("{summary}");
    for (p, r) in peers.iter().zip(&row.refused) {
        if let (refused @ 1.., of, first) = r {
            println!(
                "  {} answered {refused} of {of} requests other than 2xx (not counted); the first: {first}",
                p.kind.name()
            );
        }
    }
    let busiest = others.iter().copied().fold(0.0, f64::max);
    if busiest > OTHERS_WARNING {
        println!("  warning: other processes took up to {busiest:.0}% of a core during a round");
    }
    Ok(row)
}

/// The table's head: each server's columns, then mock over each of the others.
fn print_header(names: &[&str]) {
    let mut line = format!("  {:>6}", "round");
    for name in names {
        line.push_str(&format!(
            " | {:>8} {:>6} {:>6} {:>6}",
            format!("{name}/s"),
            "p50ms",
            "p99ms",
            "us/req"
        ));
    }
    line.push_str(" |");
    for name in names.iter().filter(|n| **n != "mock") {
        line.push_str(&format!(" {:>9}", format!("mock/{name}")));
    }
    println!("{line} {:>6}", "other%");
}

/// One line of the table; `ratios` overrides the ratios computed from `cells` (the median line
/// shows the medians of the per-round ratios, as the targets are judged).
fn print_round(label: &str, cells: &[Option<Cell>], others: f64, ratios: Option<&[f64]>) {
    let cell = |c: &Option<Cell>| match c {
        Some(c) => format!(
            "{:>8.0} {:>6.2} {:>6.2} {:>6.1}",
            c.per_second, c.p50, c.p99, c.micros
        ),
        None => format!("{:>8} {:>6} {:>6} {:>6}", "-", "-", "-", "-"),
    };
    let ratio = |over: usize| match (&cells[MOCK], &cells[over]) {
        (Some(m), Some(o)) => m.per_second / o.per_second,
        _ => f64::NAN,
    };
    let others_than_mock = (0..cells.len()).filter(|i| *i != MOCK);
    let ratios: Vec<f64> = match ratios {
        Some(r) => r.to_vec(),
        None => others_than_mock.map(ratio).collect(),
    };
    let mut line = format!("  {label:>6}");
    for c in cells {
        line.push_str(&format!(" | {}", cell(c)));
    }
    line.push_str(" |");
    for r in ratios {
        line.push_str(&format!(" {r:>9.3}"));
    }
    println!("{line} {others:>6.0}");
    let _ = std::io::stdout().flush();
}

fn row_verdicts(o: &Options, row: &Row, peers: &[Started], left_out: &[LeftOut]) -> Vec<Verdict> {
    let label = row.scenario.label();
    let rounds = format!(
        "median of the per-round ratios (rounds {:.3} to {:.3})",
        row.mock_bare_range.0, row.mock_bare_range.1
    );
    // What this run measured first, then what the profile showed (its texts begin in ASCII).
    let known = row.scenario.short_of_bare();
    let short_of_bare = match (&row.cells[MOCK], &row.cells[BARE]) {
        (Some(mock), Some(bare)) => format!(
            "the mock spent {:.1} µs of CPU per answer here, the bare server {:.1} ({:+.1} µs). \
             {}{}",
            mock.micros,
            bare.micros,
            mock.micros - bare.micros,
            known.get(..1).unwrap_or_default().to_uppercase(),
            known.get(1..).unwrap_or_default()
        ),
        _ => known.to_owned(),
    };
    let mut verdicts = vec![
        Verdict::at_least(
            format!("{label}: mock/bare"),
            row.mock_bare,
            BARE_TARGET,
            rounds.clone(),
        )
        .explained(&short_of_bare),
    ];
    if let Some(floor) = row.scenario.bare_floor() {
        verdicts.push(
            Verdict::at_least(
                format!("{label}: mock/bare, back to before uploads were decoded"),
                row.mock_bare,
                floor,
                rounds,
            )
            .explained(&short_of_bare),
        );
    }
    for kind in Kind::ALL {
        let name = format!("{label}: mock/{}", kind.name());
        let Some(k) = peers.iter().position(|p| p.kind == kind) else {
            let why = left_out
                .iter()
                .find(|l| l.kind == kind)
                .map_or("it was not started", |l| l.why.as_str());
            verdicts.push(Verdict::not_measured(name, why.to_owned()));
            continue;
        };
        let Some(ratio) = row.mock_peer[k] else {
            let why = match &row.refused[k] {
                (refused @ 1.., of, first) => format!(
                    "{} answered none of its {of} requests on this row 2xx ({refused} other answers; the first: {})",
                    kind.name(),
                    first.chars().take(120).collect::<String>()
                ),
                _ => format!("{} answered no request on this row", kind.name()),
            };
            verdicts.push(Verdict::not_measured(
                name,
                format!("{why}, so there is no ratio"),
            ));
            continue;
        };
        let bare_peer = match (&row.cells[BARE], &row.cells[PEERS + k]) {
            (Some(bare), Some(peer)) if peer.per_second > 0.0 => {
                Some(bare.per_second / peer.per_second)
            }
            _ => None,
        };
        let target = peer_target(kind);
        verdicts.push(
            Verdict::at_least(
                name,
                ratio,
                target,
                "median of the per-round ratios".to_owned(),
            )
            .explained(&short_of_peer(kind, target, bare_peer)),
        );
    }
    if row.scenario.small()
        && let Some(mock) = row.cells[MOCK]
    {
        verdicts.push(
            Verdict::at_most(
                format!("{label}: mock p99"),
                mock.p99,
                P99_TARGET_MS,
                "ms",
                "median of the rounds' p99".to_owned(),
            )
            .explained(&p99_over(o, &mock, row.others)),
        );
    }
    verdicts
}

/// Why the mock falls short of `target` × a peer's throughput on a row when it does, given what
/// the bare server reached against that peer in the same rounds (`bare_peer`, of the medians).
fn short_of_peer(peer: Kind, target: f64, bare_peer: Option<f64>) -> String {
    let name = peer.name();
    let does = peer.per_request();
    match bare_peer {
        Some(ratio) if ratio < target => format!(
            "the bare server, which parses the same request and sends a fixed answer, reached \
             only {ratio:.1} × {name} on this row in the same rounds, so meeting the target \
             would take the mock {:.1} × the bare server's throughput, on a server that does \
             more per request than the bare one. {does}",
            target / ratio
        ),
        Some(ratio) => format!(
            "the bare server reached {ratio:.1} × {name} on this row in the same rounds, so \
             meeting the target takes a mock/bare of at least {:.2} here, and what falls short is \
             the mock's own cost per request (its mock/bare row says where it goes). {does}",
            target / ratio
        ),
        None => format!(
            "the mock's own cost per request (its mock/bare row says where it goes). {does}"
        ),
    }
}

/// Why the mock's p99 on a small request is over its target when it is: what the queue of
/// requests ahead of one accounts for, from this row's figures, and what is left.
fn p99_over(o: &Options, mock: &Cell, others: f64) -> String {
    let queue = o.concurrency as f64 * mock.micros / 1000.0 / o.server_threads.max(1) as f64;
    format!(
        "with {c} connections on the mock's {t} server thread(s), a request waits for those \
         ahead of it: at the mock's mean CPU per answer that is {c} × {micros:.1} µs = \
         {queue:.2} ms here. The rest of the {p99:.2} ms was not measured apart: requests that \
         took more CPU than the mean, or time the thread waited for a core (other programs took \
         {others:.0} % of a core during the row). It falls with the mock's CPU per request (its \
         mock/bare row) and with other load on the machine",
        c = o.concurrency,
        t = o.server_threads,
        micros = mock.micros,
        p99 = mock.p99,
    )
}

fn rows_markdown(o: &Options, rows: &[Row], peers: &[Started], left_out: &[LeftOut]) -> String {
    let mut out = format!(
        "{} keep-alive HTTP/1.1 connections from one load-generator thread, each request written \
         whole and sent as soon as the last was answered; only 2xx answers counted. The mock and \
         the bare server run in the bench's process on a {}-thread runtime; the peers are child \
         processes. Each row: {} round(s) of {} s per server, the order rotating, after a warm-up \
         of {} s on the mock and the bare server and a warm-up round ({} s) on each peer; every \
         figure is the median over the rounds, each ratio the median of the per-round ratios. \
         `µs/req`: the server's CPU time per answer (a peer's: its whole process's).\n\n\
         The upload rows send random bytes (the worst case: the mock must find they are not audio) \
         and real songs: MP3s the bench encodes with the mock's own encoder (a song-like chord \
         progression, 128 kbit/s stereo at 44.1 kHz, behind an ID3v2 tag). The mock keeps a song, \
         probes it and queues its conversion, as for any user; the conversions themselves are \
         held back during the song rows (one conversion runs at a time, and the bench holds its \
         turn), so those rows measure the request path alone, as the others do, and the peers, \
         which convert nothing, are compared on the same work. What one conversion costs is in \
         \"Converting an upload\" below. After each of the mock's turns on a song row the bench \
         drops its kept songs (a reset), so every turn starts from none.\n\n",
        o.concurrency,
        o.server_threads,
        o.rounds,
        o.seconds,
        o.warmup,
        peer_warmup(o)
    );
    if !peers.is_empty() {
        out.push_str("How each peer is run, and why that is its fast configuration:\n\n");
        for p in peers {
            out.push_str(&format!(
                "- **{}** {}: {}.\n",
                p.kind.name(),
                p.program.version,
                p.kind.configured(o.concurrency)
            ));
        }
        out.push('\n');
    }
    for l in left_out {
        out.push_str(&format!(
            "{} was not measured: {}; its targets are \"not measured\".\n",
            l.kind.name(),
            l.why
        ));
    }
    if !left_out.is_empty() {
        out.push('\n');
    }
    out.push_str(
        "| row | mock req/s | mock p50 / p99 ms | mock µs/req | bare req/s | bare p50 / p99 ms | bare µs/req | **mock/bare** | others' CPU |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let fmt = |c: &Option<Cell>| -> [String; 3] {
        match c {
            Some(c) => [
                format!("{:.0}", c.per_second),
                format!("{:.2} / {:.2}", c.p50, c.p99),
                format!("{:.1}", c.micros),
            ],
            None => ["—".to_owned(), "—".to_owned(), "—".to_owned()],
        }
    };
    for row in rows {
        let [m_rps, m_lat, m_cpu] = fmt(&row.cells[MOCK]);
        let [b_rps, b_lat, b_cpu] = fmt(&row.cells[BARE]);
        out.push_str(&format!(
            "| {} | {m_rps} | {m_lat} | {m_cpu} | {b_rps} | {b_lat} | {b_cpu} | **{:.3}** ({:.3}–{:.3}) | {:.0} % |\n",
            row.scenario.label(),
            row.mock_bare,
            row.mock_bare_range.0,
            row.mock_bare_range.1,
            row.others
        ));
    }
    if !peers.is_empty() {
        out.push_str(
            "\nThe peers, in the same rounds:\n\n\
             | row | peer | req/s | p50 / p99 ms | µs/req | **mock / peer** |\n\
             |---|---|---|---|---|---|\n",
        );
        for row in rows {
            for (k, p) in peers.iter().enumerate() {
                let [rps, lat, cpu] = fmt(&row.cells[PEERS + k]);
                out.push_str(&format!(
                    "| {} | {} | {rps} | {lat} | {cpu} | **{}** |\n",
                    row.scenario.label(),
                    p.kind.name(),
                    row.mock_peer[k].map_or_else(|| "—".to_owned(), round_like)
                ));
            }
        }
    }
    for row in rows {
        for (p, r) in peers.iter().zip(&row.refused) {
            if let (refused @ 1.., of, first) = r {
                out.push_str(&format!(
                    "\n{}: {} answered {refused} of {of} requests other than 2xx (not counted); the first: `{}`\n",
                    row.scenario.label(),
                    p.kind.name(),
                    first.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    out.push_str(&format!(
        "\n`others' CPU`: what other programs used meanwhile, in % of one core (the peers' own CPU \
         not counted); more than {OTHERS_WARNING:.0} % means the machine was not quiet.\n\n"
    ));
    let busiest = rows.iter().map(|r| r.others).fold(0.0, f64::max);
    if busiest > OTHERS_WARNING {
        out.push_str(&format!(
            "**The machine was not quiet during this run**: other programs used up to \
             {busiest:.0} % of a core (median of a row's rounds). The absolute numbers are low \
             and the ratios noisy; run `cargo xtask bench` again on a quiet machine before \
             reading them as the mock's.\n\n"
        ));
    }
    out
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The median of some durations.
pub(crate) fn median_of(times: &[Duration]) -> Duration {
    Duration::from_secs_f64(median(times.iter().map(Duration::as_secs_f64).collect()))
}
