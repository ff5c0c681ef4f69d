//! Request matching over the journal: a [`Matcher`] (the body of `POST /__admin/requests/find`
//! and `count`, and what `MockServer::verify` takes) held against the journal's requests, with the
//! conditions each request failed, so that a verification that fails can name the nearest misses.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{RangeFrom, RangeInclusive};

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, ObjectValidation, Schema, SchemaObject};
use serde::{Deserialize, Serialize};

use super::journal::{JournalEntry, KEPT_HEADERS, RequestRecord};
use super::state::MockState;
use crate::spec::{Spec, quoted};

/// Most near misses a failed verification (and `POST /__admin/requests/near-misses`) names.
pub const NEAR_MISSES: usize = 3;

/// Which journalled requests to pick: every condition given must hold (none given: every
/// request). Refused webhooks, also in the journal, never match.
///
/// As JSON (`POST /__admin/requests/find`), a key it does not have is refused, so that a typo
/// is a 400 rather than a matcher that silently matches more. In Rust, built up:
/// `Matcher::cover().form("voice_id", "Drake").form("pitch", "3")`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// An operationId of the spec (`cover`, `getConversionById`, `getAllVoices`,
    /// `searchVoices`): its method and path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::spec::shapes::OperationId>")]
    pub operation: Option<String>,
    /// The method, any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The path as journalled, without the query (`/api/public/v1/Cover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The status the mock answered (0 for a fault that sent no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Conditions on the journalled headers, by name (any case): only the names the journal
    /// keeps ([`KEPT_HEADERS`]); another name is refused, as it would never have a value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "kept_header_conditions")]
    pub headers: BTreeMap<String, Condition>,
    /// Conditions on the query parameters, by name (decoded; any of a repeated one may match).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, Condition>,
    /// Conditions on the form's text fields, by name (any of a repeated one may match).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub form: BTreeMap<String, Condition>,
    /// A file part of the form that must be there, with these properties.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::spec::shapes::object_or_null"
    )]
    pub upload: Option<UploadCondition>,
    /// Received at or after this virtual time (RFC 3339, as the journal's `at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::spec::shapes::optional_date_time")]
    pub since: Option<String>,
    /// Received before this virtual time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::spec::shapes::optional_date_time")]
    pub before: Option<String>,
    /// The API key sent: the `Authorization` header's value, trimmed. The proxy journals keys
    /// redacted, so there it matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `true`: answered from a recording (`--replay`); `false`: answered by the mock itself,
    /// which on a replaying mock are the requests the recording did not cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed: Option<bool>,
}

/// A condition on a text value: `{"equals": "Drake"}`, `{"contains": "multipart"}`,
/// `{"absent": true}` (or `false`: present, with any value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The value is exactly this.
    Equals(String),
    /// The value contains this.
    Contains(String),
    /// With `true`, there is no such value; with `false`, there is one.
    Absent(bool),
}

/// A file part of a form: every property given must hold for one part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadCondition {
    /// The part's form name (`audio_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A condition on the file name its Content-Disposition gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<Condition>,
    /// Exactly this many bytes were received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// At least this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u64>,
    /// At most this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
}

/// A matcher that cannot be used: an unknown operation, a time that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MatcherError(String);

/// A condition a request did not meet, and what the request had instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Mismatch {
    /// The condition, as `describe` lists it: `form pitch equals "3"`.
    pub condition: String,
    /// What the request had: `"2"`, `absent`, `POST /api/public/v1/byId`.
    pub got: String,
}

/// A journalled request that did not match, and every condition it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NearMiss {
    /// The request's journal entry.
    pub entry: JournalEntry,
    /// The conditions it failed, in the matcher's order.
    pub failed: Vec<Mismatch>,
}

/// How many matching requests a verification expects: `1`, `0`, `1..=3`, `1..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    min: u64,
    max: Option<u64>,
}

impl Times {
    fn holds(self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }
}

