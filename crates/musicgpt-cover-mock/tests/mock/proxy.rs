//! The proxy mode (`musicgpt-cover-mock proxy`): in front of the mock itself nothing is reported;
//! in front of an upstream that breaks the spec (a renamed field, a dropped required one, an
//! undocumented status, a body that is not JSON, a wrong type) each break is reported and named
//! in `x-contract-violations` and the journal, and a strict proxy answers 502 with the list. The
//! key is forwarded but never journalled or logged; result-file URLs pass unchanged; a large
//! upload reaches the upstream byte for byte; a browser's preflight is answered by the proxy.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;
use futures::StreamExt;
use musicgpt_cover_mock::{
    JournalEntry, MockConfig, ProxyConfig, ProxyServer, Severity, VIOLATIONS_HEADER, Violation,
};
use serde_json::{Value, json};

use crate::common::{client, mock, preflight, url_form};

/// A key long enough to be redacted to its ends; the tests look for it whole.
const SECRET: &str = "sk-proxy-test-0123456789-secret-key";

async fn proxy_to(upstream: &str, strict: bool) -> ProxyServer {
    ProxyServer::start(ProxyConfig::new(upstream).strict(strict))
        .await
        .expect("proxy starts")
}

/// The violations an answer's header lists.
fn header_violations(headers: &HeaderMap) -> Vec<Violation> {
    headers
        .get(VIOLATIONS_HEADER)
        .map(|v| serde_json::from_slice(v.as_bytes()).expect("the header is a JSON list"))
        .unwrap_or_default()
}

fn journal_violations(journal: &[JournalEntry]) -> Vec<Violation> {
    journal
        .iter()
        .filter_map(|e| e.request.as_ref())
        .flat_map(|r| r.violations.clone())
        .collect()
}

fn no_secret_in(journal: &[JournalEntry]) {
    let text = serde_json::to_string(journal).expect("journal as JSON");
    assert!(!text.contains(SECRET), "the key is in the journal: {text}");
    let auth: Vec<&String> = journal
        .iter()
        .filter_map(|e| e.request.as_ref()?.headers.get("authorization"))
        .collect();
    assert!(
        !auth.is_empty() && auth.iter().all(|a| a.contains("redacted")),
        "{auth:?}"
    );
}

#[tokio::test]
async fn in_front_of_the_mock_nothing_is_reported() {
    let mock = mock(MockConfig::default().seed(3).time_scale(0.0)).await;
    let proxy = proxy_to(mock.base_url(), true).await;
    let http = client();

    let answer = http
        .post(proxy.url("/v1/Cover"))
        .header("Authorization", SECRET)
        .multipart(url_form(
            "Drake",
            "https://www.youtube.com/watch?v=jGflUbPQfW8",
        ))
        .send()
        .await
        .expect("cover");
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().get(VIOLATIONS_HEADER).is_none());
    let cover: Value = answer.json().await.expect("json");
    let task_id = cover["task_id"].as_str().expect("task_id").to_owned();
    // With time scale 0 it is complete at once.

    for path in [
        "/v1/getAllVoices?limit=2".to_owned(),
        "/v1/searchVoices?query=dr".to_owned(),
        format!("/v1/byId?conversionType=COVER&task_id={task_id}"),
    ] {
        let answer = http
            .get(proxy.url(&path))
            .header("Authorization", SECRET)
            .send()
            .await
            .expect("get");
        assert_eq!(answer.status(), 200, "{path}");
        let found = header_violations(answer.headers());
        assert!(found.is_empty(), "{path}: {found:?}");
        let body: Value = answer.json().await.expect("json");
        if path.contains("byId") {
            // The result files' URLs are the mock's, passed on unchanged.
            let url = body["conversion"]["conversion_path"]
                .as_str()
                .unwrap_or_default();
            assert!(url.starts_with(mock.origin()), "{body}");
        }
    }
    // A 404 the spec documents is no violation either.
    let answer = http
        .get(proxy.url("/v1/byId?conversionType=COVER&task_id=nobody"))
        .header("Authorization", SECRET)
        .send()
        .await
        .expect("get");
    assert_eq!(answer.status(), 404);
    assert!(header_violations(answer.headers()).is_empty());

    // The mock got the key as it was sent.
    let seen = mock.state().journal();
    assert!(
        seen.iter().filter_map(|e| e.request.as_ref()).all(|r| r
            .headers
            .get("authorization")
            .map(String::as_str)
            == Some(SECRET))
    );
    let journal = proxy.journal();
    assert_eq!(journal.len(), 5);
    assert!(journal_violations(&journal).is_empty());
    no_secret_in(&journal);
}

