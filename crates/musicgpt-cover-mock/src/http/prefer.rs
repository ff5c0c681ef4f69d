//! The `Prefer` request header: Prism's `code=` and `example=` (replay a documented response) and
//! the mock's own `outcome=` (how a Cover task ends).
//!
//! Tokens may come in one header or several, separated by commas or semicolons, values optionally
//! quoted: `Prefer: code=402, example=insufficient_credit`. Unknown tokens are ignored, as RFC 7240
//! asks (Prism's `dynamic=` among them: the mock's answers are always generated).

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use super::respond::{documented, json};
use crate::spec::{Example, Operation};

pub(crate) const PREFER: HeaderName = HeaderName::from_static("prefer");
pub(crate) const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// The tokens the mock understands.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Prefer {
    pub(crate) code: Option<String>,
    pub(crate) example: Option<String>,
    pub(crate) outcome: Option<String>,
}

impl Prefer {
    pub(crate) fn parse(headers: &HeaderMap) -> Prefer {
        let mut prefer = Prefer::default();
        for value in headers.get_all(PREFER) {
            let Ok(text) = value.to_str() else { continue };
            for token in text.split([',', ';']) {
                let Some((name, value)) = token.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_owned();
                match name.trim().to_ascii_lowercase().as_str() {
                    "code" => prefer.code = Some(value),
                    "example" => prefer.example = Some(value),
                    "outcome" => prefer.outcome = Some(value),
                    _ => {}
                }
            }
        }
        prefer
    }

    /// Whether a documented response is asked for.
    pub(crate) fn wants_replay(&self) -> bool {
        self.code.is_some() || self.example.is_some()
    }
}

/// Answers with the documented response `prefer` asks for, or with an error naming what exists.
/// `None` when nothing is asked.
pub(crate) fn replay(op: &Operation, prefer: &Prefer) -> Option<Response> {
    if !prefer.wants_replay() {
        return None;
    }
    Some(match pick(op, prefer) {
        Ok((status, example)) => {
            let applied = [
                (prefer.code.as_ref()).map(|_| format!("code={}", status.as_u16())),
                (prefer.example.as_ref()).map(|_| format!("example={}", example.name)),
            ];
            let applied = applied.into_iter().flatten().collect::<Vec<_>>().join(", ");
            let mut response = json(status, example.body.clone());
            if let Ok(v) = HeaderValue::from_str(&applied) {
                response.headers_mut().insert(PREFERENCE_APPLIED, v);
            }
            response
        }
        Err(text) => documented(op, op.invalid_status, Some(&text)),
    })
}

fn pick<'a>(op: &'a Operation, prefer: &Prefer) -> Result<(StatusCode, &'a Example), String> {
    let what = format!("{} {}", op.method, op.path);
    let codes = || {
        op.responses
            .iter()
            .map(|r| r.status.as_u16().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let examples = || {
        op.responses
            .iter()
            .flat_map(|r| {
                r.examples
                    .iter()
                    .map(move |e| format!("{} ({})", e.name, r.status.as_u16()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let doc = match &prefer.code {
        Some(code) => {
            let status = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| format!("Prefer: code={code} is not a status code"))?;
            Some(op.response(status).ok_or_else(|| {
                format!(
                    "Prefer: code={code} is not documented for {what}; documented: {}",
                    codes()
                )
            })?)
        }
        None => None,
    };
    match (&prefer.example, doc) {
        (Some(name), Some(doc)) => doc
            .examples
            .iter()
            .find(|e| &e.name == name)
            .map(|e| (doc.status, e))
            .ok_or_else(|| {
                format!(
                    "Prefer: example={name} is not an example of the {} answer of {what}; examples: {}",
                    doc.status.as_u16(),
                    examples()
                )
            }),
        (Some(name), None) => op
            .responses
            .iter()
            .find_map(|r| r.examples.iter().find(|e| &e.name == name).map(|e| (r.status, e)))
            .ok_or_else(|| format!("Prefer: example={name} is not an example of {what}; examples: {}", examples())),
        (None, Some(doc)) => doc
            .examples
            .first()
            .map(|e| (doc.status, e))
            .ok_or_else(|| format!("{what} documents no example for {}", doc.status.as_u16())),
        (None, None) => Err("nothing preferred".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(PREFER, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn parses_prism_style_tokens() {
        let p = Prefer::parse(&headers(&[
            "code=402, example=\"insufficient_credit\"",
            "outcome=FAILED; dynamic=true",
        ]));
        assert_eq!(p.code.as_deref(), Some("402"));
        assert_eq!(p.example.as_deref(), Some("insufficient_credit"));
        assert_eq!(p.outcome.as_deref(), Some("FAILED"));
        assert!(!Prefer::parse(&headers(&["respond-async"])).wants_replay());
    }

    #[test]
    fn picks_examples_and_names_what_exists() {
        let spec = crate::spec::spec().expect("spec");
        let op = &spec.cover;
        let p = |code: Option<&str>, example: Option<&str>| Prefer {
            code: code.map(str::to_owned),
            example: example.map(str::to_owned),
            outcome: None,
        };
        let picked = pick(op, &p(Some("402"), None)).map(|(s, e)| (s.as_u16(), e.name.clone()));
        assert_eq!(picked, Ok((402, "insufficient_credit".to_owned())));
        let picked = pick(op, &p(None, Some("full"))).map(|(s, e)| (s.as_u16(), e.name.clone()));
        assert_eq!(picked, Ok((200, "full".to_owned())));
        let err = pick(op, &p(Some("418"), None)).err().unwrap_or_default();
        assert!(err.contains("documented: 200, 400"), "{err}");
        let err = pick(op, &p(Some("200"), Some("no_audio")))
            .err()
            .unwrap_or_default();
        assert!(err.contains("minimal (200)"), "{err}");
    }
}
