//! Reading the multipart operations from the spec: each form's fields and their bounds, its
//! `anyOf` rule (beside the properties or in `allOf`), its responses. What the generated code could not express is refused here, by name.

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_norway::Value;

use super::model::{
    BodyType, Bound, Branch, FORM_MEDIA_TYPE, FieldKind, FormField, FormOperation, ResponseCase,
    StatusMatch,
};
use super::send::RESERVED;
use crate::CodegenError;
use crate::spec::{self, Spec};

/// Every operation of the spec whose request body is `multipart/form-data`.
pub(crate) fn find(spec: &Spec<'_>) -> Result<Vec<FormOperation>, CodegenError> {
    let mut found = Vec::new();
    for (path, item) in spec::mapping(spec.root(), "paths") {
        let path = spec::key_text(path)
            .ok_or_else(|| CodegenError::Spec("a key of `paths` is not a string".into()))?;
        let item = spec.resolve(item)?;
        for method in spec::METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let Some(body) = operation.get("requestBody") else {
                continue;
            };
            let body = spec.resolve(body)?;
            if let Some(form) = spec::mapping(body, "content").get(FORM_MEDIA_TYPE) {
                found.push(read_operation(spec, &path, method, operation, form)?);
            }
        }
    }
    Ok(found)
}

fn read_operation(
    spec: &Spec<'_>,
    path: &str,
    method: &str,
    operation: &Value,
    form: &Value,
) -> Result<FormOperation, CodegenError> {
    let where_ = format!("{} {path}", method.to_uppercase());
    let operation_id = spec::string(operation, "operationId")
        .ok_or_else(|| CodegenError::Spec(format!("{where_} has no operationId")))?
        .to_owned();
    // The client's method and the builder are named after it (`FormOperation::method_ident`,
    // `builder_ident`): both must be Rust identifiers.
    for name in [
        operation_id.to_snake_case(),
        operation_id.to_upper_camel_case(),
    ] {
        if syn::parse_str::<syn::Ident>(&name).is_err() {
            return Err(CodegenError::Unsupported(format!(
                "{where_}: no Rust identifier can be made of its operationId `{operation_id}` (`{name}`)"
            )));
        }
    }
    if path.contains('{') {
        return Err(CodegenError::Unsupported(format!(
            "{where_}: path parameters in a multipart operation"
        )));
    }
    if operation.get("parameters").is_some() {
        return Err(CodegenError::Unsupported(format!(
            "{where_}: parameters beside a multipart body"
        )));
    }
    let schema_node = form
        .get("schema")
        .ok_or_else(|| CodegenError::Spec(format!("{where_}: the form has no schema")))?;
    let form_component = spec::string(schema_node, "$ref")
        .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
        .map(str::to_owned);
    let schema = spec.resolve(schema_node)?;
    let context = format!("the form of {where_}");
    for keyword in ["oneOf", "not", "additionalProperties"] {
        if schema.get(keyword).is_some() {
            return Err(CodegenError::Unsupported(format!(
                "{context}: `{keyword}` (only `properties`, `required` and an `anyOf` of `required` lists, beside them or as the one member of `allOf`, are understood)"
            )));
        }
    }
    let required = spec::strings(schema, "required", &context)?;
    let mut fields = Vec::new();
    for (name, property) in spec::mapping(schema, "properties") {
        let name = spec::key_text(name).ok_or_else(|| {
            CodegenError::Spec(format!("{context}: a property name is not a string"))
        })?;
        let property = spec.resolve(property)?;
        fields.push(read_field(
            &name,
            property,
            required.contains(&name),
            &context,
        )?);
    }
    if let Some(missing) = required
        .iter()
        .find(|name| !fields.iter().any(|field| &field.name == *name))
    {
        return Err(CodegenError::Spec(format!(
            "{context}: `{missing}` is required but is not a property"
        )));
    }
    let any_of = match any_of_node(spec, schema, &context)? {
        Some(alternatives) => read_any_of(spec, schema, alternatives, &fields, &context)?,
        None => Vec::new(),
    };
    let (responses, success_type, error_type) = read_responses(spec, operation, &where_)?;
    Ok(FormOperation {
        path: path.to_owned(),
        method: method.to_owned(),
        operation_id,
        summary: spec::string(operation, "summary").map(str::to_owned),
        description: spec::string(operation, "description").map(str::to_owned),
        form_component,
        fields,
        any_of,
        responses,
        success_type,
        error_type,
    })
}

