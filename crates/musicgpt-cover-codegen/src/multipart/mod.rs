//! The generator of `multipart/form-data` operations, which progenitor 0.15 refuses.
//!
//! Each such operation becomes a builder in the generated `builder` module and a method on the
//! generated `Client`, shaped like progenitor's own Builder-style output (fields held as
//! `Result<_, String>`, `send()` returning `ResponseValue`/`Error`, the client's hooks run around
//! the request) so that callers cannot tell the two apart.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_norway::Value;

use crate::CodegenError;
use crate::spec::{self, Spec};

/// The request body media type this module generates and progenitor cannot.
pub(crate) const FORM_MEDIA_TYPE: &str = "multipart/form-data";

/// Local names of the generated `send()`; a form field with one of these names would shadow them.
const RESERVED: [&str; 10] = [
    "client",
    "value",
    "url",
    "form",
    "header_map",
    "request",
    "info",
    "result",
    "response",
    "send",
];

/// A `multipart/form-data` operation, read from the spec.
pub(crate) struct FormOperation {
    pub(crate) path: String,
    pub(crate) method: String,
    operation_id: String,
    summary: Option<String>,
    description: Option<String>,
    /// The component schema of the form (`#/components/schemas/<name>`), if it is one.
    pub(crate) form_component: Option<String>,
    fields: Vec<FormField>,
    any_of: Vec<Branch>,
    responses: Vec<ResponseCase>,
    success_type: BodyType,
    error_type: BodyType,
}

struct FormField {
    /// The part name on the wire.
    name: String,
    ident: syn::Ident,
    description: Option<String>,
    required: bool,
    kind: FieldKind,
    default: Option<Value>,
}

enum FieldKind {
    /// `type: string, format: binary`: a file part.
    File,
    Text {
        min_length: Option<u64>,
        max_length: Option<u64>,
        allowed: Vec<String>,
    },
    Integer {
        minimum: Option<Bound<i64>>,
        maximum: Option<Bound<i64>>,
    },
    Number {
        minimum: Option<Bound<f64>>,
        maximum: Option<Bound<f64>>,
    },
    Boolean,
}

#[derive(Clone, Copy)]
struct Bound<T> {
    value: T,
    exclusive: bool,
}

