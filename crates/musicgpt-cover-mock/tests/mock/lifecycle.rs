//! The asynchronous lifecycle on a frozen clock: byId through every state, the webhook with the
//! task's real ids at completion, failures on request, and the admin API's steering.

use std::time::Duration;

use musicgpt_cover_mock::{DeliveryState, MockConfig, Outcome};
use reqwest::Method;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::common::{KEY, Receiver, admin, by_id, client, cover, mock, str_of};

fn eta(body: &Value) -> u64 {
    body["eta"].as_u64().expect("eta")
}

#[tokio::test]
async fn by_id_through_every_state_then_the_webhook() {
    // time scale 1: a task takes its eta in virtual seconds.
    let mock = mock(MockConfig::new().seed(9).time_scale(1.0)).await;
    let receiver = Receiver::start(vec![], Duration::ZERO).await;
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("pitch", "2")
        .text("audio_url", "https://www.youtube.com/watch?v=jGflUbPQfW8")
        .text("webhook_url", receiver.url.clone());
    let (status, accepted) = cover(&mock, Some(KEY), form, None).await;
    assert_eq!(status, 200);
    let task_id = str_of(&accepted, "task_id").to_owned();
    let conversion_id = str_of(&accepted, "conversion_id").to_owned();
    let eta_ms = eta(&accepted) * 1000;

    let queued = by_id(&mock, &task_id).await;
    let c = &queued["conversion"];
    assert_eq!(c["status"], "IN_QUEUE");
    assert_eq!(c["status_msg"], "Waiting in the queue");
    assert_eq!(c["task_id"], task_id.as_str());
    assert_eq!(c["conversion_id"], conversion_id.as_str());
    assert_eq!(c["feature"], "COVER");
    assert_eq!(c["voice_id"], "Drake");
    assert_eq!(c["pitch"], 2);
    assert_eq!(c["webhook_url"], receiver.url.as_str());
    assert_eq!(c["createdAt"], "2026-01-01T00:00:00.000Z");
    assert!(c.get("audio_url").is_none() && c.get("conversion_path").is_none());

    mock.state()
        .advance_clock(Duration::from_millis(eta_ms / 4));
    let processing = by_id(&mock, &task_id).await;
    assert_eq!(processing["conversion"]["status"], "PROCESSING");
    assert_ne!(
        processing["conversion"]["updatedAt"],
        processing["conversion"]["createdAt"]
    );
    assert!(receiver.received().is_empty());

    let (_, now) = admin(
        &mock,
        Method::POST,
        "/clock/advance",
        Some(json!({ "seconds": eta_ms as f64 / 1000.0 })),
    )
    .await;
    assert!(now["now"].as_str().is_some());
    let done = by_id(&mock, &task_id).await;
    let c = &done["conversion"];
    assert_eq!(c["status"], "COMPLETED");
    assert_eq!(c["message"], "Conversion Completed");
    let mp3 = str_of(c, "audio_url").to_owned();
    assert_eq!(mp3, format!("{}/files/{conversion_id}.mp3", mock.origin()));
    assert_eq!(c["conversion_path"], mp3.as_str());
    assert_eq!(
        c["audio_url_wav"],
        format!("{}/files/{conversion_id}.wav", mock.origin()).as_str()
    );
    assert_eq!(
        c["conversion_cost"],
        format!(
            "{:.2}",
            accepted["credit_estimate"].as_f64().expect("estimate")
        )
        .as_str()
    );
    assert_eq!(
        c["updatedAt"],
        format!(
            "2026-01-01T00:{:02}:{:02}.000Z",
            eta(&accepted) / 60,
            eta(&accepted) % 60
        )
        .as_str()
    );
    // By conversion id, the same.
    let (status, same) = crate::common::get(
        &mock,
        &format!("/v1/byId?conversionType=COVER&conversion_id={conversion_id}"),
        Some(KEY),
    )
    .await;
    assert_eq!((status, &same), (200, &done));

    let delivery = mock
        .wait_for_webhook(&task_id, Duration::from_secs(5))
        .await
        .expect("webhook");
    assert_eq!(delivery.state, DeliveryState::Delivered);
    assert_eq!(delivery.attempts.len(), 1);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let payload = &got[0].body;
    assert_eq!(got[0].headers["content-type"], "application/json");
    assert_eq!(payload["success"], true);
    assert_eq!(payload["conversion_type"], "Cover");
    assert_eq!(payload["task_id"], task_id.as_str());
    assert_eq!(payload["conversion_id"], conversion_id.as_str());
    // Both documented shapes' fields.
    assert_eq!(payload["audio_url"], mp3.as_str());
    assert_eq!(payload["conversion_path"], mp3.as_str());
    assert_eq!(payload["message"], "Conversion Completed");
    assert!(payload["conversion_cost"].is_string() && payload["conversion_duration"].is_number());
    assert_eq!(&delivery.payload, payload);

    // The result file it points at is there.
    let file = client().get(&mp3).send().await.expect("mp3");
    assert_eq!(file.status().as_u16(), 200);
    assert_eq!(file.headers()["content-type"], "audio/mpeg");
}

