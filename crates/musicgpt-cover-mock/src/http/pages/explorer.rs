//! The Explorer at `/`: a form for `POST /v1/Cover` (key, audio, voice, pitch, webhook, outcome),
//! then the answer, the states byId passes through, the result in a player with its files, the
//! webhook delivery, and the request as a curl command. Its script is `assets/explorer.js`.

use std::sync::OnceLock;

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::{assets, dashboard};
use crate::domain::MockState;
use crate::domain::tasks::{Outcome, Status};
use crate::domain::webhooks::DeliveryState;
use crate::http::ADMIN_PATH;
use crate::spec::Rule;

pub(crate) const PATH: &str = "/";

const HTML: &str = include_str!("assets/explorer.html");

pub(crate) async fn page(State(state): State<MockState>) -> Response {
    // The result files' URLs start with the mock's public origin, which may differ from the
    // page's (behind a proxy): the player may load them from there.
    let origin = state.origin();
    let media = match assets::origin_source(&origin) {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    assets::page(html(), &assets::csp(&[("media-src", &media)]))
}

/// The page with its settings, made once: they come from the spec and the mock's constants.
pub(super) fn html() -> &'static str {
    static HTML_WITH_CONFIG: OnceLock<String> = OnceLock::new();
    HTML_WITH_CONFIG.get_or_init(|| assets::with_config(HTML, &config()))
}

/// What the script reads rather than repeating it: where the admin API and the dashboard are;
/// from the spec, where the operations are, the `conversionType` it polls Cover's conversions
/// with, the largest page of voices, which statuses are final, the pitch's bounds, the examples
/// its fields show as hints; from the domain, the outcomes a task may be asked to end with and
/// the webhook delivery state that is not yet final.
pub(crate) fn config() -> Value {
    let Ok(spec) = crate::spec::spec() else {
        return json!({});
    };
    // The slots the spec's compiler found for the names the mock reads.
    let example = |rules: Option<&[Rule]>, slot: Option<usize>| rules?.get(slot?)?.example.clone();
    let form = spec.cover.form.as_ref().map(|f| f.fields.as_slice());
    let (fields, search) = (spec.cover_fields, spec.search_voices_params);
    json!({
        "admin_path": ADMIN_PATH,
        "dashboard_path": dashboard::PATH,
        "api_base": spec.base_path,
        "paths": {
            "cover": spec.cover.path,
            "by_id": spec.by_id.path,
            "all_voices": spec.all_voices.path,
            "search_voices": spec.search_voices.path,
        },
        "conversion_type": spec.cover_conversion_type,
        // The voice list to pick from is getAllVoices' largest page.
        "voice_list_limit": (spec.all_voices.query)
            .get(spec.all_voices_params.limit)
            .and_then(|r| r.maximum),
        "final_statuses": spec.final_statuses,
        "completed_status": Status::Completed.as_str(),
        // What `Prefer: outcome=` takes (any case; the menu shows them in lower case).
        "outcomes": Outcome::ALL.map(|o| o.status().as_str().to_ascii_lowercase()),
        // A delivery in any other state is final (DeliveryState::is_final).
        "delivery_pending": DeliveryState::Pending,
        "pitch": {
            "min": spec.pitch.start(),
            "max": spec.pitch.end(),
            "default": spec.pitch_default,
        },
        "examples": {
            "audio_url": example(form, Some(fields.audio_url)),
            "webhook_url": example(form, Some(fields.webhook_url)),
            "query": example(Some(&spec.search_voices.query), search.query),
        },
    })
}
