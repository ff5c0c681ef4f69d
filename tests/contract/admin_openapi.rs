//! The admin API's own OpenAPI document (`GET /__admin/openapi.json`, made by the mock from its
//! route table and the types of its bodies): the three linters `openapi.yaml` passes find nothing
//! in it, it has an operation for every row of `docs/mock.md`'s admin table and no other, and a
//! client openapi-python-client generates from it resets the mock, reads its journal and finds
//! and counts requests (`fixtures/generated/admin_client.py`), with types named for what they are;
//! every answer of every route validates against the schema the document gives it; and
//! schemathesis, run against the document as against openapi.yaml, finds no request the mock
//! takes that the document forbids, nor one the document allows that the mock refuses.

use std::process::Command;

use musicgpt_cover_contract_tests::{tools, workspace_dir};
use musicgpt_cover_mock::{Matcher, MockServer, openapi_to_json_schema};
use serde_json::{Value, json};

use crate::common::{KEY, SEED, http, seeded_mock};
use crate::docs::{code, mock_doc, table};
use crate::generators::{WorkDir, fixture, path_arg, run, succeeded};
use crate::schemathesis::{full_run_args, package_file, run_with_deadline};

/// The name of the generated Python package.
const PYTHON_PACKAGE: &str = "musicgpt_cover_admin";

/// The dashboard: a row of the admin table, but a page served beside the API, not an operation.
const DASHBOARD: &str = "/__admin/ui";

async fn admin_document(mock: &MockServer) -> Value {
    let answer = http()
        .get(format!("{}/openapi.json", mock.admin_url()))
        .send()
        .await
        .expect("GET /__admin/openapi.json");
    assert_eq!(answer.status(), 200);
    answer.json().await.expect("a JSON document")
}

/// The document written to a file of `work`, for the tools.
async fn document_file(work: &WorkDir) -> std::path::PathBuf {
    let mock = MockServer::start().await;
    let file = work.0.join("admin-openapi.json");
    let text = serde_json::to_string_pretty(&admin_document(&mock).await).expect("JSON");
    std::fs::write(&file, text).expect("the document written");
    file
}

