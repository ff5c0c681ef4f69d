//! Serving the proxy mode: [`serve_proxy`] (for the binary) and [`ProxyServer`] (a proxy on
//! 127.0.0.1:0 for tests and `cargo xtask verify-live`), on the mock's accept loop with its
//! safety rules. The proxy's state is a [`MockState`] used for its journal, clock and admin
//! token only: no task is ever created on it.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{connections, prepare};
use crate::config::MockConfig;
use crate::domain::MockState;
use crate::domain::journal::JournalEntry;
use crate::error::MockError;
use crate::http::proxy::{ProxyConfig, router};

/// Serves the proxy on `listener` until `shutdown` resolves; `state` holds its journal (and
/// the server settings of its config: timeouts, journal capacity, `allow_remote`).
pub async fn serve_proxy(
    listener: TcpListener,
    state: MockState,
    proxy: &ProxyConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone(), proxy)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    serve_app(listener, state, app, shutdown).await
}

/// Serves the proxy's router.
async fn serve_app(
    listener: TcpListener,
    state: MockState,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = prepare(&listener, &state)?;
    let result = connections::serve(listener, app, limits, shutdown).await;
    state.stop();
    result
}

/// A running proxy on 127.0.0.1 and a free port. Stops when dropped.
///
/// ```no_run
/// # async fn demo() {
/// use musicgpt_cover_mock::{MockServer, ProxyConfig, ProxyServer};
/// let mock = MockServer::start().await;
/// let proxy = ProxyServer::start(ProxyConfig::new(mock.base_url())).await.unwrap();
/// let answer = reqwest::Client::new()
///     .get(proxy.url("/v1/getAllVoices"))
///     .header("Authorization", "any-key")
///     .send()
///     .await
///     .unwrap();
/// assert!(answer.headers().get("x-contract-violations").is_none());
/// # }
/// ```
#[derive(Debug)]
pub struct ProxyServer {
    state: MockState,
    addr: SocketAddr,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl ProxyServer {
    /// Starts a proxy with `proxy`'s upstream and the default server settings.
    pub async fn start(proxy: ProxyConfig) -> Result<ProxyServer, MockError> {
        ProxyServer::start_with(proxy, MockConfig::default()).await
    }

    /// Starts a proxy with `proxy`'s upstream and `config`'s server settings (timeouts, journal
    /// capacity).
    pub async fn start_with(
        proxy: ProxyConfig,
        config: MockConfig,
    ) -> Result<ProxyServer, MockError> {
        proxy.check().map_err(MockError::Config)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let state = MockState::new(config)?;
        // Built here, so that what it refuses (a recording's directory) fails the start.
        let app = router(state.clone(), &proxy).map_err(MockError::Config)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let served = state.clone();
        let task = tokio::spawn(serve_app(listener, served, app, async move {
            let _ = stopped.await;
        }));
        let base_url = format!("http://{addr}{}", state.spec().base_path);
        Ok(ProxyServer {
            state,
            addr,
            base_url,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT/api/public`: the base URL a client uses instead of the upstream's.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL joined with an operation path: `url("/v1/byId")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's journal, oldest first: every exchange with its violations, the key redacted.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal()
    }

    /// Stops the proxy after the requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
