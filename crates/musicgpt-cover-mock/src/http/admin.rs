//! The admin API under `/__admin`: look at and steer the mock (journal, webhooks, tasks, credits,
//! clock, faults and scenarios, reset). Its own requests are not journalled.
//!
//! Each route is one row of [`routes`]: method, path, a line of doc and the handler, whose
//! signature names what the route reads (an [`Input`]) and answers (a [`Reply`]). The router, the
//! index at `GET /__admin`, the OpenAPI document at `GET /__admin/openapi.json` (`openapi`: the
//! handler's name is the operationId, the bodies' schemas come from their types) and, through
//! the index, the contract suite's check of `docs/mock.md` are made from the rows.
//!
//! A route that changes something takes no body or a JSON object, and refuses anything else
//! (400), a body over [`MAX_BODY`] (413) or one that stalls (408), before it changes anything.
//! serde reads the object into the route's input type; a flat input's values may come as query
//! parameters instead, so plain `curl -X POST` calls need no body (the fault settings and
//! scenarios take a JSON body only).

mod openapi;

use std::future::Future;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Json, Router};
use futures::StreamExt;
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::Schema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::pages::DASHBOARD_PATH;
use super::respond::{Segment, closing, error_json, json, with_causes};
use super::stall::BodyStalled;
use crate::domain::MockState;
use crate::domain::credits::check_key;
use crate::domain::faults::{FaultKind, FaultSettings, NewScenario, Scenario};
use crate::domain::journal::JournalEntry;
use crate::domain::matching::{Matcher, NEAR_MISSES, NearMiss};
use crate::domain::tasks::{FinishError, Outcome, TaskView};
use crate::domain::webhooks::{WebhookDelivery, WebhookTotals};
use crate::spec::quoted;

/// `/__admin`, the admin API's prefix, written once: `admin_path!()` is it, and
/// `admin_path!("/ui")` a path under it made at compile time.
macro_rules! admin_path {
    () => {
        "/__admin"
    };
    ($rest:literal) => {
        concat!("/__admin", $rest)
    };
}
pub(crate) use admin_path;

/// Where the admin API is served: every admin route is under it.
pub const ADMIN_PATH: &str = admin_path!();

/// The path of every admin route (`{id}` left as it is), and the dashboard's.
#[cfg(test)]
pub(crate) fn paths() -> Vec<String> {
    let mut paths: Vec<String> = (routes().iter()).map(Route::full_path).collect();
    paths.push(DASHBOARD_PATH.to_owned());
    paths
}

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

/// The status of an answer to a task that is already final.
const ALREADY_FINAL: StatusCode = StatusCode::CONFLICT;

