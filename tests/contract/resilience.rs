//! The client survives a flaky API: the real `musicgpt_cover::Client` against the mock's faults
//! (`PUT /__admin/faults`: latency, failure rates) and one-shot scenarios
//! (`POST /__admin/scenarios`: a status, a delay, a reset, a close, a truncated or dribbled
//! answer), set over HTTP as any team would. `wait_for_conversion` rides each out and ends with
//! the conversion, gives up with a typed error when it should, and a Cover is never sent twice
//! by the client. The mock's journal is the witness: what each request met, and how many there
//! were. Waits are checked from below only (at least the `Retry-After`), never from above.

use std::time::{Duration, Instant};

use musicgpt_cover::types::CoverResponse;
use musicgpt_cover::{ApiError, Client, PollOptions};
use musicgpt_cover_mock::MockServer;
use serde_json::{Value, json};

use crate::common::{Key, client, http, seeded_mock, spec};

/// A deterministic mock whose tasks complete at once: the first poll that gets through sees
/// `COMPLETED`.
async fn instant_mock() -> MockServer {
    seeded_mock(|config| config.time_scale(0.0)).await
}

/// Quick backoff, a deadline no passing test reaches.
fn options() -> PollOptions {
    PollOptions {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(30),
        ..PollOptions::default()
    }
}

fn api(mock: &MockServer) -> Client {
    client(mock.base_url(), Key::Valid, None)
}

/// Sends a Cover the mock accepts.
async fn send_cover(client: &Client) -> Result<CoverResponse, ApiError> {
    client
        .cover()
        .voice_id("Drake")
        .audio_url("https://www.youtube.com/watch?v=jGflUbPQfW8")
        .send()
        .await
        .map(|answer| answer.into_inner())
}

async fn queued(client: &Client) -> CoverResponse {
    send_cover(client).await.expect("the Cover is accepted")
}

/// `POST /__admin/scenarios`; the mock must take it (201).
async fn scenario(mock: &MockServer, body: Value) {
    let response = http()
        .post(format!("{}/scenarios", mock.admin_url()))
        .json(&body)
        .send()
        .await
        .expect("the admin API answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, 201, "scenario {body} refused: {text}");
}

/// `PUT /__admin/faults`; the mock must take it.
async fn set_faults(mock: &MockServer, body: Value) {
    let response = http()
        .put(format!("{}/faults", mock.admin_url()))
        .json(&body)
        .send()
        .await
        .expect("the admin API answers");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "faults {body} refused: {status} {text}"
    );
}

async fn admin_get(mock: &MockServer, path: &str) -> Value {
    http()
        .get(format!("{}{path}", mock.admin_url()))
        .send()
        .await
        .expect("the admin API answers")
        .json()
        .await
        .expect("JSON")
}

/// The journal's records of the requests to `operation_id`, oldest first.
async fn requests_to(mock: &MockServer, operation_id: &str) -> Vec<Value> {
    let path = format!(
        "{}{}",
        spec().local_base_path(),
        spec().operation(operation_id).path
    );
    let journal = admin_get(mock, "/journal").await;
    let mut records: Vec<(u64, Value)> = journal["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["request"]["path"] == path.as_str())
        .map(|entry| {
            (
                entry["seq"].as_u64().unwrap_or_default(),
                entry["request"].clone(),
            )
        })
        .collect();
    records.sort_by_key(|(seq, _)| *seq);
    records.into_iter().map(|(_, request)| request).collect()
}

/// The kind of fault each record met (`-` for none).
fn fault_kinds(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|record| {
            record["fault"]["kind"]
                .as_str()
                .or_else(|| record["fault"]["fail_rate"].as_str().map(|_| "fail_rate"))
                .unwrap_or("-")
                .to_owned()
        })
        .collect()
}

async fn task_count(mock: &MockServer) -> usize {
    admin_get(mock, "/tasks").await["tasks"]
        .as_array()
        .map_or(0, Vec::len)
}

