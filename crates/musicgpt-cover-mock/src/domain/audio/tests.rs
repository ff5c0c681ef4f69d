//! The upload conversion on its own, no HTTP: a tone shifted by n semitones comes out at the
//! expected frequency with its length, for each supported format, mono and stereo; bytes that are
//! not audio give the tune and a reason; a long upload is cut to a minute and says so.
//!
//! Inputs: WAV and MP3 are made here (`encode`); FLAC and Ogg Vorbis are fixtures, one second of
//! 440 Hz (mono) or 440 Hz left / 660 Hz right (stereo) at 44.1 kHz, amplitude 0.5, made once
//! from WAVs of those tones with Debian's tools:
//! `flac -8 tone-X.wav` (flac 1.4.2) and `oggenc -q 1 tone-X.wav` (vorbis-tools 1.4.2).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::decode::{Decoded, MAX_SECONDS, decode_bytes, decode_stream, probe_file, probe_upload};
use super::encode::{mp3, wav};
use super::render::{
    INLINE_PROBE_BYTES, MadeFrom, render_decoded, render_upload, render_upload_or_tune,
};
use super::source::UploadSource;
use super::tune::DURATION_SECONDS;
use crate::domain::uploads::UploadStore;

const RATE: u32 = 44_100;
/// The tones of the fixtures: channel 0, channel 1.
const TONES: [f64; 2] = [440.0, 660.0];
/// The shifts the issue asks about.
const SHIFTS: [i64; 5] = [-12, -5, 0, 7, 12];
/// An MP3 frame (MPEG-1): "the same length within a frame".
const MP3_FRAME: usize = 1152;

#[derive(Clone, Copy, Debug)]
enum Format {
    Wav,
    Mp3,
    Flac,
    Vorbis,
}

/// One second of the test tones, one per channel.
fn tone(channels: usize, rate: u32, seconds: f64) -> Vec<Vec<f32>> {
    let frames = (seconds * f64::from(rate)) as usize;
    TONES[..channels]
        .iter()
        .map(|f| {
            (0..frames)
                .map(|i| {
                    (0.5 * (std::f64::consts::TAU * f * i as f64 / f64::from(rate)).sin()) as f32
                })
                .collect()
        })
        .collect()
}

fn input(format: Format, channels: usize) -> Vec<u8> {
    let stereo = channels == 2;
    match format {
        Format::Wav => wav(&tone(channels, RATE, 1.0), RATE),
        Format::Mp3 => mp3(&tone(channels, RATE, 1.0), RATE).unwrap_or_default(),
        Format::Flac if stereo => include_bytes!("fixtures/tone-stereo.flac").to_vec(),
        Format::Flac => include_bytes!("fixtures/tone-mono.flac").to_vec(),
        Format::Vorbis if stereo => include_bytes!("fixtures/tone-stereo.ogg").to_vec(),
        Format::Vorbis => include_bytes!("fixtures/tone-mono.ogg").to_vec(),
    }
}

/// The frequency of a tone, from its upward zero crossings (interpolated) over the middle 60 %
/// (the edges hold the vocoder's fade-in and fade-out).
fn frequency(samples: &[f32], rate: u32) -> f64 {
    let (from, to) = (samples.len() / 5, samples.len() * 4 / 5);
    let mut first = None;
    let mut last = 0.0;
    let mut crossings = 0usize;
    for i in from..to.saturating_sub(1) {
        let (a, b) = (f64::from(samples[i]), f64::from(samples[i + 1]));
        if a <= 0.0 && b > 0.0 {
            let at = i as f64 + a / (a - b);
            if first.is_none() {
                first = Some(at);
            } else {
                crossings += 1;
            }
            last = at;
        }
    }
    match first {
        Some(first) if last > first => crossings as f64 * f64::from(rate) / (last - first),
        _ => 0.0,
    }
}

/// How far `got` is from `want`, in percent.
fn off(got: f64, want: f64) -> f64 {
    (got / want - 1.0).abs() * 100.0
}

fn decoded(bytes: Vec<u8>) -> Decoded {
    (decode_bytes(bytes, MAX_SECONDS)).unwrap_or_else(|e| panic!("does not decode: {e}"))
}

