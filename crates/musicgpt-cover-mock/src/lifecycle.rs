//! Conversion tasks: their store, their states over virtual time, and the scheduler that ends them.
//!
//! A task's state is computed from the virtual clock, not stored: it is `IN_QUEUE` until a
//! quarter of its scaled eta has passed, `PROCESSING` until all of it has, then final. The
//! scheduler only has to notice the moment a task becomes final, to send its webhook and to mark
//! it as evictable; it sleeps until the next such moment (or until woken by a new task, the admin
//! API or a clock jump), so nothing polls.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Weak};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::auth::{Cents, from_cents};
use crate::clock::{Clock, VTime};
use crate::spec::Spec;
use crate::template::{Field, Fill, Val};

pub(crate) const IN_QUEUE: &str = "IN_QUEUE";
pub(crate) const PROCESSING: &str = "PROCESSING";
pub(crate) const COMPLETED: &str = "COMPLETED";
pub(crate) const FAILED: &str = "FAILED";
pub(crate) const ERROR: &str = "ERROR";
/// Every status the mock shows; the spec's `x-known-values` must list them all.
pub(crate) const ALL_STATUSES: [&str; 5] = [IN_QUEUE, PROCESSING, COMPLETED, FAILED, ERROR];

/// How a task ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// `COMPLETED`: result files are served and the webhook is sent.
    Completed,
    /// `FAILED`: no result, no webhook.
    Failed,
    /// `ERROR`: no result, no webhook.
    Error,
}

impl Outcome {
    /// The status string byId shows.
    pub fn status(self) -> &'static str {
        match self {
            Outcome::Completed => COMPLETED,
            Outcome::Failed => FAILED,
            Outcome::Error => ERROR,
        }
    }

    /// Reads `completed`, `failed` or `error` (any case; the status names too).
    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Completed, Outcome::Failed, Outcome::Error]
            .into_iter()
            .find(|o| o.status().eq_ignore_ascii_case(s))
    }
}

/// Where the song of a task came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AudioSource {
    /// `audio_url` (never downloaded).
    Url {
        /// The URL as given.
        url: String,
    },
    /// `audio_file`, counted as it streamed by.
    File {
        /// The part's file name.
        filename: Option<String>,
        /// The part's content type.
        content_type: Option<String>,
        /// Bytes received.
        size: u64,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) seq: u64,
    pub(crate) task_id: Uuid,
    pub(crate) conversion_id: Uuid,
    pub(crate) api_key: String,
    pub(crate) voice_id: String,
    pub(crate) pitch: i64,
    pub(crate) webhook_url: Option<String>,
    pub(crate) source: AudioSource,
    pub(crate) eta: u64,
    pub(crate) cost: Cents,
    pub(crate) duration: f64,
    pub(crate) created_at: VTime,
    pub(crate) processing_at: VTime,
    pub(crate) finished_at: VTime,
    pub(crate) outcome: Outcome,
    /// The scheduler has handled its end.
    pub(crate) settled: bool,
}

impl Task {
    pub(crate) fn status(&self, now: VTime) -> &'static str {
        if now >= self.finished_at {
            self.outcome.status()
        } else if now >= self.processing_at {
            PROCESSING
        } else {
            IN_QUEUE
        }
    }

    pub(crate) fn is_final(&self, now: VTime) -> bool {
        now >= self.finished_at
    }

    pub(crate) fn updated_at(&self, now: VTime) -> VTime {
        if now >= self.finished_at {
            self.finished_at
        } else if now >= self.processing_at {
            self.processing_at
        } else {
            self.created_at
        }
    }

    /// The public view of the task at `now`.
    pub(crate) fn view(&self, now: VTime, clock: &Clock) -> TaskView {
        TaskView {
            task_id: self.task_id.to_string(),
            conversion_id: self.conversion_id.to_string(),
            status: self.status(now).to_owned(),
            voice_id: self.voice_id.clone(),
            pitch: self.pitch,
            eta: self.eta,
            credit_estimate: from_cents(self.cost),
            webhook_url: self.webhook_url.clone(),
            source: self.source.clone(),
            api_key: self.api_key.clone(),
            outcome: self.outcome,
            created_at: clock.timestamp(self.created_at),
            processing_at: clock.timestamp(self.processing_at),
            finishes_at: clock.timestamp(self.finished_at),
            updated_at: clock.timestamp(self.updated_at(now)),
        }
    }
}

