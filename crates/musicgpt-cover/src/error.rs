//! [`ApiError`]: the error of every call of the client, one variant per documented error
//! status, built from the generated calls' `Error<types::Error>` (progenitor's, kept as the
//! `source`), plus the failures that happen before or around a response.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::types;

/// progenitor's error, as the generated code builds it before `send()` converts it into an
/// [`ApiError`]: the [`source`](std::error::Error::source) of every `ApiError` made from one,
/// also reachable with [`ApiError::progenitor_error`]. (The crate root re-exports progenitor's
/// `Error` too.)
pub type ProgenitorError = progenitor_client::Error<types::Error>;

/// Everything a call of this client can fail with: every `send()` returns it, the generated
/// operations' and the multipart Cover's alike, and so do the hand-written helpers.
///
/// Match it where the call is made, or pass it on with `?`:
///
/// ```no_run
/// # async fn run(client: musicgpt_cover::Client) -> Result<(), musicgpt_cover::ApiError> {
/// use musicgpt_cover::ApiError;
///
/// match client.get_all_voices().limit(10).send().await {
///     Ok(page) => println!("{} voices on this page", page.voices.len()),
///     Err(ApiError::Forbidden { .. }) => eprintln!("the key was refused"),
///     Err(error) if error.is_retryable() => eprintln!("try again later: {error}"),
///     Err(error) => return Err(error),
/// }
/// # Ok(()) }
/// ```
///
/// A variant made from a generated call's error keeps that error (progenitor's
/// [`ProgenitorError`], with the status, headers and body of the answer, or the reqwest error
/// under it) in its `source` field: [`std::error::Error::source`] returns it, and
/// [`ApiError::progenitor_error`] gives it typed. The other fields are what a `match` needs.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// The request was refused by the client before anything was sent: a value out of the
    /// spec's bounds, a missing required field, no audio at all, a bad API key.
    InvalidRequest {
        /// What was wrong.
        message: String,
        /// progenitor's `InvalidRequest` with the same text.
        source: Box<ProgenitorError>,
    },
    /// 400: the request was refused, e.g. `audio_url` could not be downloaded.
    BadRequest {
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 401: no API key reached the API. See [`ApiError::is_auth_failure`].
    Unauthorized {
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 402: the credit balance is too low for the conversion.
    InsufficientCredit {
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 403: the API key was refused. See [`ApiError::is_auth_failure`].
    Forbidden {
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 404: no such conversion.
    NotFound {
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 413: the uploaded file is over the API's size limit.
    PayloadTooLarge {
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 422: the form was not valid (e.g. neither audio_url nor audio_file reached the API).
    Unprocessable {
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 429: a rate limit of the plan was reached; retry later, not before `retry_after`. The
    /// API refused the request, so even a Cover may be sent again (see
    /// [`ApiError::is_safe_to_resend`]).
    RateLimited {
        /// The documented error body.
        body: types::Error,
        /// The answer's `Retry-After` (see [`ApiError::retry_after`]).
        retry_after: Option<Duration>,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// 5xx: the API failed.
    Server {
        /// The status, 500 to 599.
        status: StatusCode,
        /// The documented error body.
        body: types::Error,
        /// The answer's `Retry-After` (see [`ApiError::retry_after`]).
        retry_after: Option<Duration>,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// A documented error status this enum has no variant for.
    OtherStatus {
        /// The status.
        status: StatusCode,
        /// The documented error body.
        body: types::Error,
        /// progenitor's `ErrorResponse`: the status, headers and body of the answer.
        source: Box<ProgenitorError>,
    },
    /// A status the spec does not document for the operation; the body is left unread in
    /// progenitor's `UnexpectedResponse` (see [`ApiError::into_progenitor_error`]).
    Unexpected {
        /// The status.
        status: StatusCode,
        /// progenitor's `UnexpectedResponse`: the whole response, for its headers or body.
        source: Box<ProgenitorError>,
    },
    /// A documented status whose body does not match its schema (for an error status this
    /// hides which status it was: progenitor's generated code reports it so).
    InvalidResponse {
        /// The body as received.
        body: Bytes,
        /// progenitor's `InvalidResponsePayload`, whose own source is the JSON error saying
        /// why the body does not decode.
        source: Box<ProgenitorError>,
    },
    /// The request could not be sent or the response not read (connection, TLS, timeout...).
    /// Whether the request reached the API is unknown unless the connection itself failed: see
    /// [`ApiError::is_safe_to_resend`] and [`ApiError::reqwest_error`].
    Transport {
        /// progenitor's `CommunicationError`, `ResponseBodyError` or `InvalidUpgrade`, whose
        /// own source is the reqwest error.
        source: Box<ProgenitorError>,
    },
    /// A request of [`Client::wait_for_conversion`](crate::Client::wait_for_conversion) got no
    /// complete answer within [`PollOptions::request_timeout`](crate::PollOptions) (a stalled
    /// server, an answer dribbled too slowly): it was given up and the wait went on.
    RequestTimeout(Duration),
    /// Reading the audio to upload failed.
    Io(std::io::Error),
    /// [`Client::wait_for_conversion`](crate::Client::wait_for_conversion) reached its
    /// deadline before the conversion reached a final status, or was told by a `Retry-After` to
    /// come back only after it.
    Timeout {
        /// How long it polled.
        waited: Duration,
        /// The last status seen, if any poll succeeded.
        last_status: Option<types::ConversionStatus>,
        /// How many requests it sent.
        attempts: u32,
        /// The last failure of a poll that was retried (transport, 429, 5xx, a request
        /// timeout), if any poll failed: why the wait saw no progress.
        last_error: Option<Box<ApiError>>,
    },
    /// A client hook refused the request.
    Hook {
        /// The hook's text.
        message: String,
        /// progenitor's `Custom` with the same text.
        source: Box<ProgenitorError>,
    },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRequest { message, .. } => {
                write!(f, "invalid request, nothing was sent: {message}")
            }
            Self::BadRequest { body, .. } => write!(f, "400 Bad Request: {}", text(body)),
            Self::Unauthorized { body, .. } => write!(f, "401 Unauthorized: {}", text(body)),
            Self::InsufficientCredit { body, .. } => {
                write!(f, "402 Payment Required: {}", text(body))
            }
            Self::Forbidden { body, .. } => write!(f, "403 Forbidden: {}", text(body)),
            Self::NotFound { body, .. } => write!(f, "404 Not Found: {}", text(body)),
            Self::PayloadTooLarge { body, .. } => {
                write!(f, "413 Payload Too Large: {}", text(body))
            }
            Self::Unprocessable { body, .. } => {
                write!(f, "422 Unprocessable Entity: {}", text(body))
            }
            Self::RateLimited {
                body, retry_after, ..
            } => write!(
                f,
                "429 Too Many Requests: {}{}",
                text(body),
                after(*retry_after)
            ),
            Self::Server {
                status,
                body,
                retry_after,
                ..
            } => write!(f, "{status}: {}{}", text(body), after(*retry_after)),
            Self::OtherStatus { status, body, .. } => write!(f, "{status}: {}", text(body)),
            Self::Unexpected { status, .. } => write!(f, "unexpected response status {status}"),
            Self::InvalidResponse { source, .. } => {
                f.write_str("the response body does not match the spec")?;
                match json_error(source) {
                    Some(error) => write!(f, ": {error}"),
                    None => Ok(()),
                }
            }
            Self::Transport { source } => match reqwest_of(source) {
                Some(error) => write!(f, "transport error: {error}"),
                None => write!(f, "transport error: {source}"),
            },
            Self::RequestTimeout(limit) => write!(f, "no complete answer within {limit:?}"),
            Self::Io(error) => write!(f, "{error}"),
            Self::Timeout {
                waited,
                last_status,
                attempts,
                last_error,
            } => TimeoutText::new(
                *waited,
                *attempts,
                last_status.as_ref(),
                last_error.as_deref(),
            )
            .fmt(f),
            Self::Hook { message, .. } => write!(f, "a client hook failed: {message}"),
        }
    }
}

/// The source is progenitor's error itself (not the box around it), so that
/// `source().downcast_ref::<ProgenitorError>()` finds it.
impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(error) => Some(error),
            // Its text already names the last error.
            Self::Timeout { .. } => None,
            _ => self
                .progenitor_error()
                .map(|error| error as &(dyn std::error::Error + 'static)),
        }
    }
}

impl From<std::io::Error> for ApiError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

/// The reqwest error under a transport failure of progenitor's.
fn reqwest_of(error: &ProgenitorError) -> Option<&reqwest::Error> {
    match error {
        progenitor_client::Error::CommunicationError(error)
        | progenitor_client::Error::InvalidUpgrade(error)
        | progenitor_client::Error::ResponseBodyError(error) => Some(error),
        _ => None,
    }
}

/// The JSON error under a body progenitor could not decode.
fn json_error(error: &ProgenitorError) -> Option<&serde_json::Error> {
    match error {
        progenitor_client::Error::InvalidResponsePayload(_, error) => Some(error),
        _ => None,
    }
}

fn text(body: &types::Error) -> Cow<'_, str> {
    body.text().unwrap_or(Cow::Borrowed("(no message)"))
}

/// ` (retry after 2s)`, or nothing without a `Retry-After`.
fn after(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |wait| format!(" (retry after {wait:?})"))
}

/// The text of [`ApiError::Timeout`].
struct TimeoutText<'a> {
    waited: Duration,
    attempts: u32,
    last_status: Option<&'a types::ConversionStatus>,
    last_error: Option<&'a ApiError>,
}

impl<'a> TimeoutText<'a> {
    fn new(
        waited: Duration,
        attempts: u32,
        last_status: Option<&'a types::ConversionStatus>,
        last_error: Option<&'a ApiError>,
    ) -> Self {
        Self {
            waited,
            attempts,
            last_status,
            last_error,
        }
    }
}

impl fmt::Display for TimeoutText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self
            .last_status
            .map_or("none seen", |status| status.as_str());
        write!(
            f,
            "the conversion was not final after {:?} and {} requests (last status: {status}",
            self.waited, self.attempts
        )?;
        if let Some(error) = self.last_error {
            write!(f, "; last error: {error}")?;
        }
        f.write_str(")")
    }
}

