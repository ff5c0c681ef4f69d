//! The request journal: a bounded ring of what clients sent and the answers they got (and of
//! webhooks the mock refused or dropped). The HTTP layer writes each request's entry
//! (`http::record`, `http::keep`); this keeps, bounds and reads them back.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::clock::{Clock, VTime};
use super::faults::FaultRecord;
use crate::spec::json_string;
use crate::spec::validate::Violation;

/// Longest header or text-field value kept, in bytes; longer ones are cut and marked.
pub const MAX_KEPT_VALUE: usize = 1024;
/// Most form fields kept per request.
pub const MAX_KEPT_FIELDS: usize = 32;
/// Longest JSON or text answer a journal entry keeps whole; a longer one, and any other body
/// (audio), is kept by size and SHA-256. With [`MAX_JOURNAL_BYTES`](crate::config::MAX_JOURNAL_BYTES)
/// the journal holds at least 256 entries of the largest kept answers.
pub const MAX_KEPT_BODY: usize = 64 << 10;

/// The request headers a journal entry keeps, lower case and sorted (as its JSON lists them):
/// the ones that say how a client called the API. Request matching takes conditions on these
/// alone, so that a condition on another name is refused rather than never seeing a value.
pub const KEPT_HEADERS: [&str; 8] = [
    "accept",
    "authorization",
    "content-length",
    "content-type",
    "origin",
    "prefer",
    "range",
    "user-agent",
];

/// What kind of event a journal entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JournalKind {
    /// A request to the API, the result files or an unknown route.
    Request,
    /// A webhook the target policy refused (nothing was sent).
    WebhookRefused,
    /// A webhook dropped unsent. No longer produced (a delivery waits with its task instead);
    /// kept so that journals written by earlier versions still parse.
    WebhookDropped,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JournalEntry {
    /// Increases by one per entry since the start (or the last reset).
    pub seq: u64,
    /// Virtual time of the entry.
    pub at: String,
    /// What it records.
    pub kind: JournalKind,
    /// For [`JournalKind::Request`].
    pub request: Option<RequestRecord>,
    /// For the webhook kinds.
    pub webhook: Option<WebhookEvent>,
}

/// A request as the mock received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestRecord {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string.
    pub query: Option<String>,
    /// The headers that say how the client called ([`KEPT_HEADERS`]), names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The status the mock answered.
    pub status: u16,
    /// The multipart form, for a Cover request whose body was read.
    pub form: Option<FormRecord>,
    /// The injected fault, scenario, failure or latency that answered or touched the request;
    /// absent when none applied. With a fault that sent no answer (`close`, `reset`), `status`
    /// is 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultRecord>,
    /// How the exchange broke the spec, for a request the proxy mode forwarded (`musicgpt-cover-mock
    /// proxy`); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// The answer as it was sent: status, headers and body (absent when no answer was sent, and
    /// in journals written before answers were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<KeptAnswer>,
    /// `true` when a recording answered the request (a mock started with `--replay`); absent
    /// when the mock answered it itself, so a journal without a replay reads as before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

/// An answer as it is kept: by the journal for each request, and by a recording
/// (`musicgpt-cover-mock proxy --record`) for each exchange, from which `--replay` answers again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeptAnswer {
    /// The status sent.
    pub status: u16,
    /// Its headers, names in lower case, each value cut at [`MAX_KEPT_VALUE`] bytes (a repeated
    /// header's values joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// Its body.
    pub body: KeptBody,
}

/// An answer's body: whole when it is JSON or text within the bound it was kept with, else by
/// size and SHA-256.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeptBody {
    /// Bytes sent.
    pub size: u64,
    /// The JSON body as it was sent, byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Any JSON; absent rather than null when the body was not kept as JSON.
    #[schemars(with = "serde_json::Value")]
    pub json: Option<Box<RawValue>>,
    /// A text body that is not JSON (or JSON with spaces around it), as it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The SHA-256 of the bytes sent (hex), for a body not kept whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl PartialEq for KeptBody {
    fn eq(&self, other: &KeptBody) -> bool {
        self.size == other.size
            && self.json.as_ref().map(|j| j.get()) == other.json.as_ref().map(|j| j.get())
            && self.text == other.text
            && self.sha256 == other.sha256
    }
}

