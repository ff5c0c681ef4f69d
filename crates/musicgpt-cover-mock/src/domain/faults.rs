//! Faults on demand, as plain data: the settings (a latency before every answer, failure rates
//! per operation), the queue of one-shot scenarios ("the next N requests to operation X get Y"),
//! and the decision for one request, drawn from a generator seeded by `--seed`. The HTTP layer
//! (`http::faults`) applies a decision; nothing here knows of HTTP.
//!
//! Determinism: with `--seed`, the sequence of decisions follows the sequence of requests to the
//! operations, in the order they reach the mock: the same requests one after another get the
//! same failures and latencies on every run (concurrent requests take their draws in whatever
//! order they arrive).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::sync::lock;
use crate::config::{ANY_OPERATION, FailRate, Latency, MAX_FAULT_DELAY, MockConfig};
use crate::spec::{Operation, Spec};

/// The most scenarios waiting at once.
pub(crate) const MAX_SCENARIOS: usize = 1000;
/// The most requests one scenario answers.
pub(crate) const MAX_TIMES: u32 = 1_000_000;
/// The longest `Retry-After` a scenario sends, in seconds (a day).
pub(crate) const MAX_RETRY_AFTER: u64 = 86_400;
/// The fastest pace a dribbled answer may be given (above it, it is hardly slow).
pub(crate) const MAX_DRIBBLE_RATE: u64 = 1 << 30;

/// [`MAX_FAULT_DELAY`] in milliseconds, a scenario's greatest `delay_ms`.
const MAX_DELAY_MS: u64 = MAX_FAULT_DELAY.as_millis() as u64;

/// Mixed into the seed, so fault draws do not shift the ids and etas of a seeded mock.
const FAULT_SEED_SALT: u64 = 0x6661_756c_7473_2121;

/// The settings that apply to every request: `GET` / `PUT /__admin/faults`. As a body, a key
/// left out (or `null`) is cleared and an unknown key refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSettings {
    /// The delay before every answer of the API's operations, if any.
    pub latency: Option<Latency>,
    /// Failure rates, in the order they are drawn.
    #[serde(default, deserialize_with = "null_as_default")]
    #[schemars(with = "Option<Vec<FailRate>>")]
    pub fail_rates: Vec<FailRate>,
}

/// A value that may also be given as `null` for its default.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// What a scenario answers with. Read from JSON by which of `status`, `delay_ms` and `fault` it
/// holds; a key that does not belong to that kind is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged, try_from = "Map<String, Value>")]
#[schemars(deny_unknown_fields)]
pub enum Respond {
    /// A documented status of the operation with its example body: the one named, else the
    /// first. The request is not handled (no task, no charge).
    Status {
        /// The status.
        status: u16,
        /// The name of one of the status's examples in the spec.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        example: Option<String>,
    },
    /// A delay, then the normal answer.
    Delay {
        /// Milliseconds to wait.
        #[schemars(range(max = "MAX_DELAY_MS"))]
        delay_ms: u64,
    },
    /// Something goes wrong with the connection.
    Fault(NetworkFault),
}

/// A fault of the connection rather than of the answer (WireMock's fault types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "fault", rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum NetworkFault {
    /// The request is read, then the connection closed before any answer. Not handled.
    Close,
    /// The connection is reset (TCP RST) before any answer. Not handled.
    Reset,
    /// The request is handled; its status, headers and part of its body are sent, then the
    /// connection closes.
    Truncate,
    /// The request is handled and its whole answer sent, slowly.
    Dribble {
        /// The pace of the body.
        #[schemars(range(min = 1, max = "MAX_DRIBBLE_RATE"))]
        bytes_per_second: u64,
    },
    /// A gateway in front of the API answers `503 Service Unavailable` in plain text, as load
    /// balancers and CDNs do during an outage or a deploy. Not handled. The spec documents no
    /// 503 (the API itself never sends one), which is why this is a fault of the way to the API
    /// rather than a status scenario; pair it with `retry_after`.
    Unavailable,
}

