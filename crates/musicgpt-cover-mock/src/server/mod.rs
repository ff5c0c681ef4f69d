//! Layer 4, serving, where the layers are wired: [`serve`] (the one entry, for the binary and
//! embedders), [`MockServer`] (a mock on 127.0.0.1:0 for other crates' tests), the accept loop
//! (`connections`) and the start-up banner (`banner`); [`serve_proxy`] and [`ProxyServer`] serve the
//! proxy mode on the same accept loop (`proxy`).

pub(crate) mod banner;
mod connections;
mod proxy;

pub use proxy::{ProxyServer, serve_proxy};

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::MockConfig;
use crate::domain::journal::JournalEntry;
use crate::domain::matching::{Matcher, Times, VerifyError};
use crate::domain::webhooks::WebhookDelivery;
use crate::domain::{MockState, ShutdownReport, WaitTimeout};
use crate::error::MockError;
use crate::http::webhook_client::WebhookClient;
use crate::http::{ADMIN_PATH, router};

impl MockState {
    /// Builds a mock from `config`: checks it, compiles the embedded spec (once per process) and
    /// starts the scheduler and webhook sender on the current Tokio runtime.
    ///
    /// Defined here, where the layers are wired, because it hands the domain the HTTP layer's
    /// webhook client.
    pub fn new(config: MockConfig) -> Result<MockState, MockError> {
        let client = WebhookClient::new(config.mock.webhook_timeout.0);
        MockState::with_transport(config, Arc::new(client))
    }
}

/// Serves a mock built from `config` on `listener` until `shutdown` resolves; requests in flight
/// are answered first. Returns the webhooks left undelivered.
pub async fn serve(
    listener: TcpListener,
    config: MockConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<ShutdownReport, MockError> {
    let state = MockState::new(config)?;
    Ok(serve_with_state(listener, state, shutdown).await?)
}

/// Serves an existing state (whose handle the caller keeps) on `listener` until `shutdown`.
pub async fn serve_with_state(
    listener: TcpListener,
    state: MockState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<ShutdownReport> {
    let limits = prepare(&listener, &state)?;
    let result = connections::serve(listener, router(state.clone()), limits, shutdown).await;
    let report = state.pending_webhooks();
    state.stop();
    result.map(|()| report)
}

/// The checks and settings every server shares: an address other machines can reach only when
/// allowed (and then with the admin token), the origin it is reached at, the connection limits.
fn prepare(listener: &TcpListener, state: &MockState) -> std::io::Result<connections::Limits> {
    let addr = listener.local_addr()?;
    let config = state.config();
    if !addr.ip().is_loopback() {
        if !config.server.allow_remote {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "refusing to serve on {addr}: it is reachable from other machines, and the admin API's journal holds every key sent; listen on 127.0.0.1, or allow it with --allow-remote (MockConfig::allow_remote)"
                ),
            ));
        }
        state.require_admin_token();
    }
    state.set_listen_origin(format!("http://{addr}"));
    Ok(connections::Limits {
        header_timeout: config.server.header_timeout.0,
        shutdown_grace: config.server.shutdown_grace.0,
    })
}

/// A running mock on 127.0.0.1 and a free port, for tests. Stops when dropped.
///
/// ```no_run
/// # async fn demo() {
/// use std::time::Duration;
/// let mock = musicgpt_cover_mock::MockServer::builder().seed(7).time_scale(0.0).start().await;
/// let cover_url = format!("{}/v1/Cover", mock.base_url()); // http://127.0.0.1:PORT/api/public/v1/Cover
/// // ... POST a Cover with a webhook_url, then:
/// let delivery = mock.wait_for_webhook("the task_id", Duration::from_secs(5)).await;
/// # let _ = (cover_url, delivery);
/// # }
/// ```
#[derive(Debug)]
pub struct MockServer {
    state: MockState,
    addr: SocketAddr,
    origin: String,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<ShutdownReport>>>,
}

impl MockServer {
    /// Starts a mock with the default settings.
    ///
    /// # Panics
    /// If 127.0.0.1:0 cannot be bound or this is not inside a Tokio runtime; use
    /// [`MockServer::try_start`] to get the error instead.
    pub async fn start() -> MockServer {
        MockServer::builder().start().await
    }