impl KeptBody {
    /// A whole body: kept as JSON or text when it is one of those (by its `content_type`) and at
    /// most `bound` bytes long, else by size and hash.
    pub fn from_bytes(content_type: Option<&str>, bytes: &[u8], bound: usize) -> KeptBody {
        let size = bytes.len() as u64;
        if bytes.is_empty() {
            return KeptBody {
                size,
                text: Some(String::new()),
                ..KeptBody::default()
            };
        }
        let textual = content_type.is_none_or(|t| {
            crate::spec::validate::is_json(t)
                || t.trim_start().to_ascii_lowercase().starts_with("text/")
        });
        if bytes.len() <= bound
            && textual
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            // Kept as JSON only when the value is the whole body, so it is sent back unchanged.
            if let Ok(raw) = serde_json::from_str::<Box<RawValue>>(text)
                && raw.get().len() == text.len()
            {
                return KeptBody {
                    size,
                    json: Some(raw),
                    ..KeptBody::default()
                };
            }
            return KeptBody {
                size,
                text: Some(text.to_owned()),
                ..KeptBody::default()
            };
        }
        KeptBody::hashed(size, Sha256::new_with_prefix(bytes))
    }

    /// A body kept by its size and the hash of its bytes.
    pub(crate) fn hashed(size: u64, hash: Sha256) -> KeptBody {
        KeptBody {
            size,
            sha256: Some(format!("{:x}", hash.finalize())),
            ..KeptBody::default()
        }
    }

    /// The same body kept whole only if it is at most `bound` bytes, else by size and hash.
    pub(crate) fn within(self, bound: usize) -> KeptBody {
        match self.bytes() {
            Some(bytes) if bytes.len() > bound => {
                KeptBody::hashed(self.size, Sha256::new_with_prefix(bytes))
            }
            _ => self,
        }
    }

    /// The bytes to send again, when the body was kept whole.
    pub fn bytes(&self) -> Option<&[u8]> {
        match (&self.json, &self.text) {
            (Some(json), _) => Some(json.get().as_bytes()),
            (None, Some(text)) => Some(text.as_bytes()),
            (None, None) => None,
        }
    }
}

/// A multipart form as it streamed by: text fields with their values, file parts with their size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormRecord {
    /// Text parts, in order (at most [`MAX_KEPT_FIELDS`]).
    pub fields: Vec<FormTextField>,
    /// File parts, in order.
    pub files: Vec<FormFilePart>,
    /// Why the form was rejected, if it was.
    pub error: Option<String>,
}

/// A text part of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormTextField {
    /// The part's name.
    pub name: String,
    /// Its value (cut at [`MAX_KEPT_VALUE`] bytes).
    pub value: String,
    /// Whether `value` was cut.
    pub truncated: bool,
}

/// A file part of a form: its metadata and size, never its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormFilePart {
    /// The part's name.
    pub name: String,
    /// The `filename` of its Content-Disposition.
    pub filename: Option<String>,
    /// Its Content-Type.
    pub content_type: Option<String>,
    /// Bytes received (up to where reading stopped, if the form was rejected).
    pub size: u64,
    /// The SHA-256 of those bytes (hex), when they were hashed: by a recording proxy, and by a
    /// mock replaying one (which matches uploads by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A webhook the mock did not send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WebhookEvent {
    /// The task whose webhook it was.
    pub task_id: String,
    /// The request's `webhook_url`.
    pub url: String,
    /// Why it was not sent.
    pub reason: String,
}

/// The ring buffer. Each entry is kept as the JSON of its `request` or `webhook` part, written
/// once when it is recorded: one allocation per request instead of one per string, and the admin
/// API sends it on as it is.
#[derive(Debug)]
pub(crate) struct Journal {
    entries: VecDeque<Stored>,
    capacity: usize,
    /// The bytes of the kept entries' text, and the most they may be.
    bytes: usize,
    max_bytes: usize,
    next_seq: u64,
    /// How many times the journal was emptied: an entry's [`Slot`] names it, so an answer that
    /// ends after a reset does not land on a new entry with the same `seq`.
    generation: u64,
}

