//! What every GET operation checks first: the key, then a `Prefer` replay, then the query
//! against the spec's parameters (text first: names and the spec's values must be UTF-8 once
//! percent-decoded).

use axum::http::HeaderMap;
use axum::response::Response;

use super::auth::request_key;
use super::form::urlencoded::decode;
use super::prefer::{Prefer, replay};
use super::respond::{auth_error, documented};
use crate::domain::MockState;
use crate::spec::{Operation, Param, parse_query};

/// What every GET operation does first: the key, then a `Prefer` replay, then the query
/// checked against the spec's parameters. `Err` is the answer to send instead (boxed: the
/// success path should not carry a `Response`'s size).
pub(crate) fn checked_query<'q>(
    state: &MockState,
    op: &Operation,
    headers: &HeaderMap,
    raw: Option<&'q str>,
) -> Result<Vec<Option<Param<'q>>>, Box<Response>> {
    if let Err(e) = request_key(headers).and_then(|k| state.authorize(k)) {
        return Err(Box::new(auth_error(op, e)));
    }
    if let Some(response) = replay(op, &Prefer::parse(headers)) {
        return Err(Box::new(response));
    }
    query_is_text(op, raw)
        .and_then(|()| parse_query(&op.query, raw))
        .map_err(|text| Box::new(documented(op, op.invalid_status, Some(&text))))
}

/// Whether the query is text: every name UTF-8 once percent-decoded, and every value of a
/// parameter the spec names. (The parameter rules read decoded text; a replacement character in
/// place of a bad byte would pass for a value the client never sent.)
fn query_is_text(op: &Operation, raw: Option<&str>) -> Result<(), String> {
    let Some(raw) = raw else {
        return Ok(());
    };
    for (number, pair) in raw.split('&').enumerate() {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Ok(name) = String::from_utf8(decode(name.as_bytes())) else {
            return Err(format!(
                "the name of query parameter {} is not valid UTF-8 once percent-decoded",
                number + 1
            ));
        };
        if op.query_index(&name).is_none() {
            continue;
        }
        if let Err(e) = std::str::from_utf8(&decode(value.as_bytes())) {
            return Err(format!(
                "query parameter {name} is not valid UTF-8 once percent-decoded: byte {} starts an invalid sequence; percent-encode the UTF-8 bytes of the text",
                e.valid_up_to()
            ));
        }
    }
    Ok(())
}
