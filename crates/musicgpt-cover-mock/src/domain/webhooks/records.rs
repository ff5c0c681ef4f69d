//! The record of every webhook delivery: its state and each attempt, bounded.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What became of a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Not sent. No longer produced (a delivery waits with its task rather than being dropped);
    /// kept so that records written by earlier versions still parse.
    Dropped,
}

impl DeliveryState {
    /// Whether nothing more will happen to the delivery.
    pub fn is_final(self) -> bool {
        self != DeliveryState::Pending
    }
}

/// One attempt to deliver a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// How many webhooks came due since the start (or the last reset), and what became of them.
/// `due` is always `pending + delivered + failed + refused + dropped`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct WebhookTotals {
    /// Completed tasks with a `webhook_url`.
    pub due: u64,
    /// Queued, in flight or waiting to retry.
    pub pending: u64,
    /// Answered 2xx.
    pub delivered: u64,
    /// Every attempt failed.
    pub failed: u64,
    /// The target was not allowed.
    pub refused: u64,
    /// Not sent (no longer produced: a delivery waits with its task instead).
    pub dropped: u64,
}

impl WebhookTotals {
    fn count(&mut self, state: DeliveryState, by: i64) {
        let slot = match state {
            DeliveryState::Pending => &mut self.pending,
            DeliveryState::Delivered => &mut self.delivered,
            DeliveryState::Failed => &mut self.failed,
            DeliveryState::Refused => &mut self.refused,
            DeliveryState::Dropped => &mut self.dropped,
        };
        *slot = slot.saturating_add_signed(by);
    }
}

/// Delivery records by task id. Final records are bounded (the oldest final one goes first);
/// pending ones are always kept, and are bounded by the task store, which keeps a task while its
/// webhook is pending.
#[derive(Debug, Default)]
pub(crate) struct WebhookLog {
    records: HashMap<Uuid, WebhookDelivery>,
    /// Every record's id in the order it was added; ids of removed records are skipped and
    /// compacted away lazily.
    order: VecDeque<Uuid>,
    /// Ids of final records, in the order they became final: the eviction order.
    finals: VecDeque<Uuid>,
    capacity: usize,
    totals: WebhookTotals,
}

impl WebhookLog {
    pub(crate) fn new(capacity: usize) -> WebhookLog {
        WebhookLog {
            capacity,
            ..WebhookLog::default()
        }
    }

    pub(crate) fn clear(&mut self) {
        *self = WebhookLog::new(self.capacity);
    }

    /// Adds the record of a webhook that just came due.
    pub(crate) fn insert(&mut self, task_id: Uuid, record: WebhookDelivery) {
        let state = record.state;
        if let Some(old) = self.records.insert(task_id, record) {
            self.totals.count(old.state, -1);
        } else {
            self.totals.due += 1;
            self.order.push_back(task_id);
        }
        self.totals.count(state, 1);
        if state.is_final() {
            self.finals.push_back(task_id);
        }
        self.trim();
    }

    pub(crate) fn get(&self, task_id: &Uuid) -> Option<&WebhookDelivery> {
        self.records.get(task_id)
    }

    pub(crate) fn update(&mut self, task_id: &Uuid, f: impl FnOnce(&mut WebhookDelivery)) {
        let Some(r) = self.records.get_mut(task_id) else {
            return;
        };
        let before = r.state;
        f(r);
        let after = r.state;
        if before != after {
            self.totals.count(before, -1);
            self.totals.count(after, 1);
            if after.is_final() && !before.is_final() {
                self.finals.push_back(*task_id);
                self.trim();
            }
        }
    }

    pub(crate) fn all(&self) -> Vec<WebhookDelivery> {
        self.order
            .iter()
            .filter_map(|id| self.records.get(id).cloned())
            .collect()
    }

    pub(crate) fn totals(&self) -> WebhookTotals {
        self.totals
    }

    /// Forgets the oldest final records beyond the capacity.
    fn trim(&mut self) {
        while self.finals.len() > self.capacity
            && let Some(old) = self.finals.pop_front()
        {
            self.records.remove(&old);
        }
        if self.order.len() > 2 * self.records.len() + 64 {
            let records = &self.records;
            self.order.retain(|id| records.contains_key(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: DeliveryState) -> WebhookDelivery {
        WebhookDelivery {
            task_id: String::new(),
            conversion_id: String::new(),
            url: String::new(),
            state,
            reason: None,
            payload: serde_json::Value::Null,
            attempts: Vec::new(),
        }
    }

    #[test]
    fn pending_records_are_kept_and_final_ones_bounded() {
        let mut log = WebhookLog::new(2);
        for i in 0..5 {
            log.insert(Uuid::from_u128(i), record(DeliveryState::Pending));
        }
        assert_eq!(log.all().len(), 5);
        for i in 0..4 {
            log.update(&Uuid::from_u128(i), |r| r.state = DeliveryState::Delivered);
        }
        let kept: Vec<DeliveryState> = log.all().iter().map(|r| r.state).collect();
        assert_eq!(
            kept,
            [
                DeliveryState::Delivered,
                DeliveryState::Delivered,
                DeliveryState::Pending
            ]
        );
        assert!(log.get(&Uuid::from_u128(4)).is_some());
        assert!(log.get(&Uuid::from_u128(0)).is_none());
        let totals = log.totals();
        assert_eq!((totals.due, totals.delivered, totals.pending), (5, 4, 1));
    }
}
