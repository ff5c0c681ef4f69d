//! The accept loop: each connection served by hyper's HTTP/1 with the settings `axum::serve` has
//! no knobs for, and a graceful stop that is bounded in time.
//!
//! - Half-closed clients get their answer: a client that shuts down its sending side once the
//!   request is out (`nc -N`, some HTTP/1.0 clients) is still written to.
//! - A request's head must arrive within the header timeout, which also closes idle keep-alive
//!   connections: a client that sends half a request line and stalls holds a socket that long at
//!   most. (Stalled bodies are bounded in the HTTP layer, `http::stall`.)
//! - Accept errors such as running out of file descriptors pause the loop briefly instead of
//!   ending it.
//! - On shutdown the listener closes at once, the requests in flight are answered, and
//!   connections still open after the grace period are dropped.
//! - An answer marked [`Abort`] (a fault scenario's `close` or `reset`) is not written: the
//!   connection ends instead, with a TCP reset (SO_LINGER 0) for `reset`.
//! - When a handler leaves a request's body unread, what is left is read for a moment (up to
//!   [`FINISH_BYTES`], for [`FINISH_TIME`]): after a whole form, only the body's last bytes may
//!   still be on their way.
//! - An answer given before the request's body was read to its end (a missing key, a `Prefer`
//!   status, a scenario, 413, a form error found early) carries `Connection: close`, and the
//!   socket is closed the way nginx and Apache close it ("lingering close"): the sending side is
//!   shut, then whatever the client still sends is read and thrown away, up to [`LINGER_BYTES`]
//!   and for at most [`LINGER_TIME`], before the socket is closed. Closing a socket with unread
//!   bytes in it makes the kernel send a reset, and a client still writing its body (Node's
//!   `fetch`) then fails with EPIPE or ECONNRESET before it reads the answer that was sent.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::domain::sync::lock;
use crate::http::{Abort, closing};

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) header_timeout: Duration,
    pub(super) shutdown_grace: Duration,
}

/// How long the loop pauses after an accept error that is not the client's (too many open files).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The most a lingering close reads and throws away: the rest of a body the mock answered early.
/// Large enough for the songs a frontend test uploads (8 MiB is tested), small enough that a
/// client cannot make the mock read a 2 GiB upload it already refused.
const LINGER_BYTES: u64 = 64 << 20;

