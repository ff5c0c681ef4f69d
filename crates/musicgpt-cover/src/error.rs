//! [`ApiError`]: one variant per documented error status, built from the generated calls'
//! `Error<types::Error>`, plus the failures that happen before or around a response.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::types;

/// Everything a call of this client can fail with.
///
/// Convert the generated calls' error with `?` or `.map_err(ApiError::from)`:
///
/// ```no_run
/// # async fn run(client: musicgpt_cover::Client) -> Result<(), musicgpt_cover::ApiError> {
/// let voices = client.get_all_voices().limit(10).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request was refused by the client before anything was sent: a value out of the
    /// spec's bounds, a missing required field, no audio at all, a bad API key.
    #[error("invalid request, nothing was sent: {0}")]
    InvalidRequest(String),
    /// 400: the request was refused, e.g. `audio_url` could not be downloaded.
    #[error("400 Bad Request: {}", text(.0))]
    BadRequest(types::Error),
    /// 401: no API key reached the API. See [`ApiError::is_auth_failure`].
    #[error("401 Unauthorized: {}", text(.0))]
    Unauthorized(types::Error),
    /// 402: the credit balance is too low for the conversion.
    #[error("402 Payment Required: {}", text(.0))]
    InsufficientCredit(types::Error),
    /// 403: the API key was refused. See [`ApiError::is_auth_failure`].
    #[error("403 Forbidden: {}", text(.0))]
    Forbidden(types::Error),
    /// 404: no such conversion.
    #[error("404 Not Found: {}", text(.0))]
    NotFound(types::Error),
    /// 413: the uploaded file is over the API's size limit.
    #[error("413 Payload Too Large: {}", text(.0))]
    PayloadTooLarge(types::Error),
    /// 422: the form was not valid (e.g. neither audio_url nor audio_file reached the API).
    #[error("422 Unprocessable Entity: {}", text(.0))]
    Unprocessable(types::Error),
    /// 429: a rate limit of the plan was reached; retry later, not before `retry_after`. The
    /// API refused the request, so even a Cover may be sent again (see
    /// [`ApiError::is_safe_to_resend`]).
    #[error("429 Too Many Requests: {}{}", text(.body), after(*.retry_after))]
    RateLimited {
        /// The documented error body.
        body: types::Error,
        /// The answer's `Retry-After` (see [`ApiError::retry_after`]).
        retry_after: Option<Duration>,
    },
    /// 5xx: the API failed.
    #[error("{status}: {}{}", text(.body), after(*.retry_after))]
    Server {
        /// The status, 500 to 599.
        status: StatusCode,
        /// The documented error body.
        body: types::Error,
        /// The answer's `Retry-After` (see [`ApiError::retry_after`]).
        retry_after: Option<Duration>,
    },
    /// A documented error status this enum has no variant for.
    #[error("{status}: {}", text(.body))]
    OtherStatus {
        /// The status.
        status: StatusCode,
        /// The documented error body.
        body: types::Error,
    },
    /// A status the spec does not document for the operation; the body is left unread in
    /// `response`.
    #[error("unexpected response status {status}")]
    Unexpected {
        /// The status.
        status: StatusCode,
        /// The whole response, for callers that want its headers or body.
        response: Box<reqwest::Response>,
    },
    /// A documented status whose body does not match its schema (for an error status this
    /// hides which status it was: progenitor's generated code reports it so).
    #[error("the response body does not match the spec: {source}")]
    InvalidResponse {
        /// The body as received.
        body: Bytes,
        /// Why it does not decode.
        source: serde_json::Error,
    },
    /// The request could not be sent or the response not read (connection, TLS, timeout...).
    /// Whether the request reached the API is unknown unless the connection itself failed: see
    /// [`ApiError::is_safe_to_resend`].
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A request of [`Client::wait_for_conversion`](crate::Client::wait_for_conversion) got no
    /// complete answer within [`PollOptions::request_timeout`](crate::PollOptions) (a stalled
    /// server, an answer dribbled too slowly): it was given up and the wait went on.
    #[error("no complete answer within {0:?}")]
    RequestTimeout(Duration),
    /// Reading the audio to upload failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// [`Client::wait_for_conversion`](crate::Client::wait_for_conversion) reached its
    /// deadline before the conversion reached a final status, or was told by a `Retry-After` to
    /// come back only after it.
    #[error("{}", TimeoutText::new(*.waited, *.attempts, .last_status.as_ref(), .last_error.as_deref()))]
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
    #[error("a client hook failed: {0}")]
    Hook(String),
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

