//! Real audio for the upload rows: a song-like stereo signal encoded to MP3 by the mock's own
//! encoder (`audio_lab::encode`, `rusty_mp3`, 128 kbit/s CBR at 44.1 kHz, as the pitch part uses),
//! behind a small ID3v2 tag as players and encoders write one. Made when the bench runs: no
//! fixture to keep.

use musicgpt_cover_mock::{MockServer, RESULT_AUDIO_SECONDS, audio_lab};

use crate::request::probe;
use crate::scenario::Scenario;

/// The sample rate of the songs (the usual one of MP3s).
pub(crate) const RATE: u32 = 44_100;
/// The short song's length in seconds.
pub(crate) const SHORT_SONG_SECONDS: usize = 3;
/// The long song's size: the MP3 is cut there (a decoder takes a file cut short as ending there).
pub(crate) const MIB_SONG_BYTES: usize = 1 << 20;

/// A song-like stereo signal: a chord every half second (three notes and their overtones), a
/// different voicing on each side, and a little noise, so the vocoder has peaks and floor to do.
pub(crate) fn song(seconds: usize) -> Vec<Vec<f32>> {
    let frames = seconds * RATE as usize;
    let chords: [[f32; 3]; 4] = [
        [261.6, 329.6, 392.0],
        [220.0, 261.6, 329.6],
        [174.6, 220.0, 261.6],
        [196.0, 246.9, 293.7],
    ];
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    let mut left = Vec::with_capacity(frames);
    let mut right = Vec::with_capacity(frames);
    for i in 0..frames {
        let t = i as f32 / RATE as f32;
        let chord = chords[(i / (RATE as usize / 2)) % chords.len()];
        let mut l = 0.0;
        let mut r = 0.0;
        for (k, f) in chord.iter().enumerate() {
            for h in 1..=3 {
                let a = 0.08 / h as f32;
                let phase = std::f32::consts::TAU * f * h as f32 * t;
                if k % 2 == 0 {
                    l += a * phase.sin();
                } else {
                    r += a * phase.sin();
                }
                l += 0.3 * a * phase.cos();
                r += 0.3 * a * (phase * 1.001).cos();
            }
        }
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        let n = ((noise >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.02;
        left.push(l + n);
        right.push(r - n);
    }
    vec![left, right]
}

/// An ID3v2.4 tag with a title and an artist (UTF-8 text frames), as taggers write before the
/// first MPEG frame.
fn id3_tag() -> Vec<u8> {
    let mut frames = Vec::new();
    for (id, text) in [
        ("TIT2", "musicgpt bench song"),
        ("TPE1", "musicgpt-cover-mock"),
    ] {
        let size = u32::try_from(text.len() + 1).unwrap_or(0);
        frames.extend_from_slice(id.as_bytes());
        frames.extend_from_slice(&syncsafe(size));
        frames.extend_from_slice(&[0, 0, 3]); // no flags; UTF-8
        frames.extend_from_slice(text.as_bytes());
    }
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe(u32::try_from(frames.len()).unwrap_or(0)));
    tag.extend_from_slice(&frames);
    tag
}

/// A size in ID3v2's four 7-bit bytes.
fn syncsafe(n: u32) -> [u8; 4] {
    [21, 14, 7, 0].map(|shift| (n >> shift) as u8 & 0x7f)
}

/// [`SHORT_SONG_SECONDS`] s of [`song`] as MP3 frames.
fn short_frames() -> Result<Vec<u8>, String> {
    let (_, mp3) = audio_lab::encode(&song(SHORT_SONG_SECONDS), RATE)?;
    if mp3.is_empty() {
        return Err("the MP3 encoder made nothing".to_owned());
    }
    Ok(mp3)
}

/// The short song: [`SHORT_SONG_SECONDS`] s of [`song`] behind the tag, about 48 KiB.
pub(crate) fn short_song() -> Result<Vec<u8>, String> {
    let mp3 = short_frames()?;
    let mut file = id3_tag();
    file.extend_from_slice(&mp3);
    Ok(file)
}

/// A song of exactly [`MIB_SONG_BYTES`], a little over a minute: the short song's audio frames
/// over and over behind one tag and its encoder's Info frame, whose frame and byte counts are set
/// to the whole file's (as an encoder writes them for a long song: the mock reads the length
/// there), cut at [`MIB_SONG_BYTES`]. A stream's frames after the first take nothing from before
/// it, so the seams decode. Encoding a whole minute instead would take long in the smoke run's
/// test profile, for the same bytes.
pub(crate) fn mib_song() -> Result<Vec<u8>, String> {
    let mp3 = short_frames()?;
    let frames = mpeg_frames(&mp3);
    let (Some(info), Some(audio)) = (frames.first(), frames.get(1..)) else {
        return Err("the MP3 encoder made no frames".to_owned());
    };
    if audio.is_empty() {
        return Err("the MP3 encoder made no audio frames".to_owned());
    }
    let mut file = id3_tag();
    let info_at = file.len();
    file.extend_from_slice(info);
    let mut whole = 0u32;
    'fill: loop {
        for frame in audio {
            if file.len() + frame.len() > MIB_SONG_BYTES {
                break 'fill;
            }
            file.extend_from_slice(frame);
            whole += 1;
        }
    }
    let audio_bytes = u32::try_from(MIB_SONG_BYTES - info_at).unwrap_or(u32::MAX);
    set_info_counts(
        &mut file[info_at..info_at + info.len()],
        whole + 1,
        audio_bytes,
    )?;
    // The rest of the last frame's worth, cut short as a download or a recorder's last write is.
    let next = audio[whole as usize % audio.len()];
    let left = MIB_SONG_BYTES - file.len();
    file.extend_from_slice(&next[..left]);
    Ok(file)
}

