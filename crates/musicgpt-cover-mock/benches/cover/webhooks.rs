//! A webhook storm: N tasks (10,000 by default) due at the same moment, each with a webhook to one
//! local receiver. The mock runs in-process with a frozen clock, so every Cover is accepted and
//! stays queued; then the clock is moved on an hour at once ([`MockState::advance_clock`]) and
//! the receiver times each webhook's arrival. Targets: none lost (the receiver got every task's,
//! once, and the mock counts them delivered), the last within [`LAST_TARGET`] of the due time.
//!
//! [`MockState::advance_clock`]: musicgpt_cover_mock::MockState::advance_clock

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;
use futures::StreamExt;
use musicgpt_cover_mock::config::DEFAULT_TASK_CAPACITY;
use musicgpt_cover_mock::{ClockMode, MockConfig, MockServer};

use crate::Part;
use crate::common::http1::{Form, form_type};
use crate::common::spec::{cover_example, operation};
use crate::common::{lock, serve};
use crate::options::Options;
use crate::request::KEY;
use crate::setup::{http_client, runtime};
use crate::throughput::median;
use crate::verdict::Verdict;

/// The most the last webhook may arrive after the tasks are due.
pub(crate) const LAST_TARGET: Duration = Duration::from_secs(2);
/// How long the webhooks may take before the round is given up (and the loss reported).
const GIVE_UP: Duration = Duration::from_secs(120);
/// Covers in flight while the tasks are made.
const SENDING: usize = 32;

/// What the receiver got: each webhook's task id and when it came.
type Shared = Arc<Mutex<Vec<(String, Instant)>>>;

async fn receive(State(received): State<Shared>, body: Bytes) -> &'static str {
    let now = Instant::now();
    let task_id = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["task_id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    lock(&received).push((task_id, now));
    "ok"
}

/// One round's outcome.
struct Round {
    made_in: Duration,
    received: usize,
    unique: usize,
    delivered: u64,
    first: Option<Duration>,
    last: Option<Duration>,
}

