//! `/openapi.yaml` and `/openapi.json`: the spec the mock embeds, with this mock's own URL (its
//! origin and the API's base path) listed first in `servers`, so that a tool reading it (the
//! `/docs` page, an editor, a code generator) calls this mock unless told otherwise.

use axum::body::Bytes;
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

/// The two documents of one server, rendered as it starts (when it knows its origin), then sent
/// as they are.
pub(crate) struct Documents {
    yaml: Bytes,
    json: Result<Bytes, String>,
}

impl Documents {
    /// The spec with this mock's URL (its origin, or `--public-url`, and the spec's base path)
    /// first in `servers`.
    pub(crate) fn render(state: &MockState) -> Documents {
        let url = format!("{}{}", state.origin(), state.spec().base_path);
        let yaml = Bytes::from(with_server(OPENAPI_YAML, &url));
        // Made from the parsed document rather than the text: the YAML mapping keeps the spec's
        // order of keys (a serde_json map would sort them, and a renderer shows properties in
        // the order it gets them).
        let json = crate::spec::document()
            .and_then(|document| {
                let mut value = document.yaml().clone();
                put_first(&mut value, &url);
                serde_json::to_vec_pretty(&value).map_err(|e| e.to_string())
            })
            .map(Bytes::from);
        Documents { yaml, json }
    }

    pub(crate) fn yaml(&self) -> Response {
        answer("application/yaml", self.yaml.clone())
    }

    pub(crate) fn json(&self) -> Response {
        match &self.json {
            Ok(body) => answer("application/json", body.clone()),
            Err(e) => error_json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the spec does not convert to JSON: {e}"),
            ),
        }
    }
}

fn answer(content_type: &'static str, body: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ALLOW_ANY_ORIGIN,
        ],
        body,
    )
        .into_response()
}

/// `yaml` with a first server `url`, and any other server of that URL left out. Written into the
/// text, so that the comments and layout of the file people edit survive; when the text is not
/// laid out as expected (a `servers:` block of `- url:` items, which reads back with `url`
/// first), the parsed spec is changed and written out again instead.
pub(crate) fn with_server(yaml: &str, url: &str) -> String {
    if let Some(text) = edit_text(yaml, url) {
        return text;
    }
    let Ok(mut value) = serde_norway::from_str::<Value>(yaml) else {
        return yaml.to_owned();
    };
    put_first(&mut value, url);
    serde_norway::to_string(&value).unwrap_or_else(|_| yaml.to_owned())
}

/// `url` made the first of the document's `servers`, and no longer any other.
fn put_first(value: &mut Value, url: &str) {
    let Some(root) = value.as_mapping_mut() else {
        return;
    };
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
    let mut servers = String::from("servers:\n");
    head.iter().for_each(|l| servers.push_str(l));
    servers.push_str(&format!(
        "{pad}- url: {quoted}\n{pad}  description: {DESCRIPTION}\n"
    ));
    for item in items.iter().filter(|item| !same_url(item)) {
        item.iter().for_each(|l| servers.push_str(l));
    }
    // Only the block changes, so it is the block that is read back (a parse of the whole
    // document per server cost more than the rest of its start).
    let read: Value = serde_norway::from_str(&servers).ok()?;
    if read["servers"][0]["url"].as_str() != Some(url) {
        return None;
    }
    let mut out = String::with_capacity(yaml.len() + 200);
    lines[..start].iter().for_each(|l| out.push_str(l));
    out.push_str(lines[start]);
    out.push_str(&servers["servers:\n".len()..]);
    lines[end..].iter().for_each(|l| out.push_str(l));
    Some(out)
}
