//! [`ApiError`]: one variant per documented error status, built from the generated calls'
//! `Error<types::Error>`, plus the failures that happen before or around a response.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;

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
    /// 429: a rate limit of the plan was reached; retry later.
    #[error("429 Too Many Requests: {}", text(.0))]
    RateLimited(types::Error),
    /// 5xx: the API failed.
    #[error("{status}: {}", text(.body))]
    Server {
        /// The status, 500 to 599.
        status: StatusCode,
        /// The documented error body.
        body: types::Error,
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
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// Reading the audio to upload failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// [`Client::wait_for_conversion`](crate::Client::wait_for_conversion) reached its
    /// deadline before the conversion reached a final status.
    #[error("the conversion was not final after {waited:?} (last status: {})", last_status.as_ref().map_or("none seen", |status| status.as_str()))]
    Timeout {
        /// How long it polled.
        waited: Duration,
        /// The last status seen, if any poll succeeded.
        last_status: Option<types::ConversionStatus>,
    },
    /// A client hook refused the request.
    #[error("a client hook failed: {0}")]
    Hook(String),
}

fn text(body: &types::Error) -> Cow<'_, str> {
    body.text().unwrap_or(Cow::Borrowed("(no message)"))
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
    /// The variant for a documented error `status` with its decoded `body`.
    pub fn from_status(status: StatusCode, body: types::Error) -> Self {
        match status.as_u16() {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            402 => Self::InsufficientCredit(body),
            403 => Self::Forbidden(body),
            404 => Self::NotFound(body),
            413 => Self::PayloadTooLarge(body),
            422 => Self::Unprocessable(body),
            429 => Self::RateLimited(body),
            500..=599 => Self::Server { status, body },
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
            Self::RateLimited(_) => 429,
            Self::Server { status, .. }
            | Self::OtherStatus { status, .. }
            | Self::Unexpected { status, .. } => return Some(*status),
            Self::Transport(error) => return error.status(),
            Self::InvalidRequest(_)
            | Self::InvalidResponse { .. }
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
            | Self::RateLimited(body)
            | Self::Server { body, .. }
            | Self::OtherStatus { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether the API key is missing or refused (401 or 403): fix the key, do not retry.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, Self::Unauthorized(_) | Self::Forbidden(_))
    }

    /// Whether the same request may succeed later: a transport failure, 429 or a 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::RateLimited(_) | Self::Server { .. } => true,
            Self::Unexpected { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            _ => false,
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
                Self::from_status(status, response.into_inner())
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
