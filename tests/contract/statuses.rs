//! Every documented status of every operation, walked from openapi.yaml: the mock is driven to
//! answer it (a real scenario where the mock has one, `Prefer: code=` otherwise), its answer is
//! checked against the spec's schema for that status and snapshotted, and the generated client
//! is shown to decode the same answer into `Ok` or the `ApiError` variant the status promises.

use std::collections::BTreeSet;

use musicgpt_cover::builder::Cover;
use musicgpt_cover_contract_tests::schema::SchemaCheck;
use musicgpt_cover_mock::MockConfig;
use serde_json::{Value, json};

use crate::calls::{Call, ClientOutcome, File, Inputs, inputs, valid_call};
use crate::common::{
    Key, assert_none, expected_variant, same_json, seeded_mock, snapshot_settings, soft_snapshot,
    spec,
};

/// How one documented status is produced.
struct Scenario {
    op: String,
    status: u16,
    /// Told apart in the snapshot name when one status has several scenarios.
    variant: Option<&'static str>,
    how: String,
    config: fn(MockConfig) -> MockConfig,
    /// A Cover sent first (raw); its `task_id` fills `{task_id}` in the call.
    setup: Option<Call>,
    call: Call,
}

impl Scenario {
    fn new(op: &str, status: u16, how: impl Into<String>, call: Call) -> Scenario {
        Scenario {
            op: op.to_owned(),
            status,
            variant: None,
            how: how.into(),
            config: |c| c,
            setup: None,
            call,
        }
    }

    fn variant(mut self, name: &'static str) -> Scenario {
        self.variant = Some(name);
        self
    }

    fn config(mut self, config: fn(MockConfig) -> MockConfig) -> Scenario {
        self.config = config;
        self
    }

    fn setup(mut self, setup: Call) -> Scenario {
        self.setup = Some(setup);
        self
    }

    fn snapshot_name(&self) -> String {
        match self.variant {
            Some(v) => format!("status__{}__{}__{v}", self.op, self.status),
            None => format!("status__{}__{}", self.op, self.status),
        }
    }
}

