//! The one layer around every route: CORS (preflights answered, every answer open to any origin,
//! but the admin API refuses pages from origins off this machine, and requests without the admin
//! token when it requires one), the request journal, and the pace a request body is held to.
//! The validating proxy applies the same CORS rule with the functions below (`is_preflight`,
//! `preflight`, `open_to_any_origin`).
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
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use http_body::Body as _;
use tower::{Layer, Service};

use super::keep::keep;
use super::record::{Answered, finish_entry, start_entry};
use super::respond::error_json;
use super::stall::{Pace, PacedBody};
use crate::domain::MockState;
use crate::domain::journal::MAX_KEPT_BODY;
use crate::spec::quoted;

/// Headers a browser script may read from an answer.
pub(crate) const EXPOSED_HEADERS: &str =
    "content-type, content-length, content-range, accept-ranges, preference-applied, retry-after";
const EXPOSED: HeaderValue = HeaderValue::from_static(EXPOSED_HEADERS);
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
        if let Some(refusal) = admin_refusal(&request, &self.state) {
            return Box::pin(std::future::ready(Ok(refusal)));
        }
        let entry = start_entry(&request);
        let state = self.state.clone();
        let request = if request.body().is_end_stream() {
            request
        } else {
            let config = state.config();
            let pace = Pace {
                timeout: config.server.body_timeout.0,
                min_rate: config.server.min_body_rate,
            };
            request.map(|body| Body::new(PacedBody::new(body, pace)))
        };
        if is_preflight(request.method(), request.headers()) {
            let mut response = preflight(request.headers());
            let Some(entry) = entry else {
                return Box::pin(std::future::ready(Ok(response)));
            };
            let answered = finish_entry(entry, &mut response);
            return Box::pin(std::future::ready(Ok(journal(state, answered, response))));
        }
        // The service that was polled ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // Only when logging is on: the copy of the path costs an allocation.
        let log = tracing::enabled!(tracing::Level::INFO)
            .then(|| (request.method().clone(), request.uri().path().to_owned()));
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            open_to_any_origin(response.headers_mut(), EXPOSED);
            if let Some((method, path)) = log {
                tracing::info!(%method, %path, status = response.status().as_u16(), "request");
            }
            match entry {
                Some(entry) => {
                    let answered = finish_entry(entry, &mut response);
                    Ok(journal(state, answered, response))
                }
                None => Ok(response),
            }
        })
    }
}

/// Journals the request as its answer starts, and sends `response` on, adding the answer to the
/// entry once the answer's body has gone. Journalled at once, so a test that has the answer's
/// head finds the request, also while a body streams or is dribbled (or never ends).
fn journal(state: MockState, answered: Answered, response: Response) -> Response {
    let sent = answered.sent();
    let slot = state.journal_request(answered.pending());
    if !sent {
        return response;
    }
    keep(
        response,
        MAX_KEPT_BODY,
        |_| false,
        Box::new(move |sent| state.journal_sent(slot, Box::new(sent))),
    )
}

/// The admin API reads back every key the mock was sent (the journal) and can reset it, so it
/// answers only what comes from this machine: when the mock requires an admin token (it does on
/// a non-loopback address), requests bearing it; without one, requests sent to a loopback name
/// (the `Host` header); and never a page on another machine's origin
/// (any website open in the developer's browser). Browsers send `Origin` with every cross-origin
/// call and every POST; a request without one (curl, a test, a server) is not a page's.
fn admin_refusal(request: &Request, state: &MockState) -> Option<Response> {
    if !request.uri().path().starts_with(super::admin::ADMIN_PATH) {
        return None;
    }
    if let Some(token) = state.admin_token()
        && !bears_token(request, &token)
    {
        let mut response = error_json(
            StatusCode::UNAUTHORIZED,
            "the admin API requires the admin token the mock printed at start-up: send Authorization: Bearer TOKEN or X-Admin-Token: TOKEN",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"musicgpt-cover-mock admin\""),
        );
        return Some(response);
    }
    // Without a token, the name the request was sent to must be this machine's too: a page on a
    // site whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) sends its own name as Host
    // and, being same-origin, no Origin at all. (Behind a proxy that forwards another name, set
    // an admin token.)
    if state.admin_token().is_none()
        && let Some(host) = request.headers().get(header::HOST)
        && !host
            .to_str()
            .is_ok_and(|h| is_loopback_origin(&format!("http://{h}")))
    {
        return Some(error_json(
            StatusCode::FORBIDDEN,
            &format!(
                "the admin API answers requests sent to this machine's names only (localhost, 127.0.0.0/8, [::1]), not Host {}; set --admin-token to reach it by another name",
                quoted(&String::from_utf8_lossy(host.as_bytes()))
            ),
        ));
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

/// The admin API's own header for its token, beside `Authorization: Bearer`.
pub(crate) const ADMIN_TOKEN_HEADER: &str = "x-admin-token";

/// Whether the request carries `token` as `Authorization: Bearer` or `X-Admin-Token`, compared
/// without stopping at the first differing byte.
fn bears_token(request: &Request, token: &str) -> bool {
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let own = headers
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    [bearer, own].into_iter().flatten().any(|given| {
        given.len() == token.len()
            && given
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

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

// The CORS rule, the mock's and the validating proxy's (which answers preflights itself rather
// than forwarding them, and opens its answers the same way): any origin may call, with any
// method and headers it asks for; the admin API's own limits are `admin_refusal`'s.

/// Whether a request is a browser's CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`. Any other `OPTIONS` is an ordinary request.
pub(crate) fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight whose headers are `asked`: any origin, the method and headers asked
/// for (so `Authorization` and `Prefer` pass; a `*` would not cover `Authorization`).
pub(crate) fn preflight(asked: &HeaderMap) -> Response {
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

/// Opens an answer to scripts on any origin, which may read the `exposed` headers
/// ([`EXPOSED_HEADERS`], and whatever a server adds of its own).
pub(crate) fn open_to_any_origin(headers: &mut HeaderMap, exposed: HeaderValue) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
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