/// `cargo xtask spec-lint`'s three linters with its configurations (`xtask/tools/`), as it runs
/// them on openapi.yaml.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_openapi_is_clean_for_the_linters_of_openapi_yaml() {
    let work = WorkDir::new("admin-openapi-lint");
    let file = path_arg(&document_file(&work).await);
    let configs = workspace_dir().join("xtask").join("tools");
    let npm = |name: &str| tools::npm_program(name).unwrap_or_else(|e| panic!("{e}"));
    let venv = |name: &str| tools::venv_program(name).unwrap_or_else(|e| panic!("{e}"));
    let linters = [
        (
            "redocly",
            npm("redocly"),
            vec![
                "lint".to_owned(),
                file.clone(),
                "--config".to_owned(),
                path_arg(&configs.join("redocly.yaml")),
            ],
        ),
        (
            "spectral",
            npm("spectral"),
            vec![
                "lint".to_owned(),
                file.clone(),
                "--ruleset".to_owned(),
                path_arg(&configs.join("spectral.yaml")),
                "--fail-severity=warn".to_owned(),
            ],
        ),
        (
            "openapi-spec-validator",
            venv("openapi-spec-validator"),
            vec![file.clone()],
        ),
    ];
    let mut failed = Vec::new();
    for (name, program, args) in linters {
        let out = tokio::task::spawn_blocking(move || {
            Command::new(&program)
                .args(&args)
                .env("REDOCLY_TELEMETRY", "off")
                .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
        })
        .await
        .expect("the linter's thread");
        if !out.status.success() {
            failed.push(format!(
                "--- {name} ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "GET /__admin/openapi.json has problems:\n{}",
        failed.join("\n")
    );
}

#[tokio::test]
async fn admin_openapi_has_an_operation_per_row_of_the_admin_table() {
    let mock = MockServer::start().await;
    let document = admin_document(&mock).await;
    let mut described: Vec<(String, String)> = (document["paths"].as_object())
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("a path item").keys();
            methods.map(|method| (method.to_ascii_uppercase(), path.clone()))
        })
        .collect();
    let mut documented: Vec<(String, String)> =
        table(&mock_doc(), "## Admin API", "| method | path |")
            .iter()
            .map(|cells| {
                let path = code(&cells[1]);
                let path = path.split_once('?').map_or(path.as_str(), |(p, _)| p);
                (code(&cells[0]), path.to_owned())
            })
            .filter(|(_, path)| path != DASHBOARD)
            .collect();
    described.sort();
    documented.sort();
    assert_eq!(
        described, documented,
        "GET /__admin/openapi.json and the admin table of docs/mock.md (but the dashboard) must list the same routes"
    );
    // Each operation says what it answers, from the handler's type.
    let schemas = &document["components"]["schemas"];
    for name in [
        "Matcher",
        "JournalEntry",
        "NearMiss",
        "FaultSettings",
        "Scenario",
    ] {
        assert!(schemas[name].is_object(), "no schema {name}");
    }
    let find = &document["paths"]["/__admin/requests/find"]["post"];
    assert_eq!(
        find["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Matcher"
    );
    assert_eq!(find["operationId"], "find_requests");
    assert_eq!(schemas["Matcher"]["additionalProperties"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_openapi_makes_a_python_client_that_resets_reads_finds_and_counts() {
    let generator = tools::venv_program("openapi-python-client").unwrap_or_else(|e| panic!("{e}"));
    let python = tools::venv_program("python").unwrap_or_else(|e| panic!("{e}"));
    let work = WorkDir::new("admin-python-client");
    let document = document_file(&work).await;
    let generated = run(
        generator,
        vec![
            "generate".to_owned(),
            "--path".to_owned(),
            path_arg(&document),
            "--output-path".to_owned(),
            path_arg(&work.0.join(PYTHON_PACKAGE)),
            "--meta".to_owned(),
            "none".to_owned(),
        ],
    )
    .await;
    succeeded(&generated, "openapi-python-client generate");
    // Types named by place (`ConditionType0`, `DeliveryStateType3`) say nothing to a reader: the
    // document titles the members of a `oneOf` and makes unit enums one enumeration.
    let models = work.0.join(PYTHON_PACKAGE).join("models");
    let mut by_place: Vec<String> = std::fs::read_dir(&models)
        .expect("the generated models")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            let stem = name.trim_end_matches(".py");
            (stem.rsplit_once("_type_")).is_some_and(|(_, n)| n.parse::<u32>().is_ok())
        })
        .collect();
    by_place.sort();
    assert!(
        by_place.is_empty(),
        "openapi-python-client named these types by their place: {by_place:?}"
    );
    for named in ["condition_equals.py", "delivery_state.py", "fail_status.py"] {
        assert!(models.join(named).is_file(), "no model {named}");
    }
    let warnings = String::from_utf8_lossy(&generated.stdout).into_owned()
        + &String::from_utf8_lossy(&generated.stderr);
    assert!(
        !warnings.contains("Warning"),
        "openapi-python-client skipped part of the admin API:\n{warnings}"
    );

    let mock = seeded_mock(|config| config).await;
    // Something for the client's reset to clear.
    let earlier = http()
        .get(mock.url("/v1/getAllVoices"))
        .header("Authorization", KEY);
    assert_eq!(earlier.send().await.expect("a call").status(), 200);
    let given = json!({
        "origin": mock.origin(),
        "base_url": mock.base_url(),
        "key": KEY,
        "audio_url": "https://www.youtube.com/watch?v=jGflUbPQfW8",
    });
    let out = run(
        python,
        vec![
            path_arg(&fixture("admin_client.py")),
            path_arg(&work.0),
            PYTHON_PACKAGE.to_owned(),
            given.to_string(),
        ],
    )
    .await;
    succeeded(&out, "the script using the generated admin client");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "the script printed no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let seqs = |key: &str| -> Vec<u64> {
        (got[key].as_array().expect(key).iter())
            .map(|entry| entry["seq"].as_u64().expect("a seq"))
            .collect()
    };
    assert_eq!(got["reset"], json!({"status": 200, "reset": true}));
    assert_eq!(got["covers"], json!([200, 200]));
    // The journal after the reset: the two Covers, decoded whole by the client's models.
    assert_eq!(seqs("journal"), [1, 2]);
    assert_eq!(got["journal_last"], json!([2]));
    assert_eq!(
        got["journal"],
        serde_json::to_value(mock.state().journal()).expect("JSON")
    );
    assert_eq!(seqs("found"), [1]);
    assert_eq!(
        got["found"][0]["request"]["form"]["fields"][0]["value"],
        "Drake"
    );
    assert_eq!(got["count"], 1);
    assert_eq!(got["count_all"], 2);
    mock.verify(
        Matcher::cover()
            .form("voice_id", "Drake")
            .form("pitch", "3"),
        1,
    );
}

/// The document's schemas as JSON Schema (the spec's conversion), one validator per answer.
struct AnswerSchemas {
    document: Value,
    defs: serde_json::Map<String, Value>,
}

impl AnswerSchemas {
    fn new(document: Value) -> AnswerSchemas {
        let defs = (document["components"]["schemas"].as_object())
            .expect("component schemas")
            .iter()
            .map(|(name, schema)| (name.clone(), openapi_to_json_schema(schema)))
            .collect();
        AnswerSchemas { document, defs }
    }

    /// What is wrong with `body` as the answer `status` of `method template`.
    fn errors(&self, method: &str, template: &str, status: u16, body: &Value) -> Vec<String> {
        let operation = &self.document["paths"][template][method.to_ascii_lowercase()];
        let mut response = &operation["responses"][status.to_string()];
        if let Some(reference) = response["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap_or_default();
            response = &self.document["components"]["responses"][name];
        }
        let schema = &response["content"]["application/json"]["schema"];
        if !schema.is_object() {
            return vec![format!("{method} {template} documents no {status} answer")];
        }
        let mut root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [openapi_to_json_schema(schema)],
        });
        root["$defs"] = Value::Object(self.defs.clone());
        let validator = jsonschema::draft202012::options()
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema of {method} {template} {status}: {e}"));
        validator
            .iter_errors(body)
            .map(|e| format!("{method} {template} {status}: {e} at {}", e.instance_path()))
            .collect()
    }
}