/// Every format, mono and stereo, shifted by each n: the result WAV (decoded again) has each
/// channel's tone at f·2^(n/12) within 2 %, and exactly the input's length, which is the
/// generated second within an MP3 frame. The result MP3 is checked the same way for one shift.
fn check(format: Format, channels: usize) {
    let input = decoded(input(format, channels));
    assert_eq!(input.sample_rate, RATE, "{format:?}");
    assert_eq!(input.channels.len(), channels, "{format:?}");
    assert!(!input.truncated);
    let frames = input.frames();
    assert!(
        frames.abs_diff(RATE as usize) <= MP3_FRAME,
        "{format:?} {channels} ch decoded to {frames} frames"
    );
    for n in SHIFTS {
        let result = render_decoded(input.clone(), n);
        assert!(result.is_upload());
        assert_eq!(result.channels, channels);
        assert_eq!(result.sample_rate, RATE);
        let back = decoded(result.wav.to_vec());
        assert_eq!(
            back.frames(),
            frames,
            "{format:?} {channels} ch {n:+}: length"
        );
        assert!((result.duration - input.seconds()).abs() < 1e-9);
        for (c, samples) in back.channels.iter().enumerate() {
            let want = TONES[c] * (n as f64 / 12.0).exp2();
            let got = frequency(samples, RATE);
            assert!(
                off(got, want) < 2.0,
                "{format:?} {channels} ch, channel {c}, {n:+} semitones: {got:.1} Hz, want {want:.1}"
            );
        }
        if n == 7 {
            let mp3 = decoded(result.mp3.to_vec());
            assert_eq!(mp3.channels.len(), channels);
            assert!(
                mp3.frames().abs_diff(frames) <= MP3_FRAME,
                "{format:?} mp3 length"
            );
            let got = frequency(&mp3.channels[0], RATE);
            let want = TONES[0] * (7.0f64 / 12.0).exp2();
            assert!(
                off(got, want) < 2.0,
                "{format:?} mp3: {got:.1} Hz, want {want:.1}"
            );
        }
    }
}

/// The quick look a route takes before the task exists gives the duration the conversion will
/// have, for every format.
#[test]
fn the_probe_knows_the_duration_before_the_conversion() {
    let store = files();
    for format in [Format::Wav, Format::Mp3, Format::Flac, Format::Vorbis] {
        for channels in [1, 2] {
            let bytes = input(format, channels);
            let (_incoming, path) = write(&store, &bytes);
            let probe = probe_file(&path).unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
            let seconds = decoded(bytes).seconds();
            assert_eq!(probe.duration, seconds, "{format:?} {channels} ch");
            assert!(!probe.truncated);
            assert_eq!(probe.source_seconds, Some(seconds));
            assert_eq!(probe.sample_rate, RATE);
        }
    }
}

/// A real MP3 behind what players meet before the first frame: ID3v2 tags (one with 300 KB of
/// "cover art") and a little junk. Each still probes to the same duration and decodes; behind
/// more junk than the sniff scans (`sniff::SCAN_BYTES`), it is refused without a scan.
#[test]
fn an_mp3_behind_tags_or_a_little_junk_still_probes() {
    let store = files();
    let song = input(Format::Mp3, 1);
    let seconds = decoded(song.clone()).seconds();
    let tag = |size: usize| {
        let mut tag = b"ID3\x04\x00\x00".to_vec();
        tag.extend((0..4).rev().map(|i| ((size >> (7 * i)) & 0x7F) as u8));
        tag.extend(std::iter::repeat_n(0x41u8, size));
        tag
    };
    for (what, prefix) in [
        ("an ID3v2 tag of 300 KB", tag(300_000)),
        ("junk of 1,000 bytes", vec![0x55u8; 1000]),
        ("a tag, then junk", [tag(64), vec![0x55u8; 500]].concat()),
    ] {
        let bytes = [prefix, song.clone()].concat();
        let (_incoming, path) = write(&store, &bytes);
        let probe = probe_file(&path).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert!(
            (probe.duration - seconds).abs() < 0.05,
            "{what}: {} s",
            probe.duration
        );
        assert!(decode_bytes(bytes, MAX_SECONDS).is_ok(), "{what}");
    }
    let far = [vec![0x55u8; super::sniff::SCAN_BYTES + 1], song].concat();
    let (_incoming, path) = write(&store, &far);
    let why = probe_file(&path).err().unwrap_or_default();
    assert!(why.contains("no MP3 frame starts"), "{why}");
}

