//! The external tools `cargo xtask tools` installs: schemathesis and Python (with `requests`) in a
//! venv, Prism from npm, Chromium from Debian's packages. `cargo xtask ci` says where with
//! `MUSICGPT_TOOLS_DIR`; a plain `cargo test` looks in the workspace's `.tools`.

use std::path::PathBuf;

/// The environment variable `cargo xtask ci` sets to the absolute tools folder.
pub const DIR_ENV: &str = "MUSICGPT_TOOLS_DIR";

/// The environment variable that names a Chrome or Chromium to run instead of the one
/// `cargo xtask tools` installs (where apt cannot install it, say).
pub const CHROMIUM_ENV: &str = "MUSICGPT_CHROMIUM";

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

/// Chromium: the program [`CHROMIUM_ENV`] names, else `chromium/chromium` in the tools folder (a
/// wrapper that runs the unpacked browser with its libraries).
///
/// # Errors
/// As [`venv_program`]; or, with [`CHROMIUM_ENV`] set, that its program does not exist.
pub fn chromium() -> Result<PathBuf, String> {
    match std::env::var_os(CHROMIUM_ENV).filter(|v| !v.is_empty()) {
        Some(program) => {
            let program = PathBuf::from(program);
            if program.is_file() {
                Ok(program)
            } else {
                Err(format!(
                    "{CHROMIUM_ENV}={} is not a file: name a Chrome or Chromium binary, or unset \
                     it and run `cargo xtask tools` first",
                    program.display()
                ))
            }
        }
        None => existing(dir().join("chromium").join("chromium")),
    }
}

fn existing(path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run `cargo xtask tools` first (it installs schemathesis, Python's \
             requests, Prism and Chromium into {}; set {DIR_ENV} to use another folder)",
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

/// Takes every proxy setting away from a tool's environment and names the loopback hosts in
/// `NO_PROXY`, so its requests to the mock on 127.0.0.1 go nowhere else.
pub fn loopback_only(command: &mut std::process::Command) -> &mut std::process::Command {
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        command.env_remove(name);
    }
    command.env("NO_PROXY", "127.0.0.1,localhost")
}