/// One alternative of the form schema's `anyOf`: fields that must all be present, each with
/// an optional minimum length the alternative adds.
struct Branch {
    requirements: Vec<(String, Option<u64>)>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum BodyType {
    Unit,
    Named(String),
}

enum StatusMatch {
    Code(u16),
    /// `4XX` is `Range(4)`.
    Range(u16),
}

struct ResponseCase {
    status: StatusMatch,
    success: bool,
    has_body: bool,
}

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
    for keyword in ["oneOf", "allOf", "not", "additionalProperties"] {
        if schema.get(keyword).is_some() {
            return Err(CodegenError::Unsupported(format!(
                "{context}: `{keyword}` (only `properties`, `required` and an `anyOf` of `required` lists are understood)"
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
    let any_of = read_any_of(spec, schema, &fields, &context)?;
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

fn read_field(
    name: &str,
    schema: &Value,
    required: bool,
    context: &str,
) -> Result<FormField, CodegenError> {
    let context = format!("{context}, field `{name}`");
    let ident_text = name.to_snake_case();
    if RESERVED.contains(&ident_text.as_str()) {
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
    let integer_bound = |key: &str,
                         exclusive_key: &str|
     -> Result<Option<Bound<i64>>, CodegenError> {
        schema
            .get(key)
            .map(|value| {
                value
                    .as_i64()
                    .map(|value| Bound {
                        value,
                        exclusive: schema.get(exclusive_key).and_then(Value::as_bool) == Some(true),
                    })
                    .ok_or_else(|| {
                        CodegenError::Spec(format!("{context}: `{key}` is not an integer"))
                    })
            })
            .transpose()
    };
    let number_bound = |key: &str,
                        exclusive_key: &str|
     -> Result<Option<Bound<f64>>, CodegenError> {
        schema
            .get(key)
            .map(|value| {
                value
                    .as_f64()
                    .map(|value| Bound {
                        value,
                        exclusive: schema.get(exclusive_key).and_then(Value::as_bool) == Some(true),
                    })
                    .ok_or_else(|| {
                        CodegenError::Spec(format!("{context}: `{key}` is not a number"))
                    })
            })
            .transpose()
    };
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
        (Some("integer"), _) => FieldKind::Integer {
            minimum: integer_bound("minimum", "exclusiveMinimum")?,
            maximum: integer_bound("maximum", "exclusiveMaximum")?,
        },
        (Some("number"), _) => FieldKind::Number {
            minimum: number_bound("minimum", "exclusiveMinimum")?,
            maximum: number_bound("maximum", "exclusiveMaximum")?,
        },
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

fn read_any_of(
    spec: &Spec<'_>,
    schema: &Value,
    fields: &[FormField],
    context: &str,
) -> Result<Vec<Branch>, CodegenError> {
    let Some(alternatives) = schema.get("anyOf") else {
        return Ok(Vec::new());
    };
    let alternatives = alternatives
        .as_sequence()
        .ok_or_else(|| CodegenError::Spec(format!("{context}: `anyOf` is not a list")))?;
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
                                matches!(key.as_str(), Some("type" | "minLength" | "description"))
                            })
                        });
                        if !understood || !matches!(field.kind, FieldKind::Text { .. }) {
                            return Err(CodegenError::Unsupported(format!(
                                "{context}: a constraint on `{name}` other than a string's `minLength`"
                            )));
                        }
                        constraint.get("minLength").and_then(Value::as_u64)
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

fn body_type(body: &BodyType) -> TokenStream {
    match body {
        BodyType::Unit => quote! { () },
        BodyType::Named(name) => {
            let ident = format_ident!("{}", name);
            quote! { types::#ident }
        }
    }
}

impl FormField {
    fn value_type(&self) -> TokenStream {
        match self.kind {
            FieldKind::File => quote! { ::reqwest::multipart::Part },
            FieldKind::Text { .. } => quote! { ::std::string::String },
            FieldKind::Integer { .. } => quote! { i64 },
            FieldKind::Number { .. } => quote! { f64 },
            FieldKind::Boolean => quote! { bool },
        }
    }

    fn stored_type(&self) -> TokenStream {
        let value = self.value_type();
        if self.required {
            quote! { Result<#value, String> }
        } else {
            quote! { Result<Option<#value>, String> }
        }
    }

    fn initial(&self) -> TokenStream {
        if self.required {
            let message = format!("{} was not initialized", self.ident);
            quote! { Err(#message.to_string()) }
        } else {
            quote! { Ok(None) }
        }
    }

    /// Statements that return `Err(message)` when `value` breaks a bound of the spec.
    fn checks(&self) -> Vec<TokenStream> {
        let name = &self.name;
        match &self.kind {
            FieldKind::File | FieldKind::Boolean => Vec::new(),
            FieldKind::Text {
                min_length,
                max_length,
                allowed,
            } => {
                let mut checks = Vec::new();
                if let Some(min) = min_length {
                    let message = if *min == 1 {
                        format!("{name} must not be empty")
                    } else {
                        format!("{name} must be at least {min} characters long")
                    };
                    let min = Literal::u64_suffixed(*min);
                    checks.push(quote! {
                        if (value.chars().count() as u64) < #min {
                            return Err(#message.to_string());
                        }
                    });
                }
                if let Some(max) = max_length {
                    let message = format!("{name} must be at most {max} characters long");
                    let max = Literal::u64_suffixed(*max);
                    checks.push(quote! {
                        if (value.chars().count() as u64) > #max {
                            return Err(#message.to_string());
                        }
                    });
                }
                if !allowed.is_empty() {
                    let message = format!("{name} must be one of {allowed:?}, got {{value:?}}");
                    checks.push(quote! {
                        if ![#(#allowed),*].contains(&value.as_str()) {
                            return Err(format!(#message));
                        }
                    });
                }
                checks
            }
            FieldKind::Integer { minimum, maximum } => {
                range_checks(name, *minimum, *maximum, Literal::i64_suffixed)
            }
            FieldKind::Number { minimum, maximum } => {
                range_checks(name, *minimum, *maximum, Literal::f64_suffixed)
            }
        }
    }

    fn setter(&self) -> TokenStream {
        let ident = &self.ident;
        let doc = self.setter_doc();
        if matches!(self.kind, FieldKind::File) {
            let failure = format!("conversion to a file part for {} failed: {{e}}", self.name);
            let stored = if self.required {
                quote! { part }
            } else {
                quote! { Some(part) }
            };
            return quote! {
                #[doc = #doc]
                pub fn #ident<V>(mut self, value: V) -> Self
                where
                    V: ::std::convert::TryInto<::reqwest::multipart::Part>,
                    V::Error: ::std::fmt::Display,
                {
                    self.#ident = value
                        .try_into()
                        .map(|part| #stored)
                        .map_err(|e| format!(#failure));
                    self
                }
            };
        }
        let value_type = self.value_type();
        let failure = format!(
            "conversion to `{}` for {} failed",
            value_type.to_string().replace(' ', ""),
            self.name
        );
        let checks = self.checks();
        let stored = if self.required {
            quote! { value }
        } else {
            quote! { Some(value) }
        };
        quote! {
            #[doc = #doc]
            pub fn #ident<V>(mut self, value: V) -> Self
            where
                V: ::std::convert::TryInto<#value_type>,
            {
                self.#ident = value
                    .try_into()
                    .map_err(|_| #failure.to_string())
                    .and_then(|value| {
                        #(#checks)*
                        Ok(#stored)
                    });
                self
            }
        }
    }

    fn setter_doc(&self) -> String {
        let mut doc = self
            .description
            .clone()
            .unwrap_or_default()
            .trim_end()
            .to_owned();
        let mut facts = vec![format!(
            "Form part `{}`, {}.",
            self.name,
            if self.required {
                "required"
            } else {
                "optional"
            }
        )];
        match &self.kind {
            FieldKind::File => facts.push(
                "A file part: pass a `reqwest::multipart::Part`, or anything that converts into one, carrying the file name and content type; a failed conversion makes `send()` fail with `Error::InvalidRequest`.".to_owned(),
            ),
            FieldKind::Text {
                min_length,
                max_length,
                allowed,
            } => {
                match min_length {
                    Some(1) => facts.push("Must not be empty.".to_owned()),
                    Some(min) => facts.push(format!("At least {min} characters.")),
                    None => {}
                }
                if let Some(max) = max_length {
                    facts.push(format!("At most {max} characters."));
                }
                if !allowed.is_empty() {
                    facts.push(format!("One of {allowed:?}."));
                }
            }
            FieldKind::Integer { minimum, maximum } => facts.extend(bound_doc(*minimum, *maximum)),
            FieldKind::Number { minimum, maximum } => facts.extend(bound_doc(*minimum, *maximum)),
            FieldKind::Boolean => {}
        }
        if let Some(default) = &self.default {
            facts.push(format!(
                "When not set, the part is not sent and the server uses the default, `{}`.",
                yaml_scalar(default)
            ));
        }
        if !self.checks().is_empty() {
            facts.push("A value out of these bounds makes `send()` fail with `Error::InvalidRequest` before anything is sent.".to_owned());
        }
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&facts.join(" "));
        doc
    }

    /// Associated constants for the field's bounds and default, for callers that build UIs or
    /// checks of their own.
    fn constants(&self) -> Vec<TokenStream> {
        let prefix = self.name.to_shouty_snake_case();
        let value_type = self.value_type();
        let mut constants = Vec::new();
        let mut push = |suffix: &str, doc: String, ty: TokenStream, value: TokenStream| {
            let ident = format_ident!("{}_{}", prefix, suffix);
            constants.push(quote! {
                #[doc = #doc]
                pub const #ident: #ty = #value;
            });
        };
        match &self.kind {
            FieldKind::Integer { minimum, maximum } => {
                if let Some(bound) = minimum {
                    let value = Literal::i64_suffixed(bound.value);
                    push(
                        "MIN",
                        format!(
                            "The lower bound of `{}`{}.",
                            self.name,
                            exclusive_note(bound.exclusive)
                        ),
                        value_type.clone(),
                        quote! { #value },
                    );
                }
                if let Some(bound) = maximum {
                    let value = Literal::i64_suffixed(bound.value);
                    push(
                        "MAX",
                        format!(
                            "The upper bound of `{}`{}.",
                            self.name,
                            exclusive_note(bound.exclusive)
                        ),
                        value_type.clone(),
                        quote! { #value },
                    );
                }
            }
            FieldKind::Number { minimum, maximum } => {
                if let Some(bound) = minimum {
                    let value = Literal::f64_suffixed(bound.value);
                    push(
                        "MIN",
                        format!(
                            "The lower bound of `{}`{}.",
                            self.name,
                            exclusive_note(bound.exclusive)
                        ),
                        value_type.clone(),
                        quote! { #value },
                    );
                }
                if let Some(bound) = maximum {
                    let value = Literal::f64_suffixed(bound.value);
                    push(
                        "MAX",
                        format!(
                            "The upper bound of `{}`{}.",
                            self.name,
                            exclusive_note(bound.exclusive)
                        ),
                        value_type.clone(),
                        quote! { #value },
                    );
                }
            }
            FieldKind::Text { .. } | FieldKind::File | FieldKind::Boolean => {}
        }
        if let Some(default) = &self.default {
            let doc = format!(
                "The server's default for `{}` when the part is not sent.",
                self.name
            );
            let value = match self.kind {
                FieldKind::Integer { .. } => default.as_i64().map(|v| {
                    let v = Literal::i64_suffixed(v);
                    quote! { #v }
                }),
                FieldKind::Number { .. } => default.as_f64().map(|v| {
                    let v = Literal::f64_suffixed(v);
                    quote! { #v }
                }),
                FieldKind::Boolean => default.as_bool().map(|v| quote! { #v }),
                FieldKind::Text { .. } => default.as_str().map(|v| quote! { #v }),
                FieldKind::File => None,
            };
            let ty = match self.kind {
                FieldKind::Text { .. } => quote! { &'static str },
                _ => value_type,
            };
            if let Some(value) = value {
                push("DEFAULT", doc, ty, value);
            }
        }
        constants
    }

    /// Adds the field to `form` (a local of `send()`).
    fn append(&self) -> TokenStream {
        let ident = &self.ident;
        let name = &self.name;
        let add = match self.kind {
            FieldKind::File => quote! { form = form.part(#name, value); },
            FieldKind::Text { .. } => quote! { form = form.text(#name, value); },
            _ => quote! { form = form.text(#name, value.to_string()); },
        };
        if self.required {
            quote! {
                let value = #ident;
                #add
            }
        } else {
            quote! {
                if let Some(value) = #ident {
                    #add
                }
            }
        }
    }

    /// An expression that is true when the field is present (and at least `min_length` long).
    fn presence(&self, min_length: Option<u64>) -> TokenStream {
        let ident = &self.ident;
        match (self.required, min_length) {
            (true, None) => quote! { true },
            (false, None) => quote! { #ident.is_some() },
            (true, Some(min)) => {
                let min = Literal::u64_suffixed(min);
                quote! { (#ident.chars().count() as u64) >= #min }
            }
            (false, Some(min)) => {
                let min = Literal::u64_suffixed(min);
                quote! { #ident.as_deref().is_some_and(|value| (value.chars().count() as u64) >= #min) }
            }
        }
    }
}

fn exclusive_note(exclusive: bool) -> &'static str {
    if exclusive {
        " (exclusive)"
    } else {
        " (inclusive)"
    }
}

fn range_checks<T: Copy + std::fmt::Display>(
    name: &str,
    minimum: Option<Bound<T>>,
    maximum: Option<Bound<T>>,
    literal: fn(T) -> Literal,
) -> Vec<TokenStream> {
    match (minimum, maximum) {
        (Some(min), Some(max)) if !min.exclusive && !max.exclusive => {
            let message = format!(
                "{name} must be between {} and {} (inclusive), got {{value}}",
                min.value, max.value
            );
            let (lo, hi) = (literal(min.value), literal(max.value));
            vec![quote! {
                if !(#lo..=#hi).contains(&value) {
                    return Err(format!(#message));
                }
            }]
        }
        _ => {
            let mut checks = Vec::new();
            if let Some(min) = minimum {
                let lo = literal(min.value);
                let (test, message) = if min.exclusive {
                    (
                        quote! { value <= #lo },
                        format!("{name} must be greater than {}, got {{value}}", min.value),
                    )
                } else {
                    (
                        quote! { value < #lo },
                        format!("{name} must be at least {}, got {{value}}", min.value),
                    )
                };
                checks.push(quote! { if #test { return Err(format!(#message)); } });
            }
            if let Some(max) = maximum {
                let hi = literal(max.value);
                let (test, message) = if max.exclusive {
                    (
                        quote! { value >= #hi },
                        format!("{name} must be less than {}, got {{value}}", max.value),
                    )
                } else {
                    (
                        quote! { value > #hi },
                        format!("{name} must be at most {}, got {{value}}", max.value),
                    )
                };
                checks.push(quote! { if #test { return Err(format!(#message)); } });
            }
            checks
        }
    }
}

fn bound_doc<T: std::fmt::Display>(
    minimum: Option<Bound<T>>,
    maximum: Option<Bound<T>>,
) -> Vec<String> {
    let mut facts = Vec::new();
    if let Some(min) = minimum {
        facts.push(format!(
            "Minimum {}{}.",
            min.value,
            exclusive_note(min.exclusive)
        ));
    }
    if let Some(max) = maximum {
        facts.push(format!(
            "Maximum {}{}.",
            max.value,
            exclusive_note(max.exclusive)
        ));
    }
    facts
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => serde_norway::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

impl FormOperation {
    fn method_ident(&self) -> syn::Ident {
        format_ident!("{}", self.operation_id.to_snake_case())
    }

    fn builder_ident(&self) -> syn::Ident {
        format_ident!("{}", self.operation_id.to_upper_camel_case())
    }

    /// The message of the `InvalidRequest` error when no `anyOf` alternative holds.
    fn any_of_message(&self) -> String {
        let alternatives: Vec<String> = self
            .any_of
            .iter()
            .map(|branch| {
                branch
                    .requirements
                    .iter()
                    .map(|(name, min_length)| match min_length {
                        Some(1) => format!("a non-empty `{name}`"),
                        Some(min) => format!("`{name}` of at least {min} characters"),
                        None => format!("`{name}`"),
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect();
        format!(
            "the request needs at least one of: {}",
            alternatives.join(", or ")
        )
    }

    /// The method on `Client` that starts the builder.
    pub(crate) fn client_method(&self) -> TokenStream {
        let method = self.method_ident();
        let builder = self.builder_ident();
        let mut doc = String::new();
        if let Some(summary) = &self.summary {
            doc.push_str(summary.trim_end());
            doc.push_str("\n\n");
        }
        if let Some(description) = &self.description {
            doc.push_str(description.trim_end());
            doc.push_str("\n\n");
        }
        doc.push_str(&format!(
            "Sends a `{}` request to `{}` with a `{FORM_MEDIA_TYPE}` body\n\nArguments:\n",
            self.method.to_uppercase(),
            self.path
        ));
        for field in &self.fields {
            let summary = field
                .description
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            doc.push_str(&format!("- `{}`: {}\n", field.ident, summary));
        }
        doc.push_str(&format!("```ignore\nlet response = client.{method}()\n"));
        for field in &self.fields {
            doc.push_str(&format!("    .{0}({0})\n", field.ident));
        }
        doc.push_str("    .send()\n    .await;\n```");
        quote! {
            impl Client {
                #[doc = #doc]
                pub fn #method(&self) -> builder::#builder<'_> {
                    builder::#builder::new(self)
                }
            }
        }
    }

    /// The builder struct and its impl, for the generated `builder` module.
    pub(crate) fn builder(&self) -> TokenStream {
        let method = self.method_ident();
        let builder = self.builder_ident();
        let struct_doc = format!(
            "Builder for [`Client::{method}`]\n\n[`Client::{method}`]: super::Client::{method}"
        );
        let idents: Vec<&syn::Ident> = self.fields.iter().map(|field| &field.ident).collect();
        let stored: Vec<TokenStream> = self.fields.iter().map(FormField::stored_type).collect();
        let initial: Vec<TokenStream> = self.fields.iter().map(FormField::initial).collect();
        let constants: Vec<TokenStream> =
            self.fields.iter().flat_map(FormField::constants).collect();
        let setters: Vec<TokenStream> = self.fields.iter().map(FormField::setter).collect();
        let appends: Vec<TokenStream> = self.fields.iter().map(FormField::append).collect();
        let any_of_check = if self.any_of.is_empty() {
            quote! {}
        } else {
            let alternatives = self.any_of.iter().map(|branch| {
                let parts = branch.requirements.iter().map(|(name, min_length)| {
                    self.fields
                        .iter()
                        .find(|field| &field.name == name)
                        .map(|field| field.presence(*min_length))
                        .unwrap_or_else(|| quote! { false })
                });
                quote! { (#(#parts)&&*) }
            });
            let message = self.any_of_message();
            quote! {
                if !(#(#alternatives)||*) {
                    return Err(Error::InvalidRequest(#message.to_string()));
                }
            }
        };
        let url_format = format!("{{}}{}", self.path);
        let http_method = match self.method.as_str() {
            "get" | "post" | "put" | "delete" | "patch" | "head" => {
                let verb = format_ident!("{}", self.method);
                quote! { .#verb(url) }
            }
            other => {
                let verb = format_ident!("{}", other.to_uppercase());
                quote! { .request(::reqwest::Method::#verb, url) }
            }
        };
        let operation_id = self.operation_id.to_snake_case();
        let send_doc = format!(
            "Sends a `{}` request to `{}`",
            self.method.to_uppercase(),
            self.path
        );
        let success_type = body_type(&self.success_type);
        let error_type = body_type(&self.error_type);
        let arms = self.responses.iter().map(|case| {
            let pattern = match case.status {
                StatusMatch::Code(code) => {
                    let code = Literal::u16_suffixed(code);
                    quote! { #code }
                }
                StatusMatch::Range(class) => {
                    let (lo, hi) = (Literal::u16_suffixed(class * 100), Literal::u16_suffixed(class * 100 + 99));
                    quote! { #lo..=#hi }
                }
            };
            let value = if case.has_body {
                quote! { ResponseValue::from_response(response).await }
            } else {
                quote! { Ok(ResponseValue::empty(response)) }
            };
            if case.success {
                quote! { #pattern => #value, }
            } else if case.has_body {
                quote! { #pattern => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)), }
            } else {
                quote! { #pattern => Err(Error::ErrorResponse(ResponseValue::empty(response))), }
            }
        });
        quote! {
            #[doc = #struct_doc]
            #[derive(Debug)]
            pub struct #builder<'a> {
                client: &'a super::Client,
                #(#idents: #stored,)*
            }

            impl<'a> #builder<'a> {
                #(#constants)*

                pub fn new(client: &'a super::Client) -> Self {
                    Self {
                        client: client,
                        #(#idents: #initial,)*
                    }
                }

                #(#setters)*

                #[doc = #send_doc]
                pub async fn send(self) -> Result<ResponseValue<#success_type>, Error<#error_type>> {
                    let Self { client, #(#idents),* } = self;
                    #(let #idents = #idents.map_err(Error::InvalidRequest)?;)*
                    #any_of_check
                    let url = format!(#url_format, client.baseurl);
                    let mut form = ::reqwest::multipart::Form::new();
                    #(#appends)*
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append(
                        ::reqwest::header::HeaderName::from_static("api-version"),
                        ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                    );
                    #[allow(unused_mut)]
                    let mut request = client
                        .client
                        #http_method
                        .header(
                            ::reqwest::header::ACCEPT,
                            ::reqwest::header::HeaderValue::from_static("application/json"),
                        )
                        .multipart(form)
                        .headers(header_map)
                        .build()?;
                    let info = OperationInfo {
                        operation_id: #operation_id,
                    };
                    client.pre(&mut request, &info).await?;
                    let result = client.exec(request, &info).await;
                    client.post(&result, &info).await?;
                    let response = result?;
                    match response.status().as_u16() {
                        #(#arms)*
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        }
    }
}
