//! What every measurement starts with: a Tokio runtime of its own, its threads named so /proc can
//! tell their CPU time apart, an HTTP client that never goes through a proxy, and temporary files.

use std::path::PathBuf;

pub(crate) use crate::common::runtime;

pub(crate) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}

/// A file in the system's temporary directory, deleted when dropped.
pub(crate) struct TempFile(pub(crate) PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
