//! The scheduler: sleeps until the next task is due, settles it (its webhook is sent, it may be
//! evicted), repeats. It sleeps until the next such moment (or until woken by a new task, the
//! admin API or a clock jump), so nothing polls.

use std::sync::{Arc, Weak};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::clock::{Clock, VTime};

/// The shortest real time between two scheduler wake-ups on a running clock.
const SETTLE_GRANULARITY: std::time::Duration = std::time::Duration::from_millis(5);

/// What the scheduler needs from the shared state; implemented by the state's inner part.
pub(crate) trait Settle: Send + Sync + 'static {
    /// Settles due tasks; returns the next virtual time something is due.
    fn settle(&self) -> Option<VTime>;
}

/// Sleeps until the next task is due, settles it, repeats. Ends when the state is dropped or
/// `cancel` fires.
pub(crate) async fn run_scheduler<S: Settle>(
    state: Weak<S>,
    clock: Arc<Clock>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    loop {
        let next = match state.upgrade() {
            Some(s) => s.settle(),
            None => return,
        };
        // Batching wake-ups: under load a task is due every fraction of a millisecond, and
        // settling them a few milliseconds late changes nothing a client can see.
        let deadline = next
            .and_then(|at| clock.real_deadline(at))
            .map(|d| d.max(tokio::time::Instant::now() + SETTLE_GRANULARITY));
        tokio::select! {
            () = cancel.cancelled() => return,
            () = wake.notified() => {}
            () = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
    }
}
