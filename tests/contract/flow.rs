//! The asynchronous workflow end to end, through the generated client against the mock:
//! cover → wait_for_conversion → COMPLETED → the webhook arrives with the same ids → the result
//! files are real audio; every state byId shows, validated; and the journal entry of a
//! multipart Cover request.

use std::time::Duration;

use musicgpt_cover::types::CoverWebhook;
use musicgpt_cover::{AudioFile, ConversionRef, PollOptions};
use musicgpt_cover_contract_tests::audio::{parse_mp3, parse_wav};
use musicgpt_cover_contract_tests::receiver::Receiver;
use musicgpt_cover_contract_tests::schema::SchemaCheck;
use musicgpt_cover_mock::{
    ClockMode, DeliveryState, MockServer, RESULT_AUDIO_SAMPLE_RATE, RESULT_AUDIO_SECONDS,
};
use serde_json::{Value, json};

use crate::calls::Call;
use crate::common::{
    Key, SEED, assert_none, client, http, same_json, seeded_mock, snapshot_settings, spec,
};

/// The schema of the `coverCompleted` callback's payload, as the spec writes it.
fn webhook_schema() -> SchemaCheck {
    let spec = spec();
    let callbacks = spec.operation("cover").raw["callbacks"]
        .as_object()
        .expect("Cover documents callbacks");
    let schema = callbacks
        .values()
        .flat_map(|callback| spec.resolve(callback).as_object().into_iter().flatten())
        .filter_map(|(_, item)| item.pointer("/post/requestBody/content/application~1json/schema"))
        .next()
        .expect("the callback documents a JSON payload");
    SchemaCheck::new(spec, schema).expect("the payload schema compiles")
}

/// The schema of byId's 200.
fn conversion_schema() -> SchemaCheck {
    let spec = spec();
    let schema = spec
        .operation("getConversionById")
        .response(200)
        .and_then(|r| r.schema.as_ref())
        .expect("byId documents its 200 schema");
    SchemaCheck::new(spec, schema).expect("the schema compiles")
}

