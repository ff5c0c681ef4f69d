//! The mock's settings: a builder for embedders, filled from flags by the binary.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// By default a task finishes after `eta × 0.05` seconds: the spec's etas of half a minute to a
/// minute and a half become two to five seconds.
pub const DEFAULT_TIME_SCALE: f64 = 0.05;
/// The balance of a key that was not given one: far more than a test suite spends, but a load test
/// at the mock's full speed (about 70,000 Covers a second on 2 cores, about one credit each) uses it
/// up in some 20 minutes; raise it with `--default-credits` or `PUT /__admin/credits/{key}`.
pub const DEFAULT_CREDITS: f64 = 100_000_000.0;
/// The largest accepted `audio_file`: 2 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 << 30;
/// How many requests the journal keeps (oldest dropped first).
pub const DEFAULT_JOURNAL_CAPACITY: usize = 1_000;
/// How many tasks the store keeps (finished ones evicted, oldest first, once their webhook is
/// delivered or given up on; when none is, a new Cover gets 429: no task is ever dropped
/// unfinished, and no webhook is dropped undelivered).
pub const DEFAULT_TASK_CAPACITY: usize = 10_000;
/// How long a client may take to send a request's head (line and headers), and how long an idle
/// keep-alive connection is kept.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause inside a request body, and the grace before [`DEFAULT_MIN_BODY_RATE`]
/// applies.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a second a request body must average once its first [`DEFAULT_BODY_TIMEOUT`] has passed:
/// a client that sends a byte a second cannot hold a connection for long.
pub const DEFAULT_MIN_BODY_RATE: u64 = 1024;
/// How long a stopping server waits for the requests in flight before it closes their connections.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The most the task store holds in bytes (its tasks' texts and fixed parts), whatever
/// `--task-capacity` says: a full store answers new Covers 429 like a store with no place left.
pub const MAX_TASK_BYTES: usize = 64 << 20;
/// The most the journal holds in bytes of entry text; the oldest entries go first.
pub const MAX_JOURNAL_BYTES: usize = 16 << 20;
/// How many webhook delivery records the admin API keeps.
pub const DEFAULT_WEBHOOK_LOG_CAPACITY: usize = 1_000;
/// How many attempts a webhook delivery gets before the mock gives up. With the default backoff
/// the last comes 15.5 s after the first, so a receiver restarted within that gets every webhook.
pub const DEFAULT_WEBHOOK_ATTEMPTS: u32 = 6;
/// How long one webhook attempt may take.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// The wait before the second attempt; it doubles for each further one.
pub const DEFAULT_WEBHOOK_BACKOFF: Duration = Duration::from_millis(500);
/// How many keys of an unrestricted mock get a balance of their own before the oldest is
/// forgotten (and starts again from the default balance).
pub const DEFAULT_KEY_CAPACITY: usize = 10_000;

/// How virtual time moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// With the wall clock: tasks finish by themselves.
    Real,
    /// Only when the admin API (or [`MockState::advance_clock`](crate::MockState::advance_clock))
    /// moves it: timestamps and task states repeat exactly between runs.
    Frozen,
}

impl FromStr for ClockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "real" => Ok(ClockMode::Real),
            "frozen" => Ok(ClockMode::Frozen),
            _ => Err(format!("clock must be `real` or `frozen`, got {s:?}")),
        }
    }
}

/// An API key the mock accepts, with its starting balance (`KEY[:CREDITS]` on the command line).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    /// The raw key, as clients send it in `Authorization`.
    pub key: String,
    /// Its starting balance; [`DEFAULT_CREDITS`] when `None`.
    pub credits: Option<f64>,
}

