//! Each Rust type that stands for a spec schema is equivalent to it: the client's generated types
//! derive `schemars::JsonSchema` (0.8), their schemas and the spec's components are both reduced
//! to the normal form of `musicgpt_cover_contract_tests::shape` and compared field by field
//! (names, types, formats, required-ness, nullability, bounds).
//!
//! The mock has no public type standing for a spec schema: it renders its answers from the
//! spec's own examples, and its public types (journal entries, task views, webhook delivery
//! records, settings) are its admin API's, not the API's. The one spec-shaped value it exposes,
//! `WebhookDelivery::payload`, is validated against `CoverWebhook` in `flow`.

use musicgpt_cover::types;
use musicgpt_cover_contract_tests::schema;
use musicgpt_cover_contract_tests::shape::{Comparison, Shape, compare, outline};
use serde_json::{Map, Value, json};

use crate::common::{assert_none, snapshot_settings, spec};

/// Spec components that no Rust type stands for, and why.
const NOT_A_RUST_TYPE: [(&str, &str); 1] = [(
    "CoverRequest",
    "the multipart form: the generated `builder::Cover` has one setter per property and the \
     constants `PITCH_MIN`, `PITCH_MAX`, `PITCH_DEFAULT` (compared in `statuses`); the part names \
     it sends are compared with the properties in `request_shape`",
)];

fn schema_of<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schemars schema serializes")
}

/// What each Rust type stands for: a component (`CoverResponse`) or an operation's parameter
/// (`getConversionById.conversionType`), with the type's schemars schema.
fn rust_types() -> Vec<(&'static str, Value)> {
    vec![
        ("Conversion", schema_of::<types::Conversion>()),
        (
            "ConversionResponse",
            schema_of::<types::ConversionResponse>(),
        ),
        ("ConversionStatus", schema_of::<types::ConversionStatus>()),
        ("Cost", schema_of::<types::Cost>()),
        ("CoverResponse", schema_of::<types::CoverResponse>()),
        ("CoverWebhook", schema_of::<types::CoverWebhook>()),
        ("Error", schema_of::<types::Error>()),
        ("ValidationIssue", schema_of::<types::ValidationIssue>()),
        ("Voice", schema_of::<types::Voice>()),
        ("VoiceList", schema_of::<types::VoiceList>()),
        (
            "getConversionById.conversionType",
            schema_of::<types::GetConversionByIdConversionType>(),
        ),
    ]
}

/// The spec's schema for a name of [`rust_types`], converted to JSON Schema.
fn spec_schema(name: &str) -> Value {
    let spec = spec();
    match name.split_once('.') {
        Some((op, parameter)) => {
            let op = spec.operation(op);
            let parameter = spec
                .parameter(op, parameter)
                .unwrap_or_else(|| panic!("{name}: no such parameter in openapi.yaml"));
            schema::convert(parameter.get("schema").unwrap_or(&Value::Null))
        }
        None => schema::convert(spec.schema(name)),
    }
}

