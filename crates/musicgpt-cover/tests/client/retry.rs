//! `wait_for_conversion` rides out what wiremock can express: 429 and 5xx answers with and
//! without `Retry-After` (seconds or an HTTP-date), slow answers; and gives up with a typed error
//! when it should. Waits are only ever checked from below: the client waited at least as long
//! as it was asked to.

use std::time::{Duration, Instant, SystemTime};

use musicgpt_cover::types::ConversionStatus;
use musicgpt_cover::{ApiError, Client, ConversionRef, PollOptions};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{BASE_PATH, operation, received, response_example, server_and_client};

/// Quick backoff, a generous deadline: a test that passes does not wait for it.
pub(crate) fn quick() -> PollOptions {
    PollOptions {
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(20),
        ..PollOptions::default()
    }
}

pub(crate) fn completed() -> Value {
    response_example("getConversionById", "200", "cover_completed")
}

pub(crate) fn processing() -> Value {
    let mut body = response_example("getConversionById", "200", "cover_in_queue");
    body["conversion"]["status"] = Value::from(ConversionStatus::Processing.as_str());
    body
}

pub(crate) fn task() -> ConversionRef {
    let example = completed();
    ConversionRef::TaskId(
        example["conversion"]["task_id"]
            .as_str()
            .expect("the example has a task_id")
            .to_owned(),
    )
}

/// `GET /v1/byId` answers each of `first` once, in order, then `then` for ever.
async fn by_id_answers(server: &MockServer, first: Vec<ResponseTemplate>, then: ResponseTemplate) {
    let (by_id, _, _) = operation("getConversionById");
    let route = || Mock::given(method("GET")).and(path(format!("{BASE_PATH}{by_id}")));
    for template in first {
        route()
            .respond_with(template)
            .up_to_n_times(1)
            .mount(server)
            .await;
    }
    route().respond_with(then).mount(server).await;
}

fn rate_limited() -> ResponseTemplate {
    ResponseTemplate::new(429).set_body_json(response_example(
        "getConversionById",
        "429",
        "rate_limited",
    ))
}

fn internal_error() -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_json(response_example(
        "getConversionById",
        "500",
        "internal_error",
    ))
}