/// Declares an enum with `ALL`, its variants in order, and each variant's name and summary, so
/// that no list of them is kept by hand.
macro_rules! listed_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = ($text:literal, $summary:literal),)+
    }) => {
        $(#[$meta])* $vis enum $name { $($(#[$vmeta])* $variant,)+ }
        impl $name {
            /// Every kind, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Its name: the journal's `kind`, and a connection fault's `fault` (a test holds the
            /// two to [`NetworkFault`]'s serde names).
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// What the client gets, in a few words (the dashboard's choices).
            pub fn summary(self) -> &'static str {
                match self { $($name::$variant => $summary,)+ }
            }
        }
    };
}

listed_enum! {
    /// The kinds of answer a scenario gives: the journal's `kind`, the admin API's help and
    /// errors, the dashboard's choices and the check of `docs/mock.md`'s table are all made from
    /// [`FaultKind::ALL`]. A new kind is a variant here (and in [`Respond`] or [`NetworkFault`]),
    /// and its effect in `http::faults`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum FaultKind {
        /// `{"status": 500}`: a documented status with its example.
        Status = ("status", "a documented status"),
        /// `{"delay_ms": 3000}`: the normal answer, later.
        Delay = ("delay", "a delay (ms), then the answer"),
        /// `{"fault": "close"}`: [`NetworkFault::Close`].
        Close = ("close", "the connection closed"),
        /// `{"fault": "reset"}`: [`NetworkFault::Reset`].
        Reset = ("reset", "the connection reset"),
        /// `{"fault": "truncate"}`: [`NetworkFault::Truncate`].
        Truncate = ("truncate", "the answer cut short"),
        /// `{"fault": "dribble", "bytes_per_second": 64}`: [`NetworkFault::Dribble`].
        Dribble = ("dribble", "the answer dribbled (bytes/s)"),
        /// `{"fault": "unavailable"}`: [`NetworkFault::Unavailable`].
        Unavailable = ("unavailable", "a gateway's 503 (plain text)"),
    }
}

