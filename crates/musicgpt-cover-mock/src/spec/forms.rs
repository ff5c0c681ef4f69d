//! The rules of form fields and query parameters, compiled from their schemas, and the checks
//! of a value against them: where a spec field is validated.
//!
//! A schema's `x-mock` extension adds the mock's own bounds to the API's (`minimum`, `maximum`,
//! `minLength`, `maxLength`): the spec says there which rules are the mock's, and the client,
//! generated from the schema alone, does not enforce them.

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::reader::{Kind, Schema, read};

/// The media type of the Cover form.
pub(crate) const MULTIPART: &str = "multipart/form-data";
/// The media type of a form without a file, documented beside the multipart one.
pub(crate) const URLENCODED: &str = "application/x-www-form-urlencoded";

/// What a form field or query parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Text,
    Integer,
    /// A file upload (`format: binary`).
    Binary,
}

/// The checks of one form field or query parameter.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) kind: ValueKind,
    pub(crate) required: bool,
    pub(crate) min_length: usize,
    pub(crate) max_length: Option<usize>,
    pub(crate) minimum: Option<i64>,
    pub(crate) maximum: Option<i64>,
    pub(crate) default: Option<i64>,
    pub(crate) uuid: bool,
    /// The schema's `enum`: the only values taken, exactly as written (empty: any value).
    pub(crate) allowed: Vec<String>,
    /// The schema's `example`, when it is a string.
    pub(crate) example: Option<String>,
}

/// A checked value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Checked<'a> {
    Text(&'a str),
    Integer(i64),
}

impl Rule {
    /// Checks a text value against this rule; the error says exactly what was wrong.
    pub(crate) fn check<'a>(&self, raw: &'a str) -> Result<Checked<'a>, String> {
        match self.kind {
            ValueKind::Integer => match raw.parse::<i64>() {
                Ok(n)
                    if self.minimum.is_none_or(|m| n >= m)
                        && self.maximum.is_none_or(|m| n <= m) =>
                {
                    Ok(Checked::Integer(n))
                }
                _ => Err(format!(
                    "{} must be {}, got {}",
                    self.name,
                    self.integer_range(),
                    quoted(raw)
                )),
            },
            ValueKind::Text | ValueKind::Binary => {
                // Counting characters only when a bound needs it: bytes are at least as many.
                let len = if self.min_length <= 1 && self.max_length.is_none() {
                    raw.len()
                } else {
                    raw.chars().count()
                };
                if len < self.min_length {
                    return Err(if self.min_length == 1 {
                        format!("{} must not be empty", self.name)
                    } else {
                        format!(
                            "{} must be at least {} characters long, got {}",
                            self.name,
                            self.min_length,
                            quoted(raw)
                        )
                    });
                }
                if let Some(max) = self.max_length
                    && len > max
                {
                    return Err(format!(
                        "{} must be at most {max} characters long",
                        self.name
                    ));
                }
                if !self.allowed.is_empty() && !self.allowed.iter().any(|a| a == raw) {
                    return Err(format!(
                        "{} must be one of {}, got {}",
                        self.name,
                        self.allowed.join(", "),
                        quoted(raw)
                    ));
                }
                if self.uuid && uuid::Uuid::try_parse(raw).is_err() {
                    return Err(format!("{} must be a UUID, got {}", self.name, quoted(raw)));
                }
                Ok(Checked::Text(raw))
            }
        }
    }

    fn integer_range(&self) -> String {
        match (self.minimum, self.maximum) {
            (Some(lo), Some(hi)) => format!("an integer between {lo} and {hi}"),
            (Some(lo), None) => format!("an integer of at least {lo}"),
            (None, Some(hi)) => format!("an integer of at most {hi}"),
            (None, None) => "an integer".to_owned(),
        }
    }
}

/// A value quoted for an error message, cut short when long.
pub(crate) fn quoted(raw: &str) -> String {
    const MAX: usize = 64;
    if raw.chars().count() <= MAX {
        format!("{raw:?}")
    } else {
        let head: String = raw.chars().take(MAX).collect();
        format!("{head:?}… ({} bytes)", raw.len())
    }
}

/// The form (multipart or url-encoded) of an operation.
#[derive(Debug)]
pub(crate) struct FormSpec {
    pub(crate) fields: Vec<Rule>,
    /// The schema's `anyOf` rule: the form is acceptable when all needs of one alternative are met.
    pub(crate) alternatives: Vec<Vec<Need>>,
}

