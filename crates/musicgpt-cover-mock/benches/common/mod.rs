//! What the cover bench and the soak share, included by both (`#[path = "../common/mod.rs"]`):
//! the HTTP/1.1 client their loads use, the mock's binary as a child and its memory, the command
//! line's grammar, a runtime, and the bytes both send.

pub(crate) mod http1;
pub(crate) mod mock;
pub(crate) mod options;

use tokio::runtime::Runtime;

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
