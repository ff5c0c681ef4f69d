//! The proxy mode (`musicgpt-cover-mock proxy`): each API request forwarded to an upstream (the
//! real API by default) with its `Authorization`, both bodies streamed, and the exchange held
//! against the spec (`spec::validate`). What breaks it is reported in the answer's
//! `x-contract-violations` header (a JSON array, one object per violation, in the shape of
//! Prism's `sl-violations`), in the journal and in the log; in strict mode an exchange with an
//! error is answered 502 instead, in the API's error format, with the list.
//!
//! - A JSON answer is read whole to be checked, up to [`CHECKED_BODY_LIMIT`]; a larger one, and
//!   any other body (audio), streams through untouched. Result-file URLs in answers are passed
//!   on unchanged (the client fetches them where the upstream put them).
//! - The request body is sent upstream as it arrives; a form is read on the side (`tee`), so a
//!   1 GiB upload is never held.
//! - The key is never logged or journalled in clear: the journal keeps a redacted form.
//! - With `--record DIR` (`recorder`), each exchange the upstream answered is also written to
//!   `DIR` as a journal entry with its answer, once the answer has gone (`--replay` reads it).
//! - Only the API's paths (under the spec's base path) are forwarded; the admin API under
//!   `/__admin` is the proxy's own (its journal).
//! - CORS is the proxy's own, the mock's rule (`observe`): a browser's preflight is answered here,
//!   never forwarded nor checked (the API documents no `OPTIONS`, and a preflight carries no
//!   key), and every answer is open to any origin, with `x-contract-violations` readable too; the
//!   upstream's own `Access-Control-*` headers are replaced. So a browser app on another origin
//!   can use the proxy even in front of an API that answers no preflight.

mod recorder;
mod report;
mod tee;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http_body::Body as _;
use tower::Layer;

use super::admin::{ADMIN_PATH, admin_path};
use super::keep::keep;
use super::observe::{self, EXPOSED_HEADERS, ObserveLayer};
use super::respond::{closing, error_json, json, with_causes};
use super::stall::{BodyStalled, Pace, PacedBody};
use crate::domain::MockState;
use crate::domain::journal::{FormRecord, LaterAnswer as _, MAX_KEPT_BODY};
use crate::spec::validate::{self, Contract, Severity, Violation};
use recorder::Recorder;
use report::{request_record, violations_header};

/// The largest JSON answer the proxy reads whole to check; a larger one is sent on unchecked
/// (with a warning).
pub const CHECKED_BODY_LIMIT: usize = 1 << 20;

/// The answer header that lists the violations of an exchange.
pub const VIOLATIONS_HEADER: &str = "x-contract-violations";

/// The proxy's settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    upstream: String,
    strict: bool,
    connect_timeout: Duration,
    record: Option<PathBuf>,
}

impl Default for ProxyConfig {
    fn default() -> ProxyConfig {
        ProxyConfig::new(default_upstream())
    }
}

impl ProxyConfig {
    /// Forwards to `upstream`, a base URL such as `https://api.wav.com/api/public` (the spec's
    /// paths are appended to it).
    pub fn new(upstream: impl Into<String>) -> ProxyConfig {
        ProxyConfig {
            upstream: upstream.into().trim_end_matches('/').to_owned(),
            strict: false,
            connect_timeout: Duration::from_secs(10),
            record: None,
        }
    }

    /// Answer 502 with the list instead of the upstream's answer when an exchange breaks the spec.
    pub fn strict(mut self, strict: bool) -> ProxyConfig {
        self.strict = strict;
        self
    }

