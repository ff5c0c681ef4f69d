//! PCM to the result files: a 16-bit PCM WAV written by hand, an MP3 by `rusty_mp3` (pure Rust),
//! and the resampling MP3 needs for rates it has no frame header for.

/// The nine sample rates MPEG audio layer III has headers for (MPEG-1, 2 and 2.5).
pub(crate) const MP3_RATES: [u32; 9] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];
/// MP3 bit rate per channel count at 32 kHz and up (MPEG-1): 128 kbit/s for stereo is what
/// players default to; mono needs less.
const MP3_KBPS: [u32; 2] = [96, 128];
/// MP3 bit rate below 32 kHz (MPEG-2 and 2.5, whose frames are half as long); the generated
/// tune's rate. (`rusty_mp3` snaps to the nearest rate the MPEG version has.)
const MP3_LOW_RATE_KBPS: u32 = 64;
/// Frames pushed to the MP3 encoder at a time (interleaving a whole minute first would cost a
/// minute's copy).
const MP3_CHUNK_FRAMES: usize = 4_608;

/// A 16-bit PCM WAV of `channels` (1 or 2, all the same length), interleaved.
pub(crate) fn wav(channels: &[Vec<f32>], sample_rate: u32) -> Vec<u8> {
    let count = channels.len().max(1);
    let frames = channels.first().map_or(0, Vec::len);
    let block = 2 * count;
    let data_len = u32::try_from(frames * block).unwrap_or(u32::MAX - 36);
    let mut out = Vec::with_capacity(44 + frames * block);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&(count as u16).to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&sample_rate.saturating_mul(block as u32).to_le_bytes()); // bytes/s
    out.extend_from_slice(&(block as u16).to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        for channel in channels {
            let s = channel.get(i).copied().unwrap_or(0.0);
            out.extend_from_slice(&to_i16(s).to_le_bytes());
        }
    }
    out
}

/// A sample in -1..1 as 16-bit PCM (NaN is silence).
fn to_i16(s: f32) -> i16 {
    if s.is_nan() {
        0
    } else {
        (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16
    }
}

/// A CBR MP3 of `channels` (1 or 2) at `sample_rate`, which must be one of [`MP3_RATES`].
pub(crate) fn mp3(channels: &[Vec<f32>], sample_rate: u32) -> Result<Vec<u8>, String> {
    let count = channels.len().clamp(1, 2);
    let frames = channels.first().map_or(0, Vec::len);
    let mut encoder = rusty_mp3::Mp3Encoder::new(rusty_mp3::Mp3EncoderConfig {
        bitrate_kbps: if sample_rate >= 32_000 {
            MP3_KBPS[count - 1]
        } else {
            MP3_LOW_RATE_KBPS
        },
        vbr_quality: None,
    });
    let mut out = Vec::new();
    let mut interleaved = Vec::with_capacity(MP3_CHUNK_FRAMES * count);
    let mut start = 0;
    // At least one push, so even no audio makes a (silent) file with its header.
    loop {
        let end = (start + MP3_CHUNK_FRAMES).min(frames);
        interleaved.clear();
        for i in start..end {
            for channel in channels.iter().take(count) {
                interleaved.push(channel.get(i).copied().unwrap_or(0.0));
            }
        }
        encoder
            .push_pcm_f32(&interleaved, count as u16, sample_rate)
            .map_err(|e| format!("MP3 encoding failed: {e}"))?;
        while let Ok(packet) = encoder.next_packet() {
            out.extend_from_slice(&packet);
        }
        start = end;
        if start >= frames {
            break;
        }
    }
    encoder.finish();
    while let Ok(packet) = encoder.next_packet() {
        out.extend_from_slice(&packet);
    }
    Ok(out)
}

/// The rate the result is made at for an upload at `rate`: the upload's own when MP3 has it,
/// else the nearest one MP3 has, preferring an exact divisor (96 kHz → 48 kHz, 88.2 kHz →
/// 44.1 kHz), then the next one up (a 37.8 kHz upload loses nothing at 44.1 kHz); above 48 kHz,
/// 48 kHz (the ear has nothing to lose there either). Both files share it, so they are the same
/// audio.
pub(crate) fn result_rate(rate: u32) -> u32 {
    if MP3_RATES.contains(&rate) {
        return rate;
    }
    if let Some(divisor) = MP3_RATES
        .iter()
        .rev()
        .find(|&&r| rate > r && rate.is_multiple_of(r))
    {
        return *divisor;
    }
    MP3_RATES
        .iter()
        .copied()
        .find(|&r| r > rate)
        .unwrap_or(48_000)
}

/// Half the taps of the resampling filter, in input samples at the filter's cut-off: a 32-tap
/// sinc at the output rate (a mock's result need not be mastering grade; this keeps aliasing
/// below -60 dB and costs a fraction of a second for a minute).
const SINC_HALF_WIDTH: usize = 16;
/// Fractional positions the filter is tabulated at (the nearest is used: a timing error of at
/// most 1/2048 of a sample).
const SINC_PHASES: usize = 1024;

/// `input` at `from` Hz resampled to `to` Hz with a windowed-sinc filter (cut-off below the lower
/// Nyquist frequency, Blackman window), tabulated once.
pub(crate) fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || from == 0 || to == 0 || input.is_empty() {
        return input.to_vec();
    }
    let step = f64::from(from) / f64::from(to);
    // Below the lower Nyquist, with a little room for the transition band.
    let cutoff = (f64::from(to) / f64::from(from)).min(1.0) * 0.94;
    let half = (SINC_HALF_WIDTH as f64 / cutoff).ceil() as usize;
    let taps = 2 * half;
    // table[p][t]: the filter at offset (t - half + 1) - p / SINC_PHASES input samples.
    let mut table = vec![0.0f32; (SINC_PHASES + 1) * taps];
    for p in 0..=SINC_PHASES {
        let frac = p as f64 / SINC_PHASES as f64;
        let row = &mut table[p * taps..(p + 1) * taps];
        let mut sum = 0.0;
        for (t, v) in row.iter_mut().enumerate() {
            let x = t as f64 - (half as f64 - 1.0) - frac;
            let w = blackman(x / half as f64);
            let arg = std::f64::consts::PI * x * cutoff;
            let sinc = if arg.abs() < 1e-12 {
                1.0
            } else {
                arg.sin() / arg
            };
            let h = cutoff * sinc * w;
            sum += h;
            *v = h as f32;
        }
        // Unity gain at DC for every phase.
        if sum.abs() > 1e-12 {
            row.iter_mut()
                .for_each(|v| *v = (f64::from(*v) / sum) as f32);
        }
    }
    let out_len = result_frames(input.len(), from, to);
    let mut out = Vec::with_capacity(out_len);
    for i in 0..out_len {
        let position = i as f64 * step;
        let base = position.floor();
        let p = ((position - base) * SINC_PHASES as f64).round() as usize;
        let row = &table[p * taps..(p + 1) * taps];
        let first = base as isize - (half as isize - 1);
        let mut acc = 0.0f32;
        for (t, h) in row.iter().enumerate() {
            let at = first + t as isize;
            if at >= 0
                && let Some(s) = input.get(at as usize)
            {
                acc += s * h;
            }
        }
        out.push(acc);
    }
    out
}