/// The `Retry-After` of an answer received at `now`, as a wait from then: a number of seconds,
/// or an HTTP-date (a date already past waits nothing). `None` without the header or with a
/// value that is neither; a number of seconds too large for a `Duration` is `Duration::MAX`.
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

impl types::Error {
    /// The error's text, wherever the API put it: `error` (the Cover endpoint), else `message`
    /// (the other endpoints), else FastAPI's `detail`: a string as it is, a list of validation
    /// issues as their `msg`s, each after its `loc` (`body.voice_id: Field required`), joined
    /// with `; `. Empty texts are skipped; `None` when no field carries any (`success` is not
    /// required either: a bare `{"detail": ...}` is a valid error body).
    pub fn text(&self) -> Option<Cow<'_, str>> {
        fn given(text: Option<&str>) -> Option<Cow<'_, str>> {
            text.filter(|text| !text.trim().is_empty())
                .map(Cow::Borrowed)
        }
        given(self.error.as_deref())
            .or_else(|| given(self.message.as_deref()))
            .or_else(|| match &self.detail {
                Some(types::ErrorDetail::String(detail)) => given(Some(detail)),
                Some(types::ErrorDetail::Array(issues)) => {
                    let texts: Vec<String> = issues.iter().filter_map(issue_text).collect();
                    (!texts.is_empty()).then(|| Cow::Owned(texts.join("; ")))
                }
                None => None,
            })
    }
}

