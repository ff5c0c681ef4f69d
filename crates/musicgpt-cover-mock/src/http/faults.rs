//! Faults applied: the layer around the API's four operations that asks the domain for a
//! request's fault decision and carries it out: a documented status with its example instead of
//! the handler, a delay, a fault of the connection (closed, reset, an answer cut short or
//! dribbled), or a gateway's plain-text 503. The admin API, the pages, `/openapi.*` and the result files are never touched.
//!
//! A closed or reset connection is the accept loop's to carry out: the answer handed back holds
//! an [`Abort`] extension, and the loop (`server::connections`) then ends the connection without
//! writing it, resetting it first when asked. The journal entry of such a request says so in its
//! `fault` (and status 0).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::future::Either;
use http_body::{Body as _, Frame, SizeHint};
use tokio::time::Sleep;
use tower::{Layer, Service};

use super::respond::{documented, json};
use crate::domain::MockState;
use crate::domain::faults::{Action, Decision, NetworkFault};
use crate::spec::Operation;

/// The most of a request body read (and thrown away) before a fault answers in the handler's
/// stead: enough for any form without a large file, so the client's request is taken in whole
/// and the connection ends cleanly; a larger upload is left unread.
const MAX_DRAINED: usize = 1 << 20;
/// The largest answer a truncate or dribble fault buffers (the operations' answers are small).
const MAX_BUFFERED: usize = 16 << 20;
/// How many pieces a second a dribbled answer is sent in.
const DRIBBLE_PIECES_PER_SECOND: u64 = 10;

/// Left in an answer's extensions: end the connection instead of writing the answer, with a TCP
/// reset when `reset` (SO_LINGER 0, then close).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Abort {
    pub(crate) reset: bool,
}

/// The layer, around the router of the API's routes.
#[derive(Clone, Debug)]
pub(crate) struct FaultLayer {
    pub(crate) state: MockState,
}

impl<S> Layer<S> for FaultLayer {
    type Service = Faulty<S>;
    fn layer(&self, inner: S) -> Faulty<S> {
        let spec = self.state.spec();
        let operations = spec.operations().map(|op| {
            (
                op.method.clone(),
                format!("{}{}", spec.base_path, op.path),
                op,
            )
        });
        Faulty {
            inner,
            state: self.state.clone(),
            operations: Arc::new(operations),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Faulty<S> {
    inner: S,
    state: MockState,
    /// Method, full path and operation of each of the spec's operations.
    operations: Arc<[(Method, String, &'static Operation); 4]>,
}

type Boxed = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request> for Faulty<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, Boxed>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let decided = self
            .operations
            .iter()
            .find(|(method, path, _)| method == request.method() && path == request.uri().path())
            .and_then(|(_, _, op)| Some((*op, self.state.fault_decision(op)?)));
        let Some((op, decision)) = decided else {
            return Either::Left(self.inner.call(request));
        };
        // The service that was polled ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Either::Right(Box::pin(apply(inner, request, op, decision)))
    }
}

/// Carries out a decision. The wait comes after the handler (so a slow answer does not count
/// against the request body's own timeout) and before an injected answer or fault.
async fn apply<S>(
    mut inner: S,
    request: Request,
    op: &'static Operation,
    decision: Decision,
) -> Result<Response, Infallible>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let Decision {
        wait,
        action,
        retry_after,
        record,
    } = decision;
    let mut response = match action {
        Action::Pass => {
            let response = inner.call(request).await?;
            pause(wait).await;
            response
        }
        Action::Status { status, example } => {
            drain(request.into_body()).await;
            pause(wait).await;
            example_answer(op, status, example.as_deref())
        }
        Action::Fault(NetworkFault::Close) => {
            drain(request.into_body()).await;
            pause(wait).await;
            aborted(false)
        }
        Action::Fault(NetworkFault::Reset) => {
            pause(wait).await;
            aborted(true)
        }
        Action::Fault(NetworkFault::Unavailable) => {
            drain(request.into_body()).await;
            pause(wait).await;
            unavailable()
        }
        Action::Fault(NetworkFault::Truncate) => {
            let response = inner.call(request).await?;
            pause(wait).await;
            truncated(response).await
        }
        Action::Fault(NetworkFault::Dribble { bytes_per_second }) => {
            let response = inner.call(request).await?;
            pause(wait).await;
            dribbled(response, bytes_per_second).await
        }
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response.extensions_mut().insert(record);
    Ok(response)
}

async fn pause(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// Reads and drops up to [`MAX_DRAINED`] bytes of a request body.
async fn drain(body: Body) {
    let mut body = body;
    let mut read = 0;
    while read < MAX_DRAINED {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
            _ => break,
        }
    }
}

/// The documented answer of `op` for `status`: the named example, else the first.
fn example_answer(op: &Operation, status: u16, example: Option<&str>) -> Response {
    let Ok(code) = StatusCode::from_u16(status) else {
        return documented(op, StatusCode::INTERNAL_SERVER_ERROR, None);
    };
    let doc = op.response(code);
    let chosen = doc.and_then(|d| {
        example
            .and_then(|name| d.examples.iter().find(|e| e.name == name))
            .or_else(|| d.examples.first())
    });
    match chosen {
        Some(e) => json(code, e.body.clone()),
        None => documented(op, code, None),
    }
}

/// What a gateway in front of the API answers when the API is out of reach: not the API's own
/// JSON (the spec documents no 503), plain text (`text/plain; charset=utf-8`, as axum types a
/// `&str`) as a load balancer writes it.
fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_TEXT).into_response()
}

/// The body of [`unavailable`].
const UNAVAILABLE_TEXT: &str =
    "503 Service Unavailable: the mock's gateway fault (a scenario), not an answer of the API\n";

/// An answer the accept loop does not send.
fn aborted(reset: bool) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.extensions_mut().insert(Abort { reset });
    response
}

