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
    let text = |name: &str| {
        (op.query_index(name))
            .and_then(|i| params[i].as_ref())
            .and_then(Param::text)
    };
    let (task_id, conversion_id) = (text("task_id"), text("conversion_id"));
    let id = match (task_id, conversion_id) {
        (Some(t), None) => ("task_id", t),
        (None, Some(c)) => ("conversion_id", c),
        (Some(_), Some(_)) => {
            return documented(
                op,
                op.invalid_status,
                Some("task_id and conversion_id were both given; give exactly one"),
            );
        }
        (None, None) => {
            return documented(op, op.invalid_status, Some("give task_id or conversion_id"));
        }
    };
    // Ids are plain strings (openapi.yaml): one that is not a UUID is no id this mock issued.
    let Ok(uuid) = Uuid::try_parse(id.1) else {
        return documented(
            op,
            StatusCode::NOT_FOUND,
            Some(&format!(
                "no conversion has {} {}: the ids this mock issues are UUIDs",
                id.0,
                quoted(id.1)
            )),
        );
    };
    // One of the spec's values, exactly (the query check refused any other with 400).
    let conversion_type = text("conversionType").unwrap_or_default();
    // The mock holds the conversions Cover starts only.
    let cover = spec.cover_conversion_type.as_str();
    if conversion_type != cover {
        return documented(
            op,
            StatusCode::NOT_FOUND,
            Some(&format!(
                "no {conversion_type} conversion has {} {}; this mock holds {cover} conversions only",
                id.0, id.1
            )),
        );
    }
    let body = if id.0 == "task_id" {
        state.render_conversion(|tasks| tasks.get(&uuid))
    } else {
        state.render_conversion(|tasks| tasks.by_conversion(&uuid))
    };
    match body {
        Some(body) => json(StatusCode::OK, body),
        None => documented(op, StatusCode::NOT_FOUND, None),
    }
}
