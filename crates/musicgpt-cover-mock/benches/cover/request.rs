//! The Cover request as the bench sends it: its path and key, and its multipart body written by
//! hand, so both servers get exactly the same bytes and the load generator only clones a `Bytes`
//! per request; and one request that must be answered 200.

use axum::http::{StatusCode, header};
use bytes::Bytes;

/// Any non-empty key is accepted by a mock started without `--api-key`.
pub(crate) const KEY: &str = "bench-key";
/// The Cover operation's path, on both servers.
pub(crate) const COVER_PATH: &str = "/api/public/v1/Cover";
/// A curl-like boundary; the same bytes go to both servers.
const BOUNDARY: &str = "------------------------b3nchMA4YWxkTrZu0gW";

pub(crate) fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

pub(crate) fn text_part(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .as_bytes(),
    );
}

pub(crate) fn file_head() -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"song.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n"
    )
    .into_bytes()
}

pub(crate) fn closing() -> Vec<u8> {
    format!("--{BOUNDARY}--\r\n").into_bytes()
}

/// Bytes that look like compressed audio (no long runs for the boundary search to skip): a
/// xorshift generator's output.
pub(crate) fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// One request to `target`, which must answer 200; returns the answer's text.
pub(crate) async fn probe(
    client: &reqwest::Client,
    url: &str,
    body: Bytes,
) -> Result<String, String> {
    let response = client
        .post(url)
        .header(header::AUTHORIZATION, KEY)
        .header(header::ACCEPT, "multipart/form-data")
        .header(header::CONTENT_TYPE, content_type())
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{url}: {e}"))?;
    if status == StatusCode::OK {
        Ok(text)
    } else {
        Err(format!("{url} answered {status}: {text}"))
    }
}
