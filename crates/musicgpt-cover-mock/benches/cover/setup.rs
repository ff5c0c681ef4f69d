//! What every measurement starts with: a Tokio runtime of its own, its threads named so /proc can
//! tell their CPU time apart, and an HTTP client that never goes through a proxy.

pub(crate) use crate::common::runtime;

pub(crate) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}
