//! Every response example in openapi.yaml, read from the spec, served by wiremock and decoded
//! by the client: a 2xx example to an equal success value, an error example to the typed
//! [`ApiError`] variant of its status carrying an equal body.

use musicgpt_cover::{ApiError, COVER_CONVERSION_TYPE, Client};
use serde_json::Value;
use wiremock::{Mock, ResponseTemplate};

use crate::{answer, resolve, server_and_client, spec};

/// Calls `operation_id` with valid arguments; the success value comes back as JSON.
async fn call(client: &Client, operation_id: &str) -> Result<(u16, Value), ApiError> {
    fn json<T: serde::Serialize>(response: musicgpt_cover::ResponseValue<T>) -> (u16, Value) {
        let status = response.status().as_u16();
        let value = serde_json::to_value(response.into_inner()).expect("serializable");
        (status, value)
    }
    Ok(match operation_id {
        "cover" => json(
            client
                .cover()
                .voice_id("Drake")
                .audio_url("https://example.com/song.mp3")
                .send()
                .await?,
        ),
        "getConversionById" => json(
            client
                .get_conversion_by_id()
                .conversion_type(COVER_CONVERSION_TYPE)
                .task_id("0ec93bdd-6132-40db-a873-676dc314919c")
                .send()
                .await?,
        ),
        "getAllVoices" => json(client.get_all_voices().limit(20).page(0).send().await?),
        "searchVoices" => json(client.search_voices().query("drake").send().await?),
        other => panic!("the spec has a new operation `{other}`: add a call for it here"),
    })
}

/// The variant a documented error status must decode to.
fn expected_variant(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "InsufficientCredit",
        403 => "Forbidden",
        404 => "NotFound",
        413 => "PayloadTooLarge",
        422 => "Unprocessable",
        429 => "RateLimited",
        500..=599 => "Server",
        _ => "OtherStatus",
    }
}

fn variant(error: &ApiError) -> &'static str {
    match error {
        ApiError::BadRequest { .. } => "BadRequest",
        ApiError::Unauthorized { .. } => "Unauthorized",
        ApiError::InsufficientCredit { .. } => "InsufficientCredit",
        ApiError::Forbidden { .. } => "Forbidden",
        ApiError::NotFound { .. } => "NotFound",
        ApiError::PayloadTooLarge { .. } => "PayloadTooLarge",
        ApiError::Unprocessable { .. } => "Unprocessable",
        ApiError::RateLimited { .. } => "RateLimited",
        ApiError::Server { .. } => "Server",
        ApiError::OtherStatus { .. } => "OtherStatus",
        _ => "not a documented status",
    }
}

/// `expected` (an example) and `actual` (the decoded value, serialized) say the same thing:
/// same keys, numbers equal as numbers, strings (ids and timestamps too) equal as written.
fn assert_equivalent(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let decoded = actual
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}.{key} was dropped by the decoded type"));
                assert_equivalent(value, decoded, &format!("{at}.{key}"));
            }
            for key in actual.keys() {
                assert!(
                    expected.contains_key(key),
                    "{at}.{key} appeared from nowhere"
                );
            }
        }
        (Value::Array(expected), Value::Array(actual)) => {
            assert_eq!(expected.len(), actual.len(), "{at}: length");
            for (index, (expected, actual)) in expected.iter().zip(actual).enumerate() {
                assert_equivalent(expected, actual, &format!("{at}[{index}]"));
            }
        }
        (Value::Number(expected), Value::Number(actual)) => {
            assert_eq!(expected.as_f64(), actual.as_f64(), "{at}");
        }
        _ => assert_eq!(expected, actual, "{at}"),
    }
}

