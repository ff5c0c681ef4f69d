//! The generated tune: a short arpeggio, shifted by the task's pitch, as WAV and MP3; the result
//! of a task whose song was not uploaded (or did not decode).
//!
//! Both files are made in-process on first request for a pitch and cached: the WAV by hand (a
//! 44-byte header and 16-bit PCM), the MP3 by `rusty_mp3`, a pure-Rust encoder, so no system
//! library, C compiler or download is involved and every browser's audio element plays them.

use std::sync::OnceLock;

use bytes::Bytes;

use super::encode::{mp3, wav};

/// Samples per second of both files.
pub const SAMPLE_RATE: u32 = 22_050;
/// Length of the result audio in seconds; byId and the webhook report it as `conversion_duration`.
pub const DURATION_SECONDS: f64 = 4.0;
/// Semitones of the arpeggio, from A4.
const NOTES: [i32; 8] = [0, 4, 7, 12, 7, 4, 0, -5];

/// The two files of one pitch.
#[derive(Debug)]
pub(crate) struct Rendition {
    pub(crate) wav: Bytes,
    pub(crate) mp3: Bytes,
}

/// The cell of the files of `pitch` (clamped to the spec's bounds), one per pitch the spec allows.
fn cell(pitch: i64) -> &'static OnceLock<Rendition> {
    static CACHE: OnceLock<Vec<OnceLock<Rendition>>> = OnceLock::new();
    let lowest = super::clamp_pitch(i64::MIN);
    let cells = CACHE.get_or_init(|| {
        let count = super::clamp_pitch(i64::MAX).abs_diff(lowest) + 1;
        (0..count).map(|_| OnceLock::new()).collect()
    });
    let index = usize::try_from(super::clamp_pitch(pitch).abs_diff(lowest)).unwrap_or(0);
    &cells[index.min(cells.len() - 1)]
}

/// The files for `pitch` (semitones, clamped to the spec's bounds), made on first use.
pub(crate) async fn rendition(pitch: i64) -> &'static Rendition {
    let cell = cell(pitch);
    if let Some(r) = cell.get() {
        return r;
    }
    // Encoding takes a moment (long in debug builds): keep it off the request threads.
    let made = tokio::task::spawn_blocking(move || render(pitch)).await;
    cell.get_or_init(|| made.unwrap_or_else(|_| render(pitch)))
}

/// [`rendition`] for a caller that is already off the request threads.
pub(crate) fn rendition_blocking(pitch: i64) -> &'static Rendition {
    cell(pitch).get_or_init(|| render(pitch))
}

/// Mono PCM in -1..1.
fn samples(pitch: i64) -> Vec<f32> {
    let total = (f64::from(SAMPLE_RATE) * DURATION_SECONDS) as usize;
    let per_note = total / NOTES.len();
    let rate = SAMPLE_RATE as f32;
    let mut out = Vec::with_capacity(total);
    for i in 0..total {
        let note = NOTES[(i / per_note).min(NOTES.len() - 1)];
        let semitones = note as f32 + pitch as f32;
        let freq = 440.0 * (semitones / super::SEMITONES_PER_OCTAVE).exp2();
        let t_note = (i % per_note) as f32 / rate;
        // A quick attack and an exponential decay keep notes apart and free of clicks.
        let envelope = (t_note / 0.01).min(1.0) * (-3.0 * t_note).exp();
        let t = i as f32 / rate;
        let tone = (std::f32::consts::TAU * freq * t).sin()
            + 0.3 * (std::f32::consts::TAU * 2.0 * freq * t).sin();
        out.push(0.35 * envelope * tone);
    }
    // Fade the last 20 ms so the file ends in silence.
    let fade = (rate * 0.02) as usize;
    let len = out.len();
    for (k, s) in out.iter_mut().skip(len.saturating_sub(fade)).enumerate() {
        *s *= 1.0 - k as f32 / fade as f32;
    }
    out
}

fn render(pitch: i64) -> Rendition {
    let pcm = [samples(pitch)];
    Rendition {
        wav: Bytes::from(wav(&pcm, SAMPLE_RATE)),
        mp3: Bytes::from(mp3(&pcm, SAMPLE_RATE).unwrap_or_else(|e| {
            tracing::error!("{e}");
            Vec::new()
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header_describes_the_samples() {
        let pcm = samples(0);
        let w = wav(std::slice::from_ref(&pcm), SAMPLE_RATE);
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..16], b"WAVEfmt ");
        assert_eq!(w.len(), 44 + pcm.len() * 2);
        assert_eq!(pcm.len() as f64 / f64::from(SAMPLE_RATE), DURATION_SECONDS);
    }

    #[test]
    fn mp3_decodes_back_to_about_the_same_length() {
        let pcm = samples(3);
        let encoded = mp3(std::slice::from_ref(&pcm), SAMPLE_RATE).unwrap_or_default();
        // An MP3 frame starts with 11 set sync bits.
        let first = encoded
            .windows(2)
            .position(|w| w[0] == 0xFF && w[1] & 0xE0 == 0xE0);
        assert!(first.is_some(), "no MP3 frame sync");
        let mut decoder = rusty_mp3::Mp3Decoder::new();
        decoder.push(&encoded);
        decoder.flush();
        let mut decoded = 0usize;
        while let Ok(frame) = decoder.next_frame() {
            decoded += frame.samples.len();
        }
        let expected = pcm.len();
        assert!(
            decoded + 2_000 >= expected && decoded <= expected + 4_000,
            "{decoded} vs {expected}"
        );
    }
}
