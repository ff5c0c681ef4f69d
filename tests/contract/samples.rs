//! The reference page's own code samples (`fixtures/seed_samples.txt`, verbatim), run against the
//! mock with only the host swapped: with real `curl`, and with the Python of the tools venv
//! (which has `requests`). What they print must be the spec's answers.
//!
//! The mock's own tests run the same samples with the system `python3`; these use the pinned
//! venv, check the answers against the spec's schemas, and include the page's first sample,
//! whose unreplaced `<AUDIO_URL>` placeholder must get the documented 400.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use musicgpt_cover_contract_tests::schema::SchemaCheck;
use musicgpt_cover_contract_tests::tools;
use musicgpt_cover_mock::{AudioSource, DeliveryState, JournalKind, MockServer};
use serde_json::Value;

use crate::common::{SEED, assert_none, spec};

const SAMPLES: &str = include_str!("../fixtures/seed_samples.txt");
/// The host of the samples, which the test swaps for the mock's.
const SEED_BASE_URL: &str = "https://api.musicgpt.com/api/public";

fn sample(name: &str) -> String {
    let marker = format!("=== {name} ===\n");
    let start = SAMPLES
        .find(&marker)
        .unwrap_or_else(|| panic!("fixtures/seed_samples.txt has no sample {name}"))
        + marker.len();
    let rest = &SAMPLES[start..];
    let end = rest.find("\n=== ").map_or(rest.len(), |i| i + 1);
    let text = &rest[..end];
    assert!(
        text.contains(SEED_BASE_URL),
        "sample {name} no longer calls {SEED_BASE_URL}"
    );
    text.to_owned()
}

/// Runs a program with no proxy in the way of 127.0.0.1, off the async runtime (the mock answers
/// on it meanwhile).
async fn run(program: &Path, args: Vec<String>) -> Output {
    let program = program.to_owned();
    tokio::task::spawn_blocking(move || {
        tools::loopback_only(Command::new(&program).args(&args))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    })
    .await
    .expect("the program's thread")
}

fn python() -> std::path::PathBuf {
    tools::venv_program("python").unwrap_or_else(|e| panic!("{e}"))
}

/// Fails clearly when `curl` is not on PATH (the sample calls it by name).
fn curl() {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join("curl").is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "the curl sample needs `curl` on PATH (Debian: apt-get install curl)"
    );
}

fn cover_schema(status: u16) -> SchemaCheck {
    let spec = spec();
    let schema = spec
        .operation("cover")
        .response(status)
        .and_then(|r| r.schema.clone())
        .unwrap_or_else(|| panic!("Cover documents no schema for {status}"));
    SchemaCheck::new(spec, &schema).expect("the schema compiles")
}

async fn mock() -> MockServer {
    // Tasks finish at once, so a sample's webhook_url is acted on (and refused) within the test.
    MockServer::builder()
        .seed(SEED)
        .time_scale(0.0)
        .start()
        .await
}