/// The longest a lingering close waits for the client to finish sending, in all.
const LINGER_TIME: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` resolves, then stops as the module says.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .half_close(true)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    // Every connection's task, so those still open after the grace period can be ended.
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; pausing");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Small answers go out at once rather than waiting for Nagle's timer.
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let ending = Arc::new(Ending::default());
        let stream = Stream {
            inner: Some(stream),
            ending: Arc::clone(&ending),
        };
        let service =
            TowerToHyperService::new(tower::service_fn(move |request: Request<Incoming>| {
                let app = app.clone();
                let ending = Arc::clone(&ending);
                async move {
                    // HTTP/1 serves one request at a time on a connection, so one flag will do.
                    ending
                        .body_read
                        .store(request.body().is_end_stream(), Ordering::Release);
                    let request = request.map(|incoming| {
                        Body::new(TrackedBody {
                            incoming: Some(incoming),
                            ending: Arc::clone(&ending),
                        })
                    });
                    let Ok(mut response) = app.oneshot(request).await;
                    if let Some(abort) = response.extensions().get::<Abort>() {
                        // An error from the service makes hyper drop the connection unwritten.
                        ending.reset.store(abort.reset, Ordering::Release);
                        return Err(Aborted);
                    }
                    if !ending.body_read.load(Ordering::Acquire) {
                        finish_reading(&ending).await;
                    }
                    if !ending.body_read.load(Ordering::Acquire) {
                        // Answered early: the client learns the connection ends here, and the
                        // socket lingers (see the module's doc).
                        ending.linger.store(true, Ordering::Release);
                        response = closing(response);
                    }
                    Ok(response)
                }
            }));
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            // A connection's errors (a reset, a timed-out head) concern that client only.
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            open = connections.len(),
            "connections still open after the shutdown grace period were closed"
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// Accept errors that concern one connection only (it was reset before it was accepted).
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The service's error for an answer marked [`Abort`].
#[derive(Debug, thiserror::Error)]
#[error("connection ended by a fault scenario")]
struct Aborted;

/// How a connection is to end, told by its requests to its socket.
#[derive(Debug, Default)]
struct Ending {
    /// The current request's body was read to its end (or had none).
    body_read: AtomicBool,
    /// The current request's body as its handler left it unread, for [`finish_reading`].
    leftover: std::sync::Mutex<Option<Incoming>>,
    /// A fault scenario asked for a reset.
    reset: AtomicBool,
    /// An answer went out before its request's body was read: close lingering.
    linger: AtomicBool,
}

/// The most [`finish_reading`] reads of a body its handler left, and for how long: enough for
/// what is still on its way after a whole form (the last chunk of a chunked body, an epilogue),
/// little enough that an answer given early to a large upload is not held back (the rest of that
/// is left to the lingering close). Go's `net/http` reads up to 256 KiB the same way.
const FINISH_BYTES: u64 = 256 << 10;
const FINISH_TIME: Duration = Duration::from_millis(20);

/// Reads, briefly, what is left of a body its handler stopped reading: a handler that took a
/// whole form may stop at its closing boundary while the body's last bytes are still arriving.
/// Read to its end, the body no longer counts as answered early, and the connection stays open
/// (a client such as a proxy's would otherwise see `Connection: close` and stop sending them).
async fn finish_reading(ending: &Ending) {
    let leftover = lock(&ending.leftover).take();
    let Some(mut body) = leftover else {
        return;
    };
    let _ = tokio::time::timeout(FINISH_TIME, async {
        let mut read = 0u64;
        while read <= FINISH_BYTES {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                None => {
                    ending.body_read.store(true, Ordering::Release);
                    return;
                }
                Some(Ok(frame)) => {
                    read += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if body.is_end_stream() {
                        ending.body_read.store(true, Ordering::Release);
                        return;
                    }
                }
                Some(Err(_)) => return,
            }
        }
    })
    .await;
}

/// A request body that tells its connection when it has been read to its end, and hands what is
/// left of it to the connection when its handler drops it unread.
struct TrackedBody {
    /// Always there but while the body is being dropped.
    incoming: Option<Incoming>,
    ending: Arc<Ending>,
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        if !self.ending.body_read.load(Ordering::Acquire)
            && let Some(incoming) = self.incoming.take()
        {
            *lock(&self.ending.leftover) = Some(incoming);
        }
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let Some(incoming) = self.incoming.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(&mut *incoming).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || incoming.is_end_stream() {
            self.ending.body_read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Incoming::size_hint)
    }
}

/// A connection's socket: reset rather than closed when dropped if a scenario asked for it, and
/// closed lingering if an answer went out before its request's body was read.
struct Stream {
    /// Always there but while the socket is being dropped.
    inner: Option<TcpStream>,
    ending: Arc<Ending>,
}

impl Stream {
    fn socket(&mut self) -> io::Result<&mut TcpStream> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let Some(socket) = self.inner.take() else {
            return;
        };
        if self.ending.reset.load(Ordering::Acquire) {
            // Linger 0: closing sends RST and drops anything unsent.
            let _ = socket.set_zero_linger();
        } else if self.ending.linger.load(Ordering::Acquire)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(linger(socket));
        }
    }
}

/// Closes a socket the way the module's doc says: shut the sending side, read what the client
/// still sends (up to [`LINGER_BYTES`], for up to [`LINGER_TIME`]), then close.
async fn linger(mut socket: TcpStream) {
    use tokio::io::AsyncWriteExt;
    // Usually hyper has shut it already; a second shutdown is harmless, and a failed one (the
    // client has gone) leaves the read below to end at once.
    let _ = socket.shutdown().await;
    let mut sink = vec![0u8; 64 * 1024];
    let mut left = LINGER_BYTES;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        while left > 0 {
            match socket.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n as u64),
            }
        }
    })
    .await;
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.socket()?).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.socket()?).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.socket()?).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(TcpStream::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.socket()?).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.socket()?).poll_shutdown(cx)
    }
}