#[test]
fn every_format_mono_and_stereo_is_shifted_keeping_its_length() {
    for format in [Format::Wav, Format::Mp3, Format::Flac, Format::Vorbis] {
        check(format, 1);
        check(format, 2);
    }
}

/// The shift moves nothing in time: a tone that starts at 0.25 s starts there after the shift,
/// within a window (46 ms).
#[test]
fn a_note_starts_when_it_started() {
    let rate = 22_050u32;
    let onset = rate as usize / 4;
    let mut pcm = tone(1, rate, 1.0);
    pcm[0][..onset].iter_mut().for_each(|s| *s = 0.0);
    for n in [-12, 7, 12] {
        let out = super::shift::shift_channels(pcm.clone(), n, rate);
        let start = out[0]
            .iter()
            .position(|s| s.abs() > 0.1)
            .unwrap_or_else(|| panic!("{n:+}: silent"));
        assert!(
            start.abs_diff(onset) < rate as usize / 20,
            "{n:+}: starts at {start}, not {onset}"
        );
        // And it is about as loud: the frame energy is kept.
        let rms = |s: &[f32]| (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt();
        let (a, b) = (rms(&pcm[0][onset..]), rms(&out[0][onset + 2048..]));
        assert!((b / a - 1.0).abs() < 0.3, "{n:+}: rms {b} for {a}");
    }
}

/// A private directory for the files the tests write (deleted with the store).
fn files() -> Arc<UploadStore> {
    Arc::new(UploadStore::default())
}

/// `bytes` as an upload written to the store's segment, and as a file of their own in its
/// directory (what the file tests read).
fn write(store: &UploadStore, bytes: &[u8]) -> (super::super::uploads::Incoming, PathBuf) {
    let extent = store
        .append(&[bytes::Bytes::copy_from_slice(bytes)])
        .expect("not written");
    let dir = store.dir().map(Path::to_owned).unwrap_or_default();
    let path = dir.join(format!("test-{}.bin", uuid::Uuid::new_v4().simple()));
    assert!(std::fs::write(&path, bytes).is_ok());
    (store.on_disk(vec![extent], None), path)
}

/// The upload in the file at `path`.
fn file(path: &Path) -> UploadSource {
    UploadSource::File(path.to_owned())
}

/// `len` bytes of noise from a fixed generator ([`super::noise`]).
fn noise(len: usize) -> Vec<u8> {
    super::noise(len, 0x2545_f491_4f6c_dd1d)
}

#[test]
fn bytes_that_do_not_decode_give_the_tune_and_the_reason() {
    let store = files();
    let noise = noise(256 * 1024);
    let mut truncated_wav = wav(&tone(1, 8_000, 0.1), 8_000);
    truncated_wav.truncate(40);
    let cases: [(&str, &[u8]); 5] = [
        ("empty", b""),
        ("text", b"this is not a song, it is a sentence about one"),
        ("noise", &noise),
        ("a WAV header cut short", &truncated_wav),
        ("a JSON body", br#"{"audio": "https://example.com/a.mp3"}"#),
    ];
    for (what, bytes) in cases {
        let (_incoming, path) = write(&store, bytes);
        let why = match render_upload(&file(&path), 3) {
            Ok(r) => panic!("{what} decoded: {}", r.note),
            Err(why) => why,
        };
        assert!(!why.is_empty());
        assert!(probe_file(&path).is_err(), "{what} probed as audio");
        let result = render_upload_or_tune(&file(&path), 3);
        assert_eq!(
            result.made_from,
            MadeFrom::Tune {
                reason: why.clone()
            },
            "{what}"
        );
        assert_eq!(result.duration, DURATION_SECONDS);
        assert!(result.note.contains(&why), "{what}: {}", result.note);
        let tune = super::tune::rendition_blocking(3);
        assert_eq!((&result.wav, &result.mp3), (&tune.wav, &tune.mp3));
    }
    // A file that is gone says so.
    let gone = store.dir().map(|d| d.join("gone")).unwrap_or_default();
    let why = render_upload(&file(&gone), 0).expect_err("a missing file converted");
    assert!(why.contains("could not be read"), "{why}");
}

/// 61 s in: 60 s out, and the record says what was cut. At 8 kHz mono to keep the debug build
/// quick; pitch 0, so the shift is exact.
#[test]
fn a_61_second_upload_is_cut_to_60_and_says_so() {
    let rate = 8_000u32;
    let store = files();
    let (_incoming, path) = write(&store, &wav(&tone(1, rate, 61.0), rate));
    let probe = probe_file(&path).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(probe.duration, 60.0);
    assert!(probe.truncated);
    assert_eq!(probe.source_seconds, Some(61.0));
    let result = render_upload(&file(&path), 0).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(result.duration, 60.0);
    assert_eq!(
        result.made_from,
        MadeFrom::Upload {
            truncated: true,
            source_seconds: Some(61.0)
        }
    );
    assert!(
        result
            .note
            .contains("the upload lasts 61 s: only its first 60 s were converted"),
        "{}",
        result.note
    );
    let back = decoded(result.wav.to_vec());
    assert_eq!(back.frames(), 60 * rate as usize);
    // A minute exactly is not cut.
    let (_incoming, path) = write(&store, &wav(&tone(1, rate, 60.0), rate));
    let whole = probe_file(&path).map(|p| (p.duration, p.truncated));
    assert_eq!(whole, Ok((60.0, false)));
}

/// When the header does not say how long the file is (an Ogg stream read as it comes), the
/// packets after the cut are counted.
#[test]
fn the_length_beyond_the_cut_is_counted_when_the_header_does_not_say_it() {
    let bytes = include_bytes!("fixtures/tone-stereo.ogg").to_vec();
    let cut = decode_stream(std::io::Cursor::new(bytes), 0.25).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(cut.truncated);
    assert_eq!(cut.frames(), RATE as usize / 4);
    let total = cut.source_seconds.expect("length unknown");
    assert!((total - 1.0).abs() < 0.03, "{total}");
}

/// Rates MP3 has no header for are resampled (both files alike), and the duration is kept.
#[test]
fn an_odd_rate_is_resampled_for_mp3() {
    let rate = 96_000u32;
    let store = files();
    let (_incoming, path) = write(&store, &wav(&tone(2, rate, 0.5), rate));
    let probe = probe_file(&path).map(|p| p.duration);
    let result = render_upload(&file(&path), 12).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(result.sample_rate, 48_000);
    assert_eq!(probe, Ok(result.duration));
    assert!((result.duration - 0.5).abs() < 1e-6);
    assert!(result.note.contains("resampled from 96000 Hz to 48000 Hz"));
    let back = decoded(result.wav.to_vec());
    let got = frequency(&back.channels[1], 48_000);
    assert!(off(got, 1320.0) < 2.0, "{got}");
    assert!(!result.mp3.is_empty());
}

/// Through the upload store, as the Cover route will use it: kept, converted in the background,
/// the result waited for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_upload_is_converted() {
    let store = files();
    let (incoming, _path) = write(&store, &wav(&tone(1, 22_050, 1.0), 22_050));
    let task = uuid::Uuid::from_u128(42);
    let probed = probe_upload(incoming.source());
    assert!(probed.is_ok(), "{probed:?}");
    assert!(store.keep(incoming, task, -5, &probed).is_ok());
    let result = store.result(&task).await.expect("no result");
    assert!(result.is_upload(), "{}", result.note);
    let back = decoded(result.wav.to_vec());
    let got = frequency(&back.channels[0], 22_050);
    assert!(off(got, 440.0 * (-5.0f64 / 12.0).exp2()) < 2.0, "{got}");
    assert_eq!(store.note(&task), Some(result.note.clone()));
    store.remove(&task);
    assert!(store.result(&task).await.is_none());
}

/// While the bench holds the conversions back, a kept upload's conversion waits (its result is
/// not made, however long it is waited for); once let go, it runs as it would have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_conversion_waits_until_let_go() {
    let store = files();
    let (incoming, _path) = write(&store, &wav(&tone(1, 22_050, 0.5), 22_050));
    let task = uuid::Uuid::from_u128(45);
    let probed = probe_upload(incoming.source());
    let held = super::lab::hold_conversions().await;
    assert!(held.is_ok(), "{:?}", held.as_ref().err());
    assert!(store.keep(incoming, task, 3, &probed).is_ok());
    let waited =
        tokio::time::timeout(std::time::Duration::from_millis(300), store.result(&task)).await;
    assert!(waited.is_err(), "converted while held");
    assert_eq!(store.note(&task), None);
    drop(held);
    let result = store.result(&task).await.expect("no result");
    assert!(result.is_upload(), "{}", result.note);
}

