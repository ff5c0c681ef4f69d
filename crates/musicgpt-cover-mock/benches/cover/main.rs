//! The mock's benchmarks, run by `cargo xtask bench` (a `harness = false` target: `cargo test`
//! never runs it; `cargo bench -p musicgpt-cover-mock --bench cover` does).
//!
//! - **throughput**: the mock in-process against a bare axum server that only streams the same
//!   multipart body through multer, loaded side by side in one process with the same request;
//!   target: the mock's requests/s at least [`THROUGHPUT_TARGET`] × the bare server's (the
//!   median of the per-round ratios).
//! - **rss**: the mock's release binary as a child process, sent a 1 GiB `audio_file` streamed
//!   from a generator; target: its peak RSS (`VmHWM`) at most [`RSS_TARGET_BYTES`] over its RSS
//!   before. Then an upload over `--max-upload-bytes` must get 413, again without the RSS growing.
//!
//! The load generator shares the machine's cores with the servers: they run on a Tokio runtime of
//! their own (one worker thread by default) and it on another (one worker), so neither starves
//! the other and work stealing cannot mix them. Every measurement also reports, from /proc, the
//! servers' CPU use and other processes' (a busy machine shows). The README's "Benchmarks" section
//! has the whole method and the results.
//!
//! Exit status: 0 when every target is met, 1 when one is missed, 2 when the run is not valid (a
//! request failed, a server could not start, bad options).

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use musicgpt_cover_mock::{MockConfig, MockServer};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// The mock's throughput must be at least this share of the bare parser's.
const THROUGHPUT_TARGET: f64 = 0.8;
/// The most a 1 GiB upload may add to the mock's peak RSS.
const RSS_TARGET_BYTES: u64 = 64 << 20;
/// The name of the servers' runtime's threads, to measure their CPU use.
const SERVER_THREADS: &str = "bench-server";
/// The name of the load generator's runtime's threads.
const CLIENT_THREADS: &str = "bench-client";
/// Other programs' CPU use (percent of one core) above which a measurement is flagged.
const OTHERS_WARNING: f64 = 10.0;
/// Where `cargo xtask bench` says the mock's release binary is.
const BIN_ENV: &str = "MUSICGPT_BENCH_MOCK_BIN";
/// Any non-empty key is accepted by a mock started without `--api-key`.
const KEY: &str = "bench-key";
/// The Cover operation's path, on both servers.
const COVER_PATH: &str = "/api/public/v1/Cover";
/// A curl-like boundary; the same bytes go to both servers.
const BOUNDARY: &str = "------------------------b3nchMA4YWxkTrZu0gW";
/// The size of the file part of the `file` scenario.
const FILE_SCENARIO_BYTES: usize = 64 * 1024;
/// The chunk the big uploads are generated in (one buffer, sent over and over).
const UPLOAD_CHUNK: usize = 256 * 1024;
/// The longest an upload of the rss part may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);
/// The bare server's answer: the README's sample answer of the mock, so both send as much.
const BARE_ANSWER: &[u8] = br#"{"success":true,"task_id":"847db400-7af1-4b60-8f8f-fdbc8a2fc1ae","conversion_id":"22d4b677-509f-4302-8e2e-0284ea0d2218","eta":62,"credit_estimate":1.11,"message":"Message published to queue","status":"IN_QUEUE"}"#;

const USAGE: &str = "\
usage: cargo xtask bench [OPTIONS]
   or: MUSICGPT_BENCH_MOCK_BIN=$PWD/target/release/musicgpt-cover-mock \\
       cargo bench -p musicgpt-cover-mock --bench cover -- [OPTIONS]
   (the program measures only when given --bench, as cargo bench does)

options:
  --rounds N            throughput rounds per scenario, each measuring bare and mock (default 5)
  --seconds S           seconds per measurement (default 3)
  --warmup S            seconds of load on each server before a scenario's rounds (default 1)
  --concurrency C       concurrent requests, one keep-alive connection each (default 16)
  --scenario NAME       url, file or all (default all)
  --server-threads N    worker threads of the servers' runtime (default 1)
  --client-threads N    worker threads of the load generator's runtime (default 1)
  --client KIND         the load generator: raw (a keep-alive TCP connection per task, requests
                        written whole; default: it leaves the pace to the servers) or reqwest
                        (one client, its keep-alive pool; saturates its core first)
  --only WHAT           throughput or rss (default both)
  --upload-mib N        size of the accepted upload of the rss part (default 1024)
  --limit-mib N         --max-upload-bytes of the mock that must refuse it (default 256)
  -h, --help            this message