impl FromStr for ApiKey {
    type Err = String;
    /// `KEY` or `KEY:CREDITS`; a key may itself hold colons, only a numeric last part is read as
    /// credits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((key, credits)) = s.rsplit_once(':')
            && let Ok(credits) = credits.parse::<f64>()
        {
            if key.is_empty() {
                return Err(format!("API key is empty in {s:?}"));
            }
            if !credits.is_finite() || credits < 0.0 {
                return Err(format!(
                    "credits must be a number of at least 0, got {credits}"
                ));
            }
            return Ok(ApiKey {
                key: key.to_owned(),
                credits: Some(credits),
            });
        }
        if s.is_empty() {
            return Err("API key is empty".to_owned());
        }
        Ok(ApiKey {
            key: s.to_owned(),
            credits: None,
        })
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.credits {
            Some(c) => write!(f, "{}:{c}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

/// The longest latency or delay the fault settings accept: an hour.
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(3600);

/// The operation name that stands for every operation in fault settings and scenarios.
pub const ANY_OPERATION: &str = "*";

/// A delay added before every answer of the API's operations (`--latency`): fixed (`250ms`,
/// `1.5s`) or drawn uniformly from a range in whole milliseconds (`200ms..1.5s`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    /// The shortest delay.
    pub min: Duration,
    /// The longest delay (equal to `min` for a fixed one).
    pub max: Duration,
}

impl Latency {
    /// A fixed delay.
    pub fn fixed(delay: Duration) -> Latency {
        Latency {
            min: delay,
            max: delay,
        }
    }
}

/// `250ms`, `1.5s`, `0`: a duration in whole milliseconds.
fn parse_delay(s: &str) -> Result<Duration, String> {
    let not_one =
        || format!("{s:?} is not a duration: give a number with a unit, such as 250ms or 1.5s");
    let t = s.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else if t == "0" {
        (t, 1.0)
    } else {
        return Err(not_one());
    };
    let value: f64 = number.trim().parse().map_err(|_| not_one())?;
    let ms = (value * scale).round();
    if !ms.is_finite() || ms < 0.0 || ms > MAX_FAULT_DELAY.as_millis() as f64 {
        return Err(format!(
            "{s:?} is out of range: a delay is from 0 to {}s",
            MAX_FAULT_DELAY.as_secs()
        ));
    }
    Ok(Duration::from_millis(ms as u64))
}

/// `250ms` below a second, `1.5s` from a second on: the form [`Latency`]'s parser reads back.
fn format_delay(d: Duration, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let ms = d.as_millis();
    if ms < 1000 {
        write!(f, "{ms}ms")
    } else if ms.is_multiple_of(1000) {
        write!(f, "{}s", ms / 1000)
    } else {
        let text = format!("{}.{:03}", ms / 1000, ms % 1000);
        write!(f, "{}s", text.trim_end_matches('0'))
    }
}

impl FromStr for Latency {
    type Err = String;
    /// `DELAY` or `MIN..MAX`, each a number with `ms` or `s` (`0` alone too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let latency = match s.split_once("..") {
            Some((min, max)) => Latency {
                min: parse_delay(min)?,
                max: parse_delay(max)?,
            },
            None => Latency::fixed(parse_delay(s)?),
        };
        if latency.min > latency.max {
            return Err(format!(
                "latency {s:?}: the range's start is above its end; give MIN..MAX"
            ));
        }
        Ok(latency)
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_delay(self.min, f)?;
        if self.max != self.min {
            f.write_str("..")?;
            format_delay(self.max, f)?;
        }
        Ok(())
    }
}

