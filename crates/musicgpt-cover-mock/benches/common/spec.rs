//! What the loads send that openapi.yaml declares, read from the mock's embedded copy: where an
//! operation is, and the Cover form's examples.

use musicgpt_cover_mock::api_base_path;
use musicgpt_cover_mock::openapi_document::document;
pub(crate) use musicgpt_cover_mock::openapi_document::operation;
use serde_json::Value;

/// The path the mock serves the operation `id` at: the spec's, under its servers' base path.
pub(crate) fn api_path(id: &str) -> Result<String, String> {
    Ok(format!("{}{}", api_base_path(), operation(id)?.1))
}

/// The example of the Cover form's field `name`, as a form sends it (`Drake` for `voice_id`).
pub(crate) fn cover_example(name: &str) -> Result<String, String> {
    let pointer = format!("/components/schemas/CoverRequest/properties/{name}/example");
    match document()?.json().pointer(&pointer) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(number @ Value::Number(_)) => Ok(number.to_string()),
        _ => Err(format!(
            "openapi.yaml: CoverRequest's {name} has no example"
        )),
    }
}
