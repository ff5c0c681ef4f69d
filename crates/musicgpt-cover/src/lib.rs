//! Rust client for the MusicGPT (Wav) Cover API, generated at build time from `openapi.yaml`.
#![doc = ""]
#![doc = include_str!("../README.md")]
//!
//! # Reference
//!
//! - **One method per operation**, each returning a [`builder`] with one setter per parameter:
//!   [`Client::cover`] (the multipart form: `voice_id`, `audio_url`, `audio_file`, `pitch`,
//!   `webhook_url`), [`Client::get_conversion_by_id`], [`Client::get_all_voices`],
//!   [`Client::search_voices`]; `.send().await` sends. The types of every schema are in
//!   [`types`].
//! - **Constructors**: [`Client::from_api_key`]`(key, base_url)` sends the raw key as the
//!   `Authorization` header of every request (no `Bearer`), with a 15 s connect timeout
//!   ([`connect::CONNECT_TIMEOUT`]) and no overall timeout (an upload may take long).
//!   [`Client::from_api_key_with`]`(key, base_url, builder)` does the same on your own
//!   `reqwest::ClientBuilder` (timeouts, proxies, TLS roots); the key is added to the builder's
//!   default headers. An empty key, or one that cannot be a header value, is refused with
//!   [`ApiError::InvalidRequest`].
//! - **Base URLs** from the spec's `servers`, in its order: [`servers::WAV`]
//!   (`https://api.wav.com/api/public`, the API's current host and the only server of its official
//!   spec), [`servers::MUSICGPT`] (`https://api.musicgpt.com/api/public`, the reference page's) and
//!   [`servers::LOCAL`] (the mock, `http://127.0.0.1:4010/api/public`). Any URL ending in
//!   `/api/public` works.
//! - **Audio upload**: [`AudioFile::from_path`] (streamed from disk in 256 KiB reads, named after
//!   the file, content type guessed from the extension), [`AudioFile::from_bytes`] and
//!   [`AudioFile::from_stream`] (any `TryStream` of bytes, with or without a known length;
//!   without, the request is sent chunked); `from_path` and `from_stream` never hold the whole
//!   file in memory. Pass it to `.audio_file(...)` of [`Client::cover`]'s builder.
//! - **Client-side checks**: what the spec forbids is refused before anything is sent, with
//!   [`ApiError::InvalidRequest`] saying why: `pitch` outside -12..=12, an empty `voice_id`,
//!   neither `audio_file` nor a non-empty `audio_url`, a content type that is not a MIME type, a
//!   `conversionType` that is not one of the API's 23. The mock's own rules (the spec's `x-mock`
//!   bounds on `limit`, `page` and `query`, its upload limit) are not checked: the API may take
//!   what the mock refuses. Ids are plain strings, as the API's schema says.
//! - **Typed errors**: [`ApiError`] has a variant per documented status
//!   ([`BadRequest`](ApiError::BadRequest) 400, [`Unauthorized`](ApiError::Unauthorized) 401,
//!   [`InsufficientCredit`](ApiError::InsufficientCredit) 402,
//!   [`Forbidden`](ApiError::Forbidden) 403, [`NotFound`](ApiError::NotFound) 404,
//!   [`PayloadTooLarge`](ApiError::PayloadTooLarge) 413,
//!   [`Unprocessable`](ApiError::Unprocessable) 422, [`RateLimited`](ApiError::RateLimited) 429,
//!   [`Server`](ApiError::Server) 5xx), each with the decoded error body
//!   ([`ApiError::body`]; its [`text()`](types::Error::text) finds the message whichever field
//!   carries it: `error`, `message`, or FastAPI's `detail`, a string or a list of issues; no field
//!   of an error body is required), plus [`Transport`](ApiError::Transport), [`Io`](ApiError::Io),
//!   [`Timeout`](ApiError::Timeout), [`InvalidResponse`](ApiError::InvalidResponse) and
//!   [`Unexpected`](ApiError::Unexpected) (an undocumented status).
//!   [`is_auth_failure()`](ApiError::is_auth_failure) is true for 401 and 403 (fix the key, do
//!   not retry); [`is_retryable()`](ApiError::is_retryable) for transport failures, 429 and 5xx.
//!   Convert the generated calls' error with `?` into `Result<_, ApiError>`.
//! - **Polling**: [`Client::wait_for_conversion`]`(&queued, &options)` (the Cover answer, or a
//!   [`ConversionRef::TaskId`] / [`ConversionRef::ConversionId`] with any id text) polls
//!   `GET /v1/byId` until the status is final (the spec's `x-final-values`: `COMPLETED`,
//!   `FAILED`, `ERROR`; any other value, `PROCESSING` or one no document names, is not), retrying
//!   transport failures, 429 and 5xx, and returns the conversion as last seen, or
//!   [`ApiError::Timeout`] with the last status. [`PollOptions::default()`](PollOptions) waits
//!   2 s, doubling up to 30 s, for at most 20 minutes. [`Client::get_cover_conversion`] looks
//!   once.
//! - **Results and webhooks**: [`types::Conversion::mp3_url`], [`wav_url`](types::Conversion::wav_url)
//!   and [`cost`](types::Conversion::cost) read the result whichever field names it came under;
//!   [`types::CoverWebhook::parse`]`(body)` parses either documented webhook shape and has the
//!   same three readers.
//! - **Features**: `rustls` (default) enables TLS for the real hosts; without it only `http://`
//!   works, enough for the mock.
//!
//! # Map of the crate
//!
//! - The generated part (`build.rs` runs `musicgpt-cover-codegen` on the spec): [`Client`] with
//!   one method per operation, the [`builder`]s they return, the [`types`] of every schema, the
//!   [`servers`] and [`COVER_CONVERSION_TYPE`].
//! - The hand-written layer, which knows nothing of request or response shapes: [`connect`]
//!   (constructor from an API key), [`audio`] (file parts streamed from a path, bytes or a
//!   stream), [`error`] (typed errors per documented status), [`poll`] (wait until a conversion
//!   is final) and [`webhook`] (parse the completion payload).

/// The generated client. Lints are relaxed here only: the code is progenitor's and ours, pinned by
/// the codegen crate's snapshot, and documented from the spec rather than item by item.
#[allow(
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    rustdoc::all
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
}

pub use generated::*;

pub mod audio;
pub mod connect;
pub mod error;
pub mod poll;
pub mod webhook;

pub use audio::AudioFile;
pub use error::ApiError;
pub use poll::{ConversionRef, PollOptions};

/// The reqwest version the client is built on, for callers that pass their own
/// `reqwest::ClientBuilder` or build `reqwest::multipart::Part`s.
pub use reqwest;
