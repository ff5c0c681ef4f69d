//! The contract suite, one test binary: openapi.yaml, the generated client (`musicgpt-cover`) and
//! the mock (`musicgpt-cover-mock`) agree, shown by snapshots, by a JSON Schema validator over the
//! spec, by schemars schemas of the client's types, by round trips, and by tools nobody here
//! wrote (schemathesis, Stoplight Prism, the reference page's own curl and Python samples).
//!
//! Map of the modules:
//! - `common`, `calls`: the deterministic mock, raw and client calls, snapshot settings;
//! - `early_answers`: answers given before a body was read reach Node's `fetch`, curl and
//!   Python's `requests` (the mock and the proxy close such connections lingering);
//! - `statuses`: every documented status of every operation, snapshotted and validated;
//! - `types`: each client type equivalent to its spec component (schemars against the spec);
//! - `flow`: cover → poll → webhook → result audio, lifecycle states, the journal entry;
//! - `request_shape`: the client's requests (caught by wiremock) validated against the spec;
//! - `resilience`: the client against the mock's faults and scenarios (resets, closes,
//!   truncated and dribbled answers, failure rates, 429 with `Retry-After`): polling rides them
//!   out, a Cover is sent once;
//! - `docs`: `docs/mock.md`'s admin table is the admin index, its `respond` table the fault kinds;
//! - `admin_openapi`: the admin API's OpenAPI document is lint-clean, lists the admin table's
//!   routes, and makes a Python client that resets the mock, reads its journal, finds and counts;
//! - `official`: the API's own documentation's example bodies (`fixtures/official`) validate
//!   against the spec and decode with the client;
//! - `schemathesis`, `prism`, `samples`: the external judges;
//! - `generators`: openapi-typescript's types (checked with `tsc --strict`) and
//!   openapi-python-client's client (sending Covers to the mock), generated from the spec;
//! - `browser`: headless Chromium on another origin calls the API and plays the result files;
//! - `browser_pages`: Playwright drives the mock's own pages (Explorer, dashboard, docs) by their
//!   labels, as a person would.

mod admin_openapi;
mod browser;
mod browser_pages;
mod calls;
mod common;
mod docs;
mod early_answers;
mod flow;
mod generators;
mod official;
mod prism;
mod request_shape;
mod resilience;
mod samples;
mod schemathesis;
mod statuses;
mod types;
