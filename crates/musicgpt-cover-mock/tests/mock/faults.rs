//! Faults on demand: latency, failure rates and one-shot scenarios, set through the admin API and
//! the embedding API, observed over HTTP and raw TCP, and read back from the journal.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use musicgpt_cover_mock::{
    FaultRecord, FaultSettings, MockConfig, MockServer, NetworkFault, NewScenario, Respond,
};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{KEY, admin, client, cover, example, get, mock, url_form};

const VOICES: &str = "/v1/getAllVoices";

/// The `fault` of the last journalled request.
fn last_fault(mock: &MockServer) -> Option<FaultRecord> {
    let entry = mock.state().journal_tail(1).pop().expect("an entry");
    let request = entry.request.expect("a request");
    request.fault
}

fn last_status(mock: &MockServer) -> u16 {
    let entry = mock.state().journal_tail(1).pop().expect("an entry");
    entry.request.expect("a request").status
}

async fn scenario(mock: &MockServer, body: Value) -> Value {
    let (status, scenario) = admin(mock, Method::POST, "/scenarios", Some(body)).await;
    assert_eq!(status, 201, "{scenario}");
    scenario
}

/// What a raw `GET` of the voice list gets: every byte until the connection ends, and how it
/// ended (`Ok` for a clean close).
async fn raw_get(addr: SocketAddr, path: &str) -> (Vec<u8>, Result<(), ErrorKind>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /api/public{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {KEY}\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk)).await {
            Err(_) => panic!(
                "the connection stayed open: {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => break Err(e.kind()),
        }
    };
    (got, ended)
}

/// The head's `Content-Length` and the body bytes after the head.
fn split_answer(bytes: &[u8]) -> (String, usize, Vec<u8>) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&bytes[..end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .expect("a Content-Length");
    (head, length, bytes[end + 4..].to_vec())
}

#[tokio::test]
async fn a_status_scenario_answers_the_documented_example_and_handles_nothing() {
    let mock = mock(MockConfig::new().seed(1).funded_api_key(KEY, 10.0)).await;
    let added = scenario(
        &mock,
        json!({"operation": "cover", "respond": {"status": 402}}),
    )
    .await;
    assert_eq!(
        added,
        json!({"id": "s1", "operation": "cover", "times": 1, "remaining": 1, "respond": {"status": 402}, "retry_after": null})
    );
    let (status, body) = cover(
        &mock,
        Some(KEY),
        url_form("Drake", "https://x.example/a.mp3"),
        None,
    )
    .await;
    assert_eq!(status, 402);
    assert_eq!(body, example("/v1/Cover", "post", 402));
    assert_eq!(mock.state().task_count(), 0);
    assert_eq!(mock.state().credits(KEY), Some(10.0));
    let fault = last_fault(&mock).expect("the journal names the scenario");
    assert_eq!(fault.scenario.as_deref(), Some("s1"));
    assert_eq!(fault.kind.as_deref(), Some("status"));
    assert_eq!(fault.status, Some(402));
    // Used up: gone from the list, and the next Cover is handled.
    let (_, list) = admin(&mock, Method::GET, "/scenarios", None).await;
    assert_eq!(list, json!([]));
    let (status, _) = cover(
        &mock,
        Some(KEY),
        url_form("Drake", "https://x.example/a.mp3"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(last_fault(&mock), None);
    assert_eq!(mock.state().task_count(), 1);
}

#[tokio::test]
async fn scenarios_count_their_uses_and_apply_in_the_order_added() {
    let mock = mock(MockConfig::new().seed(1)).await;
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "times": 2, "respond": {"status": 500, "example": "internal_error"}}),
    )
    .await;
    scenario(
        &mock,
        json!({"operation": "*", "respond": {"status": 429}, "retry_after": 2}),
    )
    .await;
    // A search skips the voice list's scenario and takes the `*` one.
    let response = client()
        .get(mock.url("/v1/searchVoices?query=dr"))
        .header("Authorization", KEY)
        .send()
        .await
        .expect("search");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body, example("/v1/searchVoices", "get", 429));
    for remaining in [1, 0] {
        let (status, body) = get(&mock, VOICES, Some(KEY)).await;
        assert_eq!(status, 500);
        assert_eq!(body, example("/v1/getAllVoices", "get", 500));
        let listed = mock.state().scenarios();
        assert_eq!(
            listed.first().map(|s| s.remaining).unwrap_or(0),
            remaining,
            "{listed:?}"
        );
    }
    assert!(mock.state().scenarios().is_empty());
    assert_eq!(get(&mock, VOICES, Some(KEY)).await.0, 200);
}

