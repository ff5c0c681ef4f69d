//! Fuzz target `form`: the Cover form's readers (multipart and url-encoded) through the mock's
//! hidden door, `musicgpt_cover_mock::fuzzing::check_cover_form`.
//!
//! An input is `CONTENT-TYPE\nBODY`: the first line is the request's Content-Type (so the
//! multipart boundary comes from the input), the rest the body. Beyond "never panics", each input
//! is held to what must be true whatever the bytes:
//! - the body cut into pieces (at places derived from the input) gives the same answer as whole:
//!   a reader must not depend on how the network happened to split the bytes;
//! - a refusal has one of the statuses the route answers a bad form with, and says why;
//! - an accepted form meets the spec's rules, read here from openapi.yaml independently of the
//!   mock's own compiled rules: every field a property of `CoverRequest`, none twice, the
//!   required ones there, integers within their bounds, text within its lengths, an alternative
//!   of each `anyOf` rule met (beside the properties or in `allOf`);
//! - an accepted url-encoded text field has the value `form_urlencoded` decodes for it, and an
//!   accepted multipart text field's bytes are in the body.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use musicgpt_cover_mock::fuzzing::check_cover_form;
use serde_json::Value;

/// Small, so an input of a few hundred bytes can reach the upload limit (413).
const MAX_UPLOAD: u64 = 256;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let content_type = String::from_utf8_lossy(content_type);
    let whole = check_cover_form(&content_type, &[body], MAX_UPLOAD);
    let pieces = cut(data, body);
    let cut_up = check_cover_form(&content_type, &pieces, MAX_UPLOAD);
    assert_eq!(
        whole,
        cut_up,
        "the answer depends on where the body is cut ({} pieces)",
        pieces.len()
    );
    match whole {
        Err((status, why)) => {
            assert!(
                matches!(status, 400 | 413 | 422),
                "status {status} for a bad form: {why}"
            );
            assert!(status == 413 || !why.is_empty(), "{status} says nothing");
        }
        Ok(fields) => {
            let urlencoded = content_type.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
            meets_spec(&fields, body, urlencoded);
        }
    }
});

/// The body in pieces of 1 to 64 bytes, their lengths drawn from a generator seeded with a hash
/// of the input, so a given input is always cut the same way.
fn cut<'a>(data: &[u8], body: &'a [u8]) -> Vec<&'a [u8]> {
    // FNV-1a, then xorshift.
    let mut state = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    let mut pieces = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = usize::try_from(state % 64).unwrap_or(0) + 1;
        let (piece, after) = rest.split_at(len.min(rest.len()));
        pieces.push(piece);
        rest = after;
    }
    pieces
}

/// A property of the form schema.
struct Property {
    integer: bool,
    binary: bool,
    min: Option<i64>,
    max: Option<i64>,
    min_length: usize,
    max_length: Option<usize>,
}

/// `components.schemas.CoverRequest` as the rules an accepted form must meet.
struct FormRules {
    properties: Vec<(String, Property)>,
    required: Vec<String>,
    /// Each `anyOf` rule (beside the properties, or a member of `allOf`), as its alternatives:
    /// each alternative's required fields, with the least length its own `properties` ask of each.
    rules: Vec<Vec<Vec<(String, usize)>>>,
}

fn rules() -> &'static FormRules {
    static RULES: OnceLock<FormRules> = OnceLock::new();
    RULES.get_or_init(|| {
        let spec = musicgpt_cover_mock::openapi_document::document()
            .expect("the mock's openapi.yaml reads as YAML")
            .json();
        let form = &spec["components"]["schemas"]["CoverRequest"];
        let names = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let length = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
        let properties = form["properties"]
            .as_object()
            .expect("CoverRequest has properties")
            .iter()
            .map(|(name, p)| {
                let property = Property {
                    integer: p["type"] == "integer",
                    binary: p["format"] == "binary",
                    min: p["minimum"].as_i64(),
                    max: p["maximum"].as_i64(),
                    min_length: length(&p["minLength"]).unwrap_or(0),
                    max_length: length(&p["maxLength"]),
                };
                (name.clone(), property)
            })
            .collect();
        let all_of = form["allOf"].as_array().into_iter().flatten();
        let rules = std::iter::once(form)
            .chain(all_of)
            .filter_map(|holder| holder["anyOf"].as_array())
            .map(|alternatives| {
                alternatives
                    .iter()
                    .map(|alt| {
                        names(&alt["required"])
                            .into_iter()
                            .map(|name| {
                                let least = length(&alt["properties"][&name]["minLength"]);
                                (name, least.unwrap_or(0))
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        FormRules {
            properties,
            required: names(&form["required"]),
            rules,
        }
    })
}

fn meets_spec(fields: &[(String, String)], body: &[u8], urlencoded: bool) {
    let rules = rules();
    let given = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    for (index, (name, value)) in fields.iter().enumerate() {
        assert!(
            fields[..index].iter().all(|(n, _)| n != name),
            "{name} accepted twice"
        );
        let Some((_, property)) = rules.properties.iter().find(|(n, _)| n == name) else {
            panic!("{name} accepted, but CoverRequest has no such property");
        };
        if property.binary {
            let size = value.strip_prefix("file:").map(str::parse::<u64>);
            assert!(
                matches!(size, Some(Ok(n)) if n <= MAX_UPLOAD),
                "{name} accepted as {value:?}, over the upload limit or not a file"
            );
            continue;
        }
        if property.integer {
            let n: i64 = value.parse().expect("an accepted integer is decimal");
            assert!(
                property.min.is_none_or(|min| n >= min) && property.max.is_none_or(|max| n <= max),
                "{name} = {n} accepted, out of [{:?}, {:?}]",
                property.min,
                property.max
            );
        } else {
            let chars = value.chars().count();
            assert!(
                chars >= property.min_length && property.max_length.is_none_or(|max| chars <= max),
                "{name} accepted with {chars} characters"
            );
            assert!(
                value.len() <= musicgpt_cover_mock::MAX_TEXT_BYTES,
                "{name} accepted with {} bytes",
                value.len()
            );
        }
        if urlencoded {
            // The mock reads the body as a stream with its own decoder: it must agree with the
            // reference decoder on every value it accepts.
            let reference = form_urlencoded::parse(body)
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            if property.integer {
                assert_eq!(
                    reference.parse::<i64>().ok(),
                    value.parse::<i64>().ok(),
                    "{name}: the mock read {value:?} from {reference:?}"
                );
            } else {
                assert_eq!(&reference, value, "{name}: decoded differently");
            }
        } else if !property.integer {
            assert!(
                value.is_empty() || body.windows(value.len()).any(|w| w == value.as_bytes()),
                "{name} accepted as {value:?}, which is not in the body"
            );
        }
    }
    for name in &rules.required {
        assert!(
            given(name).is_some(),
            "accepted without the required {name}"
        );
    }
    for alternatives in &rules.rules {
        let met = alternatives.iter().any(|alternative| {
            alternative.iter().all(|(name, least)| {
                given(name).is_some_and(|v| v.starts_with("file:") || v.chars().count() >= *least)
            })
        });
        assert!(met, "accepted with no anyOf alternative met: {fields:?}");
    }
}
