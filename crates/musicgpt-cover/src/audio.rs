//! The song to upload as a file part, streamed so that a file of any size never sits in memory.

use std::path::Path;

use bytes::Bytes;
use reqwest::multipart::Part;

/// How much of a file is read at a time: large enough that reading is not a blocking-pool round
/// trip per 4 KiB (the default), small enough to stay out of the way of memory.
const READ_CHUNK: usize = 256 * 1024;

/// The content type of a file whose extension says nothing known.
pub const FALLBACK_CONTENT_TYPE: &str = "application/octet-stream";

/// A file to send as a file part (`audio_file` of `Client::cover()`): its bytes, file name and
/// content type. The bytes are streamed into the request as it is sent.
///
/// ```
/// use musicgpt_cover::AudioFile;
///
/// let audio = AudioFile::from_bytes(vec![0u8; 1024], "song.mp3");
/// assert_eq!(audio.file_name(), "song.mp3");
/// assert_eq!(audio.content_type(), "audio/mpeg");
/// assert_eq!(audio.len(), Some(1024));
/// ```
#[derive(Debug)]
pub struct AudioFile {
    body: reqwest::Body,
    length: Option<u64>,
    file_name: String,
    content_type: String,
}

impl AudioFile {
    /// Streams the file at `path` in 256 KiB reads as the request is sent: named after its last
    /// component, typed from its extension.
    ///
    /// # Errors
    ///
    /// The I/O error of opening the file or reading its size, with the path in the message.
    pub async fn from_path(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref();
        let context = |e: std::io::Error| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        };
        let file = tokio::fs::File::open(path).await.map_err(context)?;
        let metadata = file.metadata().await.map_err(context)?;
        if !metadata.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            ));
        }
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audio".to_owned());
        Ok(Self {
            content_type: guess_content_type(&file_name),
            body: reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
                file, READ_CHUNK,
            )),
            length: Some(metadata.len()),
            file_name,
        })
    }

    /// Bytes already in memory, named `file_name` and typed from its extension.
    pub fn from_bytes(bytes: impl Into<Bytes>, file_name: impl Into<String>) -> Self {
        let bytes = bytes.into();
        let file_name = file_name.into();
        Self {
            content_type: guess_content_type(&file_name),
            length: Some(bytes.len() as u64),
            body: reqwest::Body::from(bytes),
            file_name,
        }
    }

    /// Bytes from an async stream (a download, a decoder...), named `file_name` and typed from
    /// its extension. With a known `length` the part carries it; without, the request is sent
    /// chunked.
    pub fn from_stream<S>(stream: S, file_name: impl Into<String>, length: Option<u64>) -> Self
    where
        S: futures::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        Bytes: From<S::Ok>,
    {
        let file_name = file_name.into();
        Self {
            content_type: guess_content_type(&file_name),
            body: reqwest::Body::wrap_stream(stream),
            length,
            file_name,
        }
    }

    /// Replaces the content type guessed from the file name. A value that is not a MIME type
    /// makes `send()` fail with [`ApiError::InvalidRequest`](crate::ApiError::InvalidRequest) before anything is sent.
    #[must_use]
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// Replaces the file name sent with the part (the content type stays as it is).
    #[must_use]
    pub fn with_file_name(mut self, file_name: impl Into<String>) -> Self {
        self.file_name = file_name.into();
        self
    }

    /// The file name sent with the part.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The content type sent with the part.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The number of bytes, when known before sending.
    pub fn len(&self) -> Option<u64> {
        self.length
    }

    /// Whether the file is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.length == Some(0)
    }
}

impl TryFrom<AudioFile> for Part {
    type Error = reqwest::Error;

    fn try_from(audio: AudioFile) -> Result<Self, Self::Error> {
        let part = match audio.length {
            Some(length) => Part::stream_with_length(audio.body, length),
            None => Part::stream(audio.body),
        };
        part.file_name(audio.file_name)
            .mime_str(&audio.content_type)
    }
}

/// The content type for `file_name`'s extension, or [`FALLBACK_CONTENT_TYPE`].
pub fn guess_content_type(file_name: &str) -> String {
    mime_guess::from_path(file_name)
        .first_raw()
        .unwrap_or(FALLBACK_CONTENT_TYPE)
        .to_owned()
}
