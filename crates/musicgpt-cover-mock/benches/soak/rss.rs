//! The mock's resident memory over the run: sampled once a second from /proc/PID/status, and
//! judged flat or not.
//!
//! "Flat after warm-up": the first third of the run is warm-up (the stores fill to their bounds,
//! the allocator settles); the largest sample of the last third must be at most the sample at the
//! end of the first third plus [`GROWTH_SHARE`] of it plus [`GROWTH_BYTES`]. A leak of even a few
//! hundred bytes per request breaks that over a minute of thousands of requests a second; noise
//! from the allocator does not.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::mock;
use crate::report::{mib, thousands};

/// The share of the after-warm-up RSS the last third may grow by.
pub(crate) const GROWTH_SHARE: f64 = 0.10;
/// And the bytes it may grow by on top of that.
pub(crate) const GROWTH_BYTES: u64 = 8 << 20;
/// How often a progress line is printed, in samples (seconds).
const PROGRESS_EVERY: u64 = 5;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// Whole seconds since the load started.
    pub(crate) second: u64,
    pub(crate) rss: u64,
}

/// Samples at 0, 1, ..., `seconds` seconds after `start`, on a thread of its own (so a busy load
/// runtime does not delay them), printing a progress line now and then.
pub(crate) fn sample(
    pid: u32,
    start: Instant,
    seconds: u64,
    sent: Arc<AtomicU64>,
) -> JoinHandle<Result<Vec<Sample>, String>> {
    std::thread::spawn(move || {
        let mut samples = Vec::new();
        for second in 0..=seconds {
            let at = start + Duration::from_secs(second);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            let rss = mock::rss(pid).map_err(|e| format!("at {second} s: {e}"))?;
            samples.push(Sample { second, rss });
            if second > 0 && second % PROGRESS_EVERY == 0 {
                println!(
                    "  t={second:>4} s  {:>10} requests sent  mock RSS {:>7.1} MiB",
                    thousands(sent.load(Ordering::Relaxed)),
                    mib(rss)
                );
            }
        }
        Ok(samples)
    })
}

/// The figures the report prints, and the verdict.
pub(crate) struct Flatness {
    pub(crate) start: Sample,
    pub(crate) warmed: Sample,
    pub(crate) end: Sample,
    pub(crate) max: Sample,
    pub(crate) last_third_max: Sample,
    pub(crate) last_third_from: u64,
    pub(crate) limit: u64,
    pub(crate) flat: bool,
}

/// `None` when there are too few samples to have thirds.
pub(crate) fn judge(samples: &[Sample], seconds: u64) -> Option<Flatness> {
    let warmed_at = seconds.div_ceil(3);
    let last_third_from = (2 * seconds).div_ceil(3);
    let at = |second: u64| samples.iter().find(|s| s.second >= second).copied();
    let largest = |from: u64| {
        samples
            .iter()
            .filter(|s| s.second >= from)
            .max_by_key(|s| s.rss)
            .copied()
    };
    let warmed = at(warmed_at)?;
    let last_third_max = largest(last_third_from)?;
    let limit = warmed.rss + (warmed.rss as f64 * GROWTH_SHARE) as u64 + GROWTH_BYTES;
    Some(Flatness {
        start: *samples.first()?,
        warmed,
        end: *samples.last()?,
        max: largest(0)?,
        last_third_max,
        last_third_from,
        limit,
        flat: last_third_max.rss <= limit,
    })
}
