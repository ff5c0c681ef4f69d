//! Tests of the client alone, against wiremock: the request it sends, the responses it decodes
//! (every example of openapi.yaml, read from the spec), polling, client-side validation, the
//! webhook parser and streamed uploads; and faults: polling rides out 429, 5xx, `Retry-After`,
//! slow answers and broken connections (a raw TCP server), a Cover is sent once; every call
//! returns `ApiError`, with progenitor's error as its source.

mod connection_faults;
mod examples;
mod multipart_request;
mod one_error;
mod polling;
mod resend;
mod retry;
mod upload;
mod validation;
mod webhook;

use std::sync::OnceLock;

use musicgpt_cover::Client;
use serde_json::Value;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A key with characters a careless client might mangle; it must arrive exactly as given.
pub(crate) const API_KEY: &str = "mgpt_test-Key.0123456789";

/// The path under which the API lives on every server of the spec.
pub(crate) const BASE_PATH: &str = "/api/public";

/// openapi.yaml as YAML, read once; its mappings keep the spec's order.
pub(crate) fn spec_yaml() -> &'static serde_norway::Value {
    static SPEC: OnceLock<serde_norway::Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
        let text = std::fs::read_to_string(path).expect("openapi.yaml is readable");
        serde_norway::from_str(&text).expect("openapi.yaml is YAML")
    })
}

/// openapi.yaml as JSON, for lookups and comparisons (object keys sorted).
pub(crate) fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::to_value(spec_yaml()).expect("openapi.yaml maps to JSON"))
}

/// Follows local `$ref`s, with the mock's resolver (the workspace's one).
pub(crate) fn resolve(node: &'static Value) -> &'static Value {
    musicgpt_cover_mock::openapi_document::resolve(spec(), node)
        .unwrap_or_else(|| panic!("{node} resolves"))
}

/// The path, method and operation object of `operation_id`.
pub(crate) fn operation(operation_id: &str) -> (&'static str, &'static str, &'static Value) {
    let paths = spec()["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, operation)| (path.as_str(), method.as_str(), operation))
        })
        .find(|(_, _, operation)| operation["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("the spec has an operation {operation_id}"))
}

/// The named example of a response of `operation_id`, from the spec.
pub(crate) fn response_example(operation_id: &str, status: &str, name: &str) -> Value {
    let (_, _, operation) = operation(operation_id);
    let response = resolve(&operation["responses"][status]);
    resolve(&response["content"]["application/json"]["examples"][name])["value"].clone()
}

/// A wiremock server and a client for it, with the spec's base path.
pub(crate) async fn server_and_client() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::from_api_key(API_KEY, &format!("{}{BASE_PATH}", server.uri()))
        .expect("a client for wiremock");
    (server, client)
}

/// Answers every request to `operation_id`'s path with `status` and the JSON `body`.
pub(crate) async fn answer(server: &MockServer, operation_id: &str, status: u16, body: &Value) {
    let (path, method, _) = operation(operation_id);
    Mock::given(wiremock::matchers::method(method.to_uppercase().as_str()))
        .and(wiremock::matchers::path(format!("{BASE_PATH}{path}")))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// The requests the server received.
pub(crate) async fn received(server: &MockServer) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
}

/// One part of a received multipart body.
#[derive(Debug)]
pub(crate) struct ReceivedPart {
    pub(crate) name: String,
    pub(crate) file_name: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) bytes: bytes::Bytes,
}

/// Parses a received `multipart/form-data` body with multer, an independent parser.
pub(crate) async fn parse_multipart(request: &wiremock::Request) -> Vec<ReceivedPart> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .expect("the request has a content type");
    assert!(
        content_type.starts_with("multipart/form-data;"),
        "content type {content_type}"
    );
    let boundary = multer::parse_boundary(content_type).expect("a boundary");
    let body = bytes::Bytes::from(request.body.clone());
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.expect("a well-formed body") {
        parts.push(ReceivedPart {
            name: field.name().expect("every part is named").to_owned(),
            file_name: field.file_name().map(str::to_owned),
            content_type: field.content_type().map(ToString::to_string),
            bytes: field.bytes().await.expect("the part's bytes"),
        });
    }
    parts
}