/// A numeric field's `minimum` and `maximum`.
type Bounds<T> = (Option<Bound<T>>, Option<Bound<T>>);

/// The schema's [`Bounds`], each exclusive when its `exclusive...` is `true`; `read` takes the
/// value, which must be `what`.
fn bounds<T>(
    schema: &Value,
    context: &str,
    read: fn(&Value) -> Option<T>,
    what: &str,
) -> Result<Bounds<T>, CodegenError> {
    let bound = |key: &str, exclusive_key: &str| {
        schema
            .get(key)
            .map(|value| {
                read(value)
                    .map(|value| Bound {
                        value,
                        exclusive: schema.get(exclusive_key).and_then(Value::as_bool) == Some(true),
                    })
                    .ok_or_else(|| CodegenError::Spec(format!("{context}: `{key}` is not {what}")))
            })
            .transpose()
    };
    Ok((
        bound("minimum", "exclusiveMinimum")?,
        bound("maximum", "exclusiveMaximum")?,
    ))
}

fn read_field(
    name: &str,
    schema: &Value,
    required: bool,
    context: &str,
) -> Result<FormField, CodegenError> {
    let context = format!("{context}, field `{name}`");
    let ident_text = name.to_snake_case();
    if RESERVED.contains(&ident_text.as_str()) || ident_text == crate::send_error::INNER {
        return Err(CodegenError::Unsupported(format!(
            "{context}: the name `{ident_text}` is used by the generated code itself"
        )));
    }
    let ident = syn::parse_str::<syn::Ident>(&ident_text)
        .or_else(|_| syn::parse_str::<syn::Ident>(&format!("{ident_text}_")))
        .map_err(|_| {
            CodegenError::Unsupported(format!("{context}: no Rust identifier can be made of it"))
        })?;
    if schema.get("pattern").is_some() {
        return Err(CodegenError::Unsupported(format!("{context}: `pattern`")));
    }
    let length = |key: &str| -> Result<Option<u64>, CodegenError> {
        schema
            .get(key)
            .map(|value| {
                value.as_u64().ok_or_else(|| {
                    CodegenError::Spec(format!("{context}: `{key}` is not a non-negative integer"))
                })
            })
            .transpose()
    };
    let kind = match (spec::string(schema, "type"), spec::string(schema, "format")) {
        (Some("string"), Some("binary")) => FieldKind::File,
        (Some("string"), _) => FieldKind::Text {
            min_length: length("minLength")?,
            max_length: length("maxLength")?,
            allowed: spec::strings(schema, "enum", &context)?,
        },
        (Some("integer"), _) => {
            let (minimum, maximum) = bounds(schema, &context, Value::as_i64, "an integer")?;
            FieldKind::Integer { minimum, maximum }
        }
        (Some("number"), _) => {
            let (minimum, maximum) = bounds(schema, &context, Value::as_f64, "a number")?;
            FieldKind::Number { minimum, maximum }
        }
        (Some("boolean"), _) => FieldKind::Boolean,
        (other, _) => {
            return Err(CodegenError::Unsupported(format!(
                "{context}: type {other:?} (string, binary string, integer, number and boolean are supported)"
            )));
        }
    };
    let default = schema.get("default").cloned();
    if let Some(default) = &default {
        let fits = match kind {
            FieldKind::File => false,
            FieldKind::Text { .. } => default.is_string(),
            FieldKind::Integer { .. } => default.is_i64(),
            FieldKind::Number { .. } => default.is_f64() || default.is_i64(),
            FieldKind::Boolean => default.is_bool(),
        };
        if !fits {
            return Err(CodegenError::Spec(format!(
                "{context}: the default does not fit the field's type"
            )));
        }
    }
    Ok(FormField {
        name: name.to_owned(),
        ident,
        description: spec::string(schema, "description").map(str::to_owned),
        required,
        kind,
        default,
    })
}

