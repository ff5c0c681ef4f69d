//! Constructors of [`Client`] from an API key: the key goes, raw, in the `Authorization` header.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::{ApiError, Client};

/// How long to wait for a TCP (and TLS) connection before giving up. A connection that fails,
/// in time or not, sent nothing: its [`ApiError::Transport`] is
/// [`is_safe_to_resend`](ApiError::is_safe_to_resend), even for a Cover.
///
/// There is no overall request timeout by default: uploading a large `audio_file` may take
/// longer than any fixed limit. Pass your own `reqwest::ClientBuilder` to
/// [`Client::from_api_key_with`] for one.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

impl Client {
    /// A client for `base_url` (one of [`servers`](crate::servers), or any URL ending in
    /// `/api/public`) that sends `api_key` as the `Authorization` header of every request,
    /// raw, with no `Bearer` prefix. Connecting may take [`CONNECT_TIMEOUT`]; there is no overall
    /// timeout, as an upload may take long.
    ///
    /// # Errors
    ///
    /// [`ApiError::InvalidRequest`] when the key is empty or cannot be a header value (a line
    /// break, say), [`ApiError::Transport`] when reqwest cannot set up its client.
    pub fn from_api_key(api_key: &str, base_url: &str) -> Result<Self, ApiError> {
        Self::from_api_key_with(
            api_key,
            base_url,
            reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT),
        )
    }

    /// As [`Client::from_api_key`], on a `reqwest::ClientBuilder` of the caller's (timeouts,
    /// proxies, TLS roots...). The `Authorization` header is added to the builder's default
    /// headers: those it already has (set with `default_headers`, `user_agent`...) are kept,
    /// except an `Authorization` of its own, which the key replaces. No connect timeout is added:
    /// the builder's settings are used as they are.
    ///
    /// # Errors
    ///
    /// As [`Client::from_api_key`].
    pub fn from_api_key_with(
        api_key: &str,
        base_url: &str,
        builder: reqwest::ClientBuilder,
    ) -> Result<Self, ApiError> {
        if api_key.trim().is_empty() {
            return Err(ApiError::invalid_request(
                "the API key is empty: pass the key of your MusicGPT account",
            ));
        }
        let mut value = HeaderValue::from_str(api_key).map_err(|_| {
            ApiError::invalid_request(
                "the API key holds characters an HTTP header cannot carry (a line break?)",
            )
        })?;
        // Keeps the key out of reqwest's Debug output and logs.
        value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        let http = builder
            .default_headers(headers)
            .build()
            // As the generated calls report a reqwest error: progenitor's `CommunicationError`.
            .map_err(|error| ApiError::from(crate::Error::from(error)))?;
        // The generated calls append the path to the base URL as written.
        Ok(Self::new_with_client(base_url.trim_end_matches('/'), http))
    }
}
