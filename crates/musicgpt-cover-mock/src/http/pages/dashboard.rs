//! The dashboard at `/__admin/ui`: the journal as it grows, the tasks with Complete and Fail
//! buttons, the clock, each key's credits, Reset; all through the admin API, whose rules hold
//! for the page's calls as for anyone's (a page on another machine's origin gets 403; when the
//! mock requires the admin token, the page asks for it and sends it as `Authorization: Bearer`).
//! Its script is `assets/dashboard.js`.

use std::sync::OnceLock;

use axum::response::Response;
use serde_json::{Value, json};

use super::assets;
use crate::config::ANY_OPERATION;
use crate::domain::faults::FaultKind;
use crate::domain::tasks::Status;
use crate::http::ADMIN_PATH;

pub(crate) const PATH: &str = super::super::admin::admin_path!("/ui");

const HTML: &str = include_str!("assets/dashboard.html");

pub(crate) async fn page() -> Response {
    assets::page(html(), &assets::csp(&[]))
}

/// The page with its settings, made once.
fn html() -> &'static str {
    static HTML_WITH_CONFIG: OnceLock<String> = OnceLock::new();
    HTML_WITH_CONFIG.get_or_init(|| assets::with_config(HTML, &config()))
}

/// Where the admin API is; what the script offers for a scenario rather than repeating it: the
/// spec's operations, and every fault kind with its words and an example `respond` to start
/// from; and the statuses a task ends in (the spec's `x-final-values`), which decide whether a
/// task's row can be finished.
pub(crate) fn config() -> Value {
    let spec = crate::spec::spec().ok();
    let operations: Vec<&str> = (spec.iter())
        .flat_map(|spec| spec.operations())
        .map(|op| op.operation_id.as_str())
        .collect();
    let final_statuses: &[String] = spec.map_or(&[], |spec| &spec.final_statuses);
    let kinds: Vec<Value> = (FaultKind::ALL.iter())
        .map(|kind| {
            json!({
                "name": kind.name(),
                "summary": kind.summary(),
                "example": kind.example(),
            })
        })
        .collect();
    json!({
        "admin_path": ADMIN_PATH,
        "operations": operations,
        "any_operation": ANY_OPERATION,
        "fault_kinds": kinds,
        "final_statuses": final_statuses,
        "completed_status": Status::Completed.as_str(),
    })
}
