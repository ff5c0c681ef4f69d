//! `--replay DIR`: a recording made by `musicgpt-cover-mock proxy --record DIR` (one journal
//! entry per file), loaded at start-up, and the recorded answers it gives again.
//!
//! A request matches the recorded requests with the same [`key`]: method, path, every query
//! parameter (decoded, in any order), and for a form its text fields but the webhook's URL and
//! its uploads by name, size and SHA-256. The `n`th request with a key gets the `n`th recorded
//! answer of that key, the last one repeating. A recorded Cover whose task the recording polls
//! to `COMPLETED` sends its webhook (when the replayed Cover named one) made from that final
//! conversion, as many seconds after the Cover as it took in the recording, or as soon as the
//! final poll is replayed, whichever comes first.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::journal::{FormRecord, JournalEntry, KeptAnswer};
use super::sync::lock;
use super::tasks::Status;
use crate::spec::{Field, Fill, Spec, Val};

/// A recording, ready to answer from.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// The recorded answers of each request key, in the recording's order.
    answers: HashMap<String, Vec<Recorded>>,
    /// How many requests of each key were answered since the start (or the last reset).
    served: Mutex<HashMap<String, usize>>,
    /// The final conversion of each recorded Cover's task, by task id.
    finals: HashMap<String, Final>,
    /// Webhooks waiting for their replayed task to complete: task id → URL.
    waiting: Mutex<HashMap<String, String>>,
    /// How many files the recording has, and how many were left out (and why, the first).
    pub(crate) loaded: usize,
    pub(crate) skipped: Vec<String>,
}

/// One recorded answer.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) file: String,
    pub(crate) answer: KeptAnswer,
    /// For a Cover's answer, the task id it gave.
    pub(crate) task_id: Option<String>,
    /// For a poll's answer that says `COMPLETED`, the task it completes.
    pub(crate) completes: Option<String>,
}

/// A recorded task's end, for its webhook.
#[derive(Debug, Clone)]
pub(crate) struct Final {
    pub(crate) conversion: Map<String, Value>,
    /// How long after the Cover's answer the recording first saw it completed.
    pub(crate) after: Duration,
}

/// The key a request is matched by: method, path, the query's parameters (decoded and sorted:
/// their order is not the API's concern), and for a form its text fields (sorted) but
/// `webhook_field`, which names the app's own receiver and so differs from run to run, and
/// its uploads by name, size and hash. The key is not matched: a recording's is redacted, and a
/// replay should not need the real one.
pub(crate) fn key(
    method: &str,
    path: &str,
    query: Option<&str>,
    form: Option<&FormRecord>,
    webhook_field: &str,
) -> String {
    let mut params: Vec<(String, String)> =
        (form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned()).collect();
    params.sort();
    let (fields, files) = form.map_or((&[][..], &[][..]), |f| (&f.fields[..], &f.files[..]));
    let mut fields: Vec<(&str, &str)> = (fields.iter())
        .filter(|f| f.name != webhook_field)
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    fields.sort();
    let mut files: Vec<(&str, u64, Option<&str>)> = (files.iter())
        .map(|f| (f.name.as_str(), f.size, f.sha256.as_deref()))
        .collect();
    files.sort();
    serde_json::json!([method.to_ascii_uppercase(), path, params, fields, files]).to_string()
}

impl Replay {
    /// Loads every `*.json` file of `dir`, in the order of their names. A directory that cannot
    /// be read, holds no recording, or a file that is not a recorded exchange is an error naming
    /// it; an exchange whose answer body was kept by size and hash only (audio, a JSON body over
    /// the bound) cannot be sent again and is left out, said in [`Replay::skipped`].
    pub(crate) fn load(dir: &Path, spec: &Spec) -> Result<Replay, String> {
        let shown = dir.display();
        let listing = std::fs::read_dir(dir)
            .map_err(|e| format!("--replay {shown}: cannot read the directory: {e}"))?;
        let mut files: Vec<std::path::PathBuf> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(format!(
                "--replay {shown}: no recording in it (no *.json file); make one with `musicgpt-cover-mock proxy --record {shown}`"
            ));
        }
        let mut entries = Vec::with_capacity(files.len());
        for file in &files {
            let name = file.display().to_string();
            let text = std::fs::read(file)
                .map_err(|e| format!("--replay: {name}: cannot read it: {e}"))?;
            let entry: JournalEntry = serde_json::from_slice(&text)
                .map_err(|e| format!("--replay: {name}: not a recorded exchange: {e}"))?;
            let at = DateTime::parse_from_rfc3339(&entry.at)
                .map_err(|e| format!("--replay: {name}: `at` {:?} is not a time: {e}", entry.at))?;
            let Some(request) = entry.request else {
                return Err(format!(
                    "--replay: {name}: not a recorded exchange (it has no `request`)"
                ));
            };
            let Some(answer) = request.answer.clone() else {
                return Err(format!(
                    "--replay: {name}: the exchange has no `answer` to send again"
                ));
            };
            entries.push((name, at, request, answer));
        }