/// Where an entry stands in the journal, to add its answer to it once the answer has gone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    seq: u64,
    generation: u64,
}

#[derive(Debug)]
struct Stored {
    seq: u64,
    at: VTime,
    kind: JournalKind,
    /// JSON of the [`RequestRecord`] or [`WebhookEvent`] (without `answer`, if [`Stored::answer`]
    /// holds it).
    body: String,
    /// The request's answer, kept as it was sent and written into the entry's JSON when the
    /// journal is read: an answer costs a copy of its pieces, not a parse and a write of its JSON
    /// on every request (docs/profile.md).
    answer: Option<Box<dyn LaterAnswer>>,
    /// What the entry counts against the journal's bound ([`Stored::weigh`]), kept so that
    /// dropping an old entry does not read its answer back from memory long gone cold.
    weight: usize,
}

/// An answer kept as it was sent, made into a [`KeptAnswer`] only when the journal is read.
pub(crate) trait LaterAnswer: Send + std::fmt::Debug {
    /// The answer as the journal shows it.
    fn kept(&self) -> KeptAnswer;
    /// About the bytes it holds, counted against the journal's bound.
    fn weight(&self) -> usize;
}

impl Stored {
    fn weigh(&self) -> usize {
        self.body.len() + self.answer.as_ref().map_or(0, |a| a.weight())
    }
}

impl Journal {
    /// A journal of at most `capacity` entries holding at most `max_bytes` of text in all.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Journal {
        Journal {
            entries: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            bytes: 0,
            max_bytes,
            next_seq: 0,
            generation: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.next_seq = 0;
        self.generation += 1;
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn push(&mut self, at: VTime, kind: JournalKind, body: String) -> Slot {
        self.next_seq += 1;
        while (self.entries.len() >= self.capacity || self.bytes + body.len() > self.max_bytes)
            && let Some(old) = self.entries.pop_front()
        {
            self.bytes -= old.weight;
        }
        self.bytes += body.len();
        self.entries.push_back(Stored {
            seq: self.next_seq,
            at,
            kind,
            weight: body.len(),
            body,
            answer: None,
        });
        Slot {
            seq: self.next_seq,
            generation: self.generation,
        }
    }

    /// Replaces the text of the entry at `slot` (its request, now with its answer), if the
    /// journal still holds it; then drops the oldest entries while the text is over the bound.
    pub(crate) fn replace(&mut self, slot: Slot, body: String) {
        self.update(slot, |entry| entry.body = body);
    }

    /// Adds `answer` to the entry at `slot` (a request whose text has none), if the journal
    /// still holds it; then drops the oldest entries while the text is over the bound.
    pub(crate) fn answer(&mut self, slot: Slot, answer: Box<dyn LaterAnswer>) {
        self.update(slot, |entry| entry.answer = Some(answer));
    }

    fn update(&mut self, slot: Slot, change: impl FnOnce(&mut Stored)) {
        if slot.generation != self.generation {
            return;
        }
        // Entries are pushed with consecutive `seq`s and dropped from the front only, so an
        // entry's place is its distance from the first.
        let Some(first) = self.entries.front().map(|e| e.seq) else {
            return;
        };
        let Some(entry) = slot
            .seq
            .checked_sub(first)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.entries.get_mut(i))
            .filter(|e| e.seq == slot.seq)
        else {
            return;
        };
        let before = entry.weight;
        change(entry);
        entry.weight = entry.weigh();
        self.bytes = self.bytes - before + entry.weight;
        while self.entries.len() > 1
            && self.bytes > self.max_bytes
            && let Some(old) = self.entries.pop_front()
        {
            self.bytes -= old.weight;
        }
    }

    pub(crate) fn push_webhook(&mut self, at: VTime, kind: JournalKind, event: &WebhookEvent) {
        let body = serde_json::to_string(event).unwrap_or_else(|_| "null".to_owned());
        self.push(at, kind, body);
    }

