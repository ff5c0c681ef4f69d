//! openapi.yaml, embedded at compile time and compiled once into validators and response templates.
//!
//! Nothing here runs per request: [`spec()`] parses the file the first time it is asked for and
//! keeps, for each operation the mock serves, the table of its form fields or query parameters
//! (name, type, bounds, required-ness), its documented statuses with every named example already
//! serialized to the exact bytes the mock sends for `Prefer: example=`, and the templates of its
//! live responses.

use std::sync::OnceLock;

use axum::http::{Method, StatusCode};
use bytes::Bytes;
use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, StringFormat,
    Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::form::{MULTIPART, URLENCODED};
use crate::template::{Kind, Template, json_string};

/// The text of openapi.yaml this crate was built with.
pub const OPENAPI_YAML: &str = include_str!("../../../openapi.yaml");

/// Returns the compiled spec, parsing it on first use.
pub(crate) fn spec() -> Result<&'static Spec, String> {
    static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
    SPEC.get_or_init(|| Spec::parse(OPENAPI_YAML))
        .as_ref()
        .map_err(Clone::clone)
}

/// The compiled spec.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) title: String,
    pub(crate) version: String,
    /// `/api/public`: the path of the spec's loopback server, under which the operations live.
    pub(crate) base_path: String,
    /// `http://127.0.0.1:4010`: where the spec says the local mock listens.
    pub(crate) default_origin: String,
    pub(crate) cover: Operation,
    pub(crate) by_id: Operation,
    pub(crate) all_voices: Operation,
    pub(crate) search_voices: Operation,
    /// 200 of `POST /v1/Cover`.
    pub(crate) cover_ok: Template,
    /// 200 of `GET /v1/byId`.
    pub(crate) conversion_ok: Template,
    /// 200 of the voice lists.
    pub(crate) voices_ok: Template,
    /// The `coverCompleted` callback's payload.
    pub(crate) webhook: Template,
    /// The form field the callback's URL expression names (`webhook_url`).
    pub(crate) webhook_field: String,
    /// The shared `Error` schema, for errors the spec has no status for (an unknown route).
    pub(crate) error: Template,
    /// `status_msg` and `message` per conversion status, from the byId examples.
    pub(crate) status_texts: Vec<StatusText>,
    /// The voices of the voice list's example, which open the mock's catalogue.
    pub(crate) example_voices: Vec<(String, String)>,
}

/// Texts the byId examples show for one status.
#[derive(Debug, Clone)]
pub(crate) struct StatusText {
    pub(crate) status: String,
    pub(crate) status_msg: Option<String>,
    pub(crate) message: Option<String>,
}

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

/// What a form field or query parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Text,
    Integer,
    /// A file upload (`format: binary`).
    Binary,
}

/// The checks of one form field or query parameter.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) kind: ValueKind,
    pub(crate) required: bool,
    pub(crate) min_length: usize,
    pub(crate) max_length: Option<usize>,
    pub(crate) minimum: Option<i64>,
    pub(crate) maximum: Option<i64>,
    pub(crate) default: Option<i64>,
    pub(crate) uuid: bool,
}

/// A checked value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Checked<'a> {
    Text(&'a str),
    Integer(i64),
}

impl Rule {
    /// Checks a text value against this rule; the error says exactly what was wrong.
    pub(crate) fn check<'a>(&self, raw: &'a str) -> Result<Checked<'a>, String> {
        match self.kind {
            ValueKind::Integer => match raw.parse::<i64>() {
                Ok(n)
                    if self.minimum.is_none_or(|m| n >= m)
                        && self.maximum.is_none_or(|m| n <= m) =>
                {
                    Ok(Checked::Integer(n))
                }
                _ => Err(format!(
                    "{} must be {}, got {}",
                    self.name,
                    self.integer_range(),
                    quoted(raw)
                )),
            },
            ValueKind::Text | ValueKind::Binary => {
                // Counting characters only when a bound needs it: bytes are at least as many.
                let len = if self.min_length <= 1 && self.max_length.is_none() {
                    raw.len()
                } else {
                    raw.chars().count()
                };
                if len < self.min_length {
                    return Err(if self.min_length == 1 {
                        format!("{} must not be empty", self.name)
                    } else {
                        format!(
                            "{} must be at least {} characters long, got {}",
                            self.name,
                            self.min_length,
                            quoted(raw)
                        )
                    });
                }
                if let Some(max) = self.max_length
                    && len > max
                {
                    return Err(format!(
                        "{} must be at most {max} characters long",
                        self.name
                    ));
                }
                if self.uuid && uuid::Uuid::try_parse(raw).is_err() {
                    return Err(format!("{} must be a UUID, got {}", self.name, quoted(raw)));
                }
                Ok(Checked::Text(raw))
            }
        }
    }

    fn integer_range(&self) -> String {
        match (self.minimum, self.maximum) {
            (Some(lo), Some(hi)) => format!("an integer between {lo} and {hi}"),
            (Some(lo), None) => format!("an integer of at least {lo}"),
            (None, Some(hi)) => format!("an integer of at most {hi}"),
            (None, None) => "an integer".to_owned(),
        }
    }
}

