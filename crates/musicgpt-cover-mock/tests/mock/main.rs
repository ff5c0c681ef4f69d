//! The mock's integration tests, one binary: each module drives a [`MockServer`] over HTTP (or the
//! router without a socket) the way a client, a browser or a CI job would.

mod common;

mod auth_credits;
mod cors;
mod determinism;
mod faults;
mod files_voices;
mod fuzzed;
mod hostile;
mod kept_answers;
mod lifecycle;
mod peers;
mod prefer;
mod proxy;
mod record_replay;
mod requests;
mod samples;
mod security;
mod statuses;
mod uploads;
mod validation;
mod webhooks;
