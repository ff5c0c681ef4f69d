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
    assert_eq!(webhook.task_id.to_string(), example["task_id"]);
    assert_eq!(webhook.conversion_id.to_string(), example["conversion_id"]);
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
