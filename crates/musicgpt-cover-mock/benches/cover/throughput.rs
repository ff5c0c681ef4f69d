//! The throughput rows: for each request (Cover with a URL, with a 2 KiB file, with a 1 MiB file;
//! GET byId; GET getAllVoices), the mock's 2xx answers per second and latency beside the bare
//! server's (the same parsing, a fixed answer) and Prism's, loaded one after the other, round by
//! round, with the same bytes.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use musicgpt_cover_mock::{MockConfig, MockServer};

use crate::bare::start_bare;
use crate::load::{Measurement, Target, load};
use crate::options::Options;
use crate::prism::{self, ChildServer};
use crate::procfs::{
    CpuSample, OTHERS_WARNING, cpu_share, jiffies_used, process_jiffies, thread_jiffies,
};
use crate::request::{probe, raw_request};
use crate::scenario::{API_PREFIX, Scenario};
use crate::setup::{http_client, runtime};
use crate::verdict::{Verdict, markdown, round_like};
use crate::{Part, Section};

/// The mock's throughput must be at least this share of the bare server's.
pub(crate) const BARE_TARGET: f64 = 0.8;
/// And at least this many times Prism's.
pub(crate) const PRISM_TARGET: f64 = 25.0;
/// The most a small request's p99 latency may be on the mock, in milliseconds.
pub(crate) const P99_TARGET_MS: f64 = 5.0;
/// The name of the servers' runtime's threads, to measure their CPU use.
const SERVER_THREADS: &str = "bench-server";
/// The name of the load generator's runtime's threads.
const CLIENT_THREADS: &str = "bench-client";

