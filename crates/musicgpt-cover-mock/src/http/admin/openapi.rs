//! `GET /__admin/openapi.json`: the admin API as an OpenAPI 3.0 document, made from the rows of
//! the route table (method, path, doc, the handler's name as operationId) and the schemas of the
//! types each handler reads and answers (schemars, in its OpenAPI 3.0 settings). The document's
//! contact and licence are the spec's.

use axum::http::{Method, StatusCode};
use schemars::JsonSchema;
use schemars::r#gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{MAX_BODY, Route};
use crate::domain::tasks::TaskView;
use crate::http::observe::ADMIN_TOKEN_HEADER;
use crate::spec::document as spec_document;

/// The one tag of every operation.
const TAG: &str = "admin";

/// An error answer of the admin API: the spec's `Error` shape, as `error_json` writes it.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AdminError {
    /// `false`.
    success: bool,
    /// What went wrong, and what to send instead.
    error: String,
}

/// The error answers an admin route may give, by status, each with its description.
fn errors() -> [(StatusCode, String); 6] {
    [
        (
            StatusCode::BAD_REQUEST,
            "The input cannot be taken: the error names the field and shows what to send.".into(),
        ),
        (
            StatusCode::UNAUTHORIZED,
            "The mock requires the admin token and the request does not carry it.".into(),
        ),
        (
            StatusCode::FORBIDDEN,
            "The request comes from a page on a website (an Origin that is not loopback).".into(),
        ),
        (
            StatusCode::NOT_FOUND,
            "Nothing has the id or key the path names.".into(),
        ),
        (StatusCode::CONFLICT, "The task is already final.".into()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The body is over {MAX_BODY} bytes: an admin call takes a small JSON object."),
        ),
    ]
}

/// A task as the admin API lists it: described by its doc, since its fields are declared in the
/// domain's `tasks`, which derives no schema.
impl JsonSchema for TaskView {
    fn schema_name() -> String {
        "TaskView".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::Object.into()),
            metadata: Some(Box::new(Metadata {
                description: Some(
                    "A task: its ids, status, voice, pitch, eta, estimate, source, key, outcome and times (docs/mock.md, Admin API).".to_owned(),
                ),
                ..Metadata::default()
            })),
            ..SchemaObject::default()
        }
        .into()
    }
}

/// The document, with `origin` (where this mock serves) as its server.
pub(super) fn document(routes: &[Route], origin: &str) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let error = schema_json(&mut generator, |g| g.subschema_for::<AdminError>());
    let mut paths = Map::new();
    let mut error_statuses = Vec::new();
    for route in routes {
        let path = format!("/__admin{}", route.path.trim_end_matches('/'));
        let (operation, errors) = operation(route, &mut generator);
        error_statuses.extend(errors);
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = operation;
    }
    let described = errors();
    error_statuses.sort();
    error_statuses.dedup();
    let responses: Map<String, Value> = (error_statuses.iter())
        .map(|status| {
            let description = (described.iter())
                .find(|(s, _)| s == status)
                .map_or(status.canonical_reason().unwrap_or("An error."), |(_, d)| d);
            let body = json!({
                "description": description,
                "content": {"application/json": {"schema": error}},
            });
            (response_name(*status), body)
        })
        .collect();
    let mut schemas = generator.take_definitions();
    for schema in schemas.values_mut() {
        visit(&mut generator, schema);
    }
    let mut schemas = serde_json::to_value(schemas).unwrap_or_default();
    let mut paths = Value::Object(paths);
    nullable_refs(&mut schemas);
    nullable_refs(&mut paths);
    let spec_info = spec_document().ok().map(|d| d.json()["info"].clone());
    let of_spec = |key: &str| spec_info.as_ref().map_or(Value::Null, |i| i[key].clone());
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "musicgpt-cover-mock admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Look at and steer a running musicgpt-cover-mock: its journal of requests (find, count, near misses), webhooks, tasks, credits, clock, faults and scenarios, reset. Made by the mock from its route table; not part of the MusicGPT API.",
            "contact": of_spec("contact"),
            "license": of_spec("license"),
        },
        "servers": [{"url": origin, "description": "this mock"}],
        "tags": [{"name": TAG, "description": "The mock's admin API, under /__admin."}],
        "security": [{}, {"adminBearer": []}, {"adminHeader": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {
                "adminBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The admin token, when the mock requires one (--admin-token, --allow-remote).",
                },
                "adminHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": ADMIN_TOKEN_HEADER,
                    "description": "The admin token in a header of its own.",
                },
            },
        },
    })
}

