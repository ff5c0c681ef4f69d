//! The external tools `cargo xtask tools` installs: schemathesis and Python (with `requests`) in a
//! venv, Prism from npm. `cargo xtask ci` says where with `MUSICGPT_TOOLS_DIR`; a plain
//! `cargo test` looks in the workspace's `.tools`.

use std::path::PathBuf;

/// The environment variable `cargo xtask ci` sets to the absolute tools folder.
pub const DIR_ENV: &str = "MUSICGPT_TOOLS_DIR";

/// The tools folder.
pub fn dir() -> PathBuf {
    std::env::var_os(DIR_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| crate::workspace_dir().join(".tools"), PathBuf::from)
}

/// A program of the Python venv (`python`, `schemathesis`).
///
/// # Errors
/// A message that names the missing file and says to run `cargo xtask tools`.
pub fn venv_program(name: &str) -> Result<PathBuf, String> {
    existing(dir().join("venv").join("bin").join(name))
}

/// A program of the npm packages (`prism`).
///
/// # Errors
/// As [`venv_program`].
pub fn npm_program(name: &str) -> Result<PathBuf, String> {
    existing(
        dir()
            .join("npm")
            .join("node_modules")
            .join(".bin")
            .join(name),
    )
}

fn existing(path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run `cargo xtask tools` first (it installs schemathesis, Python's \
             requests and Prism into {}; set {DIR_ENV} to use another folder)",
            path.display(),
            dir().display()
        ))
    }
}

/// A free TCP port on 127.0.0.1 for a program that wants one on its command line. The port is
/// released before returning, so another process could take it first; callers wait for their
/// program to answer and fail clearly if it does not.
///
/// # Errors
/// The bind error.
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}