    /// How long connecting to the upstream may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ProxyConfig {
        self.connect_timeout = timeout;
        self
    }

    /// Write every exchange forwarded to `dir`, one JSON file each, for review and for a mock's
    /// `--replay` ([`MockConfig::replay`](crate::MockConfig::replay)). The directory is made if
    /// need be; one that already holds a recording is refused at start.
    pub fn record(mut self, dir: impl Into<PathBuf>) -> ProxyConfig {
        self.record = Some(dir.into());
        self
    }

    /// Where exchanges are recorded, if they are.
    pub fn recording(&self) -> Option<&Path> {
        self.record.as_deref()
    }

    /// The upstream base URL.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Whether strict mode is on.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Whether the settings can be used: the upstream an http(s) base URL, and the recording's
    /// directory (if any) new or empty; why not when they cannot.
    pub fn check(&self) -> Result<(), String> {
        let url = url::Url::parse(&self.upstream)
            .map_err(|e| format!("--upstream {:?} is not a URL: {e}", self.upstream))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "--upstream {:?} must be an http:// or https:// URL with a host",
                self.upstream
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "--upstream {:?} must be a base URL, without a query or fragment",
                self.upstream
            ));
        }
        self.record.as_deref().map_or(Ok(()), Recorder::unused)
    }

    /// A warning when the upstream's path does not end with the spec's base path: the proxy
    /// forwards `{upstream}/v1/Cover`, so an upstream given as a bare origin gets every request
    /// at a path it does not serve (and a recording of 404s).
    pub fn upstream_warning(&self) -> Option<String> {
        let base = api_base_path();
        let url = url::Url::parse(&self.upstream).ok()?;
        if base.is_empty() || url.path().trim_end_matches('/').ends_with(&base) {
            return None;
        }
        let mut suggested = url.clone();
        suggested.set_path(&format!("{}{base}", url.path().trim_end_matches('/')));
        Some(format!(
            "--upstream {} does not end with the API's base path {base}: each request goes to the upstream's URL followed by the operation's path (`{}{}`), which the API does not serve; give its base URL, such as {}",
            self.upstream,
            self.upstream,
            crate::spec::spec().map_or_else(|_| String::new(), |s| s.cover.path.clone()),
            suggested.as_str().trim_end_matches('/')
        ))
    }
}

/// The real API's base URL: the first of the spec's `servers` that is not the local mock.
pub fn default_upstream() -> String {
    crate::spec::spec()
        .ok()
        .and_then(|s| s.api_servers.first().cloned())
        .unwrap_or_default()
}

/// The path the spec's operations live under on the mock and the proxy (`/api/public`).
pub fn api_base_path() -> String {
    crate::spec::spec()
        .map(|s| s.base_path.clone())
        .unwrap_or_default()
}

struct Proxy {
    state: MockState,
    client: reqwest::Client,
    upstream: String,
    strict: bool,
    base_path: String,
    contract: &'static Contract,
    /// What a script may read of an answer: the mock's list and the violations.
    exposed: HeaderValue,
    recorder: Option<Arc<Recorder>>,
}

/// The proxy's HTTP surface: every request under the spec's base path forwarded and checked, the
/// admin API (for the journal) under `/__admin`, anything else 404.
pub(crate) fn router(state: MockState, config: &ProxyConfig) -> Result<Router, String> {
    config.check()?;
    let contract = validate::contract()?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .build()
        .map_err(|e| format!("the proxy's HTTP client: {e}"))?;
    let recorder = (config.record.as_deref().map(Recorder::create))
        .transpose()?
        .map(Arc::new);
    let proxy = Arc::new(Proxy {
        state: state.clone(),
        client,
        upstream: config.upstream.clone(),
        strict: config.strict,
        base_path: state.spec().base_path.clone(),
        contract,
        exposed: HeaderValue::from_str(&format!("{EXPOSED_HEADERS}, {VIOLATIONS_HEADER}"))
            .map_err(|e| format!("the exposed headers: {e}"))?,
        recorder,
    });
    // The admin API behind the same guard as the mock's (loopback pages only, the token when one
    // is required); its requests are not journalled.
    let admin = ObserveLayer {
        state: state.clone(),
    }
    .layer(
        Router::new()
            .nest(ADMIN_PATH, super::admin::router(false))
            .with_state(state),
    );
    Ok(Router::new()
        .route_service(ADMIN_PATH, admin.clone())
        .route_service(admin_path!("/{*rest}"), admin)
        .fallback(forward)
        .with_state(proxy))
}

/// Headers that concern one connection, not the exchange (RFC 9110, 7.6.1), and those the proxy
/// sets itself.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

/// A request: a preflight answered here, anything else [`exchange`]d with the upstream; the
/// answer either way open to any origin.
async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let mut response = if observe::is_preflight(request.method(), request.headers()) {
        let response = observe::preflight(request.headers());
        let (parts, _) = request.into_parts();
        let seen = Seen::new(&parts);
        finish(&proxy, &seen, response, &[], None)
    } else {
        let mut response = exchange(&proxy, request).await;
        let headers = response.headers_mut();
        let upstream_cors: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in upstream_cors {
            headers.remove(name);
        }
        response
    };
    observe::open_to_any_origin(response.headers_mut(), proxy.exposed.clone());
    response
}