/// What the wrong upstream saw of the requests sent to it.
#[derive(Default)]
struct Seen {
    keys: Vec<String>,
    uploads: Vec<(u64, u64)>,
}

const RESULT_URL: &str = "https://cdn1.wav.com/projects/acff300f-1c96-498d-99fe-929b985c5c55.mp3";

/// An upstream that breaks the spec in every way a real API might, one per request.
async fn wrong_upstream() -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let by_id = |Query(q): Query<Vec<(String, String)>>| async move {
        let task = q
            .iter()
            .find(|(k, _)| k == "task_id")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let conversion = match task.as_str() {
            // `task_id` renamed, `status` dropped: both required.
            "broken" => json!({"taskId": "t1", "conversion_id": "c1"}),
            // A completed conversion as documented, with its result file on the CDN.
            _ => json!({"task_id": "t1", "status": "COMPLETED", "conversion_path": RESULT_URL}),
        };
        axum::Json(json!({"success": true, "conversion": conversion}))
    };
    let voices = || async {
        // Valid JSON of the wrong type.
        axum::Json(json!({"success": true, "voices": "none"}))
    };
    let search = || async {
        (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"success\": tru",
        )
    };
    let upload_seen = seen.clone();
    let cover = move |headers: HeaderMap, request: Request| {
        let seen = upload_seen.clone();
        async move {
            let key = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let mut body = request.into_body().into_data_stream();
            let mut sum = Checksum::default();
            while let Some(chunk) = body.next().await {
                sum.add(&chunk.expect("upload chunk"));
            }
            let mut seen = seen.lock().expect("seen");
            seen.keys.push(key);
            seen.uploads.push((sum.len, sum.value()));
            if sum.len > 1 << 20 {
                // A large upload is answered as documented.
                axum::Json(json!({"success": true, "task_id": "t-upload"})).into_response()
            } else {
                // An undocumented status.
                (
                    StatusCode::IM_A_TEAPOT,
                    axum::Json(json!({"success": false})),
                )
                    .into_response()
            }
        }
    };
    let app = Router::new()
        .route("/api/public/v1/byId", get(by_id))
        .route("/api/public/v1/getAllVoices", get(voices))
        .route("/api/public/v1/searchVoices", get(search))
        .route("/api/public/v1/Cover", post(cover));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/api/public"), seen)
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn call(proxy: &ProxyServer, method: &str, path: &str) -> Answer {
    let http = client();
    let request = match method {
        "POST" => http
            .post(proxy.url(path))
            .multipart(url_form("Drake", "https://www.youtube.com/watch?v=x")),
        _ => http.get(proxy.url(path)),
    };
    let answer = request
        .header("Authorization", SECRET)
        .send()
        .await
        .expect("request");
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.expect("body");
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// The calls that each break the spec one way, and what must be said about each.
const BREAKS: [(&str, &str, &str, &str); 5] = [
    (
        "GET",
        "/v1/byId?conversionType=COVER&task_id=broken",
        "response.body.conversion",
        "task_id",
    ),
    (
        "GET",
        "/v1/byId?conversionType=COVER&task_id=broken",
        "response.body.conversion",
        "status",
    ),
    ("POST", "/v1/Cover", "response.status", "418"),
    (
        "GET",
        "/v1/searchVoices?query=dr",
        "response.body",
        "not JSON",
    ),
    ("GET", "/v1/getAllVoices", "response.body.voices", "array"),
];

fn named(found: &[Violation], location: &str, word: &str) -> bool {
    found.iter().any(|v| {
        v.severity == Severity::Error
            && v.location.join(".") == location
            && v.message.contains(word)
    })
}

#[tokio::test]
async fn each_break_of_the_spec_is_reported_and_named() {
    let (upstream, seen) = wrong_upstream().await;
    let proxy = proxy_to(&upstream, false).await;
    for (method, path, location, word) in BREAKS {
        let answer = call(&proxy, method, path).await;
        // The upstream's answer is passed on as it was.
        assert_ne!(answer.status, 502, "{path}");
        let found = header_violations(&answer.headers);
        assert!(
            named(&found, location, word),
            "{method} {path}: no error at {location} naming {word}: {found:#?}"
        );
    }
    let journal = proxy.journal();
    let found = journal_violations(&journal);
    for (_, path, location, word) in BREAKS {
        assert!(named(&found, location, word), "journal, {path}: {found:#?}");
    }
    // The required ones are named by their keyword.
    assert!(found.iter().filter(|v| v.code == "required").count() >= 2);

    // A documented answer: its result URL unchanged, nothing to report.
    let answer = call(&proxy, "GET", "/v1/byId?conversionType=COVER&task_id=good").await;
    assert_eq!(answer.status, 200);
    assert!(header_violations(&answer.headers).is_empty());
    assert_eq!(answer.body["conversion"]["conversion_path"], RESULT_URL);

    // The upstream got the key; the journal did not.
    let keys = seen.lock().expect("seen").keys.clone();
    assert_eq!(keys, [SECRET]);
    no_secret_in(&proxy.journal());
}

#[tokio::test]
async fn a_strict_proxy_answers_502_with_the_list() {
    let (upstream, _) = wrong_upstream().await;
    let proxy = proxy_to(&upstream, true).await;
    for (method, path, location, word) in BREAKS {
        let answer = call(&proxy, method, path).await;
        assert_eq!(answer.status, 502, "{path}: {}", answer.body);
        // The API's error format, and the list beside.
        assert_eq!(answer.body["success"], false);
        assert!(
            answer.body["error"]
                .as_str()
                .is_some_and(|e| e.contains("openapi.yaml"))
        );
        let listed: Vec<Violation> =
            serde_json::from_value(answer.body["violations"].clone()).expect("a list");
        assert!(named(&listed, location, word), "{path}: {listed:#?}");
        assert!(named(&header_violations(&answer.headers), location, word));
    }
    let answer = call(&proxy, "GET", "/v1/byId?conversionType=COVER&task_id=good").await;
    assert_eq!(answer.status, 200);

    // A request that breaks the spec is refused before it is sent.
    let answer = client()
        .get(proxy.url("/v1/byId?task_id=good"))
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 502);
    let found = header_violations(answer.headers());
    assert!(
        found.iter().any(|v| v.location == ["request", "query"]),
        "{found:?}"
    );
    assert!(found.iter().any(|v| v.code == "security"), "{found:?}");
    let last = proxy
        .journal()
        .pop()
        .and_then(|e| e.request)
        .expect("journalled");
    assert_eq!(last.status, 502);
}

