//! The Cover form's readers: the body streamed, counted and checked against the spec's rules as
//! it arrives (`multipart`, `urlencoded`), with what they share (`encoding`, `fields`).

mod encoding;
mod fields;
mod fuzzing;
pub(super) mod multipart;
pub(super) mod urlencoded;

pub(super) use encoding::{Encoding, encoding};
pub(super) use fields::{FORM_OVERHEAD, FormError};
pub use fields::{MAX_PARTS, MAX_TEXT_BYTES};
pub use fuzzing::check_cover_form;
