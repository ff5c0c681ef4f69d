//! The upload-conversion measurement: a 3-minute stereo MP3 decoded (its first minute, as the mock
//! does) and pitch-shifted, timed in-process through `musicgpt_cover_mock::audio_lab`; the median
//! of [`RUNS`] runs against the shortest time a task takes at the default time scale.
//!
//! A task's eta is one of the mock's `ETA_SECONDS` and runs scaled by `--time-scale` (the
//! mock's `DEFAULT_TIME_SCALE`): it is final that many seconds, scaled, after its Cover. Its result
//! files should be ready by then, so decoding and shifting must take well under the shortest of
//! those. Encoding the result (WAV and MP3) is timed too, and
//! shown, but is not part of the target: the issue asks about decoding and shifting.

use std::time::Instant;

use musicgpt_cover_mock::config::DEFAULT_TIME_SCALE;
use musicgpt_cover_mock::{ETA_SECONDS, audio_lab};

use crate::Part;
use crate::common::Temp;
use crate::options::Options;
use crate::procfs::{CpuSample, stat_jiffies};
use crate::songs::{RATE, song};
use crate::throughput::median;
use crate::verdict::Verdict;

/// Runs measured; the median is reported.
const RUNS: usize = 3;
/// Length of the MP3 converted, in seconds.
const SONG_SECONDS: usize = 180;
/// And in a smoke run.
const SMOKE_SONG_SECONDS: usize = 2;
/// The shift converted by (any non-zero one costs the same).
const SEMITONES: i64 = 3;

/// CPU time this process has used (user and system), from /proc/self/stat (Linux; in clock
/// ticks of 1/100 s, the kernel's USER_HZ everywhere that matters).
fn own_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    Some(stat_jiffies(&stat)? as f64 / 100.0)
}

/// Makes the 3-minute MP3, then decodes its first minute and shifts it [`RUNS`] times.
pub(crate) fn measure(options: &Options, cores: usize) -> Result<Part, String> {
    // A smoke run converts a few seconds, once: the test profile is slow, and nothing is judged.
    let (song_seconds, runs) = if options.smoke {
        (SMOKE_SONG_SECONDS, 1)
    } else {
        (SONG_SECONDS, RUNS)
    };
    let converted = song_seconds.min(audio_lab::MAX_SECONDS as usize);
    let (shortest_eta, longest_eta) = (*ETA_SECONDS.start() as f64, *ETA_SECONDS.end() as f64);
    let shortest = shortest_eta * DEFAULT_TIME_SCALE;
    let longest = longest_eta * DEFAULT_TIME_SCALE;
    println!(
        "\n== upload conversion: a {} s stereo MP3, its first {} s decoded and shifted {SEMITONES:+} semitones ==\n\
         in-process, {runs} run(s), median; a task is final {shortest:.1} to {longest:.1} s after its Cover \
         (etas {:.0} to {:.0} s x the default time scale {DEFAULT_TIME_SCALE})",
        song_seconds, converted, shortest_eta, longest_eta,
    );
    let started = Instant::now();
    let (_, mp3) = audio_lab::encode(&song(song_seconds), RATE)?;
    let file = Temp::file(&format!(
        "musicgpt-cover-bench-{}-{}.mp3",
        std::process::id(),
        started.elapsed().as_nanos()
    ));
    std::fs::write(&file.0, &mp3).map_err(|e| format!("{}: {e}", file.0.display()))?;
    println!(
        "  input: {:.1} MiB of {} kbit/s MP3, made in {:.1} s",
        mp3.len() as f64 / f64::from(1u32 << 20),
        mp3.len() * 8 / song_seconds / 1000,
        started.elapsed().as_secs_f64()
    );
    println!(
        "  decode+shift CPU s: the CPU time it took (both cores count); others %: other programs' \
         CPU use meanwhile, in % of one core (the wall times grow with it)"
    );
    println!(
        "  {:<6} {:>9} {:>9} {:>15} {:>19} {:>9} {:>9}",
        "run",
        "decode s",
        "shift s",
        "decode+shift s",
        "decode+shift CPU s",
        "others %",
        "encode s"
    );
    // A run's figures in the table's order: decode, shift, decode + shift, CPU, others, encode.
    let row = |label: &str, r: &[f64; 6]| {
        println!(
            "  {label:<6} {:>9.3} {:>9.3} {:>15.3} {:>19.2} {:>9.0} {:>9.3}",
            r[0], r[1], r[2], r[3], r[4], r[5]
        );
    };
    let mut measured = Vec::new();
    for run in 1..=runs {
        let sample = CpuSample::now();
        let cpu0 = own_cpu();
        let t0 = Instant::now();
        let (rate, channels) = audio_lab::decode_file(&file.0)?;
        let t1 = Instant::now();
        let shifted = audio_lab::shift(channels, SEMITONES, rate);
        let t2 = Instant::now();
        let used = own_cpu().zip(cpu0).map_or(f64::NAN, |(b, a)| b - a);
        let busy = sample
            .and_then(|s| s.others_since(cores, 0))
            .unwrap_or(f64::NAN);
        let (wav, mp3) = audio_lab::encode(&shifted, rate)?;
        let t3 = Instant::now();
        let frames = shifted.first().map_or(0, Vec::len);
        if shifted.len() != 2 || frames != converted * rate as usize {
            return Err(format!(
                "the conversion gave {} channel(s) of {frames} frames, not 2 of {converted} s",
                shifted.len(),
            ));
        }
        if wav.is_empty() || mp3.is_empty() {
            return Err("the conversion encoded nothing".to_owned());
        }
        let [d, s, e] = [t1 - t0, t2 - t1, t3 - t2].map(|t| t.as_secs_f64());
        let r = [d, s, d + s, used, busy, e];
        row(&run.to_string(), &r);
        measured.push(r);
    }
    let [d, s, b, c, o, e]: [f64; 6] =
        std::array::from_fn(|i| median(measured.iter().map(|r| r[i]).collect()));
    row("median", &[d, s, b, c, o, e]);
    println!(
        "  whole conversion (decode + shift + encode): {:.3} s, {:.0} % of the shortest scaled eta",
        b + e,
        (b + e) / shortest * 100.0
    );
    let verdicts = vec![Verdict::at_most(
        "upload conversion (decode + shift)".to_owned(),
        b,
        shortest,
        "s",
        format!(
            "the first {converted} s of a {song_seconds} s stereo MP3 decoded and shifted, median \
             of {runs} ({c:.2} CPU s, others using {o:.0} % of a core; {:.0} % of the shortest \
             scaled eta)",
            b / shortest * 100.0
        ),
    )];
    let md = format!(
        "A {song_seconds} s stereo MP3 (made by the bench), its first {converted} s decoded and \
         shifted by {SEMITONES:+} semitones keeping its length, in-process, median of {runs}, \
         against the shortest time a task takes at the default time scale ({shortest:.1} s). \
         Encoding the result WAV and MP3 is timed beside it, not judged.\n\n\
         | step | median |\n|---|---|\n\
         | decode | {d:.3} s |\n| pitch shift | {s:.3} s |\n| **decode + shift** | **{b:.3} s** ({c:.2} s of CPU) |\n\
         | encode WAV + MP3 | {e:.3} s |\n| the whole conversion | {:.3} s |\n\n\
         Other programs used {o:.0} % of a core meanwhile.\n\n",
        b + e
    );
    Part::new("pitch", "Converting an upload", md, verdicts)
}