/// One FastAPI validation issue as text: `loc.loc: msg`, or the `msg` alone without a `loc`.
fn issue_text(issue: &types::ValidationIssue) -> Option<String> {
    let message = issue.msg.as_deref().filter(|msg| !msg.trim().is_empty())?;
    if issue.loc.is_empty() {
        return Some(message.to_owned());
    }
    let location: Vec<String> = issue.loc.iter().map(ToString::to_string).collect();
    Some(format!("{}: {message}", location.join(".")))
}

/// The variants that carry progenitor's error, written once for [`ApiError::progenitor_error`]
/// (by reference) and [`ApiError::into_progenitor_error`] (by value).
macro_rules! progenitor_source {
    ($error:expr, $source:ident => $found:expr) => {
        match $error {
            Self::InvalidRequest {
                source: $source, ..
            }
            | Self::BadRequest {
                source: $source, ..
            }
            | Self::Unauthorized {
                source: $source, ..
            }
            | Self::InsufficientCredit {
                source: $source, ..
            }
            | Self::Forbidden {
                source: $source, ..
            }
            | Self::NotFound {
                source: $source, ..
            }
            | Self::PayloadTooLarge {
                source: $source, ..
            }
            | Self::Unprocessable {
                source: $source, ..
            }
            | Self::RateLimited {
                source: $source, ..
            }
            | Self::Server {
                source: $source, ..
            }
            | Self::OtherStatus {
                source: $source, ..
            }
            | Self::Unexpected {
                source: $source, ..
            }
            | Self::InvalidResponse {
                source: $source, ..
            }
            | Self::Transport { source: $source }
            | Self::Hook {
                source: $source, ..
            } => Some($found),
            Self::RequestTimeout(_) | Self::Io(_) | Self::Timeout { .. } => None,
        }
    };
}

