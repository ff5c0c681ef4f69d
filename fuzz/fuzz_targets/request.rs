//! Fuzz target `request`: raw bytes as one HTTP/1.1 connection into the whole request path, in
//! process. hyper's HTTP/1 server (set up as the mock's accept loop sets it up) reads them from an
//! in-memory duplex pipe and serves `musicgpt_cover_mock::router`; the client half-closes once
//! every byte is written and reads the answers to the end.
//!
//! Beyond "never panics", for every input:
//! - the exchange ends within a bound, since the client has sent all it will;
//! - what comes back is a sequence of well-formed HTTP/1.1 responses (interim 1xx allowed), or
//!   HTTP/1.0 ones to HTTP/1.0 requests, as hyper answers some of them;
//! - every answer the router gave to a 4xx/5xx under `/api/` (the spec's operations and unknown
//!   paths beside them) has a JSON object for body (but to HEAD), and a 405 anywhere names the
//!   allowed methods in `Allow`.
//!
//! Any panic is a finding, also one that tokio would catch in a spawned task, with two
//! exceptions, both in code that is not this project's, which hostile audio reaches and which may
//! panic in a debug build (see `tests/mock/fuzzed.rs`; the corpus's
//! `cover_wav_channels_overflow_decoder` is one):
//! - a panic inside symphonia, on any thread: the mock probes a small upload on the request's
//!   thread under `catch_unwind`, and probes and converts larger ones on tokio's blocking pool,
//!   and takes a decoder's panic in either place as a reason (the result is the generated tune);
//!   a panic that escaped would still end the run, as libFuzzer catches it after this hook;
//! - a panic inside any dependency on a thread of the blocking pool, for the same reason.
//!
//! A panic in the mock's own code is a finding wherever it happens.

#![no_main]

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use libfuzzer_sys::fuzz_target;
use musicgpt_cover_mock::{MockConfig, MockState, router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The longest an exchange may take. Every byte is sent at once and then the client's side is
/// closed, so nothing is left to wait for: the mock's own timeouts (header, body) never need to
/// fire, and an exchange still open after this long is a hang.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(5);

/// One runtime for the process: building one per input would cost more than the input.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// The mock, built once (its spec is compiled on the way) and reset before each input, so an
/// input's answers do not depend on the inputs before it and a crash reproduces alone.
fn mock() -> &'static (MockState, Router) {
    static MOCK: OnceLock<(MockState, Router)> = OnceLock::new();
    MOCK.get_or_init(|| {
        runtime().block_on(async {
            let config = MockConfig::new()
                .seed(1)
                .time_scale(0.0)
                // Small, so a few hundred bytes reach the upload limit (413).
                .max_upload_bytes(256)
                // Tasks complete at once; a webhook to loopback gets one short try.
                .webhook_attempts(1)
                .webhook_timeout(Duration::from_millis(200));
            let state = MockState::new(config).expect("the mock's state");
            let app = router(state.clone());
            (state, app)
        })
    })
}

/// What the router was asked, in order.
#[derive(Debug, Clone)]
struct Asked {
    method: String,
    path: String,
    http10: bool,
}

fuzz_target!(init: allow_decoder_panics(), |data: &[u8]| {
    let (state, app) = mock();
    state.reset();
    let asked: Arc<Mutex<Vec<Asked>>> = Arc::default();
    let answers = runtime().block_on(async {
        tokio::time::timeout(EXCHANGE_LIMIT, exchange(data, app.clone(), asked.clone())).await
    });
    let Ok(answers) = answers else {
        panic!("no end to the exchange within {EXCHANGE_LIMIT:?}");
    };
    let asked = asked.lock().expect("not poisoned").clone();
    check(&answers, &asked);
});

