//! `POST /v1/Cover`: key, `Prefer`, the streamed form (multipart or url-encoded), the audio rules,
//! credits, then a new task.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use uuid::fmt::Hyphenated;

use crate::domain::audio::{DURATION_SECONDS, Probe};
use crate::domain::credits::from_cents;
use crate::domain::journal::FormLog;
use crate::domain::tasks::{AudioSource, NewTask, Outcome, Status};
use crate::domain::uploads::Incoming;
use crate::domain::{CreateError, Created, MockState};
use crate::http::auth::request_key;
use crate::http::form::{Encoding, FORM_OVERHEAD, FormError, encoding, multipart, urlencoded};
use crate::http::prefer::{Prefer, replay};
use crate::http::replay::{recorded, unrecorded};
use crate::http::respond::{auth_error, closing, documented, json};
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
    let max_upload = state.config().mock.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_upload.saturating_add(FORM_OVERHEAD)) {
        // Refused before a byte of the body is read.
        return documented(op, StatusCode::PAYLOAD_TOO_LARGE, None);
    }

    // A replaying mock matches uploads by their hash.
    let mut record = if state.replaying() {
        FormLog::hashing()
    } else {
        FormLog::default()
    };
    let result = match encoding {
        Encoding::Multipart { boundary } => {
            let uploads = Some(state.uploads());
            multipart::read(form_spec, body, boundary, max_upload, uploads, &mut record).await
        }
        // A url-encoded file (its bytes percent-encoded) is only counted: the tune stands in.
        Encoding::Urlencoded => urlencoded::read(form_spec, body, max_upload, &mut record)
            .await
            .map(|values| (values, None)),
    };
    // Only a replaying mock reads the form back as a record (a JSON round trip) to match it.
    if result.is_ok() && state.replaying() {
        let (method, path, query) = (parts.method.as_str(), parts.uri.path(), parts.uri.query());
        let form = record.record();
        if let Some(answer) = state.replay_answer(method, path, query, Some(&form)) {
            let mut response = recorded(answer);
            response.extensions_mut().insert(record);
            return response;
        }
        if let Some(mut refused) = unrecorded(&state, method, path, query, Some(&form)) {
            refused.extensions_mut().insert(record);
            return refused;
        }
    }
    let mut response = match result {
        Err(FormError::Stalled(text)) => {
            record.set_error(text.clone());
            closing(documented(op, StatusCode::REQUEST_TIMEOUT, Some(&text)))
        }
        Err(FormError::TooLarge) => {
            record.set_error(format!(
                "{} is larger than the upload limit of {max_upload} bytes",
                form_spec.fields[spec.cover_fields.audio_file].name
            ));
            documented(op, StatusCode::PAYLOAD_TOO_LARGE, None)
        }
        Err(FormError::Invalid(text)) => {
            record.set_error(text.clone());
            documented(op, op.invalid_status, Some(&text))
        }
        Ok((values, upload)) => {
            // The result lasts as long as the upload (its first minute); one that does not
            // decode gets the generated tune, and its task's record says why. What the probe
            // found goes with the upload, so it is not probed again.
            let (duration, described, upload) = match upload {
                Some(mut incoming) => {
                    let probed = incoming.probe().await;
                    let (duration, described) = match &probed {
                        Ok(probe) => (
                            probe.duration,
                            format!(
                                "made from the upload: {:.2} s{}, shifted by the pitch",
                                probe.duration,
                                if probe.truncated {
                                    " (only its first minute)"
                                } else {
                                    ""
                                }
                            ),
                        ),
                        Err(why) => (
                            DURATION_SECONDS,
                            format!(
                                "the upload did not decode: {why}; the result is the generated tune"
                            ),
                        ),
                    };
                    (duration, described, Some((incoming, probed)))
                }
                None => (DURATION_SECONDS, String::new(), None),
            };
            let form = Form {
                spec: form_spec,
                values,
                upload,
                duration,
                described,
            };
            accept(&state, key, outcome, form, &mut record)
        }
    };
    response.extensions_mut().insert(record);
    response
}

/// A form that passed the spec's rules, with its upload (if it had one) and what its probe found,
/// and how long its result will last.
struct Form<'s> {
    spec: &'s FormSpec,
    values: Vec<Option<Value>>,
    upload: Option<(Incoming, Result<Probe, String>)>,
    duration: f64,
    /// What the task's record will say of its audio.
    described: String,
}