/// The admin API, each route declared once. A new endpoint is a row here, its handler below and,
/// when it needs one, a method of [`MockState`].
#[rustfmt::skip]
fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(M::GET,    "/",                    index,           "this index"),
        Route::new(M::GET,    "/openapi.json",        openapi,         "this API as an OpenAPI 3.0 document"),
        Route::new(M::GET,    "/journal",             journal,         "requests received (bounded ring, oldest first)"),
        Route::new(M::DELETE, "/journal",             clear_journal,   "empty the journal"),
        Route::new(M::POST,   "/requests/find",       find_requests,   "the journalled requests a matcher picks, oldest first"),
        Route::new(M::POST,   "/requests/count",      count_requests,  "how many journalled requests a matcher picks"),
        Route::new(M::POST,   "/requests/near-misses", near_misses,    "the journalled requests nearest to a matcher that it does not pick, with the conditions each failed"),
        Route::new(M::GET,    "/webhooks",            webhooks,        "webhook deliveries with every attempt, and totals (due, pending, delivered, failed, refused)"),
        Route::new(M::GET,    "/webhooks/{task_id}",  webhook,         "the webhook delivery of one task"),
        Route::new(M::GET,    "/tasks",               tasks,           "tasks with their current status"),
        Route::new(M::GET,    "/tasks/{id}",          task,            "one task, by task_id or conversion_id"),
        Route::new(M::POST,   "/tasks/{id}/complete", complete,        "complete a task now (sends its webhook)").or(ALREADY_FINAL),
        Route::new(M::POST,   "/tasks/{id}/fail",     fail,            "fail a task now").or(ALREADY_FINAL),
        Route::new(M::GET,    "/credits",             credits,         "balances of all keys"),
        Route::new(M::GET,    "/credits/{key}",       key_credits,     "balance of one key"),
        Route::new(M::PUT,    "/credits/{key}",       set_credits,     "set a balance"),
        Route::new(M::GET,    "/clock",               clock,           "virtual time now, frozen or not"),
        Route::new(M::POST,   "/clock/advance",       advance,         "move the clock"),
        Route::new(M::GET,    "/faults",              faults,          "fault settings: latency and failure rates"),
        Route::new(M::PUT,    "/faults",              set_faults,      "replace them"),
        Route::new(M::GET,    "/scenarios",           scenarios,       "one-shot scenarios waiting, in the order they apply"),
        Route::new(M::POST,   "/scenarios",           add_scenario,    "add one"),
        Route::new(M::DELETE, "/scenarios",           clear_scenarios, "remove every scenario"),
        Route::new(M::DELETE, "/scenarios/{id}",      remove_scenario, "remove one scenario"),
        Route::new(M::POST,   "/reset",               reset,           "back to the start state (fault settings too, no scenarios)"),
    ]
}

/// The admin API; `with_pages` when the server also serves the pages (the mock, not the proxy), so
/// that the index names the dashboard only where it is.
pub(crate) fn router(with_pages: bool) -> Router<MockState> {
    (routes().into_iter()).fold(Router::new(), |router, route| {
        router.route(route.path, (route.mount)(with_pages))
    })
}

/// One row of [`routes`].
struct Route {
    method: Method,
    /// Under `/__admin`; `{name}` is one path segment, handed to the handler as [`Call::id`].
    path: &'static str,
    doc: &'static str,
    /// How to send the route's input ([`Input::usage`]).
    usage: Option<String>,
    /// The handler's name: the route's operationId.
    id: &'static str,
    /// The input's schema, inline (for a GET's query parameters) and as a reference (a body).
    input: fn(&mut SchemaGenerator) -> Schema,
    input_ref: fn(&mut SchemaGenerator) -> Schema,
    /// [`Input::BODY_ONLY`].
    body_only: bool,
    /// The status of the answer and its body's schema ([`Reply`]).
    status: StatusCode,
    answer: fn(&mut SchemaGenerator) -> Schema,
    /// Error statuses of its own, beside those every route may answer (for the OpenAPI document).
    errors: Vec<StatusCode>,
    /// The handler's router, given whether the server serves the pages.
    mount: Box<dyn Fn(bool) -> MethodRouter<MockState>>,
}