exit status: 0 every target met, 1 a target missed, 2 the run is not valid
";

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
    report_others_before(cores);
    let mut verdicts = Vec::new();
    if options.only != Some(Only::Throughput) {
        match rss(&options) {
            Ok(v) => verdicts.extend(v),
            Err(e) => return invalid(&e),
        }
    }
    if options.only != Some(Only::Rss) {
        match throughput(&options, cores) {
            Ok(v) => verdicts.extend(v),
            Err(e) => return invalid(&e),
        }
    }
    println!("\ntargets");
    for v in &verdicts {
        println!(
            "  {}  {}: {}",
            if v.pass { "PASS" } else { "FAIL" },
            v.name,
            v.detail
        );
    }
    if verdicts.iter().all(|v| v.pass) {
        ExitCode::SUCCESS
    } else {
        println!("a target was missed");
        ExitCode::from(1)
    }
}

/// CPU time counters from /proc (Linux), to tell how much of the machine other programs took
/// while something was measured.
#[derive(Clone, Copy)]
struct CpuSample {
    /// Every CPU's jiffies, idle included.
    total: u64,
    /// Every CPU's busy jiffies (user, nice, system, irq, softirq, steal).
    busy: u64,
    /// This process's user and system jiffies.
    own: u64,
}

impl CpuSample {
    fn now() -> Option<CpuSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let field = |i: usize| cpu.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal (guest time is inside user already)
        let total = (0..8).map(field).sum();
        let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
        let own_stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let after_name = &own_stat[own_stat.rfind(')')? + 1..];
        let mut own_fields = after_name.split_whitespace().skip(11);
        let utime: u64 = own_fields.next()?.parse().ok()?;
        let stime: u64 = own_fields.next()?.parse().ok()?;
        Some(CpuSample {
            total,
            busy,
            own: utime + stime,
        })
    }

    /// How much CPU other processes used since `self`, in percent of one core.
    fn others_since(self, cores: usize) -> Option<f64> {
        let later = CpuSample::now()?;
        let total = later.total.checked_sub(self.total)?;
        if total == 0 {
            return None;
        }
        let busy = later.busy.saturating_sub(self.busy);
        let own = later.own.saturating_sub(self.own);
        Some(busy.saturating_sub(own) as f64 / total as f64 * cores as f64 * 100.0)
    }
}

/// CPU jiffies of this process's threads named `name` (a runtime's workers), and every CPU's
/// jiffies, idle included: together they say what share of the machine those threads took.
fn thread_jiffies(name: &str) -> Option<(u64, u64)> {
    let total = CpuSample::now()?.total;
    let mut threads = 0;
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] != name {
            continue;
        }
        let mut fields = stat[close + 1..].split_whitespace().skip(11);
        let utime: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        threads += utime + stime;
    }
    Some((threads, total))
}

/// Other programs' CPU use over one idle second before anything starts.
fn report_others_before(cores: usize) {
    let Some(before) = CpuSample::now() else {
        return;
    };
    std::thread::sleep(Duration::from_secs(1));
    if let Some(others) = before.others_since(cores) {
        println!("other processes used {others:.0}% of a core in the second before the run");
        if others > OTHERS_WARNING {
            println!(
                "  warning: the machine is not idle; absolute numbers will be low and ratios noisier"
            );
        }
    }
}

fn invalid(why: &str) -> ExitCode {
    eprintln!("\nerror: the run is not valid: {why}");
    ExitCode::from(2)
}

/// One target's outcome.
struct Verdict {
    name: String,
    pass: bool,
    detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Only {
    Throughput,
    Rss,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    /// The reference page's curl sample without its webhook: `audio_url`, `voice_id`, `pitch`.
    Url,
    /// Its Python upload sample without the webhook: `audio_url` empty, `voice_id`, `pitch`, and
    /// a 64 KiB `audio_file`.
    File,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Url => "url",
            Scenario::File => "file",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Scenario::Url => "the curl sample without webhook_url: audio_url, voice_id, pitch",
            Scenario::File => {
                "the upload sample without webhook_url: audio_url \"\", voice_id, pitch, a 64 KiB audio_file"
            }
        }
    }

    /// The whole request body, built once and shared by every request.
    fn body(self) -> Bytes {
        let mut body = Vec::new();
        match self {
            Scenario::Url => {
                text_part(
                    &mut body,
                    "audio_url",
                    "https://www.youtube.com/watch?v=jGflUbPQfW8",
                );
                text_part(&mut body, "voice_id", "Drake");
                text_part(&mut body, "pitch", "0");
            }
            Scenario::File => {
                text_part(&mut body, "audio_url", "");
                text_part(&mut body, "voice_id", "Drake");
                text_part(&mut body, "pitch", "0");
                body.extend_from_slice(&file_head());
                body.extend_from_slice(&noise(FILE_SCENARIO_BYTES));
                body.extend_from_slice(b"\r\n");
            }
        }
        body.extend_from_slice(&closing());
        Bytes::from(body)
    }
}