impl From<u64> for Times {
    fn from(n: u64) -> Times {
        Times {
            min: n,
            max: Some(n),
        }
    }
}

impl From<RangeInclusive<u64>> for Times {
    fn from(range: RangeInclusive<u64>) -> Times {
        Times {
            min: *range.start(),
            max: Some(*range.end()),
        }
    }
}

impl From<RangeFrom<u64>> for Times {
    fn from(range: RangeFrom<u64>) -> Times {
        Times {
            min: range.start,
            max: None,
        }
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) if max == self.min => write!(f, "exactly {max}"),
            Some(max) => write!(f, "{} to {max}", self.min),
            None => write!(f, "at least {}", self.min),
        }
    }
}

/// Why a verification failed: the matcher could not be used, or the count was not the one
/// expected. Its `Display` is the report: the matcher, the count, and the requests that matched
/// or the nearest that did not, with the conditions they failed.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifyError {
    /// The matcher cannot be used.
    Matcher(MatcherError),
    /// Not the number of matching requests expected.
    Count {
        /// The matcher, as `describe` lists it.
        matcher: String,
        /// The count expected.
        expected: Times,
        /// The requests that matched.
        matched: Vec<JournalEntry>,
        /// The nearest requests that did not, fewest failed conditions first.
        near_misses: Vec<NearMiss>,
        /// The requests in the journal.
        journalled: usize,
    },
}

impl std::error::Error for VerifyError {}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (matcher, expected, matched, near_misses, journalled) = match self {
            VerifyError::Matcher(e) => return write!(f, "the matcher cannot be used: {e}"),
            VerifyError::Count {
                matcher,
                expected,
                matched,
                near_misses,
                journalled,
            } => (matcher, expected, matched, near_misses, journalled),
        };
        writeln!(
            f,
            "expected {expected} request(s) matching {matcher}, got {} (of {journalled} journalled)",
            matched.len()
        )?;
        if !matched.is_empty() {
            writeln!(f, "matched:")?;
            for entry in matched {
                writeln!(f, "  {}", headline(entry))?;
            }
        }
        if matched.len() as u64 >= expected.min {
            return Ok(());
        }
        if near_misses.is_empty() {
            return writeln!(f, "no other request was journalled");
        }
        writeln!(f, "nearest that did not match:")?;
        for miss in near_misses {
            writeln!(f, "  {}", headline(&miss.entry))?;
            for m in &miss.failed {
                writeln!(f, "    - {}: got {}", m.condition, m.got)?;
            }
        }
        Ok(())
    }
}

/// `#3 POST /api/public/v1/Cover -> 200 at 2026-01-01T00:00:00.000Z`.
fn headline(entry: &JournalEntry) -> String {
    let (method, path, status) = match &entry.request {
        Some(r) => (r.method.as_str(), r.path.as_str(), r.status),
        None => ("?", "?", 0),
    };
    format!("#{} {method} {path} -> {status} at {}", entry.seq, entry.at)
}

/// The schema of [`Matcher::headers`]: a condition for any of the headers the journal keeps, and
/// no other name (the document says what the mock refuses; it shows the names in lower case).
fn kept_header_conditions(generator: &mut SchemaGenerator) -> Schema {
    let condition = generator.subschema_for::<Condition>();
    let mut object = ObjectValidation::default();
    for name in KEPT_HEADERS {
        object
            .properties
            .insert(name.to_string(), condition.clone());
    }
    object.additional_properties = Some(Box::new(Schema::Bool(false)));
    SchemaObject {
        instance_type: Some(InstanceType::Object.into()),
        object: Some(Box::new(object)),
        ..SchemaObject::default()
    }
    .into()
}

impl Matcher {
    /// Every request.
    pub fn any() -> Matcher {
        Matcher::default()
    }

    /// Requests to an operation of the spec, by operationId.
    pub fn operation(operation_id: impl Into<String>) -> Matcher {
        Matcher {
            operation: Some(operation_id.into()),
            ..Matcher::default()
        }
    }

