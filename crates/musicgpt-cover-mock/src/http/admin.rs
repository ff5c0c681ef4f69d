//! The admin API under `/__admin`: look at and steer the mock (journal, webhooks, tasks, credits,
//! clock, faults and scenarios, reset). Its own requests are not journalled. Request bodies are
//! small JSON objects; a query parameter of the same name works too, so plain `curl -X POST`
//! calls need no body (the fault settings and scenarios take a JSON body only). Every
//! route that changes something takes no body or a JSON object, and refuses anything else (400),
//! a body over [`MAX_BODY`] (413) or one that stalls (408), before it changes anything.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{delete, get, post};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::form::with_causes;
use super::pages::DASHBOARD_PATH as DASHBOARD;
use super::respond::{Segment, error_json, json as json_response};
use super::stall::BodyStalled;
use crate::domain::MockState;
use crate::domain::credits::check_key;
use crate::domain::faults::{parse_scenario, parse_settings};
use crate::domain::tasks::{FinishError, Outcome, TaskView};
use crate::spec::quoted;

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

/// The routes, for the index and the README. The dashboard is a page (served beside the API, not
/// by this router), listed here so that whoever finds the admin API finds the page that drives it
/// too; the proxy serves no pages, and its index leaves that row out.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/__admin", "this index"),
    (
        "GET",
        DASHBOARD,
        "the dashboard: this API as a page, to open in a browser",
    ),
    (
        "GET",
        "/__admin/journal?last=N",
        "requests received (bounded ring, oldest first)",
    ),
    ("DELETE", "/__admin/journal", "empty the journal"),
    (
        "GET",
        "/__admin/webhooks",
        "webhook deliveries with every attempt, and totals (due, pending, delivered, failed, refused)",
    ),
    (
        "GET",
        "/__admin/webhooks/{task_id}",
        "the webhook delivery of one task",
    ),
    ("GET", "/__admin/tasks", "tasks with their current status"),
    (
        "GET",
        "/__admin/tasks/{id}",
        "one task, by task_id or conversion_id",
    ),
    (
        "POST",
        "/__admin/tasks/{id}/complete",
        "complete a task now (sends its webhook)",
    ),
    (
        "POST",
        "/__admin/tasks/{id}/fail",
        "fail a task now; body {\"status\": \"FAILED\"|\"ERROR\"}",
    ),
    ("GET", "/__admin/credits", "balances of all keys"),
    ("GET", "/__admin/credits/{key}", "balance of one key"),
    (
        "PUT",
        "/__admin/credits/{key}",
        "set a balance; body {\"credits\": 12.5}",
    ),
    ("GET", "/__admin/clock", "virtual time now, frozen or not"),
    (
        "POST",
        "/__admin/clock/advance",
        "move the clock; body {\"seconds\": 30}",
    ),
    (
        "GET",
        "/__admin/faults",
        "fault settings: latency and failure rates",
    ),
    (
        "PUT",
        "/__admin/faults",
        "replace them; body {\"latency\": \"200ms..1.5s\", \"fail_rates\": [{\"operation\": \"cover\", \"rate\": 0.2, \"status\": 500}]}",
    ),
    (
        "GET",
        "/__admin/scenarios",
        "one-shot scenarios waiting, in the order they apply",
    ),
    (
        "POST",
        "/__admin/scenarios",
        "add one; body {\"operation\": \"cover\", \"times\": 1, \"respond\": {\"status\": 402} | {\"delay_ms\": 3000} | {\"fault\": \"close\"|\"reset\"|\"truncate\"|\"dribble\"|\"unavailable\"}, \"retry_after\": 2}",
    ),
    ("DELETE", "/__admin/scenarios", "remove every scenario"),
    ("DELETE", "/__admin/scenarios/{id}", "remove one scenario"),
    (
        "POST",
        "/__admin/reset",
        "back to the start state (fault settings too, no scenarios)",
    ),
];

/// The admin API; `with_pages` when the server also serves the pages (the mock, not the proxy), so
/// that the index names the dashboard only where it is.
pub(crate) fn router(with_pages: bool) -> Router<MockState> {
    Router::new()
        .route(
            "/",
            get(move |state: State<MockState>| index(state, with_pages)),
        )
        .route("/journal", get(journal).delete(clear_journal))
        .route("/webhooks", get(webhooks))
        .route("/webhooks/{task_id}", get(webhook))
        .route("/tasks", get(tasks))
        .route("/tasks/{id}", get(task))
        .route("/tasks/{id}/complete", post(complete))
        .route("/tasks/{id}/fail", post(fail))
        .route("/credits", get(credits))
        .route("/credits/{key}", get(key_credits).put(set_credits))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/faults", get(faults).put(set_faults))
        .route(
            "/scenarios",
            get(scenarios).post(add_scenario).delete(clear_scenarios),
        )
        .route("/scenarios/{id}", delete(remove_scenario))
        .route("/reset", post(reset))
}