#[derive(Debug)]
struct Options {
    rounds: usize,
    seconds: f64,
    warmup: f64,
    concurrency: usize,
    scenarios: Vec<Scenario>,
    server_threads: usize,
    client_threads: usize,
    only: Option<Only>,
    raw_client: bool,
    upload_mib: u64,
    limit_mib: u64,
}

impl Options {
    /// `None` for `--help`.
    fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let mut o = Options {
            rounds: 5,
            seconds: 3.0,
            warmup: 1.0,
            concurrency: 16,
            scenarios: vec![Scenario::Url, Scenario::File],
            server_threads: 1,
            client_threads: 1,
            only: None,
            raw_client: true,
            upload_mib: 1024,
            limit_mib: 256,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = || -> Result<String, String> {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                // `cargo bench` adds `--bench` to a harness-less target's arguments.
                "--bench" => {}
                "-h" | "--help" => return Ok(None),
                "--rounds" => o.rounds = positive(&flag, &value()?)?,
                "--seconds" => o.seconds = seconds(&flag, &value()?)?,
                "--warmup" => o.warmup = seconds(&flag, &value()?)?,
                "--concurrency" => o.concurrency = positive(&flag, &value()?)?,
                "--server-threads" => o.server_threads = positive(&flag, &value()?)?,
                "--client-threads" => o.client_threads = positive(&flag, &value()?)?,
                "--upload-mib" => o.upload_mib = positive(&flag, &value()?)? as u64,
                "--limit-mib" => o.limit_mib = positive(&flag, &value()?)? as u64,
                "--scenario" => {
                    o.scenarios = match value()?.as_str() {
                        "url" => vec![Scenario::Url],
                        "file" => vec![Scenario::File],
                        "all" => vec![Scenario::Url, Scenario::File],
                        other => {
                            return Err(format!(
                                "--scenario must be url, file or all, got {other:?}"
                            ));
                        }
                    }
                }
                "--client" => {
                    o.raw_client = match value()?.as_str() {
                        "reqwest" => false,
                        "raw" => true,
                        other => {
                            return Err(format!("--client must be reqwest or raw, got {other:?}"));
                        }
                    }
                }
                "--only" => {
                    o.only = Some(match value()?.as_str() {
                        "throughput" => Only::Throughput,
                        "rss" => Only::Rss,
                        other => {
                            return Err(format!("--only must be throughput or rss, got {other:?}"));
                        }
                    })
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if o.seconds <= 0.0 {
            return Err("--seconds must be more than 0".to_owned());
        }
        if o.limit_mib >= o.upload_mib {
            return Err(format!(
                "--limit-mib ({}) must be below --upload-mib ({}): the refused upload is that large",
                o.limit_mib, o.upload_mib
            ));
        }
        Ok(Some(o))
    }
}

fn positive(flag: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{flag} must be a whole number above 0, got {value:?}"
        )),
    }
}

fn seconds(flag: &str, value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=3600.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{flag} must be a number of seconds from 0 to 3600, got {value:?}"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Multipart bodies, written by hand so both servers get exactly the same bytes and the load
// generator only clones a `Bytes` per request.

fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

fn text_part(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .as_bytes(),
    );
}

fn file_head() -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"song.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n"
    )
    .into_bytes()
}

fn closing() -> Vec<u8> {
    format!("--{BOUNDARY}--\r\n").into_bytes()
}

/// Bytes that look like compressed audio (no long runs for the boundary search to skip): a
/// xorshift generator's output.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn runtime(name: &str, threads: usize) -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the {name} runtime: {e}"))
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Throughput

/// The bare server's one route: the body streamed through multer, every field read to its end,
/// nothing checked; a fixed JSON answer.
async fn parse_only(request: Request) -> Response {
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok());
    let Some(boundary) = boundary else {
        return answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}"));
    };
    let mut multipart = multer::Multipart::new(request.into_body().into_data_stream(), boundary);
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) => loop {
                match field.chunk().await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => return answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
                }
            },
            Ok(None) => break,
            Err(_) => return answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
        }
    }
    answer(StatusCode::OK, Bytes::from_static(BARE_ANSWER))
}

