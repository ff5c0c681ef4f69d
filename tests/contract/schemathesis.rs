//! schemathesis (PyPI), a property-based tester nobody here wrote, against the running mock:
//! every check, positive and negative data, all four phases (examples, coverage, fuzzing,
//! stateful), a fixed seed and a few hundred cases per operation. Zero failures allowed.
//! Its configuration and hooks are committed beside this package (`schemathesis.toml`,
//! `schemathesis_hooks.py`), every departure from the defaults justified there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use musicgpt_cover_contract_tests::{spec as spec_file, tools};
use musicgpt_cover_mock::{ClockMode, MockServer};

use crate::common::{KEY, SEED, spec};

/// The seed of schemathesis' generator: the same cases on every run.
pub(crate) const SCHEMATHESIS_SEED: &str = "20261123";
/// Cases per operation and phase.
const MAX_EXAMPLES: &str = "300";
/// Far above a normal run (about a minute); a hung run fails instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(15 * 60);
const PHASES: [&str; 4] = ["Examples", "Coverage", "Fuzzing", "Stateful"];

/// What every run passes: the seed, the examples per operation, the suite's key, no example
/// database (a run repeats exactly), plain output.
pub(crate) fn shared_args(max_examples: &str) -> Vec<String> {
    [
        "--seed",
        SCHEMATHESIS_SEED,
        "--max-examples",
        max_examples,
        "--header",
        &format!("Authorization: {KEY}"),
        "--generation-database",
        "none",
        "--no-color",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// A whole run's arguments with every check, mode and phase: the suite's config, `run` with
/// `target` (the document, and where to send requests), then [`shared_args`].
pub(crate) fn full_run_args(target: &[&str], max_examples: &str) -> Vec<String> {
    let config = package_file("schemathesis.toml")
        .to_string_lossy()
        .into_owned();
    let mut args = vec!["--config-file", &config, "run"];
    args.extend_from_slice(target);
    args.extend([
        "--checks",
        "all",
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
    ]);
    (args.into_iter().map(str::to_owned))
        .chain(shared_args(max_examples))
        .collect()
}

pub(crate) fn package_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_against_the_mock() {
    let program = tools::venv_program("schemathesis").unwrap_or_else(|e| panic!("{e}"));
    // Only the suite's key is accepted, so schemathesis' `ignored_auth` check sees a refused key
    // refused; the clock is real so the stateful phase sees tasks move.
    let mock = MockServer::builder()
        .seed(SEED)
        .clock(ClockMode::Real)
        .api_key(KEY)
        .start()
        .await;
    let work = std::env::temp_dir().join(format!(
        "musicgpt-contract-schemathesis-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&work).expect("a work folder");
    let spec_path = spec_file::path().to_string_lossy().into_owned();
    let args = full_run_args(&[&spec_path, "--url", mock.base_url()], MAX_EXAMPLES);
    let hooks = package_file("schemathesis_hooks.py");
    let started = Instant::now();
    let work_dir = work.clone();
    let output =
        tokio::task::spawn_blocking(move || run_with_deadline(&program, &args, &hooks, &work_dir))
            .await
            .expect("the schemathesis thread");
    let _ = std::fs::remove_dir_all(&work);
    let (success, stdout, stderr) = output;
    let summary = stdout
        .find("=== SUMMARY")
        .or_else(|| stdout.find("SUMMARY"))
        .map_or(stdout.as_str(), |i| &stdout[i..]);
    eprintln!(
        "schemathesis ran for {:.0} s; its summary:\n{summary}",
        started.elapsed().as_secs_f64()
    );
    if !success {
        let failures = stdout
            .find("FAILURES")
            .map_or(stdout.as_str(), |i| &stdout[i..]);
        panic!("schemathesis reported failures against the mock:\n{failures}\n{stderr}");
    }
    for phase in PHASES {
        assert!(
            summary.contains(&format!("✅ {phase}")),
            "the {phase} phase did not run and pass:\n{summary}"
        );
    }
    let tested = format!("Tested: {}", spec().operations().len());
    assert!(
        summary.contains(&tested),
        "not every operation was tested ({tested} expected):\n{summary}"
    );
}

/// The Cover form's rule on the song (`audio_file`, or a non-empty `audio_url`) is schemathesis'
/// too. In the run above, a valid form without a song would be refused by the mock and fail
/// `positive_data_acceptance` (422 is not an accepted answer to valid data there). Here, the other
/// half: a stub that accepts exactly the forms that break that rule alone (a `voice_id` of its
/// least length, a `pitch` within its bounds or none, no song) must be caught by
/// `negative_data_rejection`, the invalid component being the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_holds_a_cover_without_a_song_invalid() {
    let program = tools::venv_program("schemathesis").unwrap_or_else(|e| panic!("{e}"));
    let stub = SonglessStub::from_spec();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a port for the stub");
    let base_url = format!("http://{}", listener.local_addr().expect("its address"));
    let router = axum::Router::new()
        .route("/v1/Cover", axum::routing::post(songless_stub))
        .with_state(std::sync::Arc::new(stub));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let work = std::env::temp_dir().join(format!(
        "musicgpt-contract-schemathesis-stub-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&work).expect("a work folder");
    let args: Vec<String> = [
        "--config-file",
        &package_file("schemathesis.toml").to_string_lossy(),
        "run",
        &spec_file::path().to_string_lossy(),
        "--url",
        &base_url,
        "--include-operation-id",
        "cover",
        "--checks",
        "negative_data_rejection",
        "--mode",
        "negative",
        "--phases",
        "fuzzing",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(shared_args(MAX_EXAMPLES))
    .collect();
    let hooks = package_file("schemathesis_hooks.py");
    let work_dir = work.clone();
    let (success, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_with_deadline(&program, &args, &hooks, &work_dir))
            .await
            .expect("the schemathesis thread");
    server.abort();
    let _ = std::fs::remove_dir_all(&work);
    let invalid_components: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("Invalid component"))
        .collect();
    eprintln!("schemathesis against the stub: {invalid_components:?}");
    assert!(
        !success
            && stdout.contains("ST201")
            && !invalid_components.is_empty()
            && invalid_components.iter().all(|line| line.contains("anyOf")),
        "schemathesis should have caught the stub accepting a Cover without a song, and only \
         that:\n{stdout}\n{stderr}"
    );
}

/// What the stub of [`schemathesis_holds_a_cover_without_a_song_invalid`] accepts, from the spec.
struct SonglessStub {
    voice_min_length: usize,
    pitch: (i64, i64),
    accepted: serde_json::Value,
    refused: serde_json::Value,
}

impl SonglessStub {
    fn from_spec() -> SonglessStub {
        let spec = spec();
        let form = spec.schema("CoverRequest");
        let number = |pointer: &str| {
            form.pointer(pointer)
                .and_then(serde_json::Value::as_i64)
                .unwrap_or_else(|| panic!("CoverRequest has no {pointer}"))
        };
        let example = |status: u16| {
            spec.operation("cover")
                .response(status)
                .and_then(|r| r.examples.first())
                .map(|(_, value)| value.clone())
                .unwrap_or_else(|| panic!("Cover has no {status} example"))
        };
        SonglessStub {
            voice_min_length: usize::try_from(number("/properties/voice_id/minLength"))
                .expect("a length"),
            pitch: (
                number("/properties/pitch/minimum"),
                number("/properties/pitch/maximum"),
            ),
            accepted: example(200),
            refused: example(422),
        }
    }

    /// Whether a form (its fields in order: name, text or `None` for a file part) breaks the
    /// rule on the song and nothing else.
    fn accepts(&self, fields: &[(String, Option<String>)]) -> bool {
        let named = |name: &'static str| {
            fields
                .iter()
                .filter(move |(n, _)| n == name)
                .map(|(_, value)| value.as_deref())
        };
        let text = |name: &'static str| named(name).flatten().next();
        let voice = text("voice_id").is_some_and(|v| v.chars().count() >= self.voice_min_length);
        let pitch = named("pitch").all(|value| {
            value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|p| (self.pitch.0..=self.pitch.1).contains(&p))
        });
        let song = named("audio_file").next().is_some()
            || text("audio_url").is_some_and(|u| !u.is_empty());
        [
            "voice_id",
            "pitch",
            "audio_url",
            "audio_file",
            "webhook_url",
        ]
        .into_iter()
        .all(|name| named(name).count() <= 1)
            && voice
            && pitch
            && !song
    }
}

/// The stub's `POST /v1/Cover`: 200 for a form that breaks only the rule on the song, 422 for
/// anything else (a form it cannot read included).
async fn songless_stub(
    axum::extract::State(stub): axum::extract::State<std::sync::Arc<SonglessStub>>,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let fields = if content_type.starts_with("application/x-www-form-urlencoded") {
        Some(
            form_urlencoded::parse(&body)
                .map(|(name, value)| (name.into_owned(), Some(value.into_owned())))
                .collect(),
        )
    } else {
        multipart_fields(&content_type, body).await
    };
    if fields.is_some_and(|fields| stub.accepts(&fields)) {
        (
            axum::http::StatusCode::OK,
            axum::Json(stub.accepted.clone()),
        )
    } else {
        (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(stub.refused.clone()),
        )
    }
}

/// A multipart form's fields: name, and the text of a part without a file name (`None` for a
/// file part); `None` when it cannot be read.
async fn multipart_fields(
    content_type: &str,
    body: bytes::Bytes,
) -> Option<Vec<(String, Option<String>)>> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = form.next_field().await.ok()? {
        let name = field.name()?.to_owned();
        let file = field.file_name().is_some();
        let bytes = field.bytes().await.ok()?;
        let text = if file {
            None
        } else {
            Some(String::from_utf8(bytes.to_vec()).ok()?)
        };
        fields.push((name, text));
    }
    Some(fields)
}

/// Runs schemathesis in `work`, killing it at [`DEADLINE`]. Returns (exit success, stdout,
/// stderr).
pub(crate) fn run_with_deadline(
    program: &Path,
    args: &[String],
    hooks: &Path,
    work: &Path,
) -> (bool, String, String) {
    let out = work.join("stdout.txt");
    let err = work.join("stderr.txt");
    let mut child = tools::loopback_only(
        Command::new(program)
            .args(args)
            .current_dir(work)
            .env("SCHEMATHESIS_HOOKS", hooks),
    )
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&out).expect("a stdout file"))
    .stderr(std::fs::File::create(&err).expect("a stderr file"))
    .spawn()
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        match child.try_wait().expect("waiting for schemathesis") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "schemathesis did not finish within {DEADLINE:?}; its output so far:\n{}",
                    std::fs::read_to_string(&out).unwrap_or_default()
                );
            }
            None => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    (
        status.success(),
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(&err).unwrap_or_default(),
    )
}
