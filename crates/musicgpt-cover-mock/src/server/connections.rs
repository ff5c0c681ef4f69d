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

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;

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
        let service =
            TowerToHyperService::new(tower::service_fn(move |request: Request<Incoming>| {
                let app = app.clone();
                async move {
                    let response = app.oneshot(request.map(Body::new)).await;
                    Ok::<_, Infallible>(match response {
                        Ok(r) => r,
                        Err(never) => match never {},
                    })
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