fn answer(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Starts the bare server on the current runtime; the handle stops it when aborted.
async fn start_bare() -> Result<(SocketAddr, JoinHandle<()>), String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|e| format!("the bare server cannot listen on 127.0.0.1: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("the bare server's address: {e}"))?;
    let app = Router::new().route(COVER_PATH, post(parse_only));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

/// Columns of a throughput row: per server req/s, p50, p99, CPU %, CPU us per request; then
/// mock/bare and the other processes' CPU %.
const ROW: usize = 12;

/// One server under load.
struct Target {
    name: &'static str,
    url: String,
    addr: SocketAddr,
}

/// What one measurement saw.
#[derive(Default)]
struct Measurement {
    ok: u64,
    failed: u64,
    first_failure: Option<String>,
    elapsed: Duration,
    /// Latency of every answered request, in microseconds.
    latencies: Vec<u32>,
    /// The servers' runtime's CPU use, in percent of one core (NaN off Linux).
    server_cpu: f64,
    /// The load generator's runtime's CPU use, likewise.
    client_cpu: f64,
}

impl Measurement {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The servers' runtime's CPU time per answered request, in microseconds.
    fn server_micros_per_request(&self) -> f64 {
        self.server_cpu / 100.0 * self.elapsed.as_secs_f64() * 1e6 / self.ok as f64
    }

    /// The `q` quantile of the latencies, in milliseconds.
    fn latency_ms(&mut self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        let (_, nth, _) = self.latencies.select_nth_unstable(index);
        f64::from(*nth) / 1000.0
    }
}

/// How the load generator sends.
#[derive(Clone)]
enum LoadClient {
    /// One reqwest client for every task (its pool: one keep-alive connection per task).
    Reqwest(reqwest::Client),
    /// A keep-alive TCP connection per task, the request's bytes written whole and the answer
    /// read by hand: a few microseconds per request, so the server is what limits throughput.
    Raw,
}

/// The same request, from `concurrency` tasks each sending the next as soon as the last is
/// answered, for `duration`; requests/s counts the answers by the time the last one came.
async fn load(
    how: LoadClient,
    target: &Target,
    body: Bytes,
    concurrency: usize,
    duration: Duration,
) -> Measurement {
    let content_type = content_type();
    let raw_request = raw_request(target.addr, &body);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<JoinHandle<Measurement>> = (0..concurrency)
        .map(|_| {
            let how = how.clone();
            let (url, addr) = (Arc::<str>::from(target.url.as_str()), target.addr);
            let (body, raw_request, content_type) =
                (body.clone(), raw_request.clone(), content_type.clone());
            tokio::spawn(async move {
                let mut m = Measurement {
                    latencies: Vec::with_capacity(16 * 1024),
                    ..Measurement::default()
                };
                let mut connection: Option<RawConnection> = None;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let outcome = match &how {
                        LoadClient::Reqwest(client) => {
                            reqwest_once(client, &url, &content_type, body.clone()).await
                        }
                        LoadClient::Raw => raw_once(&mut connection, addr, &raw_request).await,
                    };
                    match outcome {
                        Ok(()) => {
                            m.ok += 1;
                            let micros = sent.elapsed().as_micros();
                            m.latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                        }
                        Err(e) => {
                            m.failed += 1;
                            m.first_failure.get_or_insert(e);
                        }
                    }
                }
                m
            })
        })
        .collect();
    let mut total = Measurement::default();
    for worker in workers {
        match worker.await {
            Ok(m) => {
                total.ok += m.ok;
                total.failed += m.failed;
                if total.first_failure.is_none() {
                    total.first_failure = m.first_failure;
                }
                total.latencies.extend(m.latencies);
            }
            Err(e) => {
                total.failed += 1;
                total
                    .first_failure
                    .get_or_insert(format!("a load task ended: {e}"));
            }
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// One Cover through reqwest; `Err` unless it was answered 200.
async fn reqwest_once(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    body: Bytes,
) -> Result<(), String> {
    let response = client
        .post(url)
        .header(header::AUTHORIZATION, KEY)
        .header(header::ACCEPT, "multipart/form-data")
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    match response.bytes().await {
        Ok(_) if status == StatusCode::OK => Ok(()),
        Ok(answer) => Err(format!("{status}: {}", String::from_utf8_lossy(&answer))),
        Err(e) => Err(format!("{status}, body unreadable: {e}")),
    }
}

/// The whole HTTP/1.1 request, head and body, as the raw load generator writes it: the same
/// headers as reqwest sends (but its `accept: */*` default and no `user-agent`, which reqwest
/// does not send either).
fn raw_request(addr: SocketAddr, body: &[u8]) -> Bytes {
    let mut request = format!(
        "POST {COVER_PATH} HTTP/1.1\r\nhost: {addr}\r\nauthorization: {KEY}\r\naccept: multipart/form-data\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
        content_type(),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    Bytes::from(request)
}

/// A raw keep-alive connection and its read buffer.
struct RawConnection {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

/// One Cover over the task's raw connection (opened, or opened again after an error, first);
/// `Err` unless it was answered 200.
async fn raw_once(
    connection: &mut Option<RawConnection>,
    addr: SocketAddr,
    request: &[u8],
) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    if connection.is_none() {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("could not connect to {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        *connection = Some(RawConnection {
            stream,
            buf: Vec::with_capacity(4096),
        });
    }
    let Some(c) = connection.as_mut() else {
        return Err("no connection".to_owned());
    };
    let exchange = async {
        c.stream.write_all(request).await?;
        c.buf.clear();
        loop {
            if let Some((status, start, len)) = parse_head(&c.buf)
                && c.buf.len() >= start + len
            {
                return Ok((status, start, len));
            }
            if c.stream.read_buf(&mut c.buf).await? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
        }
    };
    match exchange.await {
        Ok((200, _, _)) => Ok(()),
        Ok((status, start, len)) => Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&c.buf[start..start + len])
        )),
        Err(e) => {
            *connection = None;
            Err(format!("request failed: {e}"))
        }
    }
}

/// An HTTP/1.1 answer's status, where its body starts and how long it is (its Content-Length),
/// once `buf` holds the whole head.
fn parse_head(buf: &[u8]) -> Option<(u16, usize, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let len = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            if name.eq_ignore_ascii_case("content-length") {
                value.trim().parse().ok()
            } else {
                None
            }
        })
        .unwrap_or(0);
    Some((status, end + 4, len))
}