#[tokio::test]
async fn scenarios_are_listed_cleared_and_removed_one_by_one() {
    let mock = mock(MockConfig::new()).await;
    for status in [500, 429] {
        scenario(
            &mock,
            json!({"operation": "getConversionById", "times": 3, "respond": {"status": status}}),
        )
        .await;
    }
    scenario(
        &mock,
        json!({"operation": "cover", "respond": {"fault": "dribble", "bytes_per_second": 64}}),
    )
    .await;
    let (status, list) = admin(&mock, Method::GET, "/scenarios", None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["s1", "s2", "s3"]);
    assert_eq!(
        list[2]["respond"],
        json!({"fault": "dribble", "bytes_per_second": 64})
    );
    let (status, _) = admin(&mock, Method::DELETE, "/scenarios/s2", None).await;
    assert_eq!(status, 200);
    let (status, body) = admin(&mock, Method::DELETE, "/scenarios/s2", None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(mock.state().scenarios().len(), 2);
    let (status, _) = admin(&mock, Method::DELETE, "/scenarios", None).await;
    assert_eq!(status, 200);
    assert!(mock.state().scenarios().is_empty());
}

#[tokio::test]
async fn close_ends_the_connection_without_a_byte() {
    let mock = mock(MockConfig::new()).await;
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "respond": {"fault": "close"}}),
    )
    .await;
    let (bytes, ended) = raw_get(mock.addr(), VOICES).await;
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert_eq!(ended, Ok(()), "a clean close, not a reset");
    let fault = last_fault(&mock).expect("journalled");
    assert_eq!(fault.kind.as_deref(), Some("close"));
    assert_eq!(last_status(&mock), 0, "no answer was sent");
    // The next request is answered as usual.
    assert_eq!(get(&mock, VOICES, Some(KEY)).await.0, 200);
}

#[tokio::test]
async fn reset_resets_the_connection() {
    let mock = mock(MockConfig::new()).await;
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "respond": {"fault": "reset"}}),
    )
    .await;
    let (bytes, ended) = raw_get(mock.addr(), VOICES).await;
    assert!(bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert_eq!(ended, Err(ErrorKind::ConnectionReset));
    assert_eq!(
        last_fault(&mock).and_then(|f| f.kind).as_deref(),
        Some("reset")
    );
    // A client sees an error, not an answer.
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "respond": {"fault": "reset"}}),
    )
    .await;
    let sent = client()
        .get(mock.url(VOICES))
        .header("Authorization", KEY)
        .send()
        .await;
    assert!(sent.is_err(), "{sent:?}");
}

#[tokio::test]
async fn truncate_sends_less_body_than_its_content_length() {
    let mock = mock(MockConfig::new().seed(3)).await;
    let (_, whole, _) = {
        let (bytes, _) = raw_get(mock.addr(), VOICES).await;
        split_answer(&bytes)
    };
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "respond": {"fault": "truncate"}}),
    )
    .await;
    let (bytes, _) = raw_get(mock.addr(), VOICES).await;
    let (head, length, body) = split_answer(&bytes);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(length, whole, "the full answer's length is announced");
    assert!(
        !body.is_empty() && body.len() < length,
        "{} of {length} bytes",
        body.len()
    );
    let fault = last_fault(&mock).expect("journalled");
    assert_eq!(fault.kind.as_deref(), Some("truncate"));
    assert_eq!(last_status(&mock), 200);
    // A client that reads the body gets an error.
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "respond": {"fault": "truncate"}}),
    )
    .await;
    let response = client()
        .get(mock.url(VOICES))
        .header("Authorization", KEY)
        .send()
        .await
        .expect("the head arrives");
    assert!(response.bytes().await.is_err());
}

