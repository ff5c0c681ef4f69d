//! OpenAPI 3.0 schemas as JSON Schema 2020-12, validated with the `jsonschema` crate.
//!
//! OpenAPI 3.0's schema dialect differs from JSON Schema in a few places this conversion handles:
//! `nullable: true` becomes a `"null"` member of `type` (or an `anyOf` with `{"type": "null"}` when
//! there is no `type`), `$ref: '#/components/schemas/X'` becomes `#/$defs/X` with every component
//! schema under `$defs`, boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers, and the
//! OpenAPI-only keywords (`example`, `discriminator`, `xml`, `externalDocs`, `deprecated`, `x-*`)
//! are dropped. Formats are validated (`uuid`, `date-time`...), so a malformed id fails.

use serde_json::{Map, Value, json};

use crate::spec::Spec;

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

/// Converts one OpenAPI 3.0 schema to JSON Schema 2020-12 (references left pointing at `$defs`).
pub fn convert(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => convert_object(map),
        Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
        other => other.clone(),
    }
}

fn convert_object(map: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (key, value) in map {
        if OPENAPI_ONLY.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let converted = match key.as_str() {
            "$ref" => match value.as_str() {
                Some(r) if r.starts_with(COMPONENT_PREFIX) => {
                    json!(format!("#/$defs/{}", &r[COMPONENT_PREFIX.len()..]))
                }
                _ => value.clone(),
            },
            // Maps of name -> schema.
            "properties" | "patternProperties" | "$defs" | "definitions" => match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, schema)| (name.clone(), convert(schema)))
                        .collect(),
                ),
                other => other.clone(),
            },
            // A schema or a list of schemas.
            "items" | "additionalProperties" | "not" | "allOf" | "anyOf" | "oneOf" => {
                convert(value)
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
        if let Some(Value::Bool(exclusive)) = out.get(flag).cloned() {
            out.remove(flag);
            if exclusive && let Some(limit) = out.remove(bound) {
                out.insert(flag.to_owned(), limit);
            }
        }
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        return make_nullable(out);
    }
    Value::Object(out)
}

fn make_nullable(mut out: Map<String, Value>) -> Value {
    if let Some(values) = out.get_mut("enum").and_then(Value::as_array_mut)
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".to_owned(), json!([t, "null"]));
            Value::Object(out)
        }
        Some(Value::Array(mut types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            out.insert("type".to_owned(), Value::Array(types));
            Value::Object(out)
        }
        _ => json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
    }
}

/// Every component schema of the spec, converted, keyed by name (the `$defs` of [`document`]).
pub fn defs(spec: &Spec) -> Map<String, Value> {
    spec.schemas()
        .iter()
        .map(|(name, schema)| (name.clone(), convert(schema)))
        .collect()
}

/// A self-contained JSON Schema document for `schema` (an OpenAPI schema of `spec`, often a
/// `$ref`): the converted schema with every component schema under `$defs`.
pub fn document(spec: &Spec, schema: &Value) -> Value {
    let mut root = match convert(schema) {
        Value::Object(map) => map,
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
    root.insert("$defs".to_owned(), Value::Object(defs(spec)));
    Value::Object(root)
}

/// A compiled validator for one of the spec's schemas.
pub struct SchemaCheck {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for SchemaCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaCheck")
    }
}

impl SchemaCheck {
    /// Compiles `schema` (an OpenAPI schema of `spec`, e.g. `{"$ref": "#/components/schemas/X"}`).
    ///
    /// # Errors
    /// The compiler's message when the converted schema is not valid JSON Schema.
    pub fn new(spec: &Spec, schema: &Value) -> Result<SchemaCheck, String> {
        let document = document(spec, schema);
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&document)
            .map_err(|e| format!("the converted schema does not compile: {e}"))?;
        Ok(SchemaCheck { validator })
    }

    /// The component schema `name` of `spec`.
    ///
    /// # Errors
    /// As [`SchemaCheck::new`].
    pub fn component(spec: &Spec, name: &str) -> Result<SchemaCheck, String> {
        SchemaCheck::new(
            spec,
            &json!({ "$ref": format!("{COMPONENT_PREFIX}{name}") }),
        )
    }

    /// Every way `instance` breaks the schema, as `path: message` lines; empty when it is valid.
    pub fn errors(&self, instance: &Value) -> Vec<String> {
        self.validator
            .iter_errors(instance)
            .map(|e| {
                let path = e.instance_path().to_string();
                format!("{}: {e}", if path.is_empty() { "/" } else { &path })
            })
            .collect()
    }
}