fn rust_shape(schema: &Value) -> Result<Shape, String> {
    let defs = schema
        .get("definitions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Shape::read(schema, &defs).map(|(shape, _)| shape)
}

fn spec_shape(schema: &Value, defs: &Map<String, Value>) -> Result<Shape, String> {
    Shape::read(schema, defs).map(|(shape, _)| shape)
}

#[test]
fn every_spec_component_has_a_rust_counterpart() {
    let covered: Vec<&str> = rust_types().iter().map(|(name, _)| *name).collect();
    let problems: Vec<String> = spec()
        .schemas()
        .keys()
        .filter(|name| {
            !covered.contains(&name.as_str()) && !NOT_A_RUST_TYPE.iter().any(|(n, _)| n == name)
        })
        .map(|name| {
            format!("component {name} has no Rust type in this suite's table (types.rs): add it")
        })
        .chain(
            covered
                .iter()
                .filter(|name| !name.contains('.') && !spec().schemas().contains_key(**name))
                .map(|name| format!("{name} is in the table but not in openapi.yaml any more")),
        )
        .collect();
    assert_none(&problems, "spec components");
}

#[test]
fn client_types_are_equivalent_to_their_spec_schemas() {
    let defs = schema::defs(spec());
    let mut problems = Vec::new();
    let mut report = serde_json::Map::new();
    for (name, rust) in rust_types() {
        let spec_side = spec_shape(&spec_schema(name), &defs);
        let rust_side = rust_shape(&rust);
        let (spec_side, rust_side) = match (spec_side, rust_side) {
            (Ok(s), Ok(r)) => (s, r),
            (s, r) => {
                problems.push(format!("{name}: cannot normalise: spec {s:?}, Rust {r:?}"));
                continue;
            }
        };
        let mut comparison = Comparison::default();
        compare(&spec_side, &rust_side, name, &mut comparison);
        problems.extend(comparison.mismatches.iter().cloned());
        report.insert(
            name.to_owned(),
            json!({
                "spec": outline(&spec_side),
                "not_stated_by_the_rust_type": comparison.unstated,
            }),
        );
    }
    for (name, why) in NOT_A_RUST_TYPE {
        match spec_shape(&spec_schema(name), &defs) {
            Ok(shape) => {
                report.insert(
                    name.to_owned(),
                    json!({ "spec": outline(&shape), "not_a_rust_type": why }),
                );
            }
            Err(e) => problems.push(format!("{name}: cannot normalise: {e}")),
        }
    }
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("spec_components", report));
    assert_none(&problems, "client types against the spec");
}

/// A type of this test's own, standing for [`sample_spec`]: the normaliser's self-test does not
/// depend on what openapi.yaml holds today.
#[derive(schemars::JsonSchema)]
#[allow(dead_code, reason = "only its JsonSchema derive reads the fields")]
struct Sample {
    id: uuid::Uuid,
    count: u64,
    note: Option<String>,
}

/// The OpenAPI schema [`Sample`] stands for.
fn sample_spec() -> Value {
    json!({
        "type": "object",
        "required": ["id", "count"],
        "properties": {
            "id": { "type": "string", "format": "uuid" },
            "count": { "type": "integer", "minimum": 0 },
            "note": { "type": "string", "nullable": true, "example": "x" },
        },
    })
}

/// The comparison bites: a schema changed in one place only (a field renamed, a required field
/// made optional, a bound the Rust type states moved, a format changed) no longer matches.
#[test]
fn a_one_sided_change_is_caught() {
    let rust = rust_shape(&schema_of::<Sample>()).expect("Sample normalises");
    let mismatches = |changed: &Value| {
        let shape = spec_shape(&schema::convert(changed), &Map::new()).expect("normalises");
        let mut comparison = Comparison::default();
        compare(&shape, &rust, "Sample", &mut comparison);
        comparison.mismatches
    };
    let original = sample_spec();
    assert_eq!(
        mismatches(&original),
        Vec::<String>::new(),
        "the unchanged schema matches"
    );

    let mut renamed = original.clone();
    let count = renamed["properties"]
        .as_object_mut()
        .and_then(|p| p.remove("count"))
        .expect("count");
    renamed["properties"]["total"] = count;
    renamed["required"] = json!(["id", "total"]);
    let found = mismatches(&renamed);
    assert!(
        found
            .iter()
            .any(|m| m.contains("Sample.total: in the spec, not in the Rust type"))
            && found
                .iter()
                .any(|m| m.contains("Sample.count: in the Rust type, not in the spec")),
        "a renamed field is caught: {found:?}"
    );

    let mut optional = original.clone();
    optional["required"] = json!(["id"]);
    let found = mismatches(&optional);
    assert!(
        found
            .iter()
            .any(|m| m.contains("Sample.count: optional in the spec, required in Rust")),
        "a required field made optional is caught: {found:?}"
    );

    let mut bound = original.clone();
    bound["properties"]["count"]["minimum"] = json!(1);
    let found = mismatches(&bound);
    assert!(
        found.iter().any(|m| m.contains("Sample.count: minimum")),
        "a moved bound the Rust type states is caught: {found:?}"
    );

    let mut format = original;
    format["properties"]["id"]["format"] = json!("uri");
    let found = mismatches(&format);
    assert!(
        found.iter().any(|m| m.contains("Sample.id: format")),
        "a changed format is caught: {found:?}"
    );
}