    /// Requests to the Cover operation.
    pub fn cover() -> Matcher {
        Matcher::operation("cover")
    }

    /// Requests with this method and path (as journalled: `/api/public/v1/byId`).
    pub fn request(method: impl Into<String>, path: impl Into<String>) -> Matcher {
        Matcher {
            method: Some(method.into()),
            path: Some(path.into()),
            ..Matcher::default()
        }
    }

    /// ... answered with this status.
    #[must_use]
    pub fn status(mut self, status: u16) -> Matcher {
        self.status = Some(status);
        self
    }

    /// ... with this header value.
    #[must_use]
    pub fn header(self, name: &str, value: impl Into<String>) -> Matcher {
        self.header_is(name, Condition::Equals(value.into()))
    }

    /// ... with a header value containing `part`.
    #[must_use]
    pub fn header_contains(self, name: &str, part: impl Into<String>) -> Matcher {
        self.header_is(name, Condition::Contains(part.into()))
    }

    /// ... without this header.
    #[must_use]
    pub fn header_absent(self, name: &str) -> Matcher {
        self.header_is(name, Condition::Absent(true))
    }

    fn header_is(mut self, name: &str, condition: Condition) -> Matcher {
        self.headers.insert(name.to_ascii_lowercase(), condition);
        self
    }

    /// ... with this query parameter value.
    #[must_use]
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Matcher {
        self.query
            .insert(name.into(), Condition::Equals(value.into()));
        self
    }

    /// ... with this form field value.
    #[must_use]
    pub fn form(mut self, name: impl Into<String>, value: impl Into<String>) -> Matcher {
        self.form
            .insert(name.into(), Condition::Equals(value.into()));
        self
    }

    /// ... with a form field value containing `part`.
    #[must_use]
    pub fn form_contains(mut self, name: impl Into<String>, part: impl Into<String>) -> Matcher {
        self.form
            .insert(name.into(), Condition::Contains(part.into()));
        self
    }

    /// ... without this form field.
    #[must_use]
    pub fn form_absent(mut self, name: impl Into<String>) -> Matcher {
        self.form.insert(name.into(), Condition::Absent(true));
        self
    }

    /// ... with a file part named `filename` (its Content-Disposition's).
    #[must_use]
    pub fn upload_name(mut self, filename: impl Into<String>) -> Matcher {
        self.upload
            .get_or_insert_with(UploadCondition::default)
            .filename = Some(Condition::Equals(filename.into()));
        self
    }

    /// ... with a file part of exactly `bytes` bytes.
    #[must_use]
    pub fn upload_size(mut self, bytes: u64) -> Matcher {
        self.upload
            .get_or_insert_with(UploadCondition::default)
            .size = Some(bytes);
        self
    }

    /// ... received at or after this virtual time (RFC 3339: `MockState::now()`).
    #[must_use]
    pub fn since(mut self, time: impl Into<String>) -> Matcher {
        self.since = Some(time.into());
        self
    }

    /// ... received before this virtual time.
    #[must_use]
    pub fn before(mut self, time: impl Into<String>) -> Matcher {
        self.before = Some(time.into());
        self
    }

