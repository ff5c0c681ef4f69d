//! Requests and answers held against the spec, reporting rather than refusing: what the proxy
//! mode (`musicgpt-cover-mock proxy`) says about each exchange with the API it fronts.
//!
//! Each finding is a [`Violation`] in the shape of Prism's `sl-violations`: where (`request` or
//! `response`, then `query`, `header`, `body` or `status`, then a path into the body), how bad
//! (an `Error` breaks the spec; a `Warning` is allowed by it but worth knowing, such as a status
//! only the mock is documented to answer), a short code (the JSON Schema keyword that failed, or
//! `status`, `content-type`, `json`...) and a message.
//!
//! The answers' bodies are checked with the `jsonschema` crate against the spec's schema for the
//! operation and status, converted from OpenAPI 3.0 to JSON Schema 2020-12 by
//! [`openapi_to_json_schema`] (the contract tests use the same conversion). Queries and forms are
//! checked with the mock's own rules (`forms`, `params`), which say exactly what is wrong.

use std::sync::OnceLock;

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use super::document::{document, resolve};
use super::forms::{FormSpec, Value};
use super::params::parse_query;
use super::{Operation, Spec};

/// How bad a [`Violation`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Severity {
    /// The exchange breaks the spec.
    Error,
    /// The spec allows it, but a client should know (a status only the mock documents, a body
    /// too large to check).
    Warning,
}

/// One way a request or an answer breaks the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    /// Where: `["response", "body", "conversion", "status"]`, `["request", "query"]`,
    /// `["response", "status"]`, `["request", "header", "authorization"]`...
    pub location: Vec<String>,
    /// How bad it is.
    pub severity: Severity,
    /// What kind: the JSON Schema keyword that failed (`required`, `type`...), or `status`,
    /// `content-type`, `json`, `parameter`, `form`, `operation`, `security`, `upstream`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl Violation {
    /// An [`Severity::Error`] at `location`.
    pub(crate) fn error(location: &[&str], code: &str, message: impl Into<String>) -> Violation {
        Violation {
            location: location.iter().map(|s| (*s).to_owned()).collect(),
            severity: Severity::Error,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A [`Severity::Warning`] at `location`.
    pub(crate) fn warning(location: &[&str], code: &str, message: impl Into<String>) -> Violation {
        Violation {
            severity: Severity::Warning,
            ..Violation::error(location, code, message)
        }
    }

    /// `response.body./conversion/status: required: ...`, one line for a log or a report.
    pub fn line(&self) -> String {
        format!(
            "{} {} [{}] {}",
            match self.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            self.location.join("."),
            self.code,
            self.message
        )
    }
}

/// The spec's operations with a compiled validator per documented JSON answer.
pub(crate) struct Contract {
    operations: Vec<OperationContract>,
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contract")
            .field("operations", &self.operations.len())
            .finish()
    }
}

/// One operation: its rules and its documented answers.
pub(crate) struct OperationContract {
    pub(crate) operation: &'static Operation,
    answers: Vec<Answer>,
}

struct Answer {
    status: u16,
    mock_only: bool,
    /// The validator of its `application/json` body, when it documents one.
    json: Option<jsonschema::Validator>,
}

/// What the proxy could read of an answer's body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body<'a> {
    /// The whole body.
    Read(&'a [u8]),
    /// More than the proxy reads to check; sent on unchecked.
    TooLarge { limit: usize },
}

