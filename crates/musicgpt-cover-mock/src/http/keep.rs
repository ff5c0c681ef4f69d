//! An answer kept as it goes out: a body within the bound is kept as the pieces that were sent
//! (the mock's answers are already in memory, the proxy's checked JSON too), any other is hashed
//! as it streams, and the answer is handed on as a [`Sent`] once the body has gone (or was
//! dropped: then it says what was sent). A [`Sent`] becomes a [`KeptAnswer`] when it is read
//! (`LaterAnswer::kept`), not on every answer.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use sha2::{Digest, Sha256};

use crate::domain::journal::{KeptAnswer, KeptBody, LaterAnswer, cut};

/// Where a sent answer goes: the journal, a recording.
pub(crate) type Then = Box<dyn FnOnce(Sent) + Send>;

/// An answer as it was sent: its status, its headers and its body's pieces (or, past the bound,
/// its size and hash).
#[derive(Debug)]
pub(crate) struct Sent {
    status: u16,
    headers: HeaderMap,
    body: SentBody,
    bound: usize,
    skip: fn(&str) -> bool,
}

#[derive(Debug)]
enum SentBody {
    /// Within the bound: the bytes as they went, in the pieces they went in.
    Pieces(Vec<Bytes>),
    /// Past it, by size and hash; or nothing at all.
    Kept(KeptBody),
}

impl LaterAnswer for Sent {
    fn kept(&self) -> KeptAnswer {
        let body = match &self.body {
            SentBody::Pieces(pieces) => {
                let content_type = self
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                match pieces.as_slice() {
                    [one] => KeptBody::from_bytes(content_type, one, self.bound),
                    _ => KeptBody::from_bytes(content_type, &pieces.concat(), self.bound),
                }
            }
            SentBody::Kept(body) => body.clone(),
        };
        KeptAnswer {
            status: self.status,
            headers: kept_headers(&self.headers, self.skip),
            body,
        }
    }

    fn weight(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let body = match &self.body {
            SentBody::Pieces(pieces) => pieces.iter().map(Bytes::len).sum(),
            SentBody::Kept(body) => body.bytes().map_or(0, <[u8]>::len) + 64,
        };
        headers + body
    }
}

/// Sends `response` on, keeping it: bodies whole up to `bound` bytes (JSON and text are shown
/// whole, others by size and hash), headers for which `skip` is true left out. `then` gets the
/// answer when the body has been sent (its last byte handed to the connection, or the body
/// dropped).
pub(crate) fn keep(
    response: Response,
    bound: usize,
    skip: fn(&str) -> bool,
    then: Then,
) -> Response {
    let (parts, body) = response.into_parts();
    let status = parts.status.as_u16();
    let headers = parts.headers.clone();
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| body.size_hint().exact());
    let kept = Kept {
        inner: body,
        read: Some(Vec::new()),
        read_bytes: 0,
        bound,
        hash: None,
        size: 0,
        length,
        then: Some(Box::new(move |body| {
            then(Sent {
                status,
                headers,
                body,
                bound,
                skip,
            })
        })),
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

/// A body on its way out: its pieces kept while within `bound` bytes, then (past them) hashed.
struct Kept {
    inner: Body,
    /// The pieces so far, while they are within the bound, and their bytes.
    read: Option<Vec<Bytes>>,
    read_bytes: usize,
    bound: usize,
    /// The hash of the bytes so far, once they are past the bound.
    hash: Option<Sha256>,
    size: u64,
    /// The length announced, if any: the body has gone once that many bytes have.
    length: Option<u64>,
    then: Option<Box<dyn FnOnce(SentBody) + Send>>,
}

impl Kept {
    fn take(&mut self, data: &Bytes) {
        self.size += data.len() as u64;
        if let Some(read) = &mut self.read {
            if self.read_bytes + data.len() <= self.bound {
                self.read_bytes += data.len();
                read.push(data.clone());
                return;
            }
            let mut hash = Sha256::new();
            for piece in read.iter() {
                hash.update(piece);
            }
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
            (Some(read), _) => SentBody::Pieces(read),
            (None, Some(hash)) => SentBody::Kept(KeptBody::hashed(self.size, hash)),
            (None, None) => SentBody::Kept(KeptBody::default()),
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