/// A request forwarded to the upstream and the exchange checked.
async fn exchange(proxy: &Proxy, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let mut seen = Seen::new(&parts);
    let Some(op_path) = path
        .strip_prefix(proxy.base_path.as_str())
        .filter(|p| p.starts_with('/'))
        .map(str::to_owned)
    else {
        let response = error_json(
            StatusCode::NOT_FOUND,
            &format!(
                "the proxy forwards the API's paths only, under {}/ (this is {path})",
                proxy.base_path
            ),
        );
        return finish(proxy, &seen, response, &[], None);
    };

    let mut found = Vec::new();
    let operation = proxy.contract.operation(&parts.method, &op_path);
    match operation {
        Some(op) => found.extend(op.check_query(query.as_deref())),
        None => found.push(proxy.contract.unknown_operation(&parts.method, &op_path)),
    }
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        found.push(Violation::error(
            &["request", "header", "authorization"],
            "security",
            "no Authorization header: the API requires the API key in it (ApiKeyAuth)",
        ));
    }
    if proxy.strict && has_error(&found) {
        // Refused before anything is sent: a strict proxy spends nothing on a request that
        // already breaks the spec.
        let mut response = strict_answer(&found, None);
        violations_header(&mut response, &found);
        return finish(proxy, &seen, response, &found, None);
    }

    let empty = body.is_end_stream();
    // Held to the same pace as the mock's bodies (--body-timeout, --min-body-rate): a client that
    // stalls does not hold an upstream connection open.
    let body = if empty {
        body
    } else {
        let config = proxy.state.config();
        Body::new(PacedBody::new(
            body,
            Pace {
                timeout: config.server.body_timeout.0,
                min_rate: config.server.min_body_rate,
            },
        ))
    };
    let (stream, form_check, type_found) =
        tee::tee(operation.map(|o| o.operation), &parts.headers, body);
    found.extend(type_found);

    let mut url = format!("{}{op_path}", proxy.upstream);
    if let Some(q) = &query {
        url.push('?');
        url.push_str(q);
    }
    let mut headers = HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        // Compressed answers could not be checked: the upstream is asked for plain ones.
        if hop_by_hop(name) || name == header::ACCEPT_ENCODING {
            continue;
        }
        let mut value = value.clone();
        if name == header::AUTHORIZATION {
            value.set_sensitive(true);
        }
        headers.append(name.clone(), value);
    }
    let mut upstream = proxy
        .client
        .request(parts.method.clone(), &url)
        .headers(headers);
    let (stream, cut) = tee::cut_off(Box::pin(stream));
    if !empty {
        upstream = upstream.body(reqwest::Body::wrap_stream(stream));
    }
    let sent = upstream.send().await;
    // Answered (or failed): what the upstream did not take of the client's body is the
    // connection's to finish.
    cut.cut();
    let answer = match sent {
        Ok(a) => a,
        Err(e) => {
            if let Some(stalled) = BodyStalled::find(&e) {
                // The client's fault, not the upstream's: the mock's answer to a stalled body.
                let mut response = closing(error_json(
                    StatusCode::REQUEST_TIMEOUT,
                    &stalled.to_string(),
                ));
                violations_header(&mut response, &found);
                return finish(proxy, &seen, response, &found, None);
            }
            let why = format!("the upstream did not answer: {}", with_causes(&e));
            found.push(Violation::error(&["response"], "upstream", why.clone()));
            let mut response = if proxy.strict {
                strict_answer(&found, None)
            } else {
                error_json(StatusCode::BAD_GATEWAY, &why)
            };
            violations_header(&mut response, &found);
            return finish(proxy, &seen, response, &found, None);
        }
    };
    // The upstream answered: the exchange is recorded.
    seen.number = proxy.recorder.as_deref().map(Recorder::number);
    let mut form = None;
    if let Some(check) = form_check {
        let (form_found, read) = check.violations().await;
        found.extend(form_found);
        form = read;
    }

    let status = answer.status();
    let mut out_headers = HeaderMap::with_capacity(answer.headers().len() + 1);
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            out_headers.append(name.clone(), value.clone());
        }
    }
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let json = content_type.as_deref().is_some_and(validate::is_json);
    let body = match operation {
        Some(op) if json => {
            let (read, body) = read_json(answer, &mut found).await;
            let checked = match &read {
                Some(bytes) => validate::Body::Read(bytes),
                None => validate::Body::TooLarge {
                    limit: CHECKED_BODY_LIMIT,
                },
            };
            found.extend(op.check_response(status.as_u16(), content_type.as_deref(), checked));
            body
        }
        Some(op) => {
            let checked = validate::Body::Read(&[]);
            found.extend(op.check_response(status.as_u16(), content_type.as_deref(), checked));
            Body::from_stream(answer.bytes_stream())
        }
        None => Body::from_stream(answer.bytes_stream()),
    };

    let mut response = if proxy.strict && has_error(&found) {
        strict_answer(&found, Some(status))
    } else {
        let mut response = Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = out_headers;
        response
    };
    violations_header(&mut response, &found);
    finish(proxy, &seen, response, &found, form)
}

