//! openapi.yaml read once per process, and the one place a `$ref` of its tree is followed: the
//! mock's compilers, its proxy's validator, its pages, the contract tests and the fuzz targets all
//! take the document from here.

use std::sync::OnceLock;

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::OPENAPI_YAML;

/// The document as two trees: YAML, which keeps the file's order of keys (the examples' order, the
/// order a page shows properties in), and JSON, for JSON pointers and JSON Schema.
#[derive(Debug)]
pub struct Document {
    yaml: Yaml,
    json: Json,
}

/// The embedded openapi.yaml, parsed on first use.
///
/// # Errors
/// When the text is not YAML (the mock then refuses to start).
pub fn document() -> Result<&'static Document, String> {
    static DOCUMENT: OnceLock<Result<Document, String>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| Document::parse(OPENAPI_YAML))
        .as_ref()
        .map_err(Clone::clone)
}

impl Document {
    /// Parses a spec text.
    ///
    /// # Errors
    /// When it is not YAML.
    pub fn parse(text: &str) -> Result<Document, String> {
        let yaml: Yaml =
            serde_norway::from_str(text).map_err(|e| format!("openapi.yaml is not YAML: {e}"))?;
        let json = serde_norway::from_value(yaml.clone())
            .map_err(|e| format!("openapi.yaml does not read as JSON: {e}"))?;
        Ok(Document { yaml, json })
    }

    /// The tree with the file's order of keys.
    pub fn yaml(&self) -> &Yaml {
        &self.yaml
    }

    /// The tree as JSON (its objects' keys sorted).
    pub fn json(&self) -> &Json {
        &self.json
    }
}

/// A tree a `$ref` can point into: JSON or YAML.
pub trait Tree {
    /// The member `key` of a mapping.
    fn member(&self, key: &str) -> Option<&Self>;
    /// The text of a string.
    fn text(&self) -> Option<&str>;
}

impl Tree for Json {
    fn member(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }

    fn text(&self) -> Option<&str> {
        self.as_str()
    }
}

impl Tree for Yaml {
    fn member(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }

    fn text(&self) -> Option<&str> {
        self.as_str()
    }
}

/// The value a local reference (`#/components/schemas/X`) names in `root`.
pub fn pointer<'a, T: Tree>(root: &'a T, reference: &str) -> Option<&'a T> {
    let path = reference.strip_prefix('#')?;
    if path.is_empty() {
        return Some(root);
    }
    path.strip_prefix('/')?
        .split('/')
        .try_fold(root, |node, part| {
            node.member(&part.replace("~1", "/").replace("~0", "~"))
        })
}

/// `value`, or what its `$ref`s lead to, followed as long as there is one (the spec writes a
/// reference to a reference). `None` when one does not resolve or they go round.
pub fn resolve<'a, T: Tree>(root: &'a T, value: &'a T) -> Option<&'a T> {
    let mut value = value;
    for _ in 0..16 {
        match value.member("$ref").and_then(T::text) {
            Some(reference) => value = pointer(root, reference)?,
            None => return Some(value),
        }
    }
    None
}

/// `value` with every `$ref` in it replaced by what it leads to ([`resolve`]), so that the spec's
/// compilers read one tree and follow none. An error names a reference that does not resolve,
/// or refs that lead back into themselves.
pub(crate) fn inline(root: &Yaml, value: &Yaml, depth: usize) -> Result<Yaml, String> {
    if depth > 64 {
        return Err("openapi.yaml: $refs nest too deep (a cycle?)".to_owned());
    }
    let value = match value.get("$ref").and_then(Yaml::as_str) {
        Some(reference) => resolve(root, value)
            .ok_or_else(|| format!("openapi.yaml: $ref {reference} does not resolve"))?,
        None => value,
    };
    let inline = |v: &Yaml| inline(root, v, depth + 1);
    Ok(match value {
        Yaml::Mapping(map) => Yaml::Mapping(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), inline(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Yaml::Sequence(items) => {
            Yaml::Sequence(items.iter().map(inline).collect::<Result<_, _>>()?)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_are_followed_in_either_tree() {
        let root = json!({
            "components": {
                "a/b": {"$ref": "#/components/c"},
                "c": {"type": "string"},
                "loop": {"$ref": "#/components/loop"},
            }
        });
        let start = json!({"$ref": "#/components/a~1b"});
        assert_eq!(resolve(&root, &start), Some(&json!({"type": "string"})));
        assert_eq!(resolve(&root, &json!({"$ref": "#/nothing"})), None);
        assert_eq!(resolve(&root, &json!({"$ref": "#/components/loop"})), None);
        assert_eq!(resolve(&root, &json!(1)), Some(&json!(1)));
        let yaml = serde_norway::to_value(&root).unwrap_or_default();
        let start = serde_norway::to_value(&start).unwrap_or_default();
        let found = resolve(&yaml, &start).and_then(|v| v.get("type"));
        assert_eq!(found.and_then(Yaml::as_str), Some("string"));
    }
}
