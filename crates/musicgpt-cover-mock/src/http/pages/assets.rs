//! The files the pages load, embedded in the binary and served under `/assets/`, and the headers
//! every page answer carries.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::http::respond::error_json;

/// Where the assets are served.
pub(crate) const PREFIX: &str = "/assets";

/// One embedded file.
pub(crate) struct Asset {
    /// Its path under [`PREFIX`].
    pub(crate) path: &'static str,
    pub(crate) content_type: &'static str,
    pub(crate) bytes: &'static [u8],
    /// Whether its URL names its version, so that a browser may keep it for good; the pages' own
    /// files may change with any build and are revalidated instead.
    pub(crate) versioned: bool,
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// One of the pages' own files, in `assets/` beside this module.
macro_rules! own {
    ($file:literal, $type:expr) => {
        Asset {
            path: $file,
            content_type: $type,
            bytes: include_bytes!(concat!("assets/", $file)),
            versioned: false,
        }
    };
}

/// A file of the vendored Swagger UI: its folder (`assets/vendor/`, with its README) and its URL
/// are named by the npm package and version, so a new version gets new URLs.
macro_rules! swagger_ui {
    ($file:literal, $type:expr) => {
        Asset {
            path: concat!("swagger-ui-dist-5.35.0/", $file),
            content_type: $type,
            bytes: include_bytes!(concat!(
                "../../../assets/vendor/swagger-ui-dist-5.35.0/",
                $file
            )),
            versioned: true,
        }
    };
}

/// The pages' own files, then the vendored Swagger UI with its license and notice, which its
/// Apache-2.0 license asks to pass on with it.
pub(crate) const ASSETS: &[Asset] = &[
    own!("pages.css", CSS),
    own!("common.js", JS),
    own!("explorer.js", JS),
    own!("dashboard.js", JS),
    own!("docs.js", JS),
    swagger_ui!("swagger-ui-bundle.js", JS),
    swagger_ui!("swagger-ui.css", CSS),
    swagger_ui!("LICENSE", TEXT),
    swagger_ui!("NOTICE", TEXT),
    swagger_ui!("swagger-ui-bundle.js.LICENSE.txt", TEXT),
];

/// The asset at `path`; a 404 naming the `pages` (their paths) for one that is not there.
pub(crate) fn file(path: &str, pages: [&str; 3]) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        let [first, second, third] = pages;
        return error_json(
            StatusCode::NOT_FOUND,
            &format!("no asset {PREFIX}/{path}; the pages are {first}, {second} and {third}"),
        );
    };
    let mut response = Response::new(Body::from(asset.bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if asset.versioned {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// What a page may load and call: by default scripts, styles and images from this origin only,
/// calls to it only; `overrides` replace a directive or add one. The API's answers, the
/// journal's entries and the webhook records are text anyone could have sent the mock; the
/// pages show them with `textContent`, and this policy is the second line: no inline script
/// runs, nothing comes from another host.
pub(crate) fn csp(overrides: &[(&str, &str)]) -> String {
    const BASE: [(&str, &str); 8] = [
        ("default-src", "'none'"),
        ("script-src", "'self'"),
        ("style-src", "'self'"),
        ("img-src", "'self' data:"),
        ("connect-src", "'self'"),
        ("base-uri", "'none'"),
        ("form-action", "'none'"),
        ("frame-ancestors", "'none'"),
    ];
    // A browser obeys the first of two same-named directives, so each is written once.
    let value = |name: &str, default: &str| {
        overrides
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(default.to_owned(), |(_, v)| (*v).to_owned())
    };
    BASE.iter()
        .map(|(name, default)| format!("{name} {}", value(name, default)))
        .chain(
            overrides
                .iter()
                .filter(|(name, _)| !BASE.iter().any(|(n, _)| n == name))
                .map(|(name, v)| format!("{name} {v}")),
        )
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where a page's settings go: a JSON data block, which no Content-Security-Policy blocks since
/// it does not run.
const CONFIG_SLOT: &str = "{{CONFIG}}";

/// `html` with `config` in its settings slot, as JSON that cannot end the `<script>` element
/// holding it: `<` only occurs inside JSON strings, where `\u003c` means the same.
pub(crate) fn with_config(html: &str, config: &serde_json::Value) -> String {
    html.replace(CONFIG_SLOT, &config.to_string().replace('<', "\\u003c"))
}

/// A page: HTML, never cached (the next build may change it), never framed (the dashboard's
/// buttons reset and steer the mock), with `policy` as its Content-Security-Policy.
pub(crate) fn page(html: impl Into<Body>, policy: &str) -> Response {
    let mut response = Response::new(html.into());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    match HeaderValue::from_str(policy) {
        Ok(value) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        // Only an origin from --public-url could make it unsendable; the page then goes without.
        Err(_) => tracing::warn!(policy, "Content-Security-Policy not sendable"),
    }
    response
}

/// `origin` as a CSP source, when it is a plain `http(s)://host[:port]` that cannot smuggle in
/// another directive.
pub(crate) fn origin_source(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))?;
    let plain = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
    plain.then_some(origin)
}

/// The header a cross-origin tool (an editor on another local port) needs to load the spec.
pub(crate) const ALLOW_ANY_ORIGIN: (HeaderName, HeaderValue) = (
    header::ACCESS_CONTROL_ALLOW_ORIGIN,
    HeaderValue::from_static("*"),
);
