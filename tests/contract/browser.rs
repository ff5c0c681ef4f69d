//! A real browser against the mock: headless Chromium (installed by `cargo xtask tools`) loads a
//! page from another origin (this test's own server on another 127.0.0.1 port) that
//!
//! 1. calls the API with `fetch()` as a frontend would: `POST /v1/Cover` with a `FormData` body
//!    and `Authorization` + `Prefer` headers (so the browser sends a CORS preflight first), then
//!    polls `GET /v1/byId` until the task is `COMPLETED`;
//! 2. plays the result files byId names (`/files/{conversion_id}.mp3` and `.wav`) in `<audio>`
//!    elements routed through an `AnalyserNode`: each must load its metadata with the mock's
//!    duration (4 s), play to `ended` in about real time, and carry sound, not silence.
//!
//! 3. sends Covers the mock answers before reading their bodies (no key: 401; `Prefer: code=402`)
//!    with uploads of 0 B to 8 MiB: each answer must reach the page, not a network error.
//!
//! The page reports what it sees to this test's server and the test judges it, with one message
//! per failed check. Negative controls prove each audio check can fail, judged by the same rules:
//! the mock's JSON answer, random bytes served as `audio/mpeg` and the real MP3 from an origin
//! without CORS headers must not load, the MP3 cut to a quarter must not play 4 s, and a silent
//! 4-second WAV must not count as sound; the same Cover request to a server without CORS headers
//! must be refused by the browser. The webhook (sent to this test's server) must name the files
//! the page played, and the mock's journal must show the preflight and the cross-origin calls.
//!
//! The browser has a fake audio sink (`--disable-audio-output`): it decodes and renders in real
//! time and the analyser sees the samples, but nothing reaches a sound card, so this runs the
//! same on CI and on a desktop (silently).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use musicgpt_cover::types::CoverWebhook;
use musicgpt_cover_contract_tests::tools;
use musicgpt_cover_mock::{
    JournalEntry, MockServer, RESULT_AUDIO_SAMPLE_RATE, RESULT_AUDIO_SECONDS, RequestRecord,
};
use serde_json::{Value, json};

use crate::common::http;

/// The page; it judges nothing and reports everything.
const PAGE: &str = include_str!("../fixtures/browser/page.html");

/// How long the page may take from Chromium's start to its last report. The run takes about 6 s.
const DEADLINE: Duration = Duration::from_secs(60);

const KEY: &str = "browser-key";
const PREFER: &str = "outcome=completed";
const VOICE: &str = "Drake";
const SONG: &str = "https://www.youtube.com/watch?v=jGflUbPQfW8";

/// The upload sizes and the tries of each early answer the page sends.
const EARLY_SIZES: [usize; 4] = [0, 16 << 10, 256 << 10, 8 << 20];
const EARLY_TRIES: usize = 5;

/// A window of samples louder than this counts as sound (the mock's arpeggio peaks near 0.39).
const SOUND_THRESHOLD: f64 = 0.01;
/// Announced and measured durations may differ by this much, in seconds.
const DURATION_TOLERANCE: f64 = 0.25;
/// `ended` must come at least this share of the duration after `play()`: played in real time.
const REAL_TIME_SHARE: f64 = 0.75;
/// The analyser must hear sound for at least this share of the duration.
const SOUNDING_SHARE: f64 = 0.5;

/// Chromium's command line, besides the profile folder and the page.
const FLAGS: &[&str] = &[
    "--headless=new",
    // The sandbox needs user namespaces or a setuid helper; containers and root have neither.
    "--no-sandbox",
    "--disable-gpu",
    // Docker gives /dev/shm 64 MB; Chromium then crashes on large pages unless it uses /tmp.
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
    // A fake audio sink, the same on every machine: no sound card needed, no sound on a desktop.
    "--disable-audio-output",
    "--no-first-run",
    "--no-default-browser-check",
    "--password-store=basic",
    "--use-mock-keychain",
    // Nothing but 127.0.0.1: no background requests, no proxy, no name resolves.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    // The page's console and Chromium's errors go to the log shown when the test fails.
    "--enable-logging=stderr",
    "--v=0",
];