#[tokio::test]
async fn a_request_that_breaks_the_spec_is_reported_and_still_forwarded() {
    let mock = mock(MockConfig::default().seed(4)).await;
    let proxy = proxy_to(mock.base_url(), false).await;
    // No voice_id: the mock answers its documented 422, the proxy names the request's break.
    let form =
        reqwest::multipart::Form::new().text("audio_url", "https://www.youtube.com/watch?v=x");
    let answer = client()
        .post(proxy.url("/v1/Cover"))
        .header("Authorization", SECRET)
        .multipart(form)
        .send()
        .await
        .expect("cover");
    assert_eq!(answer.status(), 422);
    let found = header_violations(answer.headers());
    assert!(
        found
            .iter()
            .any(|v| v.location == ["request", "body"] && v.message.contains("voice_id")),
        "{found:?}"
    );
    // An operation the spec does not have, and a path outside the API.
    let answer = client()
        .get(proxy.url("/v1/nothing"))
        .header("Authorization", SECRET)
        .send()
        .await
        .expect("get");
    let found = header_violations(answer.headers());
    assert!(found.iter().any(|v| v.code == "operation"), "{found:?}");
    let answer = client()
        .get(format!("http://{}/elsewhere", proxy.addr()))
        .send()
        .await
        .expect("get");
    assert_eq!(answer.status(), 404);
    let body: Value = answer.json().await.expect("the API's JSON error");
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn an_upstream_that_does_not_answer_is_a_502() {
    // A port nothing listens on: bound, then closed.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let proxy = proxy_to(&format!("http://{addr}/api/public"), false).await;
    let answer = call(&proxy, "GET", "/v1/getAllVoices").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.body["success"], false);
    assert!(
        header_violations(&answer.headers)
            .iter()
            .any(|v| v.code == "upstream")
    );
}

/// A running sum that depends on every byte and its place (Adler-32's idea, in 64 bits).
#[derive(Default)]
struct Checksum {
    a: u64,
    b: u64,
    len: u64,
}

impl Checksum {
    fn add(&mut self, bytes: &[u8]) {
        const MOD: u64 = 4_294_967_291;
        for &byte in bytes {
            self.a = (self.a + u64::from(byte) + 1) % MOD;
            self.b = (self.b + self.a) % MOD;
        }
        self.len += bytes.len() as u64;
    }