impl serde::Serialize for Latency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A text, as it serializes: the admin API's OpenAPI document describes it so.
impl schemars::JsonSchema for Latency {
    fn schema_name() -> String {
        "Latency".to_owned()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            metadata: Some(Box::new(schemars::schema::Metadata {
                description: Some(
                    "A fixed delay (`250ms`, `1.5s`) or a range drawn uniformly in whole milliseconds (`200ms..1.5s`).".to_owned(),
                ),
                examples: vec![serde_json::Value::from("200ms..1.5s")],
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

impl<'de> serde::Deserialize<'de> for Latency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A failure rate (`--fail-rate`): this share of the requests to `operation` (an operationId,
/// or `*` for every operation) is answered with an error instead: `status` when given (one the
/// operation documents), else one of the operation's documented 5xx and 429 statuses, drawn
/// uniformly. Written `cover=0.2:500`, `cover=0.2`, or `0.1` (every operation).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "FailRateBody")]
#[schemars(deny_unknown_fields)]
pub struct FailRate {
    /// An operationId of the spec, or `*` (when left out or `null`).
    #[schemars(with = "Option<FaultOperation>", default = "any_operation")]
    pub operation: String,
    /// The share of requests failed, from 0 to 1.
    #[schemars(range(min = 0, max = 1))]
    pub rate: f64,
    /// The status to answer with; `None` draws one of the documented 5xx and 429 statuses.
    #[schemars(range(min = 400, max = 599))]
    pub status: Option<u16>,
}

/// The operation a fault applies to: an operationId of the spec, or [`ANY_OPERATION`] (schema
/// only, `#[schemars(with = "FaultOperation")]`).
pub(crate) struct FaultOperation;

impl schemars::JsonSchema for FaultOperation {
    fn schema_name() -> String {
        "FaultOperation".to_owned()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        crate::spec::shapes::operation_or(ANY_OPERATION)
    }
}

/// [`ANY_OPERATION`], the operation of a fail rate that names none.
fn any_operation() -> String {
    ANY_OPERATION.to_owned()
}

/// A [`FailRate`] as JSON: `{"operation": "cover", "rate": 0.2, "status": 500}` (operation `*`
/// and no status when left out), or `{"spec": "cover=0.2:500"}`; checked as the flag is.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FailRateBody {
    spec: Option<String>,
    operation: Option<String>,
    rate: Option<f64>,
    status: Option<u16>,
}

impl TryFrom<FailRateBody> for FailRate {
    type Error = String;
    fn try_from(body: FailRateBody) -> Result<FailRate, String> {
        if let Some(spec) = body.spec {
            if body.operation.is_some() || body.rate.is_some() || body.status.is_some() {
                return Err("a fail rate given as {\"spec\": ...} takes no other key".to_owned());
            }
            return spec.parse();
        }
        let operation = body.operation.unwrap_or_else(|| ANY_OPERATION.to_owned());
        let rate = body.rate.ok_or_else(|| {
            format!("the fail rate of {operation} needs a rate, a number from 0 to 1")
        })?;
        let rule = FailRate {
            operation,
            rate,
            status: body.status,
        };
        rule.check()?;
        Ok(rule)
    }
}

impl FromStr for FailRate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (operation, rest) = match s.split_once('=') {
            Some((op, rest)) => (op.trim(), rest),
            None => (ANY_OPERATION, s),
        };
        if operation.is_empty() {
            return Err(format!(
                "fail rate {s:?}: the operation before = is empty; give OPERATION=RATE[:STATUS]"
            ));
        }
        let (rate, status) = match rest.split_once(':') {
            Some((rate, status)) => (rate, Some(status)),
            None => (rest, None),
        };
        let rate: f64 = rate.trim().parse().map_err(|_| {
            format!("fail rate {s:?}: {rate:?} is not a number; give OPERATION=RATE[:STATUS], such as cover=0.2:500")
        })?;
        let status = (status.map(|st| st.trim().parse::<u16>().map_err(|_| st)))
            .transpose()
            .map_err(|st| format!("fail rate {s:?}: {st:?} is not an HTTP status"))?;
        let rule = FailRate {
            operation: operation.to_owned(),
            rate,
            status,
        };
        rule.check()?;
        Ok(rule)
    }
}

impl FailRate {
    /// The checks that need no spec: a rate from 0 to 1, an error status.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.rate.is_finite() || !(0.0..=1.0).contains(&self.rate) {
            return Err(format!(
                "the fail rate of {} must be a number from 0 to 1, got {}",
                self.operation, self.rate
            ));
        }
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(format!(
                "the fail rate of {} names status {status}: a failure is a 4xx or 5xx status the operation documents",
                self.operation
            ));
        }
        Ok(())
    }
}

impl fmt::Display for FailRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.operation, self.rate)?;
        if let Some(status) = self.status {
            write!(f, ":{status}")?;
        }
        Ok(())
    }
}

/// A duration given in seconds (`0.5`, `10`) on the command line, and shown so in `--help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seconds(pub(crate) Duration);

impl FromStr for Seconds {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<f64>()
            .ok()
            .and_then(|n| Duration::try_from_secs_f64(n).ok())
            .map(Seconds)
            .ok_or_else(|| format!("must be a number of seconds of at least 0, got {s}"))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// Settings of a mock server, declared once: the builder's setters write them, and with the `cli`
/// feature they are the binary's flags (each doc comment below is its `--help` line, each
/// `env` its variable). [`MockServer::builder`](crate::MockServer::builder) takes the same
/// setters: `MockServer::builder().seed(7).start().await`.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct MockConfig {
    #[cfg_attr(feature = "cli", command(flatten))]
    pub(crate) mock: MockSettings,
    #[cfg_attr(feature = "cli", command(flatten))]
    pub(crate) server: ServerSettings,
}

