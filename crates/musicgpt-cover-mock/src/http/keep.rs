//! An answer kept as it goes out, as a [`KeptAnswer`]: a body of known size within the bound is
//! read whole at once (the mock's answers are already in memory, the proxy's checked JSON too),
//! any other is hashed as it streams, and the kept answer is handed on once the body has gone
//! (or was dropped: then it says what was sent).

use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use sha2::{Digest, Sha256};

use crate::domain::journal::{KeptAnswer, KeptBody, cut};

/// Where a kept answer goes: the journal, a recording.
pub(crate) type Then = Box<dyn FnOnce(KeptAnswer) + Send>;

/// Sends `response` on, keeping it: JSON and text bodies whole up to `bound` bytes, headers for
/// which `skip` is true left out. `then` gets the kept answer when the body has been sent (its
/// last byte handed to the connection, or the body dropped).
pub(crate) fn keep(
    response: Response,
    bound: usize,
    skip: fn(&str) -> bool,
    then: Then,
) -> Response {
    let (parts, body) = response.into_parts();
    let status = parts.status.as_u16();
    let headers = kept_headers(&parts.headers, skip);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| body.size_hint().exact());
    let kept = Kept {
        inner: body,
        read: Some(Vec::new()),
        bound,
        hash: None,
        size: 0,
        length,
        then: Some(Box::new(move |body| {
            then(KeptAnswer {
                status,
                headers,
                body,
            })
        })),
        content_type,
    };
    Response::from_parts(parts, Body::new(kept))
}

/// The headers of an answer, names in lower case, repeated ones joined.
fn kept_headers(headers: &HeaderMap, skip: fn(&str) -> bool) -> BTreeMap<String, String> {
    let mut kept: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        if skip(name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        let value = cut(&value).0;
        kept.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    kept
}

/// A body on its way out: its first `bound` bytes copied, then (past them) hashed.
struct Kept {
    inner: Body,
    /// The bytes so far, while they are within the bound.
    read: Option<Vec<u8>>,
    bound: usize,
    /// The hash of the bytes so far, once they are past the bound.
    hash: Option<Sha256>,
    size: u64,
    /// The length announced, if any: the body has gone once that many bytes have.
    length: Option<u64>,
    content_type: Option<String>,
    then: Option<Box<dyn FnOnce(KeptBody) + Send>>,
}

impl Kept {
    fn take(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        if let Some(read) = &mut self.read {
            if read.len() + data.len() <= self.bound {
                read.extend_from_slice(data);
                return;
            }
            let mut hash = Sha256::new();
            hash.update(read);
            self.read = None;
            self.hash = Some(hash);
        }
        if let Some(hash) = &mut self.hash {
            hash.update(data);
        }
    }

    fn finish(&mut self) {
        let Some(then) = self.then.take() else {
            return;
        };
        let body = match (self.read.take(), self.hash.take()) {
            (Some(read), _) => {
                KeptBody::from_bytes(self.content_type.as_deref(), &read, self.bound)
            }
            (None, Some(hash)) => KeptBody::hashed(self.size, hash),
            (None, None) => KeptBody::default(),
        };
        then(body);
    }
}

impl http_body::Body for Kept {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.take(data);
                }
                // Kept before the connection may send the last byte: a client that reads the
                // journal once it has the answer finds the answer there.
                if this.inner.is_end_stream() || this.length.is_some_and(|n| this.size >= n) {
                    this.finish();
                }
            }
            Poll::Ready(None) => this.finish(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.finish();
    }
}