        let mut replay = Replay {
            loaded: files.len(),
            ..Replay::default()
        };
        // Covers' answers: task id → (conversion id, answered at).
        let mut covers: BTreeMap<String, (Option<String>, DateTime<FixedOffset>)> = BTreeMap::new();
        for (file, at, request, answer) in entries {
            let Some(bytes) = answer.body.bytes() else {
                replay.skipped.push(format!(
                    "{file}: its answer's body was kept by size and hash only"
                ));
                continue;
            };
            let json: Option<Value> = serde_json::from_slice(bytes).ok();
            let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
            let mut recorded = Recorded {
                file,
                answer,
                task_id: None,
                completes: None,
            };
            let path = request.path.strip_prefix(&spec.base_path).unwrap_or("");
            if path == spec.cover.path && recorded.answer.status == 200 {
                let json = json.as_ref();
                recorded.task_id = text(json.and_then(|j| j.get(Field::TaskId.name())));
                if let Some(task) = &recorded.task_id {
                    let conversion = text(json.and_then(|j| j.get(Field::ConversionId.name())));
                    covers.insert(task.clone(), (conversion, at));
                }
            } else if path == spec.by_id.path
                && let Some(Value::Object(conversion)) =
                    json.as_ref().and_then(|j| j.get(Field::Conversion.name()))
                && conversion.get(Field::Status.name()).and_then(Value::as_str)
                    == Some(Status::Completed.as_str())
            {
                let task = text(conversion.get(Field::TaskId.name())).or_else(|| {
                    // A poll by conversion id whose answer leaves the task id out.
                    let id = text(conversion.get(Field::ConversionId.name()))?;
                    covers
                        .iter()
                        .find(|(_, (c, _))| c.as_deref() == Some(id.as_str()))
                        .map(|(t, _)| t.clone())
                });
                if let Some(task) = task {
                    if let Some((_, covered)) = covers.get(&task)
                        && !replay.finals.contains_key(&task)
                    {
                        let after = (at - *covered).to_std().unwrap_or_default();
                        replay.finals.insert(
                            task.clone(),
                            Final {
                                conversion: conversion.clone(),
                                after,
                            },
                        );
                    }
                    recorded.completes = Some(task);
                }
            }
            let key = key(
                &request.method,
                &request.path,
                request.query.as_deref(),
                request.form.as_ref(),
                &spec.webhook_field,
            );
            replay.answers.entry(key).or_default().push(recorded);
        }
        Ok(replay)
    }

    /// The answer for the next request with `key`, if the recording has one.
    pub(crate) fn answer(&self, key: &str) -> Option<Recorded> {
        let answers = self.answers.get(key)?;
        let mut served = lock(&self.served);
        let n = served.entry(key.to_owned()).or_insert(0);
        let recorded = answers.get(*n).or_else(|| answers.last())?.clone();
        *n += 1;
        Some(recorded)
    }

    /// The recorded request nearest to `key`, one the recording has no answer for: its key and
    /// the file of its first answer. Nearest: the same method and path first, then the fewest
    /// query parameters, form fields and uploads that differ (ties: the earliest file).
    pub(crate) fn nearest(&self, key: &str) -> Option<(&str, &str)> {
        let parts = |key: &str| -> Vec<Value> {
            match serde_json::from_str(key) {
                Ok(Value::Array(parts)) => parts,
                _ => Vec::new(),
            }
        };
        let wanted = parts(key);
        let distance = |other: &[Value]| {
            let route = wanted.get(..2) != other.get(..2);
            let differ: usize = (2..5)
                .map(|i| {
                    let items = |parts: &[Value]| {
                        parts
                            .get(i)
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    };
                    let (a, b) = (items(&wanted), items(other));
                    a.iter().filter(|x| !b.contains(x)).count()
                        + b.iter().filter(|x| !a.contains(x)).count()
                })
                .sum();
            (route, differ)
        };
        self.answers
            .iter()
            .filter_map(|(k, answers)| Some((k, answers.first()?)))
            .min_by_key(|(k, first)| (distance(&parts(k)), first.file.clone()))
            .map(|(k, first)| (k.as_str(), first.file.as_str()))
    }

    /// The recorded end of `task_id`, if the recording polled it to `COMPLETED`.
    pub(crate) fn final_of(&self, task_id: &str) -> Option<&Final> {
        self.finals.get(task_id)
    }

    /// Remembers that the replayed task `task_id` is to send its webhook to `url`.
    pub(crate) fn wait(&self, task_id: &str, url: String) {
        lock(&self.waiting).insert(task_id.to_owned(), url);
    }

    /// The URL of the webhook `task_id` is waiting to send, taken: it is sent once.
    pub(crate) fn take_waiting(&self, task_id: &str) -> Option<String> {
        lock(&self.waiting).remove(task_id)
    }

    /// Back to the recording's start: every key answers from its first answer again.
    pub(crate) fn rewind(&self) {
        lock(&self.served).clear();
        lock(&self.waiting).clear();
    }
}

