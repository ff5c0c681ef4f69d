//! What every GET operation checks first: the key, then a `Prefer` replay, then the query
//! against the spec's parameters.

use axum::http::HeaderMap;
use axum::response::Response;

use super::auth::request_key;
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
    parse_query(&op.query, raw)
        .map_err(|text| Box::new(documented(op, op.invalid_status, Some(&text))))
}