/// The contract, compiled on first use (only the proxy mode asks for it).
pub(crate) fn contract() -> Result<&'static Contract, String> {
    static CONTRACT: OnceLock<Result<Contract, String>> = OnceLock::new();
    CONTRACT
        .get_or_init(|| {
            let spec = super::spec()?;
            Contract::compile(spec, document()?.json())
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl Contract {
    fn compile(spec: &'static Spec, doc: &Json) -> Result<Contract, String> {
        let defs: Map<String, Json> = doc
            .pointer("/components/schemas")
            .and_then(Json::as_object)
            .map(|schemas| {
                schemas
                    .iter()
                    .map(|(name, schema)| (name.clone(), openapi_to_json_schema(schema)))
                    .collect()
            })
            .unwrap_or_default();
        let mut operations = Vec::new();
        for operation in spec.operations() {
            let method = operation.method.as_str().to_ascii_lowercase();
            let raw = doc
                .get("paths")
                .and_then(|p| p.get(&operation.path))
                .and_then(|p| p.get(&method))
                .ok_or_else(|| format!("{}: not in the document", operation.operation_id))?;
            let mut answers = Vec::new();
            for (code, response) in raw
                .get("responses")
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
            {
                let Ok(status) = code.parse::<u16>() else {
                    continue;
                };
                let response = resolve(doc, response).unwrap_or(response);
                let mock_only = response.get("x-mock-only") == Some(&Json::Bool(true));
                let json = (response.pointer("/content/application~1json/schema"))
                    .map(|schema| validator(schema, &defs))
                    .transpose()
                    .map_err(|e| format!("{} {status}: {e}", operation.operation_id))?;
                answers.push(Answer {
                    status,
                    mock_only,
                    json,
                });
            }
            operations.push(OperationContract { operation, answers });
        }
        Ok(Contract { operations })
    }

    /// The operation at `path` (the spec's path, such as `/v1/byId`) with this method.
    pub(crate) fn operation(&self, method: &Method, path: &str) -> Option<&OperationContract> {
        self.operations
            .iter()
            .find(|o| o.operation.path == path && o.operation.method == method)
    }

    /// Why there is no operation for this request: an unknown path, or a method it does not take.
    pub(crate) fn unknown_operation(&self, method: &Method, path: &str) -> Violation {
        let taken: Vec<&str> = self
            .operations
            .iter()
            .filter(|o| o.operation.path == path)
            .map(|o| o.operation.method.as_str())
            .collect();
        let message = if taken.is_empty() {
            let known: Vec<&str> = self
                .operations
                .iter()
                .map(|o| o.operation.path.as_str())
                .collect();
            format!(
                "the spec has no operation at {path} (its paths: {})",
                known.join(", ")
            )
        } else {
            format!(
                "the spec documents {} only for {path}, not {method}",
                taken.join(", ")
            )
        };
        Violation::error(&["request", "path"], "operation", message)
    }
}

impl OperationContract {
    /// The request's query string against the operation's parameters.
    pub(crate) fn check_query(&self, query: Option<&str>) -> Vec<Violation> {
        match parse_query(&self.operation.query, query) {
            Ok(_) => Vec::new(),
            Err(why) => vec![Violation::error(&["request", "query"], "parameter", why)],
        }
    }

    /// A form as the mock's readers saw it: their refusal, or the values, held to the form's
    /// required fields and `anyOf`.
    pub(crate) fn check_form(
        form: &FormSpec,
        read: Result<&[Option<Value>], &str>,
    ) -> Vec<Violation> {
        let values = match read {
            Ok(values) => values,
            Err(why) => return vec![Violation::error(&["request", "body"], "form", why)],
        };
        let mut found = Vec::new();
        if let Err(why) = form.required_given(values) {
            found.push(Violation::error(&["request", "body"], "required", why));
        }
        if !form.alternatives_met(values) {
            let names: Vec<String> = form
                .alternatives
                .iter()
                .map(|alt| {
                    alt.iter()
                        .filter_map(|n| form.fields.get(n.field).map(|f| f.name.as_str()))
                        .collect::<Vec<_>>()
                        .join(" and ")
                })
                .collect();
            found.push(Violation::error(
                &["request", "body"],
                "anyOf",
                format!("the form must give one of: {}", names.join("; ")),
            ));
        }
        found
    }

    /// An answer's status, content type and body against the documented answers.
    pub(crate) fn check_response(
        &self,
        status: u16,
        content_type: Option<&str>,
        body: Body<'_>,
    ) -> Vec<Violation> {
        let Some(answer) = self.answers.iter().find(|a| a.status == status) else {
            let documented: Vec<String> =
                self.answers.iter().map(|a| a.status.to_string()).collect();
            return vec![Violation::error(
                &["response", "status"],
                "status",
                format!(
                    "{} does not document status {status} (it documents {})",
                    self.operation.operation_id,
                    documented.join(", ")
                ),
            )];
        };
        let mut found = Vec::new();
        if answer.mock_only {
            found.push(Violation::warning(
                &["response", "status"],
                "status",
                format!(
                    "status {status} of {} is documented as the mock's only (x-mock-only): the API is not known to answer it",
                    self.operation.operation_id
                ),
            ));
        }
        let Some(validator) = &answer.json else {
            return found;
        };
        if !content_type.is_some_and(is_json) {
            found.push(Violation::error(
                &["response", "header", "content-type"],
                "content-type",
                format!(
                    "status {status} is documented as application/json, the answer's Content-Type is {}",
                    content_type.map_or_else(|| "missing".to_owned(), |c| format!("{c:?}"))
                ),
            ));
            return found;
        }
        let bytes = match body {
            Body::Read(bytes) => bytes,
            Body::TooLarge { limit } => {
                found.push(Violation::warning(
                    &["response", "body"],
                    "size",
                    format!("the body is larger than {limit} bytes and was not checked"),
                ));
                return found;
            }
        };
        let instance: Json = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                found.push(Violation::error(
                    &["response", "body"],
                    "json",
                    format!("the body is not JSON: {e}"),
                ));
                return found;
            }
        };
        for error in validator.iter_errors(&instance) {
            let pointer = error.instance_path().to_string();
            let mut location = vec!["response".to_owned(), "body".to_owned()];
            location.extend(
                pointer
                    .split('/')
                    .skip(1)
                    .map(|s| s.replace("~1", "/").replace("~0", "~")),
            );
            found.push(Violation {
                location,
                severity: Severity::Error,
                code: error.kind().keyword().to_owned(),
                message: error.to_string(),
            });
        }
        found
    }
}