/// The next two polls meet `fault` (`reset`, `close`, `truncate`); the wait still ends with the
/// conversion, and the journal shows the two faults and then a clean answer.
async fn two_polls_meet(fault: &str) {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    scenario(
        &mock,
        json!({"operation": "getConversionById", "times": 2, "respond": {"fault": fault}}),
    )
    .await;
    let conversion = client
        .wait_for_conversion(&queued, &options())
        .await
        .unwrap_or_else(|error| panic!("the wait did not survive {fault}: {error:?}"));
    assert!(conversion.status.is_completed(), "{}", conversion.status);
    assert_eq!(conversion.task_id, queued.task_id);
    let polls = requests_to(&mock, "getConversionById").await;
    assert_eq!(fault_kinds(&polls), [fault, fault, "-"], "{polls:#?}");
    assert_eq!(polls[2]["status"], 200);
}

#[tokio::test]
async fn polls_that_are_reset_are_ridden_out() {
    two_polls_meet("reset").await;
}

#[tokio::test]
async fn polls_closed_without_an_answer_are_ridden_out() {
    two_polls_meet("close").await;
}

#[tokio::test]
async fn truncated_answers_are_ridden_out() {
    two_polls_meet("truncate").await;
}

/// A dribbled answer (64 bytes a second) hits the request timeout; the next poll answers.
#[tokio::test]
async fn a_dribbled_answer_hits_the_request_timeout_then_a_good_poll_ends_the_wait() {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    scenario(
        &mock,
        json!({"operation": "getConversionById", "respond": {"fault": "dribble", "bytes_per_second": 64}}),
    )
    .await;
    let options = PollOptions {
        request_timeout: Duration::from_millis(500),
        ..options()
    };
    let started = Instant::now();
    let conversion = client
        .wait_for_conversion(&queued, &options)
        .await
        .expect("the poll after the dribble answers");
    assert!(conversion.status.is_completed());
    assert!(started.elapsed() >= options.request_timeout);
    let polls = requests_to(&mock, "getConversionById").await;
    assert_eq!(fault_kinds(&polls), ["dribble", "-"], "{polls:#?}");
}

/// A delayed answer (3 s) is given up after the request timeout, not waited for.
#[tokio::test]
async fn a_slow_answer_is_given_up_and_polled_again() {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    scenario(
        &mock,
        json!({"operation": "getConversionById", "respond": {"delay_ms": 3000}}),
    )
    .await;
    let options = PollOptions {
        request_timeout: Duration::from_millis(300),
        ..options()
    };
    let started = Instant::now();
    let conversion = client
        .wait_for_conversion(&queued, &options)
        .await
        .expect("the poll after the slow one answers");
    assert!(conversion.status.is_completed());
    assert!(started.elapsed() >= options.request_timeout);
    let scenarios = admin_get(&mock, "/scenarios").await;
    assert_eq!(
        scenarios
            .as_array()
            .map(Vec::len)
            .or_else(|| scenarios["scenarios"].as_array().map(Vec::len)),
        Some(0),
        "the delay scenario was used up: {scenarios}"
    );
}

/// A latency on every answer of the mock slows the flow down but does not break it.
#[tokio::test]
async fn a_latency_on_every_answer_is_waited_for() {
    let mock = instant_mock().await;
    set_faults(&mock, json!({"latency": "100ms..300ms", "fail_rates": []})).await;
    let client = api(&mock);
    let started = Instant::now();
    let queued = queued(&client).await;
    let conversion = client
        .wait_for_conversion(&queued, &options())
        .await
        .expect("completes");
    assert!(conversion.status.is_completed());
    // The Cover and at least one poll, each at least 100 ms late.
    assert!(started.elapsed() >= Duration::from_millis(200));
}

