//! `GET /files/{conversion_id}.mp3|.wav`: the result audio of a completed task, with byte ranges
//! so a browser's audio element can seek.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use uuid::Uuid;

use crate::domain::MockState;
use crate::domain::ResultFile;
use crate::domain::audio::rendition;
use crate::domain::tasks::Status;
use crate::http::respond::{Segment, error_json};

pub(crate) async fn file(
    State(state): State<MockState>,
    Segment(name): Segment,
    headers: HeaderMap,
) -> Response {
    let named = || format!("result files are named {}", ResultFile::names());
    let Some((stem, ext)) =
        (name.rsplit_once('.')).filter(|(_, ext)| ext.bytes().all(|b| b.is_ascii_alphanumeric()))
    else {
        return error_json(StatusCode::NOT_FOUND, &named());
    };
    let Some(file) = ResultFile::from_ext(ext) else {
        return error_json(
            StatusCode::NOT_FOUND,
            &format!("no .{} files here; {}", ext.to_ascii_lowercase(), named()),
        );
    };
    let Ok(conversion_id) = Uuid::try_parse(stem) else {
        return error_json(
            StatusCode::NOT_FOUND,
            &format!("{stem:?} is not a conversion id"),
        );
    };
    let (task_id, pitch) = match state.completed_pitch(&conversion_id) {
        Ok(found) => found,
        Err(status) => {
            let why = match status {
                None => format!("no conversion has id {conversion_id}"),
                Some(status) => format!(
                    "conversion {conversion_id} is {}; its files exist once it is {}",
                    status.as_str(),
                    Status::Completed.as_str()
                ),
            };
            return error_json(StatusCode::NOT_FOUND, &why);
        }
    };
    // The upload's conversion when the task had one (waiting for it if it is still running),
    // else the generated tune.
    let (wav, mp3) = match state.uploads().result(&task_id).await {
        Some(made) => (made.wav.clone(), made.mp3.clone()),
        None => {
            let tune = rendition(pitch).await;
            (tune.wav.clone(), tune.mp3.clone())
        }
    };
    let bytes = match file {
        ResultFile::Mp3 => mp3,
        ResultFile::Wav => wav,
    };
    serve_bytes(bytes, file.media_type(), &headers)
}

/// The whole file, or the one byte range asked for.
fn serve_bytes(bytes: Bytes, mime: &'static str, headers: &HeaderMap) -> Response {
    let len = bytes.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, body, content_range) = match range.map(|r| parse_range(r, len)) {
        None => (StatusCode::OK, bytes, None),
        Some(Some((start, end))) => (
            StatusCode::PARTIAL_CONTENT,
            bytes.slice(usize::try_from(start).unwrap_or(0)..usize::try_from(end + 1).unwrap_or(0)),
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        Some(None) => {
            let mut r = error_json(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &format!("the file has {len} bytes"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let body_len = body.len();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
    // Not cacheable: after `/__admin/reset` a seeded mock hands out the same conversion id
    // again, maybe for another pitch, so another file.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    response
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` within `len`; `None` when it cannot be satisfied.
/// Several ranges are answered with the first.
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value
        .trim()
        .strip_prefix("bytes=")?
        .split(',')
        .next()?
        .trim();
    let (a, b) = spec.split_once('-')?;
    if len == 0 {
        return None;
    }
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 {
                return None;
            }
            (len.saturating_sub(n), len - 1)
        }
        (a, "") => (a.parse().ok()?, len - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=9-3", 100), None);
        assert_eq!(parse_range("items=1-2", 100), None);
    }
}