impl FormSpec {
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Every required field was given; the error names the first one missing.
    pub(crate) fn required_given(&self, values: &[Option<Value>]) -> Result<(), String> {
        (self.fields.iter().zip(values))
            .find(|(rule, value)| rule.required && value.is_none())
            .map_or(Ok(()), |(rule, _)| {
                Err(format!("{} is required", rule.name))
            })
    }

    /// A form the spec's examples fill: each required field, then the fields of the first
    /// `anyOf` alternative that all have one, each with its example, in that order. `None` when
    /// the examples fill no valid form.
    pub(crate) fn example_form(&self) -> Option<Vec<(&str, &str)>> {
        fn example(rule: &Rule) -> Option<(&str, &str)> {
            Some((rule.name.as_str(), rule.example.as_deref()?))
        }
        let fields = self.fields.iter().filter(|r| r.required);
        let mut form = fields.map(example).collect::<Option<Vec<_>>>()?;
        if !self.alternatives.is_empty() {
            form.extend(self.alternatives.iter().find_map(|alt| {
                (alt.iter())
                    .map(|need| self.fields.get(need.field).and_then(example))
                    .collect::<Option<Vec<_>>>()
            })?);
        }
        Some(form)
    }

    /// Whether one of the schema's `anyOf` alternatives is met (true when there are none).
    pub(crate) fn alternatives_met(&self, values: &[Option<Value>]) -> bool {
        self.alternatives.is_empty()
            || self.alternatives.iter().any(|alt| {
                alt.iter().all(|need| match values.get(need.field) {
                    Some(Some(Value::Text(t))) => t.chars().count() >= need.min_length,
                    Some(Some(_)) => true,
                    _ => false,
                })
            })
    }
}

/// A form field's value once checked against its rule, one slot per field of the [`FormSpec`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Integer(i64),
    /// A file upload: counted as it streamed by, never kept.
    File {
        filename: Option<String>,
        content_type: Option<String>,
        size: u64,
    },
}

/// One requirement of an `anyOf` alternative: the field is given, at least this long.
#[derive(Debug, Clone)]
pub(crate) struct Need {
    pub(crate) field: usize,
    pub(crate) min_length: usize,
}

