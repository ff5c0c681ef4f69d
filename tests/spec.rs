//! openapi.yaml as data: its operations, their documented responses and examples, with `$ref`s
//! resolved. The document is the mock's (`musicgpt_cover_mock::openapi_document`: the
//! workspace's file, embedded at build time and parsed once), and so is the `$ref` resolver.

use std::path::PathBuf;
use std::sync::OnceLock;

use musicgpt_cover_mock::openapi_document::{self, Document};
use serde_json::Value;
use serde_norway::Value as Yaml;

/// The path of openapi.yaml, for the external tools that read it themselves.
pub fn path() -> PathBuf {
    crate::workspace_dir().join("openapi.yaml")
}

/// The parsed spec.
#[derive(Debug)]
pub struct Spec {
    document: &'static Document,
    operations: Vec<Operation>,
}

/// One operation (`paths.<path>.<method>`).
#[derive(Debug, Clone)]
pub struct Operation {
    /// Its `operationId`.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// The path as written under `paths` (`/v1/Cover`).
    pub path: String,
    /// The operation object, `$ref`s not resolved.
    pub raw: Value,
    /// Its documented responses, in the spec's order.
    pub responses: Vec<Response>,
}

/// One documented response of an operation.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The documented media types of its body.
    pub media_types: Vec<String>,
    /// The schema of its `application/json` body, as written (often a `$ref`).
    pub schema: Option<Value>,
    /// Its named `application/json` examples, in the spec's order.
    pub examples: Vec<(String, Value)>,
}

