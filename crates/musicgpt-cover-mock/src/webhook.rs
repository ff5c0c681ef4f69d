//! Webhook delivery: the loopback-only target policy, the bounded queue, the sender with retries,
//! and the record of every attempt.
//!
//! The scheduler puts a delivery on a bounded queue with `try_send` and never waits; a full queue
//! is recorded as a dropped delivery. One background sender takes deliveries off the queue and
//! runs each (up to [`CONCURRENCY`] at once) with its retries, so a slow receiver never holds up
//! request handling or the other deliveries.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::clock::Clock;
use crate::state::lock;

/// How many deliveries run at once.
pub const CONCURRENCY: usize = 16;

/// Whether the mock may send a webhook to `url`: only to loopback hosts (127.0.0.0/8, ::1,
/// localhost) and to the hosts of `allow`. The error says why not.
pub(crate) fn check_target(url: &str, allow: &[String]) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a valid URL ({e})"))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(format!("scheme {:?} is not http or https", parsed.scheme()));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => return Ok(()),
        Some(url::Host::Ipv6(ip))
            if ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()) =>
        {
            return Ok(());
        }
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => return Err("the URL has no host".to_owned()),
    };
    if host == "localhost" {
        return Ok(());
    }
    let allowed = allow.iter().any(|a| {
        let a = a.trim_end_matches('.');
        a.eq_ignore_ascii_case(&host)
            || a.trim_matches(|c| c == '[' || c == ']')
                == host.trim_matches(|c| c == '[' || c == ']')
    });
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "host {host} is not a loopback host and not allowed by --webhook-allow; the mock sends no traffic off the machine"
        ))
    }
}

/// What became of a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Queued, in flight or waiting to retry.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Every attempt failed (non-2xx, timeout or connection error).
    Failed,
    /// The target is not allowed (see `reason`); nothing was sent.
    Refused,
    /// The delivery queue was full; nothing was sent.
    Dropped,
}

impl DeliveryState {
    /// Whether nothing more will happen to the delivery.
    pub fn is_final(self) -> bool {
        self != DeliveryState::Pending
    }
}

/// One attempt to deliver a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Virtual time of the attempt.
    pub at: String,
    /// The receiver's status code, if it answered.
    pub status: Option<u16>,
    /// What went wrong, if it did not answer 2xx.
    pub error: Option<String>,
    /// Real milliseconds the attempt took.
    pub elapsed_ms: u64,
}

/// The webhook of one completed task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// The task it reports.
    pub task_id: String,
    /// The conversion it reports.
    pub conversion_id: String,
    /// The request's `webhook_url`.
    pub url: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Why it was refused or dropped.
    pub reason: Option<String>,
    /// The JSON body sent (the `coverCompleted` payload).
    pub payload: serde_json::Value,
    /// Every attempt so far, in order.
    pub attempts: Vec<WebhookAttempt>,
}

/// Delivery records by task id, oldest dropped first.
#[derive(Debug)]
pub(crate) struct WebhookLog {
    records: HashMap<Uuid, WebhookDelivery>,
    order: VecDeque<Uuid>,
    capacity: usize,
}

impl WebhookLog {
    pub(crate) fn new(capacity: usize) -> WebhookLog {
        WebhookLog {
            records: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.order.clear();
    }

    pub(crate) fn insert(&mut self, task_id: Uuid, record: WebhookDelivery) {
        if self.records.insert(task_id, record).is_none() {
            self.order.push_back(task_id);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.records.remove(&old);
            }
        }
    }

    pub(crate) fn get(&self, task_id: &Uuid) -> Option<&WebhookDelivery> {
        self.records.get(task_id)
    }

    pub(crate) fn update(&mut self, task_id: &Uuid, f: impl FnOnce(&mut WebhookDelivery)) {
        if let Some(r) = self.records.get_mut(task_id) {
            f(r);
        }
    }

    pub(crate) fn all(&self) -> Vec<WebhookDelivery> {
        self.order
            .iter()
            .filter_map(|id| self.records.get(id).cloned())
            .collect()
    }
}