/// A task as the admin API and [`MockState::tasks`](crate::MockState::tasks) show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// The task id of the Cover answer.
    pub task_id: String,
    /// The conversion id of the Cover answer.
    pub conversion_id: String,
    /// The status byId shows now.
    pub status: String,
    /// The requested voice.
    pub voice_id: String,
    /// The requested pitch shift.
    pub pitch: i64,
    /// The eta the Cover answer gave, in seconds (before `--time-scale`).
    pub eta: u64,
    /// Credits charged.
    pub credit_estimate: f64,
    /// Where the webhook goes.
    pub webhook_url: Option<String>,
    /// Where the song came from.
    pub source: AudioSource,
    /// The key that paid.
    pub api_key: String,
    /// How the task ends (or ended).
    pub outcome: Outcome,
    /// Accepted.
    pub created_at: String,
    /// When it leaves the queue.
    pub processing_at: String,
    /// When it becomes final.
    pub finishes_at: String,
    /// The last state change so far.
    pub updated_at: String,
}

/// Why a task could not be finished on request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishError {
    /// No task has that id.
    NotFound,
    /// The task is already final, with this status.
    AlreadyFinal(String),
}

impl std::fmt::Display for FinishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FinishError::NotFound => f.write_str("no task has that id"),
            FinishError::AlreadyFinal(s) => write!(f, "the task is already final ({s})"),
        }
    }
}

impl std::error::Error for FinishError {}

/// Hashes by folding 8-byte words (FxHash style). The task maps are keyed by the mock's own random
/// UUIDs and the key ledger is capped, so SipHash's protection against chosen keys buys nothing
/// in a local mock and costs on every request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

