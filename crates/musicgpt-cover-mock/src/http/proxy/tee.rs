//! A request body forwarded upstream as it arrives, and read on the side by the mock's own form
//! readers: the upload is never held, only counted, and the form's fields are checked against
//! the spec once it has gone by.
//!
//! The side reader gets each chunk through a small bounded channel (the chunks are shared, not
//! copied): a reader that falls behind slows the upload rather than growing a buffer, and a
//! reader that stops (a form it refuses) is left behind while the upload goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::{Body, BodyDataStream};
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::super::form::{Encoding, FormError, encoding, multipart, urlencoded};
use crate::domain::journal::{FormLog, FormRecord};
use crate::domain::sync::lock;
use crate::spec::validate::{OperationContract, Violation};
use crate::spec::{Operation, Value};

/// Chunks the side reader may lag behind the upload.
const LAG: usize = 16;

/// The side reader of one request's form.
pub(super) struct FormCheck {
    task: JoinHandle<(Vec<Violation>, FormRecord)>,
    /// Set when the whole body went upstream (so the reader saw all of it).
    complete: Arc<AtomicBool>,
}

impl FormCheck {
    /// What the form broke, and the form (its uploads by name, size and hash), if the whole
    /// body went by; nothing when the upstream answered before it was sent (the reader saw only
    /// part of the form).
    pub(super) async fn violations(self) -> (Vec<Violation>, Option<FormRecord>) {
        if !self.complete.load(Ordering::Acquire) {
            self.task.abort();
            return (Vec::new(), None);
        }
        (self.task.await).map_or((Vec::new(), None), |(found, form)| (found, Some(form)))
    }
}

/// The body to send upstream, and the check of its form when the operation takes one (the
/// Content-Type it was sent with decides which reader; a wrong one is a violation found at once).
pub(super) fn tee(
    operation: Option<&'static Operation>,
    headers: &HeaderMap,
    body: Body,
) -> (
    impl Stream<Item = Result<Bytes, axum::Error>> + Send + 'static,
    Option<FormCheck>,
    Vec<Violation>,
) {
    let data = body.into_data_stream();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(operation) = operation.filter(|op| op.form.is_some() || op.urlencoded.is_some())
    else {
        return (forward(data, length, None, None), None, Vec::new());
    };
    let encoding = match encoding(headers, operation.urlencoded.is_some()) {
        Ok(e) => e,
        Err(why) => {
            return (
                forward(data, length, None, None),
                None,
                vec![content_type(why)],
            );
        }
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(LAG);
    let complete = Arc::new(AtomicBool::new(false));
    let side = Body::from_stream(
        futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        })
        .fuse(),
    );
    let task = tokio::spawn(async move {
        let mut log = FormLog::hashing();
        let found = check_form(operation, encoding, side, &mut log).await;
        (found, log.record())
    });
    (
        forward(data, length, Some(tx), Some(complete.clone())),
        Some(FormCheck { task, complete }),
        Vec::new(),
    )
}

/// The body as it arrives, each chunk also handed to `side` while it listens.
fn forward(
    data: BodyDataStream,
    length: Option<u64>,
    side: Option<mpsc::Sender<Result<Bytes, std::io::Error>>>,
    complete: Option<Arc<AtomicBool>>,
) -> impl Stream<Item = Result<Bytes, axum::Error>> + Send + 'static {
    futures::stream::unfold(
        (data, 0u64, side, complete),
        move |(mut data, mut sent, mut side, mut complete)| async move {
            match data.next().await {
                Some(Ok(chunk)) => {
                    if let Some(tx) = &side
                        && tx.send(Ok(chunk.clone())).await.is_err()
                    {
                        // The reader stopped: the rest goes upstream unread.
                        side = None;
                    }
                    sent += chunk.len() as u64;
                    // With a Content-Length the upstream connection may never ask past the last
                    // byte: the body is whole once that many bytes went by.
                    if length.is_some_and(|n| sent >= n) {
                        side = None;
                        if let Some(done) = complete.take() {
                            done.store(true, Ordering::Release);
                        }
                    }
                    Some((Ok(chunk), (data, sent, side, complete)))
                }
                Some(Err(e)) => {
                    if let Some(tx) = side.take() {
                        let _ = tx
                            .send(Err(std::io::Error::other("the request body broke off")))
                            .await;
                    }
                    Some((Err(e), (data, sent, None, None)))
                }
                None => {
                    if let Some(done) = complete {
                        done.store(true, Ordering::Release);
                    }
                    // Dropping the sender ends the reader's body.
                    None
                }
            }
        },
    )
    // hyper may ask again once the body has ended.
    .fuse()
}

async fn check_form(
    operation: &'static Operation,
    encoding: Encoding,
    body: Body,
    log: &mut FormLog,
) -> Vec<Violation> {
    let (form, read) = match encoding {
        Encoding::Multipart { boundary } => {
            let Some(form) = operation.form.as_ref() else {
                return vec![not_documented("multipart/form-data")];
            };
            // No upload store and no limit: the proxy only counts the file's bytes.
            let read = multipart::read(form, body, boundary, u64::MAX, None, log)
                .await
                .map(|(values, _)| values);
            (form, read)
        }
        Encoding::Urlencoded => {
            let Some(form) = operation.urlencoded.as_ref() else {
                return vec![not_documented("application/x-www-form-urlencoded")];
            };
            (form, urlencoded::read(form, body, u64::MAX, log).await)
        }
    };
    let read: Result<Vec<Option<Value>>, String> = read.map_err(|e| match e {
        FormError::TooLarge => "the form is larger than the proxy can count".to_owned(),
        FormError::Stalled(why) | FormError::Invalid(why) => why,
    });
    OperationContract::check_form(form, read.as_deref().map_err(String::as_str))
}

fn not_documented(media: &str) -> Violation {
    content_type(format!("the operation documents no {media} body"))
}

/// What is wrong with the request's Content-Type.
fn content_type(why: String) -> Violation {
    Violation::error(&["request", "header", "content-type"], "content-type", why)
}

/// A stream the proxy can cut off once the upstream has answered: the client's body is then
/// dropped, whatever the upstream connection still holds of it, so the proxy's own connection
/// finishes reading it or closes lingering (`server::connections`), as the mock's does. Left to
/// the upstream connection, a body the upstream stopped taking (an early answer) could stay
/// unread and unclosed, and a client still sending it (Python's `requests`) would wait forever.
pub(super) fn cut_off<S>(inner: S) -> (impl Stream<Item = S::Item> + Send + 'static, Cut<S>)
where
    S: Stream + Send + Unpin + 'static,
{
    let shared = Arc::new(std::sync::Mutex::new(Some(inner)));
    let cut = Cut(Arc::clone(&shared));
    let stream = futures::stream::poll_fn(move |cx| {
        let mut inner = lock(&shared);
        match inner.as_mut() {
            Some(inner) => inner.poll_next_unpin(cx),
            None => std::task::Poll::Ready(None),
        }
    });
    (stream, cut)
}

/// The handle of [`cut_off`].
pub(super) struct Cut<S>(Arc<std::sync::Mutex<Option<S>>>);

impl<S> Cut<S> {
    /// Drops the stream; the upstream's side ends there.
    pub(super) fn cut(self) {
        let inner = lock(&self.0).take();
        drop(inner);
    }
}
