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
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::http::Abort;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) header_timeout: Duration,
    pub(super) shutdown_grace: Duration,
}

/// How long the loop pauses after an accept error that is not the client's (too many open files).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

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
        let reset = Arc::new(AtomicBool::new(false));
        let stream = Stream {
            inner: stream,
            reset: Arc::clone(&reset),
        };
        let service =
            TowerToHyperService::new(tower::service_fn(move |request: Request<Incoming>| {
                let app = app.clone();
                let reset = Arc::clone(&reset);
                async move {
                    let response = match app.oneshot(request.map(Body::new)).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    match response.extensions().get::<Abort>() {
                        // An error from the service makes hyper drop the connection unwritten.
                        Some(abort) => {
                            reset.store(abort.reset, Ordering::Release);
                            Err(Aborted)
                        }
                        None => Ok(response),
                    }
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
#[derive(Debug)]
struct Aborted;

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection ended by a fault scenario")
    }
}

impl std::error::Error for Aborted {}

/// A connection's socket, reset rather than closed when dropped if `reset` was set.
struct Stream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Acquire) {
            // Linger 0: closing sends RST and drops anything unsent.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
