//! The API's own documentation, held against the spec and the client: every example body the
//! official docs show for Cover, byId, getAllVoices, searchVoices and the webhook
//! (`fixtures/official/*.json`, each naming the repository, path, commit and place it was copied
//! from) validates against openapi.yaml's schema for what it is (an answer of an operation with
//! its status, or the `coverCompleted` payload), and the generated client decodes it: an answer
//! served by wiremock to the client's own call, a webhook parsed with `CoverWebhook::parse`.
//! Decoding keeps every field the spec names, with its value; fields the spec does not name (a
//! Music AI conversion's `title_1`...) are dropped, never an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use musicgpt_cover::types::CoverWebhook;
use musicgpt_cover_contract_tests::schema::SchemaCheck;
use serde_json::{Map, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{ClientOutcome, inputs, valid_call};
use crate::common::{assert_none, expected_variant, same_json, spec};

/// The public repository of the API's documentation.
const DOCS_REPOSITORY: &str = "lalalsresearch/wav-publicapi-docs";
/// The callback whose payload a `{"callback": ...}` fixture is.
const CALLBACK: &str = "coverCompleted";

/// What the official docs show, which the fixtures must cover: every status with an example body
/// in the official `openapi.json` for the four operations, and the webhook.
const DOCUMENTED: [&str; 12] = [
    "cover 200",
    "cover 400",
    "cover 402",
    "cover 422",
    "cover 500",
    "getConversionById 200",
    "getConversionById 400",
    "getAllVoices 200",
    "getAllVoices 500",
    "searchVoices 200",
    "searchVoices 500",
    "webhook coverCompleted",
];

/// One example body of the official docs.
struct Fixture {
    file: String,
    source: Vec<Value>,
    targets: Vec<Target>,
    body: Value,
}

/// What a body is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    /// The answer of an operation (`operationId`) with a status.
    Answer { op: String, status: u16 },
    /// The payload of the `coverCompleted` callback.
    Webhook,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Answer { op, status } => write!(f, "{op} {status}"),
            Target::Webhook => write!(f, "webhook {CALLBACK}"),
        }
    }
}

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/official")
}

/// Every fixture, in file-name order.
fn fixtures() -> Vec<Fixture> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("fixtures/official is readable")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "fixtures/official holds no .json file");
    files
        .iter()
        .map(|file| {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(file).expect("a fixture is readable");
            let fixture: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            let targets = fixture["decode_as"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: no `decode_as` list"))
                .iter()
                .map(|target| target_of(&name, target))
                .collect();
            Fixture {
                file: name.clone(),
                source: fixture["source"].as_array().cloned().unwrap_or_default(),
                targets,
                body: fixture["body"].clone(),
            }
        })
        .collect()
}