/// The statuses the mock produces by itself, from what a client does.
fn real_scenarios(inputs: &Inputs) -> Vec<Scenario> {
    let spec = spec();
    let pitch_max = spec
        .schema("CoverRequest")
        .pointer("/properties/pitch/maximum")
        .and_then(Value::as_i64)
        .expect("pitch has a maximum");
    // The mock's own bound (`x-mock`), which the client does not enforce: the 400 comes from
    // the mock through the client as well.
    let limit_min = spec
        .parameter(spec.operation("getAllVoices"), "limit")
        .and_then(|p| p.pointer("/schema/x-mock/minimum"))
        .and_then(Value::as_i64)
        .expect("the mock bounds limit from below");
    let cover = || valid_call("cover", inputs).1;
    let song = |len: usize| File {
        name: "audio_file",
        bytes: vec![0x55; len],
        file_name: "song.mp3",
        content_type: "audio/mpeg",
    };
    let mut scenarios = vec![
        Scenario::new("cover", 200, "a valid form with audio_url", cover()),
        Scenario::new(
            "cover",
            400,
            "an audio_url the API cannot download (its host is under .invalid)",
            Call::new("cover")
                .pair("voice_id", &inputs.voice_id)
                .pair("audio_url", "https://song.invalid/x.mp3"),
        ),
        Scenario::new(
            "cover",
            402,
            "the key's balance (0 credits) is below the estimate",
            cover(),
        )
        .config(|c| c.funded_api_key(crate::common::KEY, 0.0)),
        Scenario::new(
            "cover",
            413,
            "a 4 KiB audio_file where the mock allows 1 KiB",
            Call::new("cover")
                .pair("voice_id", &inputs.voice_id)
                .file(song(4096)),
        )
        .config(|c| c.max_upload_bytes(1024)),
        Scenario::new(
            "cover",
            422,
            "neither audio_url nor audio_file",
            Call::new("cover").pair("voice_id", &inputs.voice_id),
        ),
        Scenario::new(
            "cover",
            422,
            format!("pitch {} (one above the maximum)", pitch_max + 1),
            Call::new("cover")
                .pair("voice_id", &inputs.voice_id)
                .pair("audio_url", &inputs.audio_url)
                .pair("pitch", (pitch_max + 1).to_string()),
        )
        .variant("pitch_out_of_range"),
        Scenario::new(
            "cover",
            422,
            "no voice_id (required)",
            Call::new("cover").pair("audio_url", &inputs.audio_url),
        )
        .variant("missing_voice_id"),
        Scenario::new(
            "getConversionById",
            200,
            "the task_id of a Cover just accepted (IN_QUEUE)",
            valid_call("getConversionById", inputs).1,
        )
        .setup(cover()),
        Scenario::new(
            "getConversionById",
            400,
            "both task_id and conversion_id",
            Call::new("getConversionById")
                .pair("conversionType", &inputs.conversion_type)
                .pair("task_id", &inputs.unknown_task_id)
                .pair("conversion_id", &inputs.unknown_conversion_id),
        ),
        Scenario::new(
            "getConversionById",
            400,
            "neither task_id nor conversion_id",
            Call::new("getConversionById").pair("conversionType", &inputs.conversion_type),
        )
        .variant("no_id"),
        Scenario::new(
            "getConversionById",
            404,
            "a task_id no conversion has",
            Call::new("getConversionById")
                .pair("conversionType", &inputs.conversion_type)
                .pair("task_id", &inputs.unknown_task_id),
        ),
        Scenario::new(
            "getConversionById",
            404,
            "a task_id that is not a UUID (the docs' own placeholder): ids are plain strings, \
             so it is sent and simply not found",
            Call::new("getConversionById")
                .pair("conversionType", &inputs.conversion_type)
                .pair("task_id", "12345678-abcd-1234-efgh-567890abcdef"),
        )
        .variant("not_a_uuid"),
        Scenario::new(
            "getAllVoices",
            200,
            "page 1 of 5 voices",
            valid_call("getAllVoices", inputs).1,
        ),
        Scenario::new(
            "getAllVoices",
            400,
            format!("limit {} (below the mock's own minimum)", limit_min - 1),
            Call::new("getAllVoices").pair("limit", (limit_min - 1).to_string()),
        ),
        Scenario::new(
            "searchVoices",
            200,
            "the spec's example query",
            valid_call("searchVoices", inputs).1,
        ),
        Scenario::new(
            "searchVoices",
            400,
            "no query (required)",
            Call::new("searchVoices").pair("limit", "5"),
        ),
        Scenario::new(
            "searchVoices",
            400,
            "an empty query (the mock's own minLength; the client sends it)",
            Call::new("searchVoices").pair("query", ""),
        )
        .variant("empty_query"),
    ];
    // Authentication works alike for every operation.
    for op in spec.operations() {
        let op = op.id.as_str();
        let (setup, call) = valid_call(op, inputs);
        let mut missing = Scenario::new(
            op,
            401,
            "no Authorization header",
            call.clone().key(Key::Missing),
        );
        let mut refused = Scenario::new(
            op,
            403,
            "a key the mock does not accept (it accepts only the suite's key)",
            call.key(Key::Refused),
        )
        .config(|c| c.api_key(crate::common::KEY));
        if let Some(setup) = setup {
            missing = missing.setup(setup.clone());
            refused = refused.setup(setup);
        }
        scenarios.push(missing);
        scenarios.push(refused);
    }
    scenarios
}