    /// ... sent with this API key.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Matcher {
        self.key = Some(key.into());
        self
    }

    /// ... answered from a recording (`true`) or by the mock itself (`false`).
    #[must_use]
    pub fn replayed(mut self, replayed: bool) -> Matcher {
        self.replayed = Some(replayed);
        self
    }

    /// The conditions, in words: `operation cover, form voice_id equals "Drake"`.
    pub fn describe(&self) -> String {
        let conditions = self.conditions();
        if conditions.is_empty() {
            return "any request".to_owned();
        }
        conditions.join(", ")
    }

    /// Each condition's words, in the order they are checked.
    fn conditions(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |what: &str, value: Option<&String>| {
            if let Some(value) = value {
                out.push(format!("{what} {value}"));
            }
        };
        push("operation", self.operation.as_ref());
        push("method", self.method.as_ref());
        push("path", self.path.as_ref());
        if let Some(status) = self.status {
            out.push(format!("status {status}"));
        }
        for (kind, map) in [
            ("header", &self.headers),
            ("query", &self.query),
            ("form", &self.form),
        ] {
            out.extend(map.iter().map(|(name, t)| format!("{kind} {name} {t}")));
        }
        if let Some(upload) = &self.upload {
            out.push(upload.to_string());
        }
        for (what, time) in [("since", &self.since), ("before", &self.before)] {
            if let Some(time) = time {
                out.push(format!("{what} {time}"));
            }
        }
        if let Some(key) = &self.key {
            out.push(format!("key {}", quoted(key)));
        }
        if let Some(replayed) = self.replayed {
            out.push(format!("replayed {replayed}"));
        }
        out
    }

    /// The matcher ready to check requests, or why it cannot be used.
    pub(crate) fn compile(&self, spec: &Spec) -> Result<Compiled<'_>, MatcherError> {
        if let Some(name) = (self.headers.keys())
            .find(|name| !KEPT_HEADERS.iter().any(|k| k.eq_ignore_ascii_case(name)))
        {
            return Err(MatcherError(format!(
                "headers: the journal does not keep {}, so no request would have it; a header condition takes one of the kept headers ({})",
                quoted(name),
                KEPT_HEADERS.join(", ")
            )));
        }
        let operation = match &self.operation {
            None => None,
            Some(id) => {
                let op = spec.operation(id).ok_or_else(|| {
                    MatcherError(format!(
                        "operation: unknown operation {}; give an operationId of the spec ({})",
                        quoted(id),
                        spec.operation_ids()
                    ))
                })?;
                Some((
                    op.method.as_str().to_owned(),
                    format!("{}{}", spec.base_path, op.path),
                ))
            }
        };
        let time = |what: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|text| {
                    DateTime::parse_from_rfc3339(text).map_err(|e| {
                        MatcherError(format!(
                            "{what}: {} is not an RFC 3339 time ({e}); send one like the journal's \"at\": \"2026-01-01T00:00:30.000Z\"",
                            quoted(text)
                        ))
                    })
                })
                .transpose()
        };
        Ok(Compiled {
            matcher: self,
            operation,
            since: time("since", &self.since)?,
            before: time("before", &self.before)?,
        })
    }
}

impl From<&Matcher> for Matcher {
    fn from(matcher: &Matcher) -> Matcher {
        matcher.clone()
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Equals(v) => write!(f, "equals {}", quoted(v)),
            Condition::Contains(v) => write!(f, "contains {}", quoted(v)),
            Condition::Absent(true) => f.write_str("absent"),
            Condition::Absent(false) => f.write_str("present"),
        }
    }
}

impl Condition {
    /// Whether one of `values` (all the values of the name) meets the condition.
    fn holds<'a>(&self, mut values: impl Iterator<Item = &'a str>) -> bool {
        match self {
            Condition::Equals(want) => values.any(|v| v == want),
            Condition::Contains(part) => values.any(|v| v.contains(part.as_str())),
            Condition::Absent(absent) => values.next().is_none() == *absent,
        }
    }
}

impl fmt::Display for UploadCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("upload")?;
        if let Some(field) = &self.field {
            write!(f, " field {}", quoted(field))?;
        }
        if let Some(name) = &self.filename {
            write!(f, " filename {name}")?;
        }
        for (what, bytes) in [
            ("size", self.size),
            ("min_size", self.min_size),
            ("max_size", self.max_size),
        ] {
            if let Some(bytes) = bytes {
                write!(f, " {what} {bytes}")?;
            }
        }
        Ok(())
    }
}

/// A [`Matcher`] with its operation looked up and its times read.
pub(crate) struct Compiled<'a> {
    matcher: &'a Matcher,
    /// The operation's method and path, as journalled.
    operation: Option<(String, String)>,
    since: Option<DateTime<FixedOffset>>,
    before: Option<DateTime<FixedOffset>>,
}

