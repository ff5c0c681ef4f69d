//! An uploaded song decoded to PCM with symphonia (pure Rust): WAV, MP3, FLAC and Ogg Vorbis.
//!
//! The upload is read from where it was kept, a file or memory ([`UploadSource`]), as it is decoded
//! (symphonia buffers 64 KiB of it), never copied whole, and decoding stops after [`MAX_SECONDS`]:
//! an hour-long upload costs the same as a minute of it.
//! Bytes that are not audio give an `Err` with a reason fit for the task's admin record.

use std::path::Path;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
#[cfg(test)]
use symphonia::core::io::ReadOnlySource;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::source::UploadSource;

/// The most of an upload that is decoded (and so converted), in seconds: the rest is cut.
pub(crate) const MAX_SECONDS: f64 = 60.0;
/// Channels kept: the result is mono or stereo (MP3 has no more), so of a 5.1 upload the first
/// two (front left and right in WAV, FLAC and Vorbis order) are kept.
pub(crate) const MAX_CHANNELS: usize = 2;
/// The highest sample rate accepted (the highest any of the four formats is used with).
const MAX_RATE: u32 = 384_000;
/// Packets in a row that may fail to decode before the file is called broken; a few bad ones are
/// skipped, as players do.
const MAX_BAD_PACKETS: usize = 32;
/// After the cut, packets are still counted (not decoded) to learn the upload's full length when
/// its header does not say; at most this many (a day of MP3).
const MAX_COUNTED_PACKETS: usize = 4_000_000;

/// The decoded start of an upload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decoded {
    /// Samples per second, as in the upload.
    pub(crate) sample_rate: u32,
    /// One vector per channel (1 or 2), all of the same length: at most [`MAX_SECONDS`] of audio.
    pub(crate) channels: Vec<Vec<f32>>,
    /// The upload's channel count, when it had more than were kept.
    pub(crate) dropped_channels: Option<usize>,
    /// The upload is longer than [`MAX_SECONDS`]: the rest was not decoded.
    pub(crate) truncated: bool,
    /// The whole upload's length in seconds, when known (from its header, or by counting its
    /// packets after the cut).
    pub(crate) source_seconds: Option<f64>,
    /// The container and codec, e.g. "wav / pcm_s16le" (for the record).
    pub(crate) format: String,
}

impl Decoded {
    /// Frames (samples per channel) decoded.
    #[cfg(test)]
    pub(crate) fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Seconds decoded.
    #[cfg(test)]
    pub(crate) fn seconds(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.frames() as f64 / f64::from(self.sample_rate)
        }
    }
}

/// Decodes the first [`MAX_SECONDS`] of an upload. `Err` says why it is not audio.
pub(crate) fn decode_upload(source: &UploadSource) -> Result<Decoded, String> {
    decode(source.open()?, MAX_SECONDS)
}

/// [`decode_upload`] of the file at `path` (the bench's door, `lab`).
pub(crate) fn decode_file(path: &Path) -> Result<Decoded, String> {
    decode_upload(&UploadSource::File(path.to_owned()))
}

/// Decodes bytes in memory, cut after `max_seconds` (tests).
#[cfg(test)]
pub(crate) fn decode_bytes(bytes: Vec<u8>, max_seconds: f64) -> Result<Decoded, String> {
    decode(Box::new(std::io::Cursor::new(bytes)), max_seconds)
}

/// Decodes a non-seekable stream (say, a pipe): trailing tags are not looked for.
#[cfg(test)]
pub(crate) fn decode_stream(
    reader: impl std::io::Read + Send + Sync + 'static,
    max_seconds: f64,
) -> Result<Decoded, String> {
    decode(Box::new(ReadOnlySource::new(reader)), max_seconds)
}

/// A probed file with a decoder for its audio track.
struct Opened {
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Frames the track says it has (without encoder delay and padding), if it says.
    declared_frames: Option<u64>,
    /// The rate the codec parameters give (the decoded buffers' is what counts).
    rate: Option<u32>,
    /// "container / codec", for the record.
    format: String,
}

fn open(mut source: Box<dyn MediaSource>) -> Result<Opened, String> {
    // Bytes that start no format are refused here, not after symphonia has scanned them all.
    super::sniff::sniff(source.as_mut(), usize::MAX)?;
    let stream = MediaSourceStream::new(source, Default::default());
    // No hint: the name and content type of an upload are the client's word, the bytes are not.
    let reader = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| format!("not a WAV, MP3, FLAC or Ogg Vorbis file ({e})"))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or("the file has no audio track")?;
    let track_id = track.id;
    let declared_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or("the file's audio track has no codec parameters")?;
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| format!("the file's codec cannot be decoded ({e})"))?;
    let format = format!(
        "{} / {}",
        reader.format_info().short_name,
        decoder.codec_info().short_name
    );
    Ok(Opened {
        rate: params.sample_rate,
        reader,
        decoder,
        track_id,
        declared_frames,
        format,
    })
}

