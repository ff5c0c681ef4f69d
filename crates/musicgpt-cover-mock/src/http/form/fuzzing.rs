//! The door the fuzzer (`fuzz/`, target `form`) comes in by: the Cover form's real readers run on
//! a body given as bytes, with no server, router or key around them.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use bytes::Bytes;

use super::{Encoding, FormError, encoding, multipart, urlencoded};
use crate::domain::journal::FormLog;
use crate::spec::Value;

/// What `POST /v1/Cover` makes of a form with this `Content-Type`, its body arriving in these
/// pieces (where they are cut must not matter): the fields accepted, in the spec's order, as
/// `(name, value)` with an integer in decimal and a file as `file:<size>`; or the status the
/// route would answer with and why. The checks are the route's up to the form's `anyOf` (422);
/// the audio URL's own rules and everything after come later, in the route.
///
/// Not an API: it exists for the fuzz targets and may change at any time.
///
/// # Errors
///
/// The refusal: the status (400 for a `Content-Type` that is not a header value, as hyper
/// answers) and its text.
#[doc(hidden)]
pub fn check_cover_form(
    content_type: &str,
    pieces: &[&[u8]],
    max_upload: u64,
) -> Result<Vec<(String, String)>, (u16, String)> {
    let spec = crate::spec::spec().map_err(|e| (500, e))?;
    let op = &spec.cover;
    let invalid = op.invalid_status.as_u16();
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(content_type)
        .map_err(|e| (400, format!("Content-Type is not a header value: {e}")))?;
    headers.insert(header::CONTENT_TYPE, value);
    let encoding = encoding(&headers, op.urlencoded.is_some()).map_err(|why| (invalid, why))?;
    let form_spec = match &encoding {
        Encoding::Multipart { .. } => op.form.as_ref(),
        Encoding::Urlencoded => op.urlencoded.as_ref(),
    }
    .ok_or((500, "the spec documents no such form".to_owned()))?;
    // Owned pieces: a body stream must be 'static.
    let chunks: Vec<Result<Bytes, Infallible>> = pieces
        .iter()
        .map(|p| Ok(Bytes::copy_from_slice(p)))
        .collect();
    let body = Body::from_stream(futures::stream::iter(chunks));
    let mut record = FormLog::default();
    // The readers await only the body, which is all here: no runtime needed.
    let read = futures::executor::block_on(async {
        match encoding {
            // No upload store: the fuzzer checks the reading, not the disk.
            Encoding::Multipart { boundary } => {
                multipart::read(form_spec, body, boundary, max_upload, None, &mut record)
                    .await
                    .map(|(values, _)| values)
            }
            Encoding::Urlencoded => {
                urlencoded::read(form_spec, body, max_upload, &mut record).await
            }
        }
    });
    let values = read.map_err(|e| match e {
        FormError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE.as_u16(), String::new()),
        FormError::Stalled(why) => (StatusCode::REQUEST_TIMEOUT.as_u16(), why),
        FormError::Invalid(why) => (invalid, why),
    })?;
    if !form_spec.alternatives_met(&values) {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY.as_u16(),
            spec.cover_fields.no_song(form_spec),
        ));
    }
    Ok(form_spec
        .fields
        .iter()
        .zip(values)
        .filter_map(|(rule, value)| {
            let text = match value? {
                Value::Text(t) => t,
                Value::Integer(n) => n.to_string(),
                Value::File { size, .. } => format!("file:{size}"),
            };
            Some((rule.name.clone(), text))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The door opens on the real readers: the reference page's curl form is accepted, in one
    /// piece or cut anywhere.
    #[test]
    fn the_curl_form_passes_in_any_pieces() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"voice_id\"\r\n\r\nDrake\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"audio_url\"\r\n\r\nhttps://www.youtube.com/watch?v=jGflUbPQfW8\r\n\
--XyZ--\r\n";
        let whole = check_cover_form("multipart/form-data; boundary=XyZ", &[body], 1 << 20);
        let fields = whole.clone().expect("accepted");
        assert!(fields.contains(&("voice_id".to_owned(), "Drake".to_owned())));
        for cut in 1..body.len() {
            let (a, b) = body.split_at(cut);
            let cut_up = check_cover_form("multipart/form-data; boundary=XyZ", &[a, b], 1 << 20);
            assert_eq!(cut_up, whole, "cut at {cut}");
        }
        let refused = check_cover_form("application/x-www-form-urlencoded", &[b"pitch=3"], 1 << 20);
        assert!(matches!(refused, Err((400 | 422, _))), "{refused:?}");
    }

    /// Found by the `form` fuzz target (its input, trimmed): the size of a url-encoded file hung
    /// on where the body was cut, since a `%XX` cut in two was counted as more than one byte.
    #[test]
    fn a_url_encoded_file_has_one_size_however_the_body_is_cut() {
        let body = b"voice_id=Drake&pitch=-12&audio_file=RIFF%80%00%0e_id%4%41%%zz%00WAVE";
        let whole = check_cover_form("application/x-www-form-urlencoded", &[body], 256);
        assert!(
            whole.as_ref().is_ok_and(
                |fields| fields.contains(&("audio_file".to_owned(), "file:22".to_owned()))
            ),
            "{whole:?}"
        );
        for cut in 1..body.len() {
            let (a, b) = body.split_at(cut);
            let cut_up = check_cover_form("application/x-www-form-urlencoded", &[a, b], 256);
            assert_eq!(cut_up, whole, "cut at {cut}");
        }
    }
}
