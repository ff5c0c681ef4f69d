//! An upload's first bytes, looked at before symphonia is: bytes that begin as none of the formats
//! the mock decodes are known not to be audio at once, instead of after symphonia's probe has
//! scanned all of them for a marker (milliseconds a megabyte, for every upload that is not a song).
//!
//! What counts as the start of a format, after any ID3v2 tags (MP3s carry them, with cover art,
//! often hundreds of kilobytes), which are skipped by their declared size:
//! - WAV: `RIFF`, 4 bytes, `WAVE`; FLAC: `fLaC`; Ogg: `OggS`, at the first byte;
//! - MP3: three MPEG audio Layer III frame headers in a row (each where the one before says it
//!   ends, with the same version and rate) starting in the first [`SCAN_BYTES`], the bound a
//!   decoder puts on its search for the first frame (junk before the first frame: a broken tag,
//!   an encoder's padding); fewer headers only when the upload ends first.
//!
//! Symphonia scans the whole upload for any of its markers, so it also finds a WAV or FLAC stream
//! behind junk, or an MP3 frame after more than [`SCAN_BYTES`] of it: those uploads are now not
//! audio (docs/profile.md, "Uploads that are not audio").

use std::io::{self, SeekFrom};

use symphonia::core::io::MediaSource;

/// How far into an upload (after its ID3v2 tags) the first MP3 frame may start.
pub(crate) const SCAN_BYTES: usize = 64 * 1024;

/// How much of the upload (after its tags) is looked at first: room for three of the longest
/// frames ([`MAX_FRAME`]) and some junk before them.
const FIRST_LOOK: usize = 8 * 1024;

/// The longest Layer III frame (MPEG-1, 320 kbit/s, 32 kHz, padded), so that a frame found near the
/// end of the scanned bytes can be followed by two more.
const MAX_FRAME: usize = 1441;

/// Layer III bit rates in kbit/s by index, MPEG-1 and MPEG-2/2.5 (index 0, free format, and 15,
/// bad, are refused).
const BITRATES_V1: [u32; 15] = [
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];
const BITRATES_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/// Sample rates by index: MPEG-1, MPEG-2, MPEG-2.5.
const RATES: [[u32; 3]; 3] = [
    [44_100, 48_000, 32_000],
    [22_050, 24_000, 16_000],
    [11_025, 12_000, 8_000],
];

/// Whether `source` may be audio: `Err` says why it is not. The source is left at its start.
/// `max_tags`: the most ID3v2 tags walked; an upload with more is let through undecided (`Ok`),
/// for a caller that must stay quick (the request's thread) to leave to the whole look.
pub(crate) fn sniff(source: &mut dyn MediaSource, max_tags: usize) -> Result<(), String> {
    if !source.is_seekable() {
        // A stream cannot be rewound for symphonia: it looks for itself.
        return Ok(());
    }
    let verdict =
        look(source, max_tags).map_err(|e| format!("the upload could not be read: {e}"))?;
    source
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("the upload could not be read: {e}"))?;
    verdict
}

