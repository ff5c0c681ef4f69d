//! The pages a person opens in a browser: the Explorer at `/` (the API through a form), the
//! dashboard at `/__admin/ui` (watch and steer the mock), the API reference at `/docs`, and the
//! spec itself at `/openapi.yaml` and `/openapi.json`, with this mock listed first in `servers`.
//!
//! - `explorer`, `dashboard`, `docs`: one module per page, its HTML in `assets/`;
//! - `openapi`: the served spec;
//! - `assets`: the embedded files (the pages' CSS and JavaScript, the vendored Swagger UI) and
//!   the headers every page answer carries.
//!
//! Plain HTML, CSS and JavaScript with no build step, embedded with `include_str!` and
//! `include_bytes!`: the binary needs no other file, and a page loads nothing from another host
//! (its `Content-Security-Policy` tells the browser to refuse anything else).
//!
//! The pages are routed beside the API rather than through the layer that journals requests and
//! guards the admin API (`observe`): loading a page is not a call of the developer's app, so it
//! stays out of the journal, and the dashboard must load before its user has pasted an admin
//! token. What the pages then call (the API, the admin API) goes through that layer like any
//! other client's requests, under the same rules.

mod assets;
mod dashboard;
mod docs;
mod explorer;
mod openapi;

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Redirect, Response};
use axum::routing::{MethodRouter, get};

use crate::domain::MockState;
use crate::http::respond::error_json;

/// Where the dashboard is, for the admin API's index.
pub(crate) const DASHBOARD_PATH: &str = dashboard::PATH;

/// The pages, the spec files and the assets, to be merged in front of the API's routes.
pub(crate) fn router(state: MockState) -> Router {
    let documents = Arc::new(openapi::Documents::render(&state));
    let json_documents = Arc::clone(&documents);
    let pages = Router::new()
        .route(explorer::PATH, only_get(explorer::page))
        .route(dashboard::PATH, only_get(dashboard::page))
        .route(docs::PATH, only_get(docs::page));
    // A trailing slash typed by hand reaches the page too.
    let redirect = |page| only_get(move || async move { Redirect::permanent(page) });
    [dashboard::PATH, docs::PATH]
        .into_iter()
        .fold(pages, |pages, page| {
            pages.route(&format!("{page}/"), redirect(page))
        })
        .route(
            "/openapi.yaml",
            only_get(move || std::future::ready(documents.yaml())),
        )
        .route(
            "/openapi.json",
            only_get(move || std::future::ready(json_documents.json())),
        )
        .route(
            &format!("{}/{{*file}}", assets::PREFIX),
            // The pages named by the paths their modules declare (assets.rs imports none of them).
            only_get(|Path(path): Path<String>| async move {
                assets::file(&path, [explorer::PATH, dashboard::PATH, docs::PATH])
            }),
        )
        .with_state(state)
}

/// GET (and HEAD) of `handler`; another method gets the API's 405, with `Allow`.
fn only_get<H, T>(handler: H) -> MethodRouter<MockState>
where
    H: Handler<T, MockState>,
    T: 'static,
{
    get(handler).fallback(not_allowed)
}

async fn not_allowed(method: Method, uri: Uri) -> Response {
    let mut response = error_json(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!(
            "{} does not take {method}: it is a page, to GET",
            uri.path()
        ),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

#[cfg(test)]
mod tests;