fn target_of(name: &str, target: &Value) -> Target {
    if let Some(callback) = target["callback"].as_str() {
        assert_eq!(callback, CALLBACK, "{name}: an unknown callback");
        return Target::Webhook;
    }
    let op = target["operation"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: a target names neither an operation nor a callback"));
    let status = target["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_else(|| panic!("{name}: {op} without a status"));
    Target::Answer {
        op: op.to_owned(),
        status,
    }
}

/// The spec's schema for a target (often a `$ref`).
fn schema_of(target: &Target) -> Value {
    match target {
        Target::Answer { op, status } => spec()
            .operation(op)
            .response(*status)
            .and_then(|response| response.schema.clone())
            .unwrap_or_else(|| panic!("openapi.yaml documents no JSON schema for {target}")),
        Target::Webhook => {
            let callbacks = &spec().operation("cover").raw["callbacks"][CALLBACK];
            let item = callbacks
                .as_object()
                .and_then(|expressions| expressions.values().next())
                .expect("the callback has an expression");
            let body = spec().resolve(&item["post"]["requestBody"]);
            body["content"]["application/json"]["schema"].clone()
        }
    }
}

/// `body` as the client keeps it: the fields `schema` names, recursively; the rest dropped.
fn kept(schema: &Value, body: &Value) -> Value {
    let schema = spec().resolve(schema);
    match (body, schema.get("properties").and_then(Value::as_object)) {
        (Value::Object(fields), Some(properties)) => Value::Object(
            fields
                .iter()
                .filter_map(|(name, value)| {
                    let property = properties.get(name)?;
                    Some((name.clone(), kept(property, value)))
                })
                .collect::<Map<String, Value>>(),
        ),
        (Value::Array(items), None) => match schema.get("items") {
            Some(item) => Value::Array(items.iter().map(|v| kept(item, v)).collect()),
            None => body.clone(),
        },
        _ => body.clone(),
    }
}

#[test]
fn every_official_example_says_where_it_came_from() {
    let mut problems = Vec::new();
    for fixture in fixtures() {
        let name = &fixture.file;
        if fixture.source.is_empty() {
            problems.push(format!("{name}: no `source`"));
        }
        for source in &fixture.source {
            let text = |key: &str| source[key].as_str().unwrap_or_default();
            if text("repository") != DOCS_REPOSITORY {
                problems.push(format!("{name}: not from {DOCS_REPOSITORY}: {source}"));
            }
            if !text("path").starts_with("api-documentation/") {
                problems.push(format!(
                    "{name}: no path under api-documentation/: {source}"
                ));
            }
            let commit = text("commit");
            if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
                problems.push(format!("{name}: no 40-digit commit: {source}"));
            }
            if text("where").trim().is_empty() {
                problems.push(format!("{name}: no `where` in the page: {source}"));
            }
        }
        if fixture.targets.is_empty() {
            problems.push(format!("{name}: `decode_as` is empty"));
        }
    }
    assert_none(&problems, "official fixtures");
}

#[test]
fn the_fixtures_cover_every_documented_example() {
    let covered: BTreeSet<String> = fixtures()
        .iter()
        .flat_map(|fixture| fixture.targets.iter().map(ToString::to_string))
        .collect();
    let missing: Vec<String> = DOCUMENTED
        .iter()
        .filter(|documented| !covered.contains(**documented))
        .map(|documented| format!("no official example of {documented} in fixtures/official"))
        .collect();
    assert_none(&missing, "official examples");
}

#[test]
fn every_official_example_validates_against_the_spec() {
    let mut problems = Vec::new();
    for fixture in fixtures() {
        for target in &fixture.targets {
            let check = SchemaCheck::new(spec(), &schema_of(target))
                .unwrap_or_else(|e| panic!("{target}: {e}"));
            for error in check.errors(&fixture.body) {
                problems.push(format!("{} as {target}: {error}", fixture.file));
            }
        }
    }
    assert_none(&problems, "official examples against openapi.yaml");
}

#[tokio::test]
async fn every_official_example_decodes_with_the_client() {
    let spec = spec();
    let inputs = inputs();
    let mut problems = Vec::new();
    let mut decoded = 0;
    for fixture in fixtures() {
        for target in &fixture.targets {
            let at = format!("{} as {target}", fixture.file);
            let want = kept(&schema_of(target), &fixture.body);
            let (op, status) = match target {
                Target::Webhook => {
                    let bytes = serde_json::to_vec(&fixture.body).expect("bytes");
                    match CoverWebhook::parse(&bytes) {
                        Ok(hook) => {
                            let got = serde_json::to_value(&hook).expect("serializes");
                            if !same_json(&got, &want) {
                                problems.push(format!("{at}: decoded as {got}, not {want}"));
                            }
                            decoded += 1;
                        }
                        Err(e) => problems.push(format!("{at}: CoverWebhook::parse: {e}")),
                    }
                    continue;
                }
                Target::Answer { op, status } => (op, *status),
            };
            let server = MockServer::start().await;
            let base = format!("{}{}", server.uri(), spec.local_base_path());
            let operation = spec.operation(op);
            Mock::given(method(operation.method.as_str()))
                .and(path(format!(
                    "{}{}",
                    spec.local_base_path(),
                    operation.path
                )))
                .respond_with(ResponseTemplate::new(status).set_body_json(&fixture.body))
                .mount(&server)
                .await;
            let (_, call) = valid_call(op, &inputs);
            let call = call.with_task_id(Some("12345678-abcd-1234-efgh-567890abcdef"));
            let outcome = match call.send_client(&base).await {
                Ok(outcome) => outcome,
                Err(refused) => {
                    problems.push(format!("{at}: the client refused its own call: {refused}"));
                    continue;
                }
            };
            if outcome.status() != Some(status) {
                problems.push(format!("{at}: the client reports {outcome:?}"));
                continue;
            }
            match &outcome {
                ClientOutcome::Ok { .. } if status >= 300 => {
                    problems.push(format!("{at}: Ok for an error status"));
                }
                ClientOutcome::Err { error, .. } => {
                    let variant = error["variant"].as_str().unwrap_or_default();
                    if expected_variant(status) != Some(variant) {
                        problems.push(format!("{at}: decoded as ApiError::{variant}: {error}"));
                    }
                    let text = fixture.body["error"]
                        .as_str()
                        .or(fixture.body["message"].as_str())
                        .unwrap_or_default();
                    let message = error["message"].as_str().unwrap_or_default();
                    if text.is_empty() || !message.ends_with(text) {
                        problems.push(format!(
                            "{at}: the error says {message:?}, not the body's text {text:?}"
                        ));
                    }
                }
                ClientOutcome::Ok { .. } => {}
            }
            if !same_json(outcome.body(), &want) {
                problems.push(format!("{at}: decoded as {}, not {want}", outcome.body()));
            }
            decoded += 1;
        }
    }
    assert!(decoded >= DOCUMENTED.len(), "only {decoded} bodies decoded");
    assert_none(&problems, "official examples through the client");
}