fn look(source: &mut dyn MediaSource, max_tags: usize) -> io::Result<Result<(), String>> {
    let mut at = 0u64;
    let mut tags = 0usize;
    let mut head = [0u8; 10];
    loop {
        source.seek(SeekFrom::Start(at))?;
        let n = read_up_to(source, &mut head)?;
        match id3_length(&head[..n]) {
            Some(_) if tags == max_tags => return Ok(Ok(())),
            Some(length) => {
                at += length;
                tags += 1;
            }
            None => break,
        }
    }
    source.seek(SeekFrom::Start(at))?;
    // No larger than what is left of the upload: zeroing the whole window for a 2 KiB upload
    // cost more than looking at it. A song's first frames follow its tags at once, so its first
    // [`FIRST_LOOK`] bytes are looked at before the whole window is read.
    let left = source
        .byte_len()
        .map_or(u64::MAX, |len| len.saturating_sub(at));
    let size = usize::try_from(left)
        .unwrap_or(usize::MAX)
        .min(SCAN_BYTES + 2 * MAX_FRAME);
    let mut window = vec![0u8; size.min(FIRST_LOOK)];
    let mut n = read_up_to(source, &mut window)?;
    if n == window.len() && n < size {
        // Three frames wholly within the first bytes are found there; anything else (a frame
        // further on, or one the upload's end cuts short) is for the whole window to say.
        if starts_a_container(&window) || first_mp3_frame(&window, false).is_some() {
            return Ok(Ok(()));
        }
        window.resize(size, 0);
        n += read_up_to(source, &mut window[n..])?;
    }
    let window = &window[..n];
    if starts_a_container(window) || first_mp3_frame(window, true).is_some() {
        return Ok(Ok(()));
    }
    let after = if tags > 0 {
        format!(" after {tags} ID3v2 tag(s) of {at} bytes")
    } else {
        String::new()
    };
    Ok(Err(format!(
        "not a WAV, MP3, FLAC or Ogg Vorbis file: its first bytes{after} start none of them, and no MP3 frame starts in the first {SCAN_BYTES} bytes"
    )))
}