/// `bytes` in memory as the form parser gives them: in pieces of `piece` bytes.
fn in_pieces(bytes: &[u8], piece: usize) -> UploadSource {
    UploadSource::Memory(super::source::Chunks::new(
        bytes
            .chunks(piece)
            .map(bytes::Bytes::copy_from_slice)
            .collect(),
    ))
}

/// An upload in memory, whole or in pieces, or on disk in places apart in the store's segment
/// (each at an offset, another upload's bytes between them), probes and decodes as the same bytes
/// in a file do: one code path, three sources.
#[test]
fn memory_disk_and_file_read_alike() {
    let store = files();
    for format in [Format::Wav, Format::Mp3, Format::Flac, Format::Vorbis] {
        let bytes = input(format, 2);
        let (_incoming, path) = write(&store, &bytes);
        let from_file = probe_file(&path);
        assert!(from_file.is_ok(), "{format:?}: {from_file:?}");
        let decoded_file = render_upload(&file(&path), 2).map(|r| (r.duration, r.wav));
        for piece in [bytes.len(), 1000, 4096] {
            let memory = in_pieces(&bytes, piece);
            assert_eq!(probe_upload(&memory), from_file, "{format:?} in {piece}");
            let decoded_memory = render_upload(&memory, 2).map(|r| (r.duration, r.wav));
            assert_eq!(decoded_memory, decoded_file, "{format:?} in {piece}");
        }
        let mut places = Vec::new();
        for (i, piece) in bytes.chunks(bytes.len() / 3 + 1).enumerate() {
            assert!(
                store
                    .append(&[bytes::Bytes::from(vec![i as u8; 777])])
                    .is_ok()
            );
            let place = store
                .append(&[bytes::Bytes::copy_from_slice(piece)])
                .expect("not written");
            assert!(place.start > 0);
            places.push(place);
        }
        assert_eq!(places.len(), 3);
        let on_disk = store.on_disk(places, None);
        assert_eq!(
            probe_upload(on_disk.source()),
            from_file,
            "{format:?} on disk"
        );
        let decoded_disk = render_upload(on_disk.source(), 2).map(|r| (r.duration, r.wav));
        assert_eq!(decoded_disk, decoded_file, "{format:?} on disk");
    }
}