impl FaultKind {
    /// The kind named `name`.
    pub fn named(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// A `respond` of this kind, with a value that suits every operation: the admin API's help
    /// shows it, the dashboard starts from it.
    pub fn example(self) -> Respond {
        match self {
            FaultKind::Status => Respond::Status {
                status: 500,
                example: None,
            },
            FaultKind::Delay => Respond::Delay { delay_ms: 3000 },
            FaultKind::Close => Respond::Fault(NetworkFault::Close),
            FaultKind::Reset => Respond::Fault(NetworkFault::Reset),
            FaultKind::Truncate => Respond::Fault(NetworkFault::Truncate),
            FaultKind::Dribble => Respond::Fault(NetworkFault::Dribble {
                bytes_per_second: 64,
            }),
            FaultKind::Unavailable => Respond::Fault(NetworkFault::Unavailable),
        }
    }

    /// Whether the client gets no answer at all (the journal's status is then 0).
    pub fn sends_no_answer(self) -> bool {
        matches!(self, FaultKind::Close | FaultKind::Reset)
    }

    /// Every kind's example as JSON, `{"status":500} | {"delay_ms":3000} | ...`: what a
    /// `respond` may be, for help and error texts.
    pub(crate) fn examples() -> String {
        FaultKind::ALL
            .iter()
            .filter_map(|k| serde_json::to_string(&k.example()).ok())
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

impl Respond {
    /// Its kind.
    pub fn kind(&self) -> FaultKind {
        match self {
            Respond::Status { .. } => FaultKind::Status,
            Respond::Delay { .. } => FaultKind::Delay,
            Respond::Fault(NetworkFault::Close) => FaultKind::Close,
            Respond::Fault(NetworkFault::Reset) => FaultKind::Reset,
            Respond::Fault(NetworkFault::Truncate) => FaultKind::Truncate,
            Respond::Fault(NetworkFault::Dribble { .. }) => FaultKind::Dribble,
            Respond::Fault(NetworkFault::Unavailable) => FaultKind::Unavailable,
        }
    }
}

impl TryFrom<Map<String, Value>> for Respond {
    type Error = String;

    /// The kind is the one of `status`, `delay_ms` and `fault` given; serde reads the rest, and
    /// a key the result does not hold (a typo, or a value of another kind) is refused.
    fn try_from(map: Map<String, Value>) -> Result<Respond, String> {
        #[derive(Deserialize)]
        struct Status {
            status: u16,
            example: Option<String>,
        }
        #[derive(Deserialize)]
        struct Delay {
            delay_ms: u64,
        }
        let keys: Vec<&str> = ["status", "delay_ms", "fault"]
            .into_iter()
            .filter(|k| map.contains_key(*k))
            .collect();
        let value = Value::Object(map.clone());
        let read = match keys[..] {
            ["status"] => Status::deserialize(&value).map(|s| Respond::Status {
                status: s.status,
                example: s.example,
            }),
            ["delay_ms"] => Delay::deserialize(&value).map(|d| Respond::Delay {
                delay_ms: d.delay_ms,
            }),
            ["fault"] => NetworkFault::deserialize(&value).map(Respond::Fault),
            [] => return Err("needs one of status, delay_ms and fault".to_owned()),
            _ => {
                return Err(format!(
                    "takes one of status, delay_ms and fault, not {}",
                    keys.join(" and ")
                ));
            }
        };
        let respond = read.map_err(|e| e.to_string())?;
        let held = serde_json::to_value(&respond).map_err(|e| e.to_string())?;
        match map
            .iter()
            .find(|(key, v)| !v.is_null() && held.get(key.as_str()).is_none())
        {
            Some((key, _)) => Err(format!(
                "{key:?} does not go with {}",
                respond.kind().name()
            )),
            None => Ok(respond),
        }
    }
}

/// What the fault injection did to a request, in the journal (see `docs/mock.md`, "Faults and
/// scenarios"). Only the parts that applied are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FaultRecord {
    /// The id of the one-shot scenario that answered the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// What the scenario did: a [`FaultKind`]'s name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The operation of the failure-rate rule that failed the request (`*` for any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_rate: Option<String>,
    /// The status injected (by a scenario or a failure rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// A scenario's delay before the answer, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// The latency drawn for the request (`--latency`), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

impl FaultRecord {
    /// Whether the fault sent no answer at all (the connection was closed or reset).
    pub fn no_answer(&self) -> bool {
        self.kind
            .as_deref()
            .and_then(FaultKind::named)
            .is_some_and(FaultKind::sends_no_answer)
    }
}

/// A scenario to add: `POST /__admin/scenarios`. As a body, `operation` and `respond` are
/// needed, `times` is 1 when left out, and an unknown key is refused.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScenario {
    /// An operationId of the spec, or `*` for any.
    #[schemars(with = "crate::config::FaultOperation")]
    pub operation: String,
    /// How many requests it answers (1 by default).
    #[serde(default = "one", deserialize_with = "null_as_one")]
    #[schemars(with = "Option<u32>", range(min = 1, max = "MAX_TIMES"))]
    pub times: u32,
    /// What they get.
    pub respond: Respond,
    /// Seconds for a `Retry-After` header on the answer (meant for 429 and 503).
    #[schemars(range(max = "MAX_RETRY_AFTER"))]
    pub retry_after: Option<u64>,
}

fn one() -> u32 {
    1
}

fn null_as_one<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    Ok(Option::<u32>::deserialize(deserializer)?.unwrap_or(1))
}

impl NewScenario {
    /// The next request to `operation` (an operationId, or `*`) gets `respond`.
    pub fn new(operation: impl Into<String>, respond: Respond) -> NewScenario {
        NewScenario {
            operation: operation.into(),
            times: 1,
            respond,
            retry_after: None,
        }
    }

    /// The next `times` requests get it.
    pub fn times(mut self, times: u32) -> NewScenario {
        self.times = times;
        self
    }

