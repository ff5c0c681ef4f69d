//! What every measurement starts with: a Tokio runtime of its own, its threads named so /proc can
//! tell their CPU time apart, an HTTP client that never goes through a proxy, and this program run
//! again as a child, to measure in a process of its own.

use std::ffi::OsStr;
use std::process::{Command, ExitCode, ExitStatus, Stdio};

pub(crate) use crate::common::runtime;

pub(crate) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}

/// This program run again with `args` (the `what` child's): how it ended, the numbers of the
/// line it printed, and that line.
pub(crate) fn run_child<S: AsRef<OsStr>>(
    args: &[S],
    what: &str,
) -> Result<(ExitStatus, Vec<u64>, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run the {what} child: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let values = text
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    Ok((output.status, values, text))
}

/// In a child: its line on stdout and exit 0, or why not on stderr and exit 2.
pub(crate) fn child_exit(name: &str, line: Result<String, String>) -> ExitCode {
    match line {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(2)
        }
    }
}