/// A real song kept in memory (no file anywhere) is converted in the background into a result as
/// long as the probe said, from its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_kept_in_memory_is_converted() {
    let store = files();
    for (task, format) in [(43u128, Format::Wav), (44, Format::Mp3)] {
        let bytes = input(format, 1);
        let mut reservation = store.reservation();
        assert!(reservation.grow(bytes.len() as u64));
        let pieces = bytes.chunks(1500).map(bytes::Bytes::copy_from_slice);
        let incoming = store.in_memory(pieces.collect(), reservation);
        assert!(incoming.in_memory());
        let probed = probe_upload(incoming.source());
        let probe = probed
            .clone()
            .unwrap_or_else(|_| panic!("{format:?}: {probed:?}"));
        let task = uuid::Uuid::from_u128(task);
        assert!(store.keep(incoming, task, 7, &probed).is_ok());
        assert_eq!(store.kept_in_memory(&task), Some(true));
        let result = store.result(&task).await.expect("no result");
        assert!(result.is_upload(), "{format:?}: {}", result.note);
        assert_eq!(result.duration, probe.duration, "{format:?}");
        assert!(
            (result.duration - 1.0).abs() < 0.06,
            "{format:?}: {}",
            result.duration
        );
        let back = decoded(result.wav.to_vec());
        let got = frequency(&back.channels[0], back.sample_rate);
        assert!(
            off(got, 440.0 * (7.0f64 / 12.0).exp2()) < 2.0,
            "{format:?}: {got}"
        );
        store.remove(&task);
    }
    assert_eq!(
        store.memory_used(),
        0,
        "the evicted uploads gave their memory back"
    );
    assert!(!store.has_dir(), "no file was ever made");
}

