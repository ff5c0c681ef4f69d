//! `wait_for_conversion` against wiremock sequences built from the spec's byId examples.

use std::time::Duration;

use musicgpt_cover::types::ConversionStatus;
use musicgpt_cover::{ApiError, COVER_CONVERSION_TYPE, ConversionRef, PollOptions};
use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{BASE_PATH, operation, received, response_example, server_and_client};

/// Fast enough for a test, slow enough to see the backoff.
fn quick() -> PollOptions {
    PollOptions {
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        multiplier: 2.0,
        timeout: Duration::from_secs(10),
        ..PollOptions::default()
    }
}

/// The spec's in-queue byId example with its status replaced.
fn with_status(status: &str) -> Value {
    let mut body = response_example("getConversionById", "200", "cover_in_queue");
    body["conversion"]["status"] = Value::from(status);
    body
}

fn task_id() -> String {
    let example = response_example("getConversionById", "200", "cover_in_queue");
    example["conversion"]["task_id"]
        .as_str()
        .map(str::to_owned)
        .expect("the example has a task_id")
}

/// Serves `bodies` in order, each once, then the last one for ever.
async fn serve_in_order(server: &MockServer, bodies: &[(u16, Value)]) {
    let (by_id, _, _) = operation("getConversionById");
    for (index, (status, body)) in bodies.iter().enumerate() {
        let mock = Mock::given(method("GET"))
            .and(path(format!("{BASE_PATH}{by_id}")))
            .respond_with(ResponseTemplate::new(*status).set_body_json(body));
        let mock = if index + 1 < bodies.len() {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(server).await;
    }
}

#[tokio::test]
async fn polls_through_in_queue_and_processing_to_completed() {
    let (server, client) = server_and_client().await;
    serve_in_order(
        &server,
        &[
            (
                200,
                response_example("getConversionById", "200", "cover_in_queue"),
            ),
            (200, with_status(ConversionStatus::Processing.as_str())),
            (
                200,
                response_example("getConversionById", "200", "cover_completed"),
            ),
        ],
    )
    .await;

    let done = client
        .wait_for_conversion(ConversionRef::TaskId(task_id()), &quick())
        .await
        .expect("completes");
    assert!(done.status.is_completed());
    assert!(done.status.is_final());
    assert_eq!(done.status, ConversionStatus::Completed);
    let completed = response_example("getConversionById", "200", "cover_completed");
    assert_eq!(
        done.mp3_url(),
        completed["conversion"]["audio_url"].as_str()
    );
    // The API sends no WAV for Cover, and the example shows none.
    assert_eq!(done.wav_url(), None);
    assert_eq!(done.cost(), Some(0.88));

    let requests = received(&server).await;
    assert_eq!(requests.len(), 3, "one poll per state");
    for request in &requests {
        let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        assert_eq!(
            query,
            [
                (
                    "conversionType".to_owned(),
                    COVER_CONVERSION_TYPE.to_owned()
                ),
                ("task_id".to_owned(), task_id())
            ]
        );
    }
}

#[tokio::test]
async fn polls_by_conversion_id_from_a_cover_response() {
    let (server, client) = server_and_client().await;
    let completed = response_example("getConversionById", "200", "cover_completed");
    let conversion_id = completed["conversion"]["conversion_id"]
        .as_str()
        .map(str::to_owned)
        .expect("an id");
    let (by_id, _, _) = operation("getConversionById");
    Mock::given(method("GET"))
        .and(path(format!("{BASE_PATH}{by_id}")))
        .and(query_param("conversion_id", conversion_id.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(&completed))
        .expect(1)
        .mount(&server)
        .await;

    let done = client
        .wait_for_conversion(ConversionRef::ConversionId(conversion_id.clone()), &quick())
        .await
        .expect("completes");
    assert_eq!(done.conversion_id, Some(conversion_id));
}

/// The API's ids are plain strings: its documentation's own placeholder ids are not UUIDs. Such
/// an id is sent as given, and an answer carrying one decodes.
#[tokio::test]
async fn ids_that_are_not_uuids_are_sent_and_decoded() {
    let (server, client) = server_and_client().await;
    let id = "12345678-abcd-1234-efgh-567890abcdef";
    let mut completed = response_example("getConversionById", "200", "cover_completed");
    completed["conversion"]["task_id"] = Value::from(id);
    completed["conversion"]["conversion_id"] = Value::from("conv_abc123");
    let (by_id, _, _) = operation("getConversionById");
    Mock::given(method("GET"))
        .and(path(format!("{BASE_PATH}{by_id}")))
        .and(query_param("task_id", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(&completed))
        .expect(1)
        .mount(&server)
        .await;
    let done = client
        .wait_for_conversion(ConversionRef::TaskId(id.to_owned()), &quick())
        .await
        .expect("completes");
    assert_eq!(done.task_id, id);
    assert_eq!(done.conversion_id.as_deref(), Some("conv_abc123"));
}

#[tokio::test]
async fn an_unknown_status_decodes_and_polling_goes_on() {
    let (server, client) = server_and_client().await;
    serve_in_order(
        &server,
        &[
            (200, with_status("WEIRD_NEW_STATE")),
            (200, with_status("WEIRD_NEW_STATE")),
            (
                200,
                response_example("getConversionById", "200", "cover_completed"),
            ),
        ],
    )
    .await;

    let seen = client
        .get_cover_conversion(ConversionRef::TaskId(task_id()))
        .await
        .expect("an unknown status decodes");
    assert_eq!(
        seen.status,
        ConversionStatus::Other("WEIRD_NEW_STATE".to_owned())
    );
    assert!(!seen.status.is_known());
    assert!(!seen.status.is_final());

    let done = client
        .wait_for_conversion(ConversionRef::TaskId(task_id()), &quick())
        .await
        .expect("completes after the unknown state");
    assert!(done.status.is_completed());
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn a_failed_conversion_is_final_and_returned() {
    let (server, client) = server_and_client().await;
    serve_in_order(
        &server,
        &[(200, with_status(ConversionStatus::Failed.as_str()))],
    )
    .await;
    let done = client
        .wait_for_conversion(ConversionRef::TaskId(task_id()), &quick())
        .await
        .expect("a final status ends the wait");
    assert!(done.status.is_failed());
    assert!(!done.status.is_completed());
}

#[tokio::test]
async fn retryable_errors_are_retried_within_the_deadline() {
    let (server, client) = server_and_client().await;
    serve_in_order(
        &server,
        &[
            (
                500,
                response_example("getConversionById", "500", "internal_error"),
            ),
            (
                429,
                response_example("getConversionById", "429", "rate_limited"),
            ),
            (
                200,
                response_example("getConversionById", "200", "cover_completed"),
            ),
        ],
    )
    .await;
    let done = client
        .wait_for_conversion(ConversionRef::TaskId(task_id()), &quick())
        .await
        .expect("completes after the transient errors");
    assert!(done.status.is_completed());
}

#[tokio::test]
async fn an_auth_failure_ends_the_wait_at_once() {
    let (server, client) = server_and_client().await;
    serve_in_order(
        &server,
        &[(
            403,
            response_example("getConversionById", "403", "invalid_key"),
        )],
    )
    .await;
    let error = client
        .wait_for_conversion(ConversionRef::TaskId(task_id()), &quick())
        .await
        .expect_err("403 is not retried");
    assert!(error.is_auth_failure(), "{error:?}");
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn the_deadline_gives_a_timeout_with_the_last_status() {
    let (server, client) = server_and_client().await;
    serve_in_order(
        &server,
        &[(200, with_status(ConversionStatus::Processing.as_str()))],
    )
    .await;
    let options = PollOptions {
        timeout: Duration::from_millis(150),
        ..quick()
    };
    let started = std::time::Instant::now();
    let error = client
        .wait_for_conversion(ConversionRef::TaskId(task_id()), &options)
        .await
        .expect_err("never final");
    let elapsed = started.elapsed();
    let ApiError::Timeout {
        waited,
        last_status,
        attempts,
        last_error,
    } = &error
    else {
        panic!("not a timeout: {error:?}");
    };
    assert!(*waited >= options.timeout, "{waited:?}");
    // A hang guard, not a timing check: the wait ends near its deadline, not never.
    assert!(
        elapsed < Duration::from_secs(30),
        "the deadline is kept: {elapsed:?}"
    );
    assert_eq!(
        last_status.as_ref().map(|status| status.as_str()),
        Some("PROCESSING")
    );
    // Backoff: far fewer polls than 150 ms / 5 ms. At least two: the first at once and the last
    // at the deadline (how many come between depends on how fast the machine answers: a loaded
    // one answered in time for only three).
    let polls = received(&server).await.len();
    assert!((2..=20).contains(&polls), "{polls} polls");
    assert_eq!(usize::try_from(*attempts).ok(), Some(polls));
    assert!(last_error.is_none(), "no poll failed: {last_error:?}");
    assert!(error.to_string().contains("PROCESSING"), "{error}");
}