impl Route {
    /// A row. `handler`'s signature fixes the types the route reads (`I`) and answers (`A`), so
    /// that a description of the admin API can be made from them.
    fn new<I, A, F, Fut>(method: Method, path: &'static str, handler: F, doc: &'static str) -> Route
    where
        I: Input,
        A: Reply,
        F: Fn(Call<I>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Answer<A>> + Send + 'static,
    {
        // A handler is a fn item, whose type's name is its path: `...::admin::clear_journal`.
        let name = std::any::type_name::<F>();
        let id = name.rsplit("::").next().unwrap_or(name);
        // The table names standard methods only, which every filter has.
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        let segment = path.contains('{');
        Route {
            method,
            path,
            doc,
            usage: I::usage(),
            id,
            input: I::json_schema,
            input_ref: |generator| generator.subschema_for::<I>(),
            body_only: I::BODY_ONLY,
            status: A::STATUS,
            answer: |generator| generator.subschema_for::<A::Body>(),
            errors: Vec::new(),
            mount: Box::new(move |pages| {
                let handler = handler.clone();
                on(
                    filter,
                    move |State(state): State<MockState>, request: Request| {
                        serve(state, pages, segment, request, handler.clone())
                    },
                )
            }),
        }
    }

    /// The row, with an error status of its own.
    fn or(mut self, status: StatusCode) -> Route {
        self.errors.push(status);
        self
    }

    /// The row as the index lists it, with a GET's query or the body it takes.
    /// Its path under [`ADMIN_PATH`] (`/__admin`, not `/__admin/`, for the index).
    fn full_path(&self) -> String {
        format!("{ADMIN_PATH}{}", self.path.trim_end_matches('/'))
    }

    fn listed(&self) -> Listed {
        let path = self.full_path();
        let (path, what) = match &self.usage {
            Some(usage) if self.method == Method::GET => {
                (format!("{path}?{usage}"), self.doc.into())
            }
            Some(usage) => (path, format!("{}; body {usage}", self.doc)),
            None => (path, self.doc.to_owned()),
        };
        Listed {
            method: self.method.to_string(),
            path,
            what,
        }
    }
}

/// What a handler gets.
struct Call<I> {
    state: MockState,
    /// Whether the server serves the pages (the mock does, the proxy not).
    pages: bool,
    /// The `{...}` segment of the path, percent-decoded; empty for a path without one.
    id: String,
    input: I,
}

/// A handler's result: the answer, or the error answer to send instead.
type Answer<A> = Result<A, Refused>;

/// An error answer, boxed (a `Response` is large, and most calls are answered).
type Refused = Box<Response>;

/// Reads the path's segment and the input, calls the handler, writes its answer.
async fn serve<I, A, F, Fut>(
    state: MockState,
    pages: bool,
    segment: bool,
    request: Request,
    handler: F,
) -> Response
where
    I: Input,
    A: IntoResponse,
    F: Fn(Call<I>) -> Fut,
    Fut: Future<Output = Answer<A>>,
{
    let (mut parts, body) = request.into_parts();
    let answer = async {
        let id = match segment {
            true => Segment::from_request_parts(&mut parts, &state).await?.0,
            false => String::new(),
        };
        let input = read::<I>(&parts, body).await?;
        handler(Call {
            state,
            pages,
            id,
            input,
        })
        .await
    };
    answer
        .await
        .map_or_else(|refused| *refused, IntoResponse::into_response)
}

/// What an admin route reads besides its path, by serde from a JSON object: the body's, and, for
/// a flat input, query parameters for the keys the body leaves out (a GET reads the query only).
trait Input: DeserializeOwned + JsonSchema + Send + 'static {
    /// Whether it comes as a JSON body only (a nested one, which a query string cannot carry).
    const BODY_ONLY: bool = false;

    /// What to send, for the index and for the error that refuses it; empty when nothing.
    const USAGE: &'static str = "";

    /// [`Input::USAGE`], or one made at run time.
    fn usage() -> Option<String> {
        (!Self::USAGE.is_empty()).then(|| Self::USAGE.to_owned())
    }
}

async fn read<I: Input>(parts: &Parts, body: Body) -> Answer<I> {
    let mut values = Map::new();
    if parts.method != Method::GET && parts.method != Method::HEAD {
        match body_object(body).await? {
            Some(object) => values = object,
            None if I::BODY_ONLY => return Err(refused::<I>("the body is empty")),
            None => {}
        }
    }
    if !I::BODY_ONLY {
        let query = parts.uri.query().unwrap_or_default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            values
                .entry(name.into_owned())
                .or_insert_with(|| query_value(&value));
        }
    }
    serde_path_to_error::deserialize(Value::Object(values))
        .map_err(|e| refused::<I>(&plain(&e.to_string())))
}