/// Rewrites schemars' `Option` of a referenced type (`{"allOf": [REF], "nullable": true}`) as
/// `{"oneOf": [REF, NULL]}`, NULL a schema that admits only `null`. OpenAPI 3.0 gives `nullable`
/// no meaning without a `type` (redocly refuses it), and generators that read it beside an
/// `allOf` (openapi-python-client 0.29) make a field that cannot decode a `null`.
fn nullable_refs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let single_ref = (object.get("allOf").and_then(Value::as_array))
                .is_some_and(|all| all.len() == 1 && all[0].get("$ref").is_some());
            if single_ref
                && object.get("nullable") == Some(&Value::Bool(true))
                && !object.contains_key("type")
                && let Some(Value::Array(mut members)) = object.remove("allOf")
            {
                object.remove("nullable");
                members.push(json!({"type": "object", "nullable": true, "enum": [null]}));
                object.insert("oneOf".to_owned(), Value::Array(members));
            }
            object.values_mut().for_each(nullable_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_refs),
        _ => {}
    }
}

/// `BadRequest` for 400, and so on: the name of the shared error response.
fn response_name(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("Error")
        .split_whitespace()
        .collect()
}

/// One route as an operation, and the error statuses it may answer.
fn operation(route: &Route, generator: &mut SchemaGenerator) -> (Value, Vec<StatusCode>) {
    let mut parameters: Vec<Value> = segments(route.path)
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": format!("The {name}, percent-encoded."),
                "schema": {"type": "string"},
            })
        })
        .collect();
    let mut errors = vec![StatusCode::BAD_REQUEST];
    if !parameters.is_empty() {
        errors.push(StatusCode::NOT_FOUND);
    }
    if route.method != Method::GET {
        errors.push(StatusCode::PAYLOAD_TOO_LARGE);
    }
    errors.extend([StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN]);
    errors.extend(&route.errors);
    errors.sort();

    let mut description = route.doc.to_owned();
    if let Some(usage) = &route.usage {
        description.push_str(&format!("; send {usage}"));
    }
    let mut operation = json!({
        "operationId": route.id,
        "summary": route.doc,
        "description": description,
        "tags": [TAG],
    });
    let input = schema_json(generator, route.input);
    let properties = input["properties"].as_object().cloned().unwrap_or_default();
    if !properties.is_empty() {
        if route.method == Method::GET {
            let required = input["required"].as_array().cloned().unwrap_or_default();
            parameters.extend(properties.into_iter().map(|(name, schema)| {
                let description = schema["description"].clone();
                json!({
                    "name": name,
                    "in": "query",
                    "required": required.contains(&Value::from(name.as_str())),
                    "description": description,
                    "schema": schema,
                })
            }));
        } else {
            operation["requestBody"] = json!({
                "required": route.body_only,
                "content": {"application/json": {"schema": schema_json(generator, route.input_ref)}},
            });
        }
    }
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    let mut responses = Map::new();
    responses.insert(
        route.status.as_u16().to_string(),
        json!({
            "description": route.doc,
            "content": {"application/json": {"schema": schema_json(generator, route.answer)}},
        }),
    );
    for status in &errors {
        let reference = format!("#/components/responses/{}", response_name(*status));
        responses.insert(status.as_u16().to_string(), json!({"$ref": reference}));
    }
    operation["responses"] = Value::Object(responses);
    (operation, errors)
}

/// The `{name}`s of a path.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// A schema made by `make`, with the OpenAPI settings' visitors applied, as JSON.
fn schema_json(
    generator: &mut SchemaGenerator,
    make: impl FnOnce(&mut SchemaGenerator) -> Schema,
) -> Value {
    let mut schema = make(generator);
    visit(generator, &mut schema);
    serde_json::to_value(schema).unwrap_or_default()
}

fn visit(generator: &mut SchemaGenerator, schema: &mut Schema) {
    for visitor in generator.visitors_mut() {
        visitor.visit_schema(schema);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_have_the_documented_shape() {
        let response = crate::http::respond::error_json(StatusCode::BAD_REQUEST, "why");
        let body = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1024));
        let body = body.unwrap_or_default();
        let error: Result<AdminError, _> = serde_json::from_slice(&body);
        assert!(
            error.is_ok_and(|e| !e.success && e.error == "why"),
            "{body:?}"
        );
    }

    #[test]
    fn operation_ids_are_the_handlers_names_and_unique() {
        let routes = super::super::routes();
        let mut ids: Vec<&str> = routes.iter().map(|r| r.id).collect();
        assert!(
            ids.contains(&"clear_journal") && ids.contains(&"find_requests"),
            "{ids:?}"
        );
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all);
    }
}
