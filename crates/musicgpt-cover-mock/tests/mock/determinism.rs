//! Deterministic mode: two runs with the same seed answer the same requests with the same bytes,
//! and a reset replays a run exactly.

use std::time::Duration;

use musicgpt_cover_mock::{MockConfig, MockServer};
use reqwest::multipart::Form;

use crate::common::{KEY, client, file_part, mock};

/// A fixed session: two covers, polls through the states, voices. Returns every answer's bytes.
async fn session(mock: &MockServer) -> Vec<String> {
    let mut out = Vec::new();
    let post = |form: Form| {
        client()
            .post(mock.url("/v1/Cover"))
            .header("Authorization", KEY)
            .multipart(form)
            .send()
    };
    let a = post(
        Form::new()
            .text("voice_id", "Drake")
            .text("audio_url", "https://example.com/a.mp3")
            .text("webhook_url", "http://127.0.0.1:9/hook"),
    )
    .await
    .expect("cover a");
    let a = a.text().await.expect("text");
    let b = post(
        Form::new()
            .text("voice_id", "Joji")
            .text("pitch", "-3")
            .part("audio_file", file_part(vec![1; 999])),
    )
    .await
    .expect("cover b")
    .text()
    .await
    .expect("text");
    let id = |body: &str, key: &str| {
        serde_json::from_str::<serde_json::Value>(body).expect("json")[key]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (task_a, conversion_b) = (id(&a, "task_id"), id(&b, "conversion_id"));
    out.push(a);
    out.push(b);
    let get = |path: String| async move {
        client()
            .get(mock.url(&path))
            .header("Authorization", KEY)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("text")
    };
    out.push(get(format!("/v1/byId?conversionType=COVER&task_id={task_a}")).await);
    mock.state().advance_clock(Duration::from_secs(1));
    out.push(get(format!("/v1/byId?conversionType=COVER&task_id={task_a}")).await);
    mock.state().advance_clock(Duration::from_secs(600));
    out.push(get(format!("/v1/byId?conversionType=COVER&task_id={task_a}")).await);
    out.push(
        get(format!(
            "/v1/byId?conversionType=COVER&conversion_id={conversion_b}"
        ))
        .await,
    );
    out.push(get("/v1/getAllVoices?limit=7&page=2".to_owned()).await);
    out.push(get("/v1/searchVoices?query=A".to_owned()).await);
    out.push(serde_json::to_string(&mock.state().tasks()).expect("tasks"));
    out
}

#[tokio::test]
async fn same_seed_same_bytes() {
    let config = || {
        MockConfig::new()
            .seed(42)
            .time_scale(1.0)
            .public_url("http://mock.test")
    };
    let first = mock(config()).await;
    let second = mock(config()).await;
    let one = session(&first).await;
    let two = session(&second).await;
    assert_eq!(one, two);
    assert!(one[4].contains("\"status\":\"COMPLETED\""), "{}", one[4]);
    assert!(one[4].contains("http://mock.test/files/"), "{}", one[4]);
    assert!(
        one[2].contains("\"createdAt\":\"2026-01-01T00:00:00.000Z\""),
        "{}",
        one[2]
    );

    // A reset replays the run exactly.
    first.state().reset();
    assert_eq!(session(&first).await, one);

    // Another seed, other ids.
    let other = mock(
        MockConfig::new()
            .seed(43)
            .time_scale(1.0)
            .public_url("http://mock.test"),
    )
    .await;
    assert_ne!(session(&other).await[0], one[0]);
}

#[tokio::test]
async fn an_unseeded_reset_never_repeats_an_id() {
    let mock = mock(MockConfig::new().time_scale(1.0)).await;
    let before = session(&mock).await;
    mock.state().reset();
    let after = session(&mock).await;
    // The first answer of a session is the Cover 200, which carries the new task's ids.
    assert_ne!(before[0], after[0]);
}
