//! `--replay DIR` in the HTTP layer: a request the recording has an answer for gets that answer
//! (the domain's `replay` module says which); a Cover once its form is read (its fields and
//! uploads are part of the match), a GET operation before it is routed. Either is first checked
//! as the mock checks it otherwise: the key, then a `Prefer` replay (the fault layer's scenarios
//! and failure rates come before, around the routes). With `--replay-strict`, a request to an
//! operation the recording has no answer for gets a 501 naming the nearest recorded one.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;

use super::auth::request_key;
use super::prefer::{Prefer, replay};
use super::record::Replayed;
use super::respond::{auth_error, error_json};
use crate::domain::MockState;
use crate::domain::journal::{FormRecord, KeptAnswer};

/// The middleware of a replaying mock: a GET operation's request that passes the key check and
/// asks no `Prefer` replay is answered from the recording when it matches one (or refused under
/// `--replay-strict`); anything else goes on to the routes.
pub(crate) async fn bodiless(
    State(state): State<MockState>,
    request: Request,
    next: Next,
) -> Response {
    let spec = state.spec();
    let path = request.uri().path();
    let op = (spec.operations().into_iter()).find(|op| {
        op.method == Method::GET
            && op.method == request.method()
            && path.strip_prefix(spec.base_path.as_str()) == Some(op.path.as_str())
    });
    let Some(op) = op.filter(|_| request.body().is_end_stream()) else {
        return next.run(request).await;
    };
    let headers = request.headers();
    if let Err(e) = request_key(headers).and_then(|k| state.authorize(k)) {
        return auth_error(op, e);
    }
    if let Some(response) = replay(op, &Prefer::parse(headers)) {
        return response;
    }
    let (method, query) = (request.method().as_str(), request.uri().query());
    if let Some(answer) = state.replay_answer(method, path, query, None) {
        return recorded(answer);
    }
    if let Some(refused) = unrecorded(&state, method, path, query, None) {
        return refused;
    }
    next.run(request).await
}

/// Under `--replay-strict`, the answer to a request to one of the API's operations that the
/// recording has no answer for: a 501 in the API's error shape naming the nearest recorded
/// request. 501 rather than 404: `byId` documents 404 (no such conversion) and an app may take
/// it in its stride, while a status the spec never gives fails loudly.
pub(crate) fn unrecorded(
    state: &MockState,
    method: &str,
    path: &str,
    query: Option<&str>,
    form: Option<&FormRecord>,
) -> Option<Response> {
    if !state.config().mock.replay_strict {
        return None;
    }
    let asked = match query {
        Some(q) => format!("{method} {path}?{q}"),
        None => format!("{method} {path}"),
    };
    let nearest = state
        .replay_nearest(method, path, query, form)
        .map_or_else(String::new, |n| {
            format!("; the nearest recorded request is {n}")
        });
    Some(error_json(
        StatusCode::NOT_IMPLEMENTED,
        &format!(
            "--replay-strict: the recording has no answer for {asked} (matched by method, path, query and form, see docs/record-replay.md){nearest}"
        ),
    ))
}

/// Headers of a kept answer that are not sent again: those of its connection, its length and
/// date (set anew), and what the server around the routes adds (CORS, the proxy's violations).
fn not_resent(name: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "transfer-encoding" | "content-length" | "date"
    ) || name.starts_with("access-control-")
        || name == crate::http::proxy::VIOLATIONS_HEADER
}

/// A kept answer sent again: its status, headers and body, byte for byte.
pub(crate) fn recorded(answer: KeptAnswer) -> Response {
    let body = answer.body.bytes().map(<[u8]>::to_vec).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    response.extensions_mut().insert(Replayed);
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in &answer.headers {
        if not_resent(name) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    response
}
