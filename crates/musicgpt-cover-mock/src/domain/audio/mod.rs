//! The result audio of a task, as WAV and MP3.
//!
//! - `tune`: the generated arpeggio, shifted by the task's pitch: the result of a Cover with only
//!   an `audio_url`, and of an upload that does not decode;
//! - `source`: where an upload's bytes are read from (a file, memory or places in segment files),
//!   for symphonia;
//! - `segment`: the segment files uploads on disk share: their places, dead space given back,
//!   deletion off the runtime's threads;
//! - `sniff`: an upload's first bytes, so that bytes starting no format are refused without a scan;
//! - `render`: an upload made into the result ([`render_upload_async`] is what a route calls):
//!   `decode` (symphonia: WAV, MP3, FLAC, Ogg Vorbis; the first minute at most), `shift` (a phase
//!   vocoder that keeps the duration), `encode` (16-bit WAV by hand, MP3 by `rusty_mp3`, resampling
//!   for rates MP3 lacks);
//! - `lab`: a door for the bench into the steps above.
//!
//! The uploads themselves are kept in `domain::uploads`.

mod decode;
mod encode;
pub mod lab;
mod render;
mod segment;
mod shift;
mod sniff;
mod source;
mod tune;

#[cfg(test)]
mod tests;

pub(crate) use decode::Probe;
#[cfg(test)]
pub(crate) use encode::mp3;
pub(crate) use render::{
    Rendered, probe_upload_async, probe_upload_here, render_upload_async, tune_for_probe_failure,
};
#[cfg(test)]
pub(crate) use segment::noise;
#[cfg(all(test, target_os = "linux"))]
pub(crate) use segment::punches_in;
pub(crate) use segment::{Deleter, Extent, SharedFile};
pub(crate) use source::{Chunks, Pieces, UploadSource};
pub(crate) use tune::rendition;
pub use tune::{DURATION_SECONDS, SAMPLE_RATE};

/// Semitones in an octave: a shift of `n` multiplies frequencies by 2^(n/12).
const SEMITONES_PER_OCTAVE: f32 = 12.0;

/// `pitch` within the spec's bounds of the Cover form's `pitch` (a form outside them is refused
/// before it gets here; the bench's door into the steps is clamped).
fn clamp_pitch(pitch: i64) -> i64 {
    crate::spec::spec().map_or(0, |s| pitch.clamp(*s.pitch.start(), *s.pitch.end()))
}
