//! The domain on its own: a mock driven through [`MockState`] with no router, no socket and no
//! HTTP client; webhooks go to a scripted [`Transport`] that records what it was sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::sync::lock;
use super::tasks::{AudioSource, NewTask, Outcome};
use super::webhooks::{DeliveryState, Posted, Transport};
use super::{CreateError, MockState};
use crate::config::MockConfig;
use crate::domain::journal::JournalKind;

/// Answers each POST with the next scripted result (then with success), and keeps every POST.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Posted>>,
    sent: Mutex<Vec<(String, serde_json::Value)>>,
}

impl Scripted {
    fn failing_first(n: usize) -> Arc<Scripted> {
        let failure = Posted {
            status: Some(503),
            error: Some("the receiver answered 503 Service Unavailable".to_owned()),
        };
        Arc::new(Scripted {
            answers: Mutex::new(std::iter::repeat_n(failure, n).collect()),
            sent: Mutex::default(),
        })
    }

    fn sent(&self) -> Vec<(String, serde_json::Value)> {
        lock(&self.sent).clone()
    }
}

impl Transport for Scripted {
    fn post<'a>(&'a self, url: &'a str, payload: Bytes) -> BoxFuture<'a, Posted> {
        let json = serde_json::from_slice(&payload).unwrap_or_default();
        lock(&self.sent).push((url.to_owned(), json));
        let answer = lock(&self.answers).pop_front().unwrap_or(Posted {
            status: Some(200),
            error: None,
        });
        Box::pin(std::future::ready(answer))
    }
}

/// A seeded mock (frozen clock) whose webhooks go to `transport`.
fn mock(config: MockConfig, transport: Arc<Scripted>) -> MockState {
    (MockState::with_transport(config.seed(7), transport))
        .unwrap_or_else(|e| panic!("the mock did not start: {e}"))
}

fn cover(key: &str, webhook_url: Option<&str>) -> NewTask {
    NewTask {
        api_key: key.to_owned(),
        voice_id: "Drake".to_owned(),
        pitch: 3,
        webhook_url: webhook_url.map(str::to_owned),
        source: AudioSource::Url {
            url: "https://www.youtube.com/watch?v=jGflUbPQfW8".to_owned(),
        },
        outcome: Outcome::Completed,
        echoed: Vec::new(),
    }
}

#[tokio::test]
async fn a_cover_is_charged_and_refused_once_the_balance_is_too_low() {
    let state = mock(
        MockConfig::new().funded_api_key("k", 2.0),
        Scripted::failing_first(0),
    );
    let first = state
        .create_task(cover("k", None))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let left = state.credits("k").unwrap_or_default();
    assert!(
        (left - (2.0 - first.cost as f64 / 100.0)).abs() < 1e-9,
        "{left}"
    );
    state.set_credits("k", 0.1);
    assert_eq!(
        state.create_task(cover("k", None)).map(|c| c.task_id),
        Err(CreateError::Insufficient(10))
    );
    // Refused: nothing charged, no task.
    assert_eq!(state.credits("k"), Some(0.1));
    assert_eq!(state.task_count(), 1);
    assert_eq!(state.tasks()[0].status, "IN_QUEUE");
}

#[tokio::test]
async fn keys_no_client_could_send_are_refused_by_config_and_by_set_credits() {
    let bad = MockState::with_transport(
        MockConfig::new().api_key("good").api_key("has space"),
        Scripted::failing_first(0),
    );
    let error = bad.expect_err("a configured key with a space was taken");
    let text = error.to_string();
    assert!(text.contains("API key 2 of 2"), "{text}");
    assert!(
        !text.contains("has space"),
        "the key itself is not echoed: {text}"
    );

    let state = mock(MockConfig::new().api_key("k"), Scripted::failing_first(0));
    for key in ["", "with space", &"k".repeat(257), "caf\u{e9}"] {
        assert!(!state.set_credits(key, 1.0), "{key:?}");
        assert_eq!(state.credits(key), None, "{key:?}");
    }
    assert!(state.set_credits("new-key", 1.5));
    assert_eq!(state.credits("new-key"), Some(1.5));
}

#[tokio::test]
async fn a_full_store_refuses_new_tasks_and_keeps_the_running_ones() {
    let state = mock(
        MockConfig::new().task_capacity(2),
        Scripted::failing_first(0),
    );
    for _ in 0..2 {
        assert!(state.create_task(cover("k", None)).is_ok());
    }
    let before = state.credits("k");
    assert_eq!(
        state.create_task(cover("k", None)).map(|c| c.task_id),
        Err(CreateError::Full(2))
    );
    assert_eq!(state.credits("k"), before);
    assert_eq!(state.task_count(), 2);
    // Once they are final they may be evicted, and a new task fits.
    state.advance_clock(Duration::from_secs(3600));
    assert!(state.create_task(cover("k", None)).is_ok());
    assert_eq!(state.task_count(), 2);
}

