//! The admin API under `/__admin`: look at and steer the mock (journal, webhooks, tasks, credits,
//! clock, reset). Its own requests are not journalled. Request bodies are small JSON objects; a
//! query parameter of the same name works too, so plain `curl -X POST` calls need no body.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};

use super::respond::{error_json, json as json_response};
use crate::domain::MockState;
use crate::domain::tasks::{FinishError, Outcome, TaskView};

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

/// The routes, for the index and the README.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/__admin", "this index"),
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
    ("POST", "/__admin/reset", "back to the start state"),
];

pub(crate) fn router() -> Router<MockState> {
    Router::new()
        .route("/", get(index))
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

/// One named value from the JSON body or, failing that, the query string.
async fn input(body: Body, query: Option<&str>, name: &str) -> Result<Option<Value>, Response> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        bad(&format!(
            "the body must be a JSON object under {MAX_BODY} bytes"
        ))
    })?;
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| bad(&format!("the body is not JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(bad(&format!(
                "the body must be a JSON object such as {{\"{name}\": ...}}"
            )));
        };
        if let Some(v) = map.get(name) {
            return Ok(Some(v.clone()));
        }
    }
    Ok(form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| {
            v.parse::<f64>()
                .map_or_else(|_| Value::String(v.into_owned()), |n| json!(n))
        }))
}

async fn index(State(state): State<MockState>) -> Response {
    let routes: Vec<Value> = ROUTES
        .iter()
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

async fn clear_journal(State(state): State<MockState>) -> Response {
    state.clear_journal();
    ok(&json!({ "cleared": true }))
}

async fn webhooks(State(state): State<MockState>) -> Response {
    ok(&json!({
        "totals": state.webhook_totals(),
        "deliveries": state.webhook_deliveries(),
    }))
}

async fn webhook(State(state): State<MockState>, Path(task_id): Path<String>) -> Response {
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

async fn task(State(state): State<MockState>, Path(id): Path<String>) -> Response {
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

async fn complete(State(state): State<MockState>, Path(id): Path<String>) -> Response {
    finished(state.complete_task(&id), &id)
}

async fn fail(
    State(state): State<MockState>,
    Path(id): Path<String>,
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

async fn key_credits(State(state): State<MockState>, Path(key): Path<String>) -> Response {
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
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
    body: Body,
) -> Response {
    let credits = match input(body, q.as_deref(), "credits").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match credits.as_ref().and_then(Value::as_f64) {
        Some(c) if c.is_finite() && c >= 0.0 && !key.trim().is_empty() => {
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

async fn reset(State(state): State<MockState>) -> Response {
    state.reset();
    ok(&json!({ "reset": true, "now": state.now() }))
}
