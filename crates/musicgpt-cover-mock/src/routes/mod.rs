//! The HTTP surface: the router and the response helpers the handlers share.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get, on};
use bytes::Bytes;

use crate::auth::{AuthError, request_key};
use crate::middleware::ObserveLayer;
use crate::prefer::{Prefer, replay};
use crate::query::{self, Param};
use crate::spec::Operation;
use crate::state::MockState;
use crate::template::{Field, Fill, Val};
use tower::Layer;

pub(crate) mod conversions;
pub(crate) mod cover;
pub(crate) mod files;
pub(crate) mod voices;

/// The mock's whole HTTP surface: the spec's operations under the spec's loopback server path
/// (`/api/public/v1/...`), the result files under `/files/`, the admin API under `/__admin`,
/// every route journalled (but the admin API's) and open to cross-origin calls.
pub fn router(state: MockState) -> Router {
    let spec = state.spec();
    let path = |op: &Operation| format!("{}{}", spec.base_path, op.path);
    let method = |op: &Operation, fallback: MethodFilter| {
        MethodFilter::try_from(op.method.clone()).unwrap_or(fallback)
    };
    let routes = Router::new()
        .route(
            &path(&spec.cover),
            // The handler streams the raw body and enforces its own upload limit: axum's default
            // body limit applies only to its buffering extractors, which the mock does not use.
            on(method(&spec.cover, MethodFilter::POST), cover::cover),
        )
        .route(
            &path(&spec.by_id),
            on(method(&spec.by_id, MethodFilter::GET), conversions::by_id),
        )
        .route(
            &path(&spec.all_voices),
            on(
                method(&spec.all_voices, MethodFilter::GET),
                voices::all_voices,
            ),
        )
        .route(
            &path(&spec.search_voices),
            on(
                method(&spec.search_voices, MethodFilter::GET),
                voices::search_voices,
            ),
        )
        .route("/files/{file}", get(files::file))
        .nest("/__admin", crate::admin::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    // Wrapped whole rather than with `Router::layer`, which wraps each route and costs a few
    // boxed clones per request.
    Router::new().fallback_service(ObserveLayer { state }.layer(routes))
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

/// The documented answer of `op` for `status`: its example, with `detail` as the error text when
/// given. A status the operation does not document gets the spec's `Error` shape.
pub(crate) fn documented(op: &Operation, status: StatusCode, detail: Option<&str>) -> Response {
    match op.error_body(status, detail) {
        Some(body) => json(status, body),
        None => error_json(status, detail.unwrap_or("Internal Server Error")),
    }
}

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
    query::parse(&op.query, raw)
        .map_err(|text| Box::new(documented(op, op.invalid_status, Some(&text))))
}

/// The 401 or 403 of an operation.
pub(crate) fn auth_error(op: &Operation, e: AuthError) -> Response {
    let status = match e {
        AuthError::Missing => StatusCode::UNAUTHORIZED,
        AuthError::Refused => StatusCode::FORBIDDEN,
    };
    documented(op, status, None)
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

async fn not_found(method: Method, uri: Uri) -> Response {
    let base = crate::spec::spec()
        .map(|s| s.base_path.clone())
        .unwrap_or_default();
    error_json(
        StatusCode::NOT_FOUND,
        &format!(
            "no route for {method} {}; the API is under {base}/v1/ (Cover, byId, getAllVoices, searchVoices), result files under /files/, the admin API under /__admin",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    error_json(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{} does not take {method}", uri.path()),
    )
    .into_response()
}
