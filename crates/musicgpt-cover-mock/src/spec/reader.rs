//! Reading the inlined OpenAPI document (`document::inline` left no `$ref` in it): finding an
//! operation, and the facts of a schema the compilers need.

use http::Method;
use serde::Deserialize;
use serde_json::Value as Json;
use serde_norway::{Mapping, Value as Yaml};

/// `value` read as a `T`: a member of the wrong type is an error at start-up.
pub(super) fn read<'a, T: Deserialize<'a>>(value: &'a Yaml) -> Result<T, String> {
    T::deserialize(value).map_err(|e| format!("openapi.yaml is not OpenAPI 3.0: {e}"))
}

/// The path, method and object of an operation.
pub(super) fn find<'a>(
    root: &'a Yaml,
    operation_id: &str,
) -> Result<(&'a str, Method, &'a Yaml), String> {
    let paths = root.get("paths").and_then(Yaml::as_mapping);
    for (path, item) in paths.into_iter().flatten() {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            let Some(op) = item.get(method.as_str().to_ascii_lowercase()) else {
                continue;
            };
            if let Some(path) = path.as_str()
                && op.get("operationId").and_then(Yaml::as_str) == Some(operation_id)
            {
                return Ok((path, method, op));
            }
        }
    }
    Err(format!("openapi.yaml has no operation `{operation_id}`"))
}

/// The named examples of a media type object, in order.
pub(super) fn named_examples(media: &Yaml) -> Vec<(String, &Yaml)> {
    let mut out = Vec::new();
    if let Some(map) = media.get("examples").and_then(Yaml::as_mapping) {
        for (name, example) in map {
            let (Some(name), Some(value)) = (name.as_str(), example.get("value")) else {
                continue;
            };
            out.push((name.to_owned(), value));
        }
    } else if let Some(value) = media.get("example") {
        out.push(("example".to_owned(), value));
    }
    out
}

/// The keywords of a schema the mock uses; it ignores the others.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Schema {
    #[serde(rename = "type")]
    typ: Option<Kind>,
    /// Name to schema, in the spec's order.
    #[serde(default)]
    pub(super) properties: Mapping,
    #[serde(default)]
    pub(super) required: Vec<String>,
    #[serde(default)]
    pub(super) any_of: Vec<Yaml>,
    #[serde(default)]
    pub(super) all_of: Vec<Yaml>,
    pub(super) items: Option<Yaml>,
    #[serde(default)]
    pub(super) min_length: usize,
    pub(super) max_length: Option<usize>,
    minimum: Option<serde_json::Number>,
    maximum: Option<serde_json::Number>,
    #[serde(default)]
    exclusive_minimum: bool,
    #[serde(default)]
    exclusive_maximum: bool,
    pub(super) format: Option<String>,
    #[serde(rename = "enum", default)]
    pub(super) enumeration: Vec<Json>,
    pub(super) default: Option<Json>,
    pub(super) example: Option<Json>,
}

impl Schema {
    /// The type it declares; an untyped schema with properties is an object.
    pub(super) fn kind(&self) -> Kind {
        match self.typ {
            Some(kind) if kind != Kind::Any => kind,
            _ if self.properties.is_empty() => Kind::Any,
            _ => Kind::Object,
        }
    }

    pub(super) fn properties(&self) -> impl Iterator<Item = (&str, &Yaml)> {
        (self.properties.iter()).filter_map(|(name, schema)| Some((name.as_str()?, schema)))
    }

    /// The least integer the bounds take.
    pub(super) fn minimum(&self) -> Option<i64> {
        let m = self.minimum.as_ref()?.as_f64()?;
        Some(if self.exclusive_minimum {
            m.floor() as i64 + 1
        } else {
            m.ceil() as i64
        })
    }

    /// The greatest integer the bounds take.
    pub(super) fn maximum(&self) -> Option<i64> {
        let m = self.maximum.as_ref()?.as_f64()?;
        Some(if self.exclusive_maximum {
            m.ceil() as i64 - 1
        } else {
            m.floor() as i64
        })
    }
}

/// The JSON type a property is written as: the type of its example when there is one (the spec's
/// `Cost` is a string in the examples but `oneOf` string/number in the schema), else its schema's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    /// No `type`, or one the mock does not know.
    #[serde(other)]
    Any,
}