fn stdout_json(out: &Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{what} did not print JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_curl_sample() {
    curl();
    let mock = mock().await;
    let script = sample("curl").replace(SEED_BASE_URL, mock.base_url());
    let out = run(Path::new("sh"), vec!["-c".to_owned(), script]).await;
    let body = stdout_json(&out, "the curl sample");
    let mut problems: Vec<String> = cover_schema(200)
        .errors(&body)
        .into_iter()
        .map(|e| format!("the answer breaks the 200 schema at {e}"))
        .collect();
    let task_id = body["task_id"].as_str().unwrap_or_default().to_owned();
    let journal = mock.state().journal();
    let form = journal
        .first()
        .and_then(|e| e.request.as_ref())
        .and_then(|r| r.form.clone())
        .expect("the form was journalled");
    let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
    if names != ["audio_url", "voice_id", "pitch", "webhook_url"] {
        problems.push(format!("the mock read the fields {names:?}"));
    }
    // The sample's webhook host is not this machine: refused, and journalled as such.
    match mock
        .wait_for_webhook(&task_id, Duration::from_secs(5))
        .await
    {
        Ok(d) if d.state == DeliveryState::Refused => {}
        other => problems.push(format!(
            "the off-machine webhook was not refused: {other:?}"
        )),
    }
    if !mock
        .state()
        .journal()
        .iter()
        .any(|e| e.kind == JournalKind::WebhookRefused)
    {
        problems.push("the refused webhook is not in the journal".to_owned());
    }
    assert_none(&problems, "the curl sample");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_upload_sample() {
    let python = python();
    let mock = mock().await;
    let dir = std::env::temp_dir().join(format!("musicgpt-contract-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp folder");
    let song = dir.join("song.wav");
    std::fs::write(&song, vec![9u8; 4321]).expect("the song file");
    let script = sample("python_upload")
        .replace(SEED_BASE_URL, mock.base_url())
        .replace(
            "{path_to_your_audio_file}",
            song.to_str().expect("a UTF-8 temp path"),
        );
    let out = run(&python, vec!["-c".to_owned(), script]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the Python sample failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `print(response.json())` prints a Python dict; read it back as JSON with Python itself.
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let as_json = run(
        &python,
        vec![
            "-c".to_owned(),
            "import ast, json, sys; print(json.dumps(ast.literal_eval(sys.argv[1])))".to_owned(),
            printed.clone(),
        ],
    )
    .await;
    let body = stdout_json(&as_json, "reading the printed dict");
    let mut problems: Vec<String> = cover_schema(200)
        .errors(&body)
        .into_iter()
        .map(|e| format!("the answer breaks the 200 schema at {e} ({printed})"))
        .collect();
    let tasks = mock.state().tasks();
    match tasks.as_slice() {
        [task] if body["task_id"] == task.task_id.as_str() => {
            if !matches!(task.source, AudioSource::File { size: 4321, .. }) {
                problems.push(format!(
                    "the task's audio is {:?}, the 4321-byte file was sent",
                    task.source
                ));
            }
        }
        other => problems.push(format!("tasks {other:?} for the answer {body}")),
    }
    // The request's entry, wherever it is: the refused webhook of a task that completes at once
    // may be journalled before the request's entry (written once its answer is out).
    let form = mock
        .state()
        .journal()
        .into_iter()
        .find_map(|e| e.request.and_then(|r| r.form))
        .expect("the form was journalled");
    if form
        .fields
        .iter()
        .find(|f| f.name == "audio_url")
        .map(|f| f.value.as_str())
        != Some("")
    {
        problems.push("the sample's empty audio_url did not reach the mock".to_owned());
    }
    assert_none(&problems, "the Python upload sample");
}

// The page's first sample posts `data=payload` without `files`, so `requests` sends
// `application/x-www-form-urlencoded`, which openapi.yaml documents beside multipart/form-data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_quickstart_sample_with_its_placeholders() {
    let python = python();
    let mock = mock().await;
    let script = sample("python_quickstart").replace(SEED_BASE_URL, mock.base_url());
    let out = run(&python, vec!["-c".to_owned(), script]).await;
    // `<AUDIO_URL>` is not a URL the API can download: the documented 400, printed as text.
    let body = stdout_json(&out, "the Python quickstart sample");
    let journal = mock.state().journal();
    let status = journal
        .first()
        .and_then(|e| e.request.as_ref())
        .map(|r| r.status);
    let documented = spec()
        .operation("cover")
        .response(400)
        .and_then(|r| r.examples.first())
        .map(|(_, v)| v.clone());
    let mut problems: Vec<String> = cover_schema(400)
        .errors(&body)
        .into_iter()
        .map(|e| format!("the answer breaks the 400 schema at {e}"))
        .collect();
    if status != Some(400) || Some(&body) != documented.as_ref() {
        problems.push(format!(
            "answered {status:?} {body}, the documented 400 is {documented:?}"
        ));
    }
    assert_none(&problems, "the Python quickstart sample");
}