type IdMap<V> = HashMap<Uuid, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Tasks by id, bounded: when full, the oldest settled task goes; a task still running (or whose
/// webhook is not yet sent) is never dropped, so a store full of them takes no new task.
///
/// The orders are kept in queues and a heap with lazy deletion (an entry whose task is gone, or
/// changed, is skipped when reached) rather than in ordered maps: under load every Cover inserts
/// one task and evicts one, and those maps' rebalancing was the costliest part of a request.
/// Queues are compacted when stale entries pile up, so memory stays proportional to the capacity.
#[derive(Debug)]
pub(crate) struct TaskStore {
    tasks: IdMap<Task>,
    by_conversion: IdMap<Uuid>,
    /// (seq, task id) in insertion order.
    order: VecDeque<(u64, Uuid)>,
    /// (seq, task id) in the order tasks were settled.
    settled: VecDeque<(u64, Uuid)>,
    /// (finish time, seq, task id), soonest on top.
    due: BinaryHeap<Reverse<(VTime, u64, Uuid)>>,
    next_seq: u64,
    capacity: usize,
}

impl TaskStore {
    pub(crate) fn new(capacity: usize) -> TaskStore {
        TaskStore {
            tasks: IdMap::default(),
            by_conversion: IdMap::default(),
            order: VecDeque::new(),
            settled: VecDeque::new(),
            due: BinaryHeap::new(),
            next_seq: 0,
            capacity,
        }
    }

    pub(crate) fn clear(&mut self) {
        *self = TaskStore::new(self.capacity);
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn live(&self, seq: u64, id: &Uuid) -> bool {
        self.tasks.get(id).is_some_and(|t| t.seq == seq)
    }

    /// Makes a place for one more task by evicting settled tasks, oldest first; false when every
    /// task kept is unsettled.
    pub(crate) fn make_room(&mut self) -> bool {
        while self.tasks.len() >= self.capacity {
            match self.pop_live_settled() {
                Some(id) => self.remove(id),
                None => return false,
            }
        }
        true
    }

    /// Adds a task; `Err` gives it back when [`TaskStore::make_room`] finds no place.
    pub(crate) fn insert(&mut self, task: Task) -> Result<(), Box<Task>> {
        if !self.make_room() {
            return Err(Box::new(task));
        }
        self.order.push_back((task.seq, task.task_id));
        self.by_conversion.insert(task.conversion_id, task.task_id);
        self.due
            .push(Reverse((task.finished_at, task.seq, task.task_id)));
        self.tasks.insert(task.task_id, task);
        self.compact();
        Ok(())
    }

    fn pop_live_settled(&mut self) -> Option<Uuid> {
        while let Some((seq, id)) = self.settled.pop_front() {
            if self.live(seq, &id) {
                return Some(id);
            }
        }
        None
    }

    /// Drops stale queue entries once they outnumber the tasks.
    fn compact(&mut self) {
        let limit = 2 * self.capacity + 64;
        while self
            .order
            .front()
            .is_some_and(|(seq, id)| !self.live(*seq, id))
        {
            self.order.pop_front();
        }
        if self.order.len() > limit {
            let tasks = &self.tasks;
            self.order
                .retain(|(seq, id)| tasks.get(id).is_some_and(|t| t.seq == *seq));
        }
        if self.settled.len() > limit {
            let tasks = &self.tasks;
            self.settled
                .retain(|(seq, id)| tasks.get(id).is_some_and(|t| t.seq == *seq));
        }
        if self.due.len() > limit {
            let tasks = &self.tasks;
            self.due.retain(|Reverse((at, seq, id))| {
                tasks
                    .get(id)
                    .is_some_and(|t| t.seq == *seq && t.finished_at == *at && !t.settled)
            });
        }
    }

    fn remove(&mut self, task_id: Uuid) {
        if let Some(task) = self.tasks.remove(&task_id) {
            self.by_conversion.remove(&task.conversion_id);
        }
    }

    pub(crate) fn get(&self, task_id: &Uuid) -> Option<&Task> {
        self.tasks.get(task_id)
    }

    pub(crate) fn by_conversion(&self, conversion_id: &Uuid) -> Option<&Task> {
        self.by_conversion
            .get(conversion_id)
            .and_then(|t| self.tasks.get(t))
    }

    /// By task id or conversion id.
    pub(crate) fn find(&self, id: &Uuid) -> Option<&Task> {
        self.get(id).or_else(|| self.by_conversion(id))
    }

    /// Oldest first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Task> {
        let mut all: Vec<&Task> = self.tasks.values().collect();
        all.sort_unstable_by_key(|t| t.seq);
        all.into_iter()
    }

    /// Ends a task now with `outcome`.
    pub(crate) fn finish_now(
        &mut self,
        id: &Uuid,
        outcome: Outcome,
        now: VTime,
    ) -> Result<(), FinishError> {
        let task_id = self
            .find(id)
            .map(|t| t.task_id)
            .ok_or(FinishError::NotFound)?;
        let Some(task) = self.tasks.get_mut(&task_id) else {
            return Err(FinishError::NotFound);
        };
        if task.is_final(now) {
            return Err(FinishError::AlreadyFinal(task.status(now).to_owned()));
        }
        task.finished_at = now;
        task.processing_at = task.processing_at.min(now);
        task.outcome = outcome;
        // The old heap entry no longer matches `finished_at`: it is skipped when reached.
        self.due.push(Reverse((now, task.seq, task_id)));
        Ok(())
    }

    /// Marks every task final by `now` as settled; returns copies of those that completed with
    /// a webhook to send (only those: under load most tasks have none).
    pub(crate) fn settle_due(&mut self, now: VTime) -> Vec<Task> {
        let mut out = Vec::new();
        while let Some(&Reverse((at, seq, id))) = self.due.peek() {
            if at > now {
                break;
            }
            self.due.pop();
            let Some(task) = self.tasks.get_mut(&id) else {
                continue;
            };
            if task.seq != seq || task.finished_at != at || task.settled {
                continue;
            }
            task.settled = true;
            self.settled.push_back((seq, id));
            if task.outcome == Outcome::Completed && task.webhook_url.is_some() {
                out.push(task.clone());
            }
        }
        out
    }

    /// When the next unsettled task is due.
    pub(crate) fn next_due(&mut self) -> Option<VTime> {
        while let Some(&Reverse((at, seq, id))) = self.due.peek() {
            let current = self
                .tasks
                .get(&id)
                .is_some_and(|t| t.seq == seq && t.finished_at == at && !t.settled);
            if current {
                return Some(at);
            }
            self.due.pop();
        }
        None
    }

    /// Tasks not final yet that will send a webhook (for the shutdown report).
    pub(crate) fn unsettled_with_webhook(&self) -> impl Iterator<Item = &Task> {
        self.tasks
            .values()
            .filter(|t| !t.settled && t.webhook_url.is_some())
    }
}

/// Fills the byId and webhook templates from a task.
pub(crate) struct TaskFill<'a> {
    pub(crate) task: &'a Task,
    pub(crate) now: VTime,
    pub(crate) clock: &'a Clock,
    pub(crate) spec: &'a Spec,
    /// The origin result-file URLs start with.
    pub(crate) origin: &'a str,
    /// Filling the webhook payload: `message` keeps the callback example's text.
    pub(crate) webhook: bool,
}

