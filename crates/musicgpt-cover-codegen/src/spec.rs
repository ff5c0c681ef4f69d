//! Read-only access to the raw OpenAPI document: `$ref` resolution and typed lookups.
//!
//! The multipart generator reads the spec as a plain YAML tree rather than through `openapiv3`'s
//! model because it needs what that model drops or reorders: vendor extensions on any schema,
//! `anyOf` beside `properties` on the same schema, and the properties in the order written.
//!
//! Its `$ref` resolver is its own, not the mock's `openapi_document`: this crate is the client's
//! build dependency and reads whatever spec text it is given, while the mock embeds one spec and
//! would bring its server (axum, tokio, audio) into every build of the client.

use serde_norway::{Mapping, Value};

use crate::CodegenError;

/// The HTTP methods a path item can hold, in the order OpenAPI lists them.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The spec as a YAML tree, with helpers that turn a missing or mistyped node into a
/// [`CodegenError::Spec`] naming where it was expected.
pub(crate) struct Spec<'a> {
    root: &'a Value,
}

impl<'a> Spec<'a> {
    pub(crate) fn new(root: &'a Value) -> Self {
        Self { root }
    }

    pub(crate) fn root(&self) -> &'a Value {
        self.root
    }

    /// Follows `$ref` (local references only) until a node that is not a reference.
    pub(crate) fn resolve(&self, mut node: &'a Value) -> Result<&'a Value, CodegenError> {
        // A cycle of pure references would loop forever; no sane spec nests this deep.
        for _ in 0..32 {
            let Some(reference) = node.get("$ref") else {
                return Ok(node);
            };
            let reference = reference
                .as_str()
                .ok_or_else(|| CodegenError::Spec("a `$ref` is not a string".into()))?;
            node = self.pointer(reference)?;
        }
        Err(CodegenError::Spec(
            "`$ref` chain is too deep (a cycle?)".into(),
        ))
    }

    /// Looks up a local reference such as `#/components/schemas/Error`.
    pub(crate) fn pointer(&self, reference: &str) -> Result<&'a Value, CodegenError> {
        let path = reference.strip_prefix("#/").ok_or_else(|| {
            CodegenError::Unsupported(format!(
                "reference `{reference}`: only local references (`#/...`) are supported"
            ))
        })?;
        path.split('/')
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
            .try_fold(self.root, |node, segment| node.get(segment.as_str()))
            .ok_or_else(|| CodegenError::Spec(format!("`{reference}` points at nothing")))
    }
}

/// The mapping under `key`, or an empty one when the key is absent.
pub(crate) fn mapping<'a>(node: &'a Value, key: &str) -> &'a Mapping {
    static EMPTY: std::sync::OnceLock<Mapping> = std::sync::OnceLock::new();
    node.get(key)
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| EMPTY.get_or_init(Mapping::new))
}

/// The string under `key`, if there is one.
pub(crate) fn string<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Value::as_str)
}

/// A list of strings under `key` (`required`, `x-known-values`...); absent means empty.
pub(crate) fn strings(node: &Value, key: &str, context: &str) -> Result<Vec<String>, CodegenError> {
    let Some(list) = node.get(key) else {
        return Ok(Vec::new());
    };
    list.as_sequence()
        .ok_or_else(|| CodegenError::Spec(format!("{context}: `{key}` is not a list")))?
        .iter()
        .map(|item| {
            item.as_str().map(str::to_owned).ok_or_else(|| {
                CodegenError::Spec(format!(
                    "{context}: `{key}` holds a value that is not a string"
                ))
            })
        })
        .collect()
}

/// A map key as text: OpenAPI keys are strings, but YAML reads `200:` as a number.
pub(crate) fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Every `$ref` string anywhere under `node`.
pub(crate) fn collect_refs<'a>(node: &'a Value, found: &mut Vec<&'a str>) {
    match node {
        Value::Mapping(map) => {
            for (key, value) in map {
                if key.as_str() == Some("$ref") {
                    if let Some(reference) = value.as_str() {
                        found.push(reference);
                    }
                } else {
                    collect_refs(value, found);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect_refs(item, found)),
        Value::Tagged(tagged) => collect_refs(&tagged.value, found),
        _ => {}
    }
}

/// The node under `key`, or `null` when the key is absent.
pub(crate) fn mapping_value<'a>(node: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    node.get(key).unwrap_or(&NULL)
}