/// One request to `target`, which must answer 200; returns the answer's text.
async fn probe(client: &reqwest::Client, url: &str, body: Bytes) -> Result<String, String> {
    let response = client
        .post(url)
        .header(header::AUTHORIZATION, KEY)
        .header(header::ACCEPT, "multipart/form-data")
        .header(header::CONTENT_TYPE, content_type())
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{url}: {e}"))?;
    if status == StatusCode::OK {
        Ok(text)
    } else {
        Err(format!("{url} answered {status}: {text}"))
    }
}

fn throughput(o: &Options, cores: usize) -> Result<Vec<Verdict>, String> {
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

/// The share of the machine a thread group took between two [`thread_jiffies`] readings, in
/// percent of one core.
fn cpu_share(before: Option<(u64, u64)>, after: Option<(u64, u64)>, cores: usize) -> f64 {
    match (before, after) {
        (Some((t0, all0)), Some((t1, all1))) if all1 > all0 => {
            t1.saturating_sub(t0) as f64 / (all1 - all0) as f64 * cores as f64 * 100.0
        }
        _ => f64::NAN,
    }
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

// ---------------------------------------------------------------------------------------------
// Peak RSS of a large upload

/// The mock's binary as a child process; killed when dropped (also on a panic or an early
/// return).
struct Spawned {
    child: Child,
    addr: SocketAddr,
}

impl Spawned {
    fn start(binary: &Path, args: &[&str]) -> Result<Spawned, String> {
        let mut command = Command::new(binary);
        command.args(["--addr", "127.0.0.1:0"]).args(args);
        // Settings from the environment would change what is measured.
        for (name, _) in std::env::vars_os() {
            if name
                .to_str()
                .is_some_and(|n| n.starts_with("MUSICGPT_MOCK_") || n == "RUST_LOG")
            {
                command.env_remove(name);
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take();
        let mut spawned = Spawned {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        };
        let Some(stdout) = stdout else {
            return Err("the mock's stdout is not readable".to_owned());
        };
        // The mock prints `Listening on http://ADDR` once bound; the rest of its output is read
        // and dropped, so the pipe never fills.
        let (found, listening) = mpsc::channel();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("Listening on http://")
                    && let Some(found) = found.take()
                {
                    let _ = found.send(addr.trim().to_owned());
                }
            }
        });
        let addr = listening
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| format!("{} did not say where it listens", binary.display()))?;
        spawned.addr = addr
            .parse()
            .map_err(|_| format!("the mock listens on {addr:?}, not an address"))?;
        Ok(spawned)
    }

    fn cover_url(&self) -> String {
        format!("http://{}{COVER_PATH}", self.addr)
    }

    /// `VmRSS` and `VmHWM` (peak) of the child, in bytes.
    fn memory(&self) -> Result<Memory, String> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path)
            .map_err(|e| format!("could not read {path} (Linux only): {e}"))?;
        let field = |name: &str| -> Result<u64, String> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .map(|kib| kib * 1024)
                .ok_or_else(|| format!("{path} has no {name}"))
        };
        Ok(Memory {
            rss: field("VmRSS:")?,
            hwm: field("VmHWM:")?,
        })
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy)]
struct Memory {
    rss: u64,
    hwm: u64,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 20)
}

