//! The generator of `multipart/form-data` operations, which progenitor 0.15 refuses.
//!
//! Each such operation becomes a builder in the generated `builder` module and a method on the
//! generated `Client`, shaped like progenitor's own Builder-style output (fields held as
//! `Result<_, String>`, `send()` returning `ResponseValue`/`Error`, the client's hooks run around
//! the request) so that callers cannot tell the two apart; `send_error` then gives both the same
//! error type.
//!
//! `read` takes the operations from the spec into the types of `model`, refusing what it cannot
//! express; `builder` emits the `Client` method and the builder, `field` what each form field
//! becomes in it, `send` the builder's `send()`.

mod builder;
mod field;
mod model;
mod read;
mod send;

pub(crate) use self::model::FormOperation;
pub(crate) use self::read::find;
