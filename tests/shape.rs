//! A normal form for JSON Schemas, so that a spec component (converted by [`crate::schema`]) and
//! the schemars schema of the Rust type standing for it can be compared field by field.
//!
//! Both sides are reduced to a [`Shape`]: references inlined (names differ: `Cost` in the spec,
//! `Cost` or `CostString` in Rust), `"null"` taken out of types and unions into a `nullable`
//! flag, `oneOf`/`anyOf` both read as a union (an untagged enum is schemars' `anyOf`), one-item
//! `allOf` wrappers unwrapped (beside `properties`, an `allOf` or a union constrains the object
//! and is not read), descriptions, titles, defaults and examples ignored, and integer formats
//! (`uint64`, ...) turned into the bounds they imply. [`compare`] then applies the rules of the
//! contract, documented on it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

/// A schema in normal form.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Anything (no type constraint).
    Any,
    /// `null` only.
    Null,
    /// `true` or `false`.
    Boolean,
    /// A whole number.
    Integer(Bounds),
    /// Any number.
    Number(Bounds),
    /// A string.
    String(StringRules),
    /// A list.
    Array(Box<Shape>),
    /// An object with named fields.
    Object(BTreeMap<String, Field>),
    /// One of several shapes (`oneOf` / `anyOf`), in a fixed order (by [`Shape::kind`]).
    Union(Vec<Shape>),
}

/// Numeric bounds, all optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bounds {
    /// `minimum`.
    pub min: Option<f64>,
    /// `maximum`.
    pub max: Option<f64>,
    /// `exclusiveMinimum`.
    pub exclusive_min: Option<f64>,
    /// `exclusiveMaximum`.
    pub exclusive_max: Option<f64>,
}

/// String constraints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StringRules {
    /// `format`.
    pub format: Option<String>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `enum`.
    pub values: Option<Vec<String>>,
}

/// A field of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its type.
    pub shape: Shape,
    /// Listed in `required`.
    pub required: bool,
    /// Accepts `null`.
    pub nullable: bool,
}

/// The lower bound an integer `format` of schemars implies (`uint64` and friends: 0); schemars
/// also writes it as `minimum`, this covers hand-written schemas that only give the format.
fn format_min(format: Option<&str>) -> Option<f64> {
    format.filter(|f| f.starts_with("uint")).map(|_| 0.0)
}

impl Shape {
    /// Reads a JSON Schema (draft 7 as schemars writes it, or 2020-12 as [`crate::schema`] does).
    /// `$ref`s are looked up by their last segment in `defs`.
    ///
    /// # Errors
    /// A reference that does not resolve, a cycle, or a keyword this normal form cannot express
    /// (`allOf` of several schemas, `not`, ...), with the path where it was met.
    pub fn read(schema: &Value, defs: &Map<String, Value>) -> Result<(Shape, bool), String> {
        read(schema, defs, "", 0)
    }

    /// A short name of the kind, used to order unions and to pair their members.
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Any => "any",
            Shape::Null => "null",
            Shape::Boolean => "boolean",
            Shape::Integer(_) => "integer",
            Shape::Number(_) => "number",
            Shape::String(_) => "string",
            Shape::Array(_) => "array",
            Shape::Object(_) => "object",
            Shape::Union(_) => "union",
        }
    }

    /// A one-line description (objects as `object{a, b}`), for reports and snapshots.
    pub fn describe(&self) -> String {
        match self {
            Shape::Any | Shape::Null | Shape::Boolean => self.kind().to_owned(),
            Shape::Integer(b) | Shape::Number(b) => format!("{}{}", self.kind(), b.describe()),
            Shape::String(s) => format!("string{}", s.describe()),
            Shape::Array(items) => format!("array of {}", items.describe()),
            Shape::Object(fields) => format!(
                "object{{{}}}",
                fields.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            Shape::Union(members) => format!(
                "one of [{}]",
                members
                    .iter()
                    .map(Shape::describe)
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        }
    }
}

impl Bounds {
    fn describe(&self) -> String {
        let mut out = String::new();
        for (label, value) in [
            (">=", self.min),
            ("<=", self.max),
            (">", self.exclusive_min),
            ("<", self.exclusive_max),
        ] {
            if let Some(v) = value {
                let _ = write!(out, " {label} {v}");
            }
        }
        out
    }
}

impl StringRules {
    fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(f) = &self.format {
            let _ = write!(out, " ({f})");
        }
        if let Some(n) = self.min_length {
            let _ = write!(out, " minLength {n}");
        }
        if let Some(n) = self.max_length {
            let _ = write!(out, " maxLength {n}");
        }
        if let Some(p) = &self.pattern {
            let _ = write!(out, " pattern {p}");
        }
        if let Some(v) = &self.values {
            let _ = write!(out, " in {v:?}");
        }
        out
    }
}

