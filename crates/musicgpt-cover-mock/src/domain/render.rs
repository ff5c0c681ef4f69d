//! A task rendered into the spec's templates: byId's conversion and the webhook payload.

use super::clock::{Clock, VTime};
use super::credits::from_cents;
use super::tasks::{Status, Task};
use crate::spec::{Field, Fill, Spec, Val, Value};

/// Where the result files are served: a completed task's are `{FILES_PATH}/{conversion_id}.EXT`,
/// one per [`ResultFile`].
pub(crate) const FILES_PATH: &str = "/files";

/// A completed task's result files, by format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultFile {
    Mp3,
    Wav,
}

impl ResultFile {
    pub(crate) const ALL: [ResultFile; 2] = [ResultFile::Mp3, ResultFile::Wav];

    /// The extension of its name.
    pub(crate) fn ext(self) -> &'static str {
        match self {
            ResultFile::Mp3 => "mp3",
            ResultFile::Wav => "wav",
        }
    }

    /// Its Content-Type.
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            ResultFile::Mp3 => "audio/mpeg",
            ResultFile::Wav => "audio/wav",
        }
    }

    /// The format named by `ext` (any case).
    pub(crate) fn from_ext(ext: &str) -> Option<ResultFile> {
        Self::ALL
            .into_iter()
            .find(|f| f.ext().eq_ignore_ascii_case(ext))
    }

    /// `{conversion_id}.mp3 or {conversion_id}.wav`: the names a result file may have.
    pub(crate) fn names() -> String {
        let names: Vec<String> = (Self::ALL.iter())
            .map(|f| format!("{{conversion_id}}.{}", f.ext()))
            .collect();
        names.join(" or ")
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
    fn file(&self, file: ResultFile) -> Val<'static> {
        let ext = file.ext();
        if self.task.status(self.now) == Status::Completed {
            Val::Owned(format!(
                "{}{FILES_PATH}/{}.{ext}",
                self.origin, self.task.conversion_id
            ))
        } else {
            Val::Absent
        }
    }

    fn texts(&self) -> (Option<&str>, Option<&str>) {
        let status = self.task.status(self.now);
        if let Some(t) = self.spec.status_text(status.as_str()) {
            return (t.status_msg.as_deref(), t.message.as_deref());
        }
        // Statuses the spec shows no example of.
        let both = |text| (Some(text), Some(text));
        match status {
            Status::Processing => (Some("Converting"), None),
            Status::Failed => both("Conversion failed"),
            Status::Error => both("An error occurred during the conversion"),
            _ => (None, None),
        }
    }
}

impl Fill for TaskFill<'_> {
    fn value(&self, field: Field) -> Val<'_> {
        let task = self.task;
        let request = &task.request;
        let completed = task.status(self.now) == Status::Completed;
        match field {
            Field::Success => Val::Bool(true),
            Field::TaskId => Val::Owned(task.task_id.to_string()),
            Field::ConversionId => Val::Owned(task.conversion_id.to_string()),
            Field::Conversion => Val::Object,
            Field::Status => Val::Str(task.status(self.now).as_str()),
            Field::StatusMsg => self.texts().0.map_or(Val::Absent, Val::Str),
            Field::Message if self.webhook => Val::Default,
            Field::Message => self.texts().1.map_or(Val::Absent, Val::Str),
            Field::VoiceId => Val::Str(&request.voice_id),
            Field::Pitch => Val::Int(request.pitch),
            Field::Eta => Val::Int(i64::try_from(task.eta).unwrap_or(i64::MAX)),
            Field::CreditEstimate => Val::Num(from_cents(task.cost)),
            Field::WebhookUrl => request.webhook_url.as_deref().map_or(Val::Absent, Val::Str),
            Field::AudioUrl | Field::ConversionPath => self.file(ResultFile::Mp3),
            Field::AudioUrlWav | Field::ConversionPathWav => self.file(ResultFile::Wav),
            Field::ConversionDuration if completed => Val::Num(task.duration),
            Field::ConversionCost if completed => Val::Num(from_cents(task.cost)),
            Field::ConversionDuration | Field::ConversionCost => Val::Absent,
            Field::CreatedAt => Val::Owned(self.clock.timestamp(task.created_at)),
            Field::UpdatedAt => Val::Owned(self.clock.timestamp(task.updated_at(self.now))),
            Field::Error | Field::Detail => Val::Absent,
            _ => Val::Default,
        }
    }

    /// A property the mock does not fill itself, named as a field of the Cover form, echoes what
    /// the request gave, else the field's default, else nothing.
    fn named(&self, name: &str) -> Val<'_> {
        let form = self.spec.cover.form.as_ref();
        let Some(rule) = form.and_then(|f| f.fields.iter().find(|r| r.name == name)) else {
            return Val::Default;
        };
        match self.task.request.echoed.iter().find(|(n, _)| n == name) {
            Some((_, Value::Text(text))) => Val::Str(text),
            Some((_, Value::Integer(n))) => Val::Int(*n),
            _ => rule.default.map_or(Val::Absent, Val::Int),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tasks::sample_task;
    use crate::spec::document::{Document, document};

    /// A new optional form field shown back in byId needs only the spec: the same name in the
    /// form and in the conversion.
    #[test]
    fn a_property_named_as_a_form_field_echoes_the_request() -> Result<(), String> {
        let mut raw = document()?.yaml().clone();
        let schemas = &mut raw["components"]["schemas"];
        let title = schemas["Conversion"]["properties"]["voice_id"].clone();
        schemas["CoverRequest"]["properties"]["title"] = title.clone();
        schemas["Conversion"]["properties"]["title"] = title;
        let text = serde_norway::to_string(&raw).map_err(|e| e.to_string())?;
        let spec = Spec::compile(&Document::parse(&text)?)?;
        let clock = Clock::new(chrono::Utc::now(), true);
        let render = |task: &Task| {
            let fill = TaskFill {
                task,
                now: 0,
                clock: &clock,
                spec: &spec,
                origin: "http://127.0.0.1:1",
                webhook: false,
            };
            String::from_utf8_lossy(&spec.conversion_ok.render(&fill)).into_owned()
        };
        let mut task = sample_task(1, 10);
        assert!(!render(&task).contains("\"title\""));
        task.request.echoed = vec![("title".to_owned(), Value::Text("Hello".to_owned()))];
        assert!(render(&task).contains(r#""title":"Hello""#));
        Ok(())
    }
}
