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
//!   not retry); [`is_retryable()`](ApiError::is_retryable) for transport failures, 429 and 5xx;
//!   [`is_safe_to_resend()`](ApiError::is_safe_to_resend) only when the API provably did not
//!   act on the request; [`retry_after()`](ApiError::retry_after) is the answer's
//!   `Retry-After`. Every call returns it, generated or hand-written, so a `match` on
//!   `send().await` needs no conversion; each variant made from progenitor's error keeps it as
//!   its `source` ([`ApiError::progenitor_error`]), with the answer's [`headers`](ApiError::headers).
//! - **Polling**: [`Client::wait_for_conversion`]`(&queued, &options)` (the Cover answer, or a
//!   [`ConversionRef::TaskId`] / [`ConversionRef::ConversionId`] with any id text) polls
//!   `GET /v1/byId` until the status is final (the spec's `x-final-values`: `COMPLETED`,
//!   `FAILED`, `ERROR`; any other value, `PROCESSING` or one no document names, is not), retrying
//!   transport failures, 429 and 5xx (see [Retries and faults](#retries-and-faults)), and
//!   returns the conversion as last seen, or [`ApiError::Timeout`] with the last status, the
//!   number of requests and the last error. [`PollOptions::default()`](PollOptions) waits 2 s,
//!   doubling up to 30 s, for at most 20 minutes, 30 s at most per request.
//!   [`Client::get_cover_conversion`] looks once.
//! - **Statuses**: [`types::ConversionStatus`] is an enum generated from the spec's
//!   `x-known-values`, a variant per value (`InQueue`, `Processing`, `InProgress`, `Completed`,
//!   `Failed`, `Error`) and [`Other`](types::ConversionStatus::Other) holding, as sent, any
//!   value the spec does not name, so an answer never fails to decode because the API added a
//!   status; it is `#[non_exhaustive]`, as a new spec value becomes a new variant.
//!   [`is_final()`](types::ConversionStatus::is_final) is the spec's `x-final-values`;
//!   [`as_str()`](types::ConversionStatus::as_str) and `Display` give the text, and serde
//!   reads and writes the plain string.
//! - **Results and webhooks**: [`types::Conversion::mp3_url`], [`wav_url`](types::Conversion::wav_url)
//!   and [`cost`](types::Conversion::cost) read the result whichever field names it came under;
//!   [`types::CoverWebhook::parse`]`(body)` parses either documented webhook shape and has the
//!   same three readers.
//! - **Features**: `rustls` (default) enables TLS for the real hosts; without it only `http://`
//!   works, enough for the mock.
//!
//! # Retries and faults
//!
//! **What is retried: polling.** [`Client::wait_for_conversion`] sends `GET /v1/byId`, which
//! changes nothing, so sending it again is always harmless. Within its deadline
//! ([`PollOptions::timeout`]) it sends it again after:
//!
//! - a broken exchange: the connection refused, reset or closed without an answer, a body cut
//!   short of its `Content-Length`, JSON that ends early ([`ApiError::Transport`],
//!   [`ApiError::InvalidResponse`] whose JSON ends early);
//! - a slow answer: each request is given [`PollOptions::request_timeout`] (30 s by default)
//!   from sending to the last byte, so a stalled or dribbled answer is given up
//!   ([`ApiError::RequestTimeout`]) instead of eating the wait; never more than the time left
//!   before the deadline, but at least a second;
//! - 429 and any 5xx, documented (500) or not (502, 503, 504...).
//!
//! It waits the backoff delay between two requests, or the answer's `Retry-After` when that is
//! longer (a number of seconds or an HTTP-date; values above [`PollOptions::max_retry_after`],
//! 5 minutes by default, count as that). It never sleeps past the deadline: a `Retry-After`
//! that reaches past it ends the wait at once. It gives up with [`ApiError::Timeout`] (last
//! status seen, requests sent, last retried error) at the deadline, and at once on any other
//! error (400, 401, 403, 404...), which asking again would not change. The backoff has no
//! jitter: one waiter polls one conversion, so there is no crowd of clients to spread out.
//!
//! **What is not retried: the Cover, or any call you send yourself.** The client sends each
//! request once; only `wait_for_conversion` repeats its own GETs. A Cover charges credits and
//! starts a conversion: if its request reached the API and only the answer was lost (a reset,
//! a timeout, a 500), sending it again would charge twice and start two conversions, and the
//! client cannot know which happened. So it hands the error back.
//!
//! **Resending a Cover safely.** Send it again only when the error proves the API did not act
//! on it: [`ApiError::is_safe_to_resend`] is true for a connection that could not be made
//! (nothing was sent), a 429 (the rate limiter refused it) and a 503 with a `Retry-After` (the
//! API said it is unavailable until then). Wait [`ApiError::retry_after`] first when there is
//! one. After any other failure the client cannot tell whether the API took the Cover: resend
//! only if a second charge is acceptable, or first wait for the webhook of the first Cover (if
//! it had a `webhook_url`): it comes only for a Cover the API took.
//!
//! ```no_run
//! # async fn run(client: musicgpt_cover::Client) -> Result<(), musicgpt_cover::ApiError> {
//! use musicgpt_cover::ApiError;
//!
//! let mut tries = 0;
//! let queued = loop {
//!     let sent = client
//!         .cover()
//!         .voice_id("Drake")
//!         .audio_url("https://example.com/song.mp3")
//!         .send()
//!         .await;
//!     match sent {
//!         Ok(answer) => break answer.into_inner(),
//!         Err(error) if error.is_safe_to_resend() && tries < 3 => {
//!             tries += 1;
//!             let wait = error.retry_after().unwrap_or(std::time::Duration::from_secs(2));
//!             tokio::time::sleep(wait).await;
//!         }
//!         Err(error) => return Err(error),
//!     }
//! };
//! # let _ = queued; Ok(()) }
//! ```
//!
//! The contract suite proves all this against the mock's faults and scenarios (resets, closed
//! and truncated answers, dribbled bodies, failure rates, 429 with `Retry-After`): see the
//! repository's `docs/testing.md`.
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

#[cfg(test)]
mod tests;

pub use audio::AudioFile;
pub use error::ApiError;
pub use poll::{ConversionRef, PollOptions};

/// The reqwest version the client is built on, for callers that pass their own
/// `reqwest::ClientBuilder` or build `reqwest::multipart::Part`s.
pub use reqwest;