fn decode(source: Box<dyn MediaSource>, max_seconds: f64) -> Result<Decoded, String> {
    let Opened {
        mut reader,
        mut decoder,
        track_id,
        declared_frames,
        rate,
        format,
    } = open(source)?;
    let mut rate = rate.unwrap_or(0);
    let mut cap = frames_for(max_seconds, rate);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut source_channels = 0usize;
    let mut scratch: Vec<Vec<f32>> = Vec::new();
    let mut truncated = false;
    // Frames read past the cut (of the packet that crossed it).
    let mut beyond = 0u64;
    let mut bad_in_a_row = 0usize;
    let mut last_error = String::new();
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A file cut short (the upload stored only in part, or sent so): what came is kept.
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            // A chained Ogg stream changing its tracks: the first one is the song.
            Err(Error::ResetRequired) => break,
            Err(e) => {
                if channels.first().is_some_and(|c| !c.is_empty()) {
                    // Garbage after good audio (a broken tail): keep what decoded.
                    break;
                }
                return Err(format!("the file is not readable audio ({e})"));
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(Error::ResetRequired) => break,
            Err(e) => {
                // A bad packet is skipped, up to MAX_BAD_PACKETS in a row; another error ends it.
                let skipped;
                (last_error, skipped) = match e {
                    Error::DecodeError(why) => (why.to_owned(), true),
                    Error::IoError(io) => (io.to_string(), true),
                    other => (other.to_string(), false),
                };
                bad_in_a_row += 1;
                if !skipped || bad_in_a_row > MAX_BAD_PACKETS {
                    break;
                }
                continue;
            }
        };
        bad_in_a_row = 0;
        let spec = decoded.spec();
        let (buffer_rate, buffer_channels) = (spec.rate(), spec.channels().count());
        if channels.is_empty() {
            if buffer_rate == 0 || buffer_rate > MAX_RATE {
                return Err(format!(
                    "the file's sample rate, {buffer_rate} Hz, is out of range"
                ));
            }
            if buffer_channels == 0 {
                return Err("the file's audio has no channels".to_owned());
            }
            rate = buffer_rate;
            cap = frames_for(max_seconds, rate);
            source_channels = buffer_channels;
            // Room for all that will be kept, when the header says how much: growing by doubling
            // would copy a minute of audio over and over, and briefly hold it twice.
            let expected = declared_frames.map_or(cap, |n| cap.min(n as usize));
            channels = vec![Vec::with_capacity(expected); buffer_channels.min(MAX_CHANNELS)];
        } else if buffer_rate != rate || buffer_channels != source_channels {
            // The stream changed its shape midway (rare; chained streams do): the song so far is
            // what there is.
            break;
        }
        decoded.copy_to_vecs_planar::<f32>(&mut scratch);
        let have = channels.first().map_or(0, Vec::len);
        let room = cap.saturating_sub(have);
        let frames = decoded.frames();
        for (kept, plane) in channels.iter_mut().zip(&scratch) {
            kept.extend_from_slice(&plane[..frames.min(room).min(plane.len())]);
        }
        if frames > room {
            truncated = true;
            beyond = (frames - room) as u64;
            break;
        }
        if frames == room {
            // Exactly at the cut: anything after it is what was cut.
            if let Some(frames) = next_packet_of(reader.as_mut(), track_id) {
                truncated = true;
                beyond = frames;
            }
            break;
        }
    }
    let kept = channels.first().map_or(0, Vec::len);
    if kept == 0 {
        return Err(if last_error.is_empty() {
            "the file holds no audio".to_owned()
        } else {
            format!("no audio in the file could be decoded ({last_error})")
        });
    }
    let source_frames = match declared_frames {
        Some(n) if n >= kept as u64 => Some(n),
        _ if !truncated => Some(kept as u64),
        _ => count_rest(reader.as_mut(), track_id).map(|rest| rest + beyond + kept as u64),
    };
    Ok(Decoded {
        sample_rate: rate,
        channels,
        dropped_channels: (source_channels > MAX_CHANNELS).then_some(source_channels),
        truncated,
        source_seconds: source_frames.map(|n| n as f64 / f64::from(rate)),
        format,
    })
}