fn example(schema: &str, property: &str) -> String {
    match spec().property_example(schema, property) {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_then_poll_then_webhook_then_real_audio() {
    let receiver = Receiver::start().await.expect("a webhook receiver");
    // Seeded ids, but a real clock so polling sees the task move: it finishes eta × 0.02
    // seconds after it is accepted (under two seconds).
    let mock = MockServer::builder()
        .seed(SEED)
        .clock(ClockMode::Real)
        .time_scale(0.02)
        .webhook_backoff(Duration::from_millis(50))
        .start()
        .await;
    let client = client(mock.base_url(), Key::Valid, None);

    let song = AudioFile::from_bytes(vec![0x2a; 64 * 1024], "song.wav");
    let queued = client
        .cover()
        .voice_id(example("CoverRequest", "voice_id"))
        .audio_file(song)
        .pitch(3)
        .webhook_url(receiver.url("/hooks/cover"))
        .send()
        .await
        .expect("the Cover is accepted")
        .into_inner();

    let options = PollOptions {
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(250),
        timeout: Duration::from_secs(30),
        ..PollOptions::default()
    };
    let conversion = client
        .wait_for_conversion(&queued, &options)
        .await
        .expect("the conversion reaches a final status");
    let mut problems = Vec::new();
    if !conversion.status.is_completed() {
        problems.push(format!("final status {}, not COMPLETED", conversion.status));
    }
    // The mock always gives a conversion_id (the API's schema does not promise one).
    if conversion.task_id != queued.task_id
        || queued.conversion_id.is_none()
        || conversion.conversion_id != queued.conversion_id
    {
        problems.push(format!(
            "byId shows other ids: {conversion:?} for {queued:?}"
        ));
    }
    if conversion.pitch != Some(3) {
        problems.push(format!(
            "byId shows pitch {:?}, 3 was sent",
            conversion.pitch
        ));
    }

    // The webhook: once, with the task's ids, in the documented shape.
    let received = receiver
        .wait_for(1, Duration::from_secs(15))
        .await
        .unwrap_or_else(|got| panic!("no webhook within 15 s (got {got:?})"));
    let hook = &received[0];
    if hook.method != "POST" || hook.uri != "/hooks/cover" {
        problems.push(format!("the webhook came as {} {}", hook.method, hook.uri));
    }
    let content_type = hook
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/json") {
        problems.push(format!("the webhook's content type is {content_type:?}"));
    }
    let payload: Value = serde_json::from_slice(&hook.body).expect("the webhook body is JSON");
    for error in webhook_schema().errors(&payload) {
        problems.push(format!(
            "the webhook payload breaks the callback schema at {error}"
        ));
    }
    let webhook = CoverWebhook::parse(&hook.body).expect("the client parses the webhook");
    if webhook.task_id != queued.task_id || webhook.conversion_id != queued.conversion_id {
        problems.push(format!(
            "the webhook names other ids: {webhook:?} for {queued:?}"
        ));
    }
    let delivery = mock
        .wait_for_webhook(&queued.task_id.to_string(), Duration::from_secs(5))
        .await
        .expect("the mock settles its delivery");
    if delivery.state != DeliveryState::Delivered || delivery.payload != payload {
        problems.push(format!(
            "the mock's delivery record disagrees: {delivery:?}"
        ));
    }
    for error in webhook_schema().errors(&delivery.payload) {
        problems.push(format!(
            "the mock's recorded payload breaks the callback schema at {error}"
        ));
    }

    // The result files: served by the mock itself, real audio of the announced length.
    let duration = webhook
        .conversion_duration
        .or(conversion.conversion_duration)
        .expect("a duration is announced");
    if (duration - RESULT_AUDIO_SECONDS).abs() > 1e-6 {
        problems.push(format!(
            "announced duration {duration}, the mock's audio lasts {RESULT_AUDIO_SECONDS}"
        ));
    }
    let mp3_url = webhook.mp3_url().expect("the webhook names the MP3");
    if Some(mp3_url) != conversion.mp3_url() || !mp3_url.starts_with(mock.origin()) {
        problems.push(format!(
            "MP3 URL {mp3_url} (byId: {:?}, mock: {})",
            conversion.mp3_url(),
            mock.origin()
        ));
    }
    let (content_type, mp3) = fetch(mp3_url).await;
    if content_type != "audio/mpeg" {
        problems.push(format!("the MP3 is served as {content_type:?}"));
    }
    match parse_mp3(&mp3) {
        Ok(info) => {
            // The encoder adds up to a few frames of delay and padding.
            if info.sample_rate != RESULT_AUDIO_SAMPLE_RATE
                || (info.seconds - duration).abs() > 0.25
            {
                problems.push(format!("the MP3 holds {info:?}, {duration} s announced"));
            }
        }
        Err(e) => problems.push(format!("the MP3 at {mp3_url} is not MP3: {e}")),
    }
    let wav_url = webhook.wav_url().expect("the webhook names the WAV");
    let (content_type, wav) = fetch(wav_url).await;
    if !content_type.starts_with("audio/") {
        problems.push(format!("the WAV is served as {content_type:?}"));
    }
    match parse_wav(&wav) {
        Ok(info) => {
            if info.format != 1
                || info.sample_rate != RESULT_AUDIO_SAMPLE_RATE
                || (info.seconds - duration).abs() > 0.01
            {
                problems.push(format!("the WAV holds {info:?}, {duration} s announced"));
            }
        }
        Err(e) => problems.push(format!("the WAV at {wav_url} is not WAV: {e}")),
    }

    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("completed_cover_webhook", payload));
    assert_none(&problems, "the asynchronous flow");
}

async fn fetch(url: &str) -> (String, bytes::Bytes) {
    let response = http()
        .get(url)
        .send()
        .await
        .expect("the mock serves the file");
    assert_eq!(response.status(), 200, "GET {url}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        content_type,
        response.bytes().await.expect("the file's bytes"),
    )
}

