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

/// The bytes of the text field `name` as text: a spec'd string field must be UTF-8 (a
/// replacement character in place of a bad byte would pass for text the client never sent). Any
/// character is text, U+0000 too: the schema's `type: string` allows it, and so does FastAPI.
/// `overflow`: the bytes were cut at a bound, maybe inside a character, which is not held
/// against them (the value is refused as too long anyway).
pub(crate) fn text_of<'b>(
    name: &str,
    bytes: &'b [u8],
    overflow: bool,
) -> Result<&'b str, FormError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // A character cut at the bound: the text before it.
        Err(e) if overflow && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(e) => {
            let at = e.valid_up_to();
            let bad = &bytes[at..bytes.len().min(at + e.error_len().unwrap_or(1))];
            return Err(FormError::Invalid(format!(
                "{name} is not valid UTF-8: byte {at} starts an invalid sequence ({}); send text fields as UTF-8",
                bad.escape_ascii()
            )));
        }
    };
    Ok(text)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_must_be_utf8() {
        assert_eq!(text_of("voice_id", b"Drake", false), Ok("Drake"));
        let Err(FormError::Invalid(why)) = text_of("voice_id", b"Dr\xffake", false) else {
            panic!("invalid UTF-8 accepted")
        };
        assert!(
            why.starts_with("voice_id is not valid UTF-8: byte 2"),
            "{why}"
        );
        assert_eq!(text_of("voice_id", b"a\0b", false), Ok("a\0b"));
        // "é" cut in half at the bound is not an encoding error.
        assert_eq!(text_of("voice_id", b"caf\xc3", true), Ok("caf"));
        assert!(text_of("voice_id", b"caf\xc3", false).is_err());
    }
}
