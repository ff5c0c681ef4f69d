//! The errors of starting a mock.

/// Why a mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// A setting is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The embedded openapi.yaml lacks something the mock needs (caught by this crate's tests).
    #[error("openapi.yaml: {0}")]
    Spec(String),
    /// [`MockState::new`](crate::MockState::new) was called outside a Tokio runtime.
    #[error("the mock must be created inside a Tokio runtime")]
    NoRuntime,
    /// Binding or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