/// The servers, in the order of the columns.
const BARE: usize = 0;
const MOCK: usize = 1;
const PRISM: usize = 2;
const NAMES: [&str; 3] = ["bare", "mock", "Prism"];

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
    cells: [Option<Cell>; 3],
    mock_bare: f64,
    mock_bare_range: (f64, f64),
    mock_prism: Option<f64>,
    others: f64,
    /// Prism's answers that were not 2xx (not counted), and the first.
    prism_refused: Option<(u64, u64, String)>,
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
    let prism_server = if o.prism {
        match prism::program() {
            Ok(program) => {
                println!(
                    "\nstarting Prism {} ({} -v silent)",
                    prism::version(&program),
                    program.display()
                );
                Some(prism::start(&program)?)
            }
            Err(why) if o.smoke => {
                println!("\nPrism left out of the smoke run: {why}");
                None
            }
            Err(why) => return Err(why),
        }
    } else {
        None
    };
    println!(
        "\n== throughput: the mock beside a bare axum server (same parsing, fixed answer) and Prism ==\n\
         servers in this process on a {}-thread runtime, load generator on a {}-thread runtime,\n\
         Prism a child process (all compete for the same cores); {} keep-alive HTTP/1.1 connections,\n\
         each request written whole, only 2xx answers counted; {} round(s) per row of {} s per server,\n\
         the order rotating; {} s warm-up per server",
        o.server_threads, o.client_threads, o.concurrency, o.rounds, o.seconds, o.warmup
    );
    let mut rows = Vec::new();
    let mut verdicts = Vec::new();
    for &scenario in &o.scenarios {
        let row = measure_row(
            o,
            cores,
            scenario,
            &servers,
            &clients,
            &client,
            &mock,
            prism_server.as_ref(),
        )?;
        verdicts.extend(row_verdicts(&row, prism_server.is_some()));
        rows.push(row);
    }
    drop(mock);
    Ok(Part {
        section: Section {
            name: "throughput",
            title: "Throughput and latency (issue 12, item 1)",
            markdown: rows_markdown(o, &rows, prism_server.is_some(), &verdicts),
        },
        verdicts,
    })
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
    prism_server: Option<&ChildServer>,
) -> Result<Row, String> {
    let body = scenario.body();
    // byId asks about tasks the mock accepted: one per connection, made now (the Cover rows
    // before have long evicted older ones).
    let ids: Vec<String> = if scenario == Scenario::ById {
        (0..o.concurrency)
            .map(|_| {
                let answer = clients.block_on(probe(
                    client,
                    "POST",
                    &mock.url("/v1/Cover"),
                    Scenario::Url.body(),
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
    let path_and_query = |prefix: &str, id: &str| {
        let query = scenario.query(id);
        if query.is_empty() {
            format!("{prefix}{}", scenario.spec_path())
        } else {
            format!("{prefix}{}?{query}", scenario.spec_path())
        }
    };
    // The mock's answer becomes the bare server's fixed answer.
    let mock_answer = clients.block_on(probe(
        client,
        scenario.method(),
        &format!(
            "http://{}{}",
            mock.addr(),
            path_and_query(API_PREFIX, &ids[0])
        ),
        body.clone(),
    ))?;
    let answers = Arc::new(HashMap::from([(
        scenario.spec_path(),
        Bytes::from(mock_answer.clone()),
    )]));
    let (bare_addr, bare_task) = servers.block_on(start_bare(answers))?;
    let requests = |addr, prefix: &str| -> Vec<Bytes> {
        ids.iter()
            .map(|id| {
                raw_request(
                    scenario.method(),
                    addr,
                    &path_and_query(prefix, id),
                    body.as_deref(),
                )
            })
            .collect()
    };
    let mut targets = vec![
        Target {
            addr: bare_addr,
            requests: requests(bare_addr, API_PREFIX),
        },
        Target {
            addr: mock.addr(),
            requests: requests(mock.addr(), API_PREFIX),
        },
    ];
    if let Some(p) = prism_server {
        targets.push(Target {
            addr: p.addr,
            requests: requests(p.addr, ""),
        });
    }
    println!(
        "\nrow {} ({}): {} {}, {}; {} bytes of body",
        scenario.name(),
        scenario.label(),
        scenario.method(),
        scenario.spec_path(),
        scenario.describe(),
        body.as_ref().map_or(0, Bytes::len)
    );
    println!(
        "  the mock answers 200, {} bytes: {}",
        mock_answer.len(),
        mock_answer.chars().take(96).collect::<String>()
    );

    let prism_pid = prism_server.map(ChildServer::pid);
    let run = |i: usize, seconds: f64| -> (Measurement, u64) {
        let target = &targets[i];
        let before = if i == PRISM {
            prism_pid.and_then(process_jiffies)
        } else {
            thread_jiffies(SERVER_THREADS)
        };
        let mut m = clients.block_on(load(
            target,
            o.concurrency,
            Duration::from_secs_f64(seconds),
        ));
        let after = if i == PRISM {
            prism_pid.and_then(process_jiffies)
        } else {
            thread_jiffies(SERVER_THREADS)
        };
        m.server_cpu = cpu_share(before.as_ref(), after.as_ref(), cores);
        let prism_jiffies = if i == PRISM {
            jiffies_used(before.as_ref(), after.as_ref())
        } else {
            0
        };
        (m, prism_jiffies)
    };
    let checked = |i: usize, m: &Measurement| -> Result<(), String> {
        // The mock and the bare server must answer every request 2xx: anything else makes the
        // run invalid. Prism's other answers are only left out, and reported.
        if i != PRISM && (m.failed > 0 || m.ok == 0) {
            return Err(format!(
                "{} of {} requests to the {} server were not answered 2xx in row {}; the first: {}",
                m.failed,
                m.ok + m.failed,
                NAMES[i],
                scenario.name(),
                m.first_failure.as_deref().unwrap_or("none answered")
            ));
        }
        Ok(())
    };
    if o.warmup > 0.0 {
        for i in 0..targets.len() {
            let (m, _) = run(i, o.warmup);
            checked(i, &m)?;
        }
    }
    println!(
        "  {:>6} | {:>8} {:>6} {:>6} {:>6} | {:>8} {:>6} {:>6} {:>6} | {:>8} {:>6} {:>6} {:>6} | {:>9} {:>10} {:>6}",
        "round",
        "bare/s",
        "p50ms",
        "p99ms",
        "us/req",
        "mock/s",
        "p50ms",
        "p99ms",
        "us/req",
        "Prism/s",
        "p50ms",
        "p99ms",
        "us/req",
        "mock/bare",
        "mock/Prism",
        "other%"
    );
    let mut rounds: Vec<[Option<Cell>; 3]> = Vec::new();
    let mut others = Vec::new();
    let mut prism_refused = (0u64, 0u64, None::<String>);
    for round in 0..o.rounds {
        // The order rotates each round, so drift spreads over every server.
        let n = targets.len();
        let cpu = CpuSample::now();
        let mut excluded = 0;
        let mut cells: [Option<Cell>; 3] = [None; 3];
        for k in 0..n {
            let i = (round + k) % n;
            let (mut m, prism_jiffies) = run(i, o.seconds);
            checked(i, &m)?;
            excluded += prism_jiffies;
            if i == PRISM {
                prism_refused.0 += m.failed;
                prism_refused.1 += m.ok + m.failed;
                if prism_refused.2.is_none() {
                    prism_refused.2 = m.first_failure.take();
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
            .and_then(|c| c.others_since_but(cores, excluded))
            .unwrap_or(f64::NAN);
        others.push(busy);
        print_round(&(round + 1).to_string(), &cells, busy, None);
        rounds.push(cells);
    }
    bare_task.abort();
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
    let prism_ratios = ratios(PRISM);
    let cells = [cell(BARE), cell(MOCK), cell(PRISM)];
    let row = Row {
        scenario,
        cells,
        mock_bare: median(bare_ratios.clone()),
        mock_bare_range: (
            bare_ratios.iter().copied().fold(f64::INFINITY, f64::min),
            bare_ratios.iter().copied().fold(0.0, f64::max),
        ),
        mock_prism: (!prism_ratios.is_empty()).then(|| median(prism_ratios)),
        others: median(others.clone()),
        prism_refused: (prism_refused.0 > 0).then(|| {
            (
                prism_refused.0,
                prism_refused.1,
                prism_refused.2.unwrap_or_default(),
            )
        }),
    };
    print_round(
        "median",
        &row.cells,
        row.others,
        Some((row.mock_bare, row.mock_prism)),
    );
    println!(
        "  mock/bare {:.3} (rounds {:.3} to {:.3}){}",
        row.mock_bare,
        row.mock_bare_range.0,
        row.mock_bare_range.1,
        row.mock_prism
            .map_or(String::new(), |r| format!(", mock/Prism {r:.1}"))
    );
    if let Some((refused, of, first)) = &row.prism_refused {
        println!(
            "  Prism answered {refused} of {of} requests other than 2xx (not counted); the first: {first}"
        );
    }
    let busiest = others.iter().copied().fold(0.0, f64::max);
    if busiest > OTHERS_WARNING {
        println!("  warning: other processes took up to {busiest:.0}% of a core during a round");
    }
    Ok(row)
}

/// One line of the table; `ratios` overrides the ratios computed from `cells` (the median line
/// shows the medians of the per-round ratios, as the targets are judged).
fn print_round(
    label: &str,
    cells: &[Option<Cell>; 3],
    others: f64,
    ratios: Option<(f64, Option<f64>)>,
) {
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
    let (bare, prism) = match ratios {
        Some((bare, prism)) => (bare, prism.unwrap_or(f64::NAN)),
        None => (ratio(BARE), ratio(PRISM)),
    };
    println!(
        "  {label:>6} | {} | {} | {} | {:>9.3} {:>10.1} {others:>6.0}",
        cell(&cells[BARE]),
        cell(&cells[MOCK]),
        cell(&cells[PRISM]),
        bare,
        prism
    );
    let _ = std::io::stdout().flush();
}

fn row_verdicts(row: &Row, with_prism: bool) -> Vec<Verdict> {
    let label = row.scenario.label();
    let bare_prism = match (&row.cells[BARE], &row.cells[PRISM]) {
        (Some(bare), Some(prism)) if prism.per_second > 0.0 => {
            Some(bare.per_second / prism.per_second)
        }
        _ => None,
    };
    let mut verdicts = vec![
        Verdict::at_least(
            format!("{label}: mock/bare"),
            row.mock_bare,
            BARE_TARGET,
            format!(
                "median of the per-round ratios (rounds {:.3} to {:.3})",
                row.mock_bare_range.0, row.mock_bare_range.1
            ),
        )
        .explained(row.scenario.short_of_bare()),
    ];
    if with_prism {
        verdicts.push(match row.mock_prism {
            Some(ratio) => Verdict::at_least(
                format!("{label}: mock/Prism"),
                ratio,
                PRISM_TARGET,
                "median of the per-round ratios".to_owned(),
            )
            .explained(&row.scenario.short_of_prism(bare_prism)),
            None => Verdict {
                name: format!("{label}: mock/Prism"),
                pass: false,
                detail: "Prism answered no request 2xx: no ratio".to_owned(),
            },
        });
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
            .explained(row.scenario.p99_over()),
        );
    }
    verdicts
}

fn rows_markdown(o: &Options, rows: &[Row], with_prism: bool, verdicts: &[Verdict]) -> String {
    let mut out = format!(
        "{} keep-alive HTTP/1.1 connections from one load-generator thread, each request written \
         whole and sent as soon as the last was answered; only 2xx answers counted. The mock and \
         the bare server run in the bench's process on a {}-thread runtime; Prism is a child \
         process (`prism mock openapi.yaml -v silent`, paths without `/api/public`). Each row: {} \
         round(s) of {} s per server after a {} s warm-up each, the order rotating; every figure \
         is the median over the rounds, each ratio the median of the per-round ratios. `µs/req`: \
         the server's CPU time per answer.\n\n",
        o.concurrency, o.server_threads, o.rounds, o.seconds, o.warmup
    );
    out.push_str(
        "| row | mock req/s | mock p50 / p99 ms | mock µs/req | bare req/s | bare p50 / p99 ms | bare µs/req | Prism req/s | Prism p50 / p99 ms | **mock/bare** | **mock/Prism** | others' CPU |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
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
        let [p_rps, p_lat, _] = fmt(&row.cells[PRISM]);
        out.push_str(&format!(
            "| {} | {m_rps} | {m_lat} | {m_cpu} | {b_rps} | {b_lat} | {b_cpu} | {p_rps} | {p_lat} | **{:.3}** ({:.3}–{:.3}) | **{}** | {:.0} % |\n",
            row.scenario.label(),
            row.mock_bare,
            row.mock_bare_range.0,
            row.mock_bare_range.1,
            row.mock_prism.map_or_else(|| "—".to_owned(), round_like),
            row.others
        ));
    }
    if !with_prism {
        out.push_str("\nPrism was not measured in this run (`--no-prism`, or not installed).\n");
    }
    for row in rows {
        if let Some((refused, of, first)) = &row.prism_refused {
            out.push_str(&format!(
                "\n{}: Prism answered {refused} of {of} requests other than 2xx (not counted); the first: `{}`\n",
                row.scenario.label(),
                first.chars().take(160).collect::<String>()
            ));
        }
    }
    out.push_str(&format!(
        "\n`others' CPU`: what other programs used meanwhile, in % of one core (Prism's own CPU \
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
    out.push_str(&markdown(verdicts));
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