/// A failure rate of 1 on byId (500): the wait keeps polling through the failures, and ends
/// with the conversion once the rate is lifted.
#[tokio::test]
async fn server_errors_from_a_failure_rate_are_ridden_out() {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    set_faults(
        &mock,
        json!({"latency": null, "fail_rates": [{"operation": "getConversionById", "rate": 1.0, "status": 500}]}),
    )
    .await;
    let waiting = {
        let client = api(&mock);
        let queued = queued.clone();
        tokio::spawn(async move { client.wait_for_conversion(&queued, &options()).await })
    };
    // Lift the rate once three polls have failed.
    loop {
        let failed = requests_to(&mock, "getConversionById")
            .await
            .iter()
            .filter(|record| record["status"] == 500)
            .count();
        if failed >= 3 || waiting.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    set_faults(&mock, json!({"latency": null, "fail_rates": []})).await;
    let conversion = waiting
        .await
        .expect("the wait does not panic")
        .expect("completes once the failures stop");
    assert!(conversion.status.is_completed());
    let polls = requests_to(&mock, "getConversionById").await;
    let (last, failed) = polls.split_last().expect("polls");
    assert!(failed.len() >= 3, "{polls:#?}");
    for record in failed {
        assert_eq!(record["status"], 500, "{record}");
        assert_eq!(
            record["fault"]["fail_rate"], "getConversionById",
            "{record}"
        );
    }
    assert_eq!(last["status"], 200);
}

/// 429 with `Retry-After: 2`: the next poll comes 2 s later at the earliest.
#[tokio::test]
async fn a_429_with_retry_after_is_honoured() {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    scenario(
        &mock,
        json!({"operation": "getConversionById", "respond": {"status": 429}, "retry_after": 2}),
    )
    .await;
    let started = Instant::now();
    let conversion = client
        .wait_for_conversion(&queued, &options())
        .await
        .expect("completes after the 429");
    let elapsed = started.elapsed();
    assert!(conversion.status.is_completed());
    assert!(
        elapsed >= Duration::from_secs(2),
        "polled again before the Retry-After: {elapsed:?}"
    );
    let polls = requests_to(&mock, "getConversionById").await;
    let statuses: Vec<&Value> = polls.iter().map(|record| &record["status"]).collect();
    assert_eq!(statuses, [429, 200], "{polls:#?}");
}

/// A conversion that never finishes (the seeded mock's clock is frozen): the deadline gives
/// `ApiError::Timeout` with the status last seen and the number of polls.
#[tokio::test]
async fn a_conversion_that_never_ends_gives_a_timeout_with_the_last_status() {
    let mock = seeded_mock(|config| config).await;
    let client = api(&mock);
    let queued = queued(&client).await;
    let options = PollOptions {
        timeout: Duration::from_millis(500),
        ..options()
    };
    let error = client
        .wait_for_conversion(&queued, &options)
        .await
        .expect_err("the clock is frozen");
    let ApiError::Timeout {
        last_status,
        attempts,
        last_error,
        ..
    } = &error
    else {
        panic!("not a timeout: {error:?}");
    };
    let task = admin_get(&mock, &format!("/tasks/{}", queued.task_id)).await;
    let last_status = last_status.as_ref().expect("a poll got through");
    assert!(!last_status.is_final());
    assert_eq!(
        Some(last_status.as_str()),
        task["status"].as_str(),
        "{task}"
    );
    assert!(last_error.is_none(), "{last_error:?}");
    let polls = requests_to(&mock, "getConversionById").await;
    assert_eq!(usize::try_from(*attempts).ok(), Some(polls.len()));
}

/// Every poll rate limited until the deadline: the timeout says so.
#[tokio::test]
async fn a_timeout_names_the_last_error() {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    scenario(
        &mock,
        json!({"operation": "getConversionById", "times": 100000, "respond": {"status": 429}}),
    )
    .await;
    let options = PollOptions {
        timeout: Duration::from_millis(400),
        ..options()
    };
    let error = client
        .wait_for_conversion(&queued, &options)
        .await
        .expect_err("always rate limited");
    let ApiError::Timeout {
        last_status,
        last_error,
        ..
    } = &error
    else {
        panic!("not a timeout: {error:?}");
    };
    assert!(last_status.is_none());
    assert!(
        matches!(last_error.as_deref(), Some(ApiError::RateLimited { .. })),
        "{last_error:?}"
    );
}

/// 401 is not something polling again can fix: the wait ends at the first answer.
#[tokio::test]
async fn a_401_ends_the_wait_at_once() {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    scenario(
        &mock,
        json!({"operation": "getConversionById", "times": 5, "respond": {"status": 401}}),
    )
    .await;
    let error = client
        .wait_for_conversion(&queued, &options())
        .await
        .expect_err("401 ends the wait");
    assert!(matches!(error, ApiError::Unauthorized { .. }), "{error:?}");
    assert_eq!(requests_to(&mock, "getConversionById").await.len(), 1);
}

/// A Cover whose connection is reset is not sent again by the client: the journal shows one
/// Cover, and the error does not claim it is safe to resend.
#[tokio::test]
async fn a_reset_cover_is_not_retried() {
    let mock = instant_mock().await;
    let client = api(&mock);
    scenario(
        &mock,
        json!({"operation": "cover", "respond": {"fault": "reset"}}),
    )
    .await;
    let error = send_cover(&client).await.expect_err("the Cover is reset");
    assert!(!error.is_safe_to_resend(), "{error:?}");
    let covers = requests_to(&mock, "cover").await;
    assert_eq!(fault_kinds(&covers), ["reset"], "{covers:#?}");
}

/// Why: a truncated Cover answer means the mock took the Cover (a task exists, credits
/// charged) and the client only lost the answer. Resending would start a second conversion.
#[tokio::test]
async fn a_cover_whose_answer_is_cut_was_taken_so_it_is_not_safe_to_resend() {
    let mock = instant_mock().await;
    let client = api(&mock);
    scenario(
        &mock,
        json!({"operation": "cover", "respond": {"fault": "truncate"}}),
    )
    .await;
    let error = send_cover(&client).await.expect_err("the answer is cut");
    assert!(!error.is_safe_to_resend(), "{error:?}");
    let covers = requests_to(&mock, "cover").await;
    assert_eq!(fault_kinds(&covers), ["truncate"], "{covers:#?}");
    assert_eq!(task_count(&mock).await, 1, "the Cover was taken");
}

/// A 429 on the Cover proves it was refused: safe to resend after the `Retry-After`, and the
/// resent Cover is the only one taken.
#[tokio::test]
async fn a_rate_limited_cover_is_safe_to_resend_after_its_retry_after() {
    let mock = instant_mock().await;
    let client = api(&mock);
    scenario(
        &mock,
        json!({"operation": "cover", "respond": {"status": 429}, "retry_after": 1}),
    )
    .await;
    let error = send_cover(&client).await.expect_err("rate limited");
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error:?}");
    assert!(error.is_safe_to_resend());
    let wait = error.retry_after().expect("the Retry-After");
    assert_eq!(wait, Duration::from_secs(1));
    assert_eq!(task_count(&mock).await, 0, "a 429 takes nothing");
    tokio::time::sleep(wait).await;
    let queued = queued(&client).await;
    assert_eq!(task_count(&mock).await, 1);
    let covers = requests_to(&mock, "cover").await;
    assert_eq!(covers.len(), 2, "{covers:#?}");
    assert_eq!(covers[1]["status"], 200);
    let conversion = client
        .wait_for_conversion(&queued, &options())
        .await
        .expect("completes");
    assert!(conversion.status.is_completed());
}

