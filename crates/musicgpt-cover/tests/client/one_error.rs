//! One error type from every call: `send().await` of a progenitor-generated operation and of
//! the multipart Cover is `Result<_, ApiError>` (these functions would not compile otherwise),
//! matched where the call is made with no conversion, and progenitor's error stays reachable
//! as the source.

use std::error::Error as _;

use musicgpt_cover::error::ProgenitorError;
use musicgpt_cover::{ApiError, Client, types};
use wiremock::ResponseTemplate;

use crate::{answer, response_example, server_and_client};

/// What a caller's retry loop does with the outcome of one call.
#[derive(Debug, PartialEq)]
enum Next {
    Done,
    Retry,
    GiveUp(String),
}

async fn voices_once(client: &Client) -> Next {
    match client.get_all_voices().limit(5).send().await {
        Ok(_) => Next::Done,
        Err(e) if e.is_retryable() => Next::Retry,
        Err(e) => Next::GiveUp(e.to_string()),
    }
}

async fn cover_once(client: &Client) -> Next {
    match client
        .cover()
        .voice_id("Drake")
        .audio_url("https://example.com/song.mp3")
        .send()
        .await
    {
        Ok(_) => Next::Done,
        Err(e) if e.is_retryable() => Next::Retry,
        Err(ApiError::InsufficientCredit { body, .. }) => {
            Next::GiveUp(body.text().unwrap_or_default().into_owned())
        }
        Err(e) => Next::GiveUp(e.to_string()),
    }
}

/// Asserts that `error`'s source is progenitor's `ErrorResponse` with `status`, the same value
/// `progenitor_error()` gives, carrying the answer's headers.
fn assert_progenitor_source(error: &ApiError, status: u16) {
    let source = error
        .source()
        .and_then(|source| source.downcast_ref::<ProgenitorError>())
        .unwrap_or_else(|| panic!("progenitor's error is the source of {error:?}"));
    assert_eq!(source.status().map(|s| s.as_u16()), Some(status));
    assert!(matches!(source, musicgpt_cover::Error::ErrorResponse(_)));
    assert!(std::ptr::eq(
        source,
        error.progenitor_error().expect("the typed source")
    ));
    assert_eq!(
        error
            .headers()
            .and_then(|headers| headers.get("x-request-id"))
            .and_then(|value| value.to_str().ok()),
        Some("r-1"),
        "the answer's headers are kept"
    );
}

#[tokio::test]
async fn a_generated_operation_and_the_cover_are_matched_on_api_error_where_they_are_called() {
    let (server, client) = server_and_client().await;
    let unavailable = ResponseTemplate::new(503)
        .insert_header("x-request-id", "r-1")
        .set_body_json(serde_json::json!({"success": false, "error": "Service Unavailable"}));
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(unavailable)
        .up_to_n_times(2)
        .mount(&server)
        .await;
    assert_eq!(voices_once(&client).await, Next::Retry);
    assert_eq!(cover_once(&client).await, Next::Retry);

    answer(
        &server,
        "cover",
        402,
        &response_example("cover", "402", "insufficient_credit"),
    )
    .await;
    answer(
        &server,
        "getAllVoices",
        200,
        &response_example("getAllVoices", "200", "first_page"),
    )
    .await;
    assert_eq!(voices_once(&client).await, Next::Done);
    assert_eq!(
        cover_once(&client).await,
        Next::GiveUp("Insufficient credit balance".to_owned())
    );
}

#[tokio::test]
async fn progenitor_error_is_the_source_of_a_generated_call_and_of_the_cover() {
    let (server, client) = server_and_client().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("x-request-id", "r-1")
                .set_body_json(
                    serde_json::json!({"success": false, "error": "Internal Server Error"}),
                ),
        )
        .mount(&server)
        .await;

    let voices = client
        .search_voices()
        .query("dr")
        .send()
        .await
        .expect_err("a 500");
    assert!(matches!(voices, ApiError::Server { .. }), "{voices:?}");
    assert_progenitor_source(&voices, 500);

    let cover = client
        .cover()
        .voice_id("Drake")
        .audio_url("https://example.com/song.mp3")
        .send()
        .await
        .expect_err("a 500");
    assert!(matches!(cover, ApiError::Server { .. }), "{cover:?}");
    assert_progenitor_source(&cover, 500);
    let Some(musicgpt_cover::Error::ErrorResponse(response)) = cover.into_progenitor_error() else {
        panic!("progenitor's ErrorResponse by value");
    };
    let body: types::Error = response.into_inner();
    assert_eq!(body.error.as_deref(), Some("Internal Server Error"));
}

/// A value a builder refuses is an `InvalidRequest` whose source is progenitor's own refusal,
/// for the generated `conversion_type` setter and for the Cover's checks alike.
#[tokio::test]
async fn a_refused_value_keeps_progenitor_invalid_request_as_the_source() {
    let (_server, client) = server_and_client().await;
    let by_id = client
        .get_conversion_by_id()
        .conversion_type("NOT_A_TYPE")
        .task_id("t")
        .send()
        .await
        .expect_err("not one of the API's conversion types");
    let cover = client
        .cover()
        .voice_id("Drake")
        .send()
        .await
        .expect_err("no audio");
    for error in [by_id, cover] {
        let ApiError::InvalidRequest { message, .. } = &error else {
            panic!("not InvalidRequest: {error:?}");
        };
        let Some(musicgpt_cover::Error::InvalidRequest(source_message)) = error.progenitor_error()
        else {
            panic!("progenitor's InvalidRequest is the source of {error:?}");
        };
        assert_eq!(message, source_message);
    }
}