/// serde's text with its Rust words in JSON's.
fn plain(text: &str) -> String {
    // A struct, named by its Rust type, is an object.
    let text = match text.split_once("expected struct ") {
        Some((head, tail)) => {
            let rest = tail.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
            format!("{head}expected an object{rest}")
        }
        None => text.to_owned(),
    };
    [
        ("a map", "an object"),
        ("a sequence", "a list"),
        ("u16", "a whole number up to 65535"),
        ("u32", "a whole number up to 4294967295"),
        ("u64", "a whole number"),
        ("usize", "a whole number"),
        ("f64", "a number"),
    ]
    .iter()
    .fold(text, |text, (rust, words)| {
        text.replace(&format!("expected {rust}"), &format!("expected {words}"))
    })
}

/// A query parameter's value as JSON: a number or `true`/`false` when it reads as one, else
/// the text.
fn query_value(text: &str) -> Value {
    if let Ok(flag) = text.parse::<bool>() {
        return Value::Bool(flag);
    }
    (serde_json::from_str::<Number>(text).ok())
        .or_else(|| text.parse().ok().and_then(Number::from_f64))
        .map_or_else(|| Value::String(text.to_owned()), Value::Number)
}

/// The 400 for an input that cannot be taken: why, and how to send it.
fn refused<I: Input>(why: &str) -> Refused {
    match I::usage() {
        Some(usage) => bad(&format!("{why}; send {usage}")),
        None => bad(why),
    }
}

/// The body of a call that changes something: nothing (or only whitespace), or a JSON object.
/// `Err` is the answer to send instead: 413 over [`MAX_BODY`], 408 when it stalls (and the
/// connection closes), 400 for anything but a JSON object.
async fn body_object(body: Body) -> Answer<Option<Map<String, Value>>> {
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
                let response = error_json(StatusCode::REQUEST_TIMEOUT, &stalled.to_string());
                return Err(Box::new(closing(response)));
            }
        };
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(refusal(
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

/// What an admin route answers: a JSON body of a type with a schema, for the OpenAPI document.
trait Reply: IntoResponse {
    /// The body's type.
    type Body: JsonSchema;
    /// The status of the answer.
    const STATUS: StatusCode = StatusCode::OK;
}

impl<T: Serialize + JsonSchema> Reply for Json<T> {
    type Body = T;
}

/// A 201 answer.
struct Created<T>(T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

impl<T: Serialize + JsonSchema> Reply for Created<T> {
    type Body = T;
    const STATUS: StatusCode = StatusCode::CREATED;
}

/// The journal, serialized by the domain as it reads the entries, in [`JournalPage`]'s shape.
struct JournalJson(Vec<u8>);

impl IntoResponse for JournalJson {
    fn into_response(self) -> Response {
        json(StatusCode::OK, self.0)
    }
}

impl Reply for JournalJson {
    type Body = JournalPage;
}

/// The journal's entries, oldest first. Only its schema is used: the domain writes the JSON (the
/// contract tests decode it with a client generated from the schema).
#[derive(JsonSchema)]
struct JournalPage {
    /// Requests received, and webhooks refused.
    #[allow(
        dead_code,
        reason = "described, never built: JournalJson holds the text"
    )]
    entries: Vec<JournalEntry>,
}

fn refusal(status: StatusCode, text: &str) -> Refused {
    Box::new(error_json(status, text))
}

fn bad(text: &str) -> Refused {
    refusal(StatusCode::BAD_REQUEST, text)
}

fn not_found(text: &str) -> Refused {
    refusal(StatusCode::NOT_FOUND, text)
}

/// The 400 for a key named in a path that [`check_key`] does not allow, saying why.
fn allowed_key(key: &str) -> Answer<()> {
    check_key(key.as_bytes()).map_err(|why| bad(&format!("{why}; no request can send this key")))
}

// ---- Inputs -------------------------------------------------------------------------------------

/// No input. A body, when one is sent, is still a JSON object (of anything).
#[derive(Deserialize, JsonSchema)]
struct Nothing {}

impl Input for Nothing {}

/// `GET /journal?last=N`.
#[derive(Deserialize, JsonSchema)]
struct JournalQuery {
    /// Only the last N entries.
    last: Option<usize>,
}

impl Input for JournalQuery {
    const USAGE: &str = "last=N";
}

/// How a task is failed (`FAILED` when not said); a key but `status` is refused, so that a typo
/// does not fail a task some other way than meant.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FailBody {
    /// `FAILED` (when left out) or `ERROR`.
    status: Option<FailStatus>,
}