/// A gateway's plain-text 503 with `Retry-After: 1` on a poll (the mock's `unavailable` fault):
/// ridden out like any 5xx, and the next poll comes after the wait asked for.
#[tokio::test]
async fn a_gateway_503_on_a_poll_is_waited_out() {
    let mock = instant_mock().await;
    let client = api(&mock);
    let queued = queued(&client).await;
    scenario(
        &mock,
        json!({"operation": "getConversionById", "respond": {"fault": "unavailable"}, "retry_after": 1}),
    )
    .await;
    let started = Instant::now();
    let conversion = client
        .wait_for_conversion(&queued, &options())
        .await
        .expect("completes after the 503");
    assert!(conversion.status.is_completed());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1),
        "polled again before the Retry-After: {elapsed:?}"
    );
    let polls = requests_to(&mock, "getConversionById").await;
    let statuses: Vec<&Value> = polls.iter().map(|record| &record["status"]).collect();
    assert_eq!(statuses, [503, 200], "{polls:#?}");
}

/// A gateway's 503 with `Retry-After` on the Cover: the request never reached the API, so the
/// error says it is safe to resend, and the resent Cover is the only one taken.
#[tokio::test]
async fn a_cover_refused_by_the_gateway_is_safe_to_resend() {
    let mock = instant_mock().await;
    let client = api(&mock);
    scenario(
        &mock,
        json!({"operation": "cover", "respond": {"fault": "unavailable"}, "retry_after": 1}),
    )
    .await;
    let error = send_cover(&client).await.expect_err("unavailable");
    assert!(error.is_safe_to_resend(), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(task_count(&mock).await, 0, "the gateway took nothing");
    queued(&client).await;
    assert_eq!(task_count(&mock).await, 1);
}