/// What the mock does: tasks, keys, webhooks, faults. A proxy accepts these flags too but they
/// mean nothing to it ([`MockConfig::is_mock_only`]).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub(crate) struct MockSettings {
    /// Deterministic mode: ids and values from this seed; the clock starts frozen at
    /// 2026-01-01T00:00:00Z.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_SEED"))]
    pub(crate) seed: Option<u64>,
    /// A task finishes eta x SCALE seconds after it is accepted (0: at once).
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_TIME_SCALE"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = DEFAULT_TIME_SCALE))]
    pub(crate) time_scale: f64,
    /// `real` or `frozen` (default: frozen with --seed, real without).
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_CLOCK"))]
    pub(crate) clock: Option<ClockMode>,
    /// Accept only these keys, KEY or KEY:CREDITS; repeat the flag, or separate with commas in
    /// the variable.
    #[cfg_attr(feature = "cli", arg(long = "api-key", env = "MUSICGPT_MOCK_API_KEYS"))]
    #[cfg_attr(feature = "cli", arg(value_delimiter = ','))]
    pub(crate) api_keys: Vec<ApiKey>,
    /// Starting balance of keys given without one (and of every key when any key is accepted).
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_DEFAULT_CREDITS"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = DEFAULT_CREDITS))]
    pub(crate) default_credits: f64,
    /// Largest accepted audio_file, in bytes; larger ones get 413.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_MAX_UPLOAD_BYTES"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = DEFAULT_MAX_UPLOAD_BYTES))]
    pub(crate) max_upload_bytes: u64,
    /// Also send webhooks to this host (loopback hosts are always allowed); repeatable.
    #[cfg_attr(
        feature = "cli",
        arg(long = "webhook-allow", env = "MUSICGPT_MOCK_WEBHOOK_ALLOW")
    )]
    #[cfg_attr(feature = "cli", arg(value_delimiter = ','))]
    pub(crate) webhook_allow: Vec<String>,
    /// Attempts per webhook before giving up.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_WEBHOOK_ATTEMPTS"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = DEFAULT_WEBHOOK_ATTEMPTS))]
    pub(crate) webhook_attempts: u32,
    /// Seconds one webhook attempt may take.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_WEBHOOK_TIMEOUT"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = Seconds(DEFAULT_WEBHOOK_TIMEOUT)))]
    pub(crate) webhook_timeout: Seconds,
    /// Seconds before the second webhook attempt; doubles for each further one.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_WEBHOOK_BACKOFF"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = Seconds(DEFAULT_WEBHOOK_BACKOFF)))]
    pub(crate) webhook_backoff: Seconds,
    /// Tasks the store keeps (finished ones evicted, oldest first, once their webhook is final;
    /// when none is, a new Cover gets 429).
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_TASK_CAPACITY"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = DEFAULT_TASK_CAPACITY))]
    pub(crate) task_capacity: usize,
    #[cfg_attr(feature = "cli", arg(skip = DEFAULT_WEBHOOK_LOG_CAPACITY))]
    pub(crate) webhook_log_capacity: usize,
    #[cfg_attr(feature = "cli", arg(skip = DEFAULT_KEY_CAPACITY))]
    pub(crate) key_capacity: usize,
    /// Origin written into result-file URLs (default: the address listened on).
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_PUBLIC_URL"))]
    pub(crate) public_url: Option<String>,
    /// Delay before every answer of the API's operations: 250ms, 1.5s, or a range drawn
    /// uniformly, 200ms..1.5s (changeable at /__admin/faults).
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_LATENCY"))]
    pub(crate) latency: Option<Latency>,
    /// Fail this share of an operation's requests: OPERATION=RATE[:STATUS] (cover=0.2:500), or
    /// RATE for every operation; without a status, a documented 5xx or 429 is drawn. Repeat the
    /// flag, or separate with commas in the variable.
    #[cfg_attr(
        feature = "cli",
        arg(long = "fail-rate", env = "MUSICGPT_MOCK_FAIL_RATES")
    )]
    #[cfg_attr(feature = "cli", arg(value_delimiter = ','))]
    pub(crate) fail_rates: Vec<FailRate>,
    /// Answer requests that match a recording (`musicgpt-cover-mock proxy --record DIR`) with
    /// the recorded answers, in the recorded order; everything else as usual.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MUSICGPT_MOCK_REPLAY", value_name = "DIR")
    )]
    pub(crate) replay: Option<std::path::PathBuf>,
    /// With `--replay`: a request to one of the API's operations that matches no recorded
    /// request gets a 501 naming the nearest recorded one, instead of the mock's own answer.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_REPLAY_STRICT"))]
    pub(crate) replay_strict: bool,
    /// A `latency` or `fail_rate` text given to a setter that did not parse, reported by
    /// `validate`.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub(crate) fault_error: Option<String>,
}

