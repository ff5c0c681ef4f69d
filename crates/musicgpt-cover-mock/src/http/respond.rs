//! The answers every handler shares: JSON bodies, the documented answer of a status, and errors
//! in the API's own format (also for a path parameter that cannot be read: [`Segment`]), with an
//! error's causes said in its text ([`with_causes`]).

use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use super::auth::BEARER_REFUSED;
use crate::domain::AuthError;
use crate::spec::{Field, Fill, Operation, Val};

/// An error with its causes, each said once: a body that fails reads as hyper's "error reading a
/// body from connection", and only a cause says what was wrong ("invalid chunk size line").
pub(crate) fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    for cause in std::iter::successors(error.source(), |c| c.source()) {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
    }
    text
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut response = Response::new(Body::from(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `response` with `Connection: close`: the connection ends after it (the rest of a stalled body
/// may still come, or an early answer's body was never read).
pub(crate) fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The documented answer of `op` for `status`: its example, with `detail` as the error text when
/// given. A status the operation does not document gets the spec's `Error` shape.
pub(crate) fn documented(op: &Operation, status: StatusCode, detail: Option<&str>) -> Response {
    match op.error_body(status, detail) {
        Some(body) => json(status, body),
        None => error_json(status, detail.unwrap_or("Internal Server Error")),
    }
}

/// The 401 or 403 of an operation: the documented body, with the reason when the value sent
/// cannot be a key at all or carries a `Bearer` prefix (the documented "Invalid API key" would
/// not say what to fix).
pub(crate) fn auth_error(op: &Operation, e: AuthError) -> Response {
    match e {
        AuthError::Missing => documented(op, StatusCode::UNAUTHORIZED, None),
        AuthError::Refused => documented(op, StatusCode::FORBIDDEN, None),
        AuthError::Bearer => documented(op, StatusCode::FORBIDDEN, Some(BEARER_REFUSED)),
        AuthError::Malformed(why) => documented(
            op,
            StatusCode::FORBIDDEN,
            Some(&format!(
                "{why}: send the raw key alone in the Authorization header"
            )),
        ),
    }
}

struct ErrorFill<'a>(&'a str);

impl Fill for ErrorFill<'_> {
    fn value(&self, field: Field) -> Val<'_> {
        match field {
            Field::Success => Val::Bool(false),
            Field::Error => Val::Str(self.0),
            _ => Val::Absent,
        }
    }
}

/// An error in the spec's `Error` shape: `{"success": false, "error": text}`.
pub(crate) fn error_json(status: StatusCode, text: &str) -> Response {
    match crate::spec::spec() {
        Ok(spec) => json(status, spec.error.render(&ErrorFill(text))),
        Err(_) => json(
            status,
            serde_json::json!({ "success": false, "error": text }).to_string(),
        ),
    }
}

/// A path parameter as text, or the reason it is not, in the API's error format (axum's own
/// rejection is plain text: `/files/%FF.mp3` would get a body no client of this API parses).
pub(crate) struct Segment(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(text)) => Ok(Segment(text)),
            Err(rejection) => Err(error_json(
                rejection.status(),
                &format!(
                    "{}: a path is read as UTF-8 once percent-decoded",
                    rejection.body_text()
                ),
            )),
        }
    }
}
