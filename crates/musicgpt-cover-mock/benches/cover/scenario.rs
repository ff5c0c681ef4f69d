//! The throughput scenarios: the reference page's samples, as multipart bodies built once.

use bytes::Bytes;

use crate::request::{closing, file_head, noise, text_part};

/// The size of the file part of the `file` scenario.
const FILE_SCENARIO_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// The reference page's curl sample without its webhook: `audio_url`, `voice_id`, `pitch`.
    Url,
    /// Its Python upload sample without the webhook: `audio_url` empty, `voice_id`, `pitch`, and
    /// a 64 KiB `audio_file`.
    File,
}

impl Scenario {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Url => "url",
            Scenario::File => "file",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Scenario::Url => "the curl sample without webhook_url: audio_url, voice_id, pitch",
            Scenario::File => {
                "the upload sample without webhook_url: audio_url \"\", voice_id, pitch, a 64 KiB audio_file"
            }
        }
    }

    /// The whole request body, built once and shared by every request.
    pub(crate) fn body(self) -> Bytes {
        let mut body = Vec::new();
        match self {
            Scenario::Url => {
                text_part(
                    &mut body,
                    "audio_url",
                    "https://www.youtube.com/watch?v=jGflUbPQfW8",
                );
                text_part(&mut body, "voice_id", "Drake");
                text_part(&mut body, "pitch", "0");
            }
            Scenario::File => {
                text_part(&mut body, "audio_url", "");
                text_part(&mut body, "voice_id", "Drake");
                text_part(&mut body, "pitch", "0");
                body.extend_from_slice(&file_head());
                body.extend_from_slice(&noise(FILE_SCENARIO_BYTES));
                body.extend_from_slice(b"\r\n");
            }
        }
        body.extend_from_slice(&closing());
        Bytes::from(body)
    }
}
