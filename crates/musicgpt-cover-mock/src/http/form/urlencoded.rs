//! Streaming reading of a url-encoded form (`application/x-www-form-urlencoded`), checked field
//! by field with the same rules as the multipart form (`multipart`).
//!
//! The reference page's first Python sample sends the Cover form this way
//! (`requests.post(url, data=payload)`, no file). The body is read as it arrives: a pair's name
//! and a text value are kept up to a bound, and the value of a `format: binary` field (a file's
//! bytes, percent-encoded, which is all a url-encoded body can carry) is only counted, so a large
//! body is never held in memory.

use axum::body::Body;
use futures::StreamExt;

use super::fields::{FORM_OVERHEAD, FormError, MAX_PARTS, MAX_TEXT_BYTES, text_value};
use crate::domain::journal::FormLog;
use crate::http::stall::BodyStalled;
use crate::spec::{FormSpec, Value, ValueKind};

/// Longest field name, in bytes as sent (percent-encoded).
const MAX_NAME_BYTES: usize = 1024;
/// Longest text value kept, in bytes as sent: every byte of [`MAX_TEXT_BYTES`] percent-encoded.
const MAX_ENCODED_TEXT: usize = 3 * MAX_TEXT_BYTES;

/// Reads and checks a url-encoded form. `record` gets every field as it is seen, for the
/// journal, also when the form is rejected.
pub(crate) async fn read(
    spec: &FormSpec,
    body: Body,
    max_upload: u64,
    record: &mut FormLog,
) -> Result<Vec<Option<Value>>, FormError> {
    let limit = max_upload.saturating_add(FORM_OVERHEAD);
    let mut reader = Reader::new(spec, max_upload);
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| match BodyStalled::find(&e) {
            Some(stalled) => FormError::Stalled(stalled.to_string()),
            None => FormError::Invalid(format!("reading the request body failed: {e}")),
        })?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(FormError::TooLarge);
        }
        let mut rest: &[u8] = &chunk;
        while let Some(at) = rest.iter().position(|&b| b == b'&') {
            reader.feed(&rest[..at])?;
            reader.end_pair(record)?;
            rest = &rest[at + 1..];
        }
        reader.feed(rest)?;
    }
    reader.end_pair(record)?;
    spec.required_given(&reader.values)
        .map_err(FormError::Invalid)?;
    Ok(reader.values)
}

/// Where the bytes of the current pair go.
enum Target {
    /// Still reading the name.
    Name,
    /// A text value (or a field the spec does not name), kept up to [`MAX_ENCODED_TEXT`].
    Text { overflow: bool },
    /// A binary field's value: counted, as decoded bytes, never kept.
    Binary { index: usize, size: u64 },
}

struct Reader<'s> {
    spec: &'s FormSpec,
    max_upload: u64,
    values: Vec<Option<Value>>,
    /// One bit per spec field already given.
    seen: u64,
    pairs: usize,
    name: Vec<u8>,
    value: Vec<u8>,
    target: Target,
}

impl<'s> Reader<'s> {
    fn new(spec: &'s FormSpec, max_upload: u64) -> Self {
        Reader {
            spec,
            max_upload,
            values: vec![None; spec.fields.len()],
            seen: 0,
            pairs: 0,
            name: Vec::new(),
            value: Vec::new(),
            target: Target::Name,
        }
    }