impl TaskFill<'_> {
    fn file(&self, ext: &str) -> Val<'static> {
        if self.task.status(self.now) == COMPLETED {
            Val::Owned(format!(
                "{}/files/{}.{ext}",
                self.origin, self.task.conversion_id
            ))
        } else {
            Val::Absent
        }
    }

    fn texts(&self) -> (Option<String>, Option<String>) {
        let status = self.task.status(self.now);
        if let Some(t) = self.spec.status_text(status) {
            return (t.status_msg.clone(), t.message.clone());
        }
        // Statuses the spec shows no example of.
        match status {
            PROCESSING => (Some("Converting".to_owned()), None),
            FAILED => (
                Some("Conversion failed".to_owned()),
                Some("Conversion failed".to_owned()),
            ),
            ERROR => (
                Some("An error occurred during the conversion".to_owned()),
                Some("An error occurred during the conversion".to_owned()),
            ),
            _ => (None, None),
        }
    }
}

impl Fill for TaskFill<'_> {
    fn value(&self, field: Field) -> Val<'_> {
        let task = self.task;
        let completed = task.status(self.now) == COMPLETED;
        match field {
            Field::Success => Val::Bool(true),
            Field::TaskId => Val::Owned(task.task_id.to_string()),
            Field::ConversionId => Val::Owned(task.conversion_id.to_string()),
            Field::Conversion => Val::Object,
            Field::Status => Val::Str(task.status(self.now)),
            Field::StatusMsg => self.texts().0.map_or(Val::Absent, Val::Owned),
            Field::Message if self.webhook => Val::Default,
            Field::Message => self.texts().1.map_or(Val::Absent, Val::Owned),
            Field::VoiceId => Val::Str(&task.voice_id),
            Field::Pitch => Val::Int(task.pitch),
            Field::Eta => Val::Int(i64::try_from(task.eta).unwrap_or(i64::MAX)),
            Field::CreditEstimate => Val::Num(from_cents(task.cost)),
            Field::WebhookUrl => task.webhook_url.as_deref().map_or(Val::Absent, Val::Str),
            Field::AudioUrl | Field::ConversionPath => self.file("mp3"),
            Field::AudioUrlWav | Field::ConversionPathWav => self.file("wav"),
            Field::ConversionDuration if completed => Val::Num(task.duration),
            Field::ConversionCost if completed => Val::Num(from_cents(task.cost)),
            Field::ConversionDuration | Field::ConversionCost => Val::Absent,
            Field::CreatedAt => Val::Owned(self.clock.timestamp(task.created_at)),
            Field::UpdatedAt => Val::Owned(self.clock.timestamp(task.updated_at(self.now))),
            Field::Error | Field::Detail => Val::Absent,
            _ => Val::Default,
        }
    }
}