/// How the big body says how long it is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length`, as curl and browsers send a file.
    Declared,
    /// `Transfer-Encoding: chunked`: the server only learns the size by reading.
    Chunked,
}

/// The body of a Cover with an `audio_file` of `size` generated bytes, in pieces: one 256 KiB
/// buffer is yielded over and over, so the sender never holds the file either. Also the body's
/// length.
fn upload_parts(size: u64) -> Result<(impl Iterator<Item = Bytes> + Send + 'static, u64), String> {
    let mut head = Vec::new();
    text_part(&mut head, "voice_id", "Drake");
    text_part(&mut head, "pitch", "0");
    head.extend_from_slice(&file_head());
    let mut tail = b"\r\n".to_vec();
    tail.extend_from_slice(&closing());
    let total = head.len() as u64 + size + tail.len() as u64;
    let chunk = Bytes::from(noise(UPLOAD_CHUNK));
    let full = usize::try_from(size / UPLOAD_CHUNK as u64).map_err(|e| e.to_string())?;
    let rest = (size % UPLOAD_CHUNK as u64) as usize;
    let parts = std::iter::once(Bytes::from(head))
        .chain(std::iter::repeat_n(chunk.clone(), full))
        .chain((rest > 0).then(|| chunk.slice(..rest)))
        .chain(std::iter::once(Bytes::from(tail)));
    Ok((parts, total))
}

/// Sends the upload with reqwest (`Content-Length` set, the body a stream); returns the status,
/// the answer and how long it took.
async fn upload(
    client: &reqwest::Client,
    url: &str,
    size: u64,
) -> Result<(StatusCode, String, Duration), String> {
    let (parts, total) = upload_parts(size)?;
    let stream = futures::stream::iter(parts.map(Ok::<Bytes, std::io::Error>));
    let started = Instant::now();
    let response = client
        .post(url)
        .header(header::AUTHORIZATION, KEY)
        .header(header::CONTENT_TYPE, content_type())
        .header(header::CONTENT_LENGTH, total)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .map_err(|e| format!("the upload to {url} failed: {e}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    Ok((status, text, started.elapsed()))
}

/// What a hand-written upload saw.
struct RawAnswer {
    status: u16,
    body: String,
    took: Duration,
    /// Body bytes written to the socket before the answer came.
    sent: u64,
}

/// Sends the upload over a plain TCP connection and reads the answer while still sending,
/// stopping once it has come. For the refused uploads: when the server answers early and closes
/// the connection, hyper's client (so reqwest) can fail on writing the rest of the body and
/// report a transport error instead of the 413 that came first.
async fn upload_raw(addr: SocketAddr, size: u64, framing: Framing) -> Result<RawAnswer, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (parts, total) = upload_parts(size)?;
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("could not connect to {addr}: {e}"))?;
    let (mut read, mut write) = stream.into_split();
    let length = match framing {
        Framing::Declared => format!("Content-Length: {total}"),
        Framing::Chunked => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "POST {COVER_PATH} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {KEY}\r\nContent-Type: {}\r\n{length}\r\n\r\n",
        content_type()
    );
    let sent = std::cell::Cell::new(0u64);
    let started = Instant::now();
    let sender = async {
        write.write_all(head.as_bytes()).await?;
        for part in parts {
            if framing == Framing::Chunked {
                write
                    .write_all(format!("{:x}\r\n", part.len()).as_bytes())
                    .await?;
            }
            write.write_all(&part).await?;
            if framing == Framing::Chunked {
                write.write_all(b"\r\n").await?;
            }
            sent.set(sent.get() + part.len() as u64);
        }
        if framing == Framing::Chunked {
            write.write_all(b"0\r\n\r\n").await?;
        }
        Ok::<(), std::io::Error>(())
    };
    let receiver = async {
        let mut buf = Vec::with_capacity(4096);
        loop {
            if let Some((status, start, len)) = parse_head(&buf)
                && buf.len() >= start + len
            {
                let body = String::from_utf8_lossy(&buf[start..start + len]).into_owned();
                return Ok::<(u16, String), std::io::Error>((status, body));
            }
            if read.read_buf(&mut buf).await? == 0 {
                return Ok((0, String::from_utf8_lossy(&buf).into_owned()));
            }
        }
    };
    tokio::pin!(sender, receiver);
    let mut sending = true;
    let (status, body) = loop {
        tokio::select! {
            answer = &mut receiver => {
                break answer.map_err(|e| format!("reading the answer from {addr} failed: {e}"))?;
            }
            // A write error (the server stopped reading) ends the sending, not the request.
            _ = &mut sender, if sending => sending = false,
        }
    };
    Ok(RawAnswer {
        status,
        body,
        took: started.elapsed(),
        sent: sent.get(),
    })
}

