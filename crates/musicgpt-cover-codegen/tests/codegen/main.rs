//! Snapshot tests of the generated client source, and proof that the spec drives it.

mod fuzzed;
mod one_error;
mod snapshot;
mod spec_drives;
mod statuses;

/// The project's spec, read at test time so the test follows every edit of it.
fn spec_yaml() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}