/// The form's one `anyOf` rule: beside `properties`, or as the one member of `allOf` (where
/// generators of other languages keep the properties' types; beside them, some read the `anyOf`
/// as a union of types instead).
fn any_of_node<'a>(
    spec: &Spec<'a>,
    schema: &'a Value,
    context: &str,
) -> Result<Option<&'a Value>, CodegenError> {
    let Some(all_of) = schema.get("allOf") else {
        return Ok(schema.get("anyOf"));
    };
    let unsupported = |what: &str| {
        CodegenError::Unsupported(format!(
            "{context}: {what} (`allOf` may hold one member, an `anyOf` of `required` lists)"
        ))
    };
    if schema.get("anyOf").is_some() {
        return Err(unsupported(
            "an `anyOf` both beside `properties` and in `allOf`",
        ));
    }
    let [member] = all_of
        .as_sequence()
        .ok_or_else(|| CodegenError::Spec(format!("{context}: `allOf` is not a list")))?
        .as_slice()
    else {
        return Err(unsupported("an `allOf` of other than one member"));
    };
    let member = spec.resolve(member)?;
    if let Some(key) = member.as_mapping().and_then(|mapping| {
        mapping
            .keys()
            .find(|key| !matches!(key.as_str(), Some("anyOf" | "description")))
    }) {
        return Err(unsupported(&format!(
            "`{}` in the member of `allOf`",
            spec::key_text(key).unwrap_or_default()
        )));
    }
    member
        .get("anyOf")
        .map(Some)
        .ok_or_else(|| unsupported("a member of `allOf` without `anyOf`"))
}

fn read_any_of(
    spec: &Spec<'_>,
    schema: &Value,
    alternatives: &Value,
    fields: &[FormField],
    context: &str,
) -> Result<Vec<Branch>, CodegenError> {
    let alternatives = alternatives
        .as_sequence()
        .ok_or_else(|| CodegenError::Spec(format!("{context}: `anyOf` is not a list")))?;
    let form_properties = spec::mapping(schema, "properties");
    alternatives
        .iter()
        .map(|alternative| {
            let alternative = spec.resolve(alternative)?;
            let context = format!("{context}, `anyOf`");
            if let Some(key) = alternative.as_mapping().and_then(|mapping| {
                mapping.keys().find(|key| {
                    !matches!(key.as_str(), Some("required" | "properties" | "description"))
                })
            }) {
                return Err(CodegenError::Unsupported(format!(
                    "{context}: `{}` in an alternative (only `required` and string lengths under `properties` are understood)",
                    spec::key_text(key).unwrap_or_default()
                )));
            }
            let required = spec::strings(alternative, "required", &context)?;
            if required.is_empty() {
                return Err(CodegenError::Spec(format!(
                    "{context}: an alternative requires nothing, so the rule would always hold"
                )));
            }
            let properties = spec::mapping(alternative, "properties");
            let mut requirements = Vec::new();
            for name in required {
                let field = fields.iter().find(|field| field.name == name).ok_or_else(|| {
                    CodegenError::Spec(format!("{context}: `{name}` is not a field of the form"))
                })?;
                let min_length = match properties.get(name.as_str()) {
                    None => None,
                    Some(constraint) => {
                        let constraint = spec.resolve(constraint)?;
                        let understood = constraint.as_mapping().is_some_and(|map| {
                            map.keys().all(|key| {
                                matches!(
                                    key.as_str(),
                                    Some("type" | "format" | "minLength" | "description")
                                )
                            })
                        });
                        let min_length = constraint.get("minLength");
                        if !understood
                            || (min_length.is_some()
                                && !matches!(field.kind, FieldKind::Text { .. }))
                        {
                            return Err(CodegenError::Unsupported(format!(
                                "{context}: a constraint on `{name}` other than a string's `minLength` (the field's `type` and `format` may be restated)"
                            )));
                        }
                        // A branch restates its field's type for generators that type each
                        // branch; a restatement that differs would be a second, conflicting rule.
                        let property = form_properties
                            .get(name.as_str())
                            .map(|property| spec.resolve(property))
                            .transpose()?;
                        for key in ["type", "format"] {
                            if let Some(restated) = constraint.get(key)
                                && property.and_then(|property| property.get(key)) != Some(restated)
                            {
                                return Err(CodegenError::Spec(format!(
                                    "{context}: the `{key}` of `{name}` differs from the property's"
                                )));
                            }
                        }
                        min_length.and_then(Value::as_u64)
                    }
                };
                requirements.push((name, min_length));
            }
            for (name, _) in properties {
                let name = spec::key_text(name).unwrap_or_default();
                if !requirements.iter().any(|(required, _)| *required == name) {
                    return Err(CodegenError::Unsupported(format!(
                        "{context}: a constraint on `{name}`, which that alternative does not require"
                    )));
                }
            }
            Ok(Branch { requirements })
        })
        .collect()
}

