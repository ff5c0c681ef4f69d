//! A stateful mock of the MusicGPT Cover API, driven by the workspace's `openapi.yaml`.
//!
//! The spec is embedded at compile time and compiled once, at start-up, into validators (the Cover
//! form's fields, each GET operation's query parameters) and response templates; requests are
//! checked against them and answered with the spec's documented statuses and bodies. Tasks go
//! `IN_QUEUE` → `PROCESSING` → `COMPLETED` on a virtual clock, and a completed task's webhook is
//! POSTed (to loopback hosts only, unless allowed) with retries.
//!
//! Map of the modules:
//! - [`config`]: [`MockConfig`], the settings and builder, with their defaults.
//! - `spec`: openapi.yaml compiled into validators, examples and templates.
//! - `template`: the response templates and their allocation-light rendering.
//! - `prefer`: the `Prefer` header (`code=`, `example=`, `outcome=`).
//! - `form`: the streamed, metered multipart reader of the Cover form.
//! - `query`: query strings checked against parameter rules.
//! - `auth`: API keys and credit balances.
//! - `clock`: the virtual clock.
//! - `lifecycle`: tasks, their states over time, the store and the scheduler.
//! - `webhook`: target policy, bounded queue, sender with retries, delivery records.
//! - `journal`: the bounded request journal.
//! - `middleware`: the layer around every route: CORS and journalling.
//! - `audio`: the result WAV and MP3.
//! - `voices`: the voice catalogue.
//! - `routes`: the router ([`router`]) and the API's handlers (`cover`, `conversions`, `voices`,
//!   `files`).
//! - `admin`: the admin API under `/__admin`.
//! - `state`: [`MockState`], the shared state and the handle tests steer it with.
//! - `server`: [`serve`] and [`MockServer`].
//!
//! ```no_run
//! # async fn demo() {
//! let mock = musicgpt_cover_mock::MockServer::start().await;
//! println!("point the client at {}", mock.base_url());
//! # }
//! ```

mod admin;
mod audio;
mod auth;
mod clock;
pub mod config;
mod error;
mod form;
mod journal;
mod lifecycle;
mod middleware;
mod prefer;
mod query;
mod routes;
mod server;
mod spec;
mod state;
mod template;
mod urlencoded;
mod voices;
mod webhook;

use std::net::{Ipv4Addr, SocketAddr};

pub use admin::ROUTES as ADMIN_ROUTES;
pub use audio::{
    DURATION_SECONDS as RESULT_AUDIO_SECONDS, SAMPLE_RATE as RESULT_AUDIO_SAMPLE_RATE,
};
pub use config::{ApiKey, ClockMode, MockConfig};
pub use error::MockError;
pub use form::{MAX_PARTS, MAX_TEXT_BYTES};
pub use journal::{
    FormFilePart, FormRecord, FormTextField, JournalEntry, JournalKind, RequestRecord, WebhookEvent,
};
pub use journal::{MAX_KEPT_FIELDS, MAX_KEPT_VALUE};
pub use lifecycle::{AudioSource, FinishError, Outcome, TaskView};
pub use routes::router;
pub use server::{MockServer, serve, serve_with_state};
pub use spec::OPENAPI_YAML;
pub use state::{MockState, PendingWebhook, ShutdownReport, WaitTimeout};
pub use webhook::CONCURRENCY as WEBHOOK_CONCURRENCY;
pub use webhook::{DeliveryState, WebhookAttempt, WebhookDelivery};

/// Where the spec says the local mock listens (`127.0.0.1:4010`).
pub fn default_addr() -> SocketAddr {
    spec::spec()
        .ok()
        .and_then(|s| {
            s.default_origin
                .strip_prefix("http://")
                .and_then(|a| a.parse().ok())
        })
        .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 4010)))
}

/// The lines the binary prints at start-up: what it serves, where.
pub fn describe(state: &MockState, origin: &str) -> String {
    let Ok(spec) = spec::spec() else {
        return String::new();
    };
    let config = state.config();
    let mut out = String::new();
    out.push_str(&format!(
        "musicgpt-cover-mock {}: a mock of {} {} (openapi.yaml)\n",
        env!("CARGO_PKG_VERSION"),
        spec.title,
        spec.version
    ));
    out.push_str(&format!("Listening on {origin}\n"));
    out.push_str(&format!("  API base URL  {origin}{}\n", spec.base_path));
    let paths: Vec<String> = spec
        .operations()
        .iter()
        .map(|op| format!("{}{}", spec.base_path, op.path))
        .collect();
    let width = paths.iter().map(String::len).max().unwrap_or(0) + 2;
    for (op, path) in spec.operations().iter().zip(&paths) {
        out.push_str(&format!(
            "    {:<5}{path:<width$}{}\n",
            op.method.as_str(),
            op.summary
        ));
    }
    out.push_str(&format!(
        "  Result files  {origin}/files/{{conversion_id}}.mp3 and .wav\n"
    ));
    out.push_str(&format!("  Admin API     {origin}/__admin\n"));
    if config.api_keys.is_empty() {
        out.push_str(&format!(
            "Keys: any non-empty Authorization value without a `Bearer ` prefix, {} credits each\n",
            state.default_credits()
        ));
    } else {
        out.push_str(&format!(
            "Keys: only {} (--api-key)\n",
            config
                .api_keys
                .iter()
                .map(|k| k.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match (config.seed, state.clock_frozen()) {
        (Some(seed), true) => out.push_str(&format!(
            "Clock: frozen at {} (seed {seed}); tasks finish after eta x {} once it is advanced: POST {origin}/__admin/clock/advance\n",
            state.now(),
            config.time_scale
        )),
        (_, true) => out.push_str(&format!(
            "Clock: frozen; advance it with POST {origin}/__admin/clock/advance\n"
        )),
        (seed, false) => out.push_str(&format!(
            "Clock: real time{}; a task finishes eta x {} seconds after it is accepted\n",
            seed.map(|s| format!(" (seed {s})")).unwrap_or_default(),
            config.time_scale
        )),
    }
    if config.webhook_allow.is_empty() {
        out.push_str("Webhooks: to loopback hosts only (127.0.0.0/8, ::1, localhost)\n");
    } else {
        out.push_str(&format!(
            "Webhooks: to loopback hosts and {}\n",
            config.webhook_allow.join(", ")
        ));
    }
    let key = config
        .api_keys
        .first()
        .map_or("any-key", |k| k.key.as_str());
    out.push_str(&format!(
        "Try:\n  curl -X POST {origin}{}{} -H \"Authorization: {key}\" -F voice_id=Drake -F audio_url=https://www.youtube.com/watch?v=jGflUbPQfW8\n",
        spec.base_path, spec.cover.path
    ));
    out.push_str("Ctrl-C stops.");
    out
}