/// `upload` with a time limit: a server that never answers makes the run invalid, not endless.
async fn within<T>(
    upload: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(UPLOAD_TIMEOUT, upload)
        .await
        .unwrap_or_else(|_| Err(format!("no answer to an upload within {UPLOAD_TIMEOUT:?}")))
}

/// The size of the last request's `audio_file` as the mock's journal recorded it (the bytes it
/// counted, up to where it stopped reading).
async fn counted(client: &reqwest::Client, addr: SocketAddr) -> Result<Option<u64>, String> {
    let url = format!("http://{addr}/__admin/journal?last=1");
    let journal: serde_json::Value = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(journal["entries"][0]["request"]["form"]["files"][0]["size"].as_u64())
}

/// A URL-only Cover, so the first request's one-time allocations are not counted as the
/// upload's.
async fn warm_up(client: &reqwest::Client, url: &str) -> Result<(), String> {
    probe(client, url, Scenario::Url.body()).await.map(|_| ())
}

fn binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(BIN_ENV) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "{BIN_ENV}={} is not a file (`cargo bench` runs this program in the package's \
                 folder: give an absolute path)",
                path.display()
            ));
        }
        return Ok(path);
    }
    // `cargo bench` puts this program in target/release/deps/; the binary is one folder up.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let guess = exe.parent().and_then(Path::parent).map(|dir| {
        dir.join(format!(
            "musicgpt-cover-mock{}",
            std::env::consts::EXE_SUFFIX
        ))
    });
    match guess {
        Some(path) if path.is_file() => Ok(path),
        _ => Err(format!(
            "{BIN_ENV} is not set and no release binary was found beside the bench: run \
             `cargo xtask bench`, which builds it (`cargo build --release -p musicgpt-cover-mock`)"
        )),
    }
}