    /// The answer carries `Retry-After: seconds`.
    pub fn retry_after(mut self, seconds: u64) -> NewScenario {
        self.retry_after = Some(seconds);
        self
    }
}

/// A scenario waiting for its requests: `GET /__admin/scenarios`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scenario {
    /// Its id, for `DELETE /__admin/scenarios/{id}` and the journal (`s1`, `s2`, ...).
    pub id: String,
    /// The operationId it applies to, or `*`.
    pub operation: String,
    /// How many requests it was to answer.
    pub times: u32,
    /// How many it still answers.
    pub remaining: u32,
    /// What they get.
    pub respond: Respond,
    /// Seconds of the `Retry-After` header it adds.
    pub retry_after: Option<u64>,
}

/// A setting or scenario refused, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultError(pub String);

/// What the HTTP layer does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Handle it normally.
    Pass,
    /// Answer this documented status with the named (else first) example, unhandled.
    Status {
        status: u16,
        example: Option<String>,
    },
    /// A network fault.
    Fault(NetworkFault),
}

/// The decision for one request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Decision {
    /// How long to wait before anything else.
    pub(crate) wait: Duration,
    pub(crate) action: Action,
    /// `Retry-After` seconds for the answer.
    pub(crate) retry_after: Option<u64>,
    /// What the journal says.
    pub(crate) record: FaultRecord,
}

/// The fault settings and scenarios of one mock.
#[derive(Debug)]
pub(crate) struct Faults {
    /// Whether anything may apply: one load per request when nothing does.
    active: AtomicBool,
    now: Mutex<Now>,
    /// The settings at start-up, restored by a reset.
    start: FaultSettings,
}

#[derive(Debug)]
struct Now {
    settings: FaultSettings,
    scenarios: VecDeque<Scenario>,
    next_id: u64,
    rng: StdRng,
}

impl Now {
    fn active(&self) -> bool {
        !self.scenarios.is_empty()
            || self.settings.latency.is_some_and(|l| !l.max.is_zero())
            || self.settings.fail_rates.iter().any(|r| r.rate > 0.0)
    }
}

impl Faults {
    /// The start-up settings of `config`, checked against the spec.
    pub(crate) fn new(config: &MockConfig, spec: &Spec, seed: u64) -> Result<Faults, String> {
        let start = FaultSettings {
            latency: config.mock.latency,
            fail_rates: config.mock.fail_rates.clone(),
        };
        check_settings(spec, &start).map_err(|e| e.0)?;
        let now = Now {
            settings: start.clone(),
            scenarios: VecDeque::new(),
            next_id: 1,
            rng: StdRng::seed_from_u64(seed ^ FAULT_SEED_SALT),
        };
        Ok(Faults {
            active: AtomicBool::new(now.active()),
            now: Mutex::new(now),
            start,
        })
    }

    /// Back to the start-up settings, no scenarios, the generator reseeded with `seed`.
    pub(crate) fn reset(&self, seed: u64) {
        let mut now = lock(&self.now);
        now.settings = self.start.clone();
        now.scenarios.clear();
        now.next_id = 1;
        now.rng = StdRng::seed_from_u64(seed ^ FAULT_SEED_SALT);
        self.active.store(now.active(), Ordering::Release);
    }

    pub(crate) fn settings(&self) -> FaultSettings {
        lock(&self.now).settings.clone()
    }

    pub(crate) fn set_settings(
        &self,
        spec: &Spec,
        settings: FaultSettings,
    ) -> Result<(), FaultError> {
        check_settings(spec, &settings)?;
        let mut now = lock(&self.now);
        now.settings = settings;
        self.active.store(now.active(), Ordering::Release);
        Ok(())
    }

    pub(crate) fn add(&self, spec: &Spec, new: NewScenario) -> Result<Scenario, FaultError> {
        check_scenario(spec, &new)?;
        let mut now = lock(&self.now);
        if now.scenarios.len() >= MAX_SCENARIOS {
            return Err(FaultError(format!(
                "{MAX_SCENARIOS} scenarios are waiting already; delete some (DELETE /__admin/scenarios)"
            )));
        }
        let scenario = Scenario {
            id: format!("s{}", now.next_id),
            operation: new.operation,
            times: new.times,
            remaining: new.times,
            respond: new.respond,
            retry_after: new.retry_after,
        };
        now.next_id += 1;
        now.scenarios.push_back(scenario.clone());
        self.active.store(true, Ordering::Release);
        Ok(scenario)
    }