/// A delivery waiting for the sender.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) generation: u64,
    pub(crate) task_id: Uuid,
    pub(crate) url: String,
    pub(crate) payload: Bytes,
}

/// What the sender shares with the state.
#[derive(Debug)]
pub(crate) struct SenderShared {
    pub(crate) log: Arc<Mutex<WebhookLog>>,
    /// Woken whenever a delivery changes, for [`MockState::wait_for_webhook`](crate::MockState::wait_for_webhook).
    pub(crate) changed: Arc<Notify>,
    pub(crate) clock: Arc<Clock>,
    /// Bumped by a reset: deliveries of an older generation are dropped unsent.
    pub(crate) generation: Arc<AtomicU64>,
    pub(crate) attempts: u32,
    pub(crate) backoff: Duration,
    pub(crate) timeout: Duration,
}

pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
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

/// Takes deliveries off the queue until it closes or `cancel` fires.
pub(crate) async fn run_sender(
    mut rx: mpsc::Receiver<Delivery>,
    shared: Arc<SenderShared>,
    client: reqwest::Client,
    cancel: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        let delivery = tokio::select! {
            () = cancel.cancelled() => return,
            d = rx.recv() => match d {
                Some(d) => d,
                None => return,
            },
        };
        let permit = tokio::select! {
            () = cancel.cancelled() => return,
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let shared = Arc::clone(&shared);
        let client = client.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = deliver(&shared, &client, delivery) => {}
            }
            drop(permit);
        });
    }
}

async fn deliver(shared: &SenderShared, client: &reqwest::Client, d: Delivery) {
    for attempt in 1..=shared.attempts {
        if shared.generation.load(Ordering::Acquire) != d.generation {
            return;
        }
        let at = shared.clock.timestamp(shared.clock.now());
        let started = Instant::now();
        let result = client
            .post(&d.url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .timeout(shared.timeout)
            .body(d.payload.clone())
            .send()
            .await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (status, error) = match &result {
            Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
            Ok(r) => (
                Some(r.status().as_u16()),
                Some(format!("the receiver answered {}", r.status())),
            ),
            Err(e) if e.is_timeout() => {
                (None, Some(format!("no answer within {:?}", shared.timeout)))
            }
            Err(e) => (None, Some(error_chain(e))),
        };
        let delivered = error.is_none();
        let last = attempt == shared.attempts;
        tracing::info!(url = %d.url, attempt, ?status, ?error, "webhook attempt");
        if shared.generation.load(Ordering::Acquire) != d.generation {
            return;
        }
        lock(&shared.log).update(&d.task_id, |r| {
            r.attempts.push(WebhookAttempt {
                attempt,
                at,
                status,
                error,
                elapsed_ms,
            });
            if delivered {
                r.state = DeliveryState::Delivered;
            } else if last {
                r.state = DeliveryState::Failed;
            }
        });
        shared.changed.notify_waiters();
        if delivered || last {
            return;
        }
        let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
        tokio::time::sleep(shared.backoff.saturating_mul(factor)).await;
    }
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_unless_allowed() {
        let none: &[String] = &[];
        for ok in [
            "http://127.0.0.1:9000/hook",
            "http://127.1.2.3/",
            "http://[::1]:80/x",
            "http://localhost/x",
            "http://LOCALHOST./x",
            "https://127.0.0.1/x",
        ] {
            assert_eq!(check_target(ok, none), Ok(()), "{ok}");
        }
        for bad in [
            "http://webhook.musicgpt.com",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://[::2]/",
            "ftp://127.0.0.1/",
            "not a url",
            "http://localhost.evil.com/",
        ] {
            assert!(check_target(bad, none).is_err(), "{bad}");
        }
        let allow = vec!["hooks.example.com".to_owned(), "10.0.0.7".to_owned()];
        assert_eq!(check_target("http://HOOKS.example.com/x", &allow), Ok(()));
        assert_eq!(check_target("http://10.0.0.7:8080/x", &allow), Ok(()));
        assert!(check_target("http://10.0.0.8/x", &allow).is_err());
    }
}