/// The webhook payload's values from a recorded final conversion: each property of the spec's
/// webhook that the conversion has, with its recorded value; `success`, and the constants the
/// conversion does not carry (`conversion_type`, `message`), from the spec's example.
pub(crate) struct RecordedFill<'a>(pub(crate) &'a Map<String, Value>);

impl Fill for RecordedFill<'_> {
    fn value(&self, field: Field) -> Val<'_> {
        match self.0.get(field.name()) {
            Some(Value::String(s)) => Val::Str(s),
            Some(Value::Bool(b)) => Val::Bool(*b),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => n.as_f64().map_or(Val::Absent, Val::Num),
            },
            _ => match field {
                Field::Success | Field::ConversionType | Field::Message => Val::Default,
                _ => Val::Absent,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::journal::{FormFilePart, FormTextField};

    fn form(hook: &str, filename: &str, sha256: &str) -> FormRecord {
        let field = |name: &str, value: &str| FormTextField {
            name: name.into(),
            value: value.into(),
            truncated: false,
        };
        FormRecord {
            fields: vec![
                field("voice_id", "Drake"),
                field("webhook_url", hook),
                field("pitch", "3"),
            ],
            files: vec![FormFilePart {
                name: "audio_file".into(),
                filename: Some(filename.into()),
                content_type: None,
                size: 5,
                sha256: Some(sha256.into()),
            }],
            error: None,
        }
    }

    #[test]
    fn the_nearest_recorded_request_shares_the_route_then_the_most_parameters() {
        let path = "/api/public/v1/getAllVoices";
        let mut answers = HashMap::new();
        for (n, (method, query)) in [
            ("GET", "limit=5&page=9"),
            ("GET", "limit=2&page=1"),
            ("POST", "limit=2&page=0"),
        ]
        .into_iter()
        .enumerate()
        {
            let answer: KeptAnswer =
                serde_json::from_str(r#"{"status":200,"headers":{},"body":{"size":2,"json":{}}}"#)
                    .unwrap_or_else(|e| panic!("{e}"));
            let recorded = Recorded {
                file: format!("000{n}.json"),
                answer,
                task_id: None,
                completes: None,
            };
            let k = key(method, path, Some(query), None, "webhook_url");
            answers.insert(k, vec![recorded]);
        }
        let replay = Replay {
            answers,
            served: Mutex::new(HashMap::new()),
            finals: HashMap::new(),
            waiting: Mutex::new(HashMap::new()),
            loaded: 3,
            skipped: Vec::new(),
        };
        let asked = key("GET", path, Some("limit=2&page=0"), None, "webhook_url");
        let nearest = replay.nearest(&asked).map(|(_, file)| file);
        assert_eq!(nearest, Some("0001.json"));
    }

    #[test]
    fn the_key_leaves_out_order_the_webhook_and_the_files_label() {
        let k = |method: &str, query: Option<&str>, form: Option<&FormRecord>| {
            key(method, "/api/public/v1/x", query, form, "webhook_url")
        };
        let one = form("http://127.0.0.1:1/hook", "a.wav", "ab");
        let two = form("http://127.0.0.1:2/other", "b.mp3", "ab");
        assert_eq!(k("POST", None, Some(&one)), k("post", None, Some(&two)));
        let other_song = form("http://127.0.0.1:1/hook", "a.wav", "cd");
        assert_ne!(
            k("POST", None, Some(&one)),
            k("POST", None, Some(&other_song))
        );
        let mut other_voice = one.clone();
        other_voice.fields[0].value = "Joji".into();
        assert_ne!(
            k("POST", None, Some(&one)),
            k("POST", None, Some(&other_voice))
        );
        assert_eq!(
            k("GET", Some("a=1&b=2"), None),
            k("GET", Some("b=2&a=%31"), None)
        );
        assert_ne!(k("GET", Some("a=1"), None), k("GET", Some("a=2"), None));
        assert_ne!(k("GET", None, None), k("POST", None, None));
    }
}
