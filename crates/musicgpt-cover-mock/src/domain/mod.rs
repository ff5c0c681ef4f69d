//! Layer 2, the domain: what the mock *is*, with no HTTP in it. It reads the spec model (layer 1)
//! and is driven by the HTTP layer (layer 3) through [`MockState`].
//!
//! - `state`: [`MockState`], the one handle on a mock: accept a Cover, finish tasks, credits,
//!   the journal, webhooks, the clock, reset;
//! - `tasks`: a task and its states over virtual time (where a task changes state);
//! - `store`: the bounded task store; `scheduler`: settles tasks as they become due;
//! - `render`: a task written into the spec's byId and webhook templates;
//! - `clock`: virtual time; `credits`: keys, balances, prices; `journal`: what was received;
//!   `matching`: which journalled requests a matcher picks, and why the others missed;
//! - `faults`: latency, failure rates and one-shot scenarios, and the seeded draws;
//! - `webhooks/`: target policy, delivery records, the sender with its retries;
//! - `audio/`: the result WAV and MP3: the generated tune, or an upload decoded, pitch-shifted and
//!   encoded; `uploads`: uploaded songs on disk, kept as long as their tasks;
//! - `voices`: the voice catalogue;
//! - `ids`, `sync`: fast id hashing and poison-tolerant locking.

pub(crate) mod audio;
pub(crate) mod clock;
pub(crate) mod credits;
pub(crate) mod faults;
mod ids;
pub(crate) mod journal;
pub(crate) mod matching;
mod render;
pub(crate) mod replay;
mod scheduler;
mod state;
mod store;
pub(crate) mod sync;
pub(crate) mod tasks;
pub(crate) mod uploads;
pub(crate) mod voices;
pub(crate) mod webhooks;

#[cfg(test)]
mod tests;

pub(crate) use credits::AuthError;
pub(crate) use render::{FILES_PATH, ResultFile};
pub(crate) use state::{CreateError, Created};
pub use state::{ETA_SECONDS, MockState, PendingWebhook, ShutdownReport, WaitTimeout};
