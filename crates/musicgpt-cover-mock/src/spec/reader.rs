//! Reading the OpenAPI document: finding an operation, and the facts of a schema the compilers
//! need, whichever way openapiv3 represents it.

use http::Method;
use openapiv3::{
    OpenAPI, ReferenceOr, Schema, SchemaKind, StringFormat, Type, VariantOrUnknownOrEmpty,
};
use serde_norway::Value as Yaml;

/// The document being compiled, its `$ref`s inlined: openapiv3's typed view and the YAML tree
/// (which keeps the examples' key order and reaches what openapiv3 drops).
pub(super) struct Ctx<'a> {
    pub(super) api: &'a OpenAPI,
    pub(super) raw: &'a Yaml,
}

/// What a `ReferenceOr` of the typed view holds: `compile` inlined every `$ref` with
/// `document::inline`, so there is no reference left to follow.
pub(super) fn item<T>(r: &ReferenceOr<T>) -> Result<&T, String> {
    match r {
        ReferenceOr::Item(item) => Ok(item),
        ReferenceOr::Reference { reference } => Err(format!("{reference} is not inlined")),
    }
}

pub(super) type Found<'a> = (&'a str, Method, &'a openapiv3::Operation);

impl<'a> Ctx<'a> {
    pub(super) fn find(&self, operation_id: &str) -> Result<Found<'a>, String> {
        for (path, item) in &self.api.paths.paths {
            let ReferenceOr::Item(item) = item else {
                continue;
            };
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ] {
                if let Some(op) = op
                    && op.operation_id.as_deref() == Some(operation_id)
                {
                    return Ok((path.as_str(), method, op));
                }
            }
        }
        Err(format!("openapi.yaml has no operation `{operation_id}`"))
    }

    pub(super) fn named_schema(&self, name: &str) -> Result<&'a Schema, String> {
        let schemas = self.api.components.as_ref().map(|c| &c.schemas);
        item(
            schemas
                .and_then(|s| s.get(name))
                .ok_or(format!("openapi.yaml has no schema {name}"))?,
        )
    }

    /// The facts of a schema the mock uses, whichever way openapiv3 represents it.
    pub(super) fn shape(&self, schema: &'a Schema) -> Result<Shape<'a>, String> {
        let mut shape = Shape::default();
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                shape.kind = Kind::String;
                shape.min_length = s.min_length.unwrap_or(0);
                shape.max_length = s.max_length;
                shape.allowed = s.enumeration.iter().flatten().cloned().collect();
                match &s.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::Binary) => shape.binary = true,
                    VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => shape.uuid = true,
                    _ => {}
                }
            }
            SchemaKind::Type(Type::Integer(i)) => {
                shape.kind = Kind::Integer;
                shape.minimum = i
                    .minimum
                    .map(|m| if i.exclusive_minimum { m + 1 } else { m });
                shape.maximum = i
                    .maximum
                    .map(|m| if i.exclusive_maximum { m - 1 } else { m });
            }
            SchemaKind::Type(Type::Number(_)) => shape.kind = Kind::Number,
            SchemaKind::Type(Type::Boolean(_)) => shape.kind = Kind::Boolean,
            SchemaKind::Type(Type::Array(a)) => {
                shape.kind = Kind::Array;
                shape.items = a.items.as_ref();
            }
            SchemaKind::Type(Type::Object(o)) => {
                shape.kind = Kind::Object;
                shape.properties = o.properties.iter().map(|(k, v)| (k.as_str(), v)).collect();
                shape.required = &o.required;
            }
            SchemaKind::Any(a) => {
                shape.kind = match a.typ.as_deref() {
                    Some("object") => Kind::Object,
                    Some("string") => Kind::String,
                    Some("integer") => Kind::Integer,
                    Some("number") => Kind::Number,
                    Some("boolean") => Kind::Boolean,
                    Some("array") => Kind::Array,
                    _ if !a.properties.is_empty() => Kind::Object,
                    _ => Kind::Any,
                };
                shape.properties = a.properties.iter().map(|(k, v)| (k.as_str(), v)).collect();
                shape.required = &a.required;
                shape.any_of = &a.any_of;
                shape.all_of = &a.all_of;
                shape.min_length = a.min_length.unwrap_or(0);
                shape.max_length = a.max_length;
                shape.minimum = a.minimum.map(|m| m.ceil() as i64);
                shape.maximum = a.maximum.map(|m| m.floor() as i64);
                shape.items = a.items.as_ref();
                shape.binary = a.format.as_deref() == Some("binary");
                shape.uuid = a.format.as_deref() == Some("uuid");
                shape.allowed = a
                    .enumeration
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
            }
            SchemaKind::AnyOf { any_of } => {
                shape.kind = Kind::Any;
                shape.any_of = any_of;
            }
            SchemaKind::AllOf { all_of } => {
                shape.kind = Kind::Any;
                shape.all_of = all_of;
            }
            SchemaKind::OneOf { .. } | SchemaKind::Not { .. } => {
                shape.kind = Kind::Any;
            }
        }
        Ok(shape)
    }

    /// The named examples of a media type object of the YAML tree, in order.
    pub(super) fn raw_examples<'v>(&self, media: &'v Yaml) -> Vec<(String, &'v Yaml)>
    where
        'a: 'v,
    {
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
}

#[derive(Default)]
pub(super) struct Shape<'a> {
    pub(super) kind: Kind,
    pub(super) properties: Vec<(&'a str, &'a ReferenceOr<Box<Schema>>)>,
    pub(super) required: &'a [String],
    pub(super) any_of: &'a [ReferenceOr<Schema>],
    pub(super) all_of: &'a [ReferenceOr<Schema>],
    pub(super) items: Option<&'a ReferenceOr<Box<Schema>>>,
    pub(super) min_length: usize,
    pub(super) max_length: Option<usize>,
    pub(super) minimum: Option<i64>,
    pub(super) maximum: Option<i64>,
    pub(super) binary: bool,
    pub(super) uuid: bool,
    /// A string's `enum`: the only values it takes, compared exactly (empty: any).
    pub(super) allowed: Vec<String>,
}

/// The JSON type a property is written as: the type of its example when there is one (the spec's
/// `Cost` is a string in the examples but `oneOf` string/number in the schema), else its schema's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    #[default]
    Any,
}