    fn value(&self) -> u64 {
        (self.b << 32) | self.a
    }
}

/// Byte `i` of the generated upload: not periodic at any power of two.
fn upload_chunk(start: u64, len: usize) -> Vec<u8> {
    (start..start + len as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ (i / 4099) as u8)
        .collect()
}

#[tokio::test]
async fn a_large_upload_reaches_the_upstream_byte_for_byte() {
    const SIZE: u64 = 200 << 20;
    const CHUNK: usize = 64 << 10;
    let (upstream, seen) = wrong_upstream().await;
    let proxy = proxy_to(&upstream, false).await;

    let boundary = "proxy-upload-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"voice_id\"\r\n\r\nDrake\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
    )
    .into_bytes();
    let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
    let total = head.len() as u64 + SIZE + tail.len() as u64;
    let sent = Arc::new(Mutex::new(Checksum::default()));
    let file = futures::stream::unfold(0u64, |at| async move {
        (at < SIZE).then(|| {
            let len = CHUNK.min((SIZE - at) as usize);
            (upload_chunk(at, len), at + len as u64)
        })
    });
    let pieces = futures::stream::iter([head])
        .chain(file)
        .chain(futures::stream::iter([tail]));
    let counted = sent.clone();
    let body = pieces.map(move |piece| {
        counted.lock().expect("sum").add(&piece);
        Ok::<_, std::io::Error>(Bytes::from(piece))
    });
    let answer = client()
        .post(proxy.url("/v1/Cover"))
        .header("Authorization", SECRET)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::CONTENT_LENGTH, total)
        .body(reqwest::Body::wrap_stream(body))
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .expect("upload");
    assert_eq!(answer.status(), 200);
    let found = header_violations(answer.headers());
    assert!(found.is_empty(), "{found:?}");
    let sent = sent.lock().expect("sum");
    assert_eq!(sent.len, total);
    let uploads = seen.lock().expect("seen").uploads.clone();
    assert_eq!(uploads, [(total, sent.value())]);
    // The journal says what went through, not the bytes.
    let last = proxy
        .journal()
        .pop()
        .and_then(|e| e.request)
        .expect("journalled");
    assert_eq!(last.headers.get("content-length"), Some(&total.to_string()));
}

/// A writer the test's log goes into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_key_is_never_logged() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // One thread: every task of the proxy, the mock and the test logs through this subscriber.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let (upstream, _) = wrong_upstream().await;
            let proxy = proxy_to(&upstream, false).await;
            for (method, path, _, _) in BREAKS {
                call(&proxy, method, path).await;
            }
            let strict = proxy_to(&upstream, true).await;
            call(&strict, "GET", "/v1/getAllVoices").await;
        });
    });
    let text = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    assert!(
        text.contains("response.status"),
        "the violations are logged: {text}"
    );
    assert!(!text.contains(SECRET), "the key is in the log: {text}");
}

#[tokio::test]
async fn a_stalled_upload_is_answered_408_as_by_the_mock() {
    let (upstream, _) = wrong_upstream().await;
    let proxy = ProxyServer::start_with(
        ProxyConfig::new(upstream),
        MockConfig::default().body_timeout(Duration::from_millis(300)),
    )
    .await
    .expect("proxy starts");
    let first = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(
        b"--b\r\nContent-Disposition: form-data; name=\"voice_id\"\r\n\r\nDrake\r\n",
    ))]);
    let body = first.chain(futures::stream::pending());
    let answer = client()
        .post(proxy.url("/v1/Cover"))
        .header("Authorization", SECRET)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), 408);
    let body: Value = answer.json().await.expect("the API's JSON error");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("stalled")),
        "{body}"
    );
}