impl ApiError {
    /// The variant for a documented error `status` with its decoded `body`, as if the API had
    /// answered so without headers (for tests of code that handles these errors).
    pub fn from_status(status: StatusCode, body: types::Error) -> Self {
        progenitor_client::Error::ErrorResponse(progenitor_client::ResponseValue::new(
            body,
            status,
            HeaderMap::new(),
        ))
        .into()
    }

    /// The variant for a documented error `status` with its decoded `body` and the answer's
    /// `Retry-After` (kept by the variants that can carry one, 429 and 5xx), around `source`.
    fn from_answer(
        status: StatusCode,
        body: types::Error,
        retry_after: Option<Duration>,
        source: Box<ProgenitorError>,
    ) -> Self {
        match status.as_u16() {
            400 => Self::BadRequest { body, source },
            401 => Self::Unauthorized { body, source },
            402 => Self::InsufficientCredit { body, source },
            403 => Self::Forbidden { body, source },
            404 => Self::NotFound { body, source },
            413 => Self::PayloadTooLarge { body, source },
            422 => Self::Unprocessable { body, source },
            429 => Self::RateLimited {
                body,
                retry_after,
                source,
            },
            500..=599 => Self::Server {
                status,
                body,
                retry_after,
                source,
            },
            _ => Self::OtherStatus {
                status,
                body,
                source,
            },
        }
    }

    /// progenitor's error this one was made from (every variant but `RequestTimeout`, `Io` and
    /// `Timeout`, which the hand-written layer makes itself); the same value as
    /// [`std::error::Error::source`], typed.
    pub fn progenitor_error(&self) -> Option<&ProgenitorError> {
        progenitor_source!(self, source => source)
    }

    /// progenitor's error this one was made from, by value: for an [`ApiError::Unexpected`],
    /// its `UnexpectedResponse` holds the response with its body unread.
    pub fn into_progenitor_error(self) -> Option<ProgenitorError> {
        progenitor_source!(self, source => *source)
    }

    /// The HTTP status of the response, when the error comes from one.
    pub fn status(&self) -> Option<StatusCode> {
        let code = match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthorized { .. } => 401,
            Self::InsufficientCredit { .. } => 402,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::PayloadTooLarge { .. } => 413,
            Self::Unprocessable { .. } => 422,
            Self::RateLimited { .. } => 429,
            Self::Server { status, .. }
            | Self::OtherStatus { status, .. }
            | Self::Unexpected { status, .. } => return Some(*status),
            Self::Transport { source } => return reqwest_of(source)?.status(),
            Self::InvalidRequest { .. }
            | Self::InvalidResponse { .. }
            | Self::RequestTimeout(_)
            | Self::Io(_)
            | Self::Timeout { .. }
            | Self::Hook { .. } => return None,
        };
        StatusCode::from_u16(code).ok()
    }

    /// The headers of the answer, when the error comes from one (a documented error status or
    /// an undocumented one).
    pub fn headers(&self) -> Option<&HeaderMap> {
        match self.progenitor_error()? {
            progenitor_client::Error::ErrorResponse(response) => Some(response.headers()),
            progenitor_client::Error::UnexpectedResponse(response) => Some(response.headers()),
            _ => None,
        }
    }

    /// The documented error body, when the API sent one.
    pub fn body(&self) -> Option<&types::Error> {
        match self {
            Self::BadRequest { body, .. }
            | Self::Unauthorized { body, .. }
            | Self::InsufficientCredit { body, .. }
            | Self::Forbidden { body, .. }
            | Self::NotFound { body, .. }
            | Self::PayloadTooLarge { body, .. }
            | Self::Unprocessable { body, .. }
            | Self::RateLimited { body, .. }
            | Self::Server { body, .. }
            | Self::OtherStatus { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The reqwest error of an [`ApiError::Transport`]: `is_connect()`, `is_timeout()`...
    pub fn reqwest_error(&self) -> Option<&reqwest::Error> {
        match self {
            Self::Transport { source } => reqwest_of(source),
            _ => None,
        }
    }

    /// Whether the API key is missing or refused (401 or 403): fix the key, do not retry.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::Forbidden { .. })
    }

    /// Whether the same request may succeed later: a transport failure (connection refused,
    /// reset or closed, a body cut short), a request timeout, an answer cut short (its JSON ends
    /// early), 429 or a 5xx. It says nothing of whether resending is harmless: a Cover that
    /// reached the API charges credits again; see [`ApiError::is_safe_to_resend`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. }
            | Self::RequestTimeout(_)
            | Self::RateLimited { .. }
            | Self::Server { .. } => true,
            Self::InvalidResponse { source, .. } => json_error(source).is_some_and(|e| e.is_eof()),
            Self::Unexpected { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            _ => false,
        }
    }

    /// Whether this error proves that the API did not act on the request, and sending it again
    /// may succeed: the connection could not be made (nothing was sent), a 429 (the rate limiter
    /// refused it), or a 503 with a `Retry-After` (the API said it is unavailable until then).
    ///
    /// This is the test to pass before sending a Cover again: a Cover that reached the API
    /// charges credits and starts a conversion, and an error that comes after the request was
    /// sent (a reset, a closed connection, a timeout, a 500, an answer cut short) does not say
    /// whether it did. Wait [`ApiError::retry_after`] first when there is one.
    pub fn is_safe_to_resend(&self) -> bool {
        match self {
            Self::Transport { source } => {
                reqwest_of(source).is_some_and(reqwest::Error::is_connect)
            }
            Self::RateLimited { .. } => true,
            Self::Server { status, .. } | Self::Unexpected { status, .. } => {
                *status == StatusCode::SERVICE_UNAVAILABLE && self.retry_after().is_some()
            }
            _ => false,
        }
    }

    /// How long the API asked to wait before the next request: the `Retry-After` of a 429, a
    /// 5xx or an undocumented status, given as seconds or as an HTTP-date (counted from when the
    /// answer came; a date already past is zero). `None` without one or with a value that is
    /// neither.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Server { retry_after, .. } => {
                *retry_after
            }
            Self::Unexpected { .. } => parse_retry_after(self.headers()?, SystemTime::now()),
            _ => None,
        }
    }
}