impl Default for MockSettings {
    fn default() -> Self {
        MockSettings {
            seed: None,
            time_scale: DEFAULT_TIME_SCALE,
            clock: None,
            api_keys: Vec::new(),
            default_credits: DEFAULT_CREDITS,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            webhook_allow: Vec::new(),
            webhook_attempts: DEFAULT_WEBHOOK_ATTEMPTS,
            webhook_timeout: Seconds(DEFAULT_WEBHOOK_TIMEOUT),
            webhook_backoff: Seconds(DEFAULT_WEBHOOK_BACKOFF),
            task_capacity: DEFAULT_TASK_CAPACITY,
            webhook_log_capacity: DEFAULT_WEBHOOK_LOG_CAPACITY,
            key_capacity: DEFAULT_KEY_CAPACITY,
            public_url: None,
            latency: None,
            fail_rates: Vec::new(),
            replay: None,
            replay_strict: false,
            fault_error: None,
        }
    }
}

/// What every server shares, the proxy's too: connections, the journal, the admin API's guard.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub(crate) struct ServerSettings {
    /// Requests the journal keeps.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_JOURNAL_CAPACITY"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = DEFAULT_JOURNAL_CAPACITY))]
    pub(crate) journal_capacity: usize,
    /// Seconds a client may take to send a request's head; idle connections close after as long.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_HEADER_TIMEOUT"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = Seconds(DEFAULT_HEADER_TIMEOUT)))]
    pub(crate) header_timeout: Seconds,
    /// Longest pause inside a request body, in seconds, and the grace before --min-body-rate
    /// applies; a body that breaks either gets 408.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_BODY_TIMEOUT"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = Seconds(DEFAULT_BODY_TIMEOUT)))]
    pub(crate) body_timeout: Seconds,
    /// Bytes a second a request body must average after its first --body-timeout seconds.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_MIN_BODY_RATE"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = DEFAULT_MIN_BODY_RATE))]
    pub(crate) min_body_rate: u64,
    /// Seconds a stopping server waits for the requests in flight.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_SHUTDOWN_GRACE"))]
    #[cfg_attr(feature = "cli", arg(default_value_t = Seconds(DEFAULT_SHUTDOWN_GRACE)))]
    pub(crate) shutdown_grace: Seconds,
    /// Allow --addr to be an address other machines can reach (then the admin API requires a token).
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_ALLOW_REMOTE"))]
    pub(crate) allow_remote: bool,
    /// The token the admin API requires (Authorization: Bearer TOKEN); generated and printed when
    /// --allow-remote is given without one. At least 16 visible characters.
    #[cfg_attr(feature = "cli", arg(long, env = "MUSICGPT_MOCK_ADMIN_TOKEN"))]
    pub(crate) admin_token: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
            header_timeout: Seconds(DEFAULT_HEADER_TIMEOUT),
            body_timeout: Seconds(DEFAULT_BODY_TIMEOUT),
            min_body_rate: DEFAULT_MIN_BODY_RATE,
            shutdown_grace: Seconds(DEFAULT_SHUTDOWN_GRACE),
            allow_remote: false,
            admin_token: None,
        }
    }
}

