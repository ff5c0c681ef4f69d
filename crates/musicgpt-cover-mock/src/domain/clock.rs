//! The virtual clock every timestamp and every task deadline is read from.
//!
//! Virtual time is milliseconds since the clock's epoch. In real mode it runs with the wall clock;
//! frozen (the default with `--seed`) it moves only when the admin API advances it, so tests and
//! snapshots neither sleep nor see a timestamp change between runs. Either way the admin API can
//! jump it forward, which is how a test finishes a task "after its eta" at once.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::time::Instant;

/// Virtual milliseconds since the clock's epoch.
pub(crate) type VTime = u64;

/// The fixed epoch of deterministic mode.
pub(crate) const SEED_EPOCH: &str = "2026-01-01T00:00:00Z";

#[derive(Debug)]
pub(crate) struct Clock {
    epoch: DateTime<Utc>,
    start: Instant,
    frozen: bool,
    /// Milliseconds added to (real mode: the real time elapsed since `start`; frozen: zero).
    offset_ms: AtomicI64,
}

impl Clock {
    pub(crate) fn new(epoch: DateTime<Utc>, frozen: bool) -> Clock {
        Clock {
            epoch,
            start: Instant::now(),
            frozen,
            offset_ms: AtomicI64::new(0),
        }
    }

    pub(crate) fn frozen(&self) -> bool {
        self.frozen
    }

    fn elapsed_ms(&self) -> i64 {
        if self.frozen {
            0
        } else {
            i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX)
        }
    }

    pub(crate) fn now(&self) -> VTime {
        let now = self
            .elapsed_ms()
            .saturating_add(self.offset_ms.load(Ordering::Acquire));
        u64::try_from(now).unwrap_or(0)
    }

    /// Moves virtual time forward; returns the new now.
    pub(crate) fn advance(&self, by: Duration) -> VTime {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.offset_ms.fetch_add(ms, Ordering::AcqRel);
        self.now()
    }

    /// Frozen clocks go back to their epoch; a real clock keeps running (going back would put
    /// new timestamps before old ones a client may still hold).
    pub(crate) fn reset(&self) {
        if self.frozen {
            self.offset_ms.store(0, Ordering::Release);
        }
    }

    /// The real instant at which virtual time reaches `at`, or `None` for a frozen clock.
    pub(crate) fn real_deadline(&self, at: VTime) -> Option<Instant> {
        if self.frozen {
            return None;
        }
        let wait = i64::try_from(at).unwrap_or(i64::MAX) - i64::try_from(self.now()).unwrap_or(0);
        let wait = Duration::from_millis(u64::try_from(wait.max(0)).unwrap_or(0));
        Some(Instant::now() + wait)
    }

    pub(crate) fn datetime(&self, at: VTime) -> DateTime<Utc> {
        self.epoch + chrono::Duration::milliseconds(i64::try_from(at).unwrap_or(i64::MAX / 4))
    }

    /// `2026-11-23T10:00:00.000Z`, the spec's timestamp format.
    pub(crate) fn timestamp(&self, at: VTime) -> String {
        self.datetime(at)
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let epoch = DateTime::parse_from_rfc3339(SEED_EPOCH).map(|d| d.with_timezone(&Utc));
        let Ok(epoch) = epoch else { panic!("epoch") };
        let clock = Clock::new(epoch, true);
        assert_eq!(clock.now(), 0);
        assert_eq!(clock.timestamp(clock.now()), "2026-01-01T00:00:00.000Z");
        assert_eq!(clock.advance(Duration::from_millis(1500)), 1500);
        assert_eq!(clock.timestamp(clock.now()), "2026-01-01T00:00:01.500Z");
        assert!(clock.real_deadline(10_000).is_none());
        clock.reset();
        assert_eq!(clock.now(), 0);
    }
}
