//! Is this file real audio? An MP3 (MPEG audio Layer III) frame walker and a WAV header reader,
//! enough to prove that the mock's result files are well-formed streams of the stated length,
//! without an audio decoder in the build.

/// What an MP3 file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Mp3 {
    /// Frames walked, from the first to the end of the file.
    pub frames: usize,
    /// Samples per second (every frame has the same).
    pub sample_rate: u32,
    /// Channels of the first frame (1 or 2).
    pub channels: u8,
    /// `frames × samples per frame / sample rate`, in seconds (encoder padding included).
    pub seconds: f64,
}

/// Bit rates of Layer III in kbit/s by index, MPEG-1 and MPEG-2/2.5 (index 0 is "free", 15 bad).
const BITRATES_V1: [u32; 16] = [
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
];
const BITRATES_V2: [u32; 16] = [
    0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0,
];

/// Walks every frame of an MP3 file: an optional ID3v2 tag, then Layer III frames back to back
/// up to the end of the file (or an ID3v1 tag).
///
/// # Errors
/// Where the stream stops being MP3 and why.
pub fn parse_mp3(bytes: &[u8]) -> Result<Mp3, String> {
    let mut pos = 0;
    if bytes.len() >= 10 && &bytes[..3] == b"ID3" {
        let size = bytes[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
        let footer = if bytes[5] & 0x10 != 0 { 10 } else { 0 };
        pos = 10 + size + footer;
    }
    let mut frames = 0;
    let mut samples = 0u64;
    let mut first: Option<(u32, u8)> = None;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() == 128 && &rest[..3] == b"TAG" {
            break;
        }
        if rest.len() < 4 {
            return Err(format!(
                "{} stray bytes at the end (offset {pos})",
                rest.len()
            ));
        }
        let header = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if header >> 21 != 0x7ff {
            return Err(format!("no frame sync at offset {pos} (frame {frames})"));
        }
        let version = (header >> 19) & 0b11;
        let layer = (header >> 17) & 0b11;
        if layer != 0b01 {
            return Err(format!("frame {frames} at offset {pos} is not Layer III"));
        }
        let (rates, bitrates, samples_per_frame, coefficient) = match version {
            0b11 => ([44_100, 48_000, 32_000], &BITRATES_V1, 1152, 144_000),
            0b10 => ([22_050, 24_000, 16_000], &BITRATES_V2, 576, 72_000),
            0b00 => ([11_025, 12_000, 8_000], &BITRATES_V2, 576, 72_000),
            _ => {
                return Err(format!(
                    "frame {frames} at offset {pos}: reserved MPEG version"
                ));
            }
        };
        let bitrate = bitrates[((header >> 12) & 0xf) as usize];
        let rate_index = ((header >> 10) & 0b11) as usize;
        if bitrate == 0 || rate_index == 3 {
            return Err(format!(
                "frame {frames} at offset {pos}: free or bad bit rate, or bad sample rate"
            ));
        }
        let sample_rate: u32 = rates[rate_index];
        let padding = (header >> 9) & 1;
        let channels = if (header >> 6) & 0b11 == 0b11 { 1 } else { 2 };
        match first {
            None => first = Some((sample_rate, channels)),
            Some((rate, _)) if rate != sample_rate => {
                return Err(format!(
                    "frame {frames} at offset {pos}: sample rate {sample_rate} after {rate}"
                ));
            }
            Some(_) => {}
        }
        let length = (coefficient * bitrate / sample_rate + padding) as usize;
        if length < 4 || pos + length > bytes.len() {
            return Err(format!(
                "frame {frames} at offset {pos} ({length} bytes) runs past the end ({} bytes)",
                bytes.len()
            ));
        }
        pos += length;
        frames += 1;
        samples += samples_per_frame;
    }
    let (sample_rate, channels) = first.ok_or("no MP3 frame at all")?;
    Ok(Mp3 {
        frames,
        sample_rate,
        channels,
        seconds: samples as f64 / f64::from(sample_rate),
    })
}

/// What a WAV file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Wav {
    /// 1 for PCM.
    pub format: u16,
    /// Channels.
    pub channels: u16,
    /// Samples per second.
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits: u16,
    /// Length of the `data` chunk in seconds.
    pub seconds: f64,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads a RIFF/WAVE file's `fmt ` and `data` chunks, checking that the sizes add up.
///
/// # Errors
/// What is malformed.
pub fn parse_wav(bytes: &[u8]) -> Result<Wav, String> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".to_owned());
    }
    let riff_size = le32(bytes, 4).ok_or("short RIFF header")? as usize;
    if riff_size + 8 != bytes.len() {
        return Err(format!(
            "RIFF size {riff_size} + 8 is not the file size {}",
            bytes.len()
        ));
    }
    let mut pos = 12;
    let mut fmt = None;
    let mut data = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = le32(bytes, pos + 4).ok_or("short chunk header")? as usize;
        let body = pos + 8;
        if body + size > bytes.len() {
            return Err(format!(
                "chunk {:?} runs past the end",
                String::from_utf8_lossy(id)
            ));
        }
        match id {
            b"fmt " => {
                fmt = Some((
                    le16(bytes, body).ok_or("short fmt")?,
                    le16(bytes, body + 2).ok_or("short fmt")?,
                    le32(bytes, body + 4).ok_or("short fmt")?,
                    le32(bytes, body + 8).ok_or("short fmt")?,
                    le16(bytes, body + 14).ok_or("short fmt")?,
                ));
            }
            b"data" => data = Some(size),
            _ => {}
        }
        pos = body + size + (size & 1);
    }
    let (format, channels, sample_rate, byte_rate, bits) = fmt.ok_or("no fmt chunk")?;
    let data = data.ok_or("no data chunk")?;
    if byte_rate == 0 || byte_rate != sample_rate * u32::from(channels) * u32::from(bits / 8) {
        return Err(format!("byte rate {byte_rate} does not match the format"));
    }
    Ok(Wav {
        format,
        channels,
        sample_rate,
        bits,
        seconds: data as f64 / f64::from(byte_rate),
    })
}
