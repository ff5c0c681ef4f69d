//! Unit tests of the pages: what they link to exists, what they name is in the spec, the served
//! spec lists this mock first, and the answers carry their headers. The pages in a browser are
//! the contract suite's `browser_pages` test.

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

use super::assets::{ASSETS, csp};
use super::openapi::with_server;
use crate::config::MockConfig;
use crate::domain::MockState;
use crate::domain::tasks::{Outcome, Status};
use crate::domain::webhooks::DeliveryState;
use crate::http::ADMIN_PATH;
use crate::spec::OPENAPI_YAML;
use crate::spec::document::{document, resolve};

const HTML: [(&str, &str); 3] = [
    ("explorer.html", include_str!("assets/explorer.html")),
    ("dashboard.html", include_str!("assets/dashboard.html")),
    ("docs.html", include_str!("assets/docs.html")),
];
const EXPLORER_JS: &str = include_str!("assets/explorer.js");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");
const COMMON_JS: &str = include_str!("assets/common.js");

/// The values of `attr="..."` in `html`.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.split_once('"').map(|(value, _)| value)
        })
        .collect()
}

/// The start tag of the element with `id` in `html`.
fn start_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!(" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let start = html[..at].rfind('<').expect("a tag");
    let end = at + html[at..].find('>').expect("a tag's end");
    &html[start..=end]
}

