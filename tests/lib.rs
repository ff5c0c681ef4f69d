//! Support for the contract tests (`contract/`): the spec read as data and turned into JSON Schema,
//! a normaliser that makes the spec's schemas and the Rust types' schemars schemas comparable, the
//! external tools' paths, a local webhook receiver and checks that a file is real audio.
//!
//! Map of the modules:
//! - [`spec`]: openapi.yaml (the workspace's, embedded at build time) as JSON, its operations and
//!   their documented responses, `$ref` resolution;
//! - [`schema`]: OpenAPI 3.0 schemas converted to JSON Schema 2020-12 (`nullable`, `$ref`,
//!   OpenAPI-only keywords) and validated with the `jsonschema` crate;
//! - [`shape`]: the normal form both sides of a schema comparison are mapped to, and the comparison;
//! - [`tools`]: where `cargo xtask tools` put schemathesis, Python, Prism and Chromium;
//! - [`receiver`]: a webhook receiver on 127.0.0.1;
//! - [`audio`]: MP3 frame and WAV header walkers.

pub mod audio;
pub mod receiver;
pub mod schema;
pub mod shape;
pub mod spec;
pub mod tools;

/// The workspace folder (the parent of this package).
pub fn workspace_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::Path::to_path_buf,
        )
}

/// The workspace README's Rust examples, compiled and run by `cargo test -p
/// musicgpt-cover-contract-tests --doc` (this package depends on both the client and the mock).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct RootReadmeDoctests;

/// The Rust examples of the reference pages under `docs/`, run the same way. Every page is
/// included, so an example added to any of them runs too.
#[cfg(doctest)]
#[doc = include_str!("../docs/mock.md")]
pub struct DocsMockDoctests;

/// See [`DocsMockDoctests`].
#[cfg(doctest)]
#[doc = include_str!("../docs/testing.md")]
pub struct DocsTestingDoctests;

/// See [`DocsMockDoctests`].
#[cfg(doctest)]
#[doc = include_str!("../docs/benchmarks.md")]
pub struct DocsBenchmarksDoctests;

/// See [`DocsMockDoctests`].
#[cfg(doctest)]
#[doc = include_str!("../docs/proxy.md")]
pub struct DocsProxyDoctests;
