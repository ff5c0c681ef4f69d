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

use super::fields::{FORM_OVERHEAD, FormError, MAX_PARTS, MAX_TEXT_BYTES, text_of, text_value};
use crate::domain::journal::FormLog;
use crate::http::respond::with_causes;
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
            None => FormError::Invalid(format!(
                "reading the request body failed: {}",
                with_causes(&e)
            )),
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
    /// A binary field's value: counted, as decoded bytes, never kept. `escape`: inside a `%XX`
    /// escape cut at the end of a piece, the hex digits seen after its `%` so far.
    Binary {
        index: usize,
        size: u64,
        escape: Option<u8>,
    },
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
            Target::Binary { size, escape, .. } => {
                // Counted exactly, whatever the pieces: where the network cuts a body must not
                // change the size, nor whether it is over the limit.
                *size += decoded_len(bytes, escape);
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
        // A name that is not UTF-8 is refused once the pair ends.
        let name = std::str::from_utf8(&name).unwrap_or_default();
        Ok(match self.spec.index_of(name) {
            Some(index) if self.spec.fields[index].kind == ValueKind::Binary => Target::Binary {
                index,
                size: 0,
                escape: None,
            },
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
        let name = String::from_utf8(decode(&std::mem::take(&mut self.name))).map_err(|e| {
            FormError::Invalid(format!(
                "the name of form field {} is not valid UTF-8 once percent-decoded ({}); send names as UTF-8",
                self.pairs,
                e.as_bytes().escape_ascii()
            ))
        })?;
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
            Target::Binary {
                index,
                size,
                escape,
            } => {
                // A `%` the value ends on, with fewer than two hex digits, stays as it is.
                let size = size + escape.map_or(0, |digits| 1 + u64::from(digits));
                if size > self.max_upload {
                    return Err(FormError::TooLarge);
                }
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
            Target::Name => (Vec::new(), false),
        };
        // The journal shows what came, also when it is not text.
        record.text_field(&name, &String::from_utf8_lossy(&text), overflow);
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
        let text = text_of(&rule.name, &text, overflow)?;
        self.values[i] = Some(text_value(rule, text, overflow)?);
        Ok(())
    }
}

/// How many bytes `bytes` decode to, as [`decode`] decodes them, with an escape cut at the end
/// of one piece carried over to the next in `escape` (the hex digits seen after its `%`).
fn decoded_len(bytes: &[u8], escape: &mut Option<u8>) -> u64 {
    let mut len = 0;
    for &b in bytes {
        if let Some(digits) = *escape {
            if b.is_ascii_hexdigit() {
                if digits == 1 {
                    len += 1;
                    *escape = None;
                } else {
                    *escape = Some(1);
                }
                continue;
            }
            // Not an escape after all: the `%` and a digit after it stay as they are.
            len += 1 + u64::from(digits);
            *escape = None;
        }
        if b == b'%' {
            *escape = Some(0);
        } else {
            len += 1;
        }
    }
    len
}

/// One percent-encoded component (`+` is a space), decoded to bytes, which the caller checks are
/// text. A `%` not followed by two hex digits stays as it is, as `form_urlencoded` leaves it.
pub(crate) fn decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                raw.get(i + 1).and_then(|&b| hex(b)),
                raw.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits make one byte.
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `form` fuzz target: an escape cut between two pieces was counted as two or
    /// three bytes, so a file's size (and whether it was over the limit) hung on the cut.
    #[test]
    fn a_binary_value_counts_as_decode_decodes_it_in_any_pieces() {
        for raw in [
            &b"RIFF%80%00%0e_id%4%41%%zz%"[..],
            b"%",
            b"%4",
            b"%41",
            b"a+b%3D",
            b"",
        ] {
            let decoded = decode(raw).len() as u64;
            let mut escape = None;
            let whole =
                decoded_len(raw, &mut escape) + escape.map_or(0, |digits| 1 + u64::from(digits));
            assert_eq!(whole, decoded, "{}", raw.escape_ascii());
            for cut in 0..=raw.len() {
                let (a, b) = raw.split_at(cut);
                let mut escape = None;
                let cut_up = decoded_len(a, &mut escape)
                    + decoded_len(b, &mut escape)
                    + escape.map_or(0, |digits| 1 + u64::from(digits));
                assert_eq!(cut_up, decoded, "{} cut at {cut}", raw.escape_ascii());
            }
        }
    }

    #[test]
    fn decodes_plus_and_percent_escapes() {
        assert_eq!(decode(b"a+b%3Dc%26d"), b"a b=c&d");
        assert_eq!(decode(b"%FF"), b"\xff");
        assert_eq!(decode(b"%e2%82%AC"), "\u{20ac}".as_bytes());
        assert_eq!(decode(b"100%"), b"100%");
        assert_eq!(decode(b"%4"), b"%4");
        assert_eq!(decode(b"%zz"), b"%zz");
        assert_eq!(decode(b""), b"");
    }
}
