//! Conversion tasks and their states over virtual time: where a task changes state.
//!
//! A task's state is computed from the virtual clock, not stored: it is `IN_QUEUE` until a
//! quarter of its scaled eta has passed, `PROCESSING` until all of it has, then final. The
//! scheduler (`scheduler`) only has to notice the moment a task becomes final, to send its
//! webhook and to mark it as evictable in the store (`store`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::clock::{Clock, VTime};
use super::credits::{Cents, from_cents};
use crate::spec::Value;

/// A conversion's status. The mock shows the first five; `Other` is a further value the spec's
/// `x-known-values` names (`IN_PROGRESS`), which a client must expect and the mock never shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InQueue,
    Processing,
    Completed,
    Failed,
    Error,
    Other(&'static str),
}

impl Status {
    /// Every status the mock shows; the spec's `x-known-values` must list them all.
    pub(crate) const SHOWN: [Self; 5] = [
        Self::InQueue,
        Self::Processing,
        Self::Completed,
        Self::Failed,
        Self::Error,
    ];

    /// The status as byId writes it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::InQueue => "IN_QUEUE",
            Self::Processing => "PROCESSING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Error => "ERROR",
            Self::Other(name) => name,
        }
    }

    /// The status written `name`.
    pub(crate) fn named(name: &'static str) -> Self {
        Self::SHOWN
            .into_iter()
            .find(|s| s.as_str() == name)
            .unwrap_or(Self::Other(name))
    }
}

/// How a task ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Every way a task can end, `Completed` first; their statuses are the spec's
    /// `x-final-values`.
    pub const ALL: [Outcome; 3] = [Outcome::Completed, Outcome::Failed, Outcome::Error];

    /// The status byId shows once the task has ended.
    pub(crate) fn status(self) -> Status {
        match self {
            Outcome::Completed => Status::Completed,
            Outcome::Failed => Status::Failed,
            Outcome::Error => Status::Error,
        }
    }

    /// Reads `completed`, `failed` or `error` (any case; the status names too).
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.status().as_str().eq_ignore_ascii_case(s))
    }
}

/// Where the song of a task came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// What the Cover asked for, as it was accepted.
    pub(crate) request: NewTask,
    pub(crate) eta: u64,
    pub(crate) cost: Cents,
    pub(crate) duration: f64,
    pub(crate) created_at: VTime,
    pub(crate) processing_at: VTime,
    pub(crate) finished_at: VTime,
    /// The scheduler has handled its end.
    pub(crate) settled: bool,
    /// Its webhook is queued, in flight or retrying: it may not be evicted yet.
    pub(crate) webhook_pending: bool,
}

impl Task {
    /// About how many bytes the task holds: what bounds the store in bytes.
    pub(crate) fn weight(&self) -> usize {
        self.request.weight()
    }

    /// Its status at `now`, and since when.
    fn state(&self, now: VTime) -> (Status, VTime) {
        if now >= self.finished_at {
            (self.request.outcome.status(), self.finished_at)
        } else if now >= self.processing_at {
            (Status::Processing, self.processing_at)
        } else {
            (Status::InQueue, self.created_at)
        }
    }

    pub(crate) fn status(&self, now: VTime) -> Status {
        self.state(now).0
    }

    pub(crate) fn updated_at(&self, now: VTime) -> VTime {
        self.state(now).1
    }

    pub(crate) fn is_final(&self, now: VTime) -> bool {
        now >= self.finished_at
    }

    /// The public view of the task at `now`.
    pub(crate) fn view(&self, now: VTime, clock: &Clock) -> TaskView {
        let request = &self.request;
        TaskView {
            task_id: self.task_id.to_string(),
            conversion_id: self.conversion_id.to_string(),
            status: self.status(now).as_str().to_owned(),
            voice_id: request.voice_id.clone(),
            pitch: request.pitch,
            eta: self.eta,
            credit_estimate: from_cents(self.cost),
            webhook_url: request.webhook_url.clone(),
            source: request.source.clone(),
            api_key: request.api_key.clone(),
            outcome: request.outcome,
            created_at: clock.timestamp(self.created_at),
            processing_at: clock.timestamp(self.processing_at),
            finishes_at: clock.timestamp(self.finished_at),
            updated_at: clock.timestamp(self.updated_at(now)),
            audio: None,
        }
    }
}

impl AudioSource {
    /// The bytes of its texts.
    fn weight(&self) -> usize {
        match self {
            AudioSource::Url { url } => url.len(),
            AudioSource::File {
                filename,
                content_type,
                ..
            } => {
                filename.as_ref().map_or(0, String::len)
                    + content_type.as_ref().map_or(0, String::len)
            }
        }
    }
}

/// A task as the admin API and [`MockState::tasks`](crate::MockState::tasks) show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// For a task made from an upload, once converted: what was converted and what was cut, or
    /// why the generated tune stands in (bytes that do not decode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
}

/// Why a task could not be finished on request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FinishError {
    /// No task has that id.
    #[error("no task has that id")]
    NotFound,
    /// The task is already final, with this status.
    #[error("the task is already final ({0})")]
    AlreadyFinal(String),
}

/// What an accepted Cover asked for: what a task is made of, and keeps as it is.
#[derive(Debug, Clone)]
pub(crate) struct NewTask {
    pub(crate) api_key: String,
    pub(crate) voice_id: String,
    pub(crate) pitch: i64,
    pub(crate) webhook_url: Option<String>,
    pub(crate) source: AudioSource,
    /// How it ends; the admin API may end it otherwise, and earlier.
    pub(crate) outcome: Outcome,
    /// The form's other fields, by name: byId and the webhook echo each under its own name
    /// (`render`), so a new echoed field needs no code.
    pub(crate) echoed: Vec<(String, Value)>,
}

impl NewTask {
    /// What the task weighs: its fixed size plus the bytes of its texts.
    pub(crate) fn weight(&self) -> usize {
        let text = |value: &Value| match value {
            Value::Text(t) => t.len(),
            _ => 0,
        };
        std::mem::size_of::<Task>()
            + self.api_key.len()
            + self.voice_id.len()
            + self.webhook_url.as_ref().map_or(0, String::len)
            + self.source.weight()
            + self
                .echoed
                .iter()
                .map(|(n, v)| n.len() + text(v))
                .sum::<usize>()
    }
}

/// A task for tests: `seq` also makes its ids, a completed URL task due at `finished_at`.
#[cfg(test)]
pub(crate) fn sample_task(seq: u64, finished_at: VTime) -> Task {
    Task {
        seq,
        task_id: Uuid::from_u128(u128::from(seq)),
        conversion_id: Uuid::from_u128(u128::from(seq) << 64),
        request: NewTask {
            api_key: "k".into(),
            voice_id: "Drake".into(),
            pitch: 0,
            webhook_url: None,
            source: AudioSource::Url {
                url: "http://x".into(),
            },
            outcome: Outcome::Completed,
            echoed: Vec::new(),
        },
        eta: 10,
        cost: 18,
        duration: 4.0,
        created_at: 0,
        processing_at: finished_at / 4,
        finished_at,
        settled: false,
        webhook_pending: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_clock() {
        let t = sample_task(1, 1000);
        assert_eq!(t.status(0), Status::InQueue);
        assert_eq!(t.status(250), Status::Processing);
        assert_eq!(t.status(1000), Status::Completed);
        assert_eq!(t.updated_at(999), 250);
    }
}