/// Bytes that make the decoder panic (a WAV whose channel count overflows symphonia's arithmetic,
/// in a debug build; found by the fuzzer) give a reason, not a panic, also when they are probed
/// on the request's own thread (small, in memory).
#[tokio::test]
async fn a_probe_that_panics_is_an_error() {
    let wav: &[u8] =
        b"RIFF,\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\xc4D\xac\x00\x00\x88X\x01\x00\
\x02\x00\x10\x00data\x08\x00\x00\x00\x00\x00\xff\x7f\x00\x80\x01\x00";
    let memory = in_pieces(wav, wav.len());
    assert!(memory.memory_len().is_some_and(|n| n <= INLINE_PROBE_BYTES));
    let probed = super::render::probe_upload_async(memory).await;
    let Err(why) = probed else {
        panic!("probed as audio: {probed:?}");
    };
    // In release the arithmetic wraps and the header is refused instead.
    #[cfg(debug_assertions)]
    assert!(why.contains("the probe panicked"), "{why}");
    assert!(!why.is_empty());
}

/// A large upload in memory that starts no format is refused on the request's own thread: the
/// blocking pool's one thread is held busy, and the probe must not wait for it. One that may be
/// audio still goes to the pool (it waits until the thread is let go).
#[test]
fn large_bytes_that_are_not_audio_are_refused_without_the_blocking_pool() {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .enable_time()
        .build()
    else {
        panic!("no runtime");
    };
    let noise = in_pieces(&noise(1 << 20), 16 << 10);
    assert!(noise.memory_len().is_some_and(|n| n > INLINE_PROBE_BYTES));
    let mut song = wav(&tone(2, 22_050, 1.0), 22_050);
    song.truncate(song.len().min(40 << 10));
    let song = in_pieces(&song, 16 << 10);
    assert!(song.memory_len().is_some_and(|n| n > INLINE_PROBE_BYTES));
    runtime.block_on(async {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = tokio::task::spawn_blocking(move || held.recv());
        let wait = std::time::Duration::from_secs(10);
        let refused = tokio::time::timeout(wait, super::render::probe_upload_async(noise)).await;
        let Ok(Err(why)) = refused else {
            panic!("noise was not refused at once: {refused:?}");
        };
        assert!(why.contains("start none of them"), "{why}");
        let song = tokio::spawn(super::render::probe_upload_async(song));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!song.is_finished(), "the song was probed without the pool");
        let _ = release.send(());
        let _ = busy.await;
        let probed = tokio::time::timeout(wait, song).await;
        assert!(matches!(probed, Ok(Ok(Ok(_)))), "{probed:?}");
    });
}

