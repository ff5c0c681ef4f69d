//! Start-up: how long until a mock answers its first request. The release binary from exec to its
//! first answered `GET /v1/getAllVoices`; `MockServer::start()` in-process, in a fresh process
//! each time (this program run again with [`CHILD_ARG`]: the spec is compiled once per process,
//! on the first start, which a test binary pays once), and a second start in that process; each
//! peer (Prism, WireMock, Mockoon: `peers.rs`) from exec to its first answer. Medians.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use musicgpt_cover_mock::{MockServer, api_base_path};

use crate::Part;
use crate::child::{ChildServer, free_port, get_once, ready_path};
use crate::common::mock::{binary, command};
use crate::options::Options;
use crate::peers::{self, Kind};
use crate::setup::{child_exit, run_child, runtime};
use crate::throughput::median_of;
use crate::verdict::Verdict;

/// The argument that makes this program the in-process start-up's child.
pub(crate) const CHILD_ARG: &str = "--startup-child";
/// The release binary's start-up target, exec to first answer.
pub(crate) const BINARY_TARGET: Duration = Duration::from_millis(50);
/// `MockServer::start()`'s target.
pub(crate) const IN_PROCESS_TARGET: Duration = Duration::from_millis(5);

/// In the child: `MockServer::start()` timed (the first in this process, then a second), and the
/// first request answered; one line on stdout, `start_us first_answer_us second_start_us`.
pub(crate) fn child(args: &[String]) -> Option<ExitCode> {
    if args.first().map(String::as_str) != Some(CHILD_ARG) {
        return None;
    }
    let line = runtime("startup-child", 1).and_then(|runtime| {
        runtime.block_on(async {
            let started = Instant::now();
            let first = MockServer::start().await;
            let start = started.elapsed();
            let addr = first.addr();
            let path = format!("{}{}", api_base_path(), ready_path()?);
            let answered = tokio::task::spawn_blocking(move || get_once(addr, &path))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            let first_answer = started.elapsed();
            match answered {
                Ok(200) => {}
                Ok(status) => return Err(format!("the first request was answered {status}")),
                Err(e) => return Err(format!("the first request failed: {e}")),
            }
            let again = Instant::now();
            let second = MockServer::start().await;
            let second_start = again.elapsed();
            drop((first, second));
            Ok(format!(
                "{} {} {}",
                start.as_micros(),
                first_answer.as_micros(),
                second_start.as_micros()
            ))
        })
    });
    Some(child_exit("startup child", line))
}