/// What a quick look at an upload tells, before it is converted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Probe {
    /// Seconds the result will last: the upload's, at most [`MAX_SECONDS`] (the task's
    /// `conversion_duration`).
    pub(crate) duration: f64,
    /// The upload is longer than [`MAX_SECONDS`].
    pub(crate) truncated: bool,
    /// Its whole length, when known.
    pub(crate) source_seconds: Option<f64>,
    /// Its sample rate.
    pub(crate) sample_rate: u32,
}

/// The length of an upload, without converting it: its header's frame count, or its packets'
/// durations summed (demuxing is cheap), after decoding its first audio to be sure the codec reads
/// it. Milliseconds at most, so a route can wait for it and give the task its
/// `conversion_duration` when it creates it; what it finds goes with the upload, so bytes that
/// are not audio are never looked at again. `Err` says why it is not audio.
pub(crate) fn probe_upload(source: &UploadSource) -> Result<Probe, String> {
    probe(source.open()?)
}

/// Whether the upload may be audio, by its first bytes only (`sniff`): what [`probe_upload`]
/// looks at before symphonia, for a caller that wants the cheap refusal first. At most
/// [`QUICK_SNIFF_TAGS`] ID3v2 tags are walked: an upload with more (hostile: a MiB of empty
/// tags is 100,000 of them) is left to [`probe_upload`]'s whole look, whose verdict is the same.
pub(crate) fn sniff_upload(source: &UploadSource) -> Result<(), String> {
    super::sniff::sniff(source.open()?.as_mut(), QUICK_SNIFF_TAGS)
}

/// The most ID3v2 tags [`sniff_upload`] walks (a song has one or two).
const QUICK_SNIFF_TAGS: usize = 8;

/// [`probe_upload`] of the file at `path` (tests).
#[cfg(test)]
pub(crate) fn probe_file(path: &Path) -> Result<Probe, String> {
    probe_upload(&UploadSource::File(path.to_owned()))
}

fn probe(source: Box<dyn MediaSource>) -> Result<Probe, String> {
    let Opened {
        mut reader,
        mut decoder,
        track_id,
        declared_frames,
        ..
    } = open(source)?;
    let mut bad = 0usize;
    let (rate, first) = loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) | Err(_) => return Err("the file holds no audio that decodes".to_owned()),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(d) if d.frames() > 0 => {
                let rate = d.spec().rate();
                if rate == 0 || rate > MAX_RATE || d.spec().channels().count() == 0 {
                    return Err(format!(
                        "the file's sample rate, {rate} Hz, is out of range"
                    ));
                }
                break (rate, d.frames() as u64);
            }
            Ok(_) => {}
            Err(Error::DecodeError(_) | Error::IoError(_)) if bad < MAX_BAD_PACKETS => bad += 1,
            Err(e) => return Err(format!("no audio in the file could be decoded ({e})")),
        }
    };
    let total = match declared_frames {
        Some(n) if n >= first => Some(n),
        _ => count_rest(reader.as_mut(), track_id).map(|rest| rest + first),
    };
    let cap = frames_for(MAX_SECONDS, rate) as u64;
    let kept = total.map_or(cap, |n| n.min(cap));
    let out_rate = super::encode::result_rate(rate);
    Ok(Probe {
        duration: super::encode::result_frames(kept as usize, rate, out_rate) as f64
            / f64::from(out_rate),
        truncated: total.is_none_or(|n| n > cap),
        source_seconds: total.map(|n| n as f64 / f64::from(rate)),
        sample_rate: rate,
    })
}

/// Frames in `seconds` at `rate`.
fn frames_for(seconds: f64, rate: u32) -> usize {
    (seconds.max(0.0) * f64::from(rate)).round() as usize
}

/// The frames of the track's next packet, if another follows.
fn next_packet_of(reader: &mut dyn FormatReader, track_id: u32) -> Option<u64> {
    loop {
        match reader.next_packet() {
            Ok(Some(p)) if p.track_id == track_id => return Some(p.dur.get()),
            Ok(Some(_)) => continue,
            _ => return None,
        }
    }
}

/// Frames in the rest of the track, counted from its packets' durations without decoding them
/// (demuxing is cheap); `None` when it does not end within [`MAX_COUNTED_PACKETS`].
///
/// The packets' durations are in the track's time base, which for these formats is one tick per
/// frame.
fn count_rest(reader: &mut dyn FormatReader, track_id: u32) -> Option<u64> {
    let mut frames = 0u64;
    for _ in 0..MAX_COUNTED_PACKETS {
        match reader.next_packet() {
            Ok(Some(p)) if p.track_id == track_id => frames += p.dur.get(),
            Ok(Some(_)) => {}
            _ => return Some(frames),
        }
    }
    None
}
