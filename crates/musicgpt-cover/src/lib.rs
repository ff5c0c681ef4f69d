//! Rust client for the MusicGPT (Wav) Cover API, generated at build time from `openapi.yaml`.
//!
//! Map of the crate:
//! - the generated part (`build.rs` runs `musicgpt-cover-codegen` on the spec): [`Client`] with
//!   one method per operation, the [`builder`]s they return, the [`types`] of every schema, the
//!   [`servers`] and [`COVER_CONVERSION_TYPE`];
//! - the hand-written layer, which knows nothing of request or response shapes: [`connect`]
//!   (constructor from an API key), [`audio`] (file parts streamed from a path, bytes or a
//!   stream), [`error`] (typed errors per documented status), [`poll`] (wait until a conversion
//!   is final) and [`webhook`] (parse the completion payload).
#![doc = ""]
#![doc = include_str!("../README.md")]

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