/// One fresh process's `MockServer::start()`: (first start, first answer, second start).
fn in_process_once() -> Result<[Duration; 3], String> {
    let (status, values, text) = run_child(&[CHILD_ARG], "start-up")?;
    match (status.success(), values.as_slice()) {
        (true, [a, b, c]) => Ok([a, b, c].map(|us| Duration::from_micros(*us))),
        _ => Err(format!("the start-up child failed ({status}): {text}")),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn measure(o: &Options) -> Result<Part, String> {
    let binary = binary()?;
    println!(
        "\n== start-up: from exec (or the call) to the first answered request ==\n\
         binary {}; {} run(s) each of the binary and of MockServer::start(), {} of each peer",
        binary.display(),
        o.startup_runs,
        o.peer_startup_runs
    );
    let mut binary_times = Vec::new();
    for _ in 0..o.startup_runs {
        let port = free_port()?;
        let command = command(&binary, port, &[]);
        let server = ChildServer::start(command, port, &api_base_path(), "the mock's binary")?;
        binary_times.push(server.started_in);
    }
    let in_process = (0..o.startup_runs)
        .map(|_| in_process_once())
        .collect::<Result<Vec<_>, _>>()?;
    let [starts, answers, seconds]: [Vec<Duration>; 3] =
        std::array::from_fn(|i| in_process.iter().map(|run| run[i]).collect());
    // Each peer's start-ups, or why it is left out.
    let mut peer_times: Vec<(Kind, Result<Vec<Duration>, String>)> = Vec::new();
    for (kind, found) in peers::find(o, |kind| format!("left out ({})", kind.flag()))? {
        let times = match found {
            Ok(program) => Ok((0..o.peer_startup_runs)
                .map(|_| program.start(o.concurrency).map(|server| server.started_in))
                .collect::<Result<_, _>>()?),
            Err(why) => Err(why),
        };
        peer_times.push((kind, times));
    }
    // A row: what was timed, how many runs, their median and range.
    let row = |what: &str, t: &[Duration]| {
        let min = t.iter().min().copied().unwrap_or_default();
        let max = t.iter().max().copied().unwrap_or_default();
        let range = format!("{:.1} to {:.1} ms", ms(min), ms(max));
        (
            what.to_owned(),
            t.len().to_string(),
            Some(median_of(t)),
            range,
        )
    };
    let mut rows: Vec<(String, String, Option<Duration>, String)> = vec![
        row(
            "release binary, exec → first answered request",
            &binary_times,
        ),
        row(
            "`MockServer::start()`, first in a process (compiles the spec)",
            &starts,
        ),
        row(
            "`MockServer::start()` → first answered request, same process",
            &answers,
        ),
        row(
            "`MockServer::start()`, another in the same process",
            &seconds,
        ),
    ];
    for (kind, times) in &peer_times {
        let what = format!("{}, exec → first answered request", kind.name());
        rows.push(match times {
            Ok(times) => row(&what, times),
            Err(why) => (what, "0".to_owned(), None, why.clone()),
        });
    }
    println!("  {:<66} {:>5} {:>10}  range", "", "runs", "median ms");
    let ready = ready_path()?;
    let mut md = format!(
        "The release binary is started with `--addr 127.0.0.1:PORT` and polled every millisecond \
         with `GET {}{ready}` until it answers 200; each peer likewise, run as \
         in the throughput rows (Prism `GET {ready}`; WireMock's stubs and Mockoon's \
         data file are written before the clock starts). `MockServer::start()` runs in a fresh \
         process each time (the bench run again), on a one-worker Tokio runtime made before the \
         clock starts.\n\n| start-up | runs | median | range |\n|---|---|---|---|\n",
        api_base_path()
    );
    for (what, runs, median, range) in &rows {
        let median = median.map_or_else(|| "—".to_owned(), |m| format!("{:.1} ms", ms(m)));
        println!("  {what:<66} {runs:>5} {median:>10}  {range}");
        md.push_str(&format!("| {what} | {runs} | **{median}** | {range} |\n"));
    }
    let binary_median = median_of(&binary_times);
    let start_median = median_of(&starts);
    let verdicts = vec![
        Verdict::at_most(
            "release binary start-up".to_owned(),
            ms(binary_median),
            ms(BINARY_TARGET),
            "ms",
            format!(
                "exec → first answered request, median of {}",
                o.startup_runs
            ),
        ),
        Verdict::at_most(
            "`MockServer::start()`".to_owned(),
            ms(start_median),
            ms(IN_PROCESS_TARGET),
            "ms",
            format!("first in a fresh process, median of {}", o.startup_runs),
        ),
    ];
    let mut compared = Vec::new();
    for (kind, times) in &peer_times {
        if let Ok(times) = times
            && !times.is_empty()
        {
            let peer = median_of(times);
            compared.push(format!(
                "{} takes {:.0} × the binary's start-up ({:.0} ms against {:.1} ms).",
                kind.name(),
                peer.as_secs_f64() / binary_median.as_secs_f64(),
                ms(peer),
                ms(binary_median)
            ));
        }
    }
    if !compared.is_empty() {
        let line = compared.join(" ");
        println!("  {line}");
        md.push_str(&format!("\n{line}\n"));
    }
    md.push('\n');
    Part::new("startup", "Start-up (issue 12, item 3)", md, verdicts)
}