/// The setters of [`MockConfig`], written once here and expanded both for it and for
/// [`MockServerBuilder`](crate::MockServerBuilder), each of which has a `settings(&mut self) ->
/// &mut MockConfig`.
macro_rules! setters {
    () => {
        $crate::config::setters! {
            /// Deterministic mode: ids and values come from a random generator seeded with `seed`,
            /// and the clock starts frozen at 2026-01-01T00:00:00Z (see [`MockConfig::clock`]).
            seed(seed: u64) |c| c.mock.seed = Some(seed);
            /// A task finishes `eta × scale` virtual seconds after it was accepted (0: at once).
            time_scale(scale: f64) |c| c.mock.time_scale = scale;
            /// Overrides the clock mode (default: frozen with a seed, real without).
            clock(mode: $crate::config::ClockMode) |c| c.mock.clock = Some(mode);
            /// Accept only the keys given this way (and by [`MockConfig::funded_api_key`]); this
            /// one starts with the default balance.
            api_key(key: impl Into<String>) |c| c.mock.api_keys.push($crate::config::ApiKey {
                key: key.into(),
                credits: None,
            });
            /// Accept only the keys given this way (and by [`MockConfig::api_key`]); this one
            /// starts with `credits`.
            funded_api_key(key: impl Into<String>, credits: f64)
                |c| c.mock.api_keys.push($crate::config::ApiKey {
                    key: key.into(),
                    credits: Some(credits),
                });
            /// The starting balance of keys given without one, and of every key of an unrestricted
            /// mock.
            default_credits(credits: f64) |c| c.mock.default_credits = credits;
            /// The largest `audio_file` accepted; a larger one is answered 413.
            max_upload_bytes(bytes: u64) |c| c.mock.max_upload_bytes = bytes;
            /// Lets webhooks go to `host` besides the loopback hosts (127.0.0.0/8, ::1, localhost).
            webhook_allow(host: impl Into<String>) |c| c.mock.webhook_allow.push(host.into());
            /// How many attempts a webhook delivery gets (at least 1).
            webhook_attempts(attempts: u32) |c| c.mock.webhook_attempts = attempts;
            /// How long one webhook attempt may take before it counts as failed.
            webhook_timeout(timeout: std::time::Duration)
                |c| c.mock.webhook_timeout = $crate::config::Seconds(timeout);
            /// The wait before the second webhook attempt; it doubles for each further one.
            webhook_backoff(backoff: std::time::Duration)
                |c| c.mock.webhook_backoff = $crate::config::Seconds(backoff);
            /// How many journal entries are kept.
            journal_capacity(entries: usize) |c| c.server.journal_capacity = entries;
            /// How many tasks are kept.
            task_capacity(tasks: usize) |c| c.mock.task_capacity = tasks;
            /// How many webhook delivery records are kept.
            webhook_log_capacity(deliveries: usize) |c| c.mock.webhook_log_capacity = deliveries;
            /// How many keys of an unrestricted mock keep a balance of their own.
            key_capacity(keys: usize) |c| c.mock.key_capacity = keys;
            /// The origin written into result-file URLs (default: the address the mock listens on).
            public_url(url: impl Into<String>) |c| c.mock.public_url = Some(url.into());
            /// How long a client may take to send a request's head; an idle keep-alive connection
            /// is closed after as long.
            header_timeout(timeout: std::time::Duration)
                |c| c.server.header_timeout = $crate::config::Seconds(timeout);
            /// The longest pause inside a request body, and the grace before the minimum rate
            /// applies; a body that breaks either rule is answered 408 and its connection closed.
            body_timeout(timeout: std::time::Duration)
                |c| c.server.body_timeout = $crate::config::Seconds(timeout);
            /// Bytes a second a request body must average once its first body timeout has passed.
            min_body_rate(bytes_per_second: u64) |c| c.server.min_body_rate = bytes_per_second;
            /// How long a stopping server waits for the requests in flight.
            shutdown_grace(grace: std::time::Duration)
                |c| c.server.shutdown_grace = $crate::config::Seconds(grace);
            /// Lets the server listen on an address other than loopback. Then the admin API (whose
            /// journal holds every key sent) answers only requests bearing the admin token: the one
            /// given with [`MockConfig::admin_token`], else one the server generates and prints.
            allow_remote(allow: bool) |c| c.server.allow_remote = allow;
            /// The token the admin API requires (`Authorization: Bearer TOKEN` or `X-Admin-Token:
            /// TOKEN`); on loopback too, when given.
            admin_token(token: impl Into<String>) |c| c.server.admin_token = Some(token.into());
            /// A delay before every answer of the API's operations: `"250ms"`, `"1.5s"`, or a range
            /// drawn uniformly, `"200ms..1.5s"` (drawn from the `--seed` generator). Changeable while
            /// the mock runs (`PUT /__admin/faults`,
            /// [`MockState::set_faults`](crate::MockState::set_faults)); a text that does not parse
            /// fails the start.
            latency(latency: &str) |c| match latency.parse() {
                Ok(l) => c.mock.latency = Some(l),
                Err(e) => c.mock.fault_error = Some(e),
            };
            /// Answers the requests that match a recording made by the proxy
            /// ([`ProxyConfig::record`](crate::ProxyConfig::record)) with its answers, in order; a
            /// directory that cannot be read or a file that is not a recorded exchange fails the
            /// start, naming it.
            replay(dir: impl Into<std::path::PathBuf>) |c| c.mock.replay = Some(dir.into());
            /// With [`replay`](Self::replay): a request to one of the API's operations that
            /// matches no recorded request is answered 501, naming the nearest recorded one,
            /// rather than by the mock.
            replay_strict() |c| c.mock.replay_strict = true;
            /// A failure rate, `"cover=0.2:500"`, `"cover=0.2"` or `"0.1"` (see
            /// [`FailRate`](crate::FailRate)); repeat for more. A text that does not parse, or a
            /// status the operation does not document, fails the start.
            fail_rate(rule: &str) |c| match rule.parse() {
                Ok(r) => c.mock.fail_rates.push(r),
                Err(e) => c.mock.fault_error = Some(e),
            };
        }
    };
    // Each setter after its doc: `name(arg: Type, ...) |c| what it does to the settings c;`.
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) |$c:ident| $body:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $($arg: $ty),*) -> Self {
                let $c = self.settings();
                $body;
                self
            }
        )*
    };
}
pub(crate) use setters;