fn round(o: &Options) -> Result<Round, String> {
    let tasks = o.webhook_tasks;
    let servers = runtime("bench-server", o.server_threads)?;
    let clients = runtime("bench-client", o.client_threads)?;
    let received: Shared = Arc::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(received.clone());
    let (receiver, _) = clients.block_on(serve(app, "the webhook receiver"))?;
    let mock = servers
        .block_on(MockServer::try_start(
            MockConfig::new()
                .clock(ClockMode::Frozen)
                .task_capacity(tasks.max(DEFAULT_TASK_CAPACITY)),
        ))
        .map_err(|e| format!("the mock could not start: {e}"))?;
    let body = Form::default()
        .text("voice_id", &cover_example("voice_id")?)
        .text("audio_url", &cover_example("audio_url")?)
        .text("webhook_url", &format!("http://{receiver}/hook"))
        .finish();
    let body = Bytes::from(body);
    let client = http_client()?;
    let url = mock.url(operation("cover")?.1);
    let started = Instant::now();
    let statuses: Vec<Result<u16, String>> = clients.block_on(
        futures::stream::iter(0..tasks)
            .map(|_| {
                let request = client
                    .post(&url)
                    .header("authorization", KEY)
                    .header("content-type", form_type())
                    .body(body.clone());
                async move {
                    request
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .map_err(|e| e.to_string())
                }
            })
            .buffer_unordered(SENDING)
            .collect(),
    );
    let made_in = started.elapsed();
    if let Some(bad) = statuses.iter().find(|s| !matches!(s, Ok(200))) {
        return Err(format!(
            "a Cover with a webhook was not accepted: {bad:?} ({} of {tasks} were)",
            statuses.iter().filter(|s| matches!(s, Ok(200))).count()
        ));
    }
    if mock.state().task_count() != tasks {
        return Err(format!(
            "the mock holds {} tasks, not {tasks}",
            mock.state().task_count()
        ));
    }
    // Every task is due now.
    let due = Instant::now();
    mock.state().advance_clock(Duration::from_secs(3600));
    loop {
        let got = lock(&received).len();
        let totals = mock.state().webhook_totals();
        if got >= tasks && totals.pending == 0 {
            break;
        }
        if due.elapsed() > GIVE_UP {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let totals = mock.state().webhook_totals();
    drop(mock);
    let r = lock(&received);
    let after = |t: Option<&Instant>| t.map(|t| t.saturating_duration_since(due));
    Ok(Round {
        made_in,
        received: r.len(),
        unique: r.iter().map(|(id, _)| id).collect::<HashSet<_>>().len(),
        delivered: totals.delivered,
        first: after(r.iter().map(|(_, t)| t).min()),
        last: after(r.iter().map(|(_, t)| t).max()),
    })
}

pub(crate) fn measure(o: &Options) -> Result<Part, String> {
    let tasks = o.webhook_tasks;
    println!(
        "\n== webhooks: {tasks} tasks due at the same moment, each with a webhook to one local receiver ==\n\
         the mock in-process with a frozen clock, moved on an hour at once; {} round(s)",
        o.rounds
    );
    println!(
        "  {:>5} {:>13} {:>9} {:>7} {:>10} {:>14} {:>13}",
        "round", "tasks made s", "received", "unique", "delivered", "first after s", "last after s"
    );
    let mut rounds = Vec::new();
    for n in 1..=o.rounds {
        let r = round(o)?;
        let secs = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64());
        println!(
            "  {n:>5} {:>13.2} {:>9} {:>7} {:>10} {:>14.3} {:>13.3}",
            r.made_in.as_secs_f64(),
            r.received,
            r.unique,
            r.delivered,
            secs(r.first),
            secs(r.last)
        );
        rounds.push(r);
    }
    // The worst round's count, and the median round's time (`none`: no webhook came).
    let worst = |count: &dyn Fn(&Round) -> usize| rounds.iter().map(count).max();
    let lost = worst(&|r| tasks.saturating_sub(r.unique)).unwrap_or(tasks);
    let duplicates = worst(&|r| r.received.saturating_sub(r.unique)).unwrap_or(0);
    let median_of = |at: fn(&Round) -> Option<Duration>, none: f64| {
        median(
            rounds
                .iter()
                .map(|r| at(r).map_or(none, |d| d.as_secs_f64()))
                .collect(),
        )
    };
    let last = median_of(|r| r.last, f64::INFINITY);
    let first = median_of(|r| r.first, f64::NAN);
    let delivered = rounds.iter().map(|r| r.delivered).min().unwrap_or(0);
    let verdicts = vec![
        Verdict::judged(
            "webhooks: none lost".to_owned(),
            lost == 0 && duplicates == 0 && delivered == tasks as u64,
            format!(
                "in the worst of {} round(s): {} of {tasks} received ({lost} lost, {duplicates} twice), {delivered} counted delivered by the mock",
                rounds.len(),
                tasks - lost
            ),
        ),
        Verdict::at_most(
            "webhooks: the last after the due time".to_owned(),
            last,
            LAST_TARGET.as_secs_f64(),
            "s",
            format!("median of {} round(s)", rounds.len()),
        ),
    ];
    let mut md = format!(
        "{tasks} Covers with a `webhook_url` to one receiver on 127.0.0.1, sent to the mock \
         in-process (`MockConfig::new().clock(ClockMode::Frozen)`, so none is due before the \
         others), then `advance_clock(1 h)`: every task is due at that moment. The receiver \
         answers 200 and notes when each webhook came. {} round(s), a fresh mock and receiver \
         each.\n\n| round | received (unique) | counted delivered | first after | **last after** |\n|---|---|---|---|---|\n",
        rounds.len()
    );
    for (n, r) in rounds.iter().enumerate() {
        let secs = |d: Option<Duration>| {
            d.map_or("—".to_owned(), |d| format!("{:.3} s", d.as_secs_f64()))
        };
        md.push_str(&format!(
            "| {} | {} ({}) | {} | {} | **{}** |\n",
            n + 1,
            r.received,
            r.unique,
            r.delivered,
            secs(r.first),
            secs(r.last)
        ));
    }
    md.push_str(&format!(
        "| median | | | {first:.3} s | **{last:.3} s** |\n\n"
    ));
    Part::new("webhooks", "Webhook storm (issue 12, item 4)", md, verdicts)
}