type Responses = (Vec<ResponseCase>, BodyType, BodyType);

fn read_responses(
    spec: &Spec<'_>,
    operation: &Value,
    where_: &str,
) -> Result<Responses, CodegenError> {
    let mut cases = Vec::new();
    let mut success_type: Option<BodyType> = None;
    let mut error_type: Option<BodyType> = None;
    for (status, response) in spec::mapping(operation, "responses") {
        let status = spec::key_text(status).unwrap_or_default();
        let context = format!("{where_}, response `{status}`");
        let status_match = if let Some(class) = status.strip_suffix("XX") {
            class
                .parse()
                .ok()
                .filter(|class| (1..=5).contains(class))
                .map(StatusMatch::Range)
        } else {
            status
                .parse()
                .ok()
                .filter(|code| (100..=599).contains(code))
                .map(StatusMatch::Code)
        }
        .ok_or_else(|| {
            CodegenError::Unsupported(format!(
                "{context}: only numeric statuses and `4XX`-style ranges"
            ))
        })?;
        let class = match status_match {
            StatusMatch::Code(code) => code / 100,
            StatusMatch::Range(class) => class,
        };
        let success = match class {
            2 => true,
            4 | 5 => false,
            _ => {
                return Err(CodegenError::Unsupported(format!(
                    "{context}: only 2xx, 4xx and 5xx statuses"
                )));
            }
        };
        let response = spec.resolve(response)?;
        let content = spec::mapping(response, "content");
        let body = if content.is_empty() {
            BodyType::Unit
        } else {
            let json = content.get("application/json").ok_or_else(|| {
                CodegenError::Unsupported(format!("{context}: a body other than application/json"))
            })?;
            let reference = json
                .get("schema")
                .and_then(|schema| spec::string(schema, "$ref"))
                .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
                .ok_or_else(|| {
                    CodegenError::Unsupported(format!(
                        "{context}: the body schema must be a `$ref` to a component schema"
                    ))
                })?;
            BodyType::Named(reference.to_upper_camel_case())
        };
        let slot = if success {
            &mut success_type
        } else {
            &mut error_type
        };
        match slot {
            Some(existing) if *existing != body => {
                return Err(CodegenError::Unsupported(format!(
                    "{context}: every {} response of an operation must have the same body schema (as progenitor requires)",
                    if success { "success" } else { "error" }
                )));
            }
            _ => *slot = Some(body.clone()),
        }
        cases.push(ResponseCase {
            status: status_match,
            success,
            has_body: body != BodyType::Unit,
        });
    }
    let success_type = success_type
        .ok_or_else(|| CodegenError::Spec(format!("{where_} documents no 2xx response")))?;
    // Exact codes first: a match arm for `4XX` must not swallow a documented 404.
    cases.sort_by_key(|case| matches!(case.status, StatusMatch::Range(_)));
    Ok((cases, success_type, error_type.unwrap_or(BodyType::Unit)))
}
