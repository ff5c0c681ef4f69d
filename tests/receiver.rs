//! A webhook receiver on 127.0.0.1 and a free port: records every request it gets and answers 200.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The method.
    pub method: Method,
    /// The path and query.
    pub uri: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as sent.
    pub body: Bytes,
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    arrived: Notify,
}

/// A running receiver; stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1 and a free port.
    ///
    /// # Errors
    /// The bind error.
    pub async fn start() -> std::io::Result<Receiver> {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // The receiver lives as long as the test; a serve error ends it, and the test then
            // fails waiting for a request, saying so.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until at least `count` requests have arrived and returns them all.
    ///
    /// # Errors
    /// What arrived, when `timeout` passes first.
    pub async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Received>, Vec<Received>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let received = self.received();
            if received.len() >= count {
                return Ok(received);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(self.received());
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    shared
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Received {
            method,
            uri: uri.to_string(),
            headers,
            body,
        });
    shared.arrived.notify_waiters();
    StatusCode::OK
}