    /// Bytes of the current pair (no `&` among them).
    fn feed(&mut self, mut bytes: &[u8]) -> Result<(), FormError> {
        if matches!(self.target, Target::Name) {
            let (name, value) = match bytes.iter().position(|&b| b == b'=') {
                Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
                None => (bytes, None),
            };
            if self.name.len() + name.len() > MAX_NAME_BYTES {
                return Err(FormError::Invalid(format!(
                    "a field name is longer than {MAX_NAME_BYTES} bytes"
                )));
            }
            self.name.extend_from_slice(name);
            let Some(value) = value else {
                return Ok(());
            };
            self.target = self.value_target()?;
            bytes = value;
        }
        match &mut self.target {
            Target::Name => {}
            Target::Text { overflow } => {
                let room = MAX_ENCODED_TEXT.saturating_sub(self.value.len());
                if bytes.len() > room {
                    *overflow = true;
                }
                self.value
                    .extend_from_slice(&bytes[..room.min(bytes.len())]);
            }
            Target::Binary { size, .. } => {
                // Each `%XX` is one byte. (A stray `%` makes the count two bytes short: it only
                // serves the upload limit and the journal.)
                let escapes = bytes.iter().filter(|&&b| b == b'%').count();
                *size += bytes.len().saturating_sub(2 * escapes) as u64;
                if *size > self.max_upload {
                    return Err(FormError::TooLarge);
                }
            }
        }
        Ok(())
    }

    /// Where the value of the pair whose name was just read goes.
    fn value_target(&self) -> Result<Target, FormError> {
        let name = decode(&self.name);
        Ok(match self.spec.index_of(&name) {
            Some(index) if self.spec.fields[index].kind == ValueKind::Binary => {
                Target::Binary { index, size: 0 }
            }
            _ => Target::Text { overflow: false },
        })
    }

    /// The pair is complete: check it and keep its value.
    fn end_pair(&mut self, record: &mut FormLog) -> Result<(), FormError> {
        let target = std::mem::replace(&mut self.target, Target::Name);
        if self.name.is_empty() && matches!(target, Target::Name) {
            return Ok(()); // `a=1&&b=2`, or an empty body
        }
        self.pairs += 1;
        if self.pairs > MAX_PARTS {
            return Err(FormError::Invalid(format!(
                "the form has more than {MAX_PARTS} fields"
            )));
        }
        let name = decode(&std::mem::take(&mut self.name));
        let raw_value = std::mem::take(&mut self.value);
        let index = self.spec.index_of(&name).filter(|&i| i < 64);
        if let Some(i) = index {
            if self.seen & (1 << i) != 0 {
                return Err(FormError::Invalid(format!(
                    "field {name} was given more than once"
                )));
            }
            self.seen |= 1 << i;
        }
        let (text, overflow) = match target {
            Target::Binary { index, size } => {
                let slot = record.file_part(&name, None, None);
                record.file_size(slot, size);
                // Given, so present, even empty: the schema's `anyOf` asks only that `audio_file`
                // be there (unlike `audio_url`, which must be non-empty).
                self.values[index] = Some(Value::File {
                    filename: None,
                    content_type: None,
                    size,
                });
                return Ok(());
            }
            Target::Text { overflow } => (decode(&raw_value), overflow),
            // A name with no `=`: the field is given, empty.
            Target::Name => (String::new(), false),
        };
        record.text_field(&name, &text, overflow);
        let Some(i) = index else {
            // Fields the spec does not name are ignored, as in a multipart form.
            return Ok(());
        };
        let rule = &self.spec.fields[i];
        if rule.kind == ValueKind::Binary {
            // A binary field named without `=`: given, empty.
            self.values[i] = Some(Value::File {
                filename: None,
                content_type: None,
                size: 0,
            });
            return Ok(());
        }
        self.values[i] = Some(text_value(rule, &text, overflow)?);
        Ok(())
    }
}

/// One percent-encoded component (`+` is a space), decoded; invalid UTF-8 is replaced.
fn decode(raw: &[u8]) -> String {
    let mut with_eq = Vec::with_capacity(raw.len() + 1);
    with_eq.push(b'=');
    with_eq.extend_from_slice(raw);
    form_urlencoded::parse(&with_eq)
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        assert_eq!(decode(b"a+b%3Dc%26d"), "a b=c&d");
        assert_eq!(decode(b"%FF"), "\u{FFFD}");
        assert_eq!(decode(b""), "");
    }
}
