//! Record and replay, end to end with the mock itself as the upstream: a recording proxy in front
//! of a mock, a Cover flow through it (a Cover with an upload and a webhook, byId polls until it
//! completes, the voice lists), then a fresh mock `--replay`ing the recording answers the same
//! calls with the same statuses and bodies byte for byte, polls in the recorded order, and sends
//! the webhook made from the recorded final conversion. A bad recording stops the start with an
//! error naming the file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use musicgpt_cover_mock::{JournalEntry, MockConfig, MockServer, ProxyConfig, ProxyServer};
use reqwest::multipart::Form;
use serde_json::Value;

use musicgpt_cover_mock::Matcher;
use reqwest::Method;
use serde_json::json;

use crate::common::{Receiver, admin, client, cover, file_part, get, mock, url_form};

/// A key long enough to be redacted; the recording must not hold it.
const SECRET: &str = "sk-record-test-0123456789-secret";

/// A fresh directory under the system's temporary one, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "musicgpt-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One call of the flow.
#[derive(Clone, Debug)]
enum Call {
    Cover { webhook: bool },
    Get(String),
}

/// The upload: bytes that are not audio (the mock answers with its tune), the same each run.
fn upload() -> Vec<u8> {
    (0..3000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// Sends `call` to the API at `base`; the status and the body's bytes.
async fn send(base: &str, call: &Call, webhook_url: &str) -> (u16, Bytes) {
    let http = client();
    let request = match call {
        Call::Cover { webhook } => {
            let mut form = Form::new()
                .text("voice_id", "Drake")
                .text("pitch", "3")
                .part("audio_file", file_part(upload()));
            if *webhook {
                form = form.text("webhook_url", webhook_url.to_owned());
            }
            http.post(format!("{base}/v1/Cover")).multipart(form)
        }
        Call::Get(path) => http.get(format!("{base}{path}")),
    };
    let answer = request
        .header("Authorization", SECRET)
        .send()
        .await
        .expect("the call is answered");
    let status = answer.status().as_u16();
    (status, answer.bytes().await.expect("the body"))
}

fn json(bytes: &Bytes) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// The flow through `base`: a Cover, its polls until COMPLETED, the voice lists. Each call with
/// what it got.
async fn record_flow(base: &str, webhook_url: &str) -> Vec<(Call, u16, Bytes)> {
    let mut calls = Vec::new();
    let cover = Call::Cover { webhook: true };
    let (status, body) = send(base, &cover, webhook_url).await;
    assert_eq!(status, 200, "{body:?}");
    let task_id = json(&body)["task_id"]
        .as_str()
        .expect("a task id")
        .to_owned();
    calls.push((cover, status, body));
    let poll = Call::Get(format!("/v1/byId?conversionType=COVER&task_id={task_id}"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = send(base, &poll, webhook_url).await;
        let done = json(&body)["conversion"]["status"] == "COMPLETED";
        calls.push((poll.clone(), status, body));
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the task did not complete"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    for path in [
        "/v1/getAllVoices?limit=5&page=0",
        "/v1/searchVoices?query=dr&limit=3&page=0",
    ] {
        let call = Call::Get(path.to_owned());
        let (status, body) = send(base, &call, webhook_url).await;
        calls.push((call, status, body));
    }
    calls
}

fn recorded_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the recording's directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn a_recorded_cover_flow_replays_byte_for_byte() {
    let dir = TempDir::new("recording");
    // A real clock, quick: the task completes in about a second.
    let upstream = mock(MockConfig::new().time_scale(0.02)).await;
    let proxy = ProxyServer::start(ProxyConfig::new(upstream.base_url()).record(&dir.0))
        .await
        .expect("the recording proxy starts");
    let first_receiver = Receiver::start(vec![], Duration::ZERO).await;
    let calls = record_flow(proxy.base_url(), &first_receiver.url).await;
    let upstream_hook = upstream
        .state()
        .wait_for_webhook(
            json(&calls[0].2)["task_id"].as_str().unwrap_or_default(),
            Duration::from_secs(10),
        )
        .await
        .expect("the upstream's webhook");
    proxy.shutdown().await;
    drop(upstream);

    // The recording: a file per exchange, in order, the key redacted, the upload by its hash.
    let files = recorded_files(&dir.0);
    assert_eq!(files.len(), calls.len(), "{files:?}");
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(names[0].starts_with("0001-POST-Cover"), "{names:?}");
    assert!(names[1].starts_with("0002-GET-byId"), "{names:?}");
    let first: JournalEntry =
        serde_json::from_slice(&std::fs::read(&files[0]).expect("read")).expect("an entry");
    let text = std::fs::read_to_string(&files[0]).expect("read");
    assert!(
        !text.contains(SECRET),
        "the key is in the recording: {text}"
    );
    let request = first.request.expect("the request");
    assert!(request.headers["authorization"].contains("redacted"));
    let form = request.form.expect("the form");
    let file = &form.files[0];
    assert_eq!(file.size, upload().len() as u64);
    assert_eq!(file.filename.as_deref(), Some("song.wav"));
    assert_eq!(file.sha256.as_deref().map(str::len), Some(64));
    let answer = request.answer.expect("the answer");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body.bytes(),
        Some(calls[0].2.as_ref()),
        "the answer is kept byte for byte"
    );

    // A fresh mock replays it: the same calls get the same answers, byte for byte.
    let replay = mock(MockConfig::new().replay(&dir.0)).await;
    let second_receiver = Receiver::start(vec![], Duration::ZERO).await;
    for (i, (call, status, body)) in calls.iter().enumerate() {
        let (got_status, got_body) = send(replay.base_url(), call, &second_receiver.url).await;
        assert_eq!(
            (got_status, &got_body),
            (*status, body),
            "call {i} ({call:?}) got another answer"
        );
    }
    // The last recorded poll repeats.
    let (last_poll, _, last_body) = calls
        .iter()
        .rev()
        .find(|(c, _, _)| matches!(c, Call::Get(p) if p.contains("byId")))
        .expect("a poll");
    let (_, again) = send(replay.base_url(), last_poll, &second_receiver.url).await;
    assert_eq!(&again, last_body);

    // The webhook, made from the recorded final conversion, to the replayed Cover's URL.
    let task_id = json(&calls[0].2)["task_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let delivered = replay
        .state()
        .wait_for_webhook(&task_id, Duration::from_secs(10))
        .await
        .expect("the replayed webhook");
    assert_eq!(delivered.url, second_receiver.url);
    let received = second_receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0].body, upstream_hook.payload,
        "the replayed webhook is the one the upstream sent"
    );
    assert!(first_receiver.received().len() == 1);

    // Unmatched requests are answered as by any mock.
    let (status, body) = send(
        replay.base_url(),
        &Call::Get("/v1/getAllVoices?limit=2&page=0".into()),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["voices"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_bad_recording_stops_the_start_naming_the_file() {
    let missing = TempDir::new("missing");
    let error = MockServer::try_start(MockConfig::new().replay(&missing.0))
        .await
        .expect_err("a directory that does not exist");
    let text = error.to_string();
    assert!(
        text.contains("cannot read the directory") && text.contains(&*missing.0.to_string_lossy()),
        "{text}"
    );

    let dir = TempDir::new("broken");
    std::fs::create_dir_all(&dir.0).expect("mkdir");
    let broken = dir.0.join("0001-GET-byId.json");
    std::fs::write(&broken, "{\"seq\": 1, \"at\": ").expect("write");
    let error = MockServer::try_start(MockConfig::new().replay(&dir.0))
        .await
        .expect_err("broken JSON");
    let text = error.to_string();
    assert!(
        text.contains(&*broken.to_string_lossy()) && text.contains("not a recorded exchange"),
        "{text}"
    );

    // The binary says so and exits 2, without a panic.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_musicgpt-cover-mock"))
        .args(["--addr", "127.0.0.1:0", "--replay"])
        .arg(&dir.0)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("0001-GET-byId.json") && !stderr.contains("panicked"),
        "{stderr}"
    );

    // A recording proxy will not write into a directory that holds a recording.
    let refused = ProxyServer::start(ProxyConfig::new("http://127.0.0.1:9").record(&dir.0)).await;
    assert!(refused.is_err());
    // The binary refuses it as a bad setting (status 2), after warning that an upstream without
    // the API's base path gets every request at a path it does not serve.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_musicgpt-cover-mock"))
        .args([
            "proxy",
            "--addr",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9",
        ])
        .arg("--record")
        .arg(&dir.0)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let base = musicgpt_cover_mock::api_base_path();
    assert!(
        stderr.contains(&format!(
            "warning: --upstream http://127.0.0.1:9 does not end with the API's base path {base}"
        )) && stderr.contains(&format!("such as http://127.0.0.1:9{base}"))
            && stderr.contains("already holds a recording"),
        "{stderr}"
    );
    let based = ProxyConfig::new(format!("http://127.0.0.1:9{base}/"));
    assert_eq!(based.upstream_warning(), None);
}

/// A recording of one exchange, written by hand: `GET getAllVoices?limit=1&page=0` answered
/// with one voice the mock itself never lists.
fn one_recorded_voice_list(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let entry = json!({
        "seq": 1, "at": "2026-01-01T00:00:00.000Z", "kind": "request", "webhook": null,
        "request": {
            "method": "GET", "path": "/api/public/v1/getAllVoices", "query": "limit=1&page=0",
            "headers": {}, "status": 200, "form": null,
            "answer": {"status": 200, "headers": {"content-type": "application/json"},
                "body": {"size": 0, "json": {"success": true, "voices": [{"voice_id": "recorded-voice"}]}}}
        }
    });
    let text = serde_json::to_vec_pretty(&entry).expect("JSON");
    std::fs::write(dir.join("0001-GET-getAllVoices.json"), text).expect("write");
}

#[tokio::test]
async fn replay_checks_before_the_recording_and_marks_what_it_answered() {
    let dir = TempDir::new("checked");
    one_recorded_voice_list(&dir.0);
    let recorded = "/v1/getAllVoices?limit=1&page=0";
    let replay = mock(MockConfig::new().replay(&dir.0)).await;
    let (status, body) = get(&replay, recorded, Some("k1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["voices"][0]["voice_id"], "recorded-voice");

    // The key is checked as without a recording.
    assert_eq!(get(&replay, recorded, None).await.0, 401);
    let (status, body) = get(&replay, recorded, Some("Bearer x")).await;
    assert_eq!(status, 403, "{body}");

    // A Prefer replay and a one-shot scenario come before the recording.
    let asked = client()
        .get(replay.url(recorded))
        .header("Authorization", "k1")
        .header("Prefer", "code=500")
        .send()
        .await
        .expect("answered");
    assert_eq!(asked.status().as_u16(), 500);
    let scenario = json!({"operation": "getAllVoices", "times": 1, "respond": {"status": 500}});
    let (status, body) = admin(&replay, Method::POST, "/scenarios", Some(scenario)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(get(&replay, recorded, Some("k1")).await.0, 500);
    assert_eq!(get(&replay, recorded, Some("k1")).await.0, 200);

    // Not recorded: the mock's own answer, marked as not replayed.
    let (status, body) = get(&replay, "/v1/getAllVoices?limit=2&page=0", Some("k1")).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["voices"][0]["voice_id"], "recorded-voice");
    let journal = replay.state().journal();
    let replayed: Vec<bool> = journal
        .iter()
        .filter_map(|e| e.request.as_ref())
        .map(|r| r.replayed)
        .collect();
    assert_eq!(replayed, [true, false, false, false, false, true, false]);
    let voices = Matcher::operation("getAllVoices");
    replay.verify(voices.clone().replayed(true), 2);
    replay.verify(voices.clone().replayed(false).status(200), 1);
    let (status, found) = admin(
        &replay,
        Method::POST,
        "/requests/count",
        Some(json!({"replayed": false})),
    )
    .await;
    assert_eq!((status, &found["count"]), (200, &json!(5)), "{found}");
    let url = format!("{}/requests/count?replayed=false", replay.admin_url());
    let found: Value = client()
        .post(url)
        .send()
        .await
        .expect("count")
        .json()
        .await
        .expect("JSON");
    assert_eq!(found["count"], 5, "{found}");

    // Strict: a request the recording does not cover is a 501 naming the nearest recorded one;
    // the key is still checked first.
    let strict = mock(MockConfig::new().replay(&dir.0).replay_strict()).await;
    assert_eq!(get(&strict, recorded, Some("k1")).await.0, 200);
    let (status, body) = get(&strict, "/v1/getAllVoices?limit=2&page=0", Some("k1")).await;
    assert_eq!(status, 501, "{body}");
    let reason = body["error"].as_str().unwrap_or_default();
    assert!(
        reason.contains("GET /api/public/v1/getAllVoices?limit=2&page=0")
            && reason.contains("0001-GET-getAllVoices.json")
            && reason.contains(r#"["limit","1"]"#),
        "{reason}"
    );
    assert_eq!(body["success"], false);
    assert_eq!(get(&strict, "/v1/getAllVoices?limit=2", None).await.0, 401);
    let (status, body) = cover(
        &strict,
        Some("k1"),
        url_form("Drake", "https://x.test/a.mp3"),
        None,
    )
    .await;
    assert_eq!(status, 501, "{body}");

    // Strict without a recording is a bad setting.
    let refused = MockServer::try_start(MockConfig::new().replay_strict()).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("--replay")));
}