fn rss(o: &Options) -> Result<Vec<Verdict>, String> {
    let binary = binary()?;
    let runtime = runtime("bench-upload", 1)?;
    let client = http_client()?;
    let size = o.upload_mib << 20;
    let limit = o.limit_mib << 20;
    println!(
        "\n== peak RSS: a {} MiB audio_file streamed to the mock's binary ==\n\
         binary {}\n\
         RSS from /proc/PID/status: VmRSS now, VmHWM the peak; growth = peak after - RSS before;\n\
         \"before\" is after one URL-only Cover, so first-request set-up is not counted",
        o.upload_mib,
        binary.display()
    );
    println!(
        "  {:<40} {:>6} {:>8} {:>9} {:>7} {:>7} {:>9}",
        "upload", "status", "RSS MiB", "peak MiB", "growth", "time s", "sent MiB"
    );
    let row = |label: &str,
               status: &str,
               m: Memory,
               growth: Option<u64>,
               took: Option<Duration>,
               sent: Option<u64>| {
        let or_blank = |v: Option<String>| v.unwrap_or_default();
        println!(
            "  {label:<40} {status:>6} {:>8.1} {:>9.1} {:>7} {:>7} {:>9}",
            mib(m.rss),
            mib(m.hwm),
            or_blank(growth.map(|g| format!("{:.1}", mib(g)))),
            or_blank(took.map(|t| format!("{:.2}", t.as_secs_f64()))),
            or_blank(sent.map(|s| format!("{:.0}", mib(s)))),
        );
    };
    let mut verdicts = Vec::new();

    // Accepted: under the default --max-upload-bytes (2 GiB).
    let mock = Spawned::start(&binary, &[])?;
    runtime.block_on(warm_up(&client, &mock.cover_url()))?;
    let before = mock.memory()?;
    row("before (limit 2048 MiB)", "", before, None, None, None);
    let (status, answer, took) =
        runtime.block_on(within(upload(&client, &mock.cover_url(), size)))?;
    let after = mock.memory()?;
    let received = runtime.block_on(counted(&client, mock.addr))?;
    drop(mock);
    let growth = after.hwm.saturating_sub(before.rss);
    row(
        &format!("{} MiB, Content-Length, reqwest", o.upload_mib),
        &status.as_u16().to_string(),
        after,
        Some(growth),
        Some(took),
        Some(size),
    );
    if status != StatusCode::OK {
        return Err(format!(
            "the {} MiB upload was answered {status}: {answer}",
            o.upload_mib
        ));
    }
    if received != Some(size) {
        return Err(format!(
            "the mock's journal says it received {received:?} bytes of audio_file, not {size}"
        ));
    }
    println!(
        "  (the mock counted all {size} bytes, {:.0} MiB/s)",
        mib(size) / took.as_secs_f64()
    );
    verdicts.push(Verdict {
        name: format!("peak RSS, {} MiB upload", o.upload_mib),
        pass: growth < RSS_TARGET_BYTES,
        detail: format!(
            "peak {:.1} MiB, {:.1} MiB over the {:.1} MiB before (target < {} MiB)",
            mib(after.hwm),
            mib(growth),
            mib(before.rss),
            RSS_TARGET_BYTES >> 20
        ),
    });

    // Refused: the same file to a mock with a lower limit. Chunked, the mock learns the size by
    // counting and must answer 413 once past the limit; with Content-Length it refuses before
    // reading the body.
    let limit_text = limit.to_string();
    let mock = Spawned::start(&binary, &["--max-upload-bytes", &limit_text])?;
    runtime.block_on(warm_up(&client, &mock.cover_url()))?;
    let before = mock.memory()?;
    row(
        &format!("before (limit {} MiB)", o.limit_mib),
        "",
        before,
        None,
        None,
        None,
    );
    let mut refused_ok = true;
    let mut details = Vec::new();
    for (framing, label) in [
        (Framing::Chunked, "chunked"),
        (Framing::Declared, "Content-Length"),
    ] {
        let answer = runtime.block_on(within(upload_raw(mock.addr, size, framing)))?;
        let after = mock.memory()?;
        let received = runtime.block_on(counted(&client, mock.addr))?;
        let growth = after.hwm.saturating_sub(before.rss);
        row(
            &format!("{} MiB, {label}, raw TCP", o.upload_mib),
            &answer.status.to_string(),
            after,
            Some(growth),
            Some(answer.took),
            Some(answer.sent),
        );
        if answer.status != 413 {
            return Err(format!(
                "the {} MiB upload ({label}) over a {} MiB limit was answered {}, not 413: {}",
                o.upload_mib, o.limit_mib, answer.status, answer.body
            ));
        }
        println!(
            "  (the mock read {} of audio_file before refusing)",
            received.map_or_else(|| "none".to_owned(), |n| format!("{n} bytes"))
        );
        refused_ok &= growth < RSS_TARGET_BYTES;
        details.push(format!(
            "{label}: 413 after {:.2} s and {:.0} MiB sent, peak {:.1} MiB over",
            answer.took.as_secs_f64(),
            mib(answer.sent),
            mib(growth)
        ));
    }
    drop(mock);
    verdicts.push(Verdict {
        name: format!(
            "413 for {} MiB over --max-upload-bytes {} MiB",
            o.upload_mib, o.limit_mib
        ),
        pass: refused_ok,
        detail: format!(
            "{} (target < {} MiB)",
            details.join("; "),
            RSS_TARGET_BYTES >> 20
        ),
    });
    if let Ok(own) = std::fs::read_to_string("/proc/self/status")
        && let Some(hwm) = own.lines().find(|l| l.starts_with("VmHWM:"))
    {
        println!(
            "  the uploader (this process) peaked at {}",
            hwm.trim_start_matches("VmHWM:").trim()
        );
    }
    Ok(verdicts)
}
