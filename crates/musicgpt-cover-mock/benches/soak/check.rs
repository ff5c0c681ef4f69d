//! Whether an answer is the one its request should get. Polls are judged against time: the soak
//! knows when each Cover was sent and answered, so it knows when its task cannot yet be final
//! and when it must be.

use std::time::{Duration, Instant};

use musicgpt_cover::types::ConversionStatus;
use musicgpt_cover_mock::{ETA_SECONDS, Outcome};
use serde_json::Value;
use uuid::Uuid;

use crate::common::http1::Answer;
use crate::ledger::{Hook, Task, final_status};
use crate::mix::Expect;

/// Room for the mock's clock, which counts whole milliseconds, and for the moments between the
/// mock reading its clock and the soak reading its own.
const SLACK: Duration = Duration::from_millis(50);

/// What an answer was found to be.
pub(crate) enum Checked {
    /// As expected.
    Fine,
    /// As expected, and a new task the ledger must record.
    Accepted(Task),
    /// Not what the request should get; why.
    Unexpected(String),
}

/// When the request went out and when its answer was in.
pub(crate) struct Timing {
    pub(crate) sent: Instant,
    pub(crate) received: Instant,
}

pub(crate) fn check(expect: &Expect, answer: &Answer, at: Timing, time_scale: f64) -> Checked {
    let json = serde_json::from_slice::<Value>(&answer.body).ok();
    let outcome = match (expect, json.as_ref()) {
        (_, None) => Err("the body is not JSON".to_owned()),
        (Expect::Accepted { hook, outcome }, Some(json)) => {
            accepted(answer.status, json, *hook, *outcome, at, time_scale).map(Checked::Accepted)
        }
        (Expect::Poll(task), Some(json)) => poll(answer.status, json, task, at),
        (Expect::Voices, Some(json)) => voices(answer.status, json),
        (Expect::Refusal(code), Some(json)) => refusal(answer.status, json, *code),
    };
    match outcome {
        Ok(checked) => checked,
        Err(why) => {
            let body = String::from_utf8_lossy(&answer.body);
            let mut snippet: String = body.chars().take(200).collect();
            if snippet.len() < body.len() {
                snippet.push('…');
            }
            Checked::Unexpected(format!("{why}; answered {}: {snippet}", answer.status))
        }
    }
}

fn accepted(
    status: u16,
    json: &Value,
    hook: Hook,
    outcome: Outcome,
    at: Timing,
    time_scale: f64,
) -> Result<Task, String> {
    if status == 429 {
        // Documented, but only when every place in the store holds a task that is running or
        // whose webhook is pending: the mock is not keeping up with the pace, or not evicting.
        return Err(
            "a valid Cover was refused with 429: the store was full of unfinished tasks or \
             pending webhooks (at a pace the mock cannot sustain, lower --rate or --time-scale \
             or raise --task-capacity; at one it can, they are not leaving the store)"
                .to_owned(),
        );
    }
    if status != 200 {
        return Err("a valid Cover should be accepted with 200".to_owned());
    }
    let status = ConversionStatus::from(json["status"].as_str().unwrap_or_default());
    if json["success"] != true || !status.is_in_queue() {
        return Err(format!(
            "a Cover answer should say success and {}",
            ConversionStatus::InQueue.as_str()
        ));
    }
    let id = |name: &str| {
        json[name]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| format!("{name} should be a UUID"))
    };
    let eta = json["eta"]
        .as_u64()
        .filter(|eta| ETA_SECONDS.contains(eta))
        .ok_or_else(|| {
            format!(
                "eta should be {} to {} seconds",
                ETA_SECONDS.start(),
                ETA_SECONDS.end()
            )
        })?;
    // As the mock rounds it (domain/state.rs).
    let run = Duration::from_millis((eta as f64 * 1000.0 * time_scale).round() as u64);
    Ok(Task {
        task_id: id("task_id")?,
        conversion_id: id("conversion_id")?,
        sent: at.sent,
        answered: at.received,
        run,
        hook,
        outcome,
    })
}

/// A poll of a task the mock accepted: 200 with that task, in a status it can be in at that
/// moment; or 404 once it may have been evicted (the store evicts only final tasks).
fn poll(status: u16, json: &Value, task: &Task, at: Timing) -> Result<Checked, String> {
    // The mock accepted the task between `task.sent` and `task.answered`, so it is final from
    // `task.answered + run` at the latest, and not before `task.sent + run`.
    let final_from = task.sent + task.run;
    let final_by = task.answered + task.run;
    let could_be_final = at.received + SLACK >= final_from;
    let ends_in = final_from
        .saturating_duration_since(at.received)
        .as_millis();
    match status {
        404 if could_be_final => Ok(Checked::Fine),
        404 => Err(format!(
            "404 for a task that cannot be final yet (it ends {ends_in} ms later)"
        )),
        200 => {
            let c = &json["conversion"];
            if json["success"] != true
                || c["task_id"] != task.task_id.to_string().as_str()
                || c["conversion_id"] != task.conversion_id.to_string().as_str()
            {
                return Err(format!("byId should answer with task {}", task.task_id));
            }
            let shown = c["status"].as_str().unwrap_or_default();
            let known = ConversionStatus::from(shown);
            let running = known.is_known() && !known.is_final();
            let ends = final_status(task.outcome);
            match shown {
                _ if running && at.sent <= final_by + SLACK => Ok(Checked::Fine),
                _ if running => Err(format!(
                    "{shown} when the task was final {} ms before the poll",
                    at.sent.saturating_duration_since(final_by).as_millis()
                )),
                s if s == ends && !could_be_final => {
                    Err(format!("{s} {ends_in} ms before the task's end"))
                }
                s if s == ends && task.outcome == Outcome::Completed => {
                    if c["audio_url"].is_string() && c["conversion_path_wav"].is_string() {
                        Ok(Checked::Fine)
                    } else {
                        Err(format!("a {s} conversion should carry its result URLs"))
                    }
                }
                s if s == ends => Ok(Checked::Fine),
                s => Err(format!("status {s:?} for a task asked to end {ends}")),
            }
        }
        _ => Err("a poll should get 200 (or 404 once the task may be evicted)".to_owned()),
    }
}

fn voices(status: u16, json: &Value) -> Result<Checked, String> {
    let listed = json["voices"]
        .as_array()
        .is_some_and(|v| v.iter().all(|voice| voice["voice_id"].is_string()));
    if status == 200 && json["success"] == true && listed {
        Ok(Checked::Fine)
    } else {
        Err("a voices page should be 200 with a list of voices".to_owned())
    }
}

fn refusal(status: u16, json: &Value, code: u16) -> Result<Checked, String> {
    if status != code {
        return Err(format!("should be refused with {code}"));
    }
    if json["success"] != false {
        return Err(format!("a {code} should carry an error body"));
    }
    Ok(Checked::Fine)
}
