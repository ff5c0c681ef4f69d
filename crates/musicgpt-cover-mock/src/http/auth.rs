//! The API key of a request: the raw `Authorization` value, as the API takes it.

use axum::http::{HeaderMap, header};

use crate::domain::AuthError;
use crate::domain::credits::check_key;

/// What the 403 for a `Bearer` key says: the API's own "Invalid API key", then what to fix. The
/// prefix is the mistake a client most likely makes (most APIs want it; this one does not).
pub(crate) const BEARER_REFUSED: &str = "Invalid API key: send the raw key as the Authorization header's whole value (Authorization: YOUR_KEY), without the \"Bearer \" prefix";

/// The key of a request: the raw `Authorization` value, trimmed. No header, or only whitespace,
/// is a missing key (401); a `Bearer` prefix, or a value that cannot be a key (too long, not
/// visible ASCII: see [`check_key`]), is refused (403) before the ledger sees it.
pub(crate) fn request_key(headers: &HeaderMap) -> Result<&str, AuthError> {
    let key = (headers.get(header::AUTHORIZATION)).map_or(&[][..], |v| v.as_bytes().trim_ascii());
    if key.is_empty() {
        return Err(AuthError::Missing);
    }
    // The API takes the raw key; a `Bearer` prefix is a client bug worth failing loudly on.
    if key.len() > 7 && key[..7].eq_ignore_ascii_case(b"bearer ") {
        return Err(AuthError::Bearer);
    }
    check_key(key).map_err(AuthError::Malformed)?;
    // Visible ASCII, so UTF-8.
    std::str::from_utf8(key).map_err(|_| AuthError::Refused)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::domain::credits::{KeyError, MAX_KEY_BYTES};

    #[test]
    fn reads_the_raw_key() {
        let mut h = HeaderMap::new();
        assert_eq!(request_key(&h), Err(AuthError::Missing));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("  "));
        assert_eq!(request_key(&h), Err(AuthError::Missing));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(request_key(&h), Err(AuthError::Bearer));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(request_key(&h), Err(AuthError::Bearer));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static(" abc "));
        assert_eq!(request_key(&h), Ok("abc"));
    }

    #[test]
    fn bounds_what_a_key_may_be() {
        let mut h = HeaderMap::new();
        let longest = "k".repeat(MAX_KEY_BYTES);
        let set = |h: &mut HeaderMap, v: &[u8]| {
            h.insert(
                header::AUTHORIZATION,
                HeaderValue::from_bytes(v).expect("a header value"),
            );
        };
        set(&mut h, longest.as_bytes());
        assert_eq!(request_key(&h), Ok(longest.as_str()));
        set(&mut h, "k".repeat(100 * 1024).as_bytes());
        assert_eq!(
            request_key(&h),
            Err(AuthError::Malformed(KeyError::TooLong(100 * 1024)))
        );
        for bad in [&b"two words"[..], b"k\xffey", b"tab\there"] {
            set(&mut h, bad);
            assert_eq!(
                request_key(&h),
                Err(AuthError::Malformed(KeyError::NotVisible)),
                "{bad:?}"
            );
        }
    }
}