/// A value quoted for an error message, cut short when long.
pub(crate) fn quoted(raw: &str) -> String {
    const MAX: usize = 64;
    if raw.chars().count() <= MAX {
        format!("{raw:?}")
    } else {
        let head: String = raw.chars().take(MAX).collect();
        format!("{head:?}… ({} bytes)", raw.len())
    }
}

/// The form (multipart or url-encoded) of an operation.
#[derive(Debug)]
pub(crate) struct FormSpec {
    pub(crate) fields: Vec<Rule>,
    /// The schema's `anyOf`: the form is acceptable when all needs of one alternative are met.
    pub(crate) alternatives: Vec<Vec<Need>>,
}

impl FormSpec {
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// One requirement of an `anyOf` alternative: the field is given, at least this long.
#[derive(Debug, Clone)]
pub(crate) struct Need {
    pub(crate) field: usize,
    pub(crate) min_length: usize,
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

impl Spec {
    pub(crate) fn operations(&self) -> [&Operation; 4] {
        [
            &self.cover,
            &self.by_id,
            &self.all_voices,
            &self.search_voices,
        ]
    }

    pub(crate) fn status_text(&self, status: &str) -> Option<&StatusText> {
        self.status_texts.iter().find(|t| t.status == status)
    }

    pub(crate) fn parse(text: &str) -> Result<Spec, String> {
        let raw: Yaml =
            serde_norway::from_str(text).map_err(|e| format!("openapi.yaml is not YAML: {e}"))?;
        let api: OpenAPI = serde_norway::from_value(raw.clone())
            .map_err(|e| format!("openapi.yaml is not OpenAPI 3.0: {e}"))?;
        let ctx = Ctx {
            api: &api,
            raw: &raw,
        };

        let (default_origin, base_path) = api
            .servers
            .iter()
            .find_map(|s| loopback_server(&s.url))
            .ok_or("openapi.yaml lists no http://127.0.0.1 server for the mock")?;

        let cover = ctx.operation("cover")?;
        let by_id = ctx.operation("getConversionById")?;
        let all_voices = ctx.operation("getAllVoices")?;
        let search_voices = ctx.operation("searchVoices")?;

        let cover_ok = ctx.ok_template(&cover)?;
        let conversion_ok = ctx.ok_template(&by_id)?;
        let voices_ok = ctx.ok_template(&all_voices)?;

        let (webhook, webhook_field) = ctx.webhook(&cover)?;
        let error = {
            let schema = ctx.named_schema("Error")?;
            ctx.template(schema, &[])?
        };

        let status_texts = ctx
            .ok_examples(&by_id)?
            .iter()
            .filter_map(|e| {
                let c = e.get("conversion")?;
                Some(StatusText {
                    status: c.get("status")?.as_str()?.to_owned(),
                    status_msg: c
                        .get("status_msg")
                        .and_then(Json::as_str)
                        .map(str::to_owned),
                    message: c.get("message").and_then(Json::as_str).map(str::to_owned),
                })
            })
            .collect();
        let example_voices = ctx
            .ok_examples(&all_voices)?
            .iter()
            .filter_map(|e| e.get("voices")?.as_array().cloned())
            .flatten()
            .filter_map(|v| {
                Some((
                    v.get("voice_id")?.as_str()?.to_owned(),
                    v.get("voice_name")?.as_str()?.to_owned(),
                ))
            })
            .collect();
        let known_statuses: Vec<String> = ctx
            .named_schema("ConversionStatus")?
            .schema_data
            .extensions
            .get("x-known-values")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();

        for status in crate::lifecycle::ALL_STATUSES {
            if !known_statuses.is_empty() && !known_statuses.iter().any(|k| k == status) {
                return Err(format!("ConversionStatus x-known-values lacks {status}"));
            }
        }

        Ok(Spec {
            title: api.info.title.clone(),
            version: api.info.version.clone(),
            base_path,
            default_origin,
            webhook,
            webhook_field,
            cover_ok,
            conversion_ok,
            voices_ok,
            error,
            status_texts,
            example_voices,
            cover,
            by_id,
            all_voices,
            search_voices,
        })
    }
}

/// `http://127.0.0.1:4010/api/public` → (`http://127.0.0.1:4010`, `/api/public`).
fn loopback_server(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host != "127.0.0.1" && host != "localhost" {
        return None;
    }
    let path = format!("/{}", path.trim_end_matches('/'));
    let path = if path == "/" { String::new() } else { path };
    Some((format!("http://{authority}"), path))
}

struct Ctx<'a> {
    api: &'a OpenAPI,
    raw: &'a Yaml,
}

type Found<'a> = (&'a str, Method, &'a openapiv3::Operation);

impl<'a> Ctx<'a> {
    fn find(&self, operation_id: &str) -> Result<Found<'a>, String> {
        for (path, item) in &self.api.paths.paths {
            let ReferenceOr::Item(item) = item else {
                continue;
            };
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ] {
                if let Some(op) = op
                    && op.operation_id.as_deref() == Some(operation_id)
                {
                    return Ok((path.as_str(), method, op));
                }
            }
        }
        Err(format!("openapi.yaml has no operation `{operation_id}`"))
    }

    fn operation(&self, operation_id: &str) -> Result<Operation, String> {
        let (path, method, op) = self.find(operation_id)?;
        let raw_op = self
            .raw
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|p| p.get(method.as_str().to_ascii_lowercase()))
            .ok_or_else(|| format!("{operation_id}: not found in the YAML tree"))?;

        let mut responses = Vec::new();
        if let Some(map) = raw_op.get("responses").and_then(Yaml::as_mapping) {
            for (code, response) in map {
                let code = match code {
                    Yaml::String(s) => s.parse::<u16>().ok(),
                    Yaml::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                    _ => None,
                };
                let Some(status) = code.and_then(|c| StatusCode::from_u16(c).ok()) else {
                    continue;
                };
                let response = self.deref(response);
                let media = response
                    .get("content")
                    .and_then(|c| c.get("application/json"))
                    .map(|m| self.deref(m));
                let raw_examples = media.map(|m| self.raw_examples(m)).unwrap_or_default();
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
        for p in &op.parameters {
            let p = self.parameter(p)?;
            if let Parameter::Query { parameter_data, .. } = p {
                let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
                    return Err(format!("{operation_id}: parameter without a schema"));
                };
                let schema = self.schema(schema)?;
                query.push(self.rule(&parameter_data.name, schema, parameter_data.required)?);
            }
        }

        let form = match &op.request_body {
            None => None,
            Some(body) => {
                let body = match body {
                    ReferenceOr::Item(b) => b,
                    ReferenceOr::Reference { reference } => {
                        return Err(format!(
                            "{operation_id}: request body {reference} not inlined"
                        ));
                    }
                };
                let mut forms = [MULTIPART, URLENCODED].map(|media_type| {
                    body.content.get(media_type).map(|media| {
                        let schema = media.schema.as_ref().ok_or_else(|| {
                            format!("{operation_id}: {media_type} form without a schema")
                        })?;
                        self.form(self.schema(schema)?)
                    })
                });
                let urlencoded = forms[1].take().transpose()?;
                match forms[0].take().transpose()? {
                    Some(form) => Some((form, urlencoded)),
                    None if urlencoded.is_some() => {
                        return Err(format!(
                            "{operation_id}: a url-encoded form without a multipart one"
                        ));
                    }
                    None => None,
                }
            }
        };
        let (form, urlencoded) = form.unzip();
        let urlencoded = urlencoded.flatten();

        let invalid_status = if responses.iter().any(|r| r.status.as_u16() == 422) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        Ok(Operation {
            operation_id: operation_id.to_owned(),
            summary: op.summary.clone().unwrap_or_default(),
            method,
            path: path.to_owned(),
            responses,
            query,
            form,
            urlencoded,
            invalid_status,
        })
    }

    /// The 200 examples of an operation, as JSON values.
    fn ok_examples(&self, op: &Operation) -> Result<Vec<Json>, String> {
        let doc = op
            .response(StatusCode::OK)
            .ok_or_else(|| format!("{}: no 200 response", op.operation_id))?;
        doc.examples
            .iter()
            .map(|e| serde_json::from_slice(&e.body).map_err(|e| e.to_string()))
            .collect()
    }

    /// The live-response template of an operation's 200.
    fn ok_template(&self, op: &Operation) -> Result<Template, String> {
        let (_, _, found) = self.find(&op.operation_id)?;
        let response = found
            .responses
            .responses
            .get(&openapiv3::StatusCode::Code(200))
            .ok_or_else(|| format!("{}: no 200 response", op.operation_id))?;
        let response = match response {
            ReferenceOr::Item(r) => r,
            ReferenceOr::Reference { reference } => {
                let name = reference.rsplit('/').next().unwrap_or_default();
                match self
                    .api
                    .components
                    .as_ref()
                    .and_then(|c| c.responses.get(name))
                {
                    Some(ReferenceOr::Item(r)) => r,
                    _ => return Err(format!("{}: cannot resolve {reference}", op.operation_id)),
                }
            }
        };
        let schema = response
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
            .ok_or_else(|| format!("{}: 200 has no JSON schema", op.operation_id))?;
        let examples = self.ok_examples(op)?;
        self.template(self.schema(schema)?, &examples.iter().collect::<Vec<_>>())
    }

    /// The callback's payload template and the form field its URL expression names.
    fn webhook(&self, cover: &Operation) -> Result<(Template, String), String> {
        let (_, _, op) = self.find(&cover.operation_id)?;
        let (expression, item) = op
            .callbacks
            .values()
            .flat_map(|cb| cb.iter())
            .next()
            .ok_or("cover: no callback")?;
        // `{$request.body#/webhook_url}`
        let field = expression
            .trim_matches(|c| c == '{' || c == '}')
            .strip_prefix("$request.body#/")
            .ok_or_else(|| format!("cover: callback expression {expression} is not $request.body"))?
            .to_owned();
        let body = match item.post.as_ref().and_then(|p| p.request_body.as_ref()) {
            Some(ReferenceOr::Item(b)) => b,
            _ => return Err("cover: callback has no inline POST body".to_owned()),
        };
        let media = body
            .content
            .get("application/json")
            .ok_or("cover: callback is not JSON")?;
        let schema = media
            .schema
            .as_ref()
            .ok_or("cover: callback has no schema")?;
        let examples: Vec<&Json> = media
            .examples
            .values()
            .filter_map(|e| match e {
                ReferenceOr::Item(e) => e.value.as_ref(),
                ReferenceOr::Reference { .. } => None,
            })
            .collect();
        Ok((self.template(self.schema(schema)?, &examples)?, field))
    }

    /// Builds the template of an object schema; property values the mock does not fill come from
    /// the first example that has them, else from the schema's own example or default.
    fn template(&self, schema: &Schema, examples: &[&Json]) -> Result<Template, String> {
        let shape = self.shape(schema)?;
        let mut template = Template::default();
        for (name, prop) in shape.properties {
            let prop = self.boxed_schema(prop)?;
            let values: Vec<&Json> = examples.iter().filter_map(|e| e.get(name)).collect();
            let literal_value = values
                .first()
                .copied()
                .or(prop.schema_data.example.as_ref())
                .or(prop.schema_data.default.as_ref());
            let literal = literal_value.and_then(|v| serde_json::to_vec(v).ok());
            let prop_shape = self.shape(prop)?;
            let kind = match literal_value {
                Some(Json::String(_)) => Kind::String,
                Some(Json::Number(n)) if n.is_i64() || n.is_u64() => match prop_shape.kind {
                    Kind::Number => Kind::Number,
                    _ => Kind::Integer,
                },
                Some(Json::Number(_)) => Kind::Number,
                Some(Json::Bool(_)) => Kind::Boolean,
                _ => prop_shape.kind,
            };
            let nested = match prop_shape.kind {
                Kind::Object if !prop_shape.properties.is_empty() => {
                    Some(self.template(prop, &values)?)
                }
                Kind::Array => match prop_shape.items {
                    Some(items) => {
                        let items = self.boxed_schema(items)?;
                        let firsts: Vec<&Json> = values
                            .iter()
                            .filter_map(|v| v.as_array().and_then(|a| a.first()))
                            .collect();
                        Some(self.template(items, &firsts)?)
                    }
                    None => None,
                },
                _ => None,
            };
            template.push(name, kind, literal, nested);
        }
        Ok(template)
    }

    fn form(&self, schema: &Schema) -> Result<FormSpec, String> {
        let shape = self.shape(schema)?;
        let mut fields = Vec::new();
        for (name, prop) in shape.properties {
            let prop = self.boxed_schema(prop)?;
            fields.push(self.rule(name, prop, shape.required.iter().any(|r| r == name))?);
        }
        let mut alternatives = Vec::new();
        for alt in shape.any_of {
            let alt = self.schema(alt)?;
            let alt_shape = self.shape(alt)?;
            let mut needs = Vec::new();
            for name in alt_shape.required {
                let field = fields
                    .iter()
                    .position(|f| &f.name == name)
                    .ok_or_else(|| format!("form anyOf requires unknown field {name}"))?;
                let min_length = match alt_shape.properties.iter().find(|(n, _)| *n == name) {
                    Some((_, p)) => self.shape(self.boxed_schema(p)?)?.min_length,
                    None => 0,
                };
                needs.push(Need { field, min_length });
            }
            alternatives.push(needs);
        }
        Ok(FormSpec {
            fields,
            alternatives,
        })
    }

    fn rule(&self, name: &str, schema: &Schema, required: bool) -> Result<Rule, String> {
        let shape = self.shape(schema)?;
        let kind = match (shape.kind, shape.binary) {
            (Kind::Integer, _) => ValueKind::Integer,
            (Kind::String, true) => ValueKind::Binary,
            (Kind::String, false) => ValueKind::Text,
            (other, _) => return Err(format!("field {name}: unsupported type {other:?}")),
        };
        Ok(Rule {
            name: name.to_owned(),
            kind,
            required,
            min_length: shape.min_length,
            max_length: shape.max_length,
            minimum: shape.minimum,
            maximum: shape.maximum,
            default: schema.schema_data.default.as_ref().and_then(Json::as_i64),
            uuid: shape.uuid,
        })
    }

    fn parameter(&self, p: &'a ReferenceOr<Parameter>) -> Result<&'a Parameter, String> {
        match p {
            ReferenceOr::Item(p) => Ok(p),
            ReferenceOr::Reference { reference } => {
                let name = reference.rsplit('/').next().unwrap_or_default();
                match self
                    .api
                    .components
                    .as_ref()
                    .and_then(|c| c.parameters.get(name))
                {
                    Some(ReferenceOr::Item(p)) => Ok(p),
                    _ => Err(format!("cannot resolve {reference}")),
                }
            }
        }
    }

    fn named_schema(&self, name: &str) -> Result<&'a Schema, String> {
        match self
            .api
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(name))
        {
            Some(ReferenceOr::Item(s)) => Ok(s),
            Some(ReferenceOr::Reference { reference }) => self.reference(reference),
            None => Err(format!("openapi.yaml has no schema {name}")),
        }
    }

    fn reference(&self, reference: &str) -> Result<&'a Schema, String> {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| format!("unsupported $ref {reference}"))?;
        self.named_schema(name)
    }

    fn schema(&self, s: &'a ReferenceOr<Schema>) -> Result<&'a Schema, String> {
        match s {
            ReferenceOr::Item(s) => Ok(s),
            ReferenceOr::Reference { reference } => self.reference(reference),
        }
    }

    fn boxed_schema(&self, s: &'a ReferenceOr<Box<Schema>>) -> Result<&'a Schema, String> {
        match s {
            ReferenceOr::Item(s) => Ok(s),
            ReferenceOr::Reference { reference } => self.reference(reference),
        }
    }

    /// The facts of a schema the mock uses, whichever way openapiv3 represents it.
    fn shape(&self, schema: &'a Schema) -> Result<Shape<'a>, String> {
        let mut shape = Shape::default();
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                shape.kind = Kind::String;
                shape.min_length = s.min_length.unwrap_or(0);
                shape.max_length = s.max_length;
                match &s.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::Binary) => shape.binary = true,
                    VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => shape.uuid = true,
                    _ => {}
                }
            }
            SchemaKind::Type(Type::Integer(i)) => {
                shape.kind = Kind::Integer;
                shape.minimum = i
                    .minimum
                    .map(|m| if i.exclusive_minimum { m + 1 } else { m });
                shape.maximum = i
                    .maximum
                    .map(|m| if i.exclusive_maximum { m - 1 } else { m });
            }
            SchemaKind::Type(Type::Number(_)) => shape.kind = Kind::Number,
            SchemaKind::Type(Type::Boolean(_)) => shape.kind = Kind::Boolean,
            SchemaKind::Type(Type::Array(a)) => {
                shape.kind = Kind::Array;
                shape.items = a.items.as_ref();
            }
            SchemaKind::Type(Type::Object(o)) => {
                shape.kind = Kind::Object;
                shape.properties = o.properties.iter().map(|(k, v)| (k.as_str(), v)).collect();
                shape.required = &o.required;
            }
            SchemaKind::Any(a) => {
                shape.kind = match a.typ.as_deref() {
                    Some("object") => Kind::Object,
                    Some("string") => Kind::String,
                    Some("integer") => Kind::Integer,
                    Some("number") => Kind::Number,
                    Some("boolean") => Kind::Boolean,
                    Some("array") => Kind::Array,
                    _ if !a.properties.is_empty() => Kind::Object,
                    _ => Kind::Any,
                };
                shape.properties = a.properties.iter().map(|(k, v)| (k.as_str(), v)).collect();
                shape.required = &a.required;
                shape.any_of = &a.any_of;
                shape.min_length = a.min_length.unwrap_or(0);
                shape.max_length = a.max_length;
                shape.minimum = a.minimum.map(|m| m.ceil() as i64);
                shape.maximum = a.maximum.map(|m| m.floor() as i64);
                shape.items = a.items.as_ref();
                shape.binary = a.format.as_deref() == Some("binary");
                shape.uuid = a.format.as_deref() == Some("uuid");
            }
            SchemaKind::AnyOf { any_of } => {
                shape.kind = Kind::Any;
                shape.any_of = any_of;
            }
            SchemaKind::OneOf { .. } | SchemaKind::AllOf { .. } | SchemaKind::Not { .. } => {
                shape.kind = Kind::Any;
            }
        }
        Ok(shape)
    }

    /// Follows a `$ref` of the YAML tree (`#/components/...`).
    fn deref<'v>(&self, v: &'v Yaml) -> &'v Yaml
    where
        'a: 'v,
    {
        let mut v = v;
        for _ in 0..8 {
            let Some(reference) = v.get("$ref").and_then(Yaml::as_str) else {
                return v;
            };
            let Some(pointer) = reference.strip_prefix("#/") else {
                return v;
            };
            let mut target = self.raw;
            for part in pointer.split('/') {
                let part = part.replace("~1", "/").replace("~0", "~");
                match target.get(part.as_str()) {
                    Some(t) => target = t,
                    None => return v,
                }
            }
            v = target;
        }
        v
    }

    /// The named examples of a media type object of the YAML tree, in order.
    fn raw_examples<'v>(&self, media: &'v Yaml) -> Vec<(String, &'v Yaml)>
    where
        'a: 'v,
    {
        let mut out = Vec::new();
        if let Some(map) = media.get("examples").and_then(Yaml::as_mapping) {
            for (name, example) in map {
                let (Some(name), Some(value)) = (name.as_str(), self.deref(example).get("value"))
                else {
                    continue;
                };
                out.push((name.to_owned(), value));
            }
        } else if let Some(value) = media.get("example") {
            out.push(("example".to_owned(), value));
        }
        out
    }
}