/// An upstream that answers no preflight (axum's 405 for `OPTIONS`), sets CORS headers of its own
/// (a single allowed origin, with credentials), and counts what reaches it.
async fn upstream_without_cors() -> (String, Arc<Mutex<Vec<String>>>) {
    let reached = Arc::new(Mutex::new(Vec::new()));
    let seen = reached.clone();
    let app = Router::new()
        .route(
            "/api/public/v1/getAllVoices",
            get(|| async {
                (
                    [
                        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "https://musicgpt.com"),
                        (header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"),
                    ],
                    axum::Json(
                        json!({"success": true, "voices": [], "limit": 20, "page": 0, "total": 0}),
                    ),
                )
            }),
        )
        .layer(axum::middleware::from_fn(
            move |request: Request, next: axum::middleware::Next| {
                let seen = seen.clone();
                async move {
                    seen.lock().expect("seen").push(format!(
                        "{} {}",
                        request.method(),
                        request.uri().path()
                    ));
                    next.run(request).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/api/public"), reached)
}

/// A browser app on another origin, through the proxy: its preflight is answered by the proxy
/// with the mock's rule (any origin, the method and headers asked for), never forwarded nor
/// reported; the answers it then gets are open to any origin, the violations header readable,
/// the upstream's own CORS headers replaced. In strict mode too: a preflight is not a request
/// the spec judges.
#[tokio::test]
async fn the_proxy_answers_a_browsers_preflight_itself() {
    let (upstream, reached) = upstream_without_cors().await;
    for strict in [false, true] {
        let proxy = proxy_to(&upstream, strict).await;
        for path in ["/v1/Cover", "/v1/getAllVoices"] {
            let answer = preflight(&proxy.url(path)).await;
            assert_eq!(answer.status(), 200, "{path}");
            let h = answer.headers();
            assert_eq!(h["access-control-allow-origin"], "*");
            assert_eq!(h["access-control-allow-methods"], "POST");
            assert_eq!(
                h["access-control-allow-headers"],
                "authorization, prefer, content-type"
            );
            assert!(h.contains_key("access-control-max-age"));
            assert!(h.get(VIOLATIONS_HEADER).is_none(), "{path}: {h:?}");
        }
        assert!(
            reached.lock().expect("reached").is_empty(),
            "a preflight was forwarded: {:?}",
            reached.lock().expect("reached")
        );
        let journal = proxy.journal();
        let preflights: Vec<_> = journal
            .iter()
            .filter_map(|e| e.request.as_ref())
            .filter(|r| r.method == "OPTIONS")
            .collect();
        assert_eq!(preflights.len(), 2, "{journal:?}");
        assert!(
            preflights
                .iter()
                .all(|r| r.status == 200 && r.violations.is_empty()),
            "{preflights:?}"
        );

        // The call itself: forwarded, open to the page, its violations header readable.
        let answer = client()
            .get(proxy.url("/v1/getAllVoices"))
            .header("Origin", "http://localhost:5173")
            .header("Authorization", SECRET)
            .send()
            .await
            .expect("get");
        assert_eq!(answer.status(), 200);
        let h = answer.headers();
        let origins: Vec<_> = h.get_all("access-control-allow-origin").iter().collect();
        assert_eq!(origins, ["*"], "the upstream's own origin is replaced");
        assert!(h.get("access-control-allow-credentials").is_none(), "{h:?}");
        let exposed = h["access-control-expose-headers"].to_str().expect("text");
        assert!(
            exposed.contains(VIOLATIONS_HEADER) && exposed.contains("retry-after"),
            "{exposed}"
        );
        assert_eq!(
            reached
                .lock()
                .expect("reached")
                .drain(..)
                .collect::<Vec<_>>(),
            ["GET /api/public/v1/getAllVoices"]
        );
    }

    // Its own errors are open too: a path outside the API, and an upstream that is gone.
    let gone = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let proxy = proxy_to(&format!("http://{gone}/api/public"), false).await;
    for path in [
        format!("http://{}/elsewhere", proxy.addr()),
        proxy.url("/v1/getAllVoices"),
    ] {
        let answer = client()
            .get(&path)
            .header("Origin", "http://localhost:5173")
            .header("Authorization", SECRET)
            .send()
            .await
            .expect("get");
        assert!(
            [404, 502].contains(&answer.status().as_u16()),
            "{path}: {}",
            answer.status()
        );
        assert_eq!(
            answer.headers()["access-control-allow-origin"],
            "*",
            "{path}"
        );
    }
}

/// The proxy's admin index lists its admin API but not the dashboard, a page only the mock serves.
#[tokio::test]
async fn the_proxys_admin_index_names_only_what_it_serves() {
    let mock = mock(MockConfig::default().seed(4)).await;
    let proxy = proxy_to(mock.base_url(), false).await;
    let index: Value = client()
        .get(format!("http://{}/__admin", proxy.addr()))
        .send()
        .await
        .expect("index")
        .json()
        .await
        .expect("JSON");
    let paths: Vec<&str> = index["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["path"].as_str())
        .collect();
    assert!(paths.contains(&"/__admin/journal?last=N"), "{paths:?}");
    assert!(!paths.contains(&"/__admin/ui"), "{paths:?}");
    let page = client()
        .get(format!("http://{}/__admin/ui", proxy.addr()))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 404);
}
