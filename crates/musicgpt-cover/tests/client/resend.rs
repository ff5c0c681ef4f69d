//! `cover()` is never retried by the client (a Cover charges credits), and
//! [`ApiError::is_safe_to_resend`] tells a caller when sending it again cannot charge twice:
//! answers that prove the API refused it.

use std::time::Duration;

use musicgpt_cover::{ApiError, Client};
use wiremock::{Mock, ResponseTemplate};

use crate::{BASE_PATH, operation, received, response_example, server_and_client};

/// Answers the Cover with `template` and sends one Cover.
async fn cover_meets(template: ResponseTemplate) -> (ApiError, usize) {
    let (server, client) = server_and_client().await;
    let (path, _, _) = operation("cover");
    Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(format!("{BASE_PATH}{path}")))
        .respond_with(template)
        .mount(&server)
        .await;
    let error = send_cover(&client).await;
    (error, received(&server).await.len())
}

async fn send_cover(client: &Client) -> ApiError {
    client
        .cover()
        .voice_id("Drake")
        .audio_url("https://example.com/song.mp3")
        .send()
        .await
        .map(|_| ())
        .expect_err("the Cover fails")
}

fn cover_error(status: u16, example: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(response_example(
        "cover",
        &status.to_string(),
        example,
    ))
}

#[tokio::test]
async fn a_429_refused_the_cover_so_it_is_safe_to_resend_after_its_retry_after() {
    let (error, requests) =
        cover_meets(cover_error(429, "rate_limited").insert_header("retry-after", "7")).await;
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert!(error.is_safe_to_resend());
    assert!(error.to_string().contains("retry after 7s"), "{error}");
    assert_eq!(requests, 1, "the client does not resend a Cover by itself");
}

#[tokio::test]
async fn a_503_with_retry_after_is_safe_to_resend_and_one_without_is_not() {
    let body = response_example("cover", "500", "internal_error");
    let (error, requests) = cover_meets(
        ResponseTemplate::new(503)
            .set_body_json(&body)
            .insert_header("retry-after", "3"),
    )
    .await;
    assert_eq!(error.status().map(|status| status.as_u16()), Some(503));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    assert!(error.is_safe_to_resend(), "{error:?}");
    assert_eq!(requests, 1);

    let (error, requests) = cover_meets(ResponseTemplate::new(503).set_body_json(&body)).await;
    assert!(error.is_retryable());
    assert!(!error.is_safe_to_resend(), "{error:?}");
    assert_eq!(requests, 1);
}

/// A 500 says the API failed while it handled the Cover: it may have charged. Retryable for a
/// GET, not safe to resend for a Cover, even with a Retry-After.
#[tokio::test]
async fn a_500_is_not_safe_to_resend() {
    let (error, requests) =
        cover_meets(cover_error(500, "internal_error").insert_header("retry-after", "1")).await;
    assert!(matches!(error, ApiError::Server { .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert!(error.is_retryable());
    assert!(!error.is_safe_to_resend());
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn refusals_that_resending_cannot_fix_are_not_safe_to_resend() {
    for (status, example) in [
        (401, "missing_key"),
        (402, "insufficient_credit"),
        (422, "no_audio"),
    ] {
        let (error, requests) = cover_meets(cover_error(status, example)).await;
        assert_eq!(error.status().map(|status| status.as_u16()), Some(status));
        assert!(!error.is_safe_to_resend(), "{error:?}");
        assert!(!error.is_retryable(), "{error:?}");
        assert_eq!(requests, 1);
    }
}

/// A slow Cover is not cut short by the client (an upload may take long): the caller's
/// `reqwest` timeout, if any, decides, and then the Cover's fate is unknown.
#[tokio::test]
async fn a_timed_out_cover_is_not_safe_to_resend() {
    let (server, _) = server_and_client().await;
    let (path, _, _) = operation("cover");
    Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(format!("{BASE_PATH}{path}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(response_example("cover", "200", "minimal"))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let client = Client::from_api_key_with(
        crate::API_KEY,
        &format!("{}{BASE_PATH}", server.uri()),
        musicgpt_cover::reqwest::Client::builder().timeout(Duration::from_millis(200)),
    )
    .expect("a client");
    let error = send_cover(&client).await;
    assert!(
        error
            .reqwest_error()
            .is_some_and(musicgpt_cover::reqwest::Error::is_timeout),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(!error.is_safe_to_resend());
    assert_eq!(received(&server).await.len(), 1);
}