/// A JSON answer read up to the limit: the bytes when it was all read, and the body to send on
/// (the bytes, or what was read followed by the rest, streamed).
async fn read_json(answer: reqwest::Response, found: &mut Vec<Violation>) -> (Option<Bytes>, Body) {
    let mut stream = answer.bytes_stream();
    let mut read = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) if read.len() + chunk.len() <= CHECKED_BODY_LIMIT => {
                read.extend_from_slice(&chunk)
            }
            Ok(chunk) => {
                let head =
                    futures::stream::iter([Ok::<_, reqwest::Error>(read.freeze()), Ok(chunk)]);
                return (None, Body::from_stream(head.chain(stream)));
            }
            Err(e) => {
                found.push(Violation::error(
                    &["response", "body"],
                    "upstream",
                    format!("the upstream's body broke off: {}", with_causes(&e)),
                ));
                break;
            }
        }
    }
    let read = read.freeze();
    (Some(read.clone()), Body::from(read))
}

fn has_error(found: &[Violation]) -> bool {
    found.iter().any(|v| v.severity == Severity::Error)
}

/// The strict mode's 502: the API's error shape (`success`, `error`) with the violations beside.
fn strict_answer(found: &[Violation], upstream: Option<StatusCode>) -> Response {
    let errors = found
        .iter()
        .filter(|v| v.severity == Severity::Error)
        .count();
    let text = match upstream {
        Some(status) => format!(
            "the exchange breaks openapi.yaml ({errors} error(s)); the upstream answered {}, withheld by the strict proxy",
            status.as_u16()
        ),
        None => format!(
            "the request breaks openapi.yaml ({errors} error(s)); the strict proxy did not forward it"
        ),
    };
    let body = serde_json::json!({ "success": false, "error": text, "violations": found });
    json(StatusCode::BAD_GATEWAY, body.to_string())
}

/// What the journal (and a recording) says of a request, gathered as it is handled.
struct Seen {
    method: Method,
    headers: HeaderMap,
    path: String,
    query: Option<String>,
    /// The exchange's number in the recording, when it is recorded.
    number: Option<u64>,
}

impl Seen {
    fn new(parts: &axum::http::request::Parts) -> Seen {
        Seen {
            method: parts.method.clone(),
            headers: parts.headers.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            number: None,
        }
    }
}

/// Headers of the proxy's own in an answer, which a kept answer leaves out: the violations
/// (kept beside it) and CORS (the mock's and the proxy's own rule).
fn proxy_header(name: &str) -> bool {
    name == VIOLATIONS_HEADER || name.starts_with("access-control-")
}

/// Logs the violations, and journals (and records) the exchange once its answer has been sent,
/// the key redacted.
fn finish(
    proxy: &Proxy,
    seen: &Seen,
    response: Response,
    found: &[Violation],
    form: Option<FormRecord>,
) -> Response {
    let (method, path) = (&seen.method, &seen.path);
    let status = response.status().as_u16();
    tracing::info!(%method, %path, status, violations = found.len(), "proxied");
    for v in found {
        match v.severity {
            Severity::Error => tracing::warn!(%method, %path, "{}", v.line()),
            Severity::Warning => tracing::info!(%method, %path, "{}", v.line()),
        }
    }
    let mut record = request_record(
        method,
        &seen.headers,
        path,
        seen.query.as_deref(),
        status,
        found,
        form,
    );
    let state = proxy.state.clone();
    let recording = seen.number.zip(proxy.recorder.clone());
    // A recording keeps JSON answers as whole as the proxy reads them to check.
    let bound = if recording.is_some() {
        CHECKED_BODY_LIMIT
    } else {
        MAX_KEPT_BODY
    };
    // Journalled as the answer starts, like the mock's requests; the answer is added once sent.
    let slot =
        state.journal_request(serde_json::to_string(&record).unwrap_or_else(|_| "null".to_owned()));
    keep(
        response,
        bound,
        proxy_header,
        Box::new(move |sent| {
            record.answer = Some(sent.kept());
            if let Some((number, recorder)) = recording {
                recorder.write(number, &state.now(), &record);
                if let Some(answer) = &mut record.answer {
                    // The journal's entry is bounded like the mock's.
                    answer.body = std::mem::take(&mut answer.body).within(MAX_KEPT_BODY);
                }
            }
            let text = serde_json::to_string(&record).unwrap_or_else(|_| "null".to_owned());
            state.journal_answer(slot, text);
        }),
    )
}
