//! The throughput measurement: the mock's requests/s against the bare multipart server's, loaded
//! side by side in one process with the same request.

use std::io::Write;
use std::time::Duration;

use musicgpt_cover_mock::{MockConfig, MockServer};

use crate::bare::start_bare;
use crate::load::{LoadClient, Measurement, Target, load};
use crate::options::Options;
use crate::procfs::{CpuSample, OTHERS_WARNING, cpu_share, thread_jiffies};
use crate::request::{COVER_PATH, probe};
use crate::setup::{http_client, runtime};
use crate::verdict::Verdict;

/// The mock's throughput must be at least this share of the bare parser's.
pub(crate) const THROUGHPUT_TARGET: f64 = 0.8;
/// The name of the servers' runtime's threads, to measure their CPU use.
const SERVER_THREADS: &str = "bench-server";
/// The name of the load generator's runtime's threads.
const CLIENT_THREADS: &str = "bench-client";

/// Columns of a throughput row: per server req/s, p50, p99, CPU %, CPU us per request; then
/// mock/bare and the other processes' CPU %.
const ROW: usize = 12;

/// The mock in-process against the bare server, side by side, round by round, per scenario;
/// its targets are the per-scenario medians of mock/bare.
pub(crate) fn measure(o: &Options, cores: usize) -> Result<Vec<Verdict>, String> {
    let servers = runtime(SERVER_THREADS, o.server_threads)?;
    let clients = runtime(CLIENT_THREADS, o.client_threads)?;
    // The binary's defaults but for the time scale: tasks end as soon as they are accepted (time
    // scale 0), so the 10,000-task store fills with finished tasks, which are evicted, and not
    // with running ones, which would be refused with 429 at this rate (a place frees only when a
    // task ends). The 1,000-entry journal is full within the warm-up. No webhook_url: no webhooks.
    let mock = servers
        .block_on(MockServer::try_start(MockConfig::new().time_scale(0.0)))
        .map_err(|e| format!("the mock could not start: {e}"))?;
    let (bare_addr, bare_task) = servers.block_on(start_bare())?;
    let client = http_client()?;
    let how = if o.raw_client {
        LoadClient::Raw
    } else {
        LoadClient::Reqwest(client.clone())
    };
    let targets = [
        Target {
            name: "bare",
            url: format!("http://{bare_addr}{COVER_PATH}"),
            addr: bare_addr,
        },
        Target {
            name: "mock",
            url: mock.url("/v1/Cover"),
            addr: mock.addr(),
        },
    ];
    println!(
        "\n== throughput: the mock against a bare axum + multer parser ==\n\
         one process; servers on a {}-thread runtime, load generator on a {}-thread runtime (both\n\
         compete for the same cores); {} keep-alive HTTP/1.1 connections, {};\n\
         {} round(s) per scenario of {} s per server, the order alternating; {} s warm-up per server",
        o.server_threads,
        o.client_threads,
        o.concurrency,
        if o.raw_client {
            "raw TCP (--client raw)"
        } else {
            "one reqwest client"
        },
        o.rounds,
        o.seconds,
        o.warmup
    );
    let mut verdicts = Vec::new();
    for &scenario in &o.scenarios {
        let body = scenario.body();
        println!(
            "\nscenario {}: {} ({} bytes of body)",
            scenario.name(),
            scenario.describe(),
            body.len()
        );
        for target in &targets {
            let answer = clients.block_on(probe(&client, &target.url, body.clone()))?;
            println!(
                "  {} answers 200, {} bytes: {}",
                target.name,
                answer.len(),
                answer.chars().take(96).collect::<String>()
            );
        }
        let run = |target: &Target, seconds: f64| -> Result<Measurement, String> {
            let server_before = thread_jiffies(SERVER_THREADS);
            let client_before = thread_jiffies(CLIENT_THREADS);
            let mut m = clients.block_on(load(
                how.clone(),
                target,
                body.clone(),
                o.concurrency,
                Duration::from_secs_f64(seconds),
            ));
            m.server_cpu = cpu_share(server_before, thread_jiffies(SERVER_THREADS), cores);
            m.client_cpu = cpu_share(client_before, thread_jiffies(CLIENT_THREADS), cores);
            if m.failed > 0 {
                return Err(format!(
                    "{} of {} requests to the {} server failed in scenario {}; the first: {}",
                    m.failed,
                    m.ok + m.failed,
                    target.name,
                    scenario.name(),
                    m.first_failure.as_deref().unwrap_or("?")
                ));
            }
            if m.ok == 0 {
                return Err(format!("the {} server answered nothing", target.name));
            }
            Ok(m)
        };
        if o.warmup > 0.0 {
            for target in &targets {
                run(target, o.warmup)?;
            }
        }
        println!(
            "  {:>6} {:>5} | {:>7} {:>6} {:>6} {:>5} {:>6} | {:>7} {:>6} {:>6} {:>5} {:>6} | {:>9} {:>7}",
            "", "", "bare", "", "", "", "", "mock", "", "", "", "", "", "others"
        );
        println!(
            "  {:>6} {:>5} | {:>7} {:>6} {:>6} {:>5} {:>6} | {:>7} {:>6} {:>6} {:>5} {:>6} | {:>9} {:>7}",
            "round",
            "first",
            "req/s",
            "p50 ms",
            "p99 ms",
            "cpu%",
            "us/req",
            "req/s",
            "p50 ms",
            "p99 ms",
            "cpu%",
            "us/req",
            "mock/bare",
            "cpu%"
        );
        let print_row = |label: &str, first: &str, r: &[f64; ROW]| {
            println!(
                "  {label:>6} {first:>5} | {:>7.0} {:>6.2} {:>6.2} {:>5.0} {:>6.1} | {:>7.0} {:>6.2} {:>6.2} {:>5.0} {:>6.1} | {:>9.3} {:>7.0}",
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]
            );
            let _ = std::io::stdout().flush();
        };
        let mut rows: Vec<[f64; ROW]> = Vec::new();
        // The load generator's CPU % while loading bare, and mock.
        let mut client_cpu: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for round in 0..o.rounds {
            // Bare first in even rounds, mock first in odd ones: drift cancels out.
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            let mut results: [Option<Measurement>; 2] = [None, None];
            let cpu = CpuSample::now();
            for i in order {
                results[i] = Some(run(&targets[i], o.seconds)?);
            }
            let [Some(mut bare), Some(mut mock_m)] = results else {
                return Err("a measurement is missing".to_owned());
            };
            client_cpu[0].push(bare.client_cpu);
            client_cpu[1].push(mock_m.client_cpu);
            let row = [
                bare.per_second(),
                bare.latency_ms(0.5),
                bare.latency_ms(0.99),
                bare.server_cpu,
                bare.server_micros_per_request(),
                mock_m.per_second(),
                mock_m.latency_ms(0.5),
                mock_m.latency_ms(0.99),
                mock_m.server_cpu,
                mock_m.server_micros_per_request(),
                mock_m.per_second() / bare.per_second(),
                cpu.and_then(|c| c.others_since(cores)).unwrap_or(f64::NAN),
            ];
            print_row(&(round + 1).to_string(), targets[order[0]].name, &row);
            rows.push(row);
        }
        let mut med = [0.0; ROW];
        for (c, m) in med.iter_mut().enumerate() {
            *m = median(rows.iter().map(|r| r[c]).collect());
        }
        print_row("median", "", &med);
        let ratios: Vec<f64> = rows.iter().map(|r| r[10]).collect();
        let busiest = rows.iter().map(|r| r[11]).fold(0.0, f64::max);
        if busiest > OTHERS_WARNING {
            println!(
                "  warning: other processes took up to {busiest:.0}% of a core during a round"
            );
        }
        let ratio = med[10];
        println!(
            "  server CPU per request (medians): bare {:.1} us, mock {:.1} us; bare/mock {:.3}",
            med[4],
            med[9],
            med[4] / med[9]
        );
        let client_on_bare = median(client_cpu[0].clone());
        println!(
            "  load generator CPU (medians): {client_on_bare:.0}% of a core while loading bare, {:.0}% while loading mock",
            median(client_cpu[1].clone())
        );
        // A server that is not busy all the time while the load generator is: the generator set
        // the pace, and the bare server's throughput (so the ratio's denominator) is understated.
        let server_room = 100.0 * o.server_threads as f64;
        let client_room = 100.0 * o.client_threads as f64;
        if med[3] < 0.95 * server_room && client_on_bare >= 0.9 * client_room {
            println!(
                "  note: the load generator, not the bare server, limited the bare server's throughput\n\
                 \x20       (bare server {:.0}% busy, load generator {client_on_bare:.0}%): mock/bare overstates the\n\
                 \x20       mock; `--client raw` costs the load generator less",
                med[3]
            );
        }
        verdicts.push(Verdict {
            name: format!("throughput, scenario {}", scenario.name()),
            pass: ratio >= THROUGHPUT_TARGET,
            detail: format!(
                "mock/bare median {ratio:.3} (target >= {THROUGHPUT_TARGET}; rounds {:.3} to {:.3}); mock {:.0} req/s, bare {:.0} req/s (medians)",
                ratios.iter().copied().fold(f64::INFINITY, f64::min),
                ratios.iter().copied().fold(0.0, f64::max),
                med[5],
                med[0]
            ),
        });
    }
    drop(mock);
    bare_task.abort();
    Ok(verdicts)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