impl Spec {
    /// The spec, parsed once per process.
    ///
    /// # Panics
    /// If openapi.yaml is not valid YAML, has no `paths`, or has a status that is not a number:
    /// every test depends on it.
    pub fn get() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            openapi_document::document()
                .and_then(Spec::read)
                .unwrap_or_else(|e| panic!("openapi.yaml: {e}"))
        })
    }

    fn read(document: &'static Document) -> Result<Spec, String> {
        let mut spec = Spec {
            document,
            operations: Vec::new(),
        };
        for path in spec.keys_in_order("/paths") {
            let item = format!("/paths/{}", escape(&path));
            for method in spec.keys_in_order(&item) {
                if !["get", "put", "post", "delete", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    continue;
                }
                let pointer = format!("{item}/{method}");
                let raw = spec
                    .root()
                    .pointer(&pointer)
                    .cloned()
                    .unwrap_or(Value::Null);
                let id = raw
                    .get("operationId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{method} {path} has no operationId"))?
                    .to_owned();
                let responses = spec.responses_of(&pointer, &id)?;
                spec.operations.push(Operation {
                    id,
                    method: method.to_uppercase(),
                    path: path.clone(),
                    raw,
                    responses,
                });
            }
        }
        if spec.operations.is_empty() {
            return Err("no operations under paths".to_owned());
        }
        Ok(spec)
    }

    /// The keys of the mapping at `pointer` (a JSON pointer), in the document's order (JSON
    /// objects here are sorted maps; the order matters where the spec means one: the first
    /// example is the default answer).
    pub fn keys_in_order(&self, pointer: &str) -> Vec<String> {
        keys(openapi_document::pointer(
            self.document.yaml(),
            &format!("#{pointer}"),
        ))
    }

    fn responses_of(&self, operation: &str, id: &str) -> Result<Vec<Response>, String> {
        let yaml = self.document.yaml();
        let responses = openapi_document::pointer(yaml, &format!("#{operation}/responses"));
        let mut out = Vec::new();
        for (code, response) in responses.and_then(Yaml::as_mapping).into_iter().flatten() {
            let code = key(code);
            let status: u16 = code
                .parse()
                .map_err(|_| format!("{id}: response {code:?} is not a status code"))?;
            let content = openapi_document::resolve(yaml, response).and_then(|r| r.get("content"));
            let json = content.and_then(|c| c.get("application/json"));
            let examples = json.and_then(|j| j.get("examples"));
            out.push(Response {
                status,
                media_types: keys(content),
                schema: json.and_then(|j| j.get("schema")).map(as_json),
                examples: examples
                    .and_then(Yaml::as_mapping)
                    .into_iter()
                    .flatten()
                    .filter_map(|(name, example)| {
                        let value = openapi_document::resolve(yaml, example)?.get("value")?;
                        Some((key(name), as_json(value)))
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    /// The whole document as JSON.
    pub fn root(&self) -> &Value {
        self.document.json()
    }

    /// Every operation, in the spec's order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation with this `operationId`.
    ///
    /// # Panics
    /// If there is none: the tests name operations the spec must have.
    pub fn operation(&self, id: &str) -> &Operation {
        self.operations
            .iter()
            .find(|op| op.id == id)
            .unwrap_or_else(|| panic!("openapi.yaml has no operation {id:?}"))
    }

    /// Follows a local `$ref` (`#/components/...`), repeatedly; other values are returned as
    /// they are. An unresolvable reference yields `Value::Null`.
    pub fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        openapi_document::resolve(self.root(), value).unwrap_or(&Value::Null)
    }

    /// The value a local reference (`#/a/b`) points at.
    pub fn pointer(&self, reference: &str) -> Option<&Value> {
        openapi_document::pointer(self.root(), reference)
    }

    /// `components.schemas`.
    pub fn schemas(&self) -> &serde_json::Map<String, Value> {
        static EMPTY: OnceLock<serde_json::Map<String, Value>> = OnceLock::new();
        self.root()
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new))
    }

    /// The component schema `name`.
    ///
    /// # Panics
    /// If there is none.
    pub fn schema(&self, name: &str) -> &Value {
        self.schemas()
            .get(name)
            .unwrap_or_else(|| panic!("openapi.yaml has no schema {name:?}"))
    }

    /// The schema of an operation's request body for `media_type`, resolved.
    pub fn request_schema<'a>(
        &'a self,
        operation: &'a Operation,
        media_type: &str,
    ) -> Option<&'a Value> {
        let body = self.resolve(operation.raw.get("requestBody")?);
        let schema = body.get("content")?.get(media_type)?.get("schema")?;
        Some(self.resolve(schema))
    }

    /// An operation's parameter `name` (query, header...), resolved.
    pub fn parameter<'a>(&'a self, operation: &'a Operation, name: &str) -> Option<&'a Value> {
        operation
            .raw
            .get("parameters")?
            .as_array()?
            .iter()
            .map(|p| self.resolve(p))
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
    }

    /// Every parameter of an operation, resolved, in the spec's order.
    pub fn parameters<'a>(&'a self, operation: &'a Operation) -> Vec<&'a Value> {
        operation
            .raw
            .get("parameters")
            .and_then(Value::as_array)
            .map(|ps| ps.iter().map(|p| self.resolve(p)).collect())
            .unwrap_or_default()
    }

    /// The base path of the spec's loopback server (`/api/public`).
    ///
    /// # Panics
    /// If the spec names no `http://127.0.0.1` server.
    pub fn local_base_path(&self) -> String {
        let url = self
            .root()
            .get("servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("url").and_then(Value::as_str))
            .find(|u| u.starts_with("http://127.0.0.1"))
            .expect("openapi.yaml names a local server");
        let without_scheme = url.trim_start_matches("http://");
        without_scheme
            .find('/')
            .map_or_else(String::new, |i| without_scheme[i..].to_owned())
    }

    /// The `example` of a component schema's property (`CoverRequest`, `voice_id`).
    ///
    /// # Panics
    /// If it has none: the tests take their input values from the spec.
    pub fn property_example(&self, schema: &str, property: &str) -> &Value {
        self.schema(schema)
            .pointer(&format!("/properties/{property}/example"))
            .unwrap_or_else(|| panic!("{schema}.{property} has no example in openapi.yaml"))
    }

    /// The `example` of an operation's parameter's schema.
    ///
    /// # Panics
    /// If it has none.
    pub fn parameter_example(&self, operation: &str, parameter: &str) -> &Value {
        let op = self.operation(operation);
        self.parameter(op, parameter)
            .and_then(|p| p.pointer("/schema/example").or_else(|| p.get("example")))
            .unwrap_or_else(|| panic!("parameter {parameter} of {operation} has no example"))
    }
}

/// A mapping's key as text (a status code may be written unquoted).
fn key(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        other => serde_norway::to_string(other)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
    }
}

/// The keys of a mapping, in the document's order.
fn keys(mapping: Option<&Yaml>) -> Vec<String> {
    mapping
        .and_then(Yaml::as_mapping)
        .map(|m| m.keys().map(key).collect())
        .unwrap_or_default()
}

/// A value of the YAML tree as JSON.
fn as_json(value: &Yaml) -> Value {
    serde_norway::from_value(value.clone()).unwrap_or(Value::Null)
}

/// `name` as one segment of a JSON pointer.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

impl Operation {
    /// The documented response for `status`.
    pub fn response(&self, status: u16) -> Option<&Response> {
        self.responses.iter().find(|r| r.status == status)
    }

    /// The documented statuses, in the spec's order.
    pub fn statuses(&self) -> Vec<u16> {
        self.responses.iter().map(|r| r.status).collect()
    }
}