#[tokio::test]
async fn every_response_example_decodes_to_its_success_value_or_typed_error() {
    let mut checked = Vec::new();
    for (path, item) in spec()["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let Some(operation_id) = operation["operationId"].as_str() else {
                continue;
            };
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let response = resolve(response);
                let Some(content) = response["content"]["application/json"].as_object() else {
                    continue;
                };
                let examples = content
                    .get("examples")
                    .and_then(Value::as_object)
                    .unwrap_or_else(|| panic!("{method} {path} {status} has no examples"));
                for (name, example) in examples {
                    let example = &resolve(example)["value"];
                    let status: u16 = status.parse().expect("a numeric status");
                    let context = format!("{operation_id} {status} example `{name}`");
                    let (server, client) = server_and_client().await;
                    answer(&server, operation_id, status, example).await;

                    match call(&client, operation_id).await {
                        Ok((decoded_status, decoded)) => {
                            assert!(
                                (200..300).contains(&status),
                                "{context}: decoded as a success"
                            );
                            assert_eq!(decoded_status, status, "{context}");
                            assert_equivalent(example, &decoded, &context);
                        }
                        Err(error) => {
                            assert!(status >= 400, "{context}: failed with {error}");
                            assert_eq!(
                                variant(&error),
                                expected_variant(status),
                                "{context}: {error:?}"
                            );
                            assert_eq!(
                                error.status().map(|s| s.as_u16()),
                                Some(status),
                                "{context}"
                            );
                            assert_eq!(
                                error.is_auth_failure(),
                                status == 401 || status == 403,
                                "{context}"
                            );
                            let body = serde_json::to_value(error.body().expect("a body"))
                                .expect("serializable");
                            assert_equivalent(example, &body, &context);
                            let text = example["error"].as_str().or(example["message"].as_str());
                            assert_eq!(
                                error.body().and_then(|body| body.text()).as_deref(),
                                text,
                                "{context}"
                            );
                        }
                    }
                    checked.push(context);
                }
            }
        }
    }
    // The walk found the operations and statuses the issue names.
    for needle in [
        "cover 200 example `minimal`",
        "cover 200 example `full`",
        "cover 402",
        "cover 422",
        "cover 413",
        "getConversionById 200 example `cover_completed`",
        "getConversionById 404",
        "getAllVoices 200",
        "searchVoices 500",
    ] {
        assert!(
            checked.iter().any(|context| context.starts_with(needle)),
            "{needle} not checked: {checked:#?}"
        );
    }
}

#[tokio::test]
async fn an_undocumented_status_is_unexpected_and_keeps_the_response() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "searchVoices",
        418,
        &serde_json::json!({"teapot": true}),
    )
    .await;
    let error = call(&client, "searchVoices")
        .await
        .expect_err("418 is not documented");
    let ApiError::Unexpected { status, .. } = error else {
        panic!("not Unexpected: {error:?}");
    };
    assert_eq!(status, 418);
    assert!(error.headers().is_some(), "the answer's headers are kept");
    let Some(musicgpt_cover::Error::UnexpectedResponse(response)) = error.into_progenitor_error()
    else {
        panic!("progenitor's UnexpectedResponse is the source");
    };
    let body: Value = response.json().await.expect("the body is still there");
    assert_eq!(body["teapot"], true);
}

#[tokio::test]
async fn a_body_that_breaks_its_schema_is_an_invalid_response() {
    let (server, client) = server_and_client().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>proxy page</html>"))
        .mount(&server)
        .await;
    let error = call(&client, "getAllVoices").await.expect_err("not JSON");
    let ApiError::InvalidResponse { body, .. } = error else {
        panic!("not InvalidResponse: {error:?}");
    };
    assert_eq!(body.as_ref(), b"<html>proxy page</html>");
}

/// An error body needs no `success`, and its text is found wherever it is: FastAPI's
/// `{"detail": [...]}` (a 422 of a form it could not read) and `{"detail": "..."}` decode into
/// the typed error, with the issues' texts.
#[tokio::test]
async fn a_fastapi_detail_is_a_typed_error_with_its_text() {
    let cases = [
        (
            serde_json::json!({"detail": [
                {"type": "missing", "loc": ["body", "voice_id"], "msg": "Field required", "input": null},
                {"type": "int_parsing", "loc": ["body", "pitch"], "msg": "Input should be a valid integer"}
            ]}),
            "body.voice_id: Field required; body.pitch: Input should be a valid integer",
        ),
        (
            serde_json::json!({"detail": "Not authenticated"}),
            "Not authenticated",
        ),
        (
            serde_json::json!({"success": false, "error": "", "message": "Invalid request parameters"}),
            "Invalid request parameters",
        ),
    ];
    for (body, text) in cases {
        let (server, client) = server_and_client().await;
        answer(&server, "cover", 422, &body).await;
        let error = call(&client, "cover").await.expect_err("a 422");
        assert_eq!(variant(&error), "Unprocessable", "{error:?}");
        assert_eq!(
            error.body().and_then(|body| body.text()).as_deref(),
            Some(text)
        );
        assert!(error.to_string().ends_with(text), "{error}");
    }
    let (server, client) = server_and_client().await;
    answer(&server, "cover", 500, &serde_json::json!({})).await;
    let error = call(&client, "cover").await.expect_err("a 500");
    assert_eq!(variant(&error), "Server", "{error:?}");
    assert!(error.to_string().ends_with("(no message)"), "{error}");
}
