//! The throughput rows: what each request is (method, the spec's path, query, body), built once
//! and sent as the same bytes to every server.

use bytes::Bytes;

use crate::request::{closing, file_head, noise, text_part};

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
    /// `GET /v1/byId` of a task the mock accepted (`conversionType=COVER&task_id=...`).
    ById,
    /// `GET /v1/getAllVoices`, the first page.
    Voices,
}

impl Scenario {
    pub(crate) const ALL: [Scenario; 5] = [
        Scenario::Url,
        Scenario::File2k,
        Scenario::File1m,
        Scenario::ById,
        Scenario::Voices,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Url => "url",
            Scenario::File2k => "file-2k",
            Scenario::File1m => "file-1m",
            Scenario::ById => "by-id",
            Scenario::Voices => "voices",
        }
    }

    /// The row's name in the tables.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Scenario::Url => "Cover, URL",
            Scenario::File2k => "Cover, 2 KiB file",
            Scenario::File1m => "Cover, 1 MiB file",
            Scenario::ById => "GET byId",
            Scenario::Voices => "GET getAllVoices",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Scenario::Url => "the curl sample without webhook_url: audio_url, voice_id, pitch",
            Scenario::File2k => {
                "the upload sample without webhook_url: audio_url \"\", voice_id, pitch, a 2 KiB audio_file"
            }
            Scenario::File1m => {
                "the upload sample without webhook_url: audio_url \"\", voice_id, pitch, a 1 MiB audio_file"
            }
            Scenario::ById => {
                "conversionType=COVER and the task_id of one of the tasks the mock accepted before (one per connection)"
            }
            Scenario::Voices => "no query: the first page of 20",
        }
    }

    /// A small request: its p99 latency is judged.
    pub(crate) fn small(self) -> bool {
        self != Scenario::File1m
    }

    pub(crate) fn method(self) -> &'static str {
        match self {
            Scenario::Url | Scenario::File2k | Scenario::File1m => "POST",
            Scenario::ById | Scenario::Voices => "GET",
        }
    }

    /// The operation's path in the spec (without [`API_PREFIX`]).
    pub(crate) fn spec_path(self) -> &'static str {
        match self {
            Scenario::Url | Scenario::File2k | Scenario::File1m => "/v1/Cover",
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
    pub(crate) fn body(self) -> Option<Bytes> {
        let file = match self {
            Scenario::Url => None,
            Scenario::File2k => Some(2 * 1024),
            Scenario::File1m => Some(1024 * 1024),
            Scenario::ById | Scenario::Voices => return None,
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
        if let Some(len) = file {
            body.extend_from_slice(&file_head());
            body.extend_from_slice(&noise(len));
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(&closing());
        Some(Bytes::from(body))
    }
}