/// The Blackman window on -1..=1 (0 outside).
fn blackman(x: f64) -> f64 {
    if x.abs() >= 1.0 {
        return 0.0;
    }
    let a = std::f64::consts::PI * (x + 1.0);
    0.42 - 0.5 * a.cos() + 0.08 * (2.0 * a).cos()
}

/// Frames `frames` at `from` Hz become when resampled to `to` Hz (as [`resample`] does).
pub(crate) fn result_frames(frames: usize, from: u32, to: u32) -> usize {
    if from == to || from == 0 || to == 0 {
        frames
    } else {
        (frames as f64 / (f64::from(from) / f64::from(to))).round() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_rates_are_mp3_rates() {
        assert_eq!(result_rate(44_100), 44_100);
        assert_eq!(result_rate(8_000), 8_000);
        assert_eq!(result_rate(96_000), 48_000);
        assert_eq!(result_rate(88_200), 44_100);
        assert_eq!(result_rate(176_400), 44_100);
        assert_eq!(result_rate(192_000), 48_000);
        assert_eq!(result_rate(37_800), 44_100);
        assert_eq!(result_rate(50_000), 48_000);
        assert_eq!(result_rate(64_000), 32_000);
        assert_eq!(result_rate(4_000), 8_000);
        for r in [1, 7_350, 44_056, 100_000, 384_000] {
            assert!(MP3_RATES.contains(&result_rate(r)), "{r}");
        }
    }

    #[test]
    fn wav_header_describes_stereo() {
        let w = wav(&[vec![0.5; 10], vec![-0.5; 10]], 48_000);
        assert_eq!(w.len(), 44 + 40);
        assert_eq!(&w[22..24], &2u16.to_le_bytes());
        assert_eq!(&w[24..28], &48_000u32.to_le_bytes());
        assert_eq!(&w[28..32], &(48_000u32 * 4).to_le_bytes());
        assert_eq!(&w[44..46], &16_383i16.to_le_bytes());
        assert_eq!(&w[46..48], &(-16_383i16).to_le_bytes());
    }

    #[test]
    fn resampling_keeps_a_tone_and_the_duration() {
        let from = 96_000u32;
        let input: Vec<f32> = (0..from as usize / 2)
            .map(|i| (std::f32::consts::TAU * 1_000.0 * i as f32 / from as f32).sin() * 0.5)
            .collect();
        let out = resample(&input, from, 48_000);
        assert_eq!(out.len(), input.len() / 2);
        // The same tone: every 48th sample of 1 kHz at 48 kHz is a whole period on.
        let mid = out.len() / 2;
        for k in 0..48 {
            let expected = (std::f32::consts::TAU * 1_000.0 * (mid + k) as f32 / 48_000.0).sin();
            assert!((out[mid + k] - 0.5 * expected).abs() < 0.01, "{k}");
        }
        // Something above the new Nyquist is gone.
        let high: Vec<f32> = (0..from as usize / 2)
            .map(|i| (std::f32::consts::TAU * 30_000.0 * i as f32 / from as f32).sin())
            .collect();
        let out = resample(&high, from, 48_000);
        let rms = (out[1000..out.len() - 1000]
            .iter()
            .map(|s| s * s)
            .sum::<f32>()
            / (out.len() - 2000) as f32)
            .sqrt();
        assert!(rms < 0.01, "30 kHz leaked through at rms {rms}");
    }
}