#[test]
fn the_explorer_reads_its_settings_from_the_spec() {
    let config = super::explorer::config();
    assert_eq!(config["api_base"], "/api/public");
    assert_eq!(config["paths"]["cover"], "/v1/Cover");
    assert_eq!(config["final_statuses"][0], "COMPLETED");
    assert_eq!(config["completed_status"], "COMPLETED");
    assert_eq!(config["pitch"]["min"], -12);
    assert_eq!(config["pitch"]["max"], 12);
    // byId is polled with the spec's conversion type, not one written again in the script.
    let spec = crate::spec::spec().expect("the spec");
    assert_eq!(
        config["conversion_type"],
        spec.cover_conversion_type.as_str()
    );
    assert!(EXPLORER_JS.contains("conversionType: config.conversion_type"));
    assert!(
        !EXPLORER_JS.contains(&format!("'{}'", spec.cover_conversion_type)),
        "explorer.js writes the conversion type again"
    );
    // A search's page is the spec's default size: limit is left out, not written again.
    let limit = (spec.search_voices.query.iter())
        .find(|r| r.name == "limit")
        .and_then(|r| r.default)
        .expect("searchVoices' limit has a default");
    assert!(
        !EXPLORER_JS.contains(&format!("limit: {limit}")),
        "explorer.js writes the spec's default limit again"
    );
    // The list to pick a voice from is getAllVoices' largest page, from the spec's bounds.
    let most = (spec.all_voices.query.iter())
        .find(|r| r.name == "limit")
        .and_then(|r| r.maximum)
        .expect("getAllVoices' limit has a maximum");
    assert_eq!(config["voice_list_limit"], most);
    for (at, _) in EXPLORER_JS.match_indices("limit: ") {
        assert!(
            !EXPLORER_JS[at + "limit: ".len()..].starts_with(|c: char| c.is_ascii_digit()),
            "explorer.js writes a limit of its own"
        );
    }
    // The fields' hints are the spec's examples, passed in the config, not written in the page.
    let doc = document().expect("the spec").yaml();
    let cover = &doc["components"]["schemas"]["CoverRequest"]["properties"];
    let query = (doc["paths"]["/v1/searchVoices"]["get"]["parameters"].as_sequence())
        .into_iter()
        .flatten()
        .find(|p| p["name"].as_str() == Some("query"))
        .expect("searchVoices' query");
    for (name, example) in [
        ("audio_url", cover["audio_url"]["example"].as_str()),
        ("webhook_url", cover["webhook_url"]["example"].as_str()),
        ("query", query["schema"]["example"].as_str()),
    ] {
        let example = example.expect("an example");
        assert_eq!(config["examples"][name], example);
        for (file, text) in [("explorer.html", HTML[0].1), ("explorer.js", EXPLORER_JS)] {
            assert!(
                !text.contains(example),
                "{file} writes {name}'s example again"
            );
        }
    }
    // Nor what the script sets from the config: the hints, the pitch's value and its words.
    for (id, attr) in [
        ("audio-url", "placeholder"),
        ("webhook-url", "placeholder"),
        ("pitch", "value"),
        ("pitch", "min"),
        ("pitch", "max"),
    ] {
        let tag = start_tag(HTML[0].1, id);
        assert!(
            !tag.contains(&format!(" {attr}=")),
            "explorer.html writes the {attr} of #{id}: {tag}"
        );
    }
    assert!(
        HTML[0]
            .1
            .contains(r#"<output id="pitch-value" for="pitch"></output>"#)
    );
    // The page's lead names the operation it sends.
    let lead = format!("<code>{} {}</code>", spec.cover.method, spec.cover.path);
    assert!(
        HTML[0].1.contains(&lead),
        "explorer.html does not name {lead}"
    );
    let html = super::explorer::html();
    assert!(!html.contains("{{CONFIG}}"));
    assert!(html.contains(r#""api_base":"/api/public""#), "{html}");
}

#[test]
fn the_dashboard_reads_the_final_statuses_from_the_spec() {
    let config = super::dashboard::config();
    let spec = crate::spec::spec().expect("the spec");
    assert_eq!(
        config["final_statuses"],
        serde_json::json!(spec.final_statuses)
    );
    assert_eq!(
        config["final_statuses"],
        super::explorer::config()["final_statuses"]
    );
    assert_eq!(
        config["completed_status"],
        super::explorer::config()["completed_status"]
    );
    assert!(!spec.final_statuses.is_empty());
}

/// The scripts name no status as a string of their own: they read the spec's through their
/// config, so a status renamed in the spec cannot leave a page comparing against the old name.
#[test]
fn the_scripts_write_no_status_of_their_own() {
    let spec = crate::spec::spec().expect("the spec");
    assert!(!spec.known_statuses.is_empty());
    for (file, text) in [("explorer.js", EXPLORER_JS), ("dashboard.js", DASHBOARD_JS)] {
        for status in &spec.known_statuses {
            for quoted in [
                format!("'{status}'"),
                format!("\"{status}\""),
                format!("{status}:"),
            ] {
                assert!(
                    !text.contains(&quoted),
                    "{file} writes {quoted}: read it from the page's config"
                );
            }
        }
    }
}

/// Every webhook delivery state: a new one fails to compile here until it is listed.
fn delivery_states() -> [DeliveryState; 5] {
    use DeliveryState as D;
    let all = [D::Pending, D::Delivered, D::Failed, D::Refused, D::Dropped];
    for state in all {
        match state {
            D::Pending | D::Delivered | D::Failed | D::Refused | D::Dropped => {}
        }
    }
    all
}

/// The Explorer stops watching a webhook delivery where the domain says nothing more will happen
/// to it: in every state but the one its config names pending, none written in the script.
#[test]
fn the_explorer_stops_watching_a_delivery_where_the_domain_does() {
    let pending = &super::explorer::config()["delivery_pending"];
    for state in delivery_states() {
        let name = serde_json::json!(state);
        assert_eq!(state.is_final(), name != *pending, "{state:?}");
        for quoted in [
            format!("'{}'", name.as_str().expect("a name")),
            name.to_string(),
        ] {
            assert!(
                !EXPLORER_JS.contains(&quoted),
                "explorer.js writes {quoted}: read it from the page's config"
            );
        }
    }
}

/// The Explorer's Outcome menu offers every outcome, from the domain's list rather than options
/// written in the page, and asks for it as the mock reads it: its `Prefer` header, with each
/// outcome the menu offers, is parsed by the Cover route's reader to that outcome.
#[test]
fn the_explorer_offers_the_outcomes_as_the_mock_reads_them() {
    use super::super::prefer::{PREFER, Prefer};
    let (_, rest) = (EXPLORER_JS.lines())
        .find(|line| line.contains("outcomeInput.value"))
        .and_then(|line| line.split_once("headers.push(["))
        .expect("the header explorer.js sends the Outcome menu's choice in");
    let (name, rest) = literal(rest).expect("a header name");
    let (value, _) = literal(rest.trim_start_matches([',', ' '])).expect("a header value");
    assert_eq!(
        name.to_ascii_lowercase(),
        PREFER.as_str(),
        "{name}: {value}"
    );
    assert!(
        !HTML[0].1.contains("<option"),
        "explorer.html writes options of its own"
    );
    let config = super::explorer::config();
    let outcomes = config["outcomes"].as_array().expect("the outcomes");
    assert_eq!(outcomes.len(), Outcome::ALL.len());
    for (offered, outcome) in outcomes.iter().zip(Outcome::ALL) {
        let sent = value.replace("{}", offered.as_str().expect("a name"));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(PREFER, sent.parse().expect("a header value"));
        let asked = Prefer::parse(&headers).outcome;
        assert_eq!(
            asked.as_deref().and_then(Outcome::parse),
            Some(outcome),
            "{name}: {sent}"
        );
    }
}

/// The badges' colours in pages.css are for names there are: each `s-NAME` class is a task
/// status of the spec or a webhook delivery state, and every status the mock shows has one.
#[test]
fn the_badges_are_styled_by_the_names_there_are() {
    let css = include_str!("assets/pages.css");
    let spec = crate::spec::spec().expect("the spec");
    let states: Vec<String> = (delivery_states().iter())
        .filter_map(|state| serde_json::json!(state).as_str().map(str::to_owned))
        .collect();
    let styled: Vec<&str> = (css.split(".badge.s-").skip(1))
        .filter_map(|rest| rest.split([',', ' ', '{']).next())
        .collect();
    for name in &styled {
        assert!(
            spec.known_statuses.iter().chain(&states).any(|n| n == name),
            "pages.css styles s-{name}, which is no status nor delivery state"
        );
    }
    for status in Status::SHOWN.map(Status::as_str) {
        assert!(styled.contains(&status), "pages.css has no s-{status}");
    }
}

/// The names explorer.js sends are the spec's: a rename in the spec must fail here rather than
/// leave the page sending a field nobody reads.
#[test]
fn the_names_the_explorer_sends_are_in_the_spec() {
    let doc = document().expect("the spec").yaml();
    let cover = &doc["components"]["schemas"]["CoverRequest"]["properties"];
    for field in [
        "voice_id",
        "audio_url",
        "audio_file",
        "pitch",
        "webhook_url",
    ] {
        assert!(
            cover.get(field).is_some(),
            "the spec's CoverRequest has no {field}"
        );
        assert!(
            EXPLORER_JS.contains(&format!("name: '{field}'")),
            "explorer.js does not send {field}"
        );
    }
    let params = |path: &str| -> Vec<String> {
        let op = &doc["paths"][path]["get"];
        op["parameters"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|p| resolve(doc, p)?.get("name")?.as_str().map(str::to_owned))
            .collect()
    };
    for (path, names) in [
        ("/v1/byId", &["conversionType", "task_id"][..]),
        ("/v1/searchVoices", &["query"]),
        ("/v1/getAllVoices", &["limit"]),
    ] {
        let documented = params(path);
        for name in names {
            assert!(
                documented.iter().any(|d| d == name),
                "{path} documents no {name}: {documented:?}"
            );
            assert!(
                EXPLORER_JS.contains(&format!("{name}:"))
                    || EXPLORER_JS.contains(&format!("{name} ")),
                "explorer.js does not send {name}"
            );
        }
    }
}

#[test]
fn the_served_spec_lists_this_mock_first_and_keeps_the_rest() {
    let url = "http://127.0.0.1:5555/api/public";
    let served = with_server(OPENAPI_YAML, url);
    let value: serde_norway::Value = serde_norway::from_str(&served).expect("still YAML");
    let servers = value["servers"].as_sequence().expect("servers");
    assert_eq!(servers[0]["url"].as_str(), Some(url));
    let original: serde_norway::Value = serde_norway::from_str(OPENAPI_YAML).expect("the spec");
    let before = original["servers"].as_sequence().expect("servers");
    assert_eq!(
        &servers[1..],
        &before[..],
        "the spec's own servers follow, unchanged"
    );
    // Written into the text: the comments and everything else are as in the file.
    assert_eq!(served.lines().count(), OPENAPI_YAML.lines().count() + 2);
    let mut rest = value.clone();
    let mut orig = original.clone();
    rest.as_mapping_mut().expect("a map").remove("servers");
    orig.as_mapping_mut().expect("a map").remove("servers");
    assert_eq!(rest, orig);
}

#[test]
fn a_server_the_spec_already_lists_moves_first_rather_than_twice() {
    let original: serde_norway::Value = serde_norway::from_str(OPENAPI_YAML).expect("the spec");
    let before = original["servers"].as_sequence().expect("servers");
    let last = before.last().expect("a server")["url"]
        .as_str()
        .expect("a url");
    let served = with_server(OPENAPI_YAML, last);
    let value: serde_norway::Value = serde_norway::from_str(&served).expect("still YAML");
    let urls: Vec<&str> = value["servers"]
        .as_sequence()
        .expect("servers")
        .iter()
        .filter_map(|s| s["url"].as_str())
        .collect();
    assert_eq!(urls.len(), before.len());
    assert_eq!(urls[0], last);
    assert_eq!(urls.iter().filter(|u| **u == last).count(), 1);
}

#[test]
fn a_spec_laid_out_otherwise_is_rewritten_from_its_data() {
    for yaml in [
        "openapi: 3.0.3\nservers: [{url: 'http://a'}]\npaths: {}\n",
        "openapi: 3.0.3\npaths: {}\n",
        "openapi: 3.0.3\nservers:\n- url: http://a\n  description: flush\npaths: {}\n",
    ] {
        let served = with_server(yaml, "http://127.0.0.1:1/api");
        let value: serde_norway::Value = serde_norway::from_str(&served).expect("YAML");
        assert_eq!(
            value["servers"][0]["url"].as_str(),
            Some("http://127.0.0.1:1/api"),
            "{yaml} became {served}"
        );
        assert!(value.get("paths").is_some(), "{served}");
    }
}

#[test]
fn a_policy_names_each_directive_once() {
    let policy = csp(&[
        ("style-src", "'self' 'unsafe-inline'"),
        ("media-src", "'self'"),
    ]);
    assert_eq!(policy.matches("style-src").count(), 1, "{policy}");
    assert!(
        policy.contains("style-src 'self' 'unsafe-inline'"),
        "{policy}"
    );
    assert!(policy.contains("media-src 'self'"), "{policy}");
    assert!(policy.contains("default-src 'none'"), "{policy}");
}

async fn get(
    state: &MockState,
    method: Method,
    path: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    send(state, method, path, None).await
}

/// `method path` with `json` as its body, if any.
async fn send(
    state: &MockState,
    method: Method,
    path: &str,
    json: Option<serde_json::Value>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::builder().method(method).uri(path);
    let request = match json {
        Some(json) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_string())),
        None => request.body(Body::empty()),
    };
    let response = crate::http::router(state.clone())
        .oneshot(request.expect("a request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, headers, body.to_vec())
}

#[tokio::test]
async fn the_pages_answer_with_their_headers_and_stay_out_of_the_journal() {
    let state =
        MockState::new(MockConfig::new().admin_token("a-token-of-sixteen-chars")).expect("a state");
    for path in [
        super::explorer::PATH,
        super::dashboard::PATH,
        super::docs::PATH,
    ] {
        let (status, headers, body) = get(&state, Method::GET, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let policy = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("text");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(String::from_utf8_lossy(&body).starts_with("<!doctype html>"));
    }
    for asset in ASSETS {
        let (status, headers, body) =
            get(&state, Method::GET, &format!("/assets/{}", asset.path)).await;
        assert_eq!(status, StatusCode::OK, "{}", asset.path);
        assert_eq!(headers[header::CONTENT_TYPE], asset.content_type);
        assert_eq!(body.len(), asset.bytes.len());
    }
    let (status, _, _) = get(&state, Method::GET, "/assets/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, body) = get(&state, Method::POST, "/").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::ALLOW], "GET, HEAD");
    assert!(String::from_utf8_lossy(&body).contains("does not take POST"));
    assert!(state.journal().is_empty(), "{:?}", state.journal());
    // The admin API itself still wants the token the page asks for.
    let (status, _, _) = get(&state, Method::GET, &format!("{ADMIN_PATH}/journal")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_spec_is_served_as_yaml_and_json_with_this_mock_first() {
    let state = MockState::new(MockConfig::new()).expect("a state");
    let own = format!("{}/api/public", state.origin());
    let (status, headers, yaml) = get(&state, Method::GET, "/openapi.yaml").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/yaml");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let yaml: serde_norway::Value = serde_norway::from_slice(&yaml).expect("YAML");
    assert_eq!(yaml["servers"][0]["url"].as_str(), Some(own.as_str()));
    let (status, headers, json) = get(&state, Method::GET, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    assert_eq!(json["servers"][0]["url"], own.as_str());
    assert_eq!(json["paths"].as_object().map(|p| p.len()), Some(4));
    // The spec's order of keys, not serde_json's sorted one.
    let text = String::from_utf8(get(&state, Method::GET, "/openapi.json").await.2).expect("UTF-8");
    assert!(text.find("\"openapi\"") < text.find("\"components\""));
}

/// The admin API's index names the dashboard, by the path the page is served at: whoever finds
/// `/__admin` (the banner prints it) finds the page that drives it.
#[tokio::test]
async fn the_admin_index_names_the_dashboard() {
    let state = MockState::new(MockConfig::new()).expect("a state");
    let (status, _, body) = get(&state, Method::GET, ADMIN_PATH).await;
    assert_eq!(status, StatusCode::OK);
    let index: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let page = index["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["path"] == super::DASHBOARD_PATH)
        .unwrap_or_else(|| panic!("the index does not name {}: {index}", super::DASHBOARD_PATH));
    assert_eq!(page["method"], "GET");
    assert!(
        page["what"]
            .as_str()
            .is_some_and(|w| w.contains("dashboard")),
        "{page}"
    );
    let (status, headers, _) = get(&state, Method::GET, super::DASHBOARD_PATH).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(super::DASHBOARD_PATH, "/__admin/ui");
}

/// The string literal `js` starts with, `'...'` or a template, each `${...}` of a template as
/// `{}`; and what follows it.
fn literal(js: &str) -> Option<(String, &str)> {
    if let Some(rest) = js.strip_prefix('\'') {
        let (text, after) = rest.split_once('\'')?;
        return Some((text.to_owned(), after));
    }
    let mut rest = js.strip_prefix('`')?;
    let mut text = String::new();
    loop {
        let stop = rest.find(['`', '$'])?;
        text.push_str(&rest[..stop]);
        let tail = &rest[stop..];
        if let Some(after) = tail.strip_prefix('`') {
            return Some((text, after));
        }
        if tail.starts_with("${") {
            let mut depth = 0;
            let end = tail.char_indices().find_map(|(i, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                (c == '}' && depth == 0).then_some(i)
            })?;
            text.push_str("{}");
            rest = &tail[end + 1..];
        } else {
            text.push('$');
            rest = &tail[1..];
        }
    }
}

/// The admin API calls `js` makes, as (method, path under the prefix, query left off): each
/// `admin(PATH` (a GET) and `adminSend('METHOD', PATH`. A path not written at the call could not
/// be checked, so it fails the test.
fn admin_calls(file: &str, js: &str) -> Vec<(String, String)> {
    let mut calls = Vec::new();
    for (name, sends) in [("admin(", false), ("adminSend(", true)] {
        for (at, _) in js.match_indices(name) {
            let before = js[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let call = &js[at..js.len().min(at + 80)];
            let mut rest = &js[at + name.len()..];
            let method = if sends {
                let (method, after) =
                    literal(rest).unwrap_or_else(|| panic!("{file}: {call}: no method"));
                rest = after.trim_start().strip_prefix(',').unwrap_or(after);
                method
            } else {
                "GET".to_owned()
            };
            let (path, _) = literal(rest.trim_start())
                .unwrap_or_else(|| panic!("{file}: {call}: write the path at the call"));
            let path = path.split_once('?').map_or(path.as_str(), |(p, _)| p);
            calls.push((method, path.to_owned()));
        }
    }
    calls
}

/// Every admin call the scripts make is a route of the admin API, by method and path (a
/// template's `${...}` standing for a route's `{id}`-style segment), read from the index the
/// admin route table makes; the prefix and the dashboard's path come from the pages' config, so
/// no script writes them.
#[tokio::test]
async fn the_scripts_call_the_admin_routes_there_are() {
    let state = MockState::new(MockConfig::new()).expect("a state");
    let (status, _, body) = get(&state, Method::GET, ADMIN_PATH).await;
    assert_eq!(status, StatusCode::OK);
    let index: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let routes: Vec<(&str, &str)> = (index["routes"].as_array().into_iter().flatten())
        .filter_map(|r| Some((r["method"].as_str()?, r["path"].as_str()?)))
        .map(|(method, path)| (method, path.split_once('?').map_or(path, |(p, _)| p)))
        .collect();
    let same = |call: &str, route: &str| {
        let (call, route): (Vec<_>, Vec<_>) =
            (call.split('/').collect(), route.split('/').collect());
        call.len() == route.len()
            && (call.iter().zip(&route))
                .all(|(c, r)| c == r || (*c == "{}" && r.starts_with('{') && r.ends_with('}')))
    };
    for (file, js) in [("explorer.js", EXPLORER_JS), ("dashboard.js", DASHBOARD_JS)] {
        let calls = admin_calls(file, js);
        assert!(!calls.is_empty(), "{file} calls no admin route");
        for (method, path) in calls {
            let path = format!("{ADMIN_PATH}{path}");
            assert!(
                (routes.iter()).any(|(m, r)| *m == method && same(&path, r)),
                "{file} calls {method} {path}, which is no admin route: {routes:?}"
            );
        }
    }
    for config in [super::explorer::config(), super::dashboard::config()] {
        assert_eq!(config["admin_path"], ADMIN_PATH);
    }
    assert_eq!(
        super::explorer::config()["dashboard_path"],
        super::dashboard::PATH
    );
    for (file, js) in [
        ("common.js", COMMON_JS),
        ("explorer.js", EXPLORER_JS),
        ("dashboard.js", DASHBOARD_JS),
    ] {
        assert!(
            !js.contains(ADMIN_PATH),
            "{file} writes {ADMIN_PATH}: read it from the page's config"
        );
    }
}

/// Everything a page links to or loads is served by this mock (the assets embedded, the dashboard
/// at its PATH, which each page links to), and nothing comes from another host; so is the spec
/// the API reference's script loads.
#[tokio::test]
async fn everything_a_page_links_to_is_served_here() {
    let state = MockState::new(MockConfig::new()).expect("a state");
    let docs_js = include_str!("assets/docs.js");
    let (_, rest) = docs_js.split_once("url: ").expect("docs.js's url");
    let (spec, _) = literal(rest).expect("a quoted url");
    let (status, _, _) = get(&state, Method::GET, &spec).await;
    assert_eq!(status, StatusCode::OK, "docs.js loads {spec}");
    for (page, html) in HTML {
        let links = attributes(html, "href");
        assert!(
            links.contains(&super::dashboard::PATH),
            "{page} does not link to the dashboard at {}",
            super::dashboard::PATH
        );
        for url in links.into_iter().chain(attributes(html, "src")) {
            if url.starts_with('/') {
                let (status, _, _) = get(&state, Method::GET, url).await;
                assert_eq!(status, StatusCode::OK, "{page} links to {url}");
            } else {
                // Nothing from another host: only this mock's own paths and the empty icon.
                assert!(url == "data:," || url == "#", "{page} links to {url}");
            }
        }
    }
}

/// The dashboard's examples of faults (its fields' placeholders, its hint's latencies) are taken
/// by the admin API as the page sends them, and its words count the spec's operations.
#[tokio::test]
async fn the_dashboards_fault_examples_are_the_mocks() {
    let html = HTML[1].1;
    let placeholder = |id| {
        let tag = start_tag(html, id);
        attributes(tag, "placeholder")
            .first()
            .copied()
            .unwrap_or_else(|| panic!("#{id} has no placeholder: {tag}"))
    };
    let hint = (html.split_once("Latency: <code>").map(|(_, rest)| rest))
        .and_then(|rest| rest.split_once(';'))
        .map(|(line, _)| line)
        .expect("the hint's latencies");
    let mut latencies: Vec<&str> = (hint.split("<code>"))
        .filter_map(|code| code.split_once("</code>").map(|(c, _)| c))
        .collect();
    latencies.push(placeholder("fault-latency"));
    let state = MockState::new(MockConfig::new()).expect("a state");
    let faults = format!("{ADMIN_PATH}/faults");
    for latency in latencies {
        let body = serde_json::json!({ "latency": latency, "fail_rates": [] });
        let (status, _, answer) = send(&state, Method::PUT, &faults, Some(body)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "latency {latency}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    // As dashboard.js sends the failure rates: split at commas, each as {"spec": ...}.
    let rates = placeholder("fault-rates");
    let specs: Vec<serde_json::Value> = (rates.split(','))
        .map(|rate| serde_json::json!({ "spec": rate.trim() }))
        .collect();
    let body = serde_json::json!({ "latency": null, "fail_rates": specs });
    let (status, _, answer) = send(&state, Method::PUT, &faults, Some(body)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{rates}: {}",
        String::from_utf8_lossy(&answer)
    );
    let spec = crate::spec::spec().expect("the spec");
    let count = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight",
    ][spec.operations().len()];
    let words = format!("the API's {count} operations");
    assert!(html.contains(&words), "dashboard.html does not say {words}");
}

/// Every flag of the mock's the pages name (in a hint, an advice) is one: a renamed flag cannot
/// leave a page telling its reader to start the mock with one that is gone.
#[cfg(feature = "cli")]
#[test]
fn the_flags_the_pages_name_are_the_mocks() {
    use clap::Args;
    let command = MockConfig::augment_args(clap::Command::new("mock"));
    let flags: Vec<&str> = (command.get_arguments())
        .filter_map(|arg| arg.get_long())
        .collect();
    let mut named = 0;
    let scripts = [("explorer.js", EXPLORER_JS), ("dashboard.js", DASHBOARD_JS)];
    for (file, text) in HTML.into_iter().chain(scripts) {
        for (at, _) in text.match_indices("--") {
            let name: String = (text[at + 2..].chars())
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            // A rule of dashes, or curl's own flag in the command the Explorer writes.
            if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name == "form-string" {
                continue;
            }
            assert!(
                flags.contains(&name.as_str()),
                "{file} names --{name}, which is no flag of the mock: {flags:?}"
            );
            named += 1;
        }
    }
    assert!(named > 0, "no page names a flag");
}

/// The scenario form starts as the admin API's NewScenario does: Times at its default and its
/// least, and the script sends no default of its own (null, which the admin API takes); the value
/// field has none either, the chosen kind's example fills it.
#[tokio::test]
async fn the_scenario_form_starts_as_the_admin_api_does() {
    use crate::config::ANY_OPERATION;
    use crate::domain::faults::{FaultKind, NewScenario};
    let html = HTML[1].1;
    let times = start_tag(html, "scenario-times");
    let number = |attr: &str| -> f64 {
        let value = attributes(times, attr);
        value
            .first()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{times}: {attr}"))
    };
    let first = FaultKind::ALL.first().expect("a kind").example();
    let body = serde_json::json!({ "operation": ANY_OPERATION, "respond": first, "times": null });
    let state = MockState::new(MockConfig::new()).expect("a state");
    let scenarios = format!("{ADMIN_PATH}/scenarios");
    let (status, _, answer) = send(&state, Method::POST, &scenarios, Some(body.clone())).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let new: NewScenario = serde_json::from_value(body).expect("a scenario");
    assert_eq!(number("value"), f64::from(new.times), "{times}");
    let schema = serde_json::to_value(schemars::schema_for!(NewScenario)).expect("a schema");
    assert_eq!(
        Some(number("min")),
        schema["properties"]["times"]["minimum"].as_f64(),
        "{times}: {schema}"
    );
    assert!(
        !DASHBOARD_JS.contains("|| 1"),
        "dashboard.js writes a default times"
    );
    let value = start_tag(html, "scenario-value");
    assert!(!value.contains(" value="), "{value}");
}

/// The pages send the admin token as the admin API reads it: the header common.js writes, with a
/// token filled in, opens the admin API of a mock that requires that token.
#[tokio::test]
async fn the_pages_send_the_admin_token_as_the_admin_api_reads_it() {
    let token = "a-token-of-sixteen-chars";
    let (_, rest) = COMMON_JS
        .split_once("headers.Authorization = ")
        .expect("common.js sets Authorization");
    let (value, _) = literal(rest).expect("a quoted value");
    let state = MockState::new(MockConfig::new().admin_token(token)).expect("a state");
    let request = Request::builder()
        .uri(format!("{ADMIN_PATH}/journal"))
        .header(header::AUTHORIZATION, value.replace("{}", token))
        .body(Body::empty())
        .expect("a request");
    let response = (crate::http::router(state).oneshot(request).await).expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "Authorization: {value}");
}