impl ApiError {
    /// The variant for a documented error `status` with its decoded `body` (and no
    /// `Retry-After`).
    pub fn from_status(status: StatusCode, body: types::Error) -> Self {
        Self::from_answer(status, body, None)
    }

    /// The variant for a documented error `status` with its decoded `body` and the answer's
    /// `Retry-After`, kept by the variants that can carry one (429 and 5xx).
    fn from_answer(status: StatusCode, body: types::Error, retry_after: Option<Duration>) -> Self {
        match status.as_u16() {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            402 => Self::InsufficientCredit(body),
            403 => Self::Forbidden(body),
            404 => Self::NotFound(body),
            413 => Self::PayloadTooLarge(body),
            422 => Self::Unprocessable(body),
            429 => Self::RateLimited { body, retry_after },
            500..=599 => Self::Server {
                status,
                body,
                retry_after,
            },
            _ => Self::OtherStatus { status, body },
        }
    }

    /// The HTTP status of the response, when the error comes from one.
    pub fn status(&self) -> Option<StatusCode> {
        let code = match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::InsufficientCredit(_) => 402,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::PayloadTooLarge(_) => 413,
            Self::Unprocessable(_) => 422,
            Self::RateLimited { .. } => 429,
            Self::Server { status, .. }
            | Self::OtherStatus { status, .. }
            | Self::Unexpected { status, .. } => return Some(*status),
            Self::Transport(error) => return error.status(),
            Self::InvalidRequest(_)
            | Self::InvalidResponse { .. }
            | Self::RequestTimeout(_)
            | Self::Io(_)
            | Self::Timeout { .. }
            | Self::Hook(_) => return None,
        };
        StatusCode::from_u16(code).ok()
    }

    /// The documented error body, when the API sent one.
    pub fn body(&self) -> Option<&types::Error> {
        match self {
            Self::BadRequest(body)
            | Self::Unauthorized(body)
            | Self::InsufficientCredit(body)
            | Self::Forbidden(body)
            | Self::NotFound(body)
            | Self::PayloadTooLarge(body)
            | Self::Unprocessable(body)
            | Self::RateLimited { body, .. }
            | Self::Server { body, .. }
            | Self::OtherStatus { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether the API key is missing or refused (401 or 403): fix the key, do not retry.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, Self::Unauthorized(_) | Self::Forbidden(_))
    }

    /// Whether the same request may succeed later: a transport failure (connection refused,
    /// reset or closed, a body cut short), a request timeout, an answer cut short (its JSON ends
    /// early), 429 or a 5xx. It says nothing of whether resending is harmless: a Cover that
    /// reached the API charges credits again; see [`ApiError::is_safe_to_resend`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_)
            | Self::RequestTimeout(_)
            | Self::RateLimited { .. }
            | Self::Server { .. } => true,
            Self::InvalidResponse { source, .. } => source.is_eof(),
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
            Self::Transport(error) => error.is_connect(),
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
            Self::Unexpected { response, .. } => {
                parse_retry_after(response.headers(), SystemTime::now())
            }
            _ => None,
        }
    }
}

impl From<progenitor_client::Error<types::Error>> for ApiError {
    fn from(error: progenitor_client::Error<types::Error>) -> Self {
        use progenitor_client::Error;
        match error {
            Error::InvalidRequest(message) => Self::InvalidRequest(message),
            Error::CommunicationError(error)
            | Error::InvalidUpgrade(error)
            | Error::ResponseBodyError(error) => Self::Transport(error),
            Error::ErrorResponse(response) => {
                let status = response.status();
                let retry_after = parse_retry_after(response.headers(), SystemTime::now());
                Self::from_answer(status, response.into_inner(), retry_after)
            }
            Error::InvalidResponsePayload(body, source) => Self::InvalidResponse { body, source },
            Error::UnexpectedResponse(response) => Self::Unexpected {
                status: response.status(),
                response: Box::new(response),
            },
            Error::Custom(message) => Self::Hook(message),
        }
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
