//! What the cover bench and the soak share, included by both (`#[path = "../common/mod.rs"]`):
//! the HTTP/1.1 client their loads use, the mock's binary as a child and its memory, the command
//! line's grammar, what both read of the spec, a runtime, a server in it, temporary files, the
//! bytes both send, latency quantiles and a lock that survives a panic.

pub(crate) mod http1;
pub(crate) mod mock;
pub(crate) mod options;
pub(crate) mod spec;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// A Tokio runtime of `threads` workers, its threads named `name` so /proc can tell their CPU
/// time apart.
pub(crate) fn runtime(name: &str, threads: usize) -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the {name} runtime: {e}"))
}

/// `app` served on 127.0.0.1 and a free port, on the current runtime, until the handle is aborted;
/// `what` names it in errors.
pub(crate) async fn serve(
    app: axum::Router,
    what: &str,
) -> Result<(SocketAddr, JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|e| format!("{what} cannot listen on 127.0.0.1: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("{what}'s address: {e}"))?;
    // axum's `serve` never returns.
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

/// A file or folder in the system's temporary directory, removed when dropped.
pub(crate) struct Temp(pub(crate) PathBuf);

impl Temp {
    /// `name` in the temporary directory, not made yet.
    pub(crate) fn file(name: &str) -> Temp {
        Temp(std::env::temp_dir().join(name))
    }

    /// A fresh, empty folder `name` in the temporary directory.
    pub(crate) fn dir(name: &str) -> Result<Temp, String> {
        let dir = Temp::file(name);
        let _ = std::fs::remove_dir_all(&dir.0);
        std::fs::create_dir_all(&dir.0)
            .map_err(|e| format!("could not make {}: {e}", dir.0.display()))?;
        Ok(dir)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes that look like compressed audio (no long runs for a boundary search to skip, no line
/// structure; the odds that a 31-byte boundary shows up in them are nil): a xorshift generator's
/// output.
pub(crate) fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Bytes in MiB.
pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 20)
}

/// The `q` quantile of latencies in microseconds, in milliseconds; `None` when there are none.
pub(crate) fn quantile_ms(micros: &mut [u32], q: f64) -> Option<f64> {
    let index = ((micros.len().checked_sub(1)?) as f64 * q).round() as usize;
    let (_, nth, _) = micros.select_nth_unstable(index);
    Some(f64::from(*nth) / 1000.0)
}

/// Locks a mutex, carrying on after a panic elsewhere: the loads' workers and the webhook
/// receivers leave whole entries behind, so what a poisoned lock holds is still worth counting.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