#[tokio::test]
async fn tasks_move_with_the_clock_and_the_webhook_is_retried_until_delivered() {
    let transport = Scripted::failing_first(2);
    let config = MockConfig::new()
        .time_scale(1.0)
        .webhook_backoff(Duration::from_millis(1));
    let state = mock(config, Arc::clone(&transport));
    let hook = "http://127.0.0.1:9/hook";
    let created = state
        .create_task(cover("k", Some(hook)))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = created.task_id.to_string();
    let status = |state: &MockState| state.task(&id).map(|t| t.status);
    assert_eq!(status(&state).as_deref(), Some("IN_QUEUE"));
    // A quarter of the eta: processing; all of it: completed, and the webhook goes out.
    state.advance_clock(Duration::from_millis(created.eta * 250));
    assert_eq!(status(&state).as_deref(), Some("PROCESSING"));
    assert!(transport.sent().is_empty());
    state.advance_clock(Duration::from_millis(created.eta * 750));
    assert_eq!(status(&state).as_deref(), Some("COMPLETED"));

    let delivery = state
        .wait_for_webhook(&id, Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(delivery.state, DeliveryState::Delivered);
    let statuses: Vec<Option<u16>> = delivery.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
    let sent = transport.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|(url, _)| url == hook));
    assert_eq!(sent[0].1["task_id"], id.as_str());
    assert_eq!(
        sent[0].1["conversion_id"],
        created.conversion_id.to_string()
    );
    assert_eq!(sent[0].1["conversion_type"], "Cover");
}

#[tokio::test]
async fn a_webhook_gives_up_after_its_attempts() {
    let transport = Scripted::failing_first(10);
    let config = MockConfig::new()
        .time_scale(0.0)
        .webhook_attempts(3)
        .webhook_backoff(Duration::from_millis(1));
    let state = mock(config, Arc::clone(&transport));
    let created = state
        .create_task(cover("k", Some("http://localhost:9/hook")))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = created.task_id.to_string();
    state.advance_clock(Duration::ZERO);
    let delivery = state.wait_for_webhook(&id, Duration::from_secs(10)).await;
    assert_eq!(
        delivery.map(|d| (d.state, d.attempts.len())),
        Ok((DeliveryState::Failed, 3))
    );
    assert_eq!(transport.sent().len(), 3);
}

#[tokio::test]
async fn a_webhook_off_the_machine_is_refused_and_journalled_never_sent() {
    let transport = Scripted::failing_first(0);
    let state = mock(MockConfig::new().time_scale(0.0), Arc::clone(&transport));
    let created = state
        .create_task(cover("k", Some("http://webhook.musicgpt.com/x")))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = created.task_id.to_string();
    state.advance_clock(Duration::ZERO);
    let delivery = state
        .wait_for_webhook(&id, Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(delivery.state, DeliveryState::Refused);
    assert!(
        delivery
            .reason
            .is_some_and(|r| r.contains("not a loopback host"))
    );
    assert!(transport.sent().is_empty());
    let journal = state.journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].kind, JournalKind::WebhookRefused);
}

#[tokio::test]
async fn a_failed_task_sends_no_webhook() {
    let transport = Scripted::failing_first(0);
    let state = mock(MockConfig::new(), Arc::clone(&transport));
    let mut new = cover("k", Some("http://127.0.0.1:9/hook"));
    new.outcome = Outcome::Error;
    let created = state.create_task(new).unwrap_or_else(|e| panic!("{e:?}"));
    let id = created.task_id.to_string();
    state.advance_clock(Duration::from_secs(3600));
    assert_eq!(state.task(&id).map(|t| t.status).as_deref(), Some("ERROR"));
    assert!(state.webhook_delivery(&id).is_none());
    assert!(transport.sent().is_empty());
    assert!(state.pending_webhooks().pending_webhooks.is_empty());
}

#[tokio::test]
async fn a_seeded_reset_repeats_the_same_ids_and_restores_the_balances() {
    let state = mock(
        MockConfig::new().funded_api_key("k", 5.0),
        Scripted::failing_first(0),
    );
    let first = state.create_task(cover("k", None)).map(|c| c.task_id);
    state.reset();
    assert_eq!(state.task_count(), 0);
    assert_eq!(state.credits("k"), Some(5.0));
    assert_eq!(
        state.create_task(cover("k", None)).map(|c| c.task_id),
        first
    );
}

/// The statuses a task ends in are the spec's `x-final-values`, no more and no fewer: a spec
/// that stops counting one as final (or adds one the mock never ends in) stops the start.
#[test]
fn the_statuses_a_task_ends_in_are_the_spec_s_final_values() -> Result<(), String> {
    use crate::spec::Spec;
    use crate::spec::document::{Document, document};
    let with_finals = |finals: &[&str]| -> Result<Result<(), String>, String> {
        let mut raw = document()?.yaml().clone();
        raw["components"]["schemas"]["ConversionStatus"]["x-final-values"] =
            serde_norway::to_value(finals).map_err(|e| e.to_string())?;
        let text = serde_norway::to_string(&raw).map_err(|e| e.to_string())?;
        // Leaked: the mock's spec lives as long as the process.
        let spec: &'static Spec = Box::leak(Box::new(Spec::compile(&Document::parse(&text)?)?));
        Ok(super::state::check_statuses(spec))
    };
    assert_eq!(with_finals(&["COMPLETED", "FAILED", "ERROR"])?, Ok(()));
    assert_eq!(with_finals(&["ERROR", "COMPLETED", "FAILED"])?, Ok(()));
    for finals in [
        &["COMPLETED", "FAILED"][..],
        &["COMPLETED", "FAILED", "ERROR", "CANCELLED"],
    ] {
        let refused = with_finals(finals)?.expect_err("refused");
        assert!(refused.contains("x-final-values"), "{refused}");
    }
    Ok(())
}
