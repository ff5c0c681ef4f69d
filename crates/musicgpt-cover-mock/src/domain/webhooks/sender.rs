//! The webhook sender: a queue the scheduler puts deliveries on (never waiting, never dropping),
//! and one background task that runs each delivery with its retries and records every attempt.
//!
//! The queue needs no bound of its own: a task is kept in the store until its webhook is final
//! (see `TaskStore::release`), so pending deliveries are bounded by the store, and a receiver
//! that cannot keep up slows delivery (and, once the store is full, new Covers get 429) rather
//! than losing it. At most [`CONCURRENCY`] deliveries run at once per receiver (scheme, host and
//! port), and [`MAX_IN_FLIGHT`] in all, so a receiver that hangs delays only its own webhooks.
//!
//! It POSTs through a [`Transport`], so this layer holds no HTTP client: the HTTP layer's
//! `webhook_client` is the real one, and tests use their own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::records::{DeliveryState, WebhookAttempt, WebhookLog};
use crate::domain::clock::Clock;
use crate::domain::sync::lock;

/// How many deliveries run at once to one receiver.
pub const CONCURRENCY: usize = 16;
/// How many deliveries run at once in all.
pub const MAX_IN_FLIGHT: usize = 256;

/// What came of one POST of a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Posted {
    /// The receiver's status code, if it answered.
    pub(crate) status: Option<u16>,
    /// Why it does not count as delivered (a non-2xx answer, a timeout, a connection error);
    /// `None` when it does.
    pub(crate) error: Option<String>,
}

/// POSTs a webhook's JSON payload to its URL, within the attempt timeout it was built with.
pub(crate) trait Transport: Send + Sync + 'static {
    fn post<'a>(&'a self, url: &'a str, payload: Bytes) -> BoxFuture<'a, Posted>;
}

/// Told when a task's webhook is final, so the task may leave the store.
pub(crate) trait Release: Send + Sync + 'static {
    fn release(&self, task_id: &Uuid);
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
}

/// Takes deliveries off the queue until it closes or `cancel` fires.
pub(crate) async fn run_sender(
    mut rx: mpsc::UnboundedReceiver<Delivery>,
    shared: Arc<SenderShared>,
    transport: Arc<dyn Transport>,
    release: Weak<dyn Release>,
    cancel: CancellationToken,
) {
    let all = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut receivers: HashMap<String, Arc<Semaphore>> = HashMap::new();
    loop {
        let delivery = tokio::select! {
            () = cancel.cancelled() => return,
            d = rx.recv() => match d {
                Some(d) => d,
                None => return,
            },
        };
        // Receivers with nothing in flight are forgotten now and then, so the map stays small.
        if receivers.len() > 1024 {
            receivers.retain(|_, s| s.available_permits() < CONCURRENCY);
        }
        let own = Arc::clone(
            receivers
                .entry(receiver(&delivery.url))
                .or_insert_with(|| Arc::new(Semaphore::new(CONCURRENCY))),
        );
        let all = Arc::clone(&all);
        let shared = Arc::clone(&shared);
        let transport = Arc::clone(&transport);
        let release = release.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let task_id = delivery.task_id;
            let sent = async {
                // The receiver's own slot first: a delivery waiting for a slow receiver holds
                // none of the slots the other receivers' deliveries need.
                let (Ok(_own), Ok(_all)) = (own.acquire().await, all.acquire().await) else {
                    return;
                };
                deliver(&shared, transport.as_ref(), delivery).await;
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = sent => {}
            }
            if let Some(release) = release.upgrade() {
                release.release(&task_id);
            }
        });
    }
}

/// The receiver a URL names, as concurrency is counted: scheme, host and port.
fn receiver(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port_or_known_default().unwrap_or_default()
        ),
        Err(_) => url.to_owned(),
    }
}

async fn deliver(shared: &SenderShared, transport: &dyn Transport, d: Delivery) {
    for attempt in 1..=shared.attempts {
        if shared.generation.load(Ordering::Acquire) != d.generation {
            return;
        }
        let at = shared.clock.timestamp(shared.clock.now());
        let started = Instant::now();
        let Posted { status, error } = transport.post(&d.url, d.payload.clone()).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
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
