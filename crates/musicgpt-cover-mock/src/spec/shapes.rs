//! Schemas (for schemars) of admin inputs whose values are fixed elsewhere: an operationId is one
//! of the spec's, a time is RFC 3339. The admin API's OpenAPI document shows them, so that a
//! client or a fuzzer sends only what the mock takes; and [`object_or_null`], which reads a
//! struct only in the shape the document gives it.

use std::fmt;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject, SingleOrVec};
use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde_json::Value;

use super::spec;

/// A string of these values.
fn string_of(values: impl Iterator<Item = String>) -> Schema {
    SchemaObject {
        instance_type: Some(SingleOrVec::Single(Box::new(InstanceType::String))),
        enum_values: Some(values.map(Value::String).collect()),
        ..SchemaObject::default()
    }
    .into()
}

fn operation_ids() -> impl Iterator<Item = String> {
    (spec().ok().into_iter())
        .flat_map(|spec| spec.operations())
        .map(|operation| operation.operation_id.clone())
}

/// An operationId of the spec, as a schema of its own (`#[schemars(with = "OperationId")]`), so
/// that an optional one is a reference or `null` and generators name its enumeration.
pub(crate) struct OperationId;

impl JsonSchema for OperationId {
    fn schema_name() -> String {
        "OperationId".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_of(operation_ids())
    }
}

/// An operationId of the spec, or `any` (the word for every operation).
pub(crate) fn operation_or(any: &str) -> Schema {
    string_of(operation_ids().chain([any.to_owned()]))
}

/// An optional RFC 3339 time (OpenAPI's `date-time`).
pub(crate) fn optional_date_time(_: &mut SchemaGenerator) -> Schema {
    let mut schema = SchemaObject {
        instance_type: Some(SingleOrVec::Single(Box::new(InstanceType::String))),
        format: Some("date-time".to_owned()),
        ..SchemaObject::default()
    };
    schema
        .extensions
        .insert("nullable".to_owned(), Value::Bool(true));
    schema.into()
}

/// For `#[serde(deserialize_with)]`: an optional struct read from an object (or `null`) only.
/// serde also reads a struct from a list of its fields in order (`"upload": [null, null]`),
/// which no document of the admin API allows. Errors keep their path (`upload.bytes: ...`).
pub(crate) fn object_or_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    struct Optional<T>(std::marker::PhantomData<T>);
    impl<'de, T: DeserializeOwned> Visitor<'de> for Optional<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_none<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Option<T>, D::Error> {
            T::deserialize(ObjectOnly(inner)).map(Some)
        }
    }
    deserializer.deserialize_option(Optional(std::marker::PhantomData))
}

/// A deserializer that reads a struct as a map only.
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