    pub(crate) fn list(&self) -> Vec<Scenario> {
        lock(&self.now).scenarios.iter().cloned().collect()
    }

    pub(crate) fn remove(&self, id: &str) -> bool {
        let mut now = lock(&self.now);
        let before = now.scenarios.len();
        now.scenarios.retain(|s| s.id != id);
        let removed = now.scenarios.len() < before;
        self.active.store(now.active(), Ordering::Release);
        removed
    }

    pub(crate) fn clear(&self) {
        let mut now = lock(&self.now);
        now.scenarios.clear();
        self.active.store(now.active(), Ordering::Release);
    }

    /// The decision for a request to `op`; `None` when no fault applies. Consumes one use of the
    /// first scenario (in the order added) that names the operation; without one, draws the
    /// failure rates; then the latency.
    pub(crate) fn decide(&self, op: &Operation) -> Option<Decision> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let mut now = lock(&self.now);
        let mut record = FaultRecord::default();
        let mut wait = Duration::ZERO;
        let mut action = Action::Pass;
        let mut retry_after = None;
        let id = op.operation_id.as_str();
        let matching = now
            .scenarios
            .iter()
            .position(|s| s.operation == id || s.operation == ANY_OPERATION);
        if let Some(i) = matching {
            let scenario = &mut now.scenarios[i];
            scenario.remaining = scenario.remaining.saturating_sub(1);
            record.scenario = Some(scenario.id.clone());
            record.kind = Some(scenario.respond.kind().name().to_owned());
            retry_after = scenario.retry_after;
            match &scenario.respond {
                Respond::Status { status, example } => {
                    record.status = Some(*status);
                    action = Action::Status {
                        status: *status,
                        example: example.clone(),
                    };
                }
                Respond::Delay { delay_ms } => {
                    record.delay_ms = Some(*delay_ms);
                    wait += Duration::from_millis(*delay_ms);
                }
                Respond::Fault(fault) => action = Action::Fault(*fault),
            }
            if scenario.remaining == 0 {
                now.scenarios.remove(i);
            }
        } else if let Some((rule, status)) = now.draw_failure(op) {
            record.fail_rate = Some(rule);
            record.status = Some(status);
            action = Action::Status {
                status,
                example: None,
            };
        }
        if let Some(latency) = now.settings.latency {
            let (min, max) = (latency.min.as_millis(), latency.max.as_millis());
            let ms = if min == max {
                min
            } else {
                now.rng.random_range(min..=max)
            };
            if ms > 0 {
                let ms = u64::try_from(ms).unwrap_or(u64::MAX);
                record.latency_ms = Some(ms);
                wait += Duration::from_millis(ms);
            }
        }
        self.active.store(now.active(), Ordering::Release);
        (record != FaultRecord::default()).then_some(Decision {
            wait,
            action,
            retry_after,
            record,
        })
    }
}

impl Now {
    /// One draw for the failure rates that name `op` (or `*`), in their order: the rule whose
    /// share the draw falls in, and its status (or one of the operation's documented 5xx and
    /// 429 statuses, drawn too).
    fn draw_failure(&mut self, op: &Operation) -> Option<(String, u16)> {
        let id = op.operation_id.as_str();
        let applies = |r: &&FailRate| r.operation == id || r.operation == ANY_OPERATION;
        if !self
            .settings
            .fail_rates
            .iter()
            .filter(applies)
            .any(|r| r.rate > 0.0)
        {
            return None;
        }
        let draw: f64 = self.rng.random();
        let mut total = 0.0;
        let mut hit = None;
        for rule in self.settings.fail_rates.iter().filter(applies) {
            total += rule.rate;
            if draw < total {
                hit = Some((rule.operation.clone(), rule.status));
                break;
            }
        }
        let (rule, status) = hit?;
        let status = match status {
            Some(status) => status,
            None => {
                let statuses = failure_statuses(op);
                if statuses.is_empty() {
                    return None;
                }
                statuses[self.rng.random_range(0..statuses.len())]
            }
        };
        Some((rule, status))
    }
}

