//! The API key of a request: the raw `Authorization` value, as the API takes it.

use axum::http::{HeaderMap, header};

use crate::domain::AuthError;

/// The key of a request: the raw `Authorization` value.
pub(crate) fn request_key(headers: &HeaderMap) -> Result<&str, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthError::Missing);
    };
    let key = value.to_str().map_err(|_| AuthError::Refused)?.trim();
    if key.is_empty() {
        return Err(AuthError::Missing);
    }
    // The API takes the raw key; a `Bearer` prefix is a client bug worth failing loudly on.
    if key.len() > 7 && key[..7].eq_ignore_ascii_case("bearer ") {
        return Err(AuthError::Refused);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

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
        assert_eq!(request_key(&h), Err(AuthError::Refused));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("abc"));
        assert_eq!(request_key(&h), Ok("abc"));
    }
}