/// The form of an object schema: a rule per property, and the alternatives of its `anyOf`.
pub(super) fn form(schema: &Yaml) -> Result<FormSpec, String> {
    let form: Schema = read(schema)?;
    let fields = (form.properties())
        .map(|(name, prop)| rule(name, prop, form.required.iter().any(|r| r == name)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut alternatives = Vec::new();
    for alt in form_rule(form)? {
        let alt: Schema = read(&alt)?;
        let mut needs = Vec::new();
        for name in &alt.required {
            let field = fields
                .iter()
                .position(|f| &f.name == name)
                .ok_or_else(|| format!("form anyOf requires unknown field {name}"))?;
            let min_length = match alt.properties().find(|(n, _)| n == name) {
                Some((_, p)) => read::<Schema>(p)?.min_length,
                None => 0,
            };
            needs.push(Need { field, min_length });
        }
        alternatives.push(needs);
    }
    Ok(FormSpec {
        fields,
        alternatives,
    })
}

/// The alternatives of the form's one `anyOf` rule: beside its properties, or the one member
/// of its `allOf` (where generators keep the properties' types). Another shape is an error at
/// start-up, not a rule silently not kept.
fn form_rule(form: Schema) -> Result<Vec<Yaml>, String> {
    const SHAPES: &str = "an anyOf of required lists, beside the properties or as the one \
                          member of allOf";
    match (form.any_of, form.all_of.as_slice()) {
        (any_of, []) => Ok(any_of),
        (any_of, [member]) if any_of.is_empty() => {
            let member: Schema = read(member)?;
            if member.any_of.is_empty()
                || !member.all_of.is_empty()
                || !member.properties.is_empty()
                || !member.required.is_empty()
            {
                return Err(format!("form allOf: only {SHAPES} is understood"));
            }
            Ok(member.any_of)
        }
        _ => Err(format!("form rule: only {SHAPES} is understood")),
    }
}

/// The rule of a form field or query parameter.
pub(super) fn rule(name: &str, schema: &Yaml, required: bool) -> Result<Rule, String> {
    let parsed: Schema = read(schema)?;
    let kind = match (parsed.kind(), parsed.format.as_deref()) {
        (Kind::Integer, _) => ValueKind::Integer,
        (Kind::String, Some("binary")) => ValueKind::Binary,
        (Kind::String, _) => ValueKind::Text,
        (other, _) => return Err(format!("field {name}: unsupported type {other:?}")),
    };
    let mut rule = Rule {
        name: name.to_owned(),
        kind,
        required,
        min_length: parsed.min_length,
        max_length: parsed.max_length,
        minimum: parsed.minimum(),
        maximum: parsed.maximum(),
        default: parsed.default.as_ref().and_then(Json::as_i64),
        uuid: parsed.format.as_deref() == Some("uuid"),
        allowed: (parsed.enumeration.iter())
            .filter_map(|v| Some(v.as_str()?.to_owned()))
            .collect(),
        example: (parsed.example.as_ref())
            .and_then(Json::as_str)
            .map(str::to_owned),
    };
    if let Some(own) = schema.get(MOCK_RULES) {
        rule.tighten(&read(own)?)?;
    }
    Ok(rule)
}

/// The schema extension holding the mock's own bounds, beyond the API's.
pub(crate) const MOCK_RULES: &str = "x-mock";

impl Rule {
    /// Adds the bounds of an `x-mock` extension: each keyword narrows the API's bound, if any.
    /// A keyword the mock cannot check, or one that does not fit the field's type, is an error
    /// at start-up rather than a rule silently not kept.
    fn tighten(&mut self, own: &Json) -> Result<(), String> {
        let name = &self.name;
        let keywords = own
            .as_object()
            .ok_or_else(|| format!("field {name}: {MOCK_RULES} is not a mapping of keywords"))?;
        for (keyword, value) in keywords {
            let bad = || {
                format!(
                    "field {name}: {MOCK_RULES} {keyword} {value} is not a bound the mock checks"
                )
            };
            let length = || {
                let length = value.as_u64().and_then(|n| usize::try_from(n).ok());
                length.ok_or_else(bad)
            };
            match (keyword.as_str(), self.kind) {
                ("minimum", ValueKind::Integer) => {
                    let own = value.as_i64().ok_or_else(bad)?;
                    self.minimum = Some(self.minimum.map_or(own, |api| api.max(own)));
                }
                ("maximum", ValueKind::Integer) => {
                    let own = value.as_i64().ok_or_else(bad)?;
                    self.maximum = Some(self.maximum.map_or(own, |api| api.min(own)));
                }
                ("minLength", ValueKind::Text) => self.min_length = self.min_length.max(length()?),
                ("maxLength", ValueKind::Text) => {
                    let own = length()?;
                    self.max_length = Some(self.max_length.map_or(own, |api| api.min(own)));
                }
                _ => return Err(bad()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(kind: ValueKind) -> Rule {
        Rule {
            name: "n".to_owned(),
            kind,
            required: false,
            min_length: 0,
            max_length: None,
            minimum: Some(-5),
            maximum: None,
            default: None,
            uuid: false,
            allowed: Vec::new(),
            example: None,
        }
    }

    #[test]
    fn x_mock_narrows_the_api_bounds() {
        let mut integer = rule(ValueKind::Integer);
        assert_eq!(
            integer.tighten(&json!({"minimum": 1, "maximum": 100})),
            Ok(())
        );
        assert_eq!((integer.minimum, integer.maximum), (Some(1), Some(100)));
        // The API's bound stays when it is the narrower one.
        assert_eq!(integer.tighten(&json!({"minimum": -10})), Ok(()));
        assert_eq!(integer.minimum, Some(1));
        assert_eq!(
            integer.check("0"),
            Err("n must be an integer between 1 and 100, got \"0\"".to_owned())
        );
        let mut text = rule(ValueKind::Text);
        assert_eq!(
            text.tighten(&json!({"minLength": 1, "maxLength": 3})),
            Ok(())
        );
        assert_eq!(text.check(""), Err("n must not be empty".to_owned()));
        assert!(text.check("abcd").is_err());
        assert_eq!(text.check("abc"), Ok(Checked::Text("abc")));
    }

    #[test]
    fn an_x_mock_keyword_the_mock_cannot_check_is_an_error() {
        for (kind, own) in [
            (ValueKind::Integer, json!({"minLength": 1})),
            (ValueKind::Text, json!({"minimum": 1})),
            (ValueKind::Text, json!({"pattern": "^a"})),
            (ValueKind::Integer, json!({"maximum": "ten"})),
            (ValueKind::Integer, json!(3)),
        ] {
            assert!(rule(kind).tighten(&own).is_err(), "{own}");
        }
    }
}
