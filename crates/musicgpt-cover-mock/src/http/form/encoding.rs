//! Which form encoding a request's Content-Type names, or what is wrong with it.

use axum::http::{HeaderMap, header};

use crate::spec::{MULTIPART, URLENCODED, quoted};

/// How a form request's body is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `multipart/form-data`, with its boundary.
    Multipart { boundary: String },
    /// `application/x-www-form-urlencoded`.
    Urlencoded,
}

/// The encoding of a form request, or what is wrong with its Content-Type. `urlencoded` says
/// whether the operation documents a url-encoded body beside the multipart one.
pub(crate) fn encoding(headers: &HeaderMap, urlencoded: bool) -> Result<Encoding, String> {
    let expected = if urlencoded {
        "multipart/form-data or application/x-www-form-urlencoded"
    } else {
        MULTIPART
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(format!("Content-Type must be {expected}, got none"));
    };
    let text = value
        .to_str()
        .map_err(|_| "Content-Type is not valid text".to_owned())?;
    let essence = text.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(MULTIPART) {
        let boundary = multer::parse_boundary(text).map_err(|_| {
            format!(
                "Content-Type multipart/form-data has no boundary parameter, or one that cannot be read: {}",
                quoted(text)
            )
        })?;
        check_boundary(&boundary)?;
        return Ok(Encoding::Multipart { boundary });
    }
    if urlencoded && essence.eq_ignore_ascii_case(URLENCODED) {
        return Ok(Encoding::Urlencoded);
    }
    Err(format!(
        "Content-Type must be {expected}, got {}",
        quoted(text)
    ))
}

/// Longest multipart boundary (RFC 2046 section 5.1.1).
const MAX_BOUNDARY: usize = 70;

/// A boundary as RFC 2046 defines it: 1 to 70 characters from its `bchars` (letters, digits,
/// `'()+_,-./:=?` and a space, but not last). A parser given anything else finds nothing or the
/// wrong thing.
fn check_boundary(boundary: &str) -> Result<(), String> {
    let rule = "a boundary is 1 to 70 letters, digits or '()+_,-./:=? (RFC 2046)";
    if boundary.is_empty() {
        return Err(format!(
            "the multipart boundary in Content-Type is empty; {rule}"
        ));
    }
    let len = boundary.chars().count();
    if len > MAX_BOUNDARY {
        return Err(format!(
            "the multipart boundary in Content-Type is {len} characters long; {rule}"
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    if let Some(c) = boundary.chars().find(|&c| !allowed(c)) {
        return Err(format!(
            "the multipart boundary {} in Content-Type holds {c:?}; {rule}",
            quoted(boundary)
        ));
    }
    if boundary.ends_with(' ') {
        return Err(format!(
            "the multipart boundary {} in Content-Type ends with a space; {rule}",
            quoted(boundary)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn of(content_type: &str) -> Result<Encoding, String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("a header value"),
        );
        encoding(&headers, true)
    }

    #[test]
    fn boundaries_follow_rfc_2046() {
        let longest = "b".repeat(70);
        assert_eq!(
            of(&format!("multipart/form-data; boundary={longest}")),
            Ok(Encoding::Multipart { boundary: longest })
        );
        // What reqwest, browsers and curl send.
        for ok in [
            "0123456789abcdef-0123456789abcdef-0123456789abcdef-0123456789abcdef",
            "----WebKitFormBoundary7MA4YWxkTrZu0gW",
            "\"a b'()+_,-./:=?\"",
        ] {
            assert!(
                of(&format!("multipart/form-data; boundary={ok}")).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"\"",
            "multipart/form-data; boundary=\"a@b\"",
            "multipart/form-data; boundary=\"ab \"",
            &format!("multipart/form-data; boundary={}", "b".repeat(71)),
        ] {
            let why = of(bad).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(why.contains("boundary"), "{why}");
        }
    }
}
