//! `POST /v1/Cover`: key, `Prefer`, the streamed form (multipart or url-encoded), the audio rules,
//! credits, then a new task.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::domain::credits::from_cents;
use crate::domain::journal::FormLog;
use crate::domain::tasks::{AudioSource, IN_QUEUE, NewTask, Outcome};
use crate::domain::{CreateError, Created, MockState};
use crate::http::auth::request_key;
use crate::http::form::{Encoding, FORM_OVERHEAD, FormError, encoding, multipart, urlencoded};
use crate::http::prefer::{Prefer, replay};
use crate::http::respond::{auth_error, documented, json};
use crate::spec::{Field, Fill, FormSpec, Val, Value, quoted};

pub(in crate::http) async fn cover(State(state): State<MockState>, request: Request) -> Response {
    // Taken apart rather than extracted: the `HeaderMap` extractor clones every header.
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let spec = state.spec();
    let op = &spec.cover;
    let key = match request_key(headers).and_then(|k| state.authorize(k).map(|()| k)) {
        Ok(k) => k,
        Err(e) => return auth_error(op, e),
    };
    let prefer = Prefer::parse(headers);
    // Checked before a replay too: a bad token is refused whatever it comes with.
    let outcome = match prefer.outcome.as_deref() {
        None => Outcome::Completed,
        Some(text) => match Outcome::parse(text) {
            Some(o) => o,
            None => {
                return documented(
                    op,
                    op.invalid_status,
                    Some(&format!(
                        "Prefer: outcome={text} must be completed, failed or error"
                    )),
                );
            }
        },
    };
    if let Some(response) = replay(op, &prefer) {
        return response;
    }
    let encoding = match encoding(headers, op.urlencoded.is_some()) {
        Ok(e) => e,
        Err(text) => return documented(op, op.invalid_status, Some(&text)),
    };
    let form_spec = match &encoding {
        Encoding::Multipart { .. } => op.form.as_ref(),
        Encoding::Urlencoded => op.urlencoded.as_ref(),
    };
    let Some(form_spec) = form_spec else {
        return documented(op, StatusCode::INTERNAL_SERVER_ERROR, None);
    };
    let max_upload = state.config().max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_upload.saturating_add(FORM_OVERHEAD)) {
        // Refused before a byte of the body is read.
        return documented(op, StatusCode::PAYLOAD_TOO_LARGE, None);
    }

    let mut record = FormLog::default();
    let result = match encoding {
        Encoding::Multipart { boundary } => {
            multipart::read(form_spec, body, boundary, max_upload, &mut record).await
        }
        Encoding::Urlencoded => urlencoded::read(form_spec, body, max_upload, &mut record).await,
    };
    let response = match result {
        Err(FormError::Stalled(text)) => {
            record.set_error(text.clone());
            let mut response = documented(op, StatusCode::REQUEST_TIMEOUT, Some(&text));
            // The rest of the body may still come; the connection is not worth keeping.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        Err(FormError::TooLarge) => {
            record.set_error(format!(
                "audio_file is larger than the upload limit of {max_upload} bytes"
            ));
            documented(op, StatusCode::PAYLOAD_TOO_LARGE, None)
        }
        Err(FormError::Invalid(text)) => {
            record.set_error(text.clone());
            documented(op, op.invalid_status, Some(&text))
        }
        Ok(values) => accept(&state, key, outcome, form_spec, values, &mut record),
    };
    let mut response = response;
    response.extensions_mut().insert(record);
    response
}