/// What an audio check can find wrong; each negative control must show its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    /// An error event: the browser could not fetch or decode it.
    Load,
    /// No metadata, or a duration other than the mock's.
    Duration,
    /// `play()` refused, or no `ended` in time.
    Play,
    /// `ended` came too soon after `play()`.
    Short,
    /// The analyser heard silence, or too little sound.
    Silent,
}

/// The test's own server: the page, its configuration, the controls, and what the page and the
/// mock's webhook send back.
#[derive(Default)]
struct Shared {
    config: Mutex<Value>,
    controls: Mutex<HashMap<String, (&'static str, Bytes)>>,
    reports: Mutex<Vec<Value>>,
    webhooks: Mutex<Vec<Bytes>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn reports(&self) -> Vec<Value> {
        lock(&self.reports).clone()
    }

    fn finished(&self) -> bool {
        lock(&self.reports).iter().any(|r| r["step"] == "done")
    }
}

/// The router, served on two ports: the page's origin, and a second origin whose answers carry
/// no CORS headers (for the controls that must be refused).
fn page_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/config.json",
            get(|State(s): State<Arc<Shared>>| async move { axum::Json(lock(&s.config).clone()) }),
        )
        .route(
            "/report",
            post(
                |State(s): State<Arc<Shared>>, axum::Json(report): axum::Json<Value>| async move {
                    lock(&s.reports).push(report);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/webhook",
            post(|State(s): State<Arc<Shared>>, body: Bytes| async move {
                lock(&s.webhooks).push(body);
                StatusCode::OK
            }),
        )
        .route(
            "/controls/{name}",
            get(
                |State(s): State<Arc<Shared>>, UrlPath(name): UrlPath<String>| async move {
                    match lock(&s.controls).get(&name) {
                        Some((content_type, bytes)) => {
                            ([(header::CONTENT_TYPE, *content_type)], bytes.clone()).into_response()
                        }
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                },
            ),
        )
        .route(
            "/no-cors/Cover",
            post(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"success":true}"#,
                )
                    .into_response()
            }),
        )
        .with_state(shared)
}