#[tokio::test]
async fn dribble_sends_the_whole_answer_slowly() {
    let mock = mock(MockConfig::new().seed(3)).await;
    let (_, plain) = get(&mock, VOICES, Some(KEY)).await;
    let size = serde_json::to_vec(&plain).expect("json").len() as u64;
    let rate = 1000;
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "respond": {"fault": "dribble", "bytes_per_second": rate}}),
    )
    .await;
    let started = Instant::now();
    let (status, body) = get(&mock, VOICES, Some(KEY)).await;
    let took = started.elapsed();
    assert_eq!((status, &body), (200, &plain));
    // Pieces of a tenth of the rate, one every tenth of a second; the first goes at once.
    let pieces = size.div_ceil(rate / 10);
    assert!(
        took >= Duration::from_millis(100 * (pieces - 1)),
        "{size} bytes at {rate} B/s took {took:?}"
    );
    assert_eq!(
        last_fault(&mock).and_then(|f| f.kind).as_deref(),
        Some("dribble")
    );
}

#[tokio::test]
async fn delays_and_latency_wait_and_are_journalled() {
    let mock = mock(MockConfig::new().latency("30ms")).await;
    let (status, faults) = admin(&mock, Method::GET, "/faults", None).await;
    assert_eq!(status, 200);
    assert_eq!(faults, json!({"latency": "30ms", "fail_rates": []}));
    let started = Instant::now();
    assert_eq!(get(&mock, VOICES, Some(KEY)).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        last_fault(&mock),
        Some(FaultRecord {
            latency_ms: Some(30),
            ..FaultRecord::default()
        })
    );
    scenario(
        &mock,
        json!({"operation": "getAllVoices", "respond": {"delay_ms": 120}}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(get(&mock, VOICES, Some(KEY)).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let fault = last_fault(&mock).expect("journalled");
    assert_eq!(
        (fault.kind.as_deref(), fault.delay_ms, fault.latency_ms),
        (Some("delay"), Some(120), Some(30))
    );
    // A range, changed while it runs.
    let (status, set) = admin(
        &mock,
        Method::PUT,
        "/faults",
        Some(json!({"latency": "10ms..20ms", "fail_rates": []})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(set, json!({"latency": "10ms..20ms", "fail_rates": []}));
    get(&mock, VOICES, Some(KEY)).await;
    let drawn = last_fault(&mock).and_then(|f| f.latency_ms).expect("drawn");
    assert!((10..=20).contains(&drawn), "{drawn}");
}

#[tokio::test]
async fn the_admin_api_pages_and_spec_are_never_touched() {
    let mock = mock(MockConfig::new()).await;
    scenario(
        &mock,
        json!({"operation": "*", "respond": {"fault": "reset"}}),
    )
    .await;
    for path in [
        "/openapi.json",
        "/openapi.yaml",
        "/",
        "/docs",
        "/__admin/ui",
    ] {
        let response = client()
            .get(format!("{}{path}", mock.origin()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    assert_eq!(admin(&mock, Method::GET, "/journal", None).await.0, 200);
    assert_eq!(mock.state().scenarios()[0].remaining, 1);
}

#[tokio::test]
async fn a_seeded_mock_fails_the_same_requests_every_run() {
    let run = || async {
        let mock = mock(
            MockConfig::new()
                .seed(42)
                .fail_rate("getAllVoices=0.5")
                .fail_rate("searchVoices=0.3:500"),
        )
        .await;
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(get(&mock, VOICES, Some(KEY)).await.0);
        }
        (mock, statuses)
    };
    let (mock, first) = run().await;
    let (_, second) = run().await;
    assert_eq!(first, second);
    assert!(first.contains(&200), "{first:?}");
    assert!(first.iter().any(|s| *s != 200), "{first:?}");
    // Only the operation's documented failures: 429 and 500.
    assert!(
        first.iter().all(|s| [200, 429, 500].contains(s)),
        "{first:?}"
    );
    // A reset replays the same sequence.
    admin(&mock, Method::POST, "/reset", None).await;
    let mut again = Vec::new();
    for _ in 0..24 {
        again.push(get(&mock, VOICES, Some(KEY)).await.0);
    }
    assert_eq!(again, first);
}

#[tokio::test]
async fn an_injected_failure_creates_no_task_and_charges_nothing() {
    let mock = mock(MockConfig::new().funded_api_key(KEY, 5.0)).await;
    let (status, _) = admin(
        &mock,
        Method::PUT,
        "/faults",
        Some(json!({"fail_rates": [{"spec": "cover=1:500"}]})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = cover(
        &mock,
        Some(KEY),
        url_form("Drake", "https://x.example/a.mp3"),
        None,
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(body, example("/v1/Cover", "post", 500));
    assert_eq!(mock.state().task_count(), 0);
    assert_eq!(mock.state().credits(KEY), Some(5.0));
    assert_eq!(
        last_fault(&mock),
        Some(FaultRecord {
            fail_rate: Some("cover".into()),
            status: Some(500),
            ..FaultRecord::default()
        })
    );
}

#[tokio::test]
async fn unavailable_is_a_gateway_503_in_plain_text_with_its_retry_after() {
    let mock = mock(MockConfig::new().funded_api_key(KEY, 5.0)).await;
    scenario(
        &mock,
        json!({"operation": "cover", "respond": {"fault": "unavailable"}, "retry_after": 5}),
    )
    .await;
    let form = url_form("Drake", "https://x.example/a.mp3");
    let response = client()
        .post(mock.url("/v1/Cover"))
        .header("Authorization", KEY)
        .multipart(form)
        .send()
        .await
        .expect("cover");
    assert_eq!(response.status().as_u16(), 503);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("retry-after").as_deref(), Some("5"));
    assert_eq!(
        header("content-type").as_deref(),
        Some("text/plain; charset=utf-8"),
        "a gateway's answer, not the API's JSON"
    );
    let text = response.text().await.expect("body");
    assert!(text.starts_with("503 Service Unavailable"), "{text:?}");
    // Not handled: no task, no charge; the journal names the fault and the 503.
    assert_eq!(mock.state().task_count(), 0);
    assert_eq!(mock.state().credits(KEY), Some(5.0));
    let fault = last_fault(&mock).expect("journalled");
    assert_eq!(fault.kind.as_deref(), Some("unavailable"));
    assert_eq!(last_status(&mock), 503);
    // Used once: the next Cover is taken.
    let (status, _) = cover(
        &mock,
        Some(KEY),
        url_form("Drake", "https://x.example/a.mp3"),
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_embedding_api_sets_the_same() {
    let mock = mock(MockConfig::new()).await;
    let added = mock
        .add_scenario(
            NewScenario::new("getAllVoices", Respond::Fault(NetworkFault::Close)).times(2),
        )
        .expect("added");
    assert_eq!((added.id.as_str(), added.remaining), ("s1", 2));
    assert!(
        mock.add_scenario(NewScenario::new(
            "getAllVoices",
            Respond::Status {
                status: 402,
                example: None
            }
        ))
        .is_err(),
        "getAllVoices documents no 402"
    );
    mock.set_faults(FaultSettings {
        latency: Some("5ms".parse().expect("latency")),
        fail_rates: vec!["cover=0.25".parse().expect("rule")],
    })
    .expect("set");
    let (_, faults) = admin(&mock, Method::GET, "/faults", None).await;
    assert_eq!(
        faults,
        json!({"latency": "5ms", "fail_rates": [{"operation": "cover", "rate": 0.25, "status": null}]})
    );
    assert_eq!(mock.state().scenarios().len(), 1);
    mock.state().clear_scenarios();
    assert!(mock.state().scenarios().is_empty());
}

#[tokio::test]
async fn a_reset_restores_the_start_up_settings() {
    let mock = mock(
        MockConfig::new()
            .latency("1ms..3ms")
            .fail_rate("searchVoices=0.1"),
    )
    .await;
    let start = mock.state().faults();
    admin(
        &mock,
        Method::PUT,
        "/faults",
        Some(json!({"latency": null, "fail_rates": []})),
    )
    .await;
    scenario(
        &mock,
        json!({"operation": "cover", "respond": {"status": 500}}),
    )
    .await;
    assert_ne!(mock.state().faults(), start);
    let (status, _) = admin(&mock, Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(mock.state().faults(), start);
    assert!(mock.state().scenarios().is_empty());
    // Ids start again.
    let added = scenario(
        &mock,
        json!({"operation": "cover", "respond": {"status": 500}}),
    )
    .await;
    assert_eq!(added["id"], "s1");
}

#[tokio::test]
async fn bad_admin_input_is_a_400_saying_what_is_wrong() {
    let mock = mock(MockConfig::new()).await;
    let cases = [
        (
            Method::POST,
            "/scenarios",
            json!({"operation": "getAllVoices", "respond": {"status": 402}}),
            "402",
        ),
        (
            Method::POST,
            "/scenarios",
            json!({"operation": "cover", "respond": {"status": 402, "example": "nope"}}),
            "nope",
        ),
        (
            Method::POST,
            "/scenarios",
            json!({"operation": "covers", "respond": {"status": 500}}),
            "covers",
        ),
        (
            Method::POST,
            "/scenarios",
            json!({"operation": "cover", "respond": {"fault": "explode"}}),
            "explode",
        ),
        (
            Method::POST,
            "/scenarios",
            json!({"operation": "cover", "times": 0, "respond": {"status": 500}}),
            "times",
        ),
        (
            Method::POST,
            "/scenarios",
            json!({"operation": "cover"}),
            "respond",
        ),
        (Method::PUT, "/faults", json!({"latency": "fast"}), "fast"),
        (
            Method::PUT,
            "/faults",
            json!({"fail_rates": [{"operation": "cover", "rate": 1.5}]}),
            "from 0 to 1",
        ),
        (
            Method::PUT,
            "/faults",
            json!({"fail_rates": [{"operation": "getAllVoices", "rate": 0.5, "status": 402}]}),
            "402",
        ),
        (
            Method::PUT,
            "/faults",
            json!({"failrates": []}),
            "failrates",
        ),
    ];
    for (method, path, body, says) in cases {
        let (status, answer) = admin(&mock, method.clone(), path, Some(body.clone())).await;
        assert_eq!(status, 400, "{method} {path} {body}: {answer}");
        assert_eq!(answer["success"], false);
        let text = answer["error"].as_str().unwrap_or_default();
        assert!(text.contains(says), "{body}: {text}");
    }
    assert!(mock.state().scenarios().is_empty());
    assert_eq!(mock.state().faults(), FaultSettings::default());
    // Not JSON at all.
    let response = client()
        .post(format!("{}/scenarios", mock.admin_url()))
        .body("cover=402")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    // A bad start-up setting fails the start.
    assert!(
        MockServer::try_start(MockConfig::new().fail_rate("getAllVoices=0.1:402"))
            .await
            .is_err()
    );
    assert!(
        MockServer::try_start(MockConfig::new().latency("2s..1s"))
            .await
            .is_err()
    );
}
