//! A stateful mock of the MusicGPT Cover API, driven by the workspace's `openapi.yaml`.
//!
//! The spec is embedded at compile time and compiled once, at start-up, into validators (the Cover
//! form's fields, each GET operation's query parameters) and response templates; requests are
//! checked against them and answered with the spec's documented statuses and bodies. Tasks go
//! `IN_QUEUE` → `PROCESSING` → `COMPLETED` on a virtual clock, and a completed task's webhook is
//! POSTed (to loopback hosts only, unless allowed) with retries.
//!
//! The crate is built in layers, each importing only from the ones below it:
//! 1. `spec/`: openapi.yaml compiled into operations, form and parameter rules (where a spec
//!    field is validated), examples and response templates;
//! 2. `domain/`: the mock itself, with no HTTP in it: tasks and their states (where a task changes
//!    state), the store and scheduler, the clock, credits, the journal, webhooks, the result
//!    audio, the voice catalogue, and [`MockState`], the handle on all of it;
//! 3. `http/`: the router ([`router`]), the API's routes (where a route is defined), the result
//!    files, the admin API, CORS and journalling, `Prefer`, the form readers, and the webhook
//!    client;
//! 4. `server/`: [`serve`], [`MockServer`], the accept loop and the start-up banner, wiring the
//!    layers; `main.rs` is the clap binary on top.
//!
//! [`config`] ([`MockConfig`]) and [`MockError`] are plain data every layer reads.
//!
//! # Example
//!
//! A mock on 127.0.0.1 and a free port, a Cover sent with plain reqwest, and the task completed
//! at once through the embedding API:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use musicgpt_cover_mock::MockServer;
//!
//! let mock = MockServer::builder().seed(7).start().await;
//! let form = reqwest::multipart::Form::new()
//!     .text("voice_id", "Drake")
//!     .text("audio_url", "https://www.youtube.com/watch?v=jGflUbPQfW8");
//! let answer: serde_json::Value = reqwest::Client::new()
//!     .post(mock.url("/v1/Cover"))
//!     .header("Authorization", "any-key")
//!     .multipart(form)
//!     .send()
//!     .await
//!     .unwrap()
//!     .json()
//!     .await
//!     .unwrap();
//! assert_eq!(answer["status"], "IN_QUEUE");
//!
//! let task_id = answer["task_id"].as_str().unwrap();
//! let task = mock.state().complete_task(task_id).unwrap();
//! assert_eq!(task.status, "COMPLETED");
//! # }
//! ```

pub mod config;
mod domain;
mod error;
mod http;
mod server;
mod spec;

pub use config::{ApiKey, ClockMode, FailRate, Latency, MockConfig};
pub use domain::audio::{
    DURATION_SECONDS as RESULT_AUDIO_SECONDS, SAMPLE_RATE as RESULT_AUDIO_SAMPLE_RATE,
};
pub use domain::faults::{
    FaultError, FaultKind, FaultRecord, FaultSettings, NetworkFault, NewScenario, Respond, Scenario,
};
pub use domain::journal::{
    FormFilePart, FormRecord, FormTextField, JournalEntry, JournalKind, KEPT_HEADERS, KeptAnswer,
    KeptBody, MAX_KEPT_BODY, MAX_KEPT_FIELDS, MAX_KEPT_VALUE, RequestRecord, WebhookEvent,
};
pub use domain::matching::{
    Condition, Matcher, MatcherError, Mismatch, NEAR_MISSES, NearMiss, Times, UploadCondition,
    VerifyError,
};
pub use domain::tasks::{AudioSource, FinishError, Outcome, TaskView};
pub use domain::webhooks::{
    CONCURRENCY as WEBHOOK_CONCURRENCY, DeliveryState, MAX_IN_FLIGHT as WEBHOOK_MAX_IN_FLIGHT,
    WebhookAttempt, WebhookDelivery, WebhookTotals,
};
pub use domain::{MockState, PendingWebhook, ShutdownReport, WaitTimeout};

/// The shortest and longest eta a task is given, in seconds, for the benches' checks. Not an
/// API: it may change at any time.
#[doc(hidden)]
pub use domain::ETA_SECONDS;
pub use error::MockError;
pub use http::proxy::{
    CHECKED_BODY_LIMIT, ProxyConfig, VIOLATIONS_HEADER, api_base_path, default_upstream,
};
pub use http::{ADMIN_PATH, MAX_PARTS, MAX_TEXT_BYTES, router};
pub use server::banner::{default_addr, describe};
pub use server::{
    MockServer, MockServerBuilder, ProxyServer, serve, serve_proxy, serve_with_state,
};
pub use spec::OPENAPI_YAML;
pub use spec::validate::{Severity, Violation};

/// The steps of converting an uploaded song (decode, pitch shift, encode), for the bench in
/// `benches/cover/`. Not an API: it may change at any time.
#[doc(hidden)]
pub use domain::audio::lab as audio_lab;

/// OpenAPI 3.0 schemas as JSON Schema 2020-12, the conversion the proxy mode validates with,
/// shared with the contract tests. Not an API: it may change at any time.
#[doc(hidden)]
pub use spec::validate::openapi_to_json_schema;

/// openapi.yaml parsed once per process, and the one `$ref` resolver, for the contract tests, the
/// client's tests and the fuzz targets. Not an API: it may change at any time.
#[doc(hidden)]
pub mod openapi_document {
    pub use crate::spec::document::{Document, Tree, document, pointer, resolve};

    /// The bounds of the Cover form's `pitch`, as the mock compiled them.
    pub fn pitch_bounds() -> Result<std::ops::RangeInclusive<i64>, String> {
        crate::spec::spec().map(|spec| spec.pitch.clone())
    }

    /// The method and the path (without the servers' base path) of the operation `id`, as the
    /// mock compiled them: `("POST", "/v1/Cover")` for `cover`.
    pub fn operation(id: &str) -> Result<(&'static str, &'static str), String> {
        let spec = crate::spec::spec()?;
        (spec.operation(id))
            .map(|op| (op.method.as_str(), op.path.as_str()))
            .ok_or_else(|| format!("openapi.yaml has no operation {id}"))
    }
}

/// Entry points for the fuzz targets in `fuzz/` into layers the API does not expose. Not an API:
/// it may change at any time.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::http::check_cover_form;
}