/// A status the spec does not document for byId (502, 503, 504), with a JSON error body.
fn undocumented(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(response_example(
        "getConversionById",
        "500",
        "internal_error",
    ))
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn wait(client: &Client, options: &PollOptions) -> Result<ConversionStatus, ApiError> {
    client
        .wait_for_conversion(task(), options)
        .await
        .map(|conversion| conversion.status)
}

#[tokio::test]
async fn a_429_with_retry_after_in_seconds_is_waited_out() {
    let (server, client) = server_and_client().await;
    by_id_answers(
        &server,
        vec![rate_limited().insert_header("retry-after", "1")],
        ok(completed()),
    )
    .await;
    let started = Instant::now();
    let status = wait(&client, &quick())
        .await
        .expect("completes after the 429");
    assert!(status.is_completed());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the second poll came before the Retry-After: {:?}",
        started.elapsed()
    );
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_503_with_retry_after_as_an_http_date_is_waited_out() {
    let (server, client) = server_and_client().await;
    // HTTP-dates have whole seconds: the date written is what the client must wait for.
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let until = httpdate::parse_http_date(&date).expect("a date just written");
    by_id_answers(
        &server,
        vec![undocumented(503).insert_header("retry-after", date.as_str())],
        ok(completed()),
    )
    .await;
    let status = wait(&client, &quick())
        .await
        .expect("completes after the 503");
    assert!(status.is_completed());
    assert!(
        SystemTime::now() >= until,
        "the wait ended before the Retry-After date {date}"
    );
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn an_absurd_retry_after_is_capped() {
    let (server, client) = server_and_client().await;
    by_id_answers(
        &server,
        vec![rate_limited().insert_header("retry-after", "86400000")],
        ok(completed()),
    )
    .await;
    let options = PollOptions {
        max_retry_after: Duration::from_millis(300),
        ..quick()
    };
    let started = Instant::now();
    let status = wait(&client, &options)
        .await
        .expect("the cap, not the day, is waited");
    assert!(status.is_completed());
    assert!(started.elapsed() >= options.max_retry_after);
}

/// A `Retry-After` past the deadline ends the wait at once: the next poll may not come before
/// it, so nothing could be learnt by sleeping until the deadline.
#[tokio::test]
async fn a_retry_after_past_the_deadline_gives_up_at_once_with_the_reason() {
    let (server, client) = server_and_client().await;
    by_id_answers(
        &server,
        vec![],
        rate_limited().insert_header("retry-after", "120"),
    )
    .await;
    let options = PollOptions {
        timeout: Duration::from_secs(60),
        ..quick()
    };
    let error = wait(&client, &options).await.expect_err("cannot finish");
    let ApiError::Timeout {
        waited,
        attempts,
        last_error,
        last_status,
        ..
    } = &error
    else {
        panic!("not a timeout: {error:?}");
    };
    assert_eq!(*attempts, 1);
    assert!(last_status.is_none());
    assert!(
        *waited < options.timeout,
        "it gave up instead of sleeping: {waited:?}"
    );
    let last_error = last_error.as_deref().expect("the 429 is kept");
    assert!(
        matches!(last_error, ApiError::RateLimited { .. }),
        "{last_error:?}"
    );
    assert_eq!(last_error.retry_after(), Some(Duration::from_secs(120)));
    assert!(error.to_string().contains("429"), "{error}");
}

#[tokio::test]
async fn every_5xx_is_retried_documented_or_not() {
    let (server, client) = server_and_client().await;
    by_id_answers(
        &server,
        vec![
            internal_error(),
            undocumented(502),
            undocumented(503),
            undocumented(504),
            ok(processing()),
        ],
        ok(completed()),
    )
    .await;
    let status = wait(&client, &quick()).await.expect("completes");
    assert!(status.is_completed());
    assert_eq!(received(&server).await.len(), 6);
}

/// A slow answer is given up after `request_timeout` and the poll sent again: the wait does not
/// hang on it.
#[tokio::test]
async fn a_slow_answer_is_given_up_and_polled_again() {
    let (server, client) = server_and_client().await;
    by_id_answers(
        &server,
        vec![ok(processing()).set_delay(Duration::from_secs(30))],
        ok(completed()),
    )
    .await;
    let options = PollOptions {
        request_timeout: Duration::from_millis(200),
        ..quick()
    };
    let started = Instant::now();
    let status = wait(&client, &options)
        .await
        .expect("the second poll answers");
    assert!(status.is_completed());
    assert!(started.elapsed() >= options.request_timeout);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn an_api_that_never_answers_in_time_gives_a_timeout_naming_the_request_timeout() {
    let (server, client) = server_and_client().await;
    by_id_answers(
        &server,
        vec![],
        ok(completed()).set_delay(Duration::from_secs(30)),
    )
    .await;
    let options = PollOptions {
        request_timeout: Duration::from_millis(100),
        timeout: Duration::from_millis(500),
        ..quick()
    };
    let error = wait(&client, &options).await.expect_err("never in time");
    let ApiError::Timeout {
        waited,
        attempts,
        last_error,
        ..
    } = &error
    else {
        panic!("not a timeout: {error:?}");
    };
    assert!(*waited >= options.timeout, "{waited:?}");
    assert!(*attempts >= 2, "{attempts} requests");
    assert!(
        matches!(
            last_error.as_deref(),
            Some(ApiError::RequestTimeout(budget)) if *budget == options.request_timeout
        ),
        "{last_error:?}"
    );
}

/// The deadline's error says what was last seen and what last failed.
#[tokio::test]
async fn the_timeout_carries_the_last_status_the_attempts_and_the_last_error() {
    let (server, client) = server_and_client().await;
    by_id_answers(&server, vec![ok(processing())], internal_error()).await;
    let options = PollOptions {
        timeout: Duration::from_millis(300),
        ..quick()
    };
    let error = wait(&client, &options).await.expect_err("never final");
    let ApiError::Timeout {
        last_status,
        attempts,
        last_error,
        ..
    } = &error
    else {
        panic!("not a timeout: {error:?}");
    };
    assert_eq!(last_status, &Some(ConversionStatus::Processing));
    assert_eq!(
        usize::try_from(*attempts).ok(),
        Some(received(&server).await.len())
    );
    let last_error = last_error.as_deref().expect("the 500 is kept");
    assert_eq!(last_error.status().map(|status| status.as_u16()), Some(500));
    let text = error.to_string();
    assert!(
        text.contains("PROCESSING") && text.contains("500"),
        "{text}"
    );
}

/// Errors that polling again cannot change end the wait at the first answer.
#[tokio::test]
async fn client_errors_end_the_wait_at_once() {
    for (status, example) in [
        (401, "missing_key"),
        (404, "not_found"),
        (400, "invalid_parameters"),
    ] {
        let (server, client) = server_and_client().await;
        let body = response_example("getConversionById", &status.to_string(), example);
        by_id_answers(
            &server,
            vec![],
            ResponseTemplate::new(status).set_body_json(body),
        )
        .await;
        let error = wait(&client, &quick())
            .await
            .expect_err("a client error ends the wait");
        assert_eq!(
            error.status().map(|status| status.as_u16()),
            Some(status),
            "{error:?}"
        );
        assert!(!error.is_retryable());
        assert_eq!(
            received(&server).await.len(),
            1,
            "{status} was polled again"
        );
    }
}