/// The final statuses a task can be failed with.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
enum FailStatus {
    Failed,
    Error,
}

impl Input for FailBody {
    const USAGE: &str = r#"{"status": "FAILED" | "ERROR"}"#;
}

#[derive(Deserialize, JsonSchema)]
struct CreditsBody {
    /// The balance, at least 0.
    #[schemars(range(min = 0))]
    credits: f64,
}

impl Input for CreditsBody {
    const USAGE: &str = r#"{"credits": N} with N a number of at least 0"#;
}

#[derive(Deserialize, JsonSchema)]
struct AdvanceBody {
    /// Seconds to move the clock forward, from 0 to [`MAX_ADVANCE`].
    #[schemars(range(min = 0, max = "MAX_ADVANCE"))]
    seconds: f64,
}

/// The most seconds one call moves the clock.
const MAX_ADVANCE: f64 = 1e9;

impl Input for AdvanceBody {
    fn usage() -> Option<String> {
        Some(format!(
            r#"{{"seconds": N}} with N a number from 0 to {MAX_ADVANCE:e}"#
        ))
    }
}

/// A body of anything but a matcher's keys is refused (`deny_unknown_fields`): a typo must not
/// widen what is counted. Its flat keys (`operation`, `status`...) work as query parameters too.
impl Input for Matcher {
    const USAGE: &str = r#"{"operation": "cover", "status": 200, "form": {"voice_id": {"equals": "Drake"}, "pitch": {"equals": "3"}}} (docs/mock.md, "Request matching", has every key)"#;
}

impl Input for FaultSettings {
    const BODY_ONLY: bool = true;
    const USAGE: &str = r#"{"latency": "200ms..1.5s" | null, "fail_rates": [{"operation": "cover", "rate": 0.2, "status": 500}]}"#;
}

impl Input for NewScenario {
    const BODY_ONLY: bool = true;
    fn usage() -> Option<String> {
        Some(format!(
            r#"{{"operation": "cover", "times": 1, "respond": {}, "retry_after": 2}}"#,
            FaultKind::examples()
        ))
    }
}

// ---- Answers ------------------------------------------------------------------------------------

#[derive(Serialize, JsonSchema)]
struct Index {
    routes: Vec<Listed>,
    now: String,
    clock_frozen: bool,
    tasks: usize,
}

/// A route in the index.
#[derive(Serialize, JsonSchema)]
struct Listed {
    method: String,
    path: String,
    what: String,
}

#[derive(Serialize, JsonSchema)]
struct Found {
    requests: Vec<JournalEntry>,
}

#[derive(Serialize, JsonSchema)]
struct Counted {
    count: usize,
}

#[derive(Serialize, JsonSchema)]
struct NearMisses {
    near_misses: Vec<NearMiss>,
}

#[derive(Serialize, JsonSchema)]
struct Cleared {
    cleared: bool,
}

#[derive(Serialize, JsonSchema)]
struct Webhooks {
    totals: WebhookTotals,
    deliveries: Vec<WebhookDelivery>,
}

#[derive(Serialize, JsonSchema)]
struct Tasks {
    tasks: Vec<TaskView>,
}

#[derive(Serialize, JsonSchema)]
struct AllCredits {
    restricted: bool,
    default_credits: f64,
    keys: Vec<KeyCredits>,
}

#[derive(Serialize, JsonSchema)]
struct KeyCredits {
    key: String,
    credits: Option<f64>,
}

