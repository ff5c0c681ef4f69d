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

/// Found by the fuzzer as `operationId: -0bupload` on a multipart operation: the builder's method
/// would be `0bupload`, which `format_ident!` refused with a panic. It is an error now, naming
/// the operationId; so is a keyword.
#[test]
fn an_operation_id_that_makes_no_rust_identifier_is_an_error_not_a_panic() {
    for bad in ["-0bupload", "type", "?!"] {
        let mut spec: Value =
            serde_norway::from_str(&crate::spec_yaml()).expect("the spec is YAML");
        let cover = spec["paths"]
            .as_mapping_mut()
            .and_then(|paths| {
                paths.values_mut().find(|item| {
                    item["post"]["requestBody"]["content"]["multipart/form-data"].is_mapping()
                })
            })
            .expect("a multipart operation");
        cover["post"]["operationId"] = Value::String(bad.to_owned());
        let text = serde_norway::to_string(&spec).expect("YAML again");
        match generate(&text) {
            Err(CodegenError::Unsupported(message)) => {
                assert!(message.contains(bad), "{message}");
            }
            Err(other) => panic!("another error than expected for {bad:?}: {other}"),
            Ok(_) => panic!("operationId {bad:?} generated a client"),
        }
    }
}
