//! What both form readers share: the limits, why a form is refused, and a text value checked
//! against its rule.

use crate::spec::{Checked, Rule, Value, ValueKind, quoted};

/// Longest text field, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Most parts in one form.
pub const MAX_PARTS: usize = 64;
/// Bytes of a body beyond the upload limit that the other parts and the framing may take.
pub(crate) const FORM_OVERHEAD: u64 = 1 << 20;

/// Why a form was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FormError {
    /// An upload over the limit: 413.
    TooLarge,
    /// The body paused too long or came too slowly: 408, and the connection is closed.
    Stalled(String),
    /// Anything else: the documented validation status, with this text.
    Invalid(String),
}

/// A text field's value checked against its rule; `overflow` when the text was cut at
/// [`MAX_TEXT_BYTES`].
pub(crate) fn text_value(rule: &Rule, text: &str, overflow: bool) -> Result<Value, FormError> {
    if overflow {
        if rule.kind == ValueKind::Integer {
            return Err(FormError::Invalid(format!(
                "{} must be {}, got {}",
                rule.name,
                integer_words(rule.minimum, rule.maximum),
                quoted(text)
            )));
        }
        return Err(FormError::Invalid(format!(
            "field {} is longer than {MAX_TEXT_BYTES} bytes",
            rule.name
        )));
    }
    Ok(match rule.check(text).map_err(FormError::Invalid)? {
        Checked::Integer(n) => Value::Integer(n),
        Checked::Text(t) => Value::Text(t.to_owned()),
    })
}

fn integer_words(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("an integer between {lo} and {hi}"),
        _ => "an integer".to_owned(),
    }
}
