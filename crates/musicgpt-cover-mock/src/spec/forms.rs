//! The rules of form fields and query parameters, compiled from their schemas, and the checks
//! of a value against them: where a spec field is validated.

use openapiv3::Schema;
use serde_json::Value as Json;

use super::reader::{Ctx, Kind};

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
    /// The schema's `anyOf`: the form is acceptable when all needs of one alternative are met.
    pub(crate) alternatives: Vec<Vec<Need>>,
}

impl FormSpec {
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Every required field was given; the error names the first one missing.
    pub(crate) fn required_given(&self, values: &[Option<Value>]) -> Result<(), String> {
        match self
            .fields
            .iter()
            .zip(values)
            .find(|(rule, value)| rule.required && value.is_none())
        {
            Some((rule, _)) => Err(format!("{} is required", rule.name)),
            None => Ok(()),
        }
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

impl<'a> Ctx<'a> {
    pub(super) fn form(&self, schema: &Schema) -> Result<FormSpec, String> {
        let shape = self.shape(schema)?;
        let mut fields = Vec::new();
        for (name, prop) in shape.properties {
            let prop = self.boxed_schema(prop)?;
            fields.push(self.rule(name, prop, shape.required.iter().any(|r| r == name))?);
        }
        let mut alternatives = Vec::new();
        for alt in shape.any_of {
            let alt = self.schema(alt)?;
            let alt_shape = self.shape(alt)?;
            let mut needs = Vec::new();
            for name in alt_shape.required {
                let field = fields
                    .iter()
                    .position(|f| &f.name == name)
                    .ok_or_else(|| format!("form anyOf requires unknown field {name}"))?;
                let min_length = match alt_shape.properties.iter().find(|(n, _)| *n == name) {
                    Some((_, p)) => self.shape(self.boxed_schema(p)?)?.min_length,
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

    pub(super) fn rule(&self, name: &str, schema: &Schema, required: bool) -> Result<Rule, String> {
        let shape = self.shape(schema)?;
        let kind = match (shape.kind, shape.binary) {
            (Kind::Integer, _) => ValueKind::Integer,
            (Kind::String, true) => ValueKind::Binary,
            (Kind::String, false) => ValueKind::Text,
            (other, _) => return Err(format!("field {name}: unsupported type {other:?}")),
        };
        Ok(Rule {
            name: name.to_owned(),
            kind,
            required,
            min_length: shape.min_length,
            max_length: shape.max_length,
            minimum: shape.minimum,
            maximum: shape.maximum,
            default: schema.schema_data.default.as_ref().and_then(Json::as_i64),
            uuid: shape.uuid,
        })
    }
}