#[derive(Serialize, JsonSchema)]
struct Clock {
    now: String,
    frozen: bool,
    time_scale: f64,
}

#[derive(Serialize, JsonSchema)]
struct Advanced {
    now: String,
}

#[derive(Serialize, JsonSchema)]
struct Removed {
    removed: String,
}

#[derive(Serialize, JsonSchema)]
struct Reset {
    reset: bool,
    now: String,
}

// ---- Handlers -----------------------------------------------------------------------------------

/// The dashboard is a page (served beside the API, not by this router), listed so that whoever
/// finds the admin API finds the page that drives it too; the proxy serves no pages.
async fn index(call: Call<Nothing>) -> Answer<Json<Index>> {
    let mut routes: Vec<Listed> = routes().iter().map(Route::listed).collect();
    if call.pages {
        let dashboard = Listed {
            method: Method::GET.to_string(),
            path: DASHBOARD_PATH.to_owned(),
            what: "the dashboard: this API as a page, to open in a browser".to_owned(),
        };
        routes.insert(1, dashboard);
    }
    let state = &call.state;
    Ok(Json(Index {
        routes,
        now: state.now(),
        clock_frozen: state.clock_frozen(),
        tasks: state.task_count(),
    }))
}

async fn openapi(call: Call<Nothing>) -> Answer<Json<Value>> {
    Ok(Json(openapi::document(&routes(), &call.state.origin())))
}

async fn journal(call: Call<JournalQuery>) -> Answer<JournalJson> {
    Ok(JournalJson(call.state.journal_json(call.input.last)))
}

async fn clear_journal(call: Call<Nothing>) -> Answer<Json<Cleared>> {
    call.state.clear_journal();
    Ok(Json(Cleared { cleared: true }))
}

async fn find_requests(call: Call<Matcher>) -> Answer<Json<Found>> {
    (call.state.find_requests(&call.input))
        .map(|requests| Json(Found { requests }))
        .map_err(|e| refused::<Matcher>(&e.to_string()))
}

async fn count_requests(call: Call<Matcher>) -> Answer<Json<Counted>> {
    (call.state.count_requests(&call.input))
        .map(|count| Json(Counted { count }))
        .map_err(|e| refused::<Matcher>(&e.to_string()))
}

async fn near_misses(call: Call<Matcher>) -> Answer<Json<NearMisses>> {
    (call.state.near_misses(&call.input, NEAR_MISSES))
        .map(|near_misses| Json(NearMisses { near_misses }))
        .map_err(|e| refused::<Matcher>(&e.to_string()))
}

async fn webhooks(call: Call<Nothing>) -> Answer<Json<Webhooks>> {
    Ok(Json(Webhooks {
        totals: call.state.webhook_totals(),
        deliveries: call.state.webhook_deliveries(),
    }))
}

async fn webhook(call: Call<Nothing>) -> Answer<Json<WebhookDelivery>> {
    let id = &call.id;
    (call.state.webhook_delivery(id))
        .map(Json)
        .ok_or_else(|| not_found(&format!("no webhook delivery for task {id}")))
}

async fn tasks(call: Call<Nothing>) -> Answer<Json<Tasks>> {
    Ok(Json(Tasks {
        tasks: call.state.tasks(),
    }))
}

async fn task(call: Call<Nothing>) -> Answer<Json<TaskView>> {
    let id = &call.id;
    (call.state.task(id))
        .map(Json)
        .ok_or_else(|| not_found(&format!("no task has id {id}")))
}

fn finished(result: Result<TaskView, FinishError>, id: &str) -> Answer<Json<TaskView>> {
    result.map(Json).map_err(|e| match e {
        FinishError::NotFound => not_found(&format!("no task has id {id}")),
        FinishError::AlreadyFinal(_) => refusal(ALREADY_FINAL, &e.to_string()),
    })
}

