//! The two generators frontend and script authors use most, run on openapi.yaml as they would
//! run them: the types and client they make must be usable for the one call that matters.
//!
//! - openapi-typescript (npm, pinned) writes the spec's TypeScript types; `tsc --strict` then
//!   checks `fixtures/generated/cover.ts` against them: calls of `POST /v1/Cover` that must
//!   compile, and calls that must not (a text `pitch`, no `voice_id`, an unknown field, neither
//!   `audio_url` nor `audio_file`), each marked `@ts-expect-error`.
//! - openapi-python-client (PyPI, pinned) writes a Python client package with this package's
//!   `openapi-python-client.yaml` (it says why); `fixtures/generated/cover_client.py` imports it
//!   and sends a Cover by URL, one with a file and one with neither to the mock, whose journal
//!   shows what arrived.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use musicgpt_cover_contract_tests::schema::SchemaCheck;
use musicgpt_cover_contract_tests::{spec as spec_file, tools};
use serde_json::{Value, json};

use crate::common::{KEY, assert_none, seeded_mock, spec};

/// openapi-typescript's options. By default it makes a property with a `default` required, as
/// in an answer (the server fills it in); CoverRequest is a request, where `pitch` (default 0)
/// may be left out.
const TYPESCRIPT_OPTIONS: [&str; 2] = ["--default-non-nullable", "false"];
/// The name of the generated Python package.
const PYTHON_PACKAGE: &str = "musicgpt_cover_api";
/// Bytes of the file the Python client uploads.
const SONG_BYTES: usize = 3000;

/// A fresh folder for one test's files, removed when dropped.
pub(crate) struct WorkDir(pub(crate) PathBuf);

impl WorkDir {
    pub(crate) fn new(name: &str) -> WorkDir {
        let dir =
            std::env::temp_dir().join(format!("musicgpt-contract-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a work folder");
        WorkDir(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("generated")
        .join(name)
}

/// Runs a program to its end off the async runtime (the mock answers on it meanwhile), with no
/// proxy in the way of 127.0.0.1 and the venv's programs first on `PATH`, as in an activated venv
/// (openapi-python-client formats what it writes with the venv's ruff).
pub(crate) async fn run(program: PathBuf, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let venv_bin = tools::dir().join("venv").join("bin");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(venv_bin).chain(std::env::split_paths(&path)))
                .expect("a PATH");
        tools::loopback_only(Command::new(&program).args(&args).env("PATH", path))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    })
    .await
    .expect("the program's thread")
}

