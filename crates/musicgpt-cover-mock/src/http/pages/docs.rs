//! The API reference at `/docs`: Swagger UI (npm `swagger-ui-dist`, vendored in
//! `assets/vendor/`) rendering `/openapi.yaml`, whose first server is this mock, so "Try it out"
//! calls it.
//!
//! Why Swagger UI: of the renderers on npm (Swagger UI, Redoc, Scalar) it is the one whose free
//! build has "try it" (open-source Redoc has none; Redocly's is paid), runs offline from two
//! files with no fonts or scripts from a CDN (Scalar's standalone build fetches its fonts from
//! fonts.scalar.com unless told not to, and is 4.9 MB of script against Swagger UI's 1.9 MB),
//! sends multipart uploads from its form, and has been kept by SmartBear under Apache-2.0 for a
//! decade, releasing every few weeks.

use axum::response::Response;

use super::assets;

pub(crate) const PATH: &str = "/docs";

const HTML: &str = include_str!("assets/docs.html");

pub(crate) async fn page() -> Response {
    // Swagger UI sets `style` attributes as it renders, and "Try it out" may be pointed at any
    // server the spec lists; its own scripts still come from this origin only.
    assets::page(
        HTML,
        &assets::csp(&[
            ("style-src", "'self' 'unsafe-inline'"),
            ("connect-src", "*"),
        ]),
    )
}
