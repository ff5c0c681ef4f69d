//! JSON text written straight into byte buffers, for answers rendered without a value tree.

use serde::Serialize;

pub(crate) fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing a string or a number into a Vec cannot fail; a failure would only drop the
    // value, which the contract tests would catch.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    write_json(&mut out, s);
    out
}