/// The documented 5xx and 429 statuses of an operation, in the spec's order.
pub(crate) fn failure_statuses(op: &Operation) -> Vec<u16> {
    op.responses
        .iter()
        .map(|r| r.status.as_u16())
        .filter(|s| *s >= 500 || *s == 429)
        .collect()
}

/// The operations a name stands for: one operationId, or all of them for `*`.
fn operations<'a>(spec: &'a Spec, name: &str) -> Result<Vec<&'a Operation>, FaultError> {
    if name == ANY_OPERATION {
        return Ok(spec.operations().to_vec());
    }
    spec.operation(name).map(|op| vec![op]).ok_or_else(|| {
        FaultError(format!(
            "unknown operation {name:?}: give an operationId of the spec ({}) or * for any",
            spec.operation_ids()
        ))
    })
}

/// The operations of `ops` that do not document `status`, by name.
fn lacking(ops: &[&Operation], status: u16) -> Vec<String> {
    ops.iter()
        .filter(|op| !op.responses.iter().any(|r| r.status.as_u16() == status))
        .map(|op| op.operation_id.clone())
        .collect()
}

fn check_settings(spec: &Spec, settings: &FaultSettings) -> Result<(), FaultError> {
    if let Some(l) = settings.latency
        && (l.min > l.max || l.max > MAX_FAULT_DELAY)
    {
        return Err(FaultError(format!(
            "latency {l} must be a range from 0 to {}s",
            MAX_FAULT_DELAY.as_secs()
        )));
    }
    for rule in &settings.fail_rates {
        rule.check().map_err(FaultError)?;
        let ops = operations(spec, &rule.operation)?;
        if let Some(status) = rule.status {
            let missing = lacking(&ops, status);
            if !missing.is_empty() {
                return Err(FaultError(format!(
                    "fail rate {rule}: {} documents no {status} (the spec documents what an operation answers; give one of its statuses, or none to draw a documented 5xx or 429)",
                    missing.join(", ")
                )));
            }
        }
    }
    Ok(())
}