/// Each admin route called (each at least once, on a mock with tasks, webhooks, a scenario and
/// a journal), and each answer held against the schema the document gives for its status.
#[tokio::test]
async fn admin_openapi_describes_every_answer_of_every_route() {
    let mock = seeded_mock(|config| config).await;
    let schemas = AnswerSchemas::new(admin_document(&mock).await);
    let mut tasks = Vec::new();
    for webhook in ["http://refused.example/hook", "http://127.0.0.1:9/hook", ""] {
        let mut form = reqwest::multipart::Form::new()
            .text("voice_id", "Drake")
            .text("audio_url", "https://www.youtube.com/watch?v=jGflUbPQfW8");
        if !webhook.is_empty() {
            form = form.text("webhook_url", webhook);
        }
        let sent = http()
            .post(mock.url("/v1/Cover"))
            .header("Authorization", KEY);
        let answer: Value = (sent
            .multipart(form)
            .send()
            .await
            .expect("a Cover")
            .json()
            .await)
            .expect("JSON");
        tasks.push(answer["task_id"].as_str().expect("a task_id").to_owned());
    }
    let scenario =
        json!({"operation": "cover", "respond": {"fault": "dribble", "bytes_per_second": 64}});
    let calls: Vec<(&str, String, &str, Option<Value>, u16)> = vec![
        ("GET", String::new(), "", None, 200),
        ("GET", "/openapi.json".into(), "/openapi.json", None, 200),
        (
            "POST",
            format!("/tasks/{}/complete", tasks[0]),
            "/tasks/{id}/complete",
            None,
            200,
        ),
        (
            "POST",
            format!("/tasks/{}/fail", tasks[2]),
            "/tasks/{id}/fail",
            Some(json!({"status": "ERROR"})),
            200,
        ),
        (
            "POST",
            format!("/tasks/{}/fail", tasks[2]),
            "/tasks/{id}/fail",
            None,
            409,
        ),
        (
            "POST",
            "/clock/advance".into(),
            "/clock/advance",
            Some(json!({"seconds": 600})),
            200,
        ),
        ("GET", "/journal".into(), "/journal", None, 200),
        ("GET", "/journal?last=1".into(), "/journal", None, 200),
        (
            "POST",
            "/requests/find".into(),
            "/requests/find",
            Some(json!({"operation": "cover"})),
            200,
        ),
        (
            "POST",
            "/requests/find".into(),
            "/requests/find",
            Some(json!({"operaton": "cover"})),
            400,
        ),
        (
            "POST",
            "/requests/count".into(),
            "/requests/count",
            Some(json!({})),
            200,
        ),
        (
            "POST",
            "/requests/near-misses".into(),
            "/requests/near-misses",
            Some(json!({"status": 402})),
            200,
        ),
        ("GET", "/webhooks".into(), "/webhooks", None, 200),
        (
            "GET",
            format!("/webhooks/{}", tasks[0]),
            "/webhooks/{task_id}",
            None,
            200,
        ),
        (
            "GET",
            "/webhooks/none".into(),
            "/webhooks/{task_id}",
            None,
            404,
        ),
        ("GET", "/tasks".into(), "/tasks", None, 200),
        (
            "GET",
            format!("/tasks/{}", tasks[1]),
            "/tasks/{id}",
            None,
            200,
        ),
        ("GET", "/credits".into(), "/credits", None, 200),
        (
            "PUT",
            format!("/credits/{KEY}"),
            "/credits/{key}",
            Some(json!({"credits": 3.5})),
            200,
        ),
        (
            "GET",
            format!("/credits/{KEY}"),
            "/credits/{key}",
            None,
            200,
        ),
        ("GET", "/clock".into(), "/clock", None, 200),
        (
            "PUT",
            "/faults".into(),
            "/faults",
            Some(
                json!({"latency": "1ms..2ms", "fail_rates": [{"operation": "cover", "rate": 0.5, "status": 500}]}),
            ),
            200,
        ),
        ("GET", "/faults".into(), "/faults", None, 200),
        (
            "POST",
            "/scenarios".into(),
            "/scenarios",
            Some(scenario),
            201,
        ),
        ("GET", "/scenarios".into(), "/scenarios", None, 200),
        (
            "DELETE",
            "/scenarios/s1".into(),
            "/scenarios/{id}",
            None,
            200,
        ),
        ("DELETE", "/scenarios".into(), "/scenarios", None, 200),
        ("DELETE", "/journal".into(), "/journal", None, 200),
        ("POST", "/reset".into(), "/reset", None, 200),
    ];
    let mut problems = Vec::new();
    let mut called = Vec::new();
    for (method, path, template, body, status) in calls {
        let method_ = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = http().request(method_, format!("{}{path}", mock.admin_url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("an admin call");
        let got = answer.status().as_u16();
        let answer: Value = answer.json().await.expect("a JSON answer");
        if got != status {
            problems.push(format!(
                "{method} {path}: {got}, expected {status}: {answer}"
            ));
            continue;
        }
        problems.extend(schemas.errors(method, &format!("/__admin{template}"), status, &answer));
        called.push((method.to_owned(), format!("/__admin{template}")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check bites: a clock without its fields, or with a number for a time, is refused.
    let wrong = json!({"now": 1, "frozen": true});
    assert_eq!(
        schemas.errors("GET", "/__admin/clock", 200, &wrong).len(),
        2
    );

    let described: Vec<(String, String)> = (schemas.document["paths"].as_object())
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("a path item").keys();
            methods.map(|method| (method.to_ascii_uppercase(), path.clone()))
        })
        .filter(|operation| !called.contains(operation))
        .collect();
    assert!(
        described.is_empty(),
        "operations of the document this test does not call: {described:?}"
    );
}

/// Examples per operation and phase: about 2000 cases, some 15 s on an idle machine.
const SCHEMATHESIS_EXAMPLES: &str = "40";

/// schemathesis against the admin document as `schemathesis.rs` runs it against openapi.yaml
/// (every check, positive and negative data, all four phases, the same configuration and hooks,
/// a fixed seed), and with nothing left out: every admin route can be run blind (reset, clearing
/// the journal or the scenarios, moving the clock only change this mock's state).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_against_the_admin_api() {
    let program = tools::venv_program("schemathesis").unwrap_or_else(|e| panic!("{e}"));
    let mock = MockServer::builder().seed(SEED).api_key(KEY).start().await;
    let work = WorkDir::new("admin-schemathesis");
    let document = format!("{}/openapi.json", mock.admin_url());
    let args = full_run_args(&[&document], SCHEMATHESIS_EXAMPLES);
    let hooks = package_file("schemathesis_hooks.py");
    let dir = work.0.clone();
    let (success, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_with_deadline(&program, &args, &hooks, &dir))
            .await
            .expect("the schemathesis thread");
    let summary = stdout
        .find("SUMMARY")
        .map_or(stdout.as_str(), |i| &stdout[i..]);
    eprintln!("schemathesis against the admin API:\n{summary}");
    assert!(
        success,
        "schemathesis found the admin document and the mock in disagreement:\n{stdout}\n{stderr}"
    );
    let operations = admin_document(&mock).await["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, serde_json::Map::len))
        .sum::<usize>();
    // schemathesis 4.32.5 leaves out the operation whose URL it loaded the document from
    // (`GET /__admin/openapi.json`: `Selected: 24/24` of 25; it runs when asked for by
    // `--include-operation-id openapi`); every other one must have run.
    let tested = operations - 1;
    assert!(
        summary.contains(&format!("Tested: {tested}")),
        "not every admin operation was tested ({tested} of {operations} expected):\n{summary}"
    );
}

/// A flat body's keys may come in the query string (`read` in `http/admin.rs`): the document
/// says which, and the mock takes them; a body with a required key is required.
#[tokio::test]
async fn admin_openapi_tells_the_query_form_of_flat_bodies() {
    let mock = seeded_mock(|config| config).await;
    let document = admin_document(&mock).await;
    let advance = &document["paths"]["/__admin/clock/advance"]["post"];
    assert_eq!(advance["x-query-keys"], json!(["seconds"]));
    assert_eq!(advance["requestBody"]["required"], true);
    let count = &document["paths"]["/__admin/requests/count"]["post"];
    let keys = count["x-query-keys"]
        .as_array()
        .expect("count's query keys");
    assert!(
        keys.contains(&json!("operation")) && !keys.contains(&json!("form")),
        "{keys:?}"
    );
    assert_eq!(count["requestBody"]["required"], false);
    let matcher = &document["components"]["schemas"]["Matcher"]["properties"];
    assert_eq!(matcher["since"]["format"], "date-time");
    assert_eq!(matcher["before"]["format"], "date-time");
    for (path, want) in [
        ("/clock/advance?seconds=5", "now"),
        ("/requests/count?operation=cover", "count"),
    ] {
        let answer = http()
            .post(format!("{}{path}", mock.admin_url()))
            .send()
            .await
            .expect("a call");
        assert_eq!(answer.status(), 200, "{path}");
        let body: Value = answer.json().await.expect("JSON");
        assert!(body.get(want).is_some(), "{path}: {body}");
    }
}
