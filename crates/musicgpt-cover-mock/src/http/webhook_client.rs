//! The HTTP client the domain's webhook sender POSTs with: no proxies, no redirects, `localhost`
//! pinned to this machine, and each attempt bounded by the webhook timeout.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{CONTENT_TYPE, HeaderValue};

use super::respond::with_causes;
use crate::domain::webhooks::{Posted, Transport};

/// The real [`Transport`]: reqwest, built on the first webhook rather than at start-up. Building
/// it loads the system's root certificates (for `https` receivers), about a millisecond of a
/// mock's start-up that most mocks, which send no webhook, would pay for nothing.
#[derive(Debug)]
pub(crate) struct WebhookClient {
    client: OnceLock<Result<reqwest::Client, String>>,
    timeout: Duration,
}

impl WebhookClient {
    /// A client whose attempts each take at most `timeout`, connecting included.
    pub(crate) fn new(timeout: Duration) -> WebhookClient {
        WebhookClient {
            client: OnceLock::new(),
            timeout,
        }
    }
}

impl Transport for WebhookClient {
    fn post<'a>(&'a self, url: &'a str, payload: Bytes) -> BoxFuture<'a, Posted> {
        Box::pin(async move {
            let client = match self.client.get_or_init(|| client(self.timeout)) {
                Ok(client) => client,
                Err(error) => {
                    return Posted {
                        status: None,
                        error: Some(error.clone()),
                    };
                }
            };
            let result = client
                .post(url)
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .timeout(self.timeout)
                .body(payload)
                .send()
                .await;
            let (status, error) = match &result {
                Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
                Ok(r) => (
                    Some(r.status().as_u16()),
                    Some(format!("the receiver answered {}", r.status())),
                ),
                Err(e) if e.is_timeout() => {
                    (None, Some(format!("no answer within {:?}", self.timeout)))
                }
                Err(e) => (None, Some(with_causes(e))),
            };
            Posted { status, error }
        })
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    let loopback = [
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
    ];
    reqwest::Client::builder()
        // Proxies from the environment could carry loopback traffic off the machine.
        .no_proxy()
        // A redirect could point anywhere; the target policy was checked for this URL only.
        .redirect(reqwest::redirect::Policy::none())
        // `localhost` must mean this machine whatever the resolver says.
        .resolve_to_addrs("localhost", &loopback)
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("musicgpt-cover-mock/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the webhook client: {e}"))
}
