//! The reference page's own curl and Python `requests` samples, verbatim but for the host.

use std::process::Command;
use std::time::Duration;

use musicgpt_cover_mock::{DeliveryState, JournalKind, MockConfig};

use crate::common::mock;

/// The page's cURL sample.
const CURL_SAMPLE: &str = r#"curl -X POST "https://api.musicgpt.com/api/public/v1/Cover" \
-H "accept: multipart/form-data" \
-H "Authorization: <api_key>" \
-F "audio_url=https://www.youtube.com/watch?v=jGflUbPQfW8" \
-F "voice_id=Drake" \
-F "pitch=0" \
-F "webhook_url=http://webhook.musicgpt.com""#;

/// The page's Python sample.
const PYTHON_SAMPLE: &str = r#"import requests

url = "https://api.musicgpt.com/api/public/v1/Cover"
headers = {
    "accept": "multipart/form-data",
    "Authorization": "<api_key>"
}

input_audio_file = open("{path_to_your_audio_file}", "rb")
payload = {
    "audio_url": "",
    "voice_id": "Drake",
    "pitch": 0,
    "webhook_url": "http://abc.requestcatcher.com/test",
}

response = requests.post(url, headers=headers, data=payload, files={"audio_file": input_audio_file})
print(response.json())
"#;

const SEED_HOST: &str = "https://api.musicgpt.com/api/public";

/// Runs a program off the runtime's thread (the mock serves on it meanwhile).
async fn run(program: &str, args: &[&str]) -> std::process::Output {
    let program = program.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || run_blocking(&program, &args))
        .await
        .expect("runner")
}

fn run_blocking(program: &str, args: &[String]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

#[tokio::test]
async fn the_seed_curl_sample_works_with_the_host_swapped() {
    let mock = mock(MockConfig::new().seed(1).time_scale(0.0)).await;
    let script = CURL_SAMPLE.replace(SEED_HOST, mock.base_url());
    let out = run("sh", &["-c", &script]).await;
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("curl printed JSON");
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(body["status"], "IN_QUEUE");
    let task_id = body["task_id"].as_str().expect("task_id");

    // What the mock saw: the form's four text fields.
    let journal = mock.state().journal();
    let form = journal[0]
        .request
        .as_ref()
        .and_then(|r| r.form.clone())
        .expect("form journalled");
    let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["audio_url", "voice_id", "pitch", "webhook_url"]);
    assert_eq!(
        journal[0]
            .request
            .as_ref()
            .map(|r| r.headers["accept"].as_str()),
        Some("multipart/form-data")
    );

    // The sample's webhook host is not on this machine: refused, and said so in the journal.
    let delivery = mock
        .wait_for_webhook(task_id, Duration::from_secs(5))
        .await
        .expect("settled");
    assert_eq!(delivery.state, DeliveryState::Refused);
    assert!(
        mock.state()
            .journal()
            .iter()
            .any(|e| e.kind == JournalKind::WebhookRefused)
    );
}

#[tokio::test]
async fn the_seed_python_sample_works_with_the_host_swapped() {
    let check = run("python3", &["-c", "import requests"]).await;
    assert!(
        check.status.success(),
        "this test runs the reference page's Python sample, which needs python3 with the `requests` \
         package: install it with `python3 -m pip install requests` (cargo xtask ci does). python3 said: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mock = mock(MockConfig::new().seed(2).time_scale(0.0)).await;
    let dir = std::env::temp_dir().join(format!("musicgpt-mock-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let song = dir.join("song.wav");
    std::fs::write(&song, vec![7u8; 12_345]).expect("song");
    let script = PYTHON_SAMPLE.replace(SEED_HOST, mock.base_url()).replace(
        "{path_to_your_audio_file}",
        song.to_str().expect("utf-8 path"),
    );
    let out = run("python3", &["-c", &script]).await;
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // print(response.json()) prints a Python dict.
    assert!(stdout.contains("'success': True"), "{stdout}");
    assert!(stdout.contains("'status': 'IN_QUEUE'"), "{stdout}");

    let journal = mock.state().journal();
    let form = journal[0]
        .request
        .as_ref()
        .and_then(|r| r.form.clone())
        .expect("form journalled");
    assert_eq!(form.files.len(), 1);
    assert_eq!(form.files[0].name, "audio_file");
    assert_eq!(form.files[0].filename.as_deref(), Some("song.wav"));
    assert_eq!(form.files[0].size, 12_345);
    let audio_url = form
        .fields
        .iter()
        .find(|f| f.name == "audio_url")
        .expect("audio_url sent");
    assert_eq!(
        audio_url.value, "",
        "the sample sends an empty audio_url beside the file"
    );
    let task = mock.state().tasks().pop().expect("a task");
    assert!(matches!(
        task.source,
        musicgpt_cover_mock::AudioSource::File { size: 12_345, .. }
    ));
}