#[tokio::test]
async fn failures_on_request_and_admin_steering() {
    let mock = mock(MockConfig::new().seed(10).time_scale(1.0)).await;
    let receiver = Receiver::start(vec![], Duration::ZERO).await;
    let form = |hook: &str| {
        Form::new()
            .text("voice_id", "Drake")
            .text("audio_url", "https://x.example/a")
            .text("webhook_url", hook.to_owned())
    };

    let (_, failed) = cover(
        &mock,
        Some(KEY),
        form(&receiver.url),
        Some("outcome=failed"),
    )
    .await;
    let (_, errored) = cover(&mock, Some(KEY), form(&receiver.url), Some("outcome=ERROR")).await;
    let (_, steered) = cover(&mock, Some(KEY), form(&receiver.url), None).await;
    let (_, to_fail) = cover(&mock, Some(KEY), form(&receiver.url), None).await;
    let (_, to_fail_plainly) = cover(&mock, Some(KEY), form(&receiver.url), None).await;
    for body in [&failed, &errored, &steered, &to_fail, &to_fail_plainly] {
        assert_eq!(body["status"], "IN_QUEUE");
    }

    // Complete one now through the admin API.
    let steered_id = str_of(&steered, "task_id");
    let (status, task) = admin(
        &mock,
        Method::POST,
        &format!("/tasks/{steered_id}/complete"),
        None,
    )
    .await;
    assert_eq!((status, task["status"].as_str()), (200, Some("COMPLETED")));
    assert_eq!(
        by_id(&mock, steered_id).await["conversion"]["status"],
        "COMPLETED"
    );
    let again = admin(
        &mock,
        Method::POST,
        &format!("/tasks/{steered_id}/complete"),
        None,
    )
    .await;
    assert_eq!(again.0, 409);
    // Fail one now, by conversion id, as ERROR.
    let cid = str_of(&to_fail, "conversion_id");
    let (status, task) = admin(
        &mock,
        Method::POST,
        &format!("/tasks/{cid}/fail"),
        Some(json!({ "status": "ERROR" })),
    )
    .await;
    assert_eq!((status, task["status"].as_str()), (200, Some("ERROR")));
    // Failed with no body, as the dashboard's Fail button does: FAILED.
    let plain_id = str_of(&to_fail_plainly, "task_id");
    let (status, task) = admin(
        &mock,
        Method::POST,
        &format!("/tasks/{plain_id}/fail"),
        None,
    )
    .await;
    assert_eq!((status, task["status"].as_str()), (200, Some("FAILED")));
    let unknown = admin(
        &mock,
        Method::POST,
        "/tasks/0ec93bdd-6132-40db-a873-676dc314919c/complete",
        None,
    )
    .await;
    assert_eq!(unknown.0, 404);

    mock.state().advance_clock(Duration::from_secs(3600));
    let f = by_id(&mock, str_of(&failed, "task_id")).await;
    assert_eq!(f["conversion"]["status"], "FAILED");
    assert_eq!(f["conversion"]["message"], "Conversion failed");
    assert!(f["conversion"].get("audio_url").is_none());
    assert_eq!(
        by_id(&mock, str_of(&errored, "task_id")).await["conversion"]["status"],
        "ERROR"
    );

    // Only the completed task sent a webhook.
    mock.wait_for_webhook(steered_id, Duration::from_secs(5))
        .await
        .expect("webhook");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["task_id"], steered_id);
    assert!(
        mock.state()
            .webhook_delivery(str_of(&failed, "task_id"))
            .is_none()
    );

    // The same through the library handle.
    let (_, more) = cover(&mock, Some(KEY), form(&receiver.url), None).await;
    let view = mock
        .state()
        .finish_task(str_of(&more, "task_id"), Outcome::Failed)
        .expect("finish");
    assert_eq!(view.status, "FAILED");

    // Admin listings.
    let (_, tasks) = admin(&mock, Method::GET, "/tasks", None).await;
    assert_eq!(tasks["tasks"].as_array().map(Vec::len), Some(6));
    let (_, hooks) = admin(&mock, Method::GET, "/webhooks", None).await;
    assert_eq!(hooks["deliveries"].as_array().map(Vec::len), Some(1));
    let (_, clock) = admin(&mock, Method::GET, "/clock", None).await;
    assert_eq!(clock["frozen"], true);
    let (_, index) = admin(&mock, Method::GET, "", None).await;
    assert!(index["routes"].as_array().is_some_and(|r| r.len() > 10));

    // Reset: nothing left.
    let (status, _) = admin(&mock, Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    assert!(mock.state().tasks().is_empty() && mock.state().journal().is_empty());
    assert_eq!(mock.state().now(), "2026-01-01T00:00:00.000Z");
}