/// `application/json`, `application/problem+json`, with or without parameters.
pub(crate) fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn validator(schema: &Json, defs: &Map<String, Json>) -> Result<jsonschema::Validator, String> {
    let mut root = match openapi_to_json_schema(schema) {
        Json::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert("allOf".to_owned(), json!([other]));
            map
        }
    };
    root.insert(
        "$schema".to_owned(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("$defs".to_owned(), Json::Object(defs.clone()));
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Json::Object(root))
        .map_err(|e| format!("the converted schema does not compile: {e}"))
}

/// Keywords of the OpenAPI 3.0 schema object that JSON Schema does not have (or that only
/// annotate) and that the conversion drops.
const OPENAPI_ONLY: [&str; 6] = [
    "example",
    "discriminator",
    "xml",
    "externalDocs",
    "deprecated",
    "nullable",
];

const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// One OpenAPI 3.0 schema as JSON Schema 2020-12, its references pointing at `#/$defs/NAME`.
///
/// OpenAPI 3.0's schema dialect differs from JSON Schema in a few places: `nullable: true`
/// becomes a `"null"` member of `type` (or an `anyOf` with `{"type": "null"}` when there is no
/// `type`), `$ref: '#/components/schemas/X'` becomes `#/$defs/X`, boolean
/// `exclusiveMinimum`/`exclusiveMaximum` become numbers, and the OpenAPI-only keywords
/// (`example`, `discriminator`, `xml`, `externalDocs`, `deprecated`, `x-*`) are dropped.
pub fn openapi_to_json_schema(schema: &Json) -> Json {
    match schema {
        Json::Object(map) => convert_object(map),
        Json::Array(items) => Json::Array(items.iter().map(openapi_to_json_schema).collect()),
        other => other.clone(),
    }
}

fn convert_object(map: &Map<String, Json>) -> Json {
    let mut out = Map::new();
    for (key, value) in map {
        if OPENAPI_ONLY.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let converted = match key.as_str() {
            "$ref" => match value
                .as_str()
                .and_then(|r| r.strip_prefix(COMPONENT_PREFIX))
            {
                Some(name) => json!(format!("#/$defs/{name}")),
                None => value.clone(),
            },
            // Maps of name -> schema.
            "properties" | "patternProperties" | "$defs" | "definitions" => match value {
                Json::Object(props) => Json::Object(
                    props
                        .iter()
                        .map(|(name, schema)| (name.clone(), openapi_to_json_schema(schema)))
                        .collect(),
                ),
                other => other.clone(),
            },
            // A schema or a list of schemas.
            "items" | "additionalProperties" | "not" | "allOf" | "anyOf" | "oneOf" => {
                openapi_to_json_schema(value)
            }
            // Literal values and annotations are kept as written.
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Json::Bool(exclusive)) = out.get(flag).cloned() {
            out.remove(flag);
            if exclusive && let Some(limit) = out.remove(bound) {
                out.insert(flag.to_owned(), limit);
            }
        }
    }
    if map.get("nullable") == Some(&Json::Bool(true)) {
        return make_nullable(out);
    }
    Json::Object(out)
}