async fn complete(call: Call<Nothing>) -> Answer<Json<TaskView>> {
    finished(call.state.complete_task(&call.id), &call.id)
}

async fn fail(call: Call<FailBody>) -> Answer<Json<TaskView>> {
    let outcome = match call.input.status {
        None | Some(FailStatus::Failed) => Outcome::Failed,
        Some(FailStatus::Error) => Outcome::Error,
    };
    finished(call.state.finish_task(&call.id, outcome), &call.id)
}

async fn credits(call: Call<Nothing>) -> Answer<Json<AllCredits>> {
    let state = &call.state;
    let keys = (state.all_credits().into_iter())
        .map(|(key, credits)| KeyCredits {
            key,
            credits: Some(credits),
        })
        .collect();
    Ok(Json(AllCredits {
        restricted: state.restricted(),
        default_credits: state.default_credits(),
        keys,
    }))
}

async fn key_credits(call: Call<Nothing>) -> Answer<Json<KeyCredits>> {
    let key = call.id;
    allowed_key(&key)?;
    match call.state.credits(&key) {
        Some(credits) => Ok(Json(KeyCredits {
            key,
            credits: Some(credits),
        })),
        None => Err(not_found(&format!("key {key:?} is not accepted"))),
    }
}

async fn set_credits(call: Call<CreditsBody>) -> Answer<Json<KeyCredits>> {
    let key = call.id;
    allowed_key(&key)?;
    let credits = call.input.credits;
    if !(credits.is_finite() && credits >= 0.0) {
        return Err(refused::<CreditsBody>(&format!(
            "credits: {credits} is out of range"
        )));
    }
    call.state.set_credits(&key, credits);
    let credits = call.state.credits(&key);
    Ok(Json(KeyCredits { key, credits }))
}

async fn clock(call: Call<Nothing>) -> Answer<Json<Clock>> {
    let state = &call.state;
    Ok(Json(Clock {
        now: state.now(),
        frozen: state.clock_frozen(),
        time_scale: state.config().mock.time_scale,
    }))
}

async fn advance(call: Call<AdvanceBody>) -> Answer<Json<Advanced>> {
    let seconds = call.input.seconds;
    if !(seconds.is_finite() && (0.0..=MAX_ADVANCE).contains(&seconds)) {
        return Err(refused::<AdvanceBody>(&format!(
            "seconds: {seconds} is out of range"
        )));
    }
    let now = call.state.advance_clock(Duration::from_secs_f64(seconds));
    Ok(Json(Advanced { now }))
}

async fn reset(call: Call<Nothing>) -> Answer<Json<Reset>> {
    call.state.reset();
    Ok(Json(Reset {
        reset: true,
        now: call.state.now(),
    }))
}

async fn faults(call: Call<Nothing>) -> Answer<Json<FaultSettings>> {
    Ok(Json(call.state.faults()))
}

async fn set_faults(call: Call<FaultSettings>) -> Answer<Json<FaultSettings>> {
    (call.state.set_faults(call.input)).map_err(|e| bad(&e.to_string()))?;
    Ok(Json(call.state.faults()))
}

async fn scenarios(call: Call<Nothing>) -> Answer<Json<Vec<Scenario>>> {
    Ok(Json(call.state.scenarios()))
}

async fn add_scenario(call: Call<NewScenario>) -> Answer<Created<Scenario>> {
    (call.state.add_scenario(call.input))
        .map(Created)
        .map_err(|e| bad(&e.to_string()))
}

async fn clear_scenarios(call: Call<Nothing>) -> Answer<Json<Cleared>> {
    call.state.clear_scenarios();
    Ok(Json(Cleared { cleared: true }))
}

async fn remove_scenario(call: Call<Nothing>) -> Answer<Json<Removed>> {
    let id = call.id;
    if call.state.remove_scenario(&id) {
        Ok(Json(Removed { removed: id }))
    } else {
        Err(not_found(&format!("no scenario has id {}", quoted(&id))))
    }
}