fn accept(
    state: &MockState,
    key: &str,
    outcome: Outcome,
    form_spec: &FormSpec,
    mut values: Vec<Option<Value>>,
    record: &mut FormLog,
) -> Response {
    let spec = state.spec();
    let op = &spec.cover;
    if !form_spec.alternatives_met(&values) {
        // The documented body says exactly this: neither audio was given.
        record.set_error("neither audio_url nor audio_file was given".to_owned());
        return documented(op, StatusCode::UNPROCESSABLE_ENTITY, None);
    }
    let mut take = |name: &str| form_spec.index_of(name).and_then(|i| values[i].take());
    let text = |v: Option<Value>| match v {
        Some(Value::Text(t)) => Some(t),
        _ => None,
    };
    // The file wins when both are given; an empty URL counts as not given.
    let audio_url = take("audio_url");
    let source = match take("audio_file") {
        Some(Value::File {
            filename,
            content_type,
            size,
        }) => AudioSource::File {
            filename,
            content_type,
            size,
        },
        _ => {
            let url = text(audio_url).unwrap_or_default();
            if let Err(why) = check_audio_url(&url) {
                record.set_error(why);
                return documented(op, StatusCode::BAD_REQUEST, None);
            }
            AudioSource::Url { url }
        }
    };
    let voice_id = text(take("voice_id")).unwrap_or_default();
    let pitch = match take("pitch") {
        Some(Value::Integer(n)) => n,
        _ => form_spec
            .index_of("pitch")
            .and_then(|i| form_spec.fields[i].default)
            .unwrap_or(0),
    };
    let webhook_url = text(take(&spec.webhook_field)).filter(|u| !u.is_empty());

    let new = NewTask {
        api_key: key.to_owned(),
        voice_id,
        pitch,
        webhook_url,
        source,
        outcome,
    };
    match state.create_task(new) {
        Ok(task) => json(StatusCode::OK, spec.cover_ok.render(&Accepted::new(&task))),
        Err(CreateError::Insufficient(balance)) => {
            record.set_error(format!(
                "the key's balance of {} credits is below the estimate",
                from_cents(balance)
            ));
            documented(op, StatusCode::PAYMENT_REQUIRED, None)
        }
        Err(CreateError::Full(capacity)) => {
            // Like the real API's limit on parallel conversions: no task is ever dropped to make
            // room for another.
            record.set_error(format!(
                "all {capacity} task places (--task-capacity) hold unfinished tasks"
            ));
            documented(op, StatusCode::TOO_MANY_REQUESTS, None)
        }
    }
}

/// Whether the mock would "download" this URL: http(s) with a host not under `.invalid`.
/// Nothing is fetched, ever. (A hand-rolled look at the URL: parsing it whole costs more than
/// the rest of a Cover request's checks together.)
fn check_audio_url(url: &str) -> Result<(), String> {
    let lower_starts = |prefix: &str| {
        url.len() >= prefix.len()
            && url.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    let rest = if lower_starts("https://") {
        &url[8..]
    } else if lower_starts("http://") {
        &url[7..]
    } else {
        return Err(format!(
            "audio_url {} is not an http or https URL",
            quoted(url)
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("audio_url {} has no host", quoted(url)));
    }
    let invalid = ".invalid";
    let under_invalid = host.eq_ignore_ascii_case("invalid")
        || (host.len() > invalid.len()
            && host.is_char_boundary(host.len() - invalid.len())
            && host[host.len() - invalid.len()..].eq_ignore_ascii_case(invalid));
    if under_invalid {
        return Err(format!("audio_url host {host} is under .invalid"));
    }
    Ok(())
}

/// Fills the 200 of Cover.
struct Accepted<'a> {
    task: &'a Created,
    task_id: [u8; 36],
    conversion_id: [u8; 36],
}

impl<'a> Accepted<'a> {
    fn new(task: &'a Created) -> Self {
        let mut task_id = [0u8; 36];
        let mut conversion_id = [0u8; 36];
        task.task_id.hyphenated().encode_lower(&mut task_id);
        task.conversion_id
            .hyphenated()
            .encode_lower(&mut conversion_id);
        Accepted {
            task,
            task_id,
            conversion_id,
        }
    }
}

impl Fill for Accepted<'_> {
    fn value(&self, field: Field) -> Val<'_> {
        let t = self.task;
        match field {
            Field::Success => Val::Bool(true),
            Field::TaskId => Val::Str(std::str::from_utf8(&self.task_id).unwrap_or_default()),
            Field::ConversionId => {
                Val::Str(std::str::from_utf8(&self.conversion_id).unwrap_or_default())
            }
            Field::Eta => Val::Int(i64::try_from(t.eta).unwrap_or(i64::MAX)),
            Field::CreditEstimate => Val::Num(from_cents(t.cost)),
            // The answer to a new task always says it was queued, as the real API's does.
            Field::Status => Val::Str(IN_QUEUE),
            Field::Error | Field::Detail => Val::Absent,
            _ => Val::Default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_urls() {
        assert!(check_audio_url("https://www.youtube.com/watch?v=jGflUbPQfW8").is_ok());
        assert!(check_audio_url("http://song.example/x.mp3").is_ok());
        assert!(check_audio_url("ftp://song.example/x.mp3").is_err());
        assert!(check_audio_url("https://song.invalid/x.mp3").is_err());
        assert!(check_audio_url("https://a.b.INVALID./x.mp3").is_err());
        assert!(check_audio_url("<AUDIO_URL>").is_err());
        assert!(check_audio_url("http://").is_err());
        assert!(check_audio_url("HTTPS://user:pw@Song.Example:8443/a?b#c").is_ok());
        assert!(check_audio_url("http://[::1]:80/x").is_ok());
        assert!(check_audio_url("http://x.invalid:80/a").is_err());
    }
}
