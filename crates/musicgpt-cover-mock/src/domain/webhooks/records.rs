//! The record of every webhook delivery: its state and each attempt, bounded.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
