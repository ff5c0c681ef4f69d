//! Real audio for the upload rows: a song-like stereo signal encoded to MP3 by the mock's own
//! encoder (`audio_lab::encode`, `rusty_mp3`, 128 kbit/s CBR at 44.1 kHz, as the pitch part uses),
//! behind a small ID3v2 tag as players and encoders write one. Made when the bench runs: no
//! fixture to keep.

use musicgpt_cover_mock::audio_lab;

/// The sample rate of the songs (the usual one of MP3s).
pub(crate) const RATE: u32 = 44_100;
/// The short song's length in seconds.
pub(crate) const SHORT_SONG_SECONDS: usize = 3;
/// The long song's size: the MP3 is cut there (a decoder takes a file cut short as ending there).
pub(crate) const MIB_SONG_BYTES: usize = 1 << 20;
/// A 128 kbit/s MP3 carries this many bytes a second.
const MP3_BYTES_PER_SECOND: usize = 128_000 / 8;

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
    [
        (n >> 21) as u8 & 0x7f,
        (n >> 14) as u8 & 0x7f,
        (n >> 7) as u8 & 0x7f,
        n as u8 & 0x7f,
    ]
}

/// A tagged MP3 of `seconds` of [`song`].
fn tagged_mp3(seconds: usize) -> Result<Vec<u8>, String> {
    let (_, mp3) = audio_lab::encode(&song(seconds), RATE)?;
    let mut file = id3_tag();
    file.extend_from_slice(&mp3);
    Ok(file)
}

/// The short song: [`SHORT_SONG_SECONDS`] s, about 48 KiB.
pub(crate) fn short_song() -> Result<Vec<u8>, String> {
    tagged_mp3(SHORT_SONG_SECONDS)
}

/// A song of exactly [`MIB_SONG_BYTES`]: a little over a minute encoded, cut there.
pub(crate) fn mib_song() -> Result<Vec<u8>, String> {
    let mut file = tagged_mp3(MIB_SONG_BYTES.div_ceil(MP3_BYTES_PER_SECOND) + 1)?;
    if file.len() < MIB_SONG_BYTES {
        return Err(format!(
            "the encoder made {} bytes of a song meant to fill {MIB_SONG_BYTES}",
            file.len()
        ));
    }
    file.truncate(MIB_SONG_BYTES);
    Ok(file)
}
