//! Where things are: the workspace root and the files xtask works on, as absolute paths.

use std::path::{Path, PathBuf};

/// The workspace root, found from this crate's own location so xtask works from any directory.
pub(crate) fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// The spec, the single source of truth.
pub(crate) fn spec() -> PathBuf {
    root().join("openapi.yaml")
}

/// The committed tool manifests and linter configurations (`xtask/tools/`).
pub(crate) fn tool_configs() -> PathBuf {
    root().join("xtask").join("tools")
}

/// Shortens `path` to be relative to the root, for messages.
pub(crate) fn relative(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}
