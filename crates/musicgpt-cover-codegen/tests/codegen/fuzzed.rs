//! Regression tests from the `spec` fuzz target (`cargo xtask fuzz`): specs that once made the
//! generator panic instead of returning an error.

use musicgpt_cover_codegen::{CodegenError, generate};
use serde_norway::Value;

/// The project's spec with one schema's `type` replaced.
fn with_schema_type(schema: &str, typ: &str) -> String {
    let mut spec: Value = serde_norway::from_str(&crate::spec_yaml()).expect("the spec is YAML");
    spec["components"]["schemas"][schema]["type"] = Value::String(typ.to_owned());
    serde_norway::to_string(&spec).expect("YAML again")
}

/// Found by the fuzzer as `type: ocject` on `VoiceList`: progenitor 0.15 meets a schema type
/// that is not one of OpenAPI's with `todo!("invalid type: ...")`. It is an error now.
#[test]
fn an_unknown_schema_type_is_an_error_not_a_panic() {
    let spec = with_schema_type("VoiceList", "ocject");
    match generate(&spec) {
        Err(CodegenError::ProgenitorPanicked(message)) => {
            assert!(message.contains("ocject"), "{message}");
        }
        Err(other) => panic!("another error than expected: {other}"),
        Ok(_) => panic!("a spec with `type: ocject` generated a client"),
    }
}