pub(crate) fn succeeded(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn path_arg(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_types_check_every_field_of_the_cover_form() {
    let generator = tools::npm_program("openapi-typescript").unwrap_or_else(|e| panic!("{e}"));
    let tsc = tools::npm_program("tsc").unwrap_or_else(|e| panic!("{e}"));
    let work = WorkDir::new("typescript");
    let types = work.0.join("openapi.ts");
    let mut args = vec![
        path_arg(&spec_file::path()),
        "--output".to_owned(),
        path_arg(&types),
    ];
    args.extend(TYPESCRIPT_OPTIONS.map(str::to_owned));
    succeeded(&run(generator, args).await, "openapi-typescript");

    let calls = work.0.join("cover.ts");
    std::fs::copy(fixture("cover.ts"), &calls).expect("the calls beside the types");
    let out = run(
        tsc,
        [
            "--strict", "--noEmit", "--target", "es2022", "--module", "esnext",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([path_arg(&calls)])
        .collect(),
    )
    .await;
    let generated = std::fs::read_to_string(&types).unwrap_or_default();
    let cover_request = generated
        .split_once("CoverRequest: ")
        .and_then(|(_, rest)| rest.split_once("\n        };"))
        .map_or("(not found)", |(body, _)| body);
    assert!(
        out.status.success(),
        "tsc --strict refused fixtures/generated/cover.ts:\n{}\nThe generated CoverRequest: {cover_request}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_python_client_sends_a_cover_by_url_and_by_file() {
    let generator = tools::venv_program("openapi-python-client").unwrap_or_else(|e| panic!("{e}"));
    let python = tools::venv_program("python").unwrap_or_else(|e| panic!("{e}"));
    let work = WorkDir::new("python-client");
    let generated = run(
        generator,
        vec![
            "generate".to_owned(),
            "--path".to_owned(),
            path_arg(&spec_file::path()),
            "--output-path".to_owned(),
            path_arg(&work.0.join(PYTHON_PACKAGE)),
            "--meta".to_owned(),
            "none".to_owned(),
            "--config".to_owned(),
            path_arg(&Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi-python-client.yaml")),
        ],
    )
    .await;
    succeeded(&generated, "openapi-python-client generate");

    let spec = spec();
    let example = |property: &str| spec.property_example("CoverRequest", property).clone();
    let pitch = spec
        .schema("CoverRequest")
        .pointer("/properties/pitch/minimum")
        .cloned()
        .expect("pitch has a minimum");
    let mock = seeded_mock(|config| config.api_key(KEY)).await;
    let given = json!({
        "base_url": mock.base_url(),
        "key": KEY,
        "voice_id": example("voice_id"),
        "audio_url": example("audio_url"),
        "webhook_url": example("webhook_url"),
        "pitch": pitch,
        "song": vec![7u8; SONG_BYTES],
    });
    let out = run(
        python,
        vec![
            path_arg(&fixture("cover_client.py")),
            path_arg(&work.0),
            PYTHON_PACKAGE.to_owned(),
            given.to_string(),
        ],
    )
    .await;
    succeeded(&out, "the script using the generated client");
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "the script printed no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });

    let mut problems = Vec::new();
    let check = |status: u16| {
        let schema = spec
            .operation("cover")
            .response(status)
            .and_then(|r| r.schema.clone())
            .unwrap_or_else(|| panic!("Cover documents no schema for {status}"));
        SchemaCheck::new(spec, &schema).expect("the schema compiles")
    };
    for (call, status, decoded_as) in [
        ("by_url", 200, "CoverResponse"),
        ("by_file", 200, "CoverResponse"),
        ("neither", 422, "Error"),
    ] {
        let answer = &sent[call];
        if answer["status"] != status || answer["decoded_as"] != decoded_as {
            problems.push(format!(
                "{call}: {} decoded as {}, expected {status} as {decoded_as}: {}",
                answer["status"], answer["decoded_as"], answer["body"]
            ));
        }
        problems.extend(
            check(status)
                .errors(&answer["body"])
                .into_iter()
                .map(|e| format!("{call}: the decoded body breaks the {status} schema at {e}")),
        );
    }

    // What reached the mock: every field the script set, the file whole.
    let forms: Vec<_> = mock
        .state()
        .journal()
        .into_iter()
        .filter_map(|entry| entry.request.and_then(|r| r.form))
        .collect();
    for (form, name) in [
        (0, "voice_id"),
        (0, "audio_url"),
        (0, "webhook_url"),
        (1, "voice_id"),
        (1, "pitch"),
    ] {
        let got = forms
            .get(form)
            .and_then(|form| form.fields.iter().find(|f| f.name == name))
            .map(|field| field.value.as_str());
        let expected = match &given[name] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        if got != Some(expected.as_str()) {
            problems.push(format!(
                "request {}: {name} arrived as {got:?}, {expected} was set",
                form + 1
            ));
        }
    }
    let file = forms
        .get(1)
        .and_then(|form| form.files.iter().find(|f| f.name == "audio_file"));
    if file.map(|f| f.size) != Some(SONG_BYTES as u64) {
        problems.push(format!(
            "request 2: audio_file arrived as {file:?}, {SONG_BYTES} bytes were set"
        ));
    }
    if forms.len() != 3 {
        problems.push(format!(
            "{} forms reached the mock, 3 were sent",
            forms.len()
        ));
    }
    assert_none(&problems, "the generated Python client");
}
