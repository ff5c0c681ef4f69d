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
        return multer::parse_boundary(text)
            .map(|boundary| Encoding::Multipart { boundary })
            .map_err(|_| "Content-Type multipart/form-data has no boundary parameter".to_owned());
    }
    if urlencoded && essence.eq_ignore_ascii_case(URLENCODED) {
        return Ok(Encoding::Urlencoded);
    }
    Err(format!(
        "Content-Type must be {expected}, got {}",
        quoted(text)
    ))
}