fn check_scenario(spec: &Spec, new: &NewScenario) -> Result<(), FaultError> {
    let ops = operations(spec, &new.operation)?;
    if !(1..=MAX_TIMES).contains(&new.times) {
        return Err(FaultError(format!(
            "times must be from 1 to {MAX_TIMES}, got {}",
            new.times
        )));
    }
    if let Some(s) = new.retry_after
        && s > MAX_RETRY_AFTER
    {
        return Err(FaultError(format!(
            "retry_after must be from 0 to {MAX_RETRY_AFTER} seconds, got {s}"
        )));
    }
    match &new.respond {
        Respond::Status { status, example } => {
            let missing = lacking(&ops, *status);
            if !missing.is_empty() {
                return Err(FaultError(format!(
                    "{} documents no {status}; a scenario answers a status the spec documents for the operation",
                    missing.join(", ")
                )));
            }
            if let Some(name) = example {
                for op in &ops {
                    let doc = op.responses.iter().find(|r| r.status.as_u16() == *status);
                    let names: Vec<&str> = doc
                        .map(|d| d.examples.iter().map(|e| e.name.as_str()).collect())
                        .unwrap_or_default();
                    if !names.contains(&name.as_str()) {
                        return Err(FaultError(format!(
                            "{} {status} has no example {name:?}; its examples: {}",
                            op.operation_id,
                            if names.is_empty() {
                                "none".to_owned()
                            } else {
                                names.join(", ")
                            }
                        )));
                    }
                }
            }
        }
        Respond::Delay { delay_ms } => {
            if *delay_ms > MAX_DELAY_MS {
                return Err(FaultError(format!(
                    "delay_ms must be from 0 to {MAX_DELAY_MS}, got {delay_ms}"
                )));
            }
        }
        Respond::Fault(NetworkFault::Dribble { bytes_per_second }) => {
            if !(1..=MAX_DRIBBLE_RATE).contains(bytes_per_second) {
                return Err(FaultError(format!(
                    "bytes_per_second must be from 1 to {MAX_DRIBBLE_RATE}, got {bytes_per_second}"
                )));
            }
        }
        Respond::Fault(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> &'static Spec {
        crate::spec::spec().unwrap_or_else(|e| panic!("{e}"))
    }

    fn status(status: u16, example: Option<&str>) -> Respond {
        let example = example.map(str::to_owned);
        Respond::Status { status, example }
    }

    fn faults(config: MockConfig) -> Faults {
        Faults::new(&config, spec(), 7).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn nothing_applies_by_default() {
        let f = faults(MockConfig::new());
        assert_eq!(f.decide(&spec().cover), None);
    }

    #[test]
    fn scenarios_are_used_in_order_and_counted() {
        let f = faults(MockConfig::new());
        let s = spec();
        let first = f
            .add(s, NewScenario::new("cover", status(402, None)).times(2))
            .unwrap_or_else(|e| panic!("{e}"));
        f.add(
            s,
            NewScenario::new("*", Respond::Fault(NetworkFault::Reset)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.id, "s1");
        // A byId request skips the Cover scenario and takes the `*` one.
        let d = f.decide(&s.by_id).unwrap_or_else(|| panic!("no decision"));
        assert_eq!(d.action, Action::Fault(NetworkFault::Reset));
        assert_eq!(d.record.scenario.as_deref(), Some("s2"));
        assert!(d.record.no_answer());
        for remaining in [1, 0] {
            let d = f.decide(&s.cover).unwrap_or_else(|| panic!("no decision"));
            assert_eq!(
                d.action,
                Action::Status {
                    status: 402,
                    example: None
                }
            );
            assert_eq!(d.record.status, Some(402));
            assert_eq!(f.list().iter().map(|s| s.remaining).sum::<u32>(), remaining);
        }
        assert_eq!(f.decide(&s.cover), None);
    }

    #[test]
    fn seeded_failure_draws_repeat() {
        let config = MockConfig::new()
            .fail_rate("cover=0.5")
            .latency("1ms..50ms");
        let run = || {
            let f = faults(config.clone());
            (0..64)
                .map(|_| {
                    f.decide(&spec().cover)
                        .map(|d| (d.record.status, d.record.latency_ms))
                })
                .collect::<Vec<_>>()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        let failed = a
            .iter()
            .filter(|d| d.is_some_and(|(s, _)| s.is_some()))
            .count();
        assert!(
            (10..=54).contains(&failed),
            "{failed} of 64 failed at rate 0.5"
        );
        let documented = failure_statuses(&spec().cover);
        assert!(
            a.iter()
                .flatten()
                .filter_map(|(s, _)| *s)
                .all(|s| documented.contains(&s))
        );
        // After a reset with the same seed, the same sequence again.
        let f = faults(config.clone());
        let first: Vec<_> = (0..8).map(|_| f.decide(&spec().cover)).collect();
        f.reset(7);
        let again: Vec<_> = (0..8).map(|_| f.decide(&spec().cover)).collect();
        assert_eq!(first, again);
    }

    #[test]
    fn a_rate_of_one_with_a_status_always_fails() {
        let f = faults(MockConfig::new().fail_rate("searchVoices=1:429"));
        let d = f
            .decide(&spec().search_voices)
            .unwrap_or_else(|| panic!("no decision"));
        assert_eq!(d.record.fail_rate.as_deref(), Some("searchVoices"));
        assert_eq!(d.record.status, Some(429));
        assert_eq!(f.decide(&spec().cover), None);
    }

    #[test]
    fn undocumented_statuses_and_unknown_operations_are_refused() {
        let s = spec();
        let f = faults(MockConfig::new());
        for new in [
            NewScenario::new("getAllVoices", status(402, None)),
            NewScenario::new("*", status(402, None)),
            NewScenario::new("nope", Respond::Delay { delay_ms: 1 }),
            NewScenario::new("cover", status(402, Some("nope"))),
            NewScenario::new("cover", Respond::Delay { delay_ms: 1 }).times(0),
            NewScenario::new(
                "cover",
                Respond::Fault(NetworkFault::Dribble {
                    bytes_per_second: 0,
                }),
            ),
        ] {
            assert!(f.add(s, new.clone()).is_err(), "{new:?}");
        }
        assert!(
            f.add(
                s,
                NewScenario::new("cover", status(402, Some("insufficient_credit")))
            )
            .is_ok()
        );
        assert!(Faults::new(&MockConfig::new().fail_rate("getAllVoices=0.1:402"), s, 1).is_err());
        assert!(Faults::new(&MockConfig::new().fail_rate("nope=0.1"), s, 1).is_err());
    }

    #[test]
    fn admin_bodies_parse_or_say_why() {
        let settings = serde_json::from_value::<FaultSettings>(json!({
            "latency": "200ms..1.5s",
            "fail_rates": [{"operation": "cover", "rate": 0.2, "status": 500}, {"spec": "0.1"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            settings.latency.map(|l| l.to_string()).as_deref(),
            Some("200ms..1.5s")
        );
        assert_eq!(settings.fail_rates[1].operation, "*");
        assert_eq!(
            serde_json::to_value(&settings).ok(),
            Some(json!({
                "latency": "200ms..1.5s",
                "fail_rates": [
                    {"operation": "cover", "rate": 0.2, "status": 500},
                    {"operation": "*", "rate": 0.1, "status": null}
                ]
            }))
        );
        for bad in [
            json!({"latency": 5}),
            json!({"latency": "soon"}),
            json!({"fail_rate": []}),
            json!({"fail_rates": [{"operation": "cover", "rate": 2}]}),
            json!({"fail_rates": [{"operation": "cover"}]}),
            json!({"fail_rates": "cover=0.1"}),
        ] {
            assert!(
                serde_json::from_value::<FaultSettings>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let new = serde_json::from_value::<NewScenario>(json!({
            "operation": "cover", "times": 3, "respond": {"fault": "dribble", "bytes_per_second": 64}, "retry_after": 2
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new.times, 3);
        assert_eq!(
            new.respond,
            Respond::Fault(NetworkFault::Dribble {
                bytes_per_second: 64
            })
        );
        assert_eq!(
            serde_json::to_value(&new.respond).ok(),
            Some(json!({"fault": "dribble", "bytes_per_second": 64}))
        );
        for bad in [
            json!({"respond": {"status": 402}}),
            json!({"operation": "cover"}),
            json!({"operation": "cover", "respond": {"status": 402, "delay_ms": 5}}),
            json!({"operation": "cover", "respond": {"fault": "explode"}}),
            json!({"operation": "cover", "respond": {"fault": "dribble"}}),
            json!({"operation": "cover", "respond": {}}),
            json!({"operation": "cover", "times": -1, "respond": {"delay_ms": 5}}),
            json!({"operation": "cover", "respond": {"delay_ms": 5}, "extra": 1}),
        ] {
            assert!(
                serde_json::from_value::<NewScenario>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    /// Each kind's example reads back as that kind, so [`FaultKind::name`] and [`NetworkFault`]'s
    /// serde names agree, and the JSON parser knows every kind.
    #[test]
    fn every_kind_reads_back_from_its_example() {
        for kind in FaultKind::ALL {
            let json = serde_json::to_value(kind.example()).unwrap_or_else(|e| panic!("{e}"));
            let read: Respond =
                serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(read.kind(), *kind, "{json}");
            assert_eq!(FaultKind::named(kind.name()), Some(*kind));
            if let Some(fault) = json.get("fault") {
                assert_eq!(fault, kind.name(), "{json}");
            }
        }
        for (bad, says) in [
            (
                json!({"fault": "close", "bytes_per_second": 5}),
                "bytes_per_second",
            ),
            (json!({"delay_ms": 5, "example": "x"}), "example"),
            (json!({"fault": "explode"}), "explode"),
            (json!({}), "needs one of"),
            (
                json!({"status": 500, "fault": "close"}),
                "not status and fault",
            ),
        ] {
            let error = serde_json::from_value::<Respond>(bad.clone())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(says), "{bad}: {error:?}");
        }
    }
}