/// What one scenario showed: the snapshot value and the problems found.
async fn run(scenario: &Scenario, inputs: &Inputs, problems: &mut Vec<String>) -> Value {
    let spec = spec();
    let op = spec.operation(&scenario.op);
    let name = scenario.snapshot_name();
    let documented = op
        .response(scenario.status)
        .expect("scenarios target documented statuses");

    // The mock's own answer, raw.
    let mock = seeded_mock(scenario.config).await;
    let task_id = setup(scenario, &mock).await;
    let call = scenario.call.with_task_id(task_id.as_deref());
    let answer = call.send_raw(&mock).await;
    if answer.status != scenario.status {
        problems.push(format!(
            "{name}: the mock answered {} instead of {}: {}",
            answer.status, scenario.status, answer.body
        ));
    }
    match answer.media_type() {
        Some(media) if documented.media_types.iter().any(|m| m == media) => {}
        other => problems.push(format!(
            "{name}: content type {other:?} is not documented ({:?})",
            documented.media_types
        )),
    }
    if !answer.is_json {
        problems.push(format!("{name}: the body is not JSON: {}", answer.body));
    }
    match documented
        .schema
        .as_ref()
        .map(|s| SchemaCheck::new(spec, s))
    {
        Some(Ok(check)) => {
            for error in check.errors(&answer.body) {
                problems.push(format!(
                    "{name}: the mock's body breaks the spec's schema at {error}"
                ));
            }
        }
        Some(Err(e)) => problems.push(format!("{name}: {e}")),
        None => problems.push(format!("{name}: the spec documents no JSON schema for it")),
    }
    if let Some(prefer) = &call.prefer {
        let first = documented.examples.first().map(|(_, v)| v);
        if first != Some(&answer.body) {
            problems.push(format!(
                "{name}: `Prefer: {prefer}` did not replay the first documented example {first:?}: {}",
                answer.body
            ));
        }
    }
    drop(mock);

    // The same call through the generated client, on a mock in the same state.
    let mock = seeded_mock(scenario.config).await;
    let task_id = setup(scenario, &mock).await;
    let call = scenario.call.with_task_id(task_id.as_deref());
    let client = match call.send_client(mock.base_url()).await {
        Ok(outcome) => {
            check_outcome(&name, scenario.status, &outcome, &answer.body, problems);
            json!(outcome)
        }
        Err(refused) => {
            // The typed client will not send what the spec forbids; what the user gets for this
            // status is shown with `Prefer: code=`, which the mock answers with the example.
            let (setup_call, valid) = valid_call(&scenario.op, inputs);
            let mock = seeded_mock(|c| c).await;
            let task_id = match setup_call {
                Some(setup) => task_of(&setup.send_raw(&mock).await.body),
                None => None,
            };
            let prefer = format!("code={}", scenario.status);
            let valid = valid.with_task_id(task_id.as_deref()).prefer(&prefer);
            let example = documented
                .examples
                .first()
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null);
            match valid.send_client(mock.base_url()).await {
                Ok(outcome) => {
                    check_outcome(&name, scenario.status, &outcome, &example, problems);
                    json!({ "refused_before_sending": refused, "with_prefer": prefer, "outcome": outcome })
                }
                Err(why) => {
                    problems.push(format!(
                        "{name}: the client refused a valid call too: {why}"
                    ));
                    json!({ "refused_before_sending": refused })
                }
            }
        }
    };
    json!({
        "how": scenario.how,
        "call": call.summary(),
        "mock": answer,
        "client": client,
    })
}

async fn setup(scenario: &Scenario, mock: &musicgpt_cover_mock::MockServer) -> Option<String> {
    let setup = scenario.setup.as_ref()?;
    let answer = setup.send_raw(mock).await;
    let id = task_of(&answer.body);
    assert!(
        id.is_some(),
        "the setup Cover was not accepted: {}",
        answer.body
    );
    id
}

