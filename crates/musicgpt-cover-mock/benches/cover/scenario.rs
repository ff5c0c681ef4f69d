//! The throughput rows: what each request is (method, the spec's path, query, body), built once
//! and sent as the same bytes to every server.

use bytes::Bytes;

use crate::common::noise;
use crate::request::{closing, file_head, text_part};
use crate::songs;

/// The spec's servers end in this prefix; the mock and the bare server serve the spec's paths
/// under it, Prism without it.
pub(crate) const API_PREFIX: &str = "/api/public";

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
                "what the mock must do per Cover beyond parsing it costs 6 to 7 µs over the bare \
                 server's 12 to 16: the journal entry (1 µs), a place in the bounded task store \
                 (1.5 µs), the header and body-pace timers (2 µs), the key, Prefer, field, host \
                 and credit checks and the answer's template (2 µs). All of it is required \
                 behaviour, so about 0.65 is the best this row can do (docs/profile.md, \
                 \"Why 0.8 is not reached\")"
            }
            Scenario::File2k => {
                "what a URL Cover costs over the bare server, and the upload on top: of the \
                 mock's samples, symphonia's probe of the 2 KiB (which are not audio) is 17 to \
                 19 %, malloc, free and copies 12 %, multer 8 %, the kernel's TCP 26 %. The probe \
                 is required (it gives the task its duration and decides whether the result is \
                 made from the upload) and is symphonia's code; no file, blocking-pool hand-off \
                 or second probe is left (docs/profile.md, \"2026-12-06: small uploads in \
                 memory, one probe\")"
            }
            Scenario::File1m => {
                "symphonia's probe scans up to 1 MB of bytes that are not audio for a format \
                 marker: 3 to 4.5 ms of the mock's 3.7 ms per request, against the bare \
                 server's 0.4 to 0.9 ms for the whole request. Only a shallower probe would \
                 move it, and that would change which uploads decode (docs/profile.md, \
                 \"Why 0.8 is not reached\")"
            }
            Scenario::Song | Scenario::Song1m => {
                "what a URL Cover costs over the bare server, and the song on top: the mock keeps \
                 it (in memory), probes it (its frames are found in its first bytes, after the \
                 ID3 tag) for the task's duration, and converts it in the background (decode, \
                 shift, encode: one at a time, on a blocking thread beside the requests, whose \
                 CPU counts in the mock's µs/req here; the conversion alone is timed in \
                 \"Converting an upload\"). Not profiled yet on a quiet machine"
            }
            Scenario::ById => {
                "about 60 % of the mock's samples are the kernel's TCP work and 7 % hyper, which \
                 the bare server has too; the rest is spread thin over what only the mock does \
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

    /// Why the mock falls short of 25 × Prism on a row when it does, given what the bare
    /// server reached against Prism in the same rounds (`bare_prism`).
    pub(crate) fn short_of_prism(self, bare_prism: Option<f64>) -> String {
        let static_answer = "Prism answers with the spec's static example (no task kept, no \
                             journal, no upload probed)";
        match bare_prism {
            Some(ratio) if ratio < 25.0 => format!(
                "even the bare server, which parses the same request and sends a fixed answer, \
                 reached only {ratio:.1} × Prism on this row and this machine: the target is \
                 beyond what the HTTP server under both can do, whatever the mock does. \
                 {static_answer}"
            ),
            Some(ratio) => format!(
                "the bare server reached {ratio:.1} × Prism on this row, so it is the mock's own \
                 cost that falls short, for the reasons its mock/bare row gives. {static_answer}"
            ),
            None => format!(
                "the mock's own cost falls short, for the reasons its mock/bare row gives. \
                 {static_answer}"
            ),
        }
    }

    /// Why the mock's p99 on a small request is over its target when it is.
    pub(crate) fn p99_over(self) -> &'static str {
        "with 32 connections on the mock's one server thread, the p99 is about the CPU time of \
         the requests queued ahead of one (32 × µs/req) plus scheduling: it falls with the \
         mock's CPU per request (see its mock/bare row) and rises with other load on the machine \
         (see others' CPU)"
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
                "conversionType=COVER and the task_id of one of the tasks the mock accepted before (one per connection)"
            }
            Scenario::Voices => "no query: the first page of 20",
        }
        .to_owned()
    }

    /// A small request: its p99 latency is judged.
    pub(crate) fn small(self) -> bool {
        !matches!(self, Scenario::File1m | Scenario::Song1m)
    }

    /// An upload of real audio: the mock converts it in the background, so after the mock's turn
    /// the bench drops its uploads and waits for the conversion running then to end, before the
    /// next server's turn.
    pub(crate) fn converts(self) -> bool {
        matches!(self, Scenario::Song | Scenario::Song1m)
    }

    pub(crate) fn method(self) -> &'static str {
        match self {
            Scenario::Url
            | Scenario::File2k
            | Scenario::File1m
            | Scenario::Song
            | Scenario::Song1m => "POST",
            Scenario::ById | Scenario::Voices => "GET",
        }
    }

    /// The operation's path in the spec (without [`API_PREFIX`]).
    pub(crate) fn spec_path(self) -> &'static str {
        match self {
            Scenario::Url
            | Scenario::File2k
            | Scenario::File1m
            | Scenario::Song
            | Scenario::Song1m => "/v1/Cover",
            Scenario::ById => "/v1/byId",
            Scenario::Voices => "/v1/getAllVoices",
        }
    }

    /// The query string (without `?`) of a request about `task_id`.
    pub(crate) fn query(self, task_id: &str) -> String {
        match self {
            Scenario::ById => format!("conversionType=COVER&task_id={task_id}"),
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
        let mut body = Vec::new();
        match file {
            None => text_part(
                &mut body,
                "audio_url",
                "https://www.youtube.com/watch?v=jGflUbPQfW8",
            ),
            Some(_) => text_part(&mut body, "audio_url", ""),
        }
        text_part(&mut body, "voice_id", "Drake");
        text_part(&mut body, "pitch", "0");
        if let Some(file) = file {
            body.extend_from_slice(&file_head());
            body.extend_from_slice(&file);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(&closing());
        Ok(Some(Bytes::from(body)))
    }
}
