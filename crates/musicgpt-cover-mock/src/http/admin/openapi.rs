//! `GET /__admin/openapi.json`: the admin API as an OpenAPI 3.0 document, made from the rows of
//! the route table (method, path, doc, the handler's name as operationId) and the schemas of the
//! types each handler reads and answers (schemars, in its OpenAPI 3.0 settings). The document's
//! contact and licence are the spec's.

use axum::http::{Method, StatusCode};
use schemars::JsonSchema;
use schemars::r#gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::Schema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ADMIN_PATH, MAX_BODY, Route};
use crate::domain::credits::MAX_KEY_BYTES;
#[cfg(doc)]
use crate::domain::credits::check_key;
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

/// The document, with `origin` (where this mock serves) as its server.
pub(super) fn document(routes: &[Route], origin: &str) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let error = schema_json(&mut generator, |g| g.subschema_for::<AdminError>());
    let mut paths = Map::new();
    let mut error_statuses = Vec::new();
    for route in routes {
        let path = route.full_path();
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
    shaped(&mut schemas);
    shaped(&mut paths);
    if let Value::Object(schemas) = &mut schemas {
        schemas
            .iter_mut()
            .for_each(|(name, schema)| titled(name, schema));
    }
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
        "tags": [{"name": TAG, "description": format!("The mock's admin API, under {ADMIN_PATH}.")}],
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

/// Bounds and shapes schemars leaves out, for validators and generators: an unsigned integer's
/// greatest value (from its `format`), and a `oneOf` of single-value string enums (a Rust enum of
/// unit variants with docs) made one enum, each value's doc in the description, so that a
/// generator makes one enumeration rather than a type per value.
fn shaped(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let greatest = match object.get("format").and_then(Value::as_str) {
                Some("uint8") => Some(u64::from(u8::MAX)),
                Some("uint16") => Some(u64::from(u16::MAX)),
                Some("uint32") => Some(u64::from(u32::MAX)),
                Some("uint64") => Some(u64::MAX),
                Some("uint") => u64::try_from(usize::MAX).ok(),
                _ => None,
            };
            if let Some(greatest) = greatest {
                object.entry("maximum").or_insert(Value::from(greatest));
            }
            let units: Option<Vec<(Value, Option<Value>)>> = (object.get("oneOf"))
                .and_then(Value::as_array)
                .and_then(|members| {
                    (members.iter())
                        .map(
                            |member| match member["enum"].as_array().map(Vec::as_slice) {
                                Some([value @ Value::String(_)]) if member["type"] == "string" => {
                                    Some((value.clone(), member.get("description").cloned()))
                                }
                                _ => None,
                            },
                        )
                        .collect()
                });
            if let Some(units) = units {
                object.remove("oneOf");
                let mut description = (object.get("description").and_then(Value::as_str))
                    .unwrap_or_default()
                    .to_owned();
                for (value, doc) in &units {
                    if let (Some(value), Some(doc)) =
                        (value.as_str(), doc.as_ref().and_then(Value::as_str))
                    {
                        description.push_str(&format!("\n\n- `{value}`: {doc}"));
                    }
                }
                object.insert("type".to_owned(), json!("string"));
                object.insert(
                    "enum".to_owned(),
                    units.into_iter().map(|(value, _)| value).collect(),
                );
                object.insert(
                    "description".to_owned(),
                    Value::from(description.trim_start()),
                );
            }
            object.values_mut().for_each(shaped);
        }
        Value::Array(items) => items.iter_mut().for_each(shaped),
        _ => {}
    }
}

/// Titles for the object members of a schema's `oneOf` (or `anyOf`) (`ConditionEquals`, `NetworkFaultClose`):
/// the schema's name and the member's tag (the value of a property that has one) or its one
/// required key, so that generators name the member types by what they are rather than by their
/// place (`ConditionType0`). Members that would share a title are left as they are.
fn titled(name: &str, schema: &mut Value) {
    let key = if schema.get("oneOf").is_some() {
        "oneOf"
    } else {
        "anyOf"
    };
    let Some(members) = schema.get_mut(key).and_then(Value::as_array_mut) else {
        return;
    };
    let titles: Vec<Option<String>> = (members.iter())
        .map(|member| {
            let properties = member["properties"].as_object()?;
            let tag = (properties.values())
                .find_map(|p| match p["enum"].as_array().map(Vec::as_slice) {
                    Some([Value::String(tag)]) => Some(tag.clone()),
                    _ => None,
                })
                .or_else(|| match member["required"].as_array().map(Vec::as_slice) {
                    Some([Value::String(key)]) => Some(key.clone()),
                    _ => None,
                })?;
            let pascal: String = (tag.split(['_', '-']))
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or_else(String::new, |first| {
                        first.to_uppercase().chain(chars).collect()
                    })
                })
                .collect();
            Some(format!("{name}{pascal}"))
        })
        .collect();
    let mut distinct: Vec<&String> = titles.iter().flatten().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != titles.iter().flatten().count() {
        return;
    }
    for (member, title) in members.iter_mut().zip(&titles) {
        if let (Some(member), Some(title)) = (member.as_object_mut(), title) {
            member
                .entry("title")
                .or_insert_with(|| Value::from(title.as_str()));
        }
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
                "schema": segment_schema(name),
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
    let required = input["required"].as_array().cloned().unwrap_or_default();
    if !properties.is_empty() {
        if route.method == Method::GET {
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
            if !route.body_only {
                // A flat input's scalar keys may come as query parameters instead (`read`). They
                // are told here and in `x-query-keys`, not declared as parameters: OpenAPI cannot
                // say that a required key comes from the body or the query, so declaring both
                // would make either one optional to every client and validator.
                let keys: Vec<&String> = (properties.iter())
                    .filter(|(_, schema)| {
                        schema.get("$ref").is_none() && schema["type"] != "object"
                    })
                    .map(|(name, _)| name)
                    .collect();
                if !keys.is_empty() {
                    let listed: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
                    let text = format!(
                        "\n\nWithout a body, or for a key the body leaves out, {} may come in the query string instead (`?{}=...`).",
                        listed.join(", "),
                        keys[0]
                    );
                    if let Some(description) = operation["description"].as_str() {
                        operation["description"] = Value::from(format!("{description}{text}"));
                    }
                    operation["x-query-keys"] = json!(keys);
                }
            }
            operation["requestBody"] = json!({
                "required": route.body_only || !required.is_empty(),
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

/// The schema of a path's `{name}`: a `{key}` is one that [`check_key`] allows (any other gets
/// a 400 naming the rule), anything else a string.
fn segment_schema(name: &str) -> Value {
    match name {
        "key" => json!({
            "type": "string",
            "pattern": format!("^[!-~]{{1,{MAX_KEY_BYTES}}}$"),
        }),
        _ => json!({"type": "string"}),
    }
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