fn task_of(body: &Value) -> Option<String> {
    body.get("task_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The client must see the documented status, decode exactly the body the mock sent, and map an
/// error status to its typed variant.
pub(crate) fn check_outcome(
    name: &str,
    status: u16,
    outcome: &ClientOutcome,
    body: &Value,
    problems: &mut Vec<String>,
) {
    if outcome.status() != Some(status) {
        problems.push(format!(
            "{name}: the client reports status {:?}, not {status}: {outcome:?}",
            outcome.status()
        ));
    }
    if !same_json(outcome.body(), body) {
        problems.push(format!(
            "{name}: the client's decoded value {} differs from the body {body}",
            outcome.body()
        ));
    }
    match outcome {
        ClientOutcome::Ok { .. } if status >= 300 => {
            problems.push(format!("{name}: the client returned Ok for {status}"));
        }
        ClientOutcome::Err { error, .. } => {
            let got = error["variant"].as_str().unwrap_or_default();
            match expected_variant(status) {
                Some(want) if want == got => {}
                Some(want) => problems.push(format!("{name}: ApiError::{got}, expected ApiError::{want}")),
                None => problems.push(format!(
                    "{name}: status {status} is documented but the client has no typed error for it (got ApiError::{got})"
                )),
            }
        }
        ClientOutcome::Ok { .. } => {}
    }
}

#[tokio::test]
async fn every_documented_status_of_every_operation() {
    let spec = spec();
    let inputs = inputs();
    let real = real_scenarios(&inputs);
    let mut problems = Vec::new();
    for scenario in &real {
        let documented = spec
            .operations()
            .iter()
            .any(|op| op.id == scenario.op && op.response(scenario.status).is_some());
        if !documented {
            problems.push(format!(
                "{}: the mock produces {} ({}) but openapi.yaml does not document it",
                scenario.op, scenario.status, scenario.how
            ));
        }
    }

    let mut scenarios: Vec<Scenario> = Vec::new();
    for op in spec.operations() {
        for status in op.statuses() {
            let mut found = false;
            for scenario in real.iter().filter(|s| s.op == op.id && s.status == status) {
                found = true;
                scenarios.push(Scenario {
                    op: scenario.op.clone(),
                    status,
                    variant: scenario.variant,
                    how: scenario.how.clone(),
                    config: scenario.config,
                    setup: scenario.setup.clone(),
                    call: scenario.call.clone(),
                });
            }
            if !found {
                let (setup, call) = valid_call(&op.id, &inputs);
                let mut scenario = Scenario::new(
                    &op.id,
                    status,
                    "the mock has no scenario of its own: `Prefer: code=` asks for it",
                    call.prefer(format!("code={status}")),
                );
                if let Some(setup) = setup {
                    scenario = scenario.setup(setup);
                }
                scenarios.push(scenario);
            }
        }
    }

    let settings = snapshot_settings();
    let mut asserted = BTreeSet::new();
    for scenario in &scenarios {
        let value = run(scenario, &inputs, &mut problems).await;
        let name = scenario.snapshot_name();
        if let Some(failure) = soft_snapshot(|| {
            settings.bind(|| insta::assert_yaml_snapshot!(name.clone(), value));
        }) {
            problems.push(format!("{name}: snapshot: {failure}"));
        }
        asserted.insert(format!("contract__statuses__{name}.snap"));
    }
    problems.extend(stale_snapshots("contract__statuses__status__", &asserted));
    assert_none(&problems, "documented statuses");
}

/// Snapshot files of this walk that no scenario asserted: a status the spec stopped documenting.
pub(crate) fn stale_snapshots(prefix: &str, asserted: &BTreeSet<String>) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract/snapshots");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".snap") && !asserted.contains(n))
        .map(|n| {
            format!(
                "snapshot {n} was not produced: openapi.yaml no longer documents that status (or the \
                 scenario was renamed); delete the file if that is intended"
            )
        })
        .collect()
}

/// Every named example of every documented response: valid against its own schema, replayed
/// byte for byte by the mock with `Prefer: example=`, decoded by the client to the same value.
/// The replayed bodies are snapshotted, so a changed example shows up in review.
#[tokio::test]
async fn every_named_example_is_replayed_valid_and_decoded() {
    let spec = spec();
    let inputs = inputs();
    let mut problems = Vec::new();
    let mut replayed = serde_json::Map::new();
    for op in spec.operations() {
        for response in &op.responses {
            let check = response
                .schema
                .as_ref()
                .map(|s| SchemaCheck::new(spec, s).expect("the schema compiles"));
            for (name, example) in &response.examples {
                let at = format!("{} {} {name}", op.id, response.status);
                if let Some(check) = &check {
                    for error in check.errors(example) {
                        problems.push(format!(
                            "{at}: the spec's own example breaks its schema at {error}"
                        ));
                    }
                }
                let (setup, call) = valid_call(&op.id, &inputs);
                let prefer = format!("example={name}");
                let mock = seeded_mock(|c| c).await;
                let task_id = match &setup {
                    Some(s) => task_of(&s.send_raw(&mock).await.body),
                    None => None,
                };
                let call = call.with_task_id(task_id.as_deref()).prefer(&prefer);
                let answer = call.send_raw(&mock).await;
                if answer.status != response.status || &answer.body != example {
                    problems.push(format!(
                        "{at}: `Prefer: {prefer}` gave {} {} instead of the example",
                        answer.status, answer.body
                    ));
                }
                match call.send_client(mock.base_url()).await {
                    Ok(outcome) => {
                        check_outcome(&at, response.status, &outcome, example, &mut problems);
                    }
                    Err(why) => problems.push(format!("{at}: {why}")),
                }
                replayed.insert(at, json!({ "status": answer.status, "body": answer.body }));
            }
        }
    }
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("documented_examples", replayed));
    assert_none(&problems, "documented examples");
}

#[test]
fn the_cover_form_constants_are_the_spec_bounds() {
    let pitch = spec()
        .schema("CoverRequest")
        .pointer("/properties/pitch")
        .expect("the form has pitch");
    let bound = |key: &str| pitch.get(key).and_then(Value::as_i64);
    assert_eq!(Some(Cover::PITCH_MIN), bound("minimum"), "pitch minimum");
    assert_eq!(Some(Cover::PITCH_MAX), bound("maximum"), "pitch maximum");
    assert_eq!(
        Some(Cover::PITCH_DEFAULT),
        bound("default"),
        "pitch default"
    );
}