impl From<ProgenitorError> for ApiError {
    fn from(error: ProgenitorError) -> Self {
        use progenitor_client::Error;
        let source = Box::new(error);
        match &*source {
            Error::InvalidRequest(message) => Self::InvalidRequest {
                message: message.clone(),
                source,
            },
            Error::CommunicationError(_)
            | Error::InvalidUpgrade(_)
            | Error::ResponseBodyError(_) => Self::Transport { source },
            Error::ErrorResponse(response) => {
                let status = response.status();
                let retry_after = parse_retry_after(response.headers(), SystemTime::now());
                let body = response.as_ref().clone();
                Self::from_answer(status, body, retry_after, source)
            }
            Error::InvalidResponsePayload(body, _) => Self::InvalidResponse {
                body: body.clone(),
                source,
            },
            Error::UnexpectedResponse(response) => Self::Unexpected {
                status: response.status(),
                source,
            },
            Error::Custom(message) => Self::Hook {
                message: message.clone(),
                source,
            },
        }
    }
}

impl ApiError {
    /// A refusal of the client's own, before anything was sent (an empty API key, say): an
    /// [`ApiError::InvalidRequest`] around progenitor's error of the same kind, as the generated
    /// builders make theirs.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        progenitor_client::Error::InvalidRequest(message.into()).into()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    use super::parse_retry_after;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(value).expect("a header value"),
        );
        headers
    }

    /// A fixed "now": 2026-01-01T00:00:00Z.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    #[test]
    fn seconds() {
        assert_eq!(
            parse_retry_after(&headers("2"), now()),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(&headers(" 0 "), now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn seconds_too_large_for_a_number_are_the_longest_wait() {
        assert_eq!(
            parse_retry_after(&headers("99999999999999999999999"), now()),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn an_http_date_counts_from_now_in_every_format_a_recipient_must_read() {
        // IMF-fixdate, the obsolete RFC 850 form and asctime, all 90 s after now().
        for value in [
            "Thu, 01 Jan 2026 00:01:30 GMT",
            "Thursday, 01-Jan-26 00:01:30 GMT",
            "Thu Jan  1 00:01:30 2026",
        ] {
            assert_eq!(
                parse_retry_after(&headers(value), now()),
                Some(Duration::from_secs(90)),
                "{value}"
            );
        }
    }

    #[test]
    fn a_date_already_past_waits_nothing() {
        assert_eq!(
            parse_retry_after(&headers("Wed, 31 Dec 2025 23:59:00 GMT"), now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn anything_else_is_no_retry_after() {
        assert_eq!(parse_retry_after(&HeaderMap::new(), now()), None);
        for value in [
            "",
            "-1",
            "1.5",
            "soon",
            "2 seconds",
            "Thu, 32 Jan 2026 00:00:00 GMT",
        ] {
            assert_eq!(parse_retry_after(&headers(value), now()), None, "{value:?}");
        }
    }
}