fn number(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64)
}

fn read(
    schema: &Value,
    defs: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<(Shape, bool), String> {
    if depth > 32 {
        return Err(format!("{at}: references nest too deep (a cycle?)"));
    }
    let map = match schema {
        Value::Bool(true) => return Ok((Shape::Any, true)),
        Value::Object(map) => map,
        other => return Err(format!("{at}: not a schema: {other}")),
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        let target = defs
            .get(name)
            .ok_or_else(|| format!("{at}: {reference} does not resolve"))?;
        return read(target, defs, at, depth + 1);
    }
    for keyword in [
        "not",
        "if",
        "then",
        "else",
        "dependentSchemas",
        "patternProperties",
    ] {
        if map.contains_key(keyword) {
            return Err(format!("{at}: `{keyword}` has no normal form here"));
        }
    }
    if let Some(all) = map.get("allOf").and_then(Value::as_array) {
        // Beside an object's own properties (OpenAPI's CoverRequest: properties plus its rule on
        // the song, an anyOf of `required` lists, as the one member of allOf), allOf constrains
        // the object; it is not a wrapper.
        if map.contains_key("properties") {
            return read_typed(map, defs, at, depth);
        }
        return match all.as_slice() {
            [only] => read(only, defs, at, depth + 1),
            _ => Err(format!("{at}: allOf of {} schemas", all.len())),
        };
    }
    let union = map
        .get("oneOf")
        .or_else(|| map.get("anyOf"))
        .and_then(Value::as_array);
    if let Some(members) = union {
        let mut nullable = false;
        let mut shapes = Vec::new();
        for (i, member) in members.iter().enumerate() {
            let (shape, member_nullable) = read(member, defs, &format!("{at}/{i}"), depth + 1)?;
            nullable |= member_nullable;
            match shape {
                Shape::Null => nullable = true,
                Shape::Union(inner) => shapes.extend(inner),
                other => shapes.push(other),
            }
        }
        // A union next to an object's own keywords (properties plus an anyOf of `required`
        // lists) constrains the object; it is not a union of types.
        if map.contains_key("properties") {
            let (object, object_nullable) = read_typed(map, defs, at, depth)?;
            return Ok((object, object_nullable || nullable));
        }
        shapes.sort_by_key(|s| s.kind());
        return Ok(match shapes.len() {
            0 => (Shape::Null, true),
            1 => (shapes.remove(0), nullable),
            _ => (Shape::Union(shapes), nullable),
        });
    }
    read_typed(map, defs, at, depth)
}

fn read_typed(
    map: &Map<String, Value>,
    defs: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<(Shape, bool), String> {
    let mut types: Vec<String> = match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ if map.contains_key("properties") => vec!["object".to_owned()],
        _ => Vec::new(),
    };
    let nullable = types.iter().any(|t| t == "null");
    types.retain(|t| t != "null");
    let bounds = || Bounds {
        min: number(map.get("minimum"))
            .or_else(|| format_min(map.get("format").and_then(Value::as_str))),
        max: number(map.get("maximum")),
        exclusive_min: number(map.get("exclusiveMinimum")),
        exclusive_max: number(map.get("exclusiveMaximum")),
    };
    let shape = match types.as_slice() {
        [] if nullable => Shape::Null,
        [] => Shape::Any,
        [t] => match t.as_str() {
            "boolean" => Shape::Boolean,
            "integer" => Shape::Integer(bounds()),
            "number" => Shape::Number(bounds()),
            "string" => Shape::String(StringRules {
                format: map.get("format").and_then(Value::as_str).map(str::to_owned),
                min_length: map.get("minLength").and_then(Value::as_u64),
                max_length: map.get("maxLength").and_then(Value::as_u64),
                pattern: map
                    .get("pattern")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                values: map.get("enum").and_then(Value::as_array).map(|vs| {
                    vs.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
            }),
            "array" => {
                let items = map.get("items").unwrap_or(&Value::Bool(true));
                let (item, item_nullable) = read(items, defs, &format!("{at}[]"), depth + 1)?;
                if item_nullable && item != Shape::Null {
                    return Err(format!("{at}[]: nullable array items are not used here"));
                }
                Shape::Array(Box::new(item))
            }
            "object" => {
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut fields = BTreeMap::new();
                if let Some(properties) = map.get("properties").and_then(Value::as_object) {
                    for (name, schema) in properties {
                        let (shape, field_nullable) =
                            read(schema, defs, &format!("{at}.{name}"), depth + 1)?;
                        fields.insert(
                            name.clone(),
                            Field {
                                shape,
                                required: required.contains(&name.as_str()),
                                nullable: field_nullable,
                            },
                        );
                    }
                }
                for name in &required {
                    if !fields.contains_key(*name) {
                        return Err(format!("{at}: `{name}` is required but not a property"));
                    }
                }
                Shape::Object(fields)
            }
            other => return Err(format!("{at}: unknown type {other}")),
        },
        several => {
            return Err(format!(
                "{at}: a type list {several:?} has no normal form here"
            ));
        }
    };
    Ok((shape, nullable))
}

/// What [`compare`] found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Comparison {
    /// Differences that break the contract: each says where and what.
    pub mismatches: Vec<String>,
    /// Constraints the spec states and the Rust type's schema does not (a wider Rust type
    /// decodes everything the spec allows; the API is trusted to keep within its bounds).
    pub unstated: Vec<String>,
}

/// Compares the spec's shape of a schema with the Rust type's, at `path`.
///
/// The rules:
/// - kinds must be equal (a union pairs its members by kind, and must have as many);
/// - objects must have the same field names, each equally required;
/// - a required field accepts `null` on both sides or on neither; an optional field that the
///   spec makes nullable must accept `null` in Rust (an `Option` does), while an `Option` that
///   also accepts a `null` the spec does not send is allowed: it decodes the same;
/// - a string `format` must be equal;
/// - a bound (minimum, maximum, length, pattern, enum) the Rust schema states must equal the
///   spec's; one the Rust schema leaves out is recorded in [`Comparison::unstated`], one it adds
///   (an unsigned integer for a field the spec lets go negative) is a mismatch.
pub fn compare(spec: &Shape, rust: &Shape, path: &str, out: &mut Comparison) {
    match (spec, rust) {
        (Shape::Any, Shape::Any)
        | (Shape::Null, Shape::Null)
        | (Shape::Boolean, Shape::Boolean) => {}
        (Shape::Integer(s), Shape::Integer(r)) | (Shape::Number(s), Shape::Number(r)) => {
            compare_bounds(s, r, path, out);
        }
        (Shape::String(s), Shape::String(r)) => {
            if s.format != r.format {
                out.mismatches.push(format!(
                    "{path}: format {:?} in the spec, {:?} in Rust",
                    s.format, r.format
                ));
            }
            compare_opt(&s.min_length, &r.min_length, "minLength", path, out);
            compare_opt(&s.max_length, &r.max_length, "maxLength", path, out);
            compare_opt(&s.pattern, &r.pattern, "pattern", path, out);
            compare_opt(&s.values, &r.values, "enum", path, out);
        }
        (Shape::Array(s), Shape::Array(r)) => compare(s, r, &format!("{path}[]"), out),
        (Shape::Object(s), Shape::Object(r)) => {
            for name in s.keys().filter(|n| !r.contains_key(*n)) {
                out.mismatches
                    .push(format!("{path}.{name}: in the spec, not in the Rust type"));
            }
            for name in r.keys().filter(|n| !s.contains_key(*n)) {
                out.mismatches
                    .push(format!("{path}.{name}: in the Rust type, not in the spec"));
            }
            for (name, sf) in s {
                let Some(rf) = r.get(name) else { continue };
                let at = format!("{path}.{name}");
                if sf.required != rf.required {
                    out.mismatches.push(format!(
                        "{at}: {} in the spec, {} in Rust",
                        if sf.required { "required" } else { "optional" },
                        if rf.required { "required" } else { "optional" },
                    ));
                }
                let nullable_ok = if sf.required && rf.required {
                    sf.nullable == rf.nullable
                } else {
                    !sf.nullable || rf.nullable
                };
                if !nullable_ok {
                    out.mismatches.push(format!(
                        "{at}: {} null in the spec, {} in Rust",
                        if sf.nullable { "accepts" } else { "refuses" },
                        if rf.nullable { "accepts" } else { "refuses" },
                    ));
                }
                compare(&sf.shape, &rf.shape, &at, out);
            }
        }
        (Shape::Union(s), Shape::Union(r)) => {
            let kinds = |members: &[Shape]| members.iter().map(Shape::kind).collect::<Vec<_>>();
            if kinds(s) != kinds(r) {
                out.mismatches.push(format!(
                    "{path}: one of {:?} in the spec, {:?} in Rust",
                    kinds(s),
                    kinds(r)
                ));
                return;
            }
            for (i, (sm, rm)) in s.iter().zip(r).enumerate() {
                compare(sm, rm, &format!("{path}|{i}"), out);
            }
        }
        (s, r) => out.mismatches.push(format!(
            "{path}: {} in the spec, {} in Rust",
            s.describe(),
            r.describe()
        )),
    }
}

fn compare_bounds(s: &Bounds, r: &Bounds, path: &str, out: &mut Comparison) {
    compare_opt(&s.min, &r.min, "minimum", path, out);
    compare_opt(&s.max, &r.max, "maximum", path, out);
    compare_opt(
        &s.exclusive_min,
        &r.exclusive_min,
        "exclusiveMinimum",
        path,
        out,
    );
    compare_opt(
        &s.exclusive_max,
        &r.exclusive_max,
        "exclusiveMaximum",
        path,
        out,
    );
}

fn compare_opt<T: PartialEq + std::fmt::Debug>(
    spec: &Option<T>,
    rust: &Option<T>,
    what: &str,
    path: &str,
    out: &mut Comparison,
) {
    match (spec, rust) {
        (Some(s), None) => out.unstated.push(format!("{path}: {what} {s:?}")),
        (s, Some(r)) if s.as_ref() != Some(r) => out.mismatches.push(format!(
            "{path}: {what} {} in the spec, {r:?} in Rust",
            s.as_ref()
                .map_or_else(|| "absent".to_owned(), |s| format!("{s:?}"))
        )),
        _ => {}
    }
}

/// The shape of an object as `field: description` lines, with `required` and `nullable`
/// marked: what a snapshot of a contract shows.
pub fn outline(shape: &Shape) -> Vec<String> {
    let mut lines = Vec::new();
    outline_into(shape, "", &mut lines);
    lines
}

fn outline_into(shape: &Shape, prefix: &str, lines: &mut Vec<String>) {
    match shape {
        Shape::Object(fields) => {
            for (name, field) in fields {
                let at = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                let mut flags = Vec::new();
                if field.required {
                    flags.push("required");
                }
                if field.nullable {
                    flags.push("nullable");
                }
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", flags.join(", "))
                };
                lines.push(format!("{at}: {}{flags}", field.shape.describe()));
                match &field.shape {
                    Shape::Object(_) => outline_into(&field.shape, &at, lines),
                    Shape::Array(items) if matches!(**items, Shape::Object(_)) => {
                        outline_into(items, &format!("{at}[]"), lines);
                    }
                    _ => {}
                }
            }
        }
        other => lines.push(format!(
            "{}: {}",
            if prefix.is_empty() { "(value)" } else { prefix },
            other.describe()
        )),
    }
}