/// The whole body of an answer, its `Content-Length` set to it, or `None` when it cannot be read.
async fn whole(response: Response) -> Option<(axum::http::response::Parts, Bytes)> {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BUFFERED).await.ok()?;
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Some((parts, bytes))
}

/// The answer with its full `Content-Length` and half its body; then the connection ends.
async fn truncated(response: Response) -> Response {
    let Some((parts, bytes)) = whole(response).await else {
        return aborted(false);
    };
    let total = bytes.len() as u64;
    let part = bytes.slice(..bytes.len() / 2);
    Response::from_parts(
        parts,
        Body::new(Truncated {
            part: Some(part),
            total,
            flushed: false,
        }),
    )
}

/// The answer sent whole at `bytes_per_second`.
async fn dribbled(response: Response, bytes_per_second: u64) -> Response {
    let Some((parts, bytes)) = whole(response).await else {
        return aborted(false);
    };
    let piece = bytes_per_second.div_ceil(DRIBBLE_PIECES_PER_SECOND).max(1);
    let every = Duration::from_secs_f64(piece as f64 / bytes_per_second.max(1) as f64);
    Response::from_parts(
        parts,
        Body::new(Dribble {
            rest: bytes,
            piece: usize::try_from(piece).unwrap_or(usize::MAX),
            every,
            sleep: None,
        }),
    )
}

/// Why a truncated answer stopped.
#[derive(Debug, thiserror::Error)]
#[error("the answer was cut short by a truncate scenario")]
struct CutShort;

/// Half a body, then an error, which makes hyper end the connection. Between the two it yields
/// once, so hyper writes what it has buffered before it gives up on the connection.
struct Truncated {
    part: Option<Bytes>,
    total: u64,
    flushed: bool,
}

impl http_body::Body for Truncated {
    type Data = Bytes;
    type Error = CutShort;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, CutShort>>> {
        if let Some(part) = self.part.take()
            && !part.is_empty()
        {
            return Poll::Ready(Some(Ok(Frame::data(part))));
        }
        if !self.flushed {
            self.flushed = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(CutShort)))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total)
    }
}

/// A body sent a piece at a time, a piece every `every`.
struct Dribble {
    rest: Bytes,
    piece: usize,
    every: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl http_body::Body for Dribble {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        if let Some(sleep) = self.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        let n = self.piece.min(self.rest.len());
        let piece = self.rest.split_to(n);
        if !self.rest.is_empty() {
            self.sleep = Some(Box::pin(tokio::time::sleep(self.every)));
        }
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}
