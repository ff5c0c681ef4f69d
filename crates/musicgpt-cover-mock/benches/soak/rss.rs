//! What the mock holds over the run, sampled once a second: its resident memory (/proc/PID/status)
//! and the uploads it keeps on disk (the size of its private directory under the soak's TMPDIR);
//! each judged flat or not.
//!
//! "Flat after warm-up": the first third of the run is warm-up (the stores fill to their bounds,
//! the allocator settles); the largest sample of the last third must be at most the sample at the
//! end of the first third plus [`GROWTH_SHARE`] of it plus [`GROWTH_BYTES`]. A leak of even a few
//! hundred bytes per request breaks that over a minute of thousands of requests a second; noise
//! from the allocator does not.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::mib;
use crate::common::mock::memory;
use crate::thousands;

/// The share of the after-warm-up value the last third may grow by.
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
    /// Bytes under the mock's TMPDIR (its upload directory).
    pub(crate) disk: u64,
}

/// Samples at 0, 1, ..., `seconds` seconds after `start`, on a thread of its own (so a busy load
/// runtime does not delay them), printing a progress line now and then.
pub(crate) fn sample(
    pid: u32,
    tmp: PathBuf,
    start: Instant,
    seconds: u64,
    sent: Arc<AtomicU64>,
) -> JoinHandle<Result<Vec<Sample>, String>> {
    std::thread::spawn(move || {
        let mut samples = Vec::new();
        for second in 0..=seconds {
            let at = start + Duration::from_secs(second);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            let rss = memory(pid)
                .map(|m| m.rss)
                .map_err(|e| format!("at {second} s: {e}"))?;
            let (files, disk) = usage(&tmp);
            samples.push(Sample { second, rss, disk });
            if second > 0 && second.is_multiple_of(PROGRESS_EVERY) {
                println!(
                    "  t={second:>4} s  {:>10} requests sent  mock RSS {:>7.1} MiB  uploads on disk {:>7.1} MiB in {} files",
                    thousands(sent.load(Ordering::Relaxed)),
                    mib(rss),
                    mib(disk),
                    thousands(files)
                );
            }
        }
        Ok(samples)
    })
}

/// Files and bytes under `dir`, walked now (files that go while it walks are skipped).
pub(crate) fn usage(dir: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => todo.push(entry.path()),
                Ok(m) => {
                    files += 1;
                    bytes += m.len();
                }
                Err(_) => {}
            }
        }
    }
    (files, bytes)
}

/// One measure (RSS, or bytes on disk) at a moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub(crate) second: u64,
    pub(crate) value: u64,
}

/// The figures the report prints, and the verdict.
pub(crate) struct Flatness {
    pub(crate) start: Point,
    pub(crate) warmed: Point,
    pub(crate) end: Point,
    pub(crate) max: Point,
    pub(crate) last_third_max: Point,
    pub(crate) last_third_from: u64,
    pub(crate) limit: u64,
    pub(crate) flat: bool,
}

/// `None` when there are too few samples to have thirds.
pub(crate) fn judge(
    samples: &[Sample],
    seconds: u64,
    measure: fn(&Sample) -> u64,
) -> Option<Flatness> {
    let points: Vec<Point> = samples
        .iter()
        .map(|s| Point {
            second: s.second,
            value: measure(s),
        })
        .collect();
    let warmed_at = seconds.div_ceil(3);
    let last_third_from = (2 * seconds).div_ceil(3);
    let largest = |from: u64| {
        points
            .iter()
            .filter(|p| p.second >= from)
            .max_by_key(|p| p.value)
            .copied()
    };
    let warmed = points.iter().find(|p| p.second >= warmed_at).copied()?;
    let last_third_max = largest(last_third_from)?;
    let limit = warmed.value + (warmed.value as f64 * GROWTH_SHARE) as u64 + GROWTH_BYTES;
    Some(Flatness {
        start: *points.first()?,
        warmed,
        end: *points.last()?,
        max: largest(0)?,
        last_third_max,
        last_third_from,
        limit,
        flat: last_third_max.value <= limit,
    })
}
