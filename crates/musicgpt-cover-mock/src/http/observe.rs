//! The one layer around every route: CORS (preflights answered, every answer open to any origin,
//! but the admin API refuses pages from origins off this machine) and the request journal.
//!
//! Hand-written rather than `axum::middleware::from_fn` plus tower-http's `CorsLayer`: those two
//! cost about an eighth of a Cover request's time, which this single layer with one boxed future
//! does not.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use tower::{Layer, Service};

use super::record::{finish_entry, start_entry};
use super::respond::error_json;
use crate::domain::MockState;
use crate::spec::quoted;

/// Headers a browser script may read from an answer.
const EXPOSED: HeaderValue = HeaderValue::from_static(
    "content-type, content-length, content-range, accept-ranges, preference-applied",
);
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE: HeaderValue = HeaderValue::from_static("600");

#[derive(Clone, Debug)]
pub(crate) struct ObserveLayer {
    pub(crate) state: MockState,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Observe<S> {
    inner: S,
    state: MockState,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if let Some(refusal) = admin_origin_refusal(&request) {
            return Box::pin(std::future::ready(Ok(refusal)));
        }
        let entry = start_entry(&request);
        let state = self.state.clone();
        if is_preflight(&request) {
            let mut response = preflight(&request);
            if let Some(entry) = entry {
                state.journal_request(finish_entry(entry, &mut response));
            }
            return Box::pin(std::future::ready(Ok(response)));
        }
        // The service that was polled ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // Only when logging is on: the copy of the path costs an allocation.
        let log = tracing::enabled!(tracing::Level::INFO)
            .then(|| (request.method().clone(), request.uri().path().to_owned()));
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            let headers = response.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
            if let Some((method, path)) = log {
                tracing::info!(%method, %path, status = response.status().as_u16(), "request");
            }
            if let Some(entry) = entry {
                state.journal_request(finish_entry(entry, &mut response));
            }
            Ok(response)
        })
    }
}

/// The admin API reads back every key the mock was sent (the journal) and can reset it: a page
/// on another machine's origin (any website open in the developer's browser) must not reach it.
/// Browsers send `Origin` with every cross-origin call and every POST; a request without one
/// (curl, a test, a server) is not a page's and passes.
fn admin_origin_refusal(request: &Request) -> Option<Response> {
    if !request.uri().path().starts_with(ADMIN_PREFIX) {
        return None;
    }
    let origin = request.headers().get(header::ORIGIN)?;
    if origin.to_str().is_ok_and(is_loopback_origin) {
        return None;
    }
    let mut response = error_json(
        StatusCode::FORBIDDEN,
        &format!(
            "the admin API answers pages on loopback origins only (localhost, 127.0.0.0/8, [::1]), not Origin {}",
            quoted(&String::from_utf8_lossy(origin.as_bytes()))
        ),
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("origin"));
    Some(response)
}

const ADMIN_PREFIX: &str = "/__admin";

/// `http(s)://localhost`, `127.x.x.x` or `[::1]`, with any port.
fn is_loopback_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false; // `null`, from a file or a sandboxed frame
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let host = if rest.starts_with('[') {
        rest.split_inclusive(']').next().unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_preflight(request: &Request) -> bool {
    request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ORIGIN)
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Any origin, the method and headers asked for (so `Authorization` and `Prefer` pass; a `*`
/// would not cover `Authorization`).
fn preflight(request: &Request) -> Response {
    let asked = request.headers();
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Some(m) = asked.get(header::ACCESS_CONTROL_REQUEST_METHOD) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, m.clone());
    }
    if let Some(hs) = asked.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, hs.clone());
    }
    h.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
    h.insert(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

#[cfg(test)]
mod tests {
    use super::is_loopback_origin;

    #[test]
    fn loopback_origins() {
        for yes in [
            "http://localhost:5173",
            "http://LOCALHOST",
            "https://127.0.0.1:8443",
            "http://127.1.2.3:80",
            "http://[::1]:3000",
        ] {
            assert!(is_loopback_origin(yes), "{yes}");
        }
        for no in [
            "null",
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://[::2]:80",
            "file://",
            "ftp://localhost",
            "http://10.0.0.1:4010",
        ] {
            assert!(!is_loopback_origin(no), "{no}");
        }
    }
}