/// Wraps libFuzzer's panic hook (print, then abort) so that it lets through the panics the mock
/// answers for (see the top of this file): one raised in symphonia's code on any thread, and one
/// raised in a dependency's code on another thread than this one (the fuzzing thread, where the
/// current-thread runtime runs every task). The first one is noted in the log.
fn allow_decoder_panics() {
    let aborting = std::panic::take_hook();
    let fuzzing = std::thread::current().id();
    static NOTED: AtomicBool = AtomicBool::new(false);
    std::panic::set_hook(Box::new(move |info| {
        let file = info.location().map(|at| at.file()).unwrap_or_default();
        let in_dependency = file.contains("/registry/src/");
        let in_decoder = in_dependency && file.contains("/symphonia");
        if !in_decoder && (std::thread::current().id() == fuzzing || !in_dependency) {
            aborting(info);
        } else if !NOTED.swap(true, Ordering::Relaxed) {
            eprintln!("note: a dependency panicked where the mock catches it: {info}");
        }
    }));
}

/// Serves one connection whose client sends `data`, closes its sending side and reads to the
/// end; returns what it read.
async fn exchange(data: &[u8], app: Router, asked: Arc<Mutex<Vec<Asked>>>) -> Vec<u8> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    // As the mock's accept loop serves a connection (server/connections.rs).
    let service = TowerToHyperService::new(tower::service_fn(move |request: Request<Incoming>| {
        if let Ok(mut asked) = asked.lock() {
            asked.push(Asked {
                method: request.method().to_string(),
                path: request.uri().path().to_owned(),
                http10: request.version() == hyper::Version::HTTP_10,
            });
        }
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(Body::new)).await;
            Ok::<_, Infallible>(match response {
                Ok(r) => r,
                Err(never) => match never {},
            })
        }
    }));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(2))
        .half_close(true)
        .keep_alive(true);
    let connection = http.serve_connection(TokioIo::new(server), service);
    let (mut reader, mut writer) = tokio::io::split(client);
    let send = async {
        // The server may stop reading (a refused head): what it did not read is not its fault.
        let _ = writer.write_all(data).await;
        let _ = writer.shutdown().await;
    };
    let receive = async {
        let mut answers = Vec::new();
        let _ = reader.read_to_end(&mut answers).await;
        answers
    };
    let (_, (), answers) = tokio::join!(connection, send, receive);
    answers
}

/// A response read back from the bytes.
struct Answer<'a> {
    status: u16,
    headers: Vec<(&'a [u8], &'a [u8])>,
    body: Vec<u8>,
}

impl Answer<'_> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| *v)
    }
}

fn check(mut bytes: &[u8], asked: &[Asked]) {
    let mut finals = 0usize;
    while !bytes.is_empty() {
        let request = asked.get(finals);
        let head_only = request.is_some_and(|r| r.method == "HEAD");
        let http10 = request.is_some_and(|r| r.http10);
        let (answer, rest) = parse(bytes, head_only, http10);
        bytes = rest;
        if answer.status < 200 {
            continue; // 100 Continue before the answer itself
        }
        finals += 1;
        // Past what the router was asked: hyper's own refusal of a bad head, with no body.
        let Some(request) = request else { continue };
        if answer.status >= 400 && !head_only && request.path.starts_with("/api/") {
            let content_type = answer.header("content-type").unwrap_or_default();
            assert!(
                content_type.starts_with(b"application/json"),
                "{} {} answered {} with Content-Type {:?}",
                request.method,
                request.path,
                answer.status,
                String::from_utf8_lossy(content_type)
            );
            let json: serde_json::Value =
                serde_json::from_slice(&answer.body).unwrap_or_else(|e| {
                    panic!(
                        "{} {} answered {} with a body that is not JSON ({e}): {:?}",
                        request.method,
                        request.path,
                        answer.status,
                        String::from_utf8_lossy(&answer.body)
                    )
                });
            assert!(
                json.is_object(),
                "{} {}: error body {json} is not an object",
                request.method,
                request.path
            );
        }
        if answer.status == 405 {
            assert!(
                answer.header("allow").is_some(),
                "{} {} answered 405 without Allow",
                request.method,
                request.path
            );
        }
    }
    assert!(
        finals <= asked.len() + 1,
        "{finals} answers to {} requests",
        asked.len()
    );
}

