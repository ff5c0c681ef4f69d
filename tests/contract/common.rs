//! Helpers of the contract tests: the mock in deterministic mode, raw HTTP calls whose whole
//! answer is kept, clients with a key and a `Prefer` header, and the snapshot settings.

use std::collections::BTreeMap;

use musicgpt_cover::reqwest::header::{HeaderMap, HeaderValue};
use musicgpt_cover::{ApiError, Client};
use musicgpt_cover_contract_tests::spec::Spec;
use musicgpt_cover_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

/// The key the tests send; mocks that restrict keys accept only this one.
pub(crate) const KEY: &str = "contract-key";
/// A key a restricted mock refuses.
pub(crate) const REFUSED_KEY: &str = "refused-key";
/// The seed of every deterministic mock: ids, etas and times repeat between runs.
pub(crate) const SEED: u64 = 4242;

/// The headers of a response that matter to a client: its type, what `Prefer` did, and CORS.
pub(crate) const HEADERS_THAT_MATTER: [&str; 3] = [
    "content-type",
    "preference-applied",
    "access-control-allow-origin",
];

pub(crate) fn spec() -> &'static Spec {
    Spec::get()
}

/// A deterministic mock (seeded, frozen clock) with `tweak` applied to its settings.
pub(crate) async fn seeded_mock(tweak: impl FnOnce(MockConfig) -> MockConfig) -> MockServer {
    MockServer::try_start(tweak(MockConfig::new().seed(SEED)))
        .await
        .expect("the seeded mock starts")
}

/// A plain HTTP client that never goes through a proxy (CI machines may set one), without root
/// certificates: it only talks to 127.0.0.1 over plain HTTP, and loading the system's roots
/// costs a debug build milliseconds per client.
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .expect("an HTTP client")
}

/// A response as the mock sent it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Captured {
    pub(crate) status: u16,
    /// [`HEADERS_THAT_MATTER`] that were present.
    pub(crate) headers: BTreeMap<String, String>,
    /// The body as JSON (a JSON string holding the text when it is not JSON).
    pub(crate) body: Value,
    #[serde(skip)]
    pub(crate) is_json: bool,
}

impl Captured {
    pub(crate) async fn read(response: reqwest::Response) -> Captured {
        let status = response.status().as_u16();
        let headers = HEADERS_THAT_MATTER
            .iter()
            .filter_map(|name| {
                let value = response.headers().get(*name)?;
                Some((
                    (*name).to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ))
            })
            .collect();
        let bytes = response.bytes().await.expect("the response body");
        let (body, is_json) = match serde_json::from_slice(&bytes) {
            Ok(v) => (v, true),
            Err(_) => (json!(String::from_utf8_lossy(&bytes)), false),
        };
        Captured {
            status,
            headers,
            body,
            is_json,
        }
    }

    /// The media type of the body, without parameters.
    pub(crate) fn media_type(&self) -> Option<&str> {
        self.headers
            .get("content-type")
            .map(|v| v.split(';').next().unwrap_or("").trim())
    }
}

/// Which key a call sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// [`KEY`].
    Valid,
    /// No `Authorization` header at all.
    Missing,
    /// [`REFUSED_KEY`].
    Refused,
}

impl Key {
    pub(crate) fn value(self) -> Option<&'static str> {
        match self {
            Key::Valid => Some(KEY),
            Key::Missing => None,
            Key::Refused => Some(REFUSED_KEY),
        }
    }
}

/// A generated client for `base_url` sending `key` and, when given, a `Prefer` header on every
/// request (so one documented status can be asked for, as Prism and the mock understand it).
pub(crate) fn client(base_url: &str, key: Key, prefer: Option<&str>) -> Client {
    let mut headers = HeaderMap::new();
    if let Some(prefer) = prefer {
        headers.insert(
            "prefer",
            HeaderValue::from_str(prefer).expect("a Prefer header value"),
        );
    }
    let builder = musicgpt_cover::reqwest::Client::builder()
        .no_proxy()
        .default_headers(headers);
    match key.value() {
        Some(key) => Client::from_api_key_with(key, base_url, builder).expect("a client"),
        // The API-key constructor refuses to build a client without a key; this is the
        // generated constructor, which sends none.
        None => Client::new_with_client(base_url, builder.build().expect("a reqwest client")),
    }
}

/// The name of an [`ApiError`] variant.
pub(crate) fn variant(error: &ApiError) -> &'static str {
    match error {
        ApiError::InvalidRequest { .. } => "InvalidRequest",
        ApiError::BadRequest { .. } => "BadRequest",
        ApiError::Unauthorized { .. } => "Unauthorized",
        ApiError::InsufficientCredit { .. } => "InsufficientCredit",
        ApiError::Forbidden { .. } => "Forbidden",
        ApiError::NotFound { .. } => "NotFound",
        ApiError::PayloadTooLarge { .. } => "PayloadTooLarge",
        ApiError::Unprocessable { .. } => "Unprocessable",
        ApiError::RateLimited { .. } => "RateLimited",
        ApiError::Server { .. } => "Server",
        ApiError::OtherStatus { .. } => "OtherStatus",
        ApiError::Unexpected { .. } => "Unexpected",
        ApiError::InvalidResponse { .. } => "InvalidResponse",
        ApiError::Transport { .. } => "Transport",
        ApiError::Io(_) => "Io",
        ApiError::Timeout { .. } => "Timeout",
        ApiError::Hook { .. } => "Hook",
        _ => "(a variant this suite does not know)",
    }
}

/// The typed variant the client promises for a documented error status. A documented status
/// missing here means the client has no typed error for it: the contract is broken.
pub(crate) fn expected_variant(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "InsufficientCredit",
        403 => "Forbidden",
        404 => "NotFound",
        413 => "PayloadTooLarge",
        422 => "Unprocessable",
        429 => "RateLimited",
        500..=599 => "Server",
        _ => return None,
    })
}

/// An error of the client as data: its variant, status, documented body and message.
pub(crate) fn describe_error(error: &ApiError) -> Value {
    json!({
        "variant": variant(error),
        "status": error.status().map(|s| s.as_u16()),
        "body": error.body().map(|b| serde_json::to_value(b).expect("an error body serializes")),
        "message": error.to_string(),
    })
}

/// Snapshot settings: snapshots beside the tests, and the values that still change between runs
/// of a deterministic mock (its port, multipart boundaries) replaced by placeholders.
pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(true);
    settings.set_omit_expression(true);
    settings.add_filter(r"127\.0\.0\.1:\d{2,5}", "127.0.0.1:[port]");
    settings.add_filter(r"boundary=[0-9A-Za-z'()+_,./:=?-]+", "boundary=[boundary]");
    settings
}

/// Runs a snapshot assertion and returns its failure message instead of unwinding, so one test
/// can report every mismatch of a walk at once. insta prints the diff itself.
pub(crate) fn soft_snapshot(assertion: impl FnOnce()) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(assertion))
        .err()
        .map(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a snapshot assertion failed".to_owned())
        })
}

/// Whether two JSON values mean the same: numbers compared by value (`1` and `1.0`), strings
/// that are both RFC 3339 times compared as instants (`...00Z` and `...00.000Z`), the rest as
/// written. What a client decodes and encodes back must mean what the server sent.
pub(crate) fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => {
            x == y
                || matches!(
                    (
                        chrono::DateTime::parse_from_rfc3339(x),
                        chrono::DateTime::parse_from_rfc3339(y),
                    ),
                    (Ok(x), Ok(y)) if x == y
                )
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Fails with every collected problem, one per line.
pub(crate) fn assert_none(problems: &[String], what: &str) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}
