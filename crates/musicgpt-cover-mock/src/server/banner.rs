//! What the binary prints at start-up, and the address it listens on by default: both read from
//! the spec and the state.

use std::net::{Ipv4Addr, SocketAddr};

use crate::domain::{FILES_PATH, MockState, ResultFile};
use crate::http::{ADMIN_PATH, DASHBOARD_PATH};
use crate::spec::FormSpec;

/// Where the spec says the local mock listens (`127.0.0.1:4010`). A spec that does not compile
/// gives loopback with any free port, never used: the server then refuses to start with the
/// spec's error.
pub fn default_addr() -> SocketAddr {
    crate::spec::spec()
        .ok()
        .and_then(|s| {
            s.default_origin
                .strip_prefix("http://")
                .and_then(|a| a.parse().ok())
        })
        .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}

/// The lines the binary prints at start-up: what it serves, where.
pub fn describe(state: &MockState, origin: &str) -> String {
    let Ok(spec) = crate::spec::spec() else {
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
    // The pages first: what a person starting the mock by hand opens next.
    out.push_str(&format!(
        "  Explorer      {origin}/  (try the API in a browser)\n"
    ));
    let token_note = if state.admin_token().is_some() {
        "; it asks for the admin token below"
    } else {
        ""
    };
    out.push_str(&format!(
        "  Dashboard     {origin}{DASHBOARD_PATH}  (the journal, tasks, clock, credits and faults, live{token_note})\n"
    ));
    out.push_str(&format!(
        "  API docs      {origin}/docs  (the spec: {origin}/openapi.yaml, .json)\n"
    ));
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
    let exts: Vec<&str> = ResultFile::ALL.iter().map(|f| f.ext()).collect();
    out.push_str(&format!(
        "  Result files  {origin}{FILES_PATH}/{{conversion_id}}.{}\n",
        exts.join(" and .")
    ));
    let bearer = (state.admin_token())
        .map(|token| format!(" (send Authorization: Bearer {token})"))
        .unwrap_or_default();
    out.push_str(&format!("  Admin API     {origin}{ADMIN_PATH}{bearer}\n"));
    if config.mock.api_keys.is_empty() {
        out.push_str(&format!(
            "Keys: any non-empty Authorization value without a `Bearer ` prefix, {} credits each\n",
            state.default_credits()
        ));
    } else {
        out.push_str(&format!(
            "Keys: only {} (--api-key)\n",
            config
                .mock
                .api_keys
                .iter()
                .map(|k| k.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match (config.mock.seed, state.clock_frozen()) {
        (Some(seed), true) => out.push_str(&format!(
            "Clock: frozen at {} (seed {seed}); tasks finish after eta x {} once it is advanced: POST {origin}{ADMIN_PATH}/clock/advance\n",
            state.now(),
            config.mock.time_scale
        )),
        (_, true) => out.push_str(&format!(
            "Clock: frozen; advance it with POST {origin}{ADMIN_PATH}/clock/advance\n"
        )),
        (seed, false) => out.push_str(&format!(
            "Clock: real time{}; a task finishes eta x {} seconds after it is accepted\n",
            seed.map(|s| format!(" (seed {s})")).unwrap_or_default(),
            config.mock.time_scale
        )),
    }
    if let (Some((loaded, skipped)), Some(dir)) = (state.replay_summary(), &config.mock.replay) {
        out.push_str(&format!(
            "Replay: {} of the {loaded} recorded exchanges in {} answer the requests that match them (docs/record-replay.md)\n",
            loaded - skipped.len(),
            dir.display()
        ));
        for why in &skipped {
            out.push_str(&format!("  left out: {why}\n"));
        }
    }
    if config.mock.webhook_allow.is_empty() {
        out.push_str("Webhooks: to loopback hosts only (127.0.0.0/8, ::1, localhost)\n");
    } else {
        out.push_str(&format!(
            "Webhooks: to loopback hosts and {}\n",
            config.mock.webhook_allow.join(", ")
        ));
    }
    // A mock that fails on purpose says so, lest a forgotten MUSICGPT_MOCK_FAIL_RATES puzzle.
    let faults = state.faults();
    if faults.latency.is_some() || !faults.fail_rates.is_empty() {
        let mut parts = Vec::new();
        if let Some(latency) = faults.latency {
            parts.push(format!("latency {latency}"));
        }
        if !faults.fail_rates.is_empty() {
            let rules: Vec<String> = faults.fail_rates.iter().map(ToString::to_string).collect();
            parts.push(format!("fail rates {}", rules.join(", ")));
        }
        out.push_str(&format!(
            "Faults: {}; change them at {origin}{ADMIN_PATH}/faults\n",
            parts.join("; ")
        ));
    }
    let key = config
        .mock
        .api_keys
        .first()
        .map_or("any-key", |k| k.key.as_str());
    // The form of the spec's examples (a voice and a song's URL).
    let fields: String = (spec.cover.form.as_ref())
        .and_then(FormSpec::example_form)
        .unwrap_or_default()
        .iter()
        .map(|(name, example)| format!(" -F {name}={example}"))
        .collect();
    out.push_str(&format!(
        "Try:\n  curl -X POST {origin}{}{} -H \"Authorization: {key}\"{fields}\n",
        spec.base_path, spec.cover.path
    ));
    out.push_str("Ctrl-C stops.");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MockConfig;

    /// The curl line sends the spec's example of each field a Cover needs, not ones written
    /// again here.
    #[tokio::test]
    async fn the_try_line_sends_the_spec_s_examples() {
        let state = MockState::new(MockConfig::new()).expect("a state");
        let banner = describe(&state, "http://127.0.0.1:1");
        let doc = crate::spec::document().expect("the spec").yaml();
        let fields = &doc["components"]["schemas"]["CoverRequest"]["properties"];
        let example = |name: &str| fields[name]["example"].as_str().expect("an example");
        let sent = format!(
            "-F voice_id={} -F audio_url={}\n",
            example("voice_id"),
            example("audio_url")
        );
        assert!(banner.contains(&sent), "{banner}");
    }

    /// Every admin URL the banner names is a route of the admin API (its index lists it).
    #[tokio::test]
    async fn the_admin_urls_it_names_are_routes() {
        // A frozen clock and faults, so that their lines name their routes too.
        let config = MockConfig::new().seed(1).latency("10ms");
        let state = MockState::new(config).expect("a state");
        let banner = describe(&state, "http://127.0.0.1:1");
        let routes = crate::http::admin_paths();
        let named: Vec<&str> = banner
            .split_whitespace()
            .filter_map(|word| word.strip_prefix("http://127.0.0.1:1"))
            .filter(|path| path.starts_with(ADMIN_PATH))
            .collect();
        assert_eq!(named.len(), 4, "{banner}");
        for path in named {
            assert!(
                routes.iter().any(|r| r == path),
                "{path} is no admin route: {routes:?}"
            );
        }
    }
}