#[derive(Default)]
struct Shape<'a> {
    kind: Kind,
    properties: Vec<(&'a str, &'a ReferenceOr<Box<Schema>>)>,
    required: &'a [String],
    any_of: &'a [ReferenceOr<Schema>],
    items: Option<&'a ReferenceOr<Box<Schema>>>,
    min_length: usize,
    max_length: Option<usize>,
    minimum: Option<i64>,
    maximum: Option<i64>,
    binary: bool,
    uuid: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> &'static Spec {
        match super::spec() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn finds_the_mock_server_and_operations() {
        let s = spec();
        assert_eq!(s.default_origin, "http://127.0.0.1:4010");
        assert_eq!(s.base_path, "/api/public");
        assert_eq!(s.cover.path, "/v1/Cover");
        assert_eq!(s.cover.method, Method::POST);
        assert_eq!(s.cover.invalid_status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(s.by_id.invalid_status, StatusCode::BAD_REQUEST);
        assert_eq!(s.webhook_field, "webhook_url");
    }

    #[test]
    fn compiles_the_cover_form() {
        let form = spec()
            .cover
            .form
            .as_ref()
            .map(|f| (f.fields.clone(), f.alternatives.clone()));
        let Some((fields, alternatives)) = form else {
            panic!("no form")
        };
        let pitch = fields.iter().find(|f| f.name == "pitch").cloned();
        let Some(pitch) = pitch else {
            panic!("no pitch")
        };
        assert_eq!(
            (pitch.kind, pitch.minimum, pitch.maximum),
            (ValueKind::Integer, Some(-12), Some(12))
        );
        assert_eq!(
            pitch.check("13"),
            Err("pitch must be an integer between -12 and 12, got \"13\"".to_owned())
        );
        assert_eq!(pitch.check("-12"), Ok(Checked::Integer(-12)));
        let voice = fields.iter().find(|f| f.name == "voice_id").cloned();
        assert!(voice.is_some_and(|v| v.required && v.min_length == 1));
        assert!(
            fields
                .iter()
                .any(|f| f.name == "audio_file" && f.kind == ValueKind::Binary)
        );
        assert_eq!(alternatives.len(), 2);
        assert!(
            alternatives
                .iter()
                .flatten()
                .any(|n| fields[n.field].name == "audio_url" && n.min_length == 1)
        );
    }

    #[test]
    fn examples_keep_the_spec_key_order() {
        let full = spec()
            .cover
            .response(StatusCode::OK)
            .and_then(|r| r.examples.iter().find(|e| e.name == "full"))
            .map(|e| String::from_utf8_lossy(&e.body).into_owned());
        assert_eq!(
            full.as_deref(),
            Some(
                r#"{"success":true,"task_id":"3d137437-4911-4669-b639-9e5701107c25","conversion_id":"b764b4f6-a842-42dd-a55b-818eb8251dc7","eta":71,"credit_estimate":1.27,"message":"Message published to queue","status":"IN_QUEUE"}"#
            )
        );
    }

    #[test]
    fn error_bodies_carry_the_detail() {
        let s = spec();
        let body = s
            .by_id
            .error_body(StatusCode::BAD_REQUEST, Some("task_id is required"));
        assert_eq!(
            body.as_deref(),
            Some(&br#"{"success":false,"message":"Invalid request parameters","error":"task_id is required"}"#[..])
        );
        let body = s.cover.error_body(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("voice_id is required"),
        );
        assert_eq!(
            body.as_deref(),
            Some(&br#"{"success":false,"error":"voice_id is required"}"#[..])
        );
    }

    #[test]
    fn status_texts_and_voices_come_from_the_examples() {
        let s = spec();
        assert!(
            s.status_text("COMPLETED")
                .is_some_and(|t| t.message.is_some())
        );
        assert!(s.example_voices.iter().any(|(_, n)| n == "Joji"));
        // Parsing checked that x-known-values lists every status the mock shows.
        assert!(OPENAPI_YAML.contains("x-known-values"));
    }
}
