//! `/openapi.yaml` and `/openapi.json`: the spec the mock embeds, with this mock's own URL (its
//! origin and the API's base path) listed first in `servers`, so that a tool reading it (the
//! `/docs` page, an editor, a code generator) calls this mock unless told otherwise.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_norway::{Mapping, Value};

use super::assets::ALLOW_ANY_ORIGIN;
use crate::domain::MockState;
use crate::http::respond::error_json;
use crate::spec::OPENAPI_YAML;

/// What the added server says about itself.
const DESCRIPTION: &str =
    "This mock, where it runs now (added by the mock when it serves the spec)";

/// The embedded spec, parsed once, as YAML data (for what the pages read from it).
pub(crate) fn spec_value() -> &'static Value {
    static VALUE: OnceLock<Value> = OnceLock::new();
    VALUE.get_or_init(|| serde_norway::from_str(OPENAPI_YAML).unwrap_or(Value::Null))
}

/// This mock's URL: the origin of its result files (where it listens, or `--public-url`) and
/// the spec's base path.
fn own_url(state: &MockState) -> String {
    let base = crate::spec::spec()
        .map(|s| s.base_path.as_str())
        .unwrap_or_default();
    format!("{}{base}", state.origin())
}

pub(crate) async fn yaml(State(state): State<MockState>) -> Response {
    let text = with_server(OPENAPI_YAML, &own_url(&state));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/yaml"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ALLOW_ANY_ORIGIN,
        ],
        text,
    )
        .into_response()
}

pub(crate) async fn json(State(state): State<MockState>) -> Response {
    let text = with_server(OPENAPI_YAML, &own_url(&state));
    // The YAML mapping keeps the spec's order of keys (a serde_json map would sort them, and a
    // renderer shows properties in the order it gets them).
    let converted = serde_norway::from_str::<Value>(&text)
        .map_err(|e| e.to_string())
        .and_then(|value| serde_json::to_vec_pretty(&value).map_err(|e| e.to_string()));
    match converted {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                ALLOW_ANY_ORIGIN,
            ],
            body,
        )
            .into_response(),
        Err(e) => error_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the spec does not convert to JSON: {e}"),
        ),
    }
}

/// `yaml` with a first server `url`, and any other server of that URL left out. Written into the
/// text, so that the comments and layout of the file people edit survive; when the text is not
/// laid out as expected (a `servers:` block of `- url:` items), the parsed spec is changed and
/// written out again instead. Either way the result is checked by parsing it.
pub(crate) fn with_server(yaml: &str, url: &str) -> String {
    if let Some(text) = edit_text(yaml, url)
        && first_server(&text).as_deref() == Some(url)
    {
        return text;
    }
    let Ok(mut value) = serde_norway::from_str::<Value>(yaml) else {
        return yaml.to_owned();
    };
    if let Some(root) = value.as_mapping_mut() {
        let mut servers: Vec<Value> = root
            .get("servers")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        servers.retain(|s| s.get("url").and_then(Value::as_str) != Some(url));
        let mut ours = Mapping::new();
        ours.insert("url".into(), url.into());
        ours.insert("description".into(), DESCRIPTION.into());
        servers.insert(0, Value::Mapping(ours));
        root.insert("servers".into(), Value::Sequence(servers));
    }
    serde_norway::to_string(&value).unwrap_or_else(|_| yaml.to_owned())
}

fn first_server(yaml: &str) -> Option<String> {
    let value: Value = serde_norway::from_str(yaml).ok()?;
    value["servers"][0]["url"].as_str().map(str::to_owned)
}

/// The text edit of [`with_server`]: a new first item in the top-level `servers:` block, items
/// with the same URL taken out. `None` when there is no such block.
fn edit_text(yaml: &str, url: &str) -> Option<String> {
    let lines: Vec<&str> = yaml.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == "servers:" || l.starts_with("servers: #"))?;
    // The block: the lines after `servers:` up to the next top-level key.
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let first = l.chars().next().unwrap_or('\n');
            !(first == ' ' || first == '-' || first == '#' || first == '\n' || first == '\r')
        })
        .map_or(lines.len(), |n| start + 1 + n);
    let block = &lines[start + 1..end];
    let indent = block.iter().find_map(|l| {
        l.trim_start()
            .starts_with("- ")
            .then(|| l.len() - l.trim_start().len())
    })?;
    let dash = format!("{}- ", " ".repeat(indent));
    // Split into items, each from its `- ` line to the next.
    let mut head: Vec<&str> = Vec::new();
    let mut items: Vec<Vec<&str>> = Vec::new();
    for line in block {
        if line.starts_with(&dash) {
            items.push(vec![line]);
        } else if let Some(item) = items.last_mut() {
            item.push(line);
        } else {
            head.push(line);
        }
    }
    let same_url = |item: &Vec<&str>| {
        item.iter().any(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim();
            l.strip_prefix("url:")
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\''))
                == Some(url)
        })
    };
    // A JSON string is a YAML double-quoted scalar.
    let quoted = serde_json::to_string(url).ok()?;
    let pad = " ".repeat(indent);
    let mut out = String::with_capacity(yaml.len() + 200);
    lines[..=start].iter().for_each(|l| out.push_str(l));
    head.iter().for_each(|l| out.push_str(l));
    out.push_str(&format!(
        "{pad}- url: {quoted}\n{pad}  description: {DESCRIPTION}\n"
    ));
    for item in items.iter().filter(|item| !same_url(item)) {
        item.iter().for_each(|l| out.push_str(l));
    }
    lines[end..].iter().for_each(|l| out.push_str(l));
    Some(out)
}
