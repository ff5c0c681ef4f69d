//! An upload made into a task's result: decoded, cut to a minute, pitch-shifted, encoded as WAV
//! and MP3; or, when it does not decode, the generated tune and the reason.

use std::panic::AssertUnwindSafe;
use std::sync::Weak;

use bytes::Bytes;
use tokio::sync::Semaphore;

use super::decode::{Decoded, MAX_SECONDS, Probe, decode_upload, probe_upload, sniff_upload};
use super::encode::{mp3, resample, result_rate, wav};
use super::shift::shift_channels;
use super::source::UploadSource;
use super::tune::{self, DURATION_SECONDS, SAMPLE_RATE};

/// Conversions that run at once. One: a conversion already keeps both cores busy (a thread per
/// channel), and a minute of 48 kHz stereo holds about 60 MB while it runs, so a burst of
/// uploads queues here instead of piling up in memory.
static CONVERSIONS: Semaphore = Semaphore::const_new(1);

/// The one conversion's turn, taken by the caller and held until the permit is dropped: the
/// bench's way to keep background conversions from running while it measures the request path
/// (`lab::hold_conversions`).
pub(crate) async fn conversion_turn()
-> Result<tokio::sync::SemaphorePermit<'static>, tokio::sync::AcquireError> {
    CONVERSIONS.acquire().await
}

/// The result files of a task whose Cover had an `audio_file`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rendered {
    pub(crate) wav: Bytes,
    pub(crate) mp3: Bytes,
    /// Seconds of audio in both files: the task's `conversion_duration` (the upload's duration,
    /// at most [`MAX_SECONDS`]; the tune's when it stands in).
    pub(crate) duration: f64,
    /// Of both files.
    pub(crate) sample_rate: u32,
    /// Of both files: 1 or 2.
    pub(crate) channels: usize,
    /// What the files were made from.
    pub(crate) made_from: MadeFrom,
    /// For the task's admin record: what was converted, and what was cut or changed; or why the
    /// generated tune stands in.
    pub(crate) note: String,
}

/// What a [`Rendered`] was made from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MadeFrom {
    /// The upload, shifted.
    Upload {
        /// Only its first [`MAX_SECONDS`] were converted.
        truncated: bool,
        /// Its whole length in seconds, when known.
        source_seconds: Option<f64>,
    },
    /// The generated tune: the upload did not decode, for this reason.
    Tune {
        /// Why the upload did not decode.
        reason: String,
    },
}

impl Rendered {
    /// The generated tune did not stand in.
    #[cfg(test)]
    pub(crate) fn is_upload(&self) -> bool {
        matches!(self.made_from, MadeFrom::Upload { .. })
    }

    /// Bytes held (for bounding what is kept): a minute of 48 kHz stereo is about 12 MB.
    pub(crate) fn weight(&self) -> usize {
        self.wav.len() + self.mp3.len() + self.note.len()
    }
}

/// The result of an upload shifted by `pitch` semitones (clamped to the spec's bounds): its first
/// [`MAX_SECONDS`] decoded, resampled if MP3 has no header for its rate, shifted keeping its
/// duration, encoded. `Err` says why not (the bytes are not audio, or the file is gone).
///
/// CPU-bound (about half a second for a minute of stereo, in release builds): call it off the
/// request threads, as [`render_upload_async`] does.
pub(crate) fn render_upload(source: &UploadSource, pitch: i64) -> Result<Rendered, String> {
    let decoded = decode_upload(source)?;
    Ok(render_decoded(decoded, pitch))
}

/// [`render_upload`], with the generated tune (and the reason, in `note`) when the upload does
/// not decode: what a task's result files are.
pub(crate) fn render_upload_or_tune(source: &UploadSource, pitch: i64) -> Rendered {
    render_upload(source, pitch)
        .unwrap_or_else(|reason| tune_rendered(tune::rendition_blocking(pitch), reason))
}

/// The most bytes of an upload in memory probed whole on the calling thread (the runtime's)
/// rather than on the blocking pool. What a probe costs, in release (`probe_cost_report` in
/// `audio/tests.rs`, 2026-12-07): bytes that are not audio 0.4 µs (2 KiB) to 6.4 µs (1 MiB, of
/// which the sniff looks at the first 64 KiB only), a 1 s WAV 7 µs, while a hand-off to the
/// blocking pool and back costs about 10 µs of CPU; a song's probe grows with what symphonia
/// reads before its first frame (a large tag, a long first packet). Up to 16 KiB a probe holds
/// the runtime's thread far less than Tokio's rule of thumb for work between two awaits
/// (100 µs); beyond it, the upload's first bytes are looked at here and only one that may be
/// audio goes to the pool.
pub(crate) const INLINE_PROBE_BYTES: u64 = 16 << 10;

/// [`probe_upload`]: the upload's duration (capped), to give its task before converting it.
/// `Err` says why the upload is not audio (its task then keeps the generated tune, whose duration
/// is [`DURATION_SECONDS`]). An upload of at most [`INLINE_PROBE_BYTES`] in memory is probed
/// here; a larger one in memory is sniffed here (bytes that start no format are refused without a
/// hand-off) and, if it may be audio, probed on a blocking thread, as a file is. Either way a
/// panic in the decoder (which hostile bytes can cause: see `tests/mock/fuzzed.rs`) is an `Err`,
/// not a dead request.
pub(crate) async fn probe_upload_async(source: UploadSource) -> Result<Probe, String> {
    if let Some(len) = source.memory_len() {
        if len <= INLINE_PROBE_BYTES {
            return probe_upload_here(&source);
        }
        unpanicked(|| sniff_upload(&source))?;
    }
    tokio::task::spawn_blocking(move || probe_upload_here(&source))
        .await
        .unwrap_or_else(|e| Err(format!("the upload could not be probed ({e})")))
}