/// `"text"`, or `absent` for none, or the values a repeated name had.
fn got<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let values: Vec<String> = values.map(quoted).collect();
    match values.len() {
        0 => "absent".to_owned(),
        _ => values.join(", "),
    }
}

impl Compiled<'_> {
    /// The conditions `entry` fails (none: it matches); `None` for an entry that is no request.
    pub(crate) fn mismatches(&self, entry: &JournalEntry) -> Option<Vec<Mismatch>> {
        let request = entry.request.as_ref()?;
        let m = self.matcher;
        let mut failed = Vec::new();
        let mut fail = |condition: String, got: String| failed.push(Mismatch { condition, got });
        let route = || format!("{} {}", request.method, request.path);
        if let Some((method, path)) = &self.operation
            && !(request.method.eq_ignore_ascii_case(method) && &request.path == path)
        {
            let id = m.operation.as_deref().unwrap_or_default();
            fail(format!("operation {id} ({method} {path})"), route());
        }
        if let Some(method) = &m.method
            && !request.method.eq_ignore_ascii_case(method)
        {
            fail(format!("method {method}"), request.method.clone());
        }
        if let Some(path) = &m.path
            && &request.path != path
        {
            fail(format!("path {path}"), request.path.clone());
        }
        if let Some(status) = m.status
            && request.status != status
        {
            fail(format!("status {status}"), request.status.to_string());
        }
        for (name, t) in &m.headers {
            let values = || {
                (request.headers.iter())
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            if !t.holds(values()) {
                fail(format!("header {name} {t}"), got(values()));
            }
        }
        let query: Vec<(String, String)> =
            form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        for (name, t) in &m.query {
            let values = || {
                (query.iter())
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            if !t.holds(values()) {
                fail(format!("query {name} {t}"), got(values()));
            }
        }
        let fields = request.form.as_ref().map_or(&[][..], |f| &f.fields[..]);
        for (name, t) in &m.form {
            let values = || {
                (fields.iter())
                    .filter(|f| &f.name == name)
                    .map(|f| f.value.as_str())
            };
            if !t.holds(values()) {
                fail(format!("form {name} {t}"), got(values()));
            }
        }
        if let Some(upload) = &m.upload
            && !upload_matches(upload, request)
        {
            fail(upload.to_string(), uploads(request));
        }
        let at = DateTime::parse_from_rfc3339(&entry.at).ok();
        if let Some(since) = self.since
            && at.is_none_or(|at| at < since)
        {
            fail(
                format!("since {}", m.since.as_deref().unwrap_or_default()),
                entry.at.clone(),
            );
        }
        if let Some(before) = self.before
            && at.is_none_or(|at| at >= before)
        {
            fail(
                format!("before {}", m.before.as_deref().unwrap_or_default()),
                entry.at.clone(),
            );
        }
        if let Some(key) = &m.key {
            let sent = request.headers.get("authorization").map(|v| v.trim());
            if sent != Some(key.as_str()) {
                fail(format!("key {}", quoted(key)), got(sent.into_iter()));
            }
        }
        if let Some(replayed) = m.replayed
            && request.replayed != replayed
        {
            fail(format!("replayed {replayed}"), request.replayed.to_string());
        }
        Some(failed)
    }
}

fn upload_matches(upload: &UploadCondition, request: &RequestRecord) -> bool {
    let files = request.form.as_ref().map_or(&[][..], |f| &f.files[..]);
    files.iter().any(|file| {
        upload
            .field
            .as_ref()
            .is_none_or(|field| &file.name == field)
            && (upload.filename.as_ref())
                .is_none_or(|t| t.holds(file.filename.as_deref().into_iter()))
            && upload.size.is_none_or(|size| file.size == size)
            && upload.min_size.is_none_or(|min| file.size >= min)
            && upload.max_size.is_none_or(|max| file.size <= max)
    })
}

/// The file parts of a request, in words, for a near miss.
fn uploads(request: &RequestRecord) -> String {
    let files = request.form.as_ref().map_or(&[][..], |f| &f.files[..]);
    if files.is_empty() {
        return "no file part".to_owned();
    }
    let parts: Vec<String> = files
        .iter()
        .map(|file| {
            format!(
                "{} ({}, {} bytes)",
                quoted(&file.name),
                file.filename
                    .as_deref()
                    .map_or_else(|| "no filename".to_owned(), quoted),
                file.size
            )
        })
        .collect();
    parts.join(", ")
}

/// Matching over this mock's journal.
impl MockState {
    /// The journalled requests `matcher` matches, oldest first.
    pub fn find_requests(&self, matcher: &Matcher) -> Result<Vec<JournalEntry>, MatcherError> {
        let compiled = matcher.compile(self.spec())?;
        Ok(self
            .journal()
            .into_iter()
            .filter(|e| compiled.mismatches(e).is_some_and(|m| m.is_empty()))
            .collect())
    }

    /// How many journalled requests `matcher` matches.
    pub fn count_requests(&self, matcher: &Matcher) -> Result<usize, MatcherError> {
        self.find_requests(matcher).map(|found| found.len())
    }

    /// The `limit` journalled requests nearest to matching that do not: those to the operation,
    /// method and path asked for first, then those with the fewest failed conditions, then the
    /// newest.
    pub fn near_misses(
        &self,
        matcher: &Matcher,
        limit: usize,
    ) -> Result<Vec<NearMiss>, MatcherError> {
        let compiled = matcher.compile(self.spec())?;
        Ok(nearest(&compiled, self.journal(), limit))
    }

    /// Checks that `expected` journalled requests match `matcher`; the error's `Display` is a
    /// report of what matched and, when too few did, the nearest misses and why they missed.
    pub fn verify_requests(
        &self,
        matcher: &Matcher,
        expected: impl Into<Times>,
    ) -> Result<(), VerifyError> {
        let expected = expected.into();
        let compiled = matcher.compile(self.spec()).map_err(VerifyError::Matcher)?;
        let journal = self.journal();
        let journalled = journal.iter().filter(|e| e.request.is_some()).count();
        let (matched, missed): (Vec<JournalEntry>, Vec<JournalEntry>) = journal
            .into_iter()
            .filter(|e| e.request.is_some())
            .partition(|e| compiled.mismatches(e).is_some_and(|m| m.is_empty()));
        if expected.holds(matched.len() as u64) {
            return Ok(());
        }
        Err(VerifyError::Count {
            matcher: matcher.describe(),
            expected,
            matched,
            near_misses: nearest(&compiled, missed, NEAR_MISSES),
            journalled,
        })
    }
}

fn nearest(compiled: &Compiled<'_>, entries: Vec<JournalEntry>, limit: usize) -> Vec<NearMiss> {
    let mut misses: Vec<NearMiss> = entries
        .into_iter()
        .rev()
        .filter_map(|entry| {
            let failed = compiled.mismatches(&entry)?;
            (!failed.is_empty()).then_some(NearMiss { entry, failed })
        })
        .collect();
    // Requests to the route asked for first (as WireMock weighs the URL most), then the fewest
    // failed conditions; the sort is stable, so among equally near ones the newest stays first.
    misses.sort_by_key(|miss| {
        let route = ["operation ", "method ", "path "];
        let off_route =
            (miss.failed.iter()).any(|m| route.iter().any(|r| m.condition.starts_with(r)));
        (off_route, miss.failed.len())
    });
    misses.truncate(limit);
    misses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, at: &str, json: &str) -> JournalEntry {
        let request: RequestRecord = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        JournalEntry {
            seq,
            at: at.to_owned(),
            kind: super::super::journal::JournalKind::Request,
            request: Some(request),
            webhook: None,
        }
    }

    fn spec() -> &'static Spec {
        crate::spec::spec().unwrap_or_else(|e| panic!("{e}"))
    }

    const COVER: &str = r#"{"method":"POST","path":"/api/public/v1/Cover","query":null,"headers":{"authorization":"k1","content-type":"multipart/form-data; boundary=x"},"status":200,"form":{"fields":[{"name":"voice_id","value":"Drake","truncated":false},{"name":"pitch","value":"2","truncated":false}],"files":[{"name":"audio_file","filename":"song.mp3","content_type":"audio/mpeg","size":3000}],"error":null}}"#;

    #[test]
    fn each_failed_condition_is_named_with_what_the_request_had() {
        let e = entry(1, "2026-01-01T00:00:10.000Z", COVER);
        let m = Matcher::cover()
            .form("voice_id", "Drake")
            .form("pitch", "3")
            .form_absent("webhook_url")
            .header_contains("Content-Type", "multipart/")
            .upload_name("song.mp3")
            .upload_size(3001)
            .key("k2")
            .since("2026-01-01T00:00:20Z");
        let compiled = m.compile(spec()).unwrap_or_else(|e| panic!("{e}"));
        let failed = compiled.mismatches(&e).unwrap_or_default();
        let words: Vec<String> = failed
            .iter()
            .map(|m| format!("{}: {}", m.condition, m.got))
            .collect();
        assert_eq!(
            words,
            [
                "form pitch equals \"3\": \"2\"",
                "upload filename equals \"song.mp3\" size 3001: \"audio_file\" (\"song.mp3\", 3000 bytes)",
                "since 2026-01-01T00:00:20Z: 2026-01-01T00:00:10.000Z",
                "key \"k2\": \"k1\"",
            ]
        );
    }

    #[test]
    fn an_unknown_operation_or_time_is_refused_naming_what_to_send() {
        let e = Matcher::operation("Cover").compile(spec()).err();
        assert!(e.is_some_and(|e| e.0.contains("cover, getConversionById")));
        let e = Matcher::any().since("yesterday").compile(spec()).err();
        assert!(e.is_some_and(|e| e.0.starts_with("since: \"yesterday\" is not an RFC 3339")));
    }

    #[test]
    fn a_header_the_journal_does_not_keep_is_refused_naming_the_kept_ones() {
        let e = Matcher::any()
            .header("X-Request-Id", "abc")
            .compile(spec())
            .err();
        let text = e.map(|e| e.0).unwrap_or_default();
        assert!(text.contains("\"x-request-id\""), "{text}");
        assert!(text.contains(&KEPT_HEADERS.join(", ")), "{text}");
        for name in KEPT_HEADERS {
            let upper = name.to_ascii_uppercase();
            let m = Matcher::any().header_absent(&upper);
            assert!(m.compile(spec()).is_ok(), "{name}");
        }
    }

    #[test]
    fn replayed_picks_by_who_answered() {
        let mut replayed: RequestRecord =
            serde_json::from_str(COVER).unwrap_or_else(|e| panic!("{e}"));
        replayed.replayed = true;
        let json = serde_json::to_string(&replayed).unwrap_or_default();
        assert!(json.contains("\"replayed\":true"), "{json}");
        let own = entry(1, "2026-01-01T00:00:10.000Z", COVER);
        let mut theirs = own.clone();
        theirs.request = Some(replayed);
        let compiled = Matcher::any().replayed(false);
        let compiled = compiled.compile(spec()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(compiled.mismatches(&own).map(|m| m.len()), Some(0));
        let failed = compiled.mismatches(&theirs).unwrap_or_default();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].condition, "replayed false");
        assert_eq!(failed[0].got, "true");
    }

    #[test]
    fn times_read_as_counts_and_ranges() {
        assert!(Times::from(1).holds(1) && !Times::from(1).holds(2));
        assert!(Times::from(1..=3).holds(3) && !Times::from(1..=3).holds(0));
        assert!(Times::from(2..).holds(9) && !Times::from(2..).holds(1));
        assert_eq!(Times::from(2..).to_string(), "at least 2");
    }
}
