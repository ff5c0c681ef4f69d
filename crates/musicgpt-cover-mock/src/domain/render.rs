//! A task rendered into the spec's templates: byId's conversion and the webhook payload.

use super::clock::{Clock, VTime};
use super::credits::from_cents;
use super::tasks::{COMPLETED, ERROR, FAILED, PROCESSING, Task};
use crate::spec::{Field, Fill, Spec, Val};

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