fn accept(
    state: &MockState,
    key: &str,
    outcome: Outcome,
    form: Form<'_>,
    record: &mut FormLog,
) -> Response {
    let Form {
        spec: form_spec,
        mut values,
        upload,
        duration,
        described,
    } = form;
    let spec = state.spec();
    let op = &spec.cover;
    let fields = spec.cover_fields;
    let name = |slot: usize| form_spec.fields[slot].name.as_str();
    if !form_spec.alternatives_met(&values) {
        // The documented body says exactly this: neither audio was given.
        record.set_error(fields.no_song(form_spec));
        return documented(op, StatusCode::UNPROCESSABLE_ENTITY, None);
    }
    let mut take = |slot: usize| values[slot].take();
    let text = |v: Option<Value>| match v {
        Some(Value::Text(t)) => Some(t),
        _ => None,
    };
    // The file wins when both are given; an empty URL counts as not given.
    let audio_url = take(fields.audio_url);
    let source = match take(fields.audio_file) {
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
                record.set_error(format!("{} {why}", name(fields.audio_url)));
                return documented(op, StatusCode::BAD_REQUEST, None);
            }
            AudioSource::Url { url }
        }
    };
    let voice_id = text(take(fields.voice_id)).unwrap_or_default();
    let pitch = match take(fields.pitch) {
        Some(Value::Integer(n)) => n,
        _ => spec.pitch_default,
    };
    let webhook_url = text(take(fields.webhook_url)).filter(|u| !u.is_empty());
    // What is left, the file's bytes aside, is echoed by name (`NewTask::echoed`).
    let echoed = (form_spec.fields.iter().zip(values))
        .filter_map(|(rule, value)| match value? {
            Value::File { .. } => None,
            value => Some((rule.name.clone(), value)),
        })
        .collect();
    let new = NewTask {
        api_key: key.to_owned(),
        voice_id,
        pitch,
        webhook_url,
        source,
        outcome,
        echoed,
    };
    let upload = upload.filter(|_| matches!(new.source, AudioSource::File { .. }));
    let duration = if upload.is_some() {
        duration
    } else {
        DURATION_SECONDS
    };
    match state.create_task_lasting(new, duration) {
        Ok(task) => {
            if let Some((incoming, probed)) = upload {
                match state.uploads().keep(incoming, task.task_id, pitch, &probed) {
                    Ok(()) => state.uploads().describe(&task.task_id, described),
                    Err(e) => {
                        tracing::warn!(error = %e, task = %task.task_id, "the upload was not kept; the task keeps the generated tune");
                    }
                }
            }
            json(StatusCode::OK, spec.cover_ok.render(&Accepted::new(&task)))
        }
        Err(CreateError::Insufficient(balance)) => {
            record.set_error(format!(
                "the key's balance of {} credits is below the estimate",
                from_cents(balance)
            ));
            documented(op, StatusCode::PAYMENT_REQUIRED, None)
        }
        Err(CreateError::Full(capacity)) => {
            // Like the real API's limit on parallel conversions: no task is ever dropped to make
            // room for another, nor a webhook to make room for a task.
            record.set_error(format!(
                "the task store is full: its {capacity} places (--task-capacity), or its 64 MiB, hold tasks that are unfinished or whose webhook is still pending"
            ));
            documented(op, StatusCode::TOO_MANY_REQUESTS, None)
        }
    }
}

