//! The dashboard at `/__admin/ui`: the journal as it grows, the tasks with Complete and Fail
//! buttons, the clock, each key's credits, Reset; all through the admin API, whose rules hold
//! for the page's calls as for anyone's (a page on another machine's origin gets 403; when the
//! mock requires the admin token, the page asks for it and sends it as `Authorization: Bearer`).
//! Its script is `assets/dashboard.js`.

use axum::response::Response;

use super::assets;

pub(crate) const PATH: &str = "/__admin/ui";

const HTML: &str = include_str!("assets/dashboard.html");

pub(crate) async fn page() -> Response {
    assets::page(HTML, &assets::csp(&[]))
}
