//! The journal text of a request: started before it is handled, finished with the answer and
//! the form the handler saw, in [`RequestRecord`](crate::RequestRecord)'s JSON shape.

use std::io::Write as _;

use axum::extract::Request;
use axum::http::header;
use axum::response::Response;

use super::admin::ADMIN_PATH;
use crate::domain::faults::FaultRecord;
use crate::domain::journal::{FormLog, KEPT_HEADERS, cut, push_str};

const KEPT: usize = KEPT_HEADERS.len();
/// The domain's [`KEPT_HEADERS`] as header names (standard ones compare as an enum, faster than
/// text on every request); an array of the wrong length does not compile.
const KEPT_NAMES: [header::HeaderName; KEPT] = [
    header::HeaderName::from_static(KEPT_HEADERS[0]),
    header::HeaderName::from_static(KEPT_HEADERS[1]),
    header::HeaderName::from_static(KEPT_HEADERS[2]),
    header::HeaderName::from_static(KEPT_HEADERS[3]),
    header::HeaderName::from_static(KEPT_HEADERS[4]),
    header::HeaderName::from_static(KEPT_HEADERS[5]),
    header::HeaderName::from_static(KEPT_HEADERS[6]),
    header::HeaderName::from_static(KEPT_HEADERS[7]),
];

/// Marks an answer a recording gave (`--replay`), for its journal entry's `replayed`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replayed;

/// Starts the journal text of a request, before it is handled; `None` for the admin API's own
/// requests, which are not journalled.
pub(crate) fn start_entry(request: &Request) -> Option<Vec<u8>> {
    let path = request.uri().path();
    if path
        .strip_prefix(ADMIN_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    {
        return None;
    }
    // Under 1 KiB: glibc serves that from its small bins without consolidating the heap.
    let mut body = Vec::with_capacity(960);
    body.extend_from_slice(b"{\"method\":");
    push_str(&mut body, request.method().as_str());
    body.extend_from_slice(b",\"path\":");
    push_str(&mut body, cut(path).0);
    body.extend_from_slice(b",\"query\":");
    match request.uri().query() {
        Some(q) => push_str(&mut body, cut(q).0),
        None => body.extend_from_slice(b"null"),
    }
    body.extend_from_slice(b",\"headers\":{");
    // One pass over the request's headers (a lookup per kept name costs more), written in the
    // kept names' sorted order.
    let mut kept: [Option<&header::HeaderValue>; KEPT] = [None; KEPT];
    for (name, value) in request.headers() {
        if let Some(i) = KEPT_NAMES.iter().position(|k| k == name)
            && kept[i].is_none()
        {
            kept[i] = Some(value);
        }
    }
    let mut first = true;
    for (name, value) in KEPT_NAMES.iter().zip(kept) {
        let Some(value) = value else {
            continue;
        };
        if !first {
            body.push(b',');
        }
        first = false;
        push_str(&mut body, name.as_str());
        body.push(b':');
        match value.to_str() {
            Ok(v) => push_str(&mut body, cut(v).0),
            Err(_) => push_str(&mut body, cut(&String::from_utf8_lossy(value.as_bytes())).0),
        }
    }
    body.extend_from_slice(b"},\"status\":");
    Some(body)
}

/// The journal text of a request whose handler has answered, waiting for the answer's body.
pub(crate) struct Answered {
    text: Vec<u8>,
    /// Whether an answer is sent at all (not with a `close` or `reset` fault).
    sent: bool,
}

/// Continues the journal text with the answer's status (and the form a handler left in its
/// extensions, and the fault the fault layer left there: status 0 when it sent no answer).
pub(crate) fn finish_entry(mut body: Vec<u8>, response: &mut Response) -> Answered {
    let fault = response.extensions_mut().remove::<FaultRecord>();
    let status = match &fault {
        Some(f) if f.no_answer() => 0,
        _ => response.status().as_u16(),
    };
    // Writing into a Vec cannot fail.
    let _ = write!(body, "{status}");
    body.extend_from_slice(b",\"form\":");
    match response.extensions_mut().remove::<FormLog>() {
        Some(form) => form.write_json(&mut body),
        None => body.extend_from_slice(b"null"),
    }
    if response.extensions_mut().remove::<Replayed>().is_some() {
        body.extend_from_slice(b",\"replayed\":true");
    }
    if let Some(fault) = fault {
        body.extend_from_slice(b",\"fault\":");
        if serde_json::to_writer(&mut body, &fault).is_err() {
            body.extend_from_slice(b"{}");
        }
    }
    Answered {
        text: body,
        sent: status != 0,
    }
}

impl Answered {
    /// Whether an answer was sent (not so when a fault closed or reset the connection instead).
    pub(crate) fn sent(&self) -> bool {
        self.sent
    }

    /// The entry as journalled when its answer starts; the answer is added once it has gone
    /// (`MockState::journal_sent`).
    pub(crate) fn pending(mut self) -> String {
        self.text.push(b'}');
        // Everything written above is JSON text of `&str`s: UTF-8.
        String::from_utf8(self.text)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}
