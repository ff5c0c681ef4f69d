//! Layer 3, HTTP: the router, the API's routes, the result files, the admin API, and the layer
//! around them all (CORS, the journal). It turns requests into calls on the domain's
//! [`MockState`] and the domain's answers into the spec's documented responses.
//!
//! - `routes/`: the API's operations and the result files (where a route is defined);
//! - `form/`: the Cover form's streamed readers (multipart and url-encoded);
//! - `guard`, `auth`, `prefer`: what a request is checked for before its body;
//! - `respond`: JSON answers and errors in the API's format;
//! - `observe`, `record`, `stall`: the layer around every route, the journal text of a request,
//!   and the pace a request body must keep;
//! - `faults`: latency, failures and scenarios applied to the API's operations;
//! - `admin`: the admin API under `/__admin`;
//! - `pages`: what a person opens in a browser: the Explorer (`/`), the dashboard
//!   (`/__admin/ui`), the API reference (`/docs`) and the spec (`/openapi.yaml`, `.json`);
//! - `webhook_client`: the HTTP client the domain's webhook sender posts with;
//! - `proxy`: the proxy mode's router, which forwards to the real API and checks each exchange
//!   against the spec.

mod admin;
mod auth;
mod faults;
mod form;
mod guard;
mod keep;
mod observe;
mod pages;
mod prefer;
pub(crate) mod proxy;
mod record;
mod replay;
mod respond;
mod routes;
mod stall;
pub(crate) mod webhook_client;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{MethodFilter, get, on};
use tower::Layer;

use crate::domain::{FILES_PATH, MockState};
use crate::spec::Operation;
use faults::FaultLayer;
use observe::ObserveLayer;
use respond::error_json;
use routes::{conversions, cover, files, voices};

pub use admin::ADMIN_PATH;
#[cfg(test)]
pub(crate) use admin::paths as admin_paths;
pub(crate) use faults::Abort;
#[doc(hidden)]
pub use form::check_cover_form;
pub use form::{MAX_PARTS, MAX_TEXT_BYTES};
pub(crate) use pages::DASHBOARD_PATH;
pub(crate) use respond::closing;

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
        .route(&format!("{FILES_PATH}/{{file}}"), get(files::file))
        .nest(admin::ADMIN_PATH, admin::router(true))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    // Only a replaying mock pays for the look-up; the fault layer still goes around its answers.
    let routes = if state.replaying() {
        routes.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            replay::bodiless,
        ))
    } else {
        routes
    };
    // Wrapped whole rather than with `Router::layer`, which wraps each route and costs a few
    // boxed clones per request. The pages sit outside it: not journalled, and the dashboard's
    // page loads without the admin token (its calls then go through the layer).
    // The faults go inside the journal's layer, so its entries show what they did.
    let routes = FaultLayer {
        state: state.clone(),
    }
    .layer(routes);
    pages::router(state.clone()).fallback_service(ObserveLayer { state }.layer(routes))
}

async fn not_found(method: Method, uri: Uri) -> Response {
    // The operations as the spec names them, so that the hint follows the spec.
    let api = crate::spec::spec()
        .map(|s| {
            let operations: Vec<String> = s
                .operations()
                .iter()
                .map(|o| format!("{} {}{}", o.method, s.base_path, o.path))
                .collect();
            format!("the API's operations are {}", operations.join(", "))
        })
        .unwrap_or_default();
    error_json(
        StatusCode::NOT_FOUND,
        &format!(
            "no route for {method} {}; {api}; result files are under {FILES_PATH}/, the admin API under {}",
            uri.path(),
            admin::ADMIN_PATH
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    error_json(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{} does not take {method}", uri.path()),
    )
}