#[tokio::test]
async fn real_clock_finishes_by_itself() {
    let mock = mock(MockConfig::new().time_scale(0.01)).await;
    let receiver = Receiver::start(vec![], Duration::ZERO).await;
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a")
        .text("webhook_url", receiver.url.clone());
    let (_, body) = cover(&mock, Some(KEY), form, None).await;
    let task_id = str_of(&body, "task_id");
    let delivery = mock
        .wait_for_webhook(task_id, Duration::from_secs(10))
        .await
        .expect("webhook");
    assert_eq!(delivery.state, DeliveryState::Delivered);
    assert_eq!(
        by_id(&mock, task_id).await["conversion"]["status"],
        "COMPLETED"
    );
}

#[tokio::test]
async fn stores_are_bounded_and_shutdown_reports_pending_webhooks() {
    let mock = mock(
        MockConfig::new()
            .seed(11)
            .task_capacity(3)
            .journal_capacity(4),
    )
    .await;
    let mut ids = Vec::new();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let form = Form::new()
            .text("voice_id", "Drake")
            .text("audio_url", "https://x.example/a")
            .text("webhook_url", "http://127.0.0.1:9/hook");
        let (status, body) = cover(&mock, Some(KEY), form, None).await;
        statuses.push(status);
        if status == 200 {
            ids.push(str_of(&body, "task_id").to_owned());
        }
    }
    // Three places, all running: the last two are refused, none of the first three dropped.
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(mock.state().task_count(), 3);
    assert!(ids.iter().all(|id| mock.state().task(id).is_some()));
    assert_eq!(mock.state().journal().len(), 4);
    // The frozen clock never finished them: their webhooks are pending.
    let report = mock.shutdown().await;
    assert_eq!(report.pending_webhooks.len(), 3);
    assert!(
        report
            .pending_webhooks
            .iter()
            .all(|p| p.state == "task not finished")
    );
}

#[tokio::test]
async fn a_full_store_refuses_new_tasks_and_drops_none() {
    let mock = mock(MockConfig::new().seed(31).task_capacity(2)).await;
    let form = || crate::common::url_form("Drake", "https://x.example/a.mp3");
    let first = cover(&mock, Some(KEY), form(), None).await;
    let second = cover(&mock, Some(KEY), form(), None).await;
    assert_eq!((first.0, second.0), (200, 200));
    let balance = mock.state().credits(KEY);
    // Both places hold running tasks: the documented 429, nothing charged, nothing dropped.
    assert_eq!(
        cover(&mock, Some(KEY), form(), None).await,
        (429, crate::common::example("/v1/Cover", "post", 429))
    );
    assert_eq!(mock.state().credits(KEY), balance);
    for (_, body) in [&first, &second] {
        let task = by_id(&mock, str_of(body, "task_id")).await;
        assert_eq!(task["success"], true, "{task}");
    }
    // Once the tasks are over, their places are free again.
    mock.state().advance_clock(Duration::from_secs(10));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = cover(&mock, Some(KEY), form(), None).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 429, "{body}");
        assert!(tokio::time::Instant::now() < deadline, "no place freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
