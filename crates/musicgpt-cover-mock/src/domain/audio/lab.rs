//! A door for the bench (`benches/cover/`, another crate) into the steps of converting an upload,
//! which the mock does not otherwise expose. Not an API: it may change at any time.

use std::path::Path;

/// Seconds of an upload that are converted at most.
pub const MAX_SECONDS: f64 = super::decode::MAX_SECONDS;

/// The first [`MAX_SECONDS`] of the audio file at `path`: its sample rate and one vector per
/// channel (at most two).
pub fn decode_file(path: &Path) -> Result<(u32, Vec<Vec<f32>>), String> {
    super::decode::decode_file(path).map(|d| (d.sample_rate, d.channels))
}

/// Every channel shifted by `semitones`, each keeping its length.
pub fn shift(channels: Vec<Vec<f32>>, semitones: i64, sample_rate: u32) -> Vec<Vec<f32>> {
    super::shift::shift_channels(channels, semitones, sample_rate)
}

/// The result files of `channels`: a 16-bit WAV and an MP3 (`sample_rate` must be one MP3 has).
pub fn encode(channels: &[Vec<f32>], sample_rate: u32) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mp3 = super::encode::mp3(channels, sample_rate)?;
    Ok((super::encode::wav(channels, sample_rate), mp3))
}

/// Holds back every upload's conversion in this process while the guard lives, without changing
/// what a Cover does: its conversion is queued as always, and runs once the guard is dropped (one
/// whose upload is gone by then ends at once). Waits for the conversion running now, if any. The
/// bench holds it during its song rows, whose figures are the request path's alone (a
/// conversion is timed on its own, by the `pitch` part).
pub async fn hold_conversions() -> Result<ConversionsHeld, String> {
    super::render::conversion_turn()
        .await
        .map(|turn| ConversionsHeld { _turn: turn })
        .map_err(|e| format!("the conversions' turn could not be taken: {e}"))
}

/// What [`hold_conversions`] gives: conversions wait while it lives.
#[must_use = "conversions run again as soon as this is dropped"]
pub struct ConversionsHeld {
    _turn: tokio::sync::SemaphorePermit<'static>,
}
