//! The webhook parser on both payload shapes the spec documents for the `coverCompleted`
//! callback, read from the spec.

use musicgpt_cover::types::CoverWebhook;
use serde_json::Value;

use crate::{operation, resolve};

fn callback_example(name: &str) -> Value {
    let (_, _, cover) = operation("cover");
    let callback = cover["callbacks"]["coverCompleted"]
        .as_object()
        .and_then(|expressions| expressions.values().next())
        .expect("a callback expression");
    let body = resolve(&callback["post"]["requestBody"]);
    resolve(&body["content"]["application/json"]["examples"][name])["value"].clone()
}

#[test]
fn the_reference_page_shape_parses_from_bytes() {
    let example = callback_example("seed");
    let bytes = serde_json::to_vec(&example).expect("bytes");
    let webhook = CoverWebhook::parse(&bytes).expect("the seed shape parses");
    assert_eq!(webhook.task_id, example["task_id"].as_str().expect("an id"));
    assert_eq!(
        webhook.conversion_id.as_deref(),
        example["conversion_id"].as_str()
    );
    assert_eq!(webhook.mp3_url(), example["audio_url"].as_str());
    assert_eq!(webhook.wav_url(), example["audio_url_wav"].as_str());
    let cost: f64 = example["conversion_cost"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .expect("a string cost");
    assert_eq!(webhook.cost(), Some(cost));
    assert_eq!(
        webhook.conversion_duration,
        example["conversion_duration"].as_f64()
    );
}

#[test]
fn the_current_documentation_shape_parses_from_str() {
    let example = callback_example("current");
    let text = serde_json::to_string(&example).expect("text");
    let webhook = CoverWebhook::parse(text.as_str()).expect("the current shape parses");
    assert_eq!(webhook.mp3_url(), example["conversion_path"].as_str());
    assert_eq!(webhook.message.as_deref(), example["message"].as_str());
    assert_eq!(webhook.audio_url, None);
    assert_eq!(webhook.cost(), None);
}

/// Only `task_id` is required: the documentation's `{success, task_id}` "preliminary
/// response" parses, with a task id that is not a UUID.
#[test]
fn a_payload_with_only_a_task_id_parses() {
    let webhook = CoverWebhook::parse(
        r#"{"success": true, "task_id": "12345678-abcd-1234-efgh-567890abcdef"}"#,
    )
    .expect("the preliminary shape parses");
    assert_eq!(webhook.task_id, "12345678-abcd-1234-efgh-567890abcdef");
    assert_eq!(webhook.success, Some(true));
    assert_eq!(
        (
            webhook.conversion_id.as_deref(),
            webhook.conversion_type.as_deref(),
            webhook.mp3_url()
        ),
        (None, None, None)
    );
}

#[test]
fn unknown_fields_are_ignored_and_a_missing_id_is_named() {
    let mut example = callback_example("current");
    example["some_future_field"] = Value::from(42);
    CoverWebhook::parse(serde_json::to_vec(&example).expect("bytes")).expect("still parses");

    example
        .as_object_mut()
        .expect("an object")
        .remove("task_id");
    let error =
        CoverWebhook::parse(serde_json::to_vec(&example).expect("bytes")).expect_err("no task_id");
    assert!(error.to_string().contains("task_id"), "{error}");
    assert!(CoverWebhook::parse("not json").is_err());
}
