//! The generated client against Stoplight Prism (npm `@stoplight/prism-cli`) mocking the same
//! openapi.yaml: a mock nobody here wrote, so the client is shown to conform to the spec and not
//! only to this project's mock. For every operation: the success case (Prism's first example, and
//! each named example through `Prefer: example=`), and every documented error through
//! `Prefer: code=`, each decoded to the documented value or `ApiError` variant. Prism validates
//! every request against the spec too; a complaint (its `sl-violations` header) fails the test.
//!
//! Prism is slow to start, so one test starts it once and walks everything. (Prism fires no
//! callbacks for multipart requests, so the webhook is checked against this project's mock only,
//! in `flow`.)

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use musicgpt_cover_contract_tests::{spec as spec_file, tools};
use serde_json::Value;

use crate::calls::{inputs, valid_call};
use crate::common::{KEY, assert_none, http, spec};
use crate::statuses::check_outcome;

/// How long Prism may take to load the spec and listen.
const STARTUP: Duration = Duration::from_secs(90);

/// A Prism mock server, killed when dropped.
struct Prism {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl Prism {
    fn start(program: &Path) -> Prism {
        let port = tools::free_port().expect("a free port");
        let log = std::env::temp_dir().join(format!(
            "musicgpt-contract-prism-{}.log",
            std::process::id()
        ));
        let child = Command::new(program)
            .arg("mock")
            .arg(spec_file::path())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("a log file"))
            .stderr(Stdio::from(
                std::fs::File::options()
                    .append(true)
                    .open(&log)
                    .expect("the log file"),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let mut prism = Prism {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + STARTUP;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return prism;
            }
            if let Ok(Some(status)) = prism.child.try_wait() {
                panic!(
                    "prism exited ({status}) before listening:\n{}",
                    prism.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "prism did not listen on port {port} within {STARTUP:?}:\n{}",
                prism.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_conforms_to_prism() {
    let program = tools::npm_program("prism").unwrap_or_else(|e| panic!("{e}"));
    let prism = tokio::task::spawn_blocking(move || Prism::start(&program))
        .await
        .expect("the Prism starter thread");
    let inputs = inputs();
    let mut problems = Vec::new();
    let mut checked = 0;
    for op in spec().operations() {
        // Prism keeps no state: any id in the documented format is "found".
        let call = valid_call(&op.id, &inputs)
            .1
            .with_task_id(Some(&inputs.unknown_task_id));
        for response in &op.responses {
            let mut cases: Vec<(Option<String>, &Value)> = Vec::new();
            let first = response.examples.first().map(|(_, v)| v);
            if response.status == 200 {
                if let Some(first) = first {
                    cases.push((None, first));
                }
                for (name, example) in &response.examples {
                    cases.push((Some(format!("example={name}")), example));
                }
            } else if let Some(first) = first {
                cases.push((Some(format!("code={}", response.status)), first));
            } else {
                problems.push(format!(
                    "{} {}: no example for Prism to answer with",
                    op.id, response.status
                ));
            }
            for (prefer, example) in cases {
                let label = format!(
                    "{} {} ({})",
                    op.id,
                    response.status,
                    prefer
                        .as_deref()
                        .map_or("no Prefer".to_owned(), |p| format!("Prefer: {p}"))
                );
                let call = match &prefer {
                    Some(p) => call.clone().prefer(p.clone()),
                    None => call.clone(),
                };
                match call.send_client(&prism.base_url).await {
                    Ok(outcome) => {
                        if let Some(violations) = outcome.violations() {
                            problems.push(format!(
                                "{label}: Prism found the request invalid: {violations}"
                            ));
                        }
                        check_outcome(&label, response.status, &outcome, example, &mut problems);
                    }
                    Err(why) => {
                        problems.push(format!("{label}: the client would not send it: {why}"))
                    }
                }
                checked += 1;
            }
        }
    }
    eprintln!("{checked} responses of Prism checked");
    songless_covers_are_refused(&prism.base_url, &inputs.voice_id, &mut problems).await;
    unknown_conversion_types_are_refused(&prism.base_url, &inputs.unknown_task_id, &mut problems)
        .await;
    if !problems.is_empty() {
        eprintln!("Prism's log:\n{}", prism.log_text());
    }
    assert_none(&problems, "the client against Prism");
}

/// Prism holds the Cover form's rule on the song too: a form with a `voice_id` and neither
/// `audio_url` nor `audio_file` (or an empty `audio_url`), multipart or url-encoded, gets the
/// documented 422 with the rule among its violations. (The client refuses to send such a form,
/// so it goes raw.)
async fn songless_covers_are_refused(base_url: &str, voice_id: &str, problems: &mut Vec<String>) {
    let url = format!("{base_url}{}", spec().operation("cover").path);
    let multipart = |audio_url: Option<&str>| {
        let form = reqwest::multipart::Form::new().text("voice_id", voice_id.to_owned());
        match audio_url {
            Some(value) => form.text("audio_url", value.to_owned()),
            None => form,
        }
    };
    let http = http();
    for (label, request) in [
        (
            "multipart, no song",
            http.post(&url).multipart(multipart(None)),
        ),
        (
            "multipart, an empty audio_url",
            http.post(&url).multipart(multipart(Some(""))),
        ),
        (
            "url-encoded, no song",
            http.post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("voice_id", voice_id)
                        .finish(),
                ),
        ),
    ] {
        let response = match request.header("Authorization", KEY).send().await {
            Ok(response) => response,
            Err(error) => {
                problems.push(format!("{label}: Prism did not answer: {error}"));
                continue;
            }
        };
        let violations = response
            .headers()
            .get("sl-violations")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if response.status() != reqwest::StatusCode::UNPROCESSABLE_ENTITY
            || !violations.contains("anyOf")
        {
            problems.push(format!(
                "{label}: Prism answered {} with violations {violations:?}; expected 422 naming the `anyOf` rule",
                response.status()
            ));
        }
    }
}

/// The `conversionType` values the mock refuses with 400 (its `hostile` tests) are invalid to
/// Prism too: a value outside the spec's enum, an empty one, the right one in lower case or with
/// a trailing space each get the documented 400 from Prism as from the mock, with the parameter
/// among Prism's violations (which it names in lower case). So the two agree on what byId takes,
/// and the case rule is the spec's alone. The client's parameter type refuses them as well.
async fn unknown_conversion_types_are_refused(
    base_url: &str,
    task_id: &str,
    problems: &mut Vec<String>,
) {
    let path = spec().operation("getConversionById").path.clone();
    // The client's parameter type takes exactly the spec's values too.
    type ConversionType = musicgpt_cover::types::GetConversionByIdConversionType;
    if "COVER".parse::<ConversionType>().is_err() {
        problems.push("the client's conversionType does not take COVER".to_owned());
    }
    for value in ["NOPE", "", "cover", "COVER "] {
        if value.parse::<ConversionType>().is_ok() {
            problems.push(format!("the client's conversionType takes {value:?}"));
        }
        let url = format!(
            "{base_url}{path}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("conversionType", value)
                .append_pair("task_id", task_id)
                .finish()
        );
        let response = match http().get(&url).header("Authorization", KEY).send().await {
            Ok(response) => response,
            Err(error) => {
                problems.push(format!(
                    "conversionType {value:?}: Prism did not answer: {error}"
                ));
                continue;
            }
        };
        let violations = response
            .headers()
            .get("sl-violations")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if response.status() != reqwest::StatusCode::BAD_REQUEST
            || !violations.to_lowercase().contains("conversiontype")
        {
            problems.push(format!(
                "conversionType {value:?}: Prism answered {} with violations {violations:?}; expected the documented 400 naming conversionType",
                response.status()
            ));
        }
    }
}
