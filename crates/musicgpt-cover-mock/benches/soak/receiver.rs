//! The webhook receiver: an axum server on 127.0.0.1 in this process that answers every POST with
//! 200 at once and counts what it got per `task_id`. It has a runtime of its own, so the load's
//! 64 busy connections cannot make it slow to answer (a slow receiver would look like a mock that
//! fails to deliver).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use bytes::Bytes;
use serde_json::Value;
use tokio::runtime::Runtime;
use uuid::Uuid;

use crate::common::{lock, runtime, serve};

/// What the receiver got.
#[derive(Default)]
pub(crate) struct Received {
    /// Per task id: how many times, and the conversion id of the first payload.
    pub(crate) tasks: HashMap<Uuid, (u32, Uuid)>,
    /// Payloads that are not a webhook (no JSON, no ids).
    pub(crate) malformed: u64,
}

pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Received>>,
    // Kept for as long as the receiver serves; dropping it stops the server.
    _runtime: Runtime,
}

impl Receiver {
    pub(crate) fn start() -> Result<Receiver, String> {
        let runtime = runtime("soak-receiver", 1)?;
        let received = Arc::new(Mutex::new(Received::default()));
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(Arc::clone(&received));
        let (addr, _) = runtime.block_on(serve(app, "the receiver"))?;
        Ok(Receiver {
            url: format!("http://{addr}/hook"),
            received,
            _runtime: runtime,
        })
    }

    pub(crate) fn received(&self) -> MutexGuard<'_, Received> {
        lock(&self.received)
    }
}

/// Counts the webhook, then answers 200: the count is in before the mock can mark the delivery
/// delivered, so once no webhook is pending the counts are complete.
async fn hook(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> StatusCode {
    let payload = serde_json::from_slice::<Value>(&body).ok();
    let id = |name: &str| {
        payload
            .as_ref()
            .and_then(|p| p[name].as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    let mut received = lock(&received);
    match (id("task_id"), id("conversion_id")) {
        (Some(task_id), Some(conversion_id)) => {
            let entry = received.tasks.entry(task_id).or_insert((0, conversion_id));
            entry.0 += 1;
        }
        _ => received.malformed += 1,
    }
    StatusCode::OK
}
