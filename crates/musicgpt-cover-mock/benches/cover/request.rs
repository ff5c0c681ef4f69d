//! The requests as the bench sends them: the key and the whole HTTP/1.1 request, so every server
//! gets exactly the same bytes (but for its path prefix and `host`) and the load generator only
//! clones a `Bytes` per request; and one request that must be answered 200.

use std::net::SocketAddr;

use axum::http::{StatusCode, header};
use bytes::Bytes;

use crate::common::http1::{form_type, request};

/// Any non-empty key is accepted by a mock started without `--api-key`, and by Prism.
pub(crate) const KEY: &str = "bench-key";

/// The whole HTTP/1.1 request, head and body, as the raw load generator writes it: `Accept:
/// application/json` (the answer's type; Prism answers 406 to the reference page's
/// `multipart/form-data`), the key, and for a body its type and length.
pub(crate) fn raw_request(
    method: &str,
    addr: SocketAddr,
    path_and_query: &str,
    body: Option<&[u8]>,
) -> Bytes {
    let (host, form) = (addr.to_string(), form_type());
    let mut headers = vec![("host", host.as_str()), ("authorization", KEY)];
    headers.push(("accept", "application/json"));
    headers.extend(body.map(|_| ("content-type", form.as_str())));
    Bytes::from(request(
        method,
        path_and_query,
        &headers,
        body.unwrap_or_default(),
    ))
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
        request = request.header(header::CONTENT_TYPE, form_type()).body(body);
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
