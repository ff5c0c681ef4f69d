//! Where things are: the workspace root and the files xtask works on, as absolute paths; and
//! reading and writing them with errors that name the file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

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

/// The error of an I/O `action` ("read", "write", "create", "remove") on `path`, naming the file.
pub(crate) fn failed<'a>(action: &'a str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |error| Error::new(format!("could not {action} {}: {error}", path.display()))
}

/// `path`'s text; the error names the file.
pub(crate) fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(failed("read", path))
}

/// Writes `contents` to `path`; the error names the file.
pub(crate) fn write(path: &Path, contents: &(impl AsRef<[u8]> + ?Sized)) -> Result {
    fs::write(path, contents).map_err(failed("write", path))
}

/// Makes `dir` and the folders above it that are missing.
pub(crate) fn create_dir(dir: &Path) -> Result {
    fs::create_dir_all(dir).map_err(failed("create", dir))
}

/// Makes `dir` an empty folder.
pub(crate) fn recreate_dir(dir: &Path) -> Result {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(failed("remove", dir))?;
    }
    create_dir(dir)
}
