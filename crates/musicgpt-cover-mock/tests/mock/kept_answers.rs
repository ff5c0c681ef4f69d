//! The journal keeps each answer: a JSON answer byte for byte, a result file by size and SHA-256,
//! an answer over the bound by size and hash too; and with large answers the journal stays within
//! its bound in bytes.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use musicgpt_cover_mock::config::MAX_JOURNAL_BYTES;
use musicgpt_cover_mock::{
    JournalEntry, KeptAnswer, MAX_KEPT_BODY, MockConfig, ProxyConfig, ProxyServer,
};
use sha2::{Digest, Sha256};

use crate::common::{KEY, client, mock, url_form};

fn answer_of(entry: &JournalEntry) -> KeptAnswer {
    entry
        .request
        .as_ref()
        .and_then(|r| r.answer.clone())
        .unwrap_or_else(|| panic!("no answer kept in {entry:?}"))
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn the_journal_keeps_each_answer() {
    let mock = mock(MockConfig::new().seed(31)).await;
    let http = client();
    let answer = http
        .post(mock.url("/v1/Cover"))
        .header("Authorization", KEY)
        .multipart(url_form("Drake", "https://x.example/a"))
        .send()
        .await
        .expect("cover");
    let content_type = answer.headers()["content-type"].clone();
    let sent = answer.bytes().await.expect("body");
    let kept = answer_of(mock.state().journal().last().expect("an entry"));
    assert_eq!(kept.status, 200);
    assert_eq!(
        kept.headers.get("content-type").map(String::as_str),
        content_type.to_str().ok()
    );
    assert_eq!(kept.body.bytes(), Some(sent.as_ref()), "byte for byte");
    assert!(kept.body.json.is_some() && kept.body.sha256.is_none());
    let cid = serde_json::from_slice::<serde_json::Value>(&sent).expect("JSON")["conversion_id"]
        .as_str()
        .expect("conversion id")
        .to_owned();

    // A result file: by size and hash.
    mock.state().advance_clock(Duration::from_secs(3600));
    let file = http
        .get(format!("{}/files/{cid}.mp3", mock.origin()))
        .send()
        .await
        .expect("file")
        .bytes()
        .await
        .expect("bytes");
    let kept = answer_of(mock.state().journal().last().expect("an entry"));
    assert_eq!(kept.status, 200);
    assert_eq!(kept.body.size, file.len() as u64);
    assert_eq!(kept.body.sha256, Some(sha256(&file)));
    assert!(kept.body.bytes().is_none());

    // The admin API's journal shows the answer too.
    let journal: serde_json::Value = http
        .get(format!("{}/journal", mock.admin_url()))
        .send()
        .await
        .expect("journal")
        .json()
        .await
        .expect("JSON");
    let first = &journal["entries"][0]["request"]["answer"];
    assert_eq!(first["status"], 200, "{journal}");
    assert_eq!(
        first["body"]["json"],
        serde_json::from_slice::<serde_json::Value>(&sent).expect("JSON")
    );
}

/// A voice list of at most `bytes` bytes (and not much less), as the spec documents it.
fn voices_of(bytes: usize) -> String {
    let one = r#"{"voice_id":"v000000","voice_name":"Voice 000000"},"#.len();
    let voices: Vec<String> = (0..(bytes - 100) / one)
        .map(|i| format!(r#"{{"voice_id":"v{i:06}","voice_name":"Voice {i:06}"}}"#))
        .collect();
    format!(
        r#"{{"success":true,"voices":[{}],"limit":20,"page":0,"total":{}}}"#,
        voices.join(","),
        voices.len()
    )
}

#[tokio::test]
async fn with_large_answers_the_journal_stays_within_its_bytes() {
    // Each answer just within what an entry keeps whole; more of them than the bytes hold.
    let large = voices_of(MAX_KEPT_BODY - 1024);
    assert!(large.len() <= MAX_KEPT_BODY);
    let count = MAX_JOURNAL_BYTES / large.len() + 40;
    let over = voices_of(MAX_KEPT_BODY * 3);
    let upstream = Router::new()
        .route(
            "/v1/getAllVoices",
            get(move || {
                let body = large.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        )
        .route(
            "/v1/searchVoices",
            get(move || {
                let body = over.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, upstream).await });
    let proxy = ProxyServer::start_with(
        ProxyConfig::new(format!("http://{addr}")),
        MockConfig::new().journal_capacity(count * 2),
    )
    .await
    .expect("proxy");
    let http = client();
    for _ in 0..count {
        let answer = http
            .get(proxy.url("/v1/getAllVoices"))
            .header("Authorization", KEY)
            .send()
            .await
            .expect("voices");
        assert_eq!(answer.status(), 200);
        answer.bytes().await.expect("body");
    }
    let journal = proxy.journal();
    let kept: usize = journal
        .iter()
        .map(|e| serde_json::to_string(&e.request).map_or(0, |t| t.len()))
        .sum();
    assert!(
        kept <= MAX_JOURNAL_BYTES,
        "{kept} bytes kept, the bound is {MAX_JOURNAL_BYTES}"
    );
    assert!(journal.len() < count, "{} of {count}", journal.len());
    assert_eq!(
        journal.last().map(|e| e.seq),
        Some(count as u64),
        "the newest"
    );
    assert!(answer_of(&journal[0]).body.json.is_some());

    // An answer over the bound: by size and hash.
    let sent = http
        .get(proxy.url("/v1/searchVoices?query=a"))
        .header("Authorization", KEY)
        .send()
        .await
        .expect("search")
        .bytes()
        .await
        .expect("body");
    let kept = answer_of(proxy.journal().last().expect("an entry"));
    assert!(kept.body.json.is_none() && kept.body.text.is_none());
    assert_eq!(kept.body.size, sent.len() as u64);
    assert_eq!(kept.body.sha256, Some(sha256(&sent)));
}