    /// `{"entries":[...]}` of the last `last` entries (all by default), oldest first.
    pub(crate) fn write_json(&self, clock: &Clock, last: Option<usize>, out: &mut Vec<u8>) {
        let skip = last.map_or(0, |n| self.entries.len().saturating_sub(n));
        out.extend_from_slice(b"{\"entries\":[");
        for (i, e) in self.entries.iter().skip(skip).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            e.write_json(clock, out);
        }
        out.extend_from_slice(b"]}");
    }

    pub(crate) fn entries(&self, clock: &Clock, last: Option<usize>) -> Vec<JournalEntry> {
        let skip = last.map_or(0, |n| self.entries.len().saturating_sub(n));
        self.entries
            .iter()
            .skip(skip)
            .filter_map(|e| {
                let mut json = Vec::with_capacity(e.body.len() + 96);
                e.write_json(clock, &mut json);
                serde_json::from_slice(&json).ok()
            })
            .collect()
    }
}

impl Stored {
    /// The entry in [`JournalEntry`]'s serde shape.
    fn write_json(&self, clock: &Clock, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"seq\":");
        out.extend_from_slice(self.seq.to_string().as_bytes());
        out.extend_from_slice(b",\"at\":");
        out.extend_from_slice(&json_string(&clock.timestamp(self.at)));
        let (kind, request) = match self.kind {
            JournalKind::Request => ("request", true),
            JournalKind::WebhookRefused => ("webhook_refused", false),
            JournalKind::WebhookDropped => ("webhook_dropped", false),
        };
        out.extend_from_slice(b",\"kind\":\"");
        out.extend_from_slice(kind.as_bytes());
        if request {
            out.extend_from_slice(b"\",\"request\":");
            match &self.answer {
                // The text is an object: the answer goes in before its closing brace.
                Some(answer) if self.body.ends_with('}') => {
                    out.extend_from_slice(&self.body.as_bytes()[..self.body.len() - 1]);
                    out.extend_from_slice(b",\"answer\":");
                    if serde_json::to_writer(&mut *out, &answer.kept()).is_err() {
                        out.extend_from_slice(b"null");
                    }
                    out.push(b'}');
                }
                _ => out.extend_from_slice(self.body.as_bytes()),
            }
            out.extend_from_slice(b",\"webhook\":null}");
        } else {
            out.extend_from_slice(b"\",\"request\":null,\"webhook\":");
            out.extend_from_slice(self.body.as_bytes());
            out.push(b'}');
        }
    }
}

/// Cuts a value to [`MAX_KEPT_VALUE`] bytes on a character boundary.
pub(crate) fn cut(value: &str) -> (&str, bool) {
    if value.len() <= MAX_KEPT_VALUE {
        return (value, false);
    }
    let mut end = MAX_KEPT_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    (&value[..end], true)
}

/// `value` as a JSON string literal, appended.
pub(crate) fn push_str(out: &mut Vec<u8>, value: &str) {
    // Most values need no escaping: a quick scan and a copy beat the byte-by-byte escaper.
    if !value.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.reserve(value.len() + 2);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        return;
    }
    // Writing a `&str` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// The form of one request as the handler saw it, written as JSON in [`FormRecord`]'s shape
/// while the form streams by. Handlers leave it in the response's extensions for the journal
/// entry of the request.
#[derive(Debug, Clone, Default)]
pub(crate) struct FormLog {
    /// `{...},{...}` of the text fields.
    fields: Vec<u8>,
    field_count: usize,
    files: Vec<FormFilePart>,
    error: Option<String>,
    /// The hash of each file part so far, when files are hashed ([`FormLog::hashing`]).
    hashes: Option<Vec<Sha256>>,
}

impl FormLog {
    /// A log that also hashes each file part's bytes ([`FormFilePart::sha256`]).
    pub(crate) fn hashing() -> FormLog {
        FormLog {
            hashes: Some(Vec::new()),
            ..FormLog::default()
        }
    }

    pub(crate) fn text_field(&mut self, name: &str, value: &str, overflowed: bool) {
        if self.field_count >= MAX_KEPT_FIELDS {
            return;
        }
        if self.fields.is_empty() {
            self.fields.reserve(256);
        } else {
            self.fields.push(b',');
        }
        self.field_count += 1;
        let (value, truncated) = cut(value);
        self.fields.extend_from_slice(b"{\"name\":");
        push_str(&mut self.fields, name);
        self.fields.extend_from_slice(b",\"value\":");
        push_str(&mut self.fields, value);
        self.fields.extend_from_slice(if truncated || overflowed {
            b",\"truncated\":true}"
        } else {
            b",\"truncated\":false}"
        });
    }