fn ok<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => error_json(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn bad(text: &str) -> Response {
    error_json(StatusCode::BAD_REQUEST, text)
}

/// The body of a call that changes something: nothing (or only whitespace), or a JSON object.
/// `Err` is the answer to send instead: 413 over [`MAX_BODY`], 408 when it stalls (and the
/// connection closes), 400 for anything but a JSON object.
async fn body_object(body: Body) -> Result<Option<Map<String, Value>>, Response> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(piece) = stream.next().await {
        let chunk = match piece {
            Ok(chunk) => chunk,
            Err(e) => {
                let Some(stalled) = BodyStalled::find(&e) else {
                    return Err(bad(&format!(
                        "reading the body failed: {}",
                        with_causes(&e)
                    )));
                };
                let mut response = error_json(StatusCode::REQUEST_TIMEOUT, &stalled.to_string());
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                return Err(response);
            }
        };
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(error_json(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the body is over {MAX_BODY} bytes; an admin call takes a small JSON object"
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(other) => Err(bad(&format!(
            "the body must be a JSON object (or nothing), got {}",
            quoted(&other.to_string())
        ))),
        Err(e) => Err(bad(&format!(
            "the body is not JSON: {e}; send a JSON object (or nothing)"
        ))),
    }
}

/// One named value from the JSON body or, failing that, the query string.
async fn input(body: Body, query: Option<&str>, name: &str) -> Result<Option<Value>, Response> {
    if let Some(value) = body_object(body)
        .await?
        .and_then(|mut map| map.remove(name))
    {
        return Ok(Some(value));
    }
    Ok(form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| {
            v.parse::<f64>()
                .map_or_else(|_| Value::String(v.into_owned()), |n| json!(n))
        }))
}

/// The 400 for a key named in a path that [`check_key`] does not allow, saying why.
fn bad_key(key: &str) -> Option<Response> {
    check_key(key.as_bytes())
        .err()
        .map(|why| bad(&format!("{why}; no request can send this key")))
}

async fn index(State(state): State<MockState>, with_pages: bool) -> Response {
    let routes: Vec<Value> = ROUTES
        .iter()
        .filter(|(_, path, _)| with_pages || *path != DASHBOARD)
        .map(|(m, p, what)| json!({ "method": m, "path": p, "what": what }))
        .collect();
    ok(&json!({
        "routes": routes,
        "now": state.now(),
        "clock_frozen": state.clock_frozen(),
        "tasks": state.task_count(),
    }))
}

async fn journal(State(state): State<MockState>, RawQuery(q): RawQuery) -> Response {
    let last = form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "last")
        .map(|(_, v)| v.parse::<usize>());
    match last {
        None => json_response(StatusCode::OK, state.journal_json(None)),
        Some(Ok(n)) => json_response(StatusCode::OK, state.journal_json(Some(n))),
        Some(Err(_)) => bad("last must be a whole number"),
    }
}

async fn clear_journal(State(state): State<MockState>, body: Body) -> Response {
    if let Err(refused) = body_object(body).await {
        return refused;
    }
    state.clear_journal();
    ok(&json!({ "cleared": true }))
}

async fn webhooks(State(state): State<MockState>) -> Response {
    ok(&json!({
        "totals": state.webhook_totals(),
        "deliveries": state.webhook_deliveries(),
    }))
}

async fn webhook(State(state): State<MockState>, Segment(task_id): Segment) -> Response {
    match state.webhook_delivery(&task_id) {
        Some(d) => ok(&d),
        None => error_json(
            StatusCode::NOT_FOUND,
            &format!("no webhook delivery for task {task_id}"),
        ),
    }
}

async fn tasks(State(state): State<MockState>) -> Response {
    ok(&json!({ "tasks": state.tasks() }))
}

async fn task(State(state): State<MockState>, Segment(id): Segment) -> Response {
    match state.task(&id) {
        Some(t) => ok(&t),
        None => error_json(StatusCode::NOT_FOUND, &format!("no task has id {id}")),
    }
}

fn finished(result: Result<TaskView, FinishError>, id: &str) -> Response {
    match result {
        Ok(t) => ok(&t),
        Err(FinishError::NotFound) => {
            error_json(StatusCode::NOT_FOUND, &format!("no task has id {id}"))
        }
        Err(e @ FinishError::AlreadyFinal(_)) => error_json(StatusCode::CONFLICT, &e.to_string()),
    }
}

async fn complete(State(state): State<MockState>, Segment(id): Segment, body: Body) -> Response {
    if let Err(refused) = body_object(body).await {
        return refused;
    }
    finished(state.complete_task(&id), &id)
}

