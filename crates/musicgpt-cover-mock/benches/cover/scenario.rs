//! The throughput rows: what each request is (method, the spec's path, query, body), built once
//! and sent as the same bytes to every server.

use bytes::Bytes;
use musicgpt_cover::COVER_CONVERSION_TYPE;

use crate::common::http1::Form;
use crate::common::noise;
use crate::common::spec::{cover_example, operation};
use crate::songs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// The reference page's curl sample without its webhook: `audio_url`, `voice_id`, `pitch`.
    Url,
    /// Its Python upload sample without the webhook: `audio_url` empty, `voice_id`, `pitch`, and
    /// a 2 KiB `audio_file`.
    File2k,
    /// The same with a 1 MiB `audio_file`.
    File1m,
    /// The same with a short real song: an MP3 of [`songs::SHORT_SONG_SECONDS`] s (about 48 KiB).
    Song,
    /// The same with a 1 MiB MP3.
    Song1m,
    /// `GET /v1/byId` of a task the mock accepted (`conversionType=COVER&task_id=...`).
    ById,
    /// `GET /v1/getAllVoices`, the first page.
    Voices,
}

impl Scenario {
    pub(crate) const ALL: [Scenario; 7] = [
        Scenario::Url,
        Scenario::File2k,
        Scenario::File1m,
        Scenario::Song,
        Scenario::Song1m,
        Scenario::ById,
        Scenario::Voices,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Url => "url",
            Scenario::File2k => "file-2k",
            Scenario::File1m => "file-1m",
            Scenario::Song => "song",
            Scenario::Song1m => "song-1m",
            Scenario::ById => "by-id",
            Scenario::Voices => "voices",
        }
    }

    /// The row's name in the tables.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Scenario::Url => "Cover, URL",
            Scenario::File2k => "Cover, 2 KiB file (random bytes)",
            Scenario::File1m => "Cover, 1 MiB file (random bytes)",
            Scenario::Song => "Cover, a short MP3 song",
            Scenario::Song1m => "Cover, 1 MiB MP3 song",
            Scenario::ById => "GET byId",
            Scenario::Voices => "GET getAllVoices",
        }
    }

    /// Why the mock falls short of the bare server on this row when it does: what the profile
    /// showed (docs/profile.md), for the targets table.
    pub(crate) fn short_of_bare(self) -> &'static str {
        match self {
            Scenario::Url => {
                "the mock spends 2.3 to 2.5 times the bare server's CPU on a Cover with a URL. \
                 Profiled on 2026-12-07 by turn (docs/profile.md, \"2026-12-07: the mock's turn \
                 beside the bare server's, and the sniff's scan\"): of what it spends over the \
                 bare server, a quarter is the kernel's, for the same system calls (counted \
                 with strace): most of it in the answer's write, about half of that waking the \
                 load generator, which sleeps after 0.59 of the mock's answers and 0.29 of the \
                 bare server's (docs/profile.md, \"2026-12-08: the load generator's sleeps\"), \
                 a fifth the mock's own \
                 functions (the journal entry, the task's place in the bounded store and the \
                 oldest one's eviction, the key, Prefer, field, host and credit checks, the \
                 answer's template), none above 0.4 µs, and the rest allocation, copying, \
                 hyper, multer, tokio and formatting, each under 2.5 µs: required behaviour \
                 spread thin, no single cost whose removal would reach 0.8"
            }
            Scenario::File2k => {
                "the URL row's costs (see it), and the 2 KiB part on top: the mock holds it in \
                 memory as it is read, finds by its first bytes that it starts no format it \
                 decodes (0.4 µs since the scan jumps between 0xFF bytes; symphonia never sees \
                 it), and keeps only that reason with the task. Profiled on 2026-12-07 \
                 (docs/profile.md, \"2026-12-07: the answer kept as it was sent\" and \
                 \"2026-12-07: the mock's turn beside the bare server's, and the sniff's \
                 scan\"): multer's work on each part (its boundary searches made anew per call) \
                 is the largest share and the bare server pays it too; what only the mock does is \
                 spread thin (the journal entry, the task's place, the form's checks, the reason's \
                 text), none of it above 2 % of the samples"
            }
            Scenario::File1m => {
                "most of this row is the 1 MiB's way through the kernel and multer, which the \
                 bare server pays too (about 400 µs a request on 2026-12-07); the mock holds the \
                 part in memory as it is read, finds by its first bytes that it is not audio (6 µs \
                 for the first 64 KiB, on the request's thread, with no hand-off to the blocking \
                 pool) and keeps only that reason, so the row costs the mock about what it costs \
                 the bare server, and the ratio swings with the rounds (see their range; \
                 docs/profile.md, \"2026-12-07: the mock's turn beside the bare server's, and the \
                 sniff's scan\")"
            }
            Scenario::Song | Scenario::Song1m => {
                "the URL row's costs (see it), and the song on top: the mock probes it for the \
                 task's duration (symphonia opens the stream and decodes its first frame, found \
                 right after the ID3 tag), keeps it with the task and queues its conversion. It \
                 holds a song in memory while the songs held fit in 256 MiB (256 of the 1 MiB \
                 song, about 5,500 of the short one); each further song of a turn is appended to \
                 a segment file it shares with other uploads (since 2026-12-07: a file created \
                 and deleted per song had cost the short song about 610 µs and the 1 MiB song \
                 1,400 to 2,100 µs an answer, ext4 looking for an inode number not freed \
                 recently). Profiled after that change (docs/profile.md, \"2026-12-07: uploads \
                 on disk share segment files\"): of the short song's cost the probe is about a \
                 quarter (symphonia decoding the first frame most of it), the multipart reading \
                 a sixth, the two hand-offs to the blocking pool (the append, then the probe) a \
                 seventh (since 2026-12-08 a song written in one call is probed in the same \
                 hand-off: docs/profile.md, \"2026-12-08: one hand-off for a song on disk\"), \
                 the append itself a twelfth; of the 1 MiB song's, the MiB's way through \
                 the kernel and multer (which the bare server pays too) most, and writing it to \
                 the segment about a sixth. The conversion itself is held back during the row and \
                 timed apart (\"Converting an upload\")"
            }
            Scenario::ById => {
                "about 60 % of the mock's samples are the kernel's TCP work and 7 % hyper, which \
                 the bare server has too (but about 1.2 µs more of the kernel's is waking the \
                 load generator, which sleeps after 0.30 of the mock's answers and 0.06 of the \
                 bare server's: docs/profile.md, \"2026-12-08: the load generator's sleeps\"); \
                 the rest is spread thin over what only the mock does \
                 (the journal entry, the key check, decoding the query and the task id, the task \
                 rendered to JSON from the spec's template, the header timer's clock reads), \
                 none of it above 1 % of the samples: no single cost is left to remove \
                 (docs/profile.md, \"GET byId and getAllVoices\")"
            }
            Scenario::Voices => {
                "the split of GET byId: the kernel's TCP work is about 58 % of the mock's \
                 samples and hyper 9 %, as for the bare server; the mock's own work (the \
                 journal entry, the key check, the page rendered from the spec's voices) is \
                 about 8 %, spread thin (docs/profile.md, \"GET byId and getAllVoices\")"
            }
        }
    }

    pub(crate) fn describe(self) -> String {
        match self {
            Scenario::Url => "the curl sample without webhook_url: audio_url, voice_id, pitch",
            Scenario::File2k => {
                "the upload sample without webhook_url: audio_url \"\", voice_id, pitch, a 2 KiB audio_file"
            }
            Scenario::File1m => {
                "the upload sample without webhook_url: audio_url \"\", voice_id, pitch, a 1 MiB audio_file"
            }
            Scenario::Song => {
                return format!(
                    "the upload sample without webhook_url, its audio_file a {} s stereo MP3 (128 kbit/s, 44.1 kHz, ID3v2 tag) made by the bench",
                    songs::SHORT_SONG_SECONDS
                );
            }
            Scenario::Song1m => {
                "the upload sample without webhook_url, its audio_file a 1 MiB stereo MP3 (128 kbit/s, 44.1 kHz, ID3v2 tag; the short song's frames over and over, a little over a minute, cut at 1 MiB) made by the bench"
            }
            Scenario::ById => {
                return format!(
                    "conversionType={COVER_CONVERSION_TYPE} and the task_id of one of the tasks the mock accepted before (one per connection)"
                );
            }
            Scenario::Voices => "no query: the first page of 20",
        }
        .to_owned()
    }

    /// The random-bytes rows' own floor of mock/bare (issue 21): where each was before uploads
    /// were decoded, beside the 0.8 every row aims for.
    pub(crate) fn bare_floor(self) -> Option<f64> {
        match self {
            Scenario::File2k => Some(0.7),
            Scenario::File1m => Some(0.5),
            _ => None,
        }
    }

    /// A small request: its p99 latency is judged.
    pub(crate) fn small(self) -> bool {
        !matches!(self, Scenario::File1m | Scenario::Song1m)
    }

    /// An upload of real audio: the mock keeps it and queues its conversion, so the bench holds
    /// the conversions back during the row and drops the kept songs after each of the mock's
    /// turns.
    pub(crate) fn converts(self) -> bool {
        matches!(self, Scenario::Song | Scenario::Song1m)
    }

    /// The operation it calls, by operationId.
    fn operation_id(self) -> &'static str {
        match self {
            Scenario::ById => "getConversionById",
            Scenario::Voices => "getAllVoices",
            _ => "cover",
        }
    }

    pub(crate) fn method(self) -> &'static str {
        if self.operation_id() == "cover" {
            "POST"
        } else {
            "GET"
        }
    }

    /// The operation's path in the spec (without the servers' base path; the mock and the bare
    /// server serve it under `api_base_path()`, Prism without it).
    pub(crate) fn spec_path(self) -> Result<&'static str, String> {
        Ok(operation(self.operation_id())?.1)
    }

    /// The query string (without `?`) of a request about `task_id`.
    pub(crate) fn query(self, task_id: &str) -> String {
        match self {
            Scenario::ById => format!("conversionType={COVER_CONVERSION_TYPE}&task_id={task_id}"),
            _ => String::new(),
        }
    }

    /// The multipart body of a Cover, built once and shared by every request.
    pub(crate) fn body(self) -> Result<Option<Bytes>, String> {
        let file = match self {
            Scenario::Url => None,
            Scenario::File2k => Some(noise(2 * 1024)),
            Scenario::File1m => Some(noise(1024 * 1024)),
            Scenario::Song => Some(songs::short_song()?),
            Scenario::Song1m => Some(songs::mib_song()?),
            Scenario::ById | Scenario::Voices => return Ok(None),
        };
        let audio_url = match file {
            None => cover_example("audio_url")?,
            Some(_) => String::new(),
        };
        let mut form = Form::default().text("audio_url", &audio_url);
        for field in ["voice_id", "pitch"] {
            form = form.text(field, &cover_example(field)?);
        }
        if let Some(file) = file {
            form = form.file("song.mp3", "audio/mpeg", &file);
        }
        Ok(Some(Bytes::from(form.finish())))
    }
}