    /// Starts a file part; returns its index for [`FormLog::file_size`].
    pub(crate) fn file_part(
        &mut self,
        name: &str,
        filename: Option<&str>,
        content_type: Option<&str>,
    ) -> usize {
        self.files.push(FormFilePart {
            name: cut(name).0.to_owned(),
            filename: filename.map(|f| cut(f).0.to_owned()),
            content_type: content_type.map(|c| cut(c).0.to_owned()),
            size: 0,
            sha256: None,
        });
        if let Some(hashes) = &mut self.hashes {
            hashes.push(Sha256::new());
        }
        self.files.len() - 1
    }

    /// The next bytes of file part `index`, hashed when the log hashes.
    pub(crate) fn file_data(&mut self, index: usize, bytes: &[u8]) {
        if let Some(hash) = self.hashes.as_mut().and_then(|h| h.get_mut(index)) {
            hash.update(bytes);
        }
    }

    pub(crate) fn file_size(&mut self, index: usize, size: u64) {
        if let Some(f) = self.files.get_mut(index) {
            f.size = size;
            if let Some(hash) = self.hashes.as_ref().and_then(|h| h.get(index)) {
                f.sha256 = Some(format!("{:x}", hash.clone().finalize()));
            }
        }
    }

    /// The form as a [`FormRecord`].
    pub(crate) fn record(&self) -> FormRecord {
        let mut json = Vec::with_capacity(self.fields.len() + 128);
        self.write_json(&mut json);
        serde_json::from_slice(&json).unwrap_or_default()
    }