/// What probing bytes that are not audio costs, in memory: the number [`INLINE_PROBE_BYTES`]
/// rests on. Run in release:
/// `cargo test --release -p musicgpt-cover-mock --lib probe_cost_report -- --ignored --nocapture`.
#[test]
#[ignore = "a timing report (meaningful in release only); it checks the probe outcomes it times"]
fn probe_cost_report() {
    let noise = noise(1 << 20);
    let song = wav(&tone(1, 22_050, 1.0), 22_050);
    println!("inline below {INLINE_PROBE_BYTES} bytes");
    println!("what                       bytes    µs per probe");
    let cases: [(&str, &[u8]); 5] = [
        ("noise", &noise[..2 << 10]),
        ("noise", &noise[..16 << 10]),
        ("noise", &noise[..64 << 10]),
        ("noise", &noise),
        ("a 1 s WAV (22.05 kHz mono)", &song),
    ];
    for (what, bytes) in cases {
        let source = in_pieces(bytes, 16 << 10);
        // What is timed is what the mock relies on: noise is refused, a song is found.
        assert_eq!(
            probe_upload(&source).is_ok(),
            what.starts_with("a 1 s WAV"),
            "{what}, {} bytes",
            bytes.len()
        );
        let rounds = if bytes.len() > 100_000 { 20 } else { 500 };
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(probe_upload(&source).is_ok());
        }
        let each = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
        println!("{what:<26} {:>7}  {each:>10.1}", bytes.len());
    }
    // What the alternative costs: a hand-off to the blocking pool and back, doing nothing there.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("no runtime");
    let rounds = 20_000u32;
    let (cpu, started) = (process_cpu_seconds(), std::time::Instant::now());
    runtime.block_on(async {
        for _ in 0..rounds {
            let _ = tokio::task::spawn_blocking(|| ()).await;
        }
    });
    let wall = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let cpu = (process_cpu_seconds() - cpu) * 1e6 / f64::from(rounds);
    println!("an empty spawn_blocking: {wall:.1} µs wall, {cpu:.1} µs CPU (both threads)");
}

/// CPU seconds this process has used, from /proc (Linux; 0 elsewhere), in clock ticks of 10 ms.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// The share of a signal's energy (over its middle 60 %) at `freq`: 1.0 is a pure tone.
fn purity(samples: &[f32], rate: u32, freq: f64) -> f64 {
    let part = &samples[samples.len() / 5..samples.len() * 4 / 5];
    let w = std::f64::consts::TAU * freq / f64::from(rate);
    let (mut re, mut im, mut total) = (0.0, 0.0, 0.0);
    for (i, s) in part.iter().enumerate() {
        let s = f64::from(*s);
        re += s * (w * i as f64).cos();
        im += s * (w * i as f64).sin();
        total += s * s;
    }
    (2.0 * (re * re + im * im) / part.len() as f64 / total).min(1.0)
}

/// The quality numbers, printed: frequency error, length error, loudness and tone purity per
/// format, channel count and shift (through the result WAV). Run in release:
/// `cargo test --release -p musicgpt-cover-mock --lib quality_report -- --ignored --nocapture`.
#[test]
#[ignore = "a report of every format and shift (slow in a debug build); it checks each frequency too"]
fn quality_report() {
    println!("format  ch  shift  freq error  length error  loudness  purity");
    for format in [Format::Wav, Format::Mp3, Format::Flac, Format::Vorbis] {
        for channels in [1, 2] {
            let input = decoded(input(format, channels));
            for n in SHIFTS {
                let result = render_decoded(input.clone(), n);
                let back = decoded(result.wav.to_vec());
                let rms = |s: &[f32]| {
                    let part = &s[s.len() / 5..s.len() * 4 / 5];
                    (part.iter().map(|v| v * v).sum::<f32>() / part.len() as f32).sqrt()
                };
                for (c, tone) in TONES.iter().enumerate().take(channels) {
                    let want = tone * (n as f64 / 12.0).exp2();
                    let got = frequency(&back.channels[c], RATE);
                    // The bound the conversion tests hold it to, so a report of a broken
                    // shift fails instead of printing.
                    assert!(
                        off(got, want) < 2.0,
                        "{format:?} {channels} ch, channel {c}, {n:+}: {got:.1} Hz, want {want:.1}"
                    );
                    let db =
                        20.0 * f64::from(rms(&back.channels[c]) / rms(&input.channels[c])).log10();
                    println!(
                        "{:<7} {channels}.{c} {n:+4}  {:+9.4} %  {:+6} frames  {db:+5.2} dB  {:.4}",
                        format!("{format:?}"),
                        (got / want - 1.0) * 100.0,
                        back.frames() as i64 - input.frames() as i64,
                        purity(&back.channels[c], RATE, want),
                    );
                }
            }
        }
    }
}