/// MPEG-1 Layer III bit rates in kbit/s, by the header's index.
const KBPS: [u32; 15] = [
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];
/// MPEG-1 sample rates, by the header's index.
const RATES: [u32; 3] = [44_100, 48_000, 32_000];

/// The MPEG-1 Layer III frames of `mp3`, in order, each as long as its header says; stops at the
/// first bytes that are not such a header.
fn mpeg_frames(mp3: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    let mut at = 0;
    while let Some(head) = mp3.get(at..at + 4) {
        // Sync, MPEG-1, Layer III.
        if head[0] != 0xff || head[1] & 0xfe != 0xfa {
            break;
        }
        let (Some(kbps), Some(rate)) = (
            KBPS.get(usize::from(head[2] >> 4)),
            RATES.get(usize::from((head[2] >> 2) & 3)),
        ) else {
            break;
        };
        let len = (144_000 * kbps / rate + u32::from((head[2] >> 1) & 1)) as usize;
        let Some(frame) = mp3.get(at..at + len).filter(|_| len > 4) else {
            break;
        };
        frames.push(frame);
        at += len;
    }
    frames
}

/// Sets the frame and byte counts of the Info (or Xing) tag in `frame`.
fn set_info_counts(frame: &mut [u8], frames: u32, bytes: u32) -> Result<(), String> {
    let at = frame
        .windows(4)
        .position(|w| w == b"Info" || w == b"Xing")
        .ok_or("the encoder's first frame has no Info tag")?;
    let flags = frame
        .get(at + 4..at + 8)
        .map(|f| u32::from_be_bytes([f[0], f[1], f[2], f[3]]))
        .ok_or("the Info tag is cut short")?;
    let mut field = at + 8;
    for (bit, value) in [(1, frames), (2, bytes)] {
        if flags & bit != 0 {
            frame
                .get_mut(field..field + 4)
                .ok_or("the Info tag is cut short")?
                .copy_from_slice(&value.to_be_bytes());
            field += 4;
        }
    }
    if flags & 1 == 0 {
        return Err("the encoder's Info tag has no frame count".to_owned());
    }
    Ok(())
}

/// The duration the mock gave the task of `cover_answer` (a Cover with a song), from its byId;
/// an error when that is the generated tune's, which means the mock did not take the song as
/// audio and the row would not measure what it says.
pub(crate) async fn duration_heard(
    client: &reqwest::Client,
    mock: &MockServer,
    cover_answer: &str,
) -> Result<f64, String> {
    let answer: serde_json::Value =
        serde_json::from_str(cover_answer).map_err(|e| format!("the Cover's answer: {e}"))?;
    let id = answer["task_id"]
        .as_str()
        .ok_or_else(|| format!("a Cover's answer has no task_id: {answer}"))?;
    let by_id = Scenario::ById;
    let url = mock.url(&format!("{}?{}", by_id.spec_path()?, by_id.query(id)));
    let text = probe(client, "GET", &url, None).await?;
    let task: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("byId's answer: {e}"))?;
    let seconds = task["conversion"]["conversion_duration"]
        .as_f64()
        .ok_or_else(|| format!("byId gives no conversion_duration: {text}"))?;
    if seconds == RESULT_AUDIO_SECONDS {
        return Err(format!(
            "the mock did not take the bench's song as audio: its task has the generated tune's \
             {RESULT_AUDIO_SECONDS} s ({text})"
        ));
    }
    Ok(seconds)
}