/// Reads one response off the front of `bytes`; panics if it is not a well-formed one.
/// `http10`: the request answered was HTTP/1.0.
fn parse(bytes: &[u8], head_only: bool, http10: bool) -> (Answer<'_>, &[u8]) {
    let end = find(bytes, b"\r\n\r\n")
        .unwrap_or_else(|| panic!("a response head with no end: {:?}", lossy(bytes)));
    let rest = &bytes[end + 4..];
    // Header values may hold any byte but controls (obs-text): read the head as bytes.
    let mut lines = split(&bytes[..end], b"\r\n");
    let status_line = lines.next().unwrap_or_default();
    // hyper answers HTTP/1.1, or HTTP/1.0 to some HTTP/1.0 requests (seen: a 1.0 request that
    // asks for keep-alive, and one that does not); never 1.0 to anything else.
    assert!(
        status_line.starts_with(b"HTTP/1.1 ") || (http10 && status_line.starts_with(b"HTTP/1.0 ")),
        "not an HTTP/1.1 status line{}: {:?}",
        if http10 {
            " (nor 1.0, for a 1.0 request)"
        } else {
            ""
        },
        lossy(status_line)
    );
    let status: u16 = status_line
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status code in {:?}", lossy(status_line)));
    let headers = lines
        .map(|line| {
            let colon = line
                .iter()
                .position(|&b| b == b':')
                .unwrap_or_else(|| panic!("a response header with no colon: {:?}", lossy(line)));
            (&line[..colon], line[colon + 1..].trim_ascii())
        })
        .collect();
    let mut answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    if head_only || status < 200 || status == 204 || status == 304 {
        return (answer, rest);
    }
    if answer
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"))
    {
        let (body, after) = unchunk(rest);
        answer.body = body;
        return (answer, after);
    }
    if let Some(length) = answer.header("content-length") {
        let length: usize = std::str::from_utf8(length)
            .ok()
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("a bad Content-Length: {:?}", lossy(length)));
        assert!(
            rest.len() >= length,
            "a {status} cut short: {} of {length} body bytes",
            rest.len()
        );
        answer.body = rest[..length].to_vec();
        return (answer, &rest[length..]);
    }
    // Neither: the body runs to the end of the connection.
    answer.body = rest.to_vec();
    (answer, &[])
}

/// A chunked body read off the front of `bytes`, and what follows it.
fn unchunk(bytes: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = find(&bytes[at..], b"\r\n")
            .unwrap_or_else(|| panic!("a chunk size line with no end: {:?}", lossy(&bytes[at..])));
        let size_text = std::str::from_utf8(&bytes[at..at + line_end]).unwrap_or_default();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or_default(), 16)
            .unwrap_or_else(|_| panic!("a bad chunk size {size_text:?}"));
        at += line_end + 2;
        if size == 0 {
            // hyper sends no trailers: the final CRLF.
            assert!(
                bytes[at..].starts_with(b"\r\n"),
                "a chunked body with no final CRLF"
            );
            return (body, &bytes[at + 2..]);
        }
        assert!(bytes.len() >= at + size + 2, "a chunk cut short");
        assert_eq!(
            &bytes[at + size..at + size + 2],
            b"\r\n",
            "a chunk with no CRLF"
        );
        body.extend_from_slice(&bytes[at..at + size]);
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `bytes` cut at each `separator`.
fn split<'a>(mut bytes: &'a [u8], separator: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match find(bytes, separator) {
            Some(at) => {
                let line = &bytes[..at];
                bytes = &bytes[at + separator.len()..];
                Some(line)
            }
            None => {
                done = true;
                Some(bytes)
            }
        }
    })
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
}
