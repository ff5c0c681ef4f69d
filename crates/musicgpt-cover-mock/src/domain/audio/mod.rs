//! The result audio: the generated tune a task without an upload gets (`tune`), served as WAV
//! and MP3.

mod tune;

pub use tune::{DURATION_SECONDS, SAMPLE_RATE};
pub(crate) use tune::rendition;