/// Whether the mock would "download" this URL: http(s) with a host that is a well-formed name not
/// under `.invalid`, or a well-formed IP address, and a port that exists. Nothing is fetched,
/// ever. The authority is read as a WHATWG URL parser (what a downloader uses) reads it, so a
/// URL cannot show one host to this check and another to a downloader: the last `@` ends the
/// userinfo, and `\` ends the authority as `/` does. (Hand-rolled: parsing the URL whole costs
/// more than the rest of a Cover request's checks together.) The error reads after the field's
/// name.
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
        return Err(format!("{} is not an http or https URL", quoted(url)));
    };
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(literal) = host_port.strip_prefix('[') {
        let Some((v6, after)) = literal.split_once(']') else {
            return Err(format!(
                "{} has an IP literal with no closing ]",
                quoted(url)
            ));
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!(
                "{} has an IP literal [{v6}] that is not an IPv6 address",
                quoted(url)
            ));
        }
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => {
                return Err(format!(
                    "{} has {after:?} after its IP literal",
                    quoted(url)
                ));
            }
        };
        (v6, port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    // An empty port is the scheme's default, as WHATWG reads `http://host:/`.
    if let Some(port) = port.filter(|p| !p.is_empty())
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok())
    {
        return Err(format!(
            "{} has port {port:?}; a port is a number from 0 to 65535",
            quoted(url)
        ));
    }
    if host_port.starts_with('[') {
        return Ok(());
    }
    let host = host.trim_end_matches('.');
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("{} has no host", quoted(url)));
    }
    // WHATWG's forbidden domain code points: no downloader resolves a host holding one.
    if let Some(c) = host
        .chars()
        .find(|&c| c.is_control() || "#/:<>?@[\\]^|%".contains(c))
    {
        return Err(format!("{} has {c:?} in its host", quoted(url)));
    }
    // A host whose last label is a number is an IPv4 address to WHATWG, or no host at all.
    let last = host.rsplit('.').next().unwrap_or_default();
    if is_number(last) && ipv4(host).is_none() {
        return Err(format!(
            "{} has host {host}, which is neither a name nor an IPv4 address",
            quoted(url)
        ));
    }
    let invalid = ".invalid";
    let under_invalid = host.eq_ignore_ascii_case("invalid")
        || (host.len() > invalid.len()
            && host.is_char_boundary(host.len() - invalid.len())
            && host[host.len() - invalid.len()..].eq_ignore_ascii_case(invalid));
    if under_invalid {
        return Err(format!("host {host} is under .invalid"));
    }
    Ok(())
}

/// WHATWG's "ends in a number": all decimal digits, or an IPv4 number in another base.
fn is_number(part: &str) -> bool {
    (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())) || ipv4_number(part).is_some()
}

/// A WHATWG IPv4 number: decimal, `0x` hex or `0` octal digits.
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        return Some(0); // `0x` alone is 0
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // A number, but longer than any that fits: too large for any part.
    Some(u64::from_str_radix(digits, radix).unwrap_or(u64::MAX))
}

/// The WHATWG IPv4 parser: 1 to 4 numbers, each below 256 but the last, which fills the rest.
fn ipv4(host: &str) -> Option<u32> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts
        .iter()
        .map(|p| ipv4_number(p))
        .collect::<Option<_>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    let room = 8 * (5 - numbers.len() as u32);
    if *last >= 1u64 << room {
        return None;
    }
    let mut address = *last;
    for (i, n) in init.iter().enumerate() {
        address += n << (8 * (3 - i as u32));
    }
    u32::try_from(address).ok()
}

/// Fills the 200 of Cover.
struct Accepted<'a> {
    task: &'a Created,
    task_id: [u8; Hyphenated::LENGTH],
    conversion_id: [u8; Hyphenated::LENGTH],
}

impl<'a> Accepted<'a> {
    fn new(task: &'a Created) -> Self {
        let mut task_id = [0u8; Hyphenated::LENGTH];
        let mut conversion_id = [0u8; Hyphenated::LENGTH];
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
            Field::Status => Val::Str(Status::InQueue.as_str()),
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
        // Read as a downloader reads them.
        for ok in [
            "http://127.0.0.1/a",
            "http://2130706433/a",
            "http://0x7f.1/a",
            "http://x.example:/a",
            "http://x.example:65535/a",
            "https://x.example@y.example/a",
            "http://1.2.3.4.example/a",
            "http://0xzz/a",
        ] {
            assert!(check_audio_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://x.example@song.invalid/a",
            "https://song.invalid\\@x.example/a",
            "http://[::1/a",
            "http://[::1]x/a",
            "http://[not-an-ip]/a",
            "http://256.0.0.1/a",
            "http://1.2.3.4.5/a",
            "http://0x100000000/a",
            "http://99999999999999999999999/a",
            "http://x.example:99999/a",
            "http://x.example:8o/a",
            "http://exa<mple.com/a",
            "http://user:pw@/a",
        ] {
            assert!(check_audio_url(bad).is_err(), "{bad}");
        }
    }
}