impl MockConfig {
    /// The defaults: any non-empty key, real clock, [`DEFAULT_TIME_SCALE`].
    pub fn new() -> Self {
        Self::default()
    }

    fn settings(&mut self) -> &mut MockConfig {
        self
    }

    setters!();

    /// The clock mode in force: the explicit one, else frozen with a seed and real without.
    pub fn clock_mode(&self) -> ClockMode {
        self.mock.clock.unwrap_or(if self.mock.seed.is_some() {
            ClockMode::Frozen
        } else {
            ClockMode::Real
        })
    }

    /// Refuses `addr` when other machines can reach it and [`MockConfig::allow_remote`] was not
    /// given: the admin API's journal holds every key sent.
    pub fn check_addr(&self, addr: std::net::SocketAddr) -> Result<(), String> {
        if addr.ip().is_loopback() || self.server.allow_remote {
            return Ok(());
        }
        Err(format!(
            "--addr {addr} is reachable from other machines, and the admin API's journal holds every key sent; listen on 127.0.0.1, or pass --allow-remote (the admin API then requires a token)"
        ))
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Some(e) = &self.mock.fault_error {
            return Err(e.clone());
        }
        if self.mock.replay_strict && self.mock.replay.is_none() {
            return Err(
                "--replay-strict answers from a recording only: give it with --replay DIR".into(),
            );
        }
        for rule in &self.mock.fail_rates {
            rule.check()?;
        }
        if let Some(l) = self.mock.latency
            && (l.min > l.max || l.max > MAX_FAULT_DELAY)
        {
            return Err(format!(
                "latency {l} is not a range from 0 to {}s",
                MAX_FAULT_DELAY.as_secs()
            ));
        }
        if !self.mock.time_scale.is_finite() || self.mock.time_scale < 0.0 {
            return Err(format!(
                "time scale must be a number of at least 0, got {}",
                self.mock.time_scale
            ));
        }
        if !self.mock.default_credits.is_finite() || self.mock.default_credits < 0.0 {
            return Err(format!(
                "default credits must be at least 0, got {}",
                self.mock.default_credits
            ));
        }
        for key in &self.mock.api_keys {
            if key.key.trim().is_empty() {
                return Err("an API key is empty".to_owned());
            }
            if key.credits.is_some_and(|c| !c.is_finite() || c < 0.0) {
                return Err(format!("credits of key {} must be at least 0", key.key));
            }
        }
        if self.mock.webhook_attempts == 0 {
            return Err("webhook attempts must be at least 1".to_owned());
        }
        for (name, n) in [
            ("journal capacity", self.server.journal_capacity),
            ("task capacity", self.mock.task_capacity),
            ("webhook log capacity", self.mock.webhook_log_capacity),
            ("key capacity", self.mock.key_capacity),
        ] {
            if n == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        for (name, d) in [
            ("header timeout", self.server.header_timeout.0),
            ("body timeout", self.server.body_timeout.0),
        ] {
            if d.is_zero() {
                return Err(format!("{name} must be more than 0 seconds"));
            }
        }
        if self
            .server
            .admin_token
            .as_deref()
            .is_some_and(|t| t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(
                "the admin token must be at least 16 visible ASCII characters (no spaces)"
                    .to_owned(),
            );
        }
        if let Some(url) = &self.mock.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "public URL must start with http:// or https://, got {url:?}"
            ));
        }
        Ok(())
    }
}