/// Reads until `buf` is full or the source ends; how many bytes were read.
fn read_up_to(source: &mut dyn MediaSource, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The whole length of an ID3v2 tag that `head` (10 bytes) begins, header and footer included.
fn id3_length(head: &[u8]) -> Option<u64> {
    if head.len() < 10 || &head[..3] != b"ID3" || head[3] == 0xFF || head[4] == 0xFF {
        return None;
    }
    let size = &head[6..10];
    if size.iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    let size = size.iter().fold(0u64, |acc, b| (acc << 7) | u64::from(*b));
    let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

fn starts_a_container(bytes: &[u8]) -> bool {
    bytes.starts_with(b"fLaC")
        || bytes.starts_with(b"OggS")
        || (bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE"))
}

/// A Layer III frame header: its version and rate (to compare with the next) and its length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Frame {
    version: u8,
    rate: u32,
    length: usize,
}

fn frame_at(bytes: &[u8], at: usize) -> Option<Frame> {
    let h = bytes.get(at..at + 4)?;
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 0b11; // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    let layer = (h[1] >> 1) & 0b11; // 1: Layer III
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 0b11);
    if version == 1 || layer != 1 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let padding = usize::from((h[2] >> 1) & 1);
    let (bitrate, rate, per_frame) = match version {
        3 => (BITRATES_V1[bitrate_index], RATES[0][rate_index], 144),
        2 => (BITRATES_V2[bitrate_index], RATES[1][rate_index], 72),
        _ => (BITRATES_V2[bitrate_index], RATES[2][rate_index], 72),
    };
    let length = (per_frame * bitrate * 1000 / rate) as usize + padding;
    Some(Frame {
        version,
        rate,
        length,
    })
}

/// Where the first of three Layer III frames in a row starts, within the first [`SCAN_BYTES`].
/// Only a 0xFF can start one, so the scan jumps from one to the next (memchr), not byte by byte.
/// `ends`: `bytes` run to the upload's end, so a frame or two that reach it are enough.
fn first_mp3_frame(bytes: &[u8], ends: bool) -> Option<usize> {
    let scanned = &bytes[..bytes.len().min(SCAN_BYTES)];
    memchr::memchr_iter(0xFF, scanned).find(|&start| {
        let Some(first) = frame_at(bytes, start) else {
            return false;
        };
        let mut at = start + first.length;
        for _ in 0..2 {
            if at + 4 > bytes.len() {
                // The upload ends here: a frame or two is all it has.
                return ends;
            }
            match frame_at(bytes, at) {
                Some(next) if next.version == first.version && next.rate == first.rate => {
                    at += next.length;
                }
                _ => return false,
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn verdict(bytes: Vec<u8>) -> Result<(), String> {
        let mut source = Cursor::new(bytes);
        let verdict = sniff(&mut source, usize::MAX);
        assert_eq!(source.position(), 0, "the source is left at its start");
        verdict
    }

    /// A made-up MP3 stream: `frames` silent MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz.
    fn frames(count: usize) -> Vec<u8> {
        let header = [0xFF, 0xFB, 0x90, 0x64];
        let length = frame_at(&header, 0).map_or(0, |f| f.length);
        assert_eq!(length, 417);
        let mut frame = vec![0u8; length];
        frame[..4].copy_from_slice(&header);
        frame.repeat(count)
    }

    fn id3(size: usize) -> Vec<u8> {
        let mut tag = b"ID3\x04\x00\x00".to_vec();
        tag.extend((0..4).rev().map(|i| ((size >> (7 * i)) & 0x7F) as u8));
        tag.extend(std::iter::repeat_n(0x41, size));
        tag
    }

    #[test]
    fn each_container_is_known_by_its_first_bytes() {
        let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
        wav.extend([0u8; 100]);
        for (what, bytes) in [
            ("WAV", wav),
            ("FLAC", b"fLaC\x00\x00\x00\x22".to_vec()),
            ("Ogg", b"OggS\x00\x02".to_vec()),
        ] {
            assert_eq!(verdict(bytes), Ok(()), "{what}");
        }
        assert!(verdict(b"RIFF\x24\x00\x00\x00AVI LIST".to_vec()).is_err());
    }

    #[test]
    fn an_mp3_is_known_with_or_without_tags_and_behind_a_little_junk() {
        assert_eq!(verdict(frames(10)), Ok(()), "bare frames");
        assert_eq!(
            verdict([id3(300_000), frames(10)].concat()),
            Ok(()),
            "a large tag"
        );
        assert_eq!(
            verdict([id3(100), id3(2_000), frames(10)].concat()),
            Ok(()),
            "two tags"
        );
        assert_eq!(
            verdict([vec![7u8; 1000], frames(10)].concat()),
            Ok(()),
            "junk"
        );
        assert_eq!(verdict(frames(2)), Ok(()), "an upload of two frames");
        // Frames past the first look, or cut short by its end, are found in the whole window.
        for junk in [FIRST_LOOK - 500, FIRST_LOOK + 10, SCAN_BYTES - 10] {
            assert_eq!(
                verdict([vec![7u8; junk], frames(10)].concat()),
                Ok(()),
                "{junk} bytes of junk"
            );
        }
        assert_eq!(
            verdict([vec![7u8; FIRST_LOOK - 500], frames(2)].concat()),
            Ok(()),
            "two frames that end the upload past the first look"
        );
        // Two frames cut short by the first look's end, then junk: not three in a row.
        let cut = verdict([vec![7u8; FIRST_LOOK - 500], frames(2), vec![7u8; 1000]].concat());
        assert!(cut.is_err(), "two frames and junk past the first look");
        // More junk than a decoder looks through: not audio.
        let far = verdict([vec![7u8; SCAN_BYTES + 10], frames(10)].concat());
        assert!(far.is_err_and(|why| why.contains("no MP3 frame")));
    }

    #[test]
    fn a_walk_over_many_tags_stops_at_its_bound_undecided() {
        let chain = [
            b"ID3\x04\x00\x00\x00\x00\x00\x00".repeat(100),
            vec![7u8; 20_000],
        ]
        .concat();
        assert!(verdict(chain.clone()).is_err(), "the whole look refuses it");
        let mut source = Cursor::new(chain);
        assert_eq!(sniff(&mut source, 8), Ok(()), "undecided past 8 tags");
        assert_eq!(source.position(), 0, "the source is left at its start");
    }

    #[test]
    fn bytes_that_begin_no_format_are_not_audio() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        for (what, bytes) in [
            ("noise", noise),
            ("text", b"this is not a song".to_vec()),
            ("empty", Vec::new()),
            ("a tag and nothing else", id3(50)),
            // One header whose next one is not where it says.
            (
                "a lone frame header in junk",
                [frames(1), vec![0u8; 5000]].concat(),
            ),
        ] {
            let why = verdict(bytes).err();
            assert!(
                why.is_some_and(|w| w.contains("start none of them")),
                "{what}"
            );
        }
    }
}
