//! The requests as the bench sends them: the key, the multipart body written by hand, and the
//! whole HTTP/1.1 request, so every server gets exactly the same bytes (but for its path prefix and
//! `host`) and the load generator only clones a `Bytes` per request; and one request that must be
//! answered 200.

use std::net::SocketAddr;

use axum::http::{StatusCode, header};
use bytes::Bytes;

/// Any non-empty key is accepted by a mock started without `--api-key`, and by Prism.
pub(crate) const KEY: &str = "bench-key";
/// A curl-like boundary; the same bytes go to every server.
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

/// The whole HTTP/1.1 request, head and body, as the raw load generator writes it: `Accept:
/// application/json` (the answer's type; Prism answers 406 to the reference page's
/// `multipart/form-data`), the key, and for a body its type and length.
pub(crate) fn raw_request(
    method: &str,
    addr: SocketAddr,
    path_and_query: &str,
    body: Option<&[u8]>,
) -> Bytes {
    let mut request = format!(
        "{method} {path_and_query} HTTP/1.1\r\nhost: {addr}\r\nauthorization: {KEY}\r\naccept: application/json\r\n"
    );
    if let Some(body) = body {
        request.push_str(&format!(
            "content-type: {}\r\ncontent-length: {}\r\n",
            content_type(),
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    if let Some(body) = body {
        request.extend_from_slice(body);
    }
    Bytes::from(request)
}

/// One request through reqwest, which must be answered 200; returns the answer's text.
pub(crate) async fn probe(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<Bytes>,
) -> Result<String, String> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = client
        .request(method, url)
        .header(header::AUTHORIZATION, KEY)
        .header(header::ACCEPT, "application/json");
    if let Some(body) = body {
        request = request
            .header(header::CONTENT_TYPE, content_type())
            .body(body);
    }
    let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{url}: {e}"))?;
    if status == StatusCode::OK {
        Ok(text)
    } else {
        Err(format!("{url} answered {status}: {text}"))
    }
}
