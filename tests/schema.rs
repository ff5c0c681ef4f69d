//! OpenAPI 3.0 schemas as JSON Schema 2020-12, validated with the `jsonschema` crate.
//!
//! OpenAPI 3.0's schema dialect differs from JSON Schema in a few places this conversion handles:
//! `nullable: true` becomes a `"null"` member of `type` (or an `anyOf` with `{"type": "null"}` when
//! there is no `type`), `$ref: '#/components/schemas/X'` becomes `#/$defs/X` with every component
//! schema under `$defs`, boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers, and the
//! OpenAPI-only keywords (`example`, `discriminator`, `xml`, `externalDocs`, `deprecated`, `x-*`)
//! are dropped. Formats are validated (`uuid`, `date-time`...), so a malformed id fails. The
//! conversion is the mock's (`musicgpt_cover_mock::openapi_to_json_schema`), shared with its proxy
//! mode.

use serde_json::{Map, Value, json};

use crate::spec::Spec;

const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// Converts one OpenAPI 3.0 schema to JSON Schema 2020-12 (references left pointing at `$defs`):
/// the mock's conversion, which its proxy mode validates answers with, so the two cannot drift.
pub fn convert(schema: &Value) -> Value {
    musicgpt_cover_mock::openapi_to_json_schema(schema)
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
