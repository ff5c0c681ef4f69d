//! `GET /v1/getAllVoices` and `GET /v1/searchVoices`: pages of the built-in catalogue.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::MockState;
use crate::domain::voices::{VoicePage, catalogue, matching};
use crate::http::guard::checked_query;
use crate::http::respond::json;
use crate::spec::{Operation, PageParams, Param};

pub(crate) async fn all_voices(State(state): State<MockState>, request: Request) -> Response {
    let spec = state.spec();
    list(&state, &spec.all_voices, spec.all_voices_params, &request)
}

pub(crate) async fn search_voices(State(state): State<MockState>, request: Request) -> Response {
    let spec = state.spec();
    list(
        &state,
        &spec.search_voices,
        spec.search_voices_params,
        &request,
    )
}

fn list(state: &MockState, op: &Operation, slots: PageParams, request: &Request) -> Response {
    let spec = state.spec();
    let params = match checked_query(state, op, request.headers(), request.uri().query()) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let param = |slot: usize| params[slot].as_ref();
    // A number left out is the spec's default for it (`parse_query` filled it in); with none,
    // every voice on the first page.
    let number = |slot: usize| param(slot).and_then(Param::integer);
    let folded = (slots.query)
        .and_then(param)
        .and_then(Param::text)
        .map(str::to_lowercase);
    let all = catalogue(spec);
    let found = matching(all, folded.as_deref());
    let total = found.clone().count();
    let limit = number(slots.limit)
        .unwrap_or_else(|| i64::try_from(total).unwrap_or(i64::MAX))
        .max(1);
    let page = number(slots.page).unwrap_or(0).max(0);
    let skip = usize::try_from(page.saturating_mul(limit)).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let voices = found.skip(skip).take(take).collect();
    let page = VoicePage {
        voices,
        limit,
        page,
        total,
    };
    json(StatusCode::OK, spec.voices_ok.render(&page))
}