/// Serves `router` on 127.0.0.1 and a free port until the test ends.
async fn serve(router: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a port for the page server");
    let addr: SocketAddr = listener.local_addr().expect("its address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), task)
}

/// Headless Chromium in its own process group, killed with everything it started when dropped.
struct Browser {
    child: Child,
    /// Holds the profile and the log; removed when dropped.
    dir: PathBuf,
}

impl Browser {
    fn launch(program: &Path, url: &str) -> Browser {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("musicgpt-browser-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("profile")).expect("a temporary profile folder");
        let log = std::fs::File::create(dir.join("chromium.log")).expect("a log file");
        let mut command = Command::new(program);
        command
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        Browser { child, dir }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The end of Chromium's log, without the D-Bus complaints of a machine without D-Bus.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = text
            .lines()
            .filter(|line| !line.contains("dbus") && !line.contains("D-Bus"))
            .collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium starts a zygote, renderers and a GPU process; they share its process group.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A WAV of `seconds` of silence, at the mock's sample rate (16-bit mono PCM).
fn silent_wav(seconds: f64) -> Vec<u8> {
    let rate = RESULT_AUDIO_SAMPLE_RATE;
    // Whole samples: the product is a small positive number.
    let samples = (f64::from(rate) * seconds) as u32;
    let data = samples * 2;
    let mut wav = Vec::with_capacity(44 + data as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    wav.resize(44 + data as usize, 0);
    wav
}

/// Bytes that are no audio format (xorshift, fixed seed: the same every run).
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// The MP3 the mock serves for a pitch-0 conversion (the page's Cover has pitch 0 too): a Cover
/// sent here, completed at once through the mock's handle, its file fetched.
async fn mock_mp3(mock: &MockServer) -> Bytes {
    let form = reqwest::multipart::Form::new()
        .text("voice_id", VOICE)
        .text("audio_url", SONG);
    let queued: Value = http()
        .post(mock.url("/v1/Cover"))
        .header("Authorization", KEY)
        .multipart(form)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the mock accepts a Cover")
        .json()
        .await
        .expect("a JSON answer");
    let task_id = queued["task_id"].as_str().expect("a task_id");
    let conversion_id = queued["conversion_id"].as_str().expect("a conversion_id");
    mock.state()
        .complete_task(task_id)
        .expect("the task completes");
    http()
        .get(format!("{}/files/{conversion_id}.mp3", mock.origin()))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the mock serves the MP3")
        .bytes()
        .await
        .expect("the MP3's bytes")
}

/// What is wrong with one played file, judged from what the page saw.
fn judge_audio(seen: &Value) -> Vec<(Flaw, String)> {
    let expected = RESULT_AUDIO_SECONDS;
    let number = |key: &str| seen[key].as_f64();
    if !seen["error"].is_null() {
        return vec![(
            Flaw::Load,
            format!(
                "the browser could not load it: MediaError {} {}",
                seen["error"]["code"], seen["error"]["message"]
            ),
        )];
    }
    let Some(duration) = number("duration") else {
        return vec![(
            Flaw::Duration,
            format!(
                "no loadedmetadata (finished by {}, events {})",
                seen["finished_by"], seen["events"]
            ),
        )];
    };
    let mut flaws = Vec::new();
    if (duration - expected).abs() > DURATION_TOLERANCE {
        flaws.push((
            Flaw::Duration,
            format!("its duration is {duration} s, the mock's audio lasts {expected} s"),
        ));
    }
    if !seen["play_error"].is_null() {
        flaws.push((
            Flaw::Play,
            format!("play() was refused: {}", seen["play_error"]),
        ));
        return flaws;
    }
    match (number("play_ms"), number("ended_ms")) {
        (Some(play), Some(ended)) => {
            let played = (ended - play) / 1000.0;
            if played < expected * REAL_TIME_SHARE {
                flaws.push((
                    Flaw::Short,
                    format!(
                        "`ended` came {played:.2} s after play(): it did not play {expected} s in \
                         real time"
                    ),
                ));
            }
        }
        _ => flaws.push((
            Flaw::Play,
            format!(
                "no `ended` (finished by {}, currentTime reached {} s, events {})",
                seen["finished_by"], seen["max_current_time"], seen["events"]
            ),
        )),
    }
    let peak = number("peak").unwrap_or(0.0);
    let sounding = number("sounding_ms").unwrap_or(0.0) / 1000.0;
    if peak < SOUND_THRESHOLD {
        flaws.push((
            Flaw::Silent,
            format!("the analyser heard only silence (peak {peak})"),
        ));
    } else if sounding < expected * SOUNDING_SHARE {
        flaws.push((
            Flaw::Silent,
            format!("the analyser heard sound for {sounding:.2} s only, of {expected} s"),
        ));
    }
    flaws
}

/// The page's reports of `step`.
fn steps<'a>(reports: &'a [Value], step: &str) -> Vec<&'a Value> {
    reports.iter().filter(|r| r["step"] == step).collect()
}

fn summary(reports: &[Value]) -> String {
    reports
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per failed check: `[check] what was wrong`.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn add(&mut self, check: &str, problem: String) {
        self.0.push(format!("[{check}] {problem}"));
    }
}

/// The requests the mock journalled with the page's `Origin`: what the browser itself sent.
struct PageRequests<'a> {
    journal: Vec<JournalEntry>,
    origin: &'a str,
}

impl PageRequests<'_> {
    fn find(&self, method: &str, path: &str) -> Vec<&RequestRecord> {
        self.journal
            .iter()
            .filter_map(|e| e.request.as_ref())
            .filter(|r| {
                r.method == method
                    && r.path == path
                    && r.headers.get("origin").map(String::as_str) == Some(self.origin)
            })
            .collect()
    }
}

/// The result files byId named.
struct Files {
    conversion_id: String,
    mp3: String,
    wav: String,
}

/// The Cover: answered 200 with a task, after a preflight, with the headers and the form the page
/// sent; and the same request to a server without CORS refused. Returns the task id.
fn check_cover(
    failures: &mut Failures,
    reports: &[Value],
    journal: &PageRequests<'_>,
    api_path: &str,
) -> Option<String> {
    let cover = steps(reports, "cover")
        .first()
        .copied()
        .unwrap_or(&Value::Null);
    let task_id = cover["json"]["task_id"].as_str().map(str::to_owned);
    if cover["status"] != 200 || task_id.is_none() {
        failures.add(
            "cover",
            format!("POST /v1/Cover from the page did not get a 200 with a task_id: {cover}"),
        );
    }
    let path = format!("{api_path}/v1/Cover");
    match journal.find("OPTIONS", &path).first() {
        Some(preflight) if preflight.status == 200 => {}
        Some(preflight) => failures.add(
            "preflight",
            format!("the mock answered the preflight {}", preflight.status),
        ),
        None => failures.add(
            "preflight",
            format!(
                "the mock's journal shows no preflight (OPTIONS {path} with Origin {})",
                journal.origin
            ),
        ),
    }
    match journal.find("POST", &path).first() {
        Some(post) => {
            let header = |name: &str| post.headers.get(name).map(String::as_str);
            if header("authorization") != Some(KEY) || header("prefer") != Some(PREFER) {
                failures.add(
                    "cover",
                    format!("the Cover reached the mock with headers {:?}", post.headers),
                );
            }
            if !header("content-type").is_some_and(|t| t.starts_with("multipart/form-data")) {
                failures.add(
                    "cover",
                    format!("the FormData arrived as {:?}", header("content-type")),
                );
            }
        }
        None => failures.add(
            "cover",
            format!(
                "the mock's journal shows no POST {path} with Origin {}",
                journal.origin
            ),
        ),
    }
    let refused = steps(reports, "cover-without-cors")
        .first()
        .copied()
        .unwrap_or(&Value::Null);
    if refused["error"].as_str().is_none() {
        failures.add(
            "control: Cover to a server without CORS",
            format!(
                "the browser let the page read an answer without CORS headers, so the CORS check \
                 cannot fail: {refused}"
            ),
        );
    }
    task_id
}

/// The early answers the page asks for: a name, the headers, the status.
fn early_cases() -> Value {
    json!([
        {"name": "no key", "headers": {}, "status": 401},
        {"name": "Prefer: code=402", "headers": {"Authorization": KEY, "Prefer": "code=402"}, "status": 402},
    ])
}

/// Every early answer reached the page as its status, for every size and try.
fn check_early(failures: &mut Failures, reports: &[Value]) {
    let early = steps(reports, "early");
    for case in early_cases().as_array().into_iter().flatten() {
        for size in EARLY_SIZES {
            let seen = early
                .iter()
                .find(|r| r["name"] == case["name"] && r["size"] == size);
            let Some(seen) = seen else {
                failures.add(
                    "early answers",
                    format!("the page sent no {} with {size} bytes", case["name"]),
                );
                continue;
            };
            let statuses = seen["statuses"].as_array().cloned().unwrap_or_default();
            if statuses.len() != EARLY_TRIES || statuses.iter().any(|s| *s != case["status"]) {
                failures.add(
                    "early answers",
                    format!(
                        "{} with {size} bytes: expected {} {EARLY_TRIES} times, the page got {statuses:?}",
                        case["name"], case["status"]
                    ),
                );
            }
        }
    }
}

/// Polling: byId went through the documented states to COMPLETED and names the mock's files.
fn check_poll(failures: &mut Failures, reports: &[Value], mock_origin: &str) -> Option<Files> {
    let poll = steps(reports, "poll")
        .first()
        .copied()
        .unwrap_or(&Value::Null);
    let statuses: Vec<&str> = poll["statuses"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if statuses.last() != Some(&"COMPLETED")
        || statuses
            .iter()
            .any(|s| !["IN_QUEUE", "PROCESSING", "COMPLETED"].contains(s))
    {
        failures.add(
            "poll",
            format!(
                "byId went through {statuses:?} in {} polls, not to COMPLETED; last answer: {}",
                poll["polls"], poll["last"]
            ),
        );
        return None;
    }
    let conversion = &poll["last"]["json"]["conversion"];
    let text = |key: &str| conversion[key].as_str().unwrap_or_default().to_owned();
    let files = Files {
        conversion_id: text("conversion_id"),
        mp3: text("audio_url"),
        wav: text("audio_url_wav"),
    };
    for (url, ext) in [(&files.mp3, "mp3"), (&files.wav, "wav")] {
        let want = format!("{mock_origin}/files/{}.{ext}", files.conversion_id);
        if *url != want {
            failures.add(
                "poll",
                format!("byId gives the {ext} URL {url:?}, not {want}"),
            );
        }
    }
    Some(files)
}

/// The webhook reached the page's server and names the files byId named.
fn check_webhook(failures: &mut Failures, received: &[Bytes], files: &Files, delivery: &str) {
    match received.first().map(CoverWebhook::parse) {
        Some(Ok(hook)) => {
            if hook.mp3_url() != Some(files.mp3.as_str())
                || hook.wav_url() != Some(files.wav.as_str())
            {
                failures.add(
                    "webhook",
                    format!(
                        "the webhook names {:?} and {:?}, byId {} and {}",
                        hook.mp3_url(),
                        hook.wav_url(),
                        files.mp3,
                        files.wav
                    ),
                );
            }
        }
        Some(Err(e)) => failures.add("webhook", format!("the webhook does not parse: {e}")),
        None => failures.add(
            "webhook",
            format!("no webhook reached the page's server; the mock's record: {delivery}"),
        ),
    }
}

/// The MP3 and the WAV: fetched by the page's browser, and they play.
fn check_files(
    failures: &mut Failures,
    reports: &[Value],
    journal: &PageRequests<'_>,
    files: &Files,
) {
    for (name, url) in [("mp3", &files.mp3), ("wav", &files.wav)] {
        match played(reports, name) {
            Some(seen) => {
                for (_, problem) in judge_audio(seen) {
                    failures.add(name, format!("{problem}; the page saw {seen}"));
                }
            }
            None => failures.add(name, "the page reported nothing about it".to_owned()),
        }
        let path = format!("/files/{}.{name}", files.conversion_id);
        if journal.find("GET", &path).is_empty() {
            failures.add(
                name,
                format!(
                    "the mock's journal shows no GET {path} with the page's Origin ({url} was to \
                     be played)"
                ),
            );
        }
    }
}

/// Every negative control shows the flaw it was made for, so each audio check is seen to fail.
fn check_controls(failures: &mut Failures, reports: &[Value], controls: &[(&str, String, Flaw)]) {
    let all = controls
        .iter()
        .map(|(name, _, flaw)| (*name, *flaw))
        .chain([("control: the task's JSON", Flaw::Load)]);
    for (name, flaw) in all {
        match played(reports, name) {
            Some(seen) => {
                let flaws = judge_audio(seen);
                if !flaws.iter().any(|(found, _)| *found == flaw) {
                    failures.add(
                        name,
                        format!(
                            "the audio checks should have found {flaw:?} but found {flaws:?}, so \
                             that check cannot fail; the page saw {seen}"
                        ),
                    );
                }
            }
            None => failures.add(name, "the page reported nothing about it".to_owned()),
        }
    }
}

/// The page's report on playing `name`.
fn played<'a>(reports: &'a [Value], name: &str) -> Option<&'a Value> {
    reports
        .iter()
        .find(|r| r["step"] == "audio" && r["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_on_another_origin_calls_the_api_and_plays_the_results() {
    let test_started = Instant::now();
    let program = tools::chromium().unwrap_or_else(|e| panic!("{e}"));
    let mock = MockServer::builder().time_scale(0.01).start().await;
    let shared = Arc::new(Shared::default());
    let (page_origin, _page_task) = serve(page_router(Arc::clone(&shared))).await;
    let (no_cors_origin, _no_cors_task) = serve(page_router(Arc::clone(&shared))).await;
    let api_path = mock
        .base_url()
        .strip_prefix(mock.origin())
        .expect("the base URL starts with the origin")
        .to_owned();

    let mp3 = mock_mp3(&mock).await;
    assert!(mp3.len() > 1000, "the mock's MP3 has {} bytes", mp3.len());
    {
        let mut controls = lock(&shared.controls);
        controls.insert(
            "random.mp3".into(),
            ("audio/mpeg", random_bytes(32 * 1024).into()),
        );
        controls.insert(
            "quarter.mp3".into(),
            ("audio/mpeg", mp3.slice(..mp3.len() / 4)),
        );
        controls.insert(
            "silent.wav".into(),
            ("audio/wav", silent_wav(RESULT_AUDIO_SECONDS).into()),
        );
        controls.insert("real.mp3".into(), ("audio/mpeg", mp3.clone()));
    }
    // Each control, and the flaw the audio checks must find in it.
    let controls: [(&str, String, Flaw); 4] = [
        (
            "control: random bytes as audio/mpeg",
            format!("{page_origin}/controls/random.mp3"),
            Flaw::Load,
        ),
        (
            "control: the mock's MP3 from an origin without CORS",
            format!("{no_cors_origin}/controls/real.mp3"),
            Flaw::Load,
        ),
        (
            "control: the first quarter of the mock's MP3",
            format!("{page_origin}/controls/quarter.mp3"),
            Flaw::Short,
        ),
        (
            "control: 4 s of silence as WAV",
            format!("{page_origin}/controls/silent.wav"),
            Flaw::Silent,
        ),
    ];
    *lock(&shared.config) = json!({
        "api": mock.base_url(),
        "mock_origin": mock.origin(),
        "key": KEY,
        "prefer": PREFER,
        "voice_id": VOICE,
        "audio_url": SONG,
        "webhook_url": format!("{page_origin}/webhook"),
        "no_cors_cover_url": format!("{no_cors_origin}/no-cors/Cover"),
        "poll_interval_ms": 100,
        "poll_timeout_ms": 20_000,
        "audio_timeout_ms": 20_000,
        "sound_threshold": SOUND_THRESHOLD,
        "early": {
            "sizes": EARLY_SIZES,
            "tries": EARLY_TRIES,
            "cases": early_cases(),
        },
        "controls": controls
            .iter()
            .map(|(name, url, _)| json!({"name": name, "url": url}))
            .collect::<Vec<_>>(),
    });

    // Run the page; stop at its last report, at Chromium's exit, or at the deadline.
    let browser_started = Instant::now();
    let mut browser = Browser::launch(&program, &format!("{page_origin}/"));
    let outcome = loop {
        if shared.finished() {
            break Ok(());
        }
        if let Some(status) = browser.exited() {
            break Err(format!(
                "Chromium exited ({status}) before the page finished"
            ));
        }
        if browser_started.elapsed() > DEADLINE {
            break Err(format!(
                "the page did not finish within {DEADLINE:?}, so Chromium was killed"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let page_took = browser_started.elapsed();
    let log = browser.log_tail();
    drop(browser);
    let reports = shared.reports();
    if let Err(why) = outcome {
        panic!(
            "{why}. What the page reported so far:\n{}\n\nChromium's log (last lines):\n{log}",
            summary(&reports)
        );
    }

    let mut failures = Failures::default();
    for error in steps(&reports, "page-error") {
        failures.add("page", format!("the page threw: {}", error["message"]));
    }
    let journal = PageRequests {
        journal: mock.state().journal(),
        origin: &page_origin,
    };
    let task_id = check_cover(&mut failures, &reports, &journal, &api_path);
    match task_id {
        None => failures.add(
            "poll, webhook, audio",
            "not checked: the page got no task_id from the Cover".to_owned(),
        ),
        Some(task_id) => {
            if let Some(files) = check_poll(&mut failures, &reports, mock.origin()) {
                let delivery = mock
                    .wait_for_webhook(&task_id, Duration::from_secs(5))
                    .await;
                let received = lock(&shared.webhooks).clone();
                check_webhook(&mut failures, &received, &files, &format!("{delivery:?}"));
                check_files(&mut failures, &reports, &journal, &files);
            }
            check_controls(&mut failures, &reports, &controls);
        }
    }
    check_early(&mut failures, &reports);

    println!(
        "browser: page finished {:.1} s after Chromium started; whole test {:.1} s",
        page_took.as_secs_f64(),
        test_started.elapsed().as_secs_f64()
    );
    assert!(
        failures.0.is_empty(),
        "{} browser check(s) failed:\n{}\n\nWhat the page reported:\n{}\n\nChromium's log (last \
         lines):\n{log}",
        failures.0.len(),
        failures.0.join("\n"),
        summary(&reports)
    );
}
