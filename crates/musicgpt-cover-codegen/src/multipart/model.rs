//! What the generator knows of a multipart operation once read from the spec: `read` fills these
//! types, and `builder`, `field` and `send` turn them into tokens.

use serde_norway::Value;

/// The request body media type this module generates and progenitor cannot.
pub(crate) const FORM_MEDIA_TYPE: &str = "multipart/form-data";

/// A `multipart/form-data` operation, read from the spec.
pub(crate) struct FormOperation {
    pub(crate) path: String,
    pub(crate) method: String,
    pub(super) operation_id: String,
    pub(super) summary: Option<String>,
    pub(super) description: Option<String>,
    /// The component schema of the form (`#/components/schemas/<name>`), if it is one.
    pub(crate) form_component: Option<String>,
    pub(super) fields: Vec<FormField>,
    pub(super) any_of: Vec<Branch>,
    pub(super) responses: Vec<ResponseCase>,
    pub(super) success_type: BodyType,
    pub(super) error_type: BodyType,
}

pub(super) struct FormField {
    /// The part name on the wire.
    pub(super) name: String,
    pub(super) ident: syn::Ident,
    pub(super) description: Option<String>,
    pub(super) required: bool,
    pub(super) kind: FieldKind,
    pub(super) default: Option<Value>,
}

pub(super) enum FieldKind {
    /// `type: string, format: binary`: a file part.
    File,
    Text {
        min_length: Option<u64>,
        max_length: Option<u64>,
        allowed: Vec<String>,
    },
    Integer {
        minimum: Option<Bound<i64>>,
        maximum: Option<Bound<i64>>,
    },
    Number {
        minimum: Option<Bound<f64>>,
        maximum: Option<Bound<f64>>,
    },
    Boolean,
}

#[derive(Clone, Copy)]
pub(super) struct Bound<T> {
    pub(super) value: T,
    pub(super) exclusive: bool,
}

/// One alternative of the form schema's `anyOf`: fields that must all be present, each with
/// an optional minimum length the alternative adds.
pub(super) struct Branch {
    pub(super) requirements: Vec<(String, Option<u64>)>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) enum BodyType {
    Unit,
    Named(String),
}

pub(super) enum StatusMatch {
    Code(u16),
    /// `4XX` is `Range(4)`.
    Range(u16),
}

pub(super) struct ResponseCase {
    pub(super) status: StatusMatch,
    pub(super) success: bool,
    pub(super) has_body: bool,
}
