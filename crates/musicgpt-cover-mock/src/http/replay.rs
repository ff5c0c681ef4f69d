//! `--replay DIR` in the HTTP layer: a request the recording has an answer for gets that answer
//! (the domain's `replay` module says which); a Cover once its form is read (its fields and
//! uploads are part of the match), any request without a body before it is routed.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;

use crate::domain::MockState;
use crate::domain::journal::KeptAnswer;

/// The middleware of a replaying mock: a bodiless request the recording matches is answered
/// from it; anything else goes on to the routes.
pub(crate) async fn bodiless(
    State(state): State<MockState>,
    request: Request,
    next: Next,
) -> Response {
    if request.body().is_end_stream()
        && let Some(answer) = state.replay_answer(
            request.method().as_str(),
            request.uri().path(),
            request.uri().query(),
            None,
        )
    {
        return recorded(answer);
    }
    next.run(request).await
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
