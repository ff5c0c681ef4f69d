//! The spec's operations: method, path, documented statuses with their examples (serialized
//! once, to the bytes `Prefer: example=` replays), query parameter rules and request forms.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::forms::{FormSpec, MULTIPART, Rule, URLENCODED, form, rule};
use super::json::json_string;
use super::reader::{find, named_examples, read};

/// One operation of the spec.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) operation_id: String,
    pub(crate) summary: String,
    pub(crate) method: Method,
    /// The spec's path, such as `/v1/Cover`.
    pub(crate) path: String,
    /// Documented responses, in the spec's order.
    pub(crate) responses: Vec<DocResponse>,
    pub(crate) query: Vec<Rule>,
    /// The `multipart/form-data` body's form.
    pub(crate) form: Option<FormSpec>,
    /// The `application/x-www-form-urlencoded` body's form, where the spec documents one beside
    /// the multipart form (the Cover call, for URL-only requests).
    pub(crate) urlencoded: Option<FormSpec>,
    /// The status this operation answers a request it cannot accept with: 422 where the spec
    /// documents it (the Cover form), else 400.
    pub(crate) invalid_status: StatusCode,
}

/// A documented status of an operation with its named examples.
#[derive(Debug)]
pub(crate) struct DocResponse {
    pub(crate) status: StatusCode,
    pub(crate) examples: Vec<Example>,
    /// The first example's properties, for error bodies that carry a specific text.
    error_entries: Vec<(String, Vec<u8>)>,
}

/// A named example, serialized once.
#[derive(Debug)]
pub(crate) struct Example {
    pub(crate) name: String,
    /// The example as compact JSON, keys in the spec's order.
    pub(crate) body: Bytes,
}

impl Operation {
    pub(crate) fn response(&self, status: StatusCode) -> Option<&DocResponse> {
        self.responses.iter().find(|r| r.status == status)
    }

    /// The documented body for `status`: its first example, with `detail` as the error text when
    /// given (in `error`, which the spec's `Error` schema carries beside `message`).
    pub(crate) fn error_body(&self, status: StatusCode, detail: Option<&str>) -> Option<Bytes> {
        let doc = self.response(status)?;
        match detail {
            None => doc.examples.first().map(|e| e.body.clone()),
            Some(detail) => {
                if doc.error_entries.is_empty() {
                    return None;
                }
                let mut out = Vec::with_capacity(128);
                out.push(b'{');
                let mut replaced = false;
                for (i, (key, value)) in doc.error_entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&json_string(key));
                    out.push(b':');
                    if key == "error" {
                        out.extend_from_slice(&json_string(detail));
                        replaced = true;
                    } else {
                        out.extend_from_slice(value);
                    }
                }
                if !replaced {
                    out.extend_from_slice(b",\"error\":");
                    out.extend_from_slice(&json_string(detail));
                }
                out.push(b'}');
                Some(Bytes::from(out))
            }
        }
    }
}

/// A parameter of an operation: the keywords the mock reads.
#[derive(Deserialize)]
struct Parameter {
    name: String,
    #[serde(rename = "in")]
    location: Location,
    #[serde(default)]
    required: bool,
    schema: Option<Yaml>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Location {
    Query,
    Header,
    Path,
    Cookie,
}

/// The operation `operation_id` of the (inlined) document.
pub(super) fn operation(root: &Yaml, operation_id: &str) -> Result<Operation, String> {
    let (path, method, op) = find(root, operation_id)?;

    let mut responses = Vec::new();
    if let Some(map) = op.get("responses").and_then(Yaml::as_mapping) {
        for (code, response) in map {
            let code = match code {
                Yaml::String(s) => s.parse::<u16>().ok(),
                Yaml::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                _ => None,
            };
            let Some(status) = code.and_then(|c| StatusCode::from_u16(c).ok()) else {
                continue;
            };
            let media = response
                .get("content")
                .and_then(|c| c.get("application/json"));
            let raw_examples = media.map(named_examples).unwrap_or_default();
            let mut examples = Vec::new();
            for (name, value) in &raw_examples {
                let body = serde_json::to_vec(value)
                    .map_err(|e| format!("{operation_id} {status} example {name}: {e}"))?;
                examples.push(Example {
                    name: name.clone(),
                    body: Bytes::from(body),
                });
            }
            let error_entries = match raw_examples.first().and_then(|(_, v)| v.as_mapping()) {
                Some(map) if status.as_u16() >= 400 => map
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((k.as_str()?.to_owned(), serde_json::to_vec(v).ok()?))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            responses.push(DocResponse {
                status,
                examples,
                error_entries,
            });
        }
    }

    let mut query = Vec::new();
    let parameters = op.get("parameters").and_then(Yaml::as_sequence);
    for p in parameters.into_iter().flatten() {
        let p: Parameter = read(p)?;
        if p.location == Location::Query {
            let schema = p
                .schema
                .ok_or_else(|| format!("{operation_id}: parameter without a schema"))?;
            query.push(rule(&p.name, &schema, p.required)?);
        }
    }

    let content = op.get("requestBody").and_then(|b| b.get("content"));
    let form_of = |media_type: &str| {
        let media = content.and_then(|c| c.get(media_type));
        media
            .map(|media| {
                let schema = media
                    .get("schema")
                    .ok_or_else(|| format!("{operation_id}: {media_type} form without a schema"))?;
                form(schema)
            })
            .transpose()
    };
    let urlencoded = form_of(URLENCODED)?;
    let form = form_of(MULTIPART)?;
    if form.is_none() && urlencoded.is_some() {
        return Err(format!(
            "{operation_id}: a url-encoded form without a multipart one"
        ));
    }

    let invalid_status = if responses.iter().any(|r| r.status.as_u16() == 422) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Operation {
        operation_id: operation_id.to_owned(),
        summary: op
            .get("summary")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_owned(),
        method,
        path: path.to_owned(),
        responses,
        query,
        form,
        urlencoded,
        invalid_status,
    })
}

impl Operation {
    /// Where the query parameter `name` is among [`Operation::query`] (and among the slots
    /// `parse_query` gives).
    pub(crate) fn query_index(&self, name: &str) -> Option<usize> {
        self.query.iter().position(|r| r.name == name)
    }

    /// The 200 examples of the operation, as JSON values.
    pub(super) fn ok_examples(&self) -> Result<Vec<Json>, String> {
        let doc = self
            .response(StatusCode::OK)
            .ok_or_else(|| format!("{}: no 200 response", self.operation_id))?;
        doc.examples
            .iter()
            .map(|e| serde_json::from_slice(&e.body).map_err(|e| e.to_string()))
            .collect()
    }
}
