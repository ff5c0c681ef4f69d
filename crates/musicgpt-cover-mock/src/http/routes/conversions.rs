//! `GET /v1/byId`: a task in the documented shape of its current state.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::domain::MockState;
use crate::http::guard::checked_query;
use crate::http::respond::{documented, json};
use crate::spec::{Param, quoted};

pub(crate) async fn by_id(State(state): State<MockState>, request: Request) -> Response {
    let headers = request.headers();
    let raw = request.uri().query();
    let spec = state.spec();
    let op = &spec.by_id;
    let params = match checked_query(&state, op, headers, raw) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let slots = spec.by_id_params;
    let name = |slot: usize| op.query[slot].name.as_str();
    let text = |slot: usize| params[slot].as_ref().and_then(Param::text);
    let (slot, id) = match (text(slots.task_id), text(slots.conversion_id)) {
        (Some(t), None) => (slots.task_id, t),
        (None, Some(c)) => (slots.conversion_id, c),
        (both, _) => {
            let (task, conversion) = (name(slots.task_id), name(slots.conversion_id));
            let why = match both {
                Some(_) => format!("{task} and {conversion} were both given; give exactly one"),
                None => format!("give {task} or {conversion}"),
            };
            return documented(op, op.invalid_status, Some(&why));
        }
    };
    // Ids are plain strings (openapi.yaml): one that is not a UUID is no id this mock issued.
    let Ok(uuid) = Uuid::try_parse(id) else {
        return documented(
            op,
            StatusCode::NOT_FOUND,
            Some(&format!(
                "no conversion has {} {}: the ids this mock issues are UUIDs",
                name(slot),
                quoted(id)
            )),
        );
    };
    // One of the spec's values, exactly (the query check refused any other with 400).
    let conversion_type = text(slots.conversion_type).unwrap_or_default();
    // The mock holds the conversions Cover starts only.
    let cover = spec.cover_conversion_type.as_str();
    if conversion_type != cover {
        return documented(
            op,
            StatusCode::NOT_FOUND,
            Some(&format!(
                "no {conversion_type} conversion has {} {id}; this mock holds {cover} conversions only",
                name(slot)
            )),
        );
    }
    let body = if slot == slots.task_id {
        state.render_conversion(|tasks| tasks.get(&uuid))
    } else {
        state.render_conversion(|tasks| tasks.by_conversion(&uuid))
    };
    match body {
        Some(body) => json(StatusCode::OK, body),
        None => documented(op, StatusCode::NOT_FOUND, None),
    }
}