    pub(crate) fn set_error(&mut self, error: String) {
        self.error = Some(error);
    }

    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"fields\":[");
        out.extend_from_slice(&self.fields);
        out.extend_from_slice(b"],\"files\":");
        if serde_json::to_writer(&mut *out, &self.files).is_err() {
            out.extend_from_slice(b"[]");
        }
        out.extend_from_slice(b",\"error\":");
        match &self.error {
            Some(e) => push_str(out, e),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock::new(chrono::DateTime::UNIX_EPOCH, true)
    }

    #[test]
    fn ring_keeps_the_newest() {
        let mut j = Journal::new(2, 1 << 20);
        let event = WebhookEvent {
            task_id: "t".into(),
            url: "u".into(),
            reason: "r".into(),
        };
        for i in 0..3 {
            j.push_webhook(i, JournalKind::WebhookRefused, &event);
        }
        let entries = j.entries(&clock(), None);
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2, 3]);
        assert_eq!(entries[0].webhook.as_ref(), Some(&event));
        assert_eq!(j.entries(&clock(), Some(1)).len(), 1);
    }

    #[test]
    fn stored_json_has_the_public_shape() {
        let mut log = FormLog::default();
        log.text_field("voice_id", "Dr\"ake", false);
        log.text_field("pitch", &"9".repeat(MAX_KEPT_VALUE + 5), false);
        let i = log.file_part("audio_file", Some("a.wav"), None);
        log.file_size(i, 42);
        log.set_error("bad".into());
        let mut form = Vec::new();
        log.write_json(&mut form);
        let body = format!(
            r#"{{"method":"POST","path":"/x","query":null,"headers":{{"accept":"*/*"}},"status":422,"form":{}}}"#,
            String::from_utf8_lossy(&form)
        );
        let mut j = Journal::new(5, 1 << 20);
        j.push(1500, JournalKind::Request, body);
        let entry = j
            .entries(&clock(), None)
            .pop()
            .expect("entry does not parse");
        assert_eq!(entry.at, "1970-01-01T00:00:01.500Z");
        let request = entry.request.unwrap_or_else(|| panic!("request"));
        assert_eq!(request.headers["accept"], "*/*");
        let form = request.form.unwrap_or_else(|| panic!("form"));
        assert_eq!(form.fields[0].value, "Dr\"ake");
        assert!(form.fields[1].truncated && form.fields[1].value.len() == MAX_KEPT_VALUE);
        assert_eq!(form.files[0].size, 42);
        assert_eq!(form.error.as_deref(), Some("bad"));
        let mut out = Vec::new();
        j.write_json(&clock(), None, &mut out);
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }

    #[test]
    fn the_ring_is_bounded_in_bytes_too() {
        let event = WebhookEvent {
            task_id: "t".into(),
            url: "u".into(),
            reason: "x".repeat(90),
        };
        let one = serde_json::to_string(&event).map_or(0, |s| s.len());
        let mut j = Journal::new(100, 2 * one + one / 2);
        for i in 0..10 {
            j.push_webhook(i, JournalKind::WebhookRefused, &event);
        }
        // Two entries fit in the bytes; the newest are kept.
        let seqs: Vec<u64> = j.entries(&clock(), None).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [9, 10]);
    }

    #[test]
    fn an_answer_lands_on_its_own_entry_within_the_bytes() {
        let request = |status: u16| {
            format!(
                r#"{{"method":"GET","path":"/x","query":null,"headers":{{}},"status":{status},"form":null}}"#
            )
        };
        let answered = |status: u16, pad: usize| {
            format!(
                r#"{{"method":"GET","path":"/x","query":null,"headers":{{}},"status":{status},"form":null,"answer":{{"status":{status},"headers":{{}},"body":{{"size":{pad},"text":"{}"}}}}}}"#,
                "a".repeat(pad)
            )
        };
        let mut j = Journal::new(10, 1000);
        let first = j.push(0, JournalKind::Request, request(200));
        let second = j.push(1, JournalKind::Request, request(201));
        j.replace(first, answered(200, 10));
        let entries = j.entries(&clock(), None);
        assert_eq!(entries.len(), 2);
        let kept = entries[0].request.as_ref().and_then(|r| r.answer.as_ref());
        assert_eq!(kept.map(|a| a.status), Some(200));
        assert!(
            entries[1]
                .request
                .as_ref()
                .is_some_and(|r| r.answer.is_none())
        );
        // An answer that outgrows the bytes drops the oldest entries, never leaving more.
        j.replace(second, answered(201, 760));
        let seqs: Vec<u64> = j.entries(&clock(), None).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2]);
        assert!(j.bytes <= 1000);
        // After a reset, an answer still on its way does not land on the new entry 1.
        j.clear();
        let fresh = j.push(2, JournalKind::Request, request(202));
        j.replace(first, answered(200, 10));
        let entries = j.entries(&clock(), None);
        assert_eq!(entries[0].seq, 1);
        assert!(
            entries[0]
                .request
                .as_ref()
                .is_some_and(|r| r.answer.is_none() && r.status == 202)
        );
        j.replace(fresh, answered(202, 1));
        assert!(
            j.entries(&clock(), None)[0]
                .request
                .as_ref()
                .is_some_and(|r| r.answer.is_some())
        );
    }

    #[test]
    fn the_fault_field_is_absent_unless_written() {
        let plain =
            r#"{"method":"GET","path":"/x","query":null,"headers":{},"status":200,"form":null}"#;
        let faulty = r#"{"method":"GET","path":"/x","query":null,"headers":{},"status":0,"form":null,"fault":{"scenario":"s1","kind":"reset"}}"#;
        let mut j = Journal::new(5, 1 << 20);
        j.push(0, JournalKind::Request, plain.to_owned());
        j.push(0, JournalKind::Request, faulty.to_owned());
        let faults: Vec<Option<FaultRecord>> = j
            .entries(&clock(), None)
            .into_iter()
            .map(|e| e.request.and_then(|r| r.fault))
            .collect();
        assert_eq!(faults.len(), 2);
        assert_eq!(faults[0], None);
        let fault = faults[1].clone().unwrap_or_default();
        assert_eq!(fault.scenario.as_deref(), Some("s1"));
        assert!(fault.no_answer());
        assert_eq!(
            serde_json::to_string(&fault).ok().as_deref(),
            Some(r#"{"scenario":"s1","kind":"reset"}"#)
        );
    }

    #[test]
    fn cuts_on_a_char_boundary() {
        let long = "é".repeat(MAX_KEPT_VALUE);
        let (kept, cut_short) = cut(&long);
        assert!(cut_short && kept.len() <= MAX_KEPT_VALUE && kept.chars().all(|c| c == 'é'));
    }
}