#[cfg(feature = "cli")]
impl MockConfig {
    /// Whether a flag of [`MockConfig`]'s command line sets what the mock does (tasks, keys,
    /// webhooks, faults) rather than the server: a proxy accepts it, but it means nothing there.
    pub fn is_mock_only(arg: &clap::Arg) -> bool {
        use clap::Args;
        MockSettings::augment_args(clap::Command::new("mock"))
            .get_arguments()
            .any(|mock| mock.get_id() == arg.get_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_with_and_without_credits() {
        let key = |text: &str| text.parse().map(|k: ApiKey| (k.key, k.credits));
        assert_eq!(key("abc"), Ok(("abc".into(), None)));
        assert_eq!(key("abc:12.5"), Ok(("abc".into(), Some(12.5))));
        assert_eq!(key("a:b"), Ok(("a:b".into(), None)));
        assert!("".parse::<ApiKey>().is_err());
        assert!(":5".parse::<ApiKey>().is_err());
        assert!("k:-1".parse::<ApiKey>().is_err());
    }

    #[test]
    fn parses_and_prints_latencies() {
        for (text, min, max, shown) in [
            ("250ms", 250, 250, "250ms"),
            ("1.5s", 1500, 1500, "1.5s"),
            ("0", 0, 0, "0ms"),
            ("200ms..1.5s", 200, 1500, "200ms..1.5s"),
            ("1s..2s", 1000, 2000, "1s..2s"),
            ("0.25s", 250, 250, "250ms"),
            ("1.234s", 1234, 1234, "1.234s"),
        ] {
            let l: Latency = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((l.min.as_millis(), l.max.as_millis()), (min, max), "{text}");
            assert_eq!(l.to_string(), shown);
            assert_eq!(shown.parse::<Latency>(), Ok(l));
        }
        for bad in [
            "", "200", "fast", "2s..1s", "-1s", "2h", "5000s", "1s..", "ms",
        ] {
            assert!(bad.parse::<Latency>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_fail_rates() {
        let rule: FailRate = "cover=0.2:500".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rule,
            FailRate {
                operation: "cover".into(),
                rate: 0.2,
                status: Some(500)
            }
        );
        assert_eq!(rule.to_string(), "cover=0.2:500");
        let any: FailRate = "0.1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((any.operation.as_str(), any.status), ("*", None));
        for bad in [
            "cover=1.5",
            "cover=x",
            "=0.1",
            "cover=0.1:abc",
            "cover=0.1:200",
            "cover=-0.1",
        ] {
            assert!(bad.parse::<FailRate>().is_err(), "{bad}");
        }
        assert!(MockConfig::new().fail_rate("cover=2").validate().is_err());
        assert!(MockConfig::new().latency("soon").validate().is_err());
        assert!(
            MockConfig::new()
                .latency("1ms..2ms")
                .fail_rate("0.5")
                .validate()
                .is_ok()
        );
    }

    /// The flags' defaults and the builder's are the same constants; this keeps each field's two
    /// mentions of its constant in step.
    #[cfg(feature = "cli")]
    #[test]
    fn no_flags_give_the_builders_defaults() {
        use clap::{Args, FromArgMatches};
        let command = MockConfig::augment_args(clap::Command::new("mock").no_binary_name(true))
            .mut_args(|arg| arg.env(None::<&str>));
        let matches = command
            .try_get_matches_from(std::iter::empty::<&str>())
            .unwrap_or_else(|e| panic!("{e}"));
        let parsed = MockConfig::from_arg_matches(&matches).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed, MockConfig::default());
        assert!(MockConfig::is_mock_only(&clap::Arg::new("seed")));
        assert!(!MockConfig::is_mock_only(&clap::Arg::new("header_timeout")));
    }

    #[test]
    fn seed_freezes_the_clock_unless_told_otherwise() {
        assert_eq!(MockConfig::new().clock_mode(), ClockMode::Real);
        assert_eq!(MockConfig::new().seed(1).clock_mode(), ClockMode::Frozen);
        assert_eq!(
            MockConfig::new()
                .seed(1)
                .clock(ClockMode::Real)
                .clock_mode(),
            ClockMode::Real
        );
        assert!(MockConfig::new().time_scale(-1.0).validate().is_err());
    }
}