/// byId through every state a task goes through (and the two failed endings), each answer
/// validated against the spec, decoded by the client to the same value, and snapshotted.
#[tokio::test]
async fn every_conversion_state_is_documented_and_decoded() {
    // Frozen clock, one virtual second per second of eta: the test moves time itself.
    let mock = seeded_mock(|c| c.time_scale(1.0)).await;
    let client = client(mock.base_url(), Key::Valid, None);
    let check = conversion_schema();
    let known: Vec<&str> = spec()
        .schema("ConversionStatus")
        .get("x-known-values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut states = Vec::new();

    let start = |outcome: Option<&str>| {
        let mut call = Call::new("cover")
            .pair("voice_id", example("CoverRequest", "voice_id"))
            .pair("audio_url", example("CoverRequest", "audio_url"));
        if let Some(outcome) = outcome {
            call = call.prefer(format!("outcome={outcome}"));
        }
        call
    };
    for (outcome, expected) in [
        (None, ["IN_QUEUE", "PROCESSING", "COMPLETED"]),
        (Some("failed"), ["IN_QUEUE", "PROCESSING", "FAILED"]),
        (Some("error"), ["IN_QUEUE", "PROCESSING", "ERROR"]),
    ] {
        let accepted = start(outcome).send_raw(&mock).await.body;
        let task_id = accepted["task_id"].as_str().expect("a task id").to_owned();
        let eta = accepted["eta"].as_f64().expect("an eta");
        // Before the first quarter of the eta, after it, after the whole of it.
        for (step, (advance, status)) in [0.0, eta / 2.0, eta / 2.0 + 1.0]
            .into_iter()
            .zip(expected)
            .enumerate()
        {
            mock.state().advance_clock(Duration::from_secs_f64(advance));
            let raw = Call::new("getConversionById")
                .pair("conversionType", "COVER")
                .pair("task_id", &task_id)
                .send_raw(&mock)
                .await;
            let label = format!("{} {step}: {status}", outcome.unwrap_or("completed"));
            if raw.status != 200 || raw.body["conversion"]["status"] != status {
                problems.push(format!(
                    "{label}: byId answered {} {}",
                    raw.status, raw.body
                ));
            }
            if !known.contains(&status) {
                problems.push(format!(
                    "{label}: {status} is not in ConversionStatus x-known-values"
                ));
            }
            for error in check.errors(&raw.body) {
                problems.push(format!("{label}: breaks the spec's schema at {error}"));
            }
            let uuid = task_id.parse().expect("a UUID");
            match client
                .get_cover_conversion(ConversionRef::TaskId(uuid))
                .await
            {
                Ok(decoded) => {
                    let decoded = serde_json::to_value(decoded).expect("serializes");
                    if !same_json(&decoded, &raw.body["conversion"]) {
                        problems.push(format!("{label}: the client decoded {decoded}"));
                    }
                    let by_conversion = decoded["conversion_id"]
                        .as_str()
                        .and_then(|id| id.parse().ok());
                    if let Some(id) = by_conversion {
                        match client
                            .get_cover_conversion(ConversionRef::ConversionId(id))
                            .await
                        {
                            Ok(other)
                                if same_json(
                                    &serde_json::to_value(&other).expect("serializes"),
                                    &decoded,
                                ) => {}
                            other => problems.push(format!("{label}: by conversion_id: {other:?}")),
                        }
                    }
                }
                Err(e) => problems.push(format!("{label}: the client failed: {e}")),
            }
            states.push(json!({ "state": label, "body": raw.body }));
        }
    }
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("conversion_states", states));
    assert_none(&problems, "conversion states");
}

/// What the mock recorded of a multipart Cover sent by the client, read from its admin API.
#[tokio::test]
async fn the_journal_entry_of_a_multipart_cover() {
    let mock = seeded_mock(|c| c).await;
    let client = client(mock.base_url(), Key::Valid, None);
    let song = vec![0x17; 3000];
    client
        .cover()
        .audio_url(example("CoverRequest", "audio_url"))
        .audio_file(AudioFile::from_bytes(song.clone(), "My Song.mp3"))
        .voice_id(example("CoverRequest", "voice_id"))
        .pitch(-2)
        .webhook_url(example("CoverRequest", "webhook_url"))
        .send()
        .await
        .expect("the Cover is accepted");

    let journal: Value = http()
        .get(format!("{}/journal", mock.admin_url()))
        .send()
        .await
        .expect("the admin API answers")
        .json()
        .await
        .expect("the journal is JSON");
    let cover_path = format!(
        "{}{}",
        spec().local_base_path(),
        spec().operation("cover").path
    );
    let entry = journal["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["request"]["path"] == cover_path.as_str())
        .unwrap_or_else(|| panic!("no journal entry for {cover_path}: {journal}"))
        .clone();

    let mut problems = Vec::new();
    let form = &entry["request"]["form"];
    let properties: Vec<String> = spec().schema("CoverRequest")["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mut names: Vec<String> = form["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(form["files"].as_array().into_iter().flatten())
        .filter_map(|part| part["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    let mut expected = properties.clone();
    expected.sort();
    if names != expected {
        problems.push(format!(
            "the mock saw parts {names:?}, the spec's form has {expected:?}"
        ));
    }
    let file = &form["files"][0];
    if file["size"] != json!(song.len())
        || file["filename"] != "My Song.mp3"
        || file["content_type"] != "audio/mpeg"
    {
        problems.push(format!("the file part was recorded as {file}"));
    }
    if entry["request"]["headers"]["authorization"] != crate::common::KEY {
        problems.push("the raw key was not what the mock saw in Authorization".to_owned());
    }
    snapshot_settings()
        .bind(|| insta::assert_yaml_snapshot!("multipart_cover_journal_entry", entry));
    assert_none(&problems, "the journal entry");
}