/// The shortest real time between two scheduler wake-ups on a running clock.
const SETTLE_GRANULARITY: std::time::Duration = std::time::Duration::from_millis(5);

/// What the scheduler needs from the shared state; implemented by the state's inner part.
pub(crate) trait Settle: Send + Sync + 'static {
    /// Settles due tasks; returns the next virtual time something is due.
    fn settle(&self) -> Option<VTime>;
}

/// Sleeps until the next task is due, settles it, repeats. Ends when the state is dropped or
/// `cancel` fires.
pub(crate) async fn run_scheduler<S: Settle>(
    state: Weak<S>,
    clock: Arc<Clock>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    loop {
        let next = match state.upgrade() {
            Some(s) => s.settle(),
            None => return,
        };
        // Batching wake-ups: under load a task is due every fraction of a millisecond, and
        // settling them a few milliseconds late changes nothing a client can see.
        let deadline = next
            .and_then(|at| clock.real_deadline(at))
            .map(|d| d.max(tokio::time::Instant::now() + SETTLE_GRANULARITY));
        tokio::select! {
            () = cancel.cancelled() => return,
            () = wake.notified() => {}
            () = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(seq: u64, finished_at: VTime) -> Task {
        Task {
            seq,
            task_id: Uuid::from_u128(u128::from(seq)),
            conversion_id: Uuid::from_u128(u128::from(seq) << 64),
            api_key: "k".into(),
            voice_id: "Drake".into(),
            pitch: 0,
            webhook_url: None,
            source: AudioSource::Url {
                url: "http://x".into(),
            },
            eta: 10,
            cost: 18,
            duration: 4.0,
            created_at: 0,
            processing_at: finished_at / 4,
            finished_at,
            outcome: Outcome::Completed,
            settled: false,
        }
    }

    #[test]
    fn states_follow_the_clock() {
        let t = task(1, 1000);
        assert_eq!(t.status(0), IN_QUEUE);
        assert_eq!(t.status(250), PROCESSING);
        assert_eq!(t.status(1000), COMPLETED);
        assert_eq!(t.updated_at(999), 250);
    }

    #[test]
    fn store_evicts_settled_tasks_first() {
        let mut store = TaskStore::new(2);
        assert!(store.insert(task(1, 5000)).is_ok());
        let mut with_webhook = task(2, 10);
        with_webhook.webhook_url = Some("http://127.0.0.1/x".into());
        assert!(store.insert(with_webhook).is_ok());
        assert_eq!(store.settle_due(100).len(), 1);
        assert!(store.insert(task(3, 5000)).is_ok());
        assert_eq!(store.len(), 2);
        assert!(store.get(&Uuid::from_u128(1)).is_some());
        assert!(store.get(&Uuid::from_u128(2)).is_none());
        // Nothing settled: nothing is dropped, and the new task is refused.
        assert!(store.insert(task(4, 5000)).is_err());
        assert!(store.get(&Uuid::from_u128(1)).is_some());
        assert!(store.get(&Uuid::from_u128(4)).is_none());
        assert_eq!(store.next_due(), Some(5000));
    }

    #[test]
    fn finishing_now_moves_the_deadline() {
        let mut store = TaskStore::new(10);
        assert!(store.insert(task(1, 5000)).is_ok());
        assert_eq!(
            store.finish_now(&Uuid::from_u128(1), Outcome::Failed, 42),
            Ok(())
        );
        assert_eq!(store.next_due(), Some(42));
        // Failed: settled, but nothing to send.
        assert!(store.settle_due(42).is_empty());
        assert!(
            store
                .get(&Uuid::from_u128(1))
                .is_some_and(|t| t.settled && t.status(42) == FAILED)
        );
        assert_eq!(
            store.finish_now(&Uuid::from_u128(1 << 64), Outcome::Completed, 50),
            Err(FinishError::AlreadyFinal(FAILED.to_owned()))
        );
    }
}