    /// The settings builder: `MockServer::builder().seed(1).start().await`.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// Starts a mock with `config` on 127.0.0.1 and a free port.
    pub async fn try_start(config: MockConfig) -> Result<MockServer, MockError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let state = MockState::new(config)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with_state(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        let origin = format!("http://{addr}");
        let base_url = format!("{origin}{}", state.spec().base_path);
        Ok(MockServer {
            state,
            addr,
            origin,
            base_url,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT/api/public`: what the client takes as its base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The base URL joined with an operation path: `url("/v1/byId")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `http://127.0.0.1:PORT/__admin`.
    pub fn admin_url(&self) -> String {
        format!("{}{ADMIN_PATH}", self.origin)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The mock's state: journal, tasks, credits, clock, webhooks.
    pub fn state(&self) -> &MockState {
        &self.state
    }

    /// See [`MockState::wait_for_webhook`].
    pub async fn wait_for_webhook(
        &self,
        task_id: &str,
        timeout: Duration,
    ) -> Result<WebhookDelivery, WaitTimeout> {
        self.state.wait_for_webhook(task_id, timeout).await
    }

    /// Stops the server after the requests in flight and reports undelivered webhooks.
    pub async fn shutdown(mut self) -> ShutdownReport {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(Ok(report)) => report,
                _ => self.state.pending_webhooks(),
            },
            None => ShutdownReport::default(),
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The settings of a [`MockServer`] (those of [`MockConfig`]) and its start:
/// `MockServer::builder().seed(7).time_scale(0.01).start().await`.
#[derive(Clone, Debug, Default)]
pub struct MockServerBuilder {
    config: MockConfig,
}

impl MockServerBuilder {
    fn settings(&mut self) -> &mut MockConfig {
        &mut self.config
    }

    crate::config::setters!();

    /// Starts the mock on 127.0.0.1 and a free port.
    ///
    /// # Panics
    /// As [`MockServer::start`].
    pub async fn start(self) -> MockServer {
        (self.try_start().await)
            .unwrap_or_else(|e| panic!("musicgpt-cover-mock could not start: {e}"))
    }

    /// Starts the mock, or says why it could not: see [`MockServer::try_start`].
    pub async fn try_start(self) -> Result<MockServer, MockError> {
        MockServer::try_start(self.config).await
    }
}

/// What the mock received, checked as wiremock-rs checks it: `mock.verify(Matcher::cover()
/// .form("voice_id", "Drake"), 1)`. The same matching as `POST /__admin/requests/find` and
/// `count`, over the same bounded journal (so with `journal_capacity` N, only the last N requests
/// are seen).
impl MockServer {
    /// The journalled requests `matcher` picks, oldest first.
    ///
    /// # Panics
    /// If the matcher cannot be used (an unknown operation, a time that does not read); see
    /// [`MockState::find_requests`] for the `Result`.
    #[track_caller]
    pub fn received_requests(&self, matcher: impl Into<Matcher>) -> Vec<JournalEntry> {
        // A `match`, not `unwrap_or_else`: a closure's panic would name this line, not the
        // caller's (`#[track_caller]` does not reach into closures).
        match self.state.find_requests(&matcher.into()) {
            Ok(found) => found,
            Err(e) => panic!("the matcher cannot be used: {e}"),
        }
    }

    /// Asserts that `expected` journalled requests match (`1`, `0`, `1..=3`, `2..`).
    ///
    /// # Panics
    /// When they do not, with a report naming what matched and, when too few did, the nearest
    /// requests that did not and each condition they failed; or if the matcher cannot be used.
    #[track_caller]
    pub fn verify(&self, matcher: impl Into<Matcher>, expected: impl Into<Times>) {
        if let Err(report) = self.try_verify(matcher, expected) {
            panic!("{report}");
        }
    }

    /// [`MockServer::verify`] without the panic: the report is the error's `Display`.
    pub fn try_verify(
        &self,
        matcher: impl Into<Matcher>,
        expected: impl Into<Times>,
    ) -> Result<(), VerifyError> {
        self.state.verify_requests(&matcher.into(), expected)
    }
}

/// Faults on demand, as the admin API's `/__admin/faults` and `/__admin/scenarios` offer them.
impl MockServer {
    /// See [`MockState::add_scenario`]: `mock.add_scenario(NewScenario::new("cover",
    /// Respond::Status { status: 402, example: None }))`.
    pub fn add_scenario(
        &self,
        scenario: crate::domain::faults::NewScenario,
    ) -> Result<crate::domain::faults::Scenario, crate::domain::faults::FaultError> {
        self.state.add_scenario(scenario)
    }

    /// See [`MockState::set_faults`].
    pub fn set_faults(
        &self,
        settings: crate::domain::faults::FaultSettings,
    ) -> Result<(), crate::domain::faults::FaultError> {
        self.state.set_faults(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When `shutdown` returns, the uploads kept on disk and their private directory are gone,
    /// though a handle on the state lives on (not left to a task that a runtime shutting down
    /// next may never run).
    #[tokio::test]
    async fn shutdown_removes_the_uploads_directory_before_it_returns() {
        let mock = MockServer::start().await;
        let upload = reqwest::multipart::Part::bytes(vec![7u8; 2 << 20]).file_name("song.mp3");
        let form = reqwest::multipart::Form::new()
            .text("voice_id", "Drake")
            .part("audio_file", upload);
        let sent = reqwest::Client::new()
            .post(mock.url("/v1/Cover"))
            .header("Authorization", "any-key")
            .multipart(form)
            .send()
            .await;
        assert!(sent.is_ok_and(|r| r.status().is_success()));
        let dir = mock
            .state()
            .uploads()
            .dir()
            .map(std::path::Path::to_owned)
            .expect("no uploads directory");
        assert!(dir.exists(), "the 2 MiB upload went to disk");
        // A handle on the state kept (as `serve_with_state`'s caller does): the store lives on.
        let state = mock.state().clone();
        let _report = mock.shutdown().await;
        assert!(!dir.exists(), "{} is left", dir.display());
        drop(state);
    }
}
