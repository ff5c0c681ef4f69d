//! The API's operations (one file each, named after what it serves) and the result files.

pub(super) mod conversions;
pub(super) mod cover;
pub(super) mod files;
pub(super) mod voices;
