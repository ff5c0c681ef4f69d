//! What the proxy says about an exchange: the `x-contract-violations` header, the journal entry
//! (with the key redacted) and an error's causes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;

use super::VIOLATIONS_HEADER;
use crate::domain::journal::{FormRecord, KEPT_HEADERS, RequestRecord, cut};
use crate::spec::validate::{Severity, Violation};

/// The most bytes the header may hold; the violations that do not fit are counted in a last
/// entry (the journal has them all).
const HEADER_BUDGET: usize = 8 * 1024;
/// The longest message the header carries, in characters.
const MESSAGE_CHARS: usize = 300;

/// Adds `x-contract-violations` when there is anything to say: a JSON array of
/// `{"location", "severity", "code", "message"}`, every non-ASCII character escaped.
pub(super) fn violations_header(response: &mut Response, found: &[Violation]) {
    if found.is_empty() {
        return;
    }
    let mut text = String::from("[");
    let mut kept = 0;
    for v in found {
        let mut short = v.clone();
        if short.message.chars().count() > MESSAGE_CHARS {
            short.message = short
                .message
                .chars()
                .take(MESSAGE_CHARS)
                .collect::<String>()
                + "…";
        }
        let entry = ascii_json(&short);
        if text.len() + entry.len() + 160 > HEADER_BUDGET {
            break;
        }
        if kept > 0 {
            text.push(',');
        }
        text.push_str(&entry);
        kept += 1;
    }
    if kept < found.len() {
        let rest = Violation {
            location: Vec::new(),
            severity: Severity::Warning,
            code: "truncated".to_owned(),
            message: format!("{} more violation(s) in the journal", found.len() - kept),
        };
        if kept > 0 {
            text.push(',');
        }
        text.push_str(&ascii_json(&rest));
    }
    text.push(']');
    if let Ok(value) = HeaderValue::from_str(&text) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(VIOLATIONS_HEADER), value);
    }
}

/// A violation as JSON text with every character outside printable ASCII written `\uXXXX`, so
/// that it is a valid header value.
fn ascii_json(v: &Violation) -> String {
    let json = serde_json::to_string(v).unwrap_or_else(|_| "{}".to_owned());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

/// The key as the journal keeps it: its length and, for a long one, its first three and last
/// four characters (`sk-…abcd`), enough to tell keys apart, never enough to use one.
pub(super) fn redact(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() >= 16 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail} (redacted, {} characters)", chars.len())
    } else {
        format!("… (redacted, {} characters)", chars.len())
    }
}

/// The exchange as the journal and a recording keep it, with its violations (its answer is
/// added once sent).
pub(super) fn request_record(
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    query: Option<&str>,
    status: u16,
    found: &[Violation],
    form: Option<FormRecord>,
) -> RequestRecord {
    let mut kept = BTreeMap::new();
    // The headers the journal keeps, the key redacted.
    for name in KEPT_HEADERS {
        let Some(value) = headers.get(name) else {
            continue;
        };
        let value = String::from_utf8_lossy(value.as_bytes());
        let value = if name == header::AUTHORIZATION {
            redact(&value)
        } else {
            cut(&value).0.to_owned()
        };
        kept.insert(name.to_owned(), value);
    }
    RequestRecord {
        method: method.as_str().to_owned(),
        path: cut(path).0.to_owned(),
        query: query.map(|q| cut(q).0.to_owned()),
        headers: kept,
        status,
        form,
        fault: None,
        violations: found.to_vec(),
        answer: None,
        replayed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_never_kept_whole() {
        let key = "sk-live-0123456789abcdef";
        let kept = redact(key);
        assert!(
            !kept.contains(key) && kept.starts_with("sk-…cdef"),
            "{kept}"
        );
        assert!(!redact("short-key").contains("short"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("sk-live-0123456789abcdef"),
        );
        let record = request_record(&Method::GET, &headers, "/p", None, 200, &[], None);
        let entry = serde_json::to_string(&record).unwrap_or_default();
        assert!(
            entry.contains("redacted") && !entry.contains(key),
            "{entry}"
        );
    }

    #[test]
    fn the_header_is_ascii_json_and_bounded() {
        let many: Vec<Violation> = (0..200)
            .map(|i| Violation::error(&["response", "body", "é"], "type", format!("{i} «x»")))
            .collect();
        let mut response = Response::new(axum::body::Body::empty());
        violations_header(&mut response, &many);
        let value = response
            .headers()
            .get(VIOLATIONS_HEADER)
            .map(|v| v.to_str().map(str::to_owned));
        let Some(Ok(text)) = value else {
            panic!("no ASCII header")
        };
        assert!(text.len() <= HEADER_BUDGET);
        let parsed: Vec<Violation> = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed[0].location[2], "é");
        assert_eq!(parsed[0].message, "0 «x»");
        let last = parsed.last().map(|v| v.code.clone());
        assert_eq!(last.as_deref(), Some("truncated"));
    }
}
