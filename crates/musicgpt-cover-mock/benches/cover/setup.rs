//! What every measurement starts with: a Tokio runtime of its own, its threads named so /proc can
//! tell their CPU time apart, and an HTTP client that never goes through a proxy.

use tokio::runtime::Runtime;

pub(crate) fn runtime(name: &str, threads: usize) -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the {name} runtime: {e}"))
}

pub(crate) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}
