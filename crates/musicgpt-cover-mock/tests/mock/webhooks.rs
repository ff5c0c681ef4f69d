//! Webhook delivery: retries with backoff, giving up, timeouts, the loopback-only policy, bursts
//! delivered whole, and tasks kept while their webhook is pending; every attempt recorded.

use std::time::Duration;

use musicgpt_cover_mock::{DeliveryState, JournalKind, MockConfig, MockServer};
use reqwest::multipart::Form;

use crate::common::{KEY, Receiver, cover, mock, str_of};

async fn start_task(mock: &MockServer, hook: &str) -> String {
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a")
        .text("webhook_url", hook.to_owned());
    let (status, body) = cover(mock, Some(KEY), form, None).await;
    assert_eq!(status, 200, "{body}");
    str_of(&body, "task_id").to_owned()
}

/// The status of a Cover with no webhook.
async fn cover_status(mock: &MockServer) -> u16 {
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a");
    cover(mock, Some(KEY), form, None).await.0
}

#[tokio::test]
async fn retries_until_a_2xx() {
    let mock = mock(MockConfig::new().seed(12).time_scale(0.0)).await;
    let receiver = Receiver::start(vec![500, 503], Duration::ZERO).await;
    let task = start_task(&mock, &receiver.url).await;
    let d = mock
        .wait_for_webhook(&task, Duration::from_secs(10))
        .await
        .expect("settled");
    assert_eq!(d.state, DeliveryState::Delivered);
    let statuses: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
    assert!(
        d.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("500"))
    );
    assert_eq!(receiver.received().len(), 3);
    // All three carried the same payload.
    let bodies: Vec<_> = receiver.received().into_iter().map(|r| r.body).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn gives_up_after_the_last_attempt_and_times_out_slow_receivers() {
    let mock = mock(
        MockConfig::new()
            .seed(13)
            .time_scale(0.0)
            .webhook_attempts(2),
    )
    .await;
    let failing = Receiver::start(vec![500, 500, 500], Duration::ZERO).await;
    let task = start_task(&mock, &failing.url).await;
    let d = mock
        .wait_for_webhook(&task, Duration::from_secs(10))
        .await
        .expect("settled");
    assert_eq!(d.state, DeliveryState::Failed);
    assert_eq!(d.attempts.len(), 2);

    let slow = MockServer::builder()
        .seed(13)
        .time_scale(0.0)
        .webhook_attempts(1)
        .webhook_timeout(Duration::from_millis(200))
        .start()
        .await;
    let sleepy = Receiver::start(vec![], Duration::from_secs(3)).await;
    let task = start_task(&slow, &sleepy.url).await;
    let d = slow
        .wait_for_webhook(&task, Duration::from_secs(10))
        .await
        .expect("settled");
    assert_eq!(d.state, DeliveryState::Failed);
    assert!(
        d.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no answer within")),
        "{d:?}"
    );
}

#[tokio::test]
async fn non_loopback_targets_are_refused_and_journalled() {
    let mock = mock(MockConfig::new().seed(14).time_scale(0.0)).await;
    for hook in [
        "http://webhook.musicgpt.com",
        "http://10.1.2.3:8080/x",
        "http://[2001:db8::1]/x",
        "file:///etc/passwd",
        "nonsense",
    ] {
        let task = start_task(&mock, hook).await;
        let d = mock
            .wait_for_webhook(&task, Duration::from_secs(5))
            .await
            .expect("settled");
        assert_eq!(d.state, DeliveryState::Refused, "{hook}");
        assert!(d.attempts.is_empty());
        assert!(d.reason.is_some());
        let journalled = mock.state().journal().into_iter().any(|e| {
            e.kind == JournalKind::WebhookRefused
                && e.webhook
                    .as_ref()
                    .is_some_and(|w| w.task_id == task && w.url == hook)
        });
        assert!(journalled, "{hook} not journalled");
    }
    // localhost is loopback.
    let receiver = Receiver::start(vec![], Duration::ZERO).await;
    let task = start_task(&mock, &receiver.url.replace("127.0.0.1", "localhost")).await;
    let d = mock
        .wait_for_webhook(&task, Duration::from_secs(5))
        .await
        .expect("settled");
    assert_eq!(d.state, DeliveryState::Delivered);
}

#[tokio::test]
async fn a_burst_of_due_webhooks_is_delivered_whole_and_once() {
    let mock = mock(MockConfig::new().seed(15)).await;
    let sleepy = Receiver::start(vec![], Duration::from_millis(50)).await;
    let mut tasks = Vec::new();
    for _ in 0..200 {
        tasks.push(start_task(&mock, &sleepy.url).await);
    }
    // All due at once: the sender takes 16 at a time to one receiver; none may be dropped.
    mock.state().advance_clock(Duration::from_secs(3600));
    for task in &tasks {
        let d = mock
            .wait_for_webhook(task, Duration::from_secs(30))
            .await
            .expect("settled");
        assert_eq!(d.state, DeliveryState::Delivered, "{task}");
        assert_eq!(d.attempts.len(), 1, "{task}");
    }
    let mut received: Vec<String> = sleepy
        .received()
        .iter()
        .map(|r| r.body["task_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    received.sort();
    let mut expected = tasks.clone();
    expected.sort();
    assert_eq!(received, expected, "each webhook exactly once");
    let totals = mock.state().webhook_totals();
    assert_eq!(
        (totals.due, totals.delivered, totals.pending),
        (200, 200, 0)
    );
}

#[tokio::test]
async fn tasks_wait_in_the_store_for_their_webhooks_and_new_covers_get_429() {
    // A receiver that answers slowly and a store of 3: finished tasks whose webhooks are still
    // pending are kept, so the 4th Cover is refused rather than a webhook dropped.
    let mock = mock(MockConfig::new().seed(16).task_capacity(3)).await;
    let slow = Receiver::start(vec![], Duration::from_millis(500)).await;
    let mut tasks = Vec::new();
    for _ in 0..3 {
        tasks.push(start_task(&mock, &slow.url).await);
    }
    mock.state().advance_clock(Duration::from_secs(3600));
    let refused = cover_status(&mock).await;
    assert_eq!(refused, 429);
    for task in &tasks {
        let d = mock
            .wait_for_webhook(task, Duration::from_secs(10))
            .await
            .expect("settled");
        assert_eq!(d.state, DeliveryState::Delivered);
    }
    // Delivered: the tasks may go, and a new Cover fits.
    assert_eq!(cover_status(&mock).await, 200);
}
