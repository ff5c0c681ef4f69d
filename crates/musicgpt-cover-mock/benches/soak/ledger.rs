//! Every Cover the mock accepted during the soak, as the soak saw it: what the drain and the
//! webhook counts are checked against, and where byId polls pick their tasks.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use musicgpt_cover::types::ConversionStatus;
use musicgpt_cover_mock::Outcome;
use uuid::Uuid;

use crate::common::lock;

/// Where an accepted Cover's webhook goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    None,
    /// The soak's receiver on 127.0.0.1: due, and must be delivered.
    Receiver,
    /// A host that is not loopback: due, and must be refused by policy (nothing sent).
    Refused,
}

/// The final status byId shows of a task asked to end `outcome` (`Prefer: outcome=...`): the
/// spec's final value the mock reads as that outcome.
pub(crate) fn final_status(outcome: Outcome) -> &'static str {
    ConversionStatus::FINAL_VALUES
        .iter()
        .find(|status| Outcome::parse(status.as_str()) == Some(outcome))
        .map_or("", ConversionStatus::as_str)
}

/// One accepted Cover.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Task {
    pub(crate) task_id: Uuid,
    pub(crate) conversion_id: Uuid,
    /// When the Cover was sent and when its answer came: the mock accepted it in between.
    pub(crate) sent: Instant,
    pub(crate) answered: Instant,
    /// eta × time-scale, as the mock rounds it: how long after acceptance the task is final.
    pub(crate) run: Duration,
    pub(crate) hook: Hook,
    /// How it was asked to end (`Prefer: outcome=...`).
    pub(crate) outcome: Outcome,
}

impl Task {
    /// Whether a webhook comes due for it: only a task that completes sends one.
    pub(crate) fn webhook_due(&self) -> bool {
        self.hook != Hook::None && self.outcome == Outcome::Completed
    }
}

/// How many recent tasks polls choose from: recent enough to be still in the store (which
/// evicts the oldest finished tasks once full), old enough that some have finished.
const RECENT: usize = 512;

/// Every accepted task, in the order the soak learnt of them.
#[derive(Default)]
pub(crate) struct Ledger(Mutex<Vec<Task>>);

impl Ledger {
    pub(crate) fn add(&self, task: Task) {
        lock(&self.0).push(task);
    }

    /// The `pick`th most recent of the last [`RECENT`] tasks (modulo how many there are), if there
    /// is one.
    pub(crate) fn recent(&self, pick: usize) -> Option<Task> {
        let all = lock(&self.0);
        let back = pick.checked_rem(all.len().min(RECENT))?;
        all.get(all.len() - 1 - back).copied()
    }

    pub(crate) fn all(&self) -> Vec<Task> {
        lock(&self.0).clone()
    }
}