/// [`probe_upload`] on this thread (the runtime's for a small upload, else a blocking one), a
/// panic in the decoder an `Err` that says so, whichever thread it ran on.
pub(crate) fn probe_upload_here(source: &UploadSource) -> Result<Probe, String> {
    unpanicked(|| probe_upload(source))
}

/// `look` on this thread, a panic in it made an `Err`.
fn unpanicked<T>(look: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(look)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!(
            "the upload could not be probed (the probe panicked: {what})"
        ))
    })
}

/// [`render_upload_or_tune`] on a blocking thread, one conversion at a time (queued in the order
/// asked). Never fails: a conversion that panics gives the tune too, with the reason.
///
/// The upload is held only weakly while the conversion waits for its turn, so one whose task
/// leaves the store meanwhile is freed then (the result says so, and no one asks for it).
pub(crate) async fn render_upload_async<S>(upload: Weak<S>, pitch: i64) -> Rendered
where
    S: AsRef<UploadSource> + Send + Sync + 'static,
{
    // The semaphore is never closed, so this cannot fail; if it ever did, converting without the
    // permit is still right.
    let _permit = CONVERSIONS.acquire().await;
    let Some(upload) = upload.upgrade() else {
        let reason = "the upload was deleted before its turn to be converted".to_owned();
        return tune_for_probe_failure(pitch, reason).await;
    };
    let converted =
        tokio::task::spawn_blocking(move || render_upload_or_tune((*upload).as_ref(), pitch));
    match converted.await {
        Ok(rendered) => rendered,
        Err(e) => {
            let reason = format!("the conversion failed ({e})");
            tracing::error!("{reason}");
            tune_for_probe_failure(pitch, reason).await
        }
    }
}

/// The generated tune for `pitch` with the reason the upload did not decode, found by its probe:
/// the result of an upload that is not audio, made without looking at its bytes again.
pub(crate) async fn tune_for_probe_failure(pitch: i64, reason: String) -> Rendered {
    tune_rendered(tune::rendition(pitch).await, reason)
}

fn tune_rendered(tune: &tune::Rendition, reason: String) -> Rendered {
    Rendered {
        wav: tune.wav.clone(),
        mp3: tune.mp3.clone(),
        duration: DURATION_SECONDS,
        sample_rate: SAMPLE_RATE,
        channels: 1,
        note: format!("the upload did not decode: {reason}; the result is the generated tune"),
        made_from: MadeFrom::Tune { reason },
    }
}

/// Decoded audio made into the result files.
pub(crate) fn render_decoded(decoded: Decoded, pitch: i64) -> Rendered {
    let pitch = super::clamp_pitch(pitch);
    let Decoded {
        sample_rate,
        channels,
        dropped_channels,
        truncated,
        source_seconds,
        format,
    } = decoded;
    let frames = channels.first().map_or(0, Vec::len);
    let kept_seconds = frames as f64 / f64::from(sample_rate.max(1));
    let mut notes = vec![format!(
        "converted {} of the upload ({format}, {sample_rate} Hz, {}), shifted {pitch:+} semitones",
        seconds(kept_seconds),
        match channels.len() {
            1 => "mono".to_owned(),
            2 => "stereo".to_owned(),
            n => format!("{n} channels"),
        }
    )];
    if truncated {
        notes.push(match source_seconds {
            Some(total) => format!(
                "the upload lasts {}: only its first {} were converted, the rest was cut",
                seconds(total),
                seconds(MAX_SECONDS)
            ),
            None => format!(
                "the upload is longer than {}: the rest was cut",
                seconds(MAX_SECONDS)
            ),
        });
    }
    if let Some(n) = dropped_channels {
        notes.push(format!(
            "it has {n} channels: the first two were kept (MP3 has no more)"
        ));
    }
    // WAV could hold any rate, but MP3 has headers for nine; both files are made at the same one,
    // so they are the same audio.
    let rate = result_rate(sample_rate);
    let channels = if rate == sample_rate {
        channels
    } else {
        notes.push(format!(
            "resampled from {sample_rate} Hz to {rate} Hz (MP3 has no {sample_rate} Hz)"
        ));
        channels
            .iter()
            .map(|c| resample(c, sample_rate, rate))
            .collect()
    };
    let shifted = shift_channels(channels, pitch, rate);
    let frames = shifted.first().map_or(0, Vec::len);
    let wav_bytes = wav(&shifted, rate);
    let mp3_bytes = mp3(&shifted, rate).unwrap_or_else(|e| {
        // Cannot happen for the rates `result_rate` picks; a WAV alone still plays.
        notes.push(e);
        Vec::new()
    });
    Rendered {
        wav: Bytes::from(wav_bytes),
        mp3: Bytes::from(mp3_bytes),
        duration: frames as f64 / f64::from(rate.max(1)),
        sample_rate: rate,
        channels: shifted.len(),
        made_from: MadeFrom::Upload {
            truncated,
            source_seconds,
        },
        note: notes.join("; "),
    }
}

/// Seconds for a person: "3.0 s", "60 s", "2 min 3.4 s".
fn seconds(s: f64) -> String {
    if s >= 120.0 {
        let minutes = (s / 60.0).floor();
        format!("{minutes} min {:.1} s", s - minutes * 60.0)
    } else if s.fract() == 0.0 {
        format!("{s} s")
    } else {
        format!("{s:.1} s")
    }
}