fn make_nullable(mut out: Map<String, Json>) -> Json {
    if let Some(values) = out.get_mut("enum").and_then(Json::as_array_mut)
        && !values.contains(&Json::Null)
    {
        values.push(Json::Null);
    }
    match out.get("type").cloned() {
        Some(Json::String(t)) => {
            out.insert("type".to_owned(), json!([t, "null"]));
            Json::Object(out)
        }
        Some(Json::Array(mut types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            out.insert("type".to_owned(), Json::Array(types));
            Json::Object(out)
        }
        _ => json!({ "anyOf": [Json::Object(out), { "type": "null" }] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> &'static Contract {
        (super::contract()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn by_id() -> &'static OperationContract {
        (contract().operation(&Method::GET, "/v1/byId")).expect("no byId")
    }

    #[test]
    fn every_documented_example_passes() {
        let spec = super::super::spec().expect("spec");
        for op in spec.operations() {
            let checked = contract()
                .operation(&op.method, &op.path)
                .unwrap_or_else(|| panic!("{}", op.operation_id));
            for response in &op.responses {
                for example in &response.examples {
                    let found = checked.check_response(
                        response.status.as_u16(),
                        Some("application/json; charset=utf-8"),
                        Body::Read(&example.body),
                    );
                    assert!(
                        found.iter().all(|v| v.severity == Severity::Warning),
                        "{} {} {}: {found:?}",
                        op.operation_id,
                        response.status,
                        example.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_missing_required_field_is_named_where_it_is_missing() {
        let found = by_id().check_response(
            200,
            Some("application/json"),
            Body::Read(br#"{"success":true,"conversion":{"task_id":"t","statuss":"COMPLETED"}}"#),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].location, ["response", "body", "conversion"]);
        assert_eq!(found[0].code, "required");
        assert!(found[0].message.contains("status"), "{}", found[0].message);
    }

    #[test]
    fn a_wrong_type_an_undocumented_status_bad_json_and_a_wrong_content_type() {
        let found = by_id().check_response(
            200,
            Some("application/json"),
            Body::Read(br#"{"success":"yes","conversion":{"task_id":"t","status":"IN_QUEUE"}}"#),
        );
        assert_eq!(
            (found[0].location.join("."), found[0].code.as_str()),
            ("response.body.success".to_owned(), "type")
        );
        let found = by_id().check_response(418, Some("application/json"), Body::Read(b"{}"));
        assert_eq!(found[0].location, ["response", "status"]);
        assert!(found[0].message.contains("418"));
        let found = by_id().check_response(200, Some("application/json"), Body::Read(b"{\"succ"));
        assert_eq!(found[0].code, "json");
        let found = by_id().check_response(200, Some("text/html"), Body::Read(b"<p>"));
        assert_eq!(found[0].location, ["response", "header", "content-type"]);
        let found =
            by_id().check_response(200, Some("application/json"), Body::TooLarge { limit: 10 });
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn a_mock_only_status_is_a_warning() {
        let found = by_id().check_response(
            401,
            Some("application/json"),
            Body::Read(br#"{"success":false,"error":"no key"}"#),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn queries_and_unknown_operations() {
        assert!(
            by_id()
                .check_query(Some("conversionType=COVER&task_id=x"))
                .is_empty()
        );
        let found = by_id().check_query(Some("task_id=x"));
        assert_eq!(found[0].location, ["request", "query"]);
        assert!(found[0].message.contains("conversionType"));
        let v = contract().unknown_operation(&Method::DELETE, "/v1/byId");
        assert!(v.message.contains("GET"), "{}", v.message);
        let v = contract().unknown_operation(&Method::GET, "/v1/nothing");
        assert!(v.message.contains("/v1/Cover"), "{}", v.message);
    }

    #[test]
    fn nullable_becomes_a_null_type() {
        assert_eq!(
            openapi_to_json_schema(&json!({"type": "string", "nullable": true, "x-a": 1})),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            openapi_to_json_schema(&json!({"$ref": "#/components/schemas/X", "nullable": true})),
            json!({"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]})
        );
    }
}