async fn fail(
    State(state): State<MockState>,
    Segment(id): Segment,
    RawQuery(q): RawQuery,
    body: Body,
) -> Response {
    let status = match input(body, q.as_deref(), "status").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let outcome = match status.as_ref().map(|v| v.as_str().and_then(Outcome::parse)) {
        None => Outcome::Failed,
        Some(Some(o)) if o != Outcome::Completed => o,
        Some(_) => return bad("status must be \"FAILED\" or \"ERROR\""),
    };
    finished(state.finish_task(&id, outcome), &id)
}

async fn credits(State(state): State<MockState>) -> Response {
    let keys: Vec<Value> = state
        .all_credits()
        .into_iter()
        .map(|(key, credits)| json!({ "key": key, "credits": credits }))
        .collect();
    ok(&json!({
        "restricted": state.restricted(),
        "default_credits": state.default_credits(),
        "keys": keys,
    }))
}

async fn key_credits(State(state): State<MockState>, Segment(key): Segment) -> Response {
    if let Some(refused) = bad_key(&key) {
        return refused;
    }
    match state.credits(&key) {
        Some(credits) => ok(&json!({ "key": key, "credits": credits })),
        None => error_json(
            StatusCode::NOT_FOUND,
            &format!("key {key:?} is not accepted"),
        ),
    }
}

async fn set_credits(
    State(state): State<MockState>,
    Segment(key): Segment,
    RawQuery(q): RawQuery,
    body: Body,
) -> Response {
    if let Some(refused) = bad_key(&key) {
        return refused;
    }
    let credits = match input(body, q.as_deref(), "credits").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match credits.as_ref().and_then(Value::as_f64) {
        Some(c) if c.is_finite() && c >= 0.0 => {
            state.set_credits(&key, c);
            ok(&json!({ "key": key, "credits": state.credits(&key) }))
        }
        _ => bad("give {\"credits\": N} with N a number of at least 0"),
    }
}

async fn clock(State(state): State<MockState>) -> Response {
    ok(&json!({
        "now": state.now(),
        "frozen": state.clock_frozen(),
        "time_scale": state.config().time_scale,
    }))
}

async fn advance(State(state): State<MockState>, RawQuery(q): RawQuery, body: Body) -> Response {
    let seconds = match input(body, q.as_deref(), "seconds").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match seconds.as_ref().and_then(Value::as_f64) {
        Some(s) if s.is_finite() && (0.0..=1e9).contains(&s) => {
            let now = state.advance_clock(Duration::from_secs_f64(s));
            ok(&json!({ "now": now }))
        }
        _ => bad("give {\"seconds\": N} with N a number from 0 to 1e9"),
    }
}

async fn reset(State(state): State<MockState>, body: Body) -> Response {
    if let Err(refused) = body_object(body).await {
        return refused;
    }
    state.reset();
    ok(&json!({ "reset": true, "now": state.now() }))
}

async fn faults(State(state): State<MockState>) -> Response {
    ok(&state.faults())
}

async fn set_faults(State(state): State<MockState>, body: Body) -> Response {
    let body = match body_object(body).await {
        Ok(Some(map)) => map,
        Ok(None) => {
            return bad(
                "give the settings: {\"latency\": \"200ms..1.5s\" | null, \"fail_rates\": [{\"operation\": \"cover\", \"rate\": 0.2, \"status\": 500}]}",
            );
        }
        Err(r) => return r,
    };
    let settings = match parse_settings(&body) {
        Ok(s) => s,
        Err(e) => return bad(&e.to_string()),
    };
    match state.set_faults(settings) {
        Ok(()) => ok(&state.faults()),
        Err(e) => bad(&e.to_string()),
    }
}

async fn scenarios(State(state): State<MockState>) -> Response {
    ok(&state.scenarios())
}

async fn add_scenario(State(state): State<MockState>, body: Body) -> Response {
    let body = match body_object(body).await {
        Ok(Some(map)) => map,
        Ok(None) => {
            return bad(
                "give the scenario: {\"operation\": \"cover\", \"times\": 1, \"respond\": {\"status\": 402}}",
            );
        }
        Err(r) => return r,
    };
    let new = match parse_scenario(&body) {
        Ok(n) => n,
        Err(e) => return bad(&e.to_string()),
    };
    match state.add_scenario(new) {
        Ok(scenario) => match serde_json::to_vec(&scenario) {
            Ok(body) => json_response(StatusCode::CREATED, body),
            Err(e) => error_json(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Err(e) => bad(&e.to_string()),
    }
}

async fn clear_scenarios(State(state): State<MockState>, body: Body) -> Response {
    if let Err(refused) = body_object(body).await {
        return refused;
    }
    state.clear_scenarios();
    ok(&json!({ "cleared": true }))
}

async fn remove_scenario(
    State(state): State<MockState>,
    Segment(id): Segment,
    body: Body,
) -> Response {
    if let Err(refused) = body_object(body).await {
        return refused;
    }
    if state.remove_scenario(&id) {
        ok(&json!({ "removed": id }))
    } else {
        error_json(
            StatusCode::NOT_FOUND,
            &format!("no scenario has id {}", quoted(&id)),
        )
    }
}
