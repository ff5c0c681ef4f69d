//! Running the external programs xtask drives, with errors that name the command and what to do.

use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Error, Result, project};

/// `cargo`, the same one that runs xtask (cargo sets `CARGO`), started at the workspace root.
pub(crate) fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(project::root());
    command
}

/// The command line as a person would type it, for messages.
pub(crate) fn display(command: &Command) -> String {
    let program = command.get_program().to_string_lossy();
    let program = match program.rsplit_once(std::path::MAIN_SEPARATOR) {
        // A full path to cargo or to a tool in .tools says more than needed; the name is enough.
        Some((_, name)) => name.to_string(),
        None => program.to_string(),
    };
    command.get_args().fold(program, |mut line, arg| {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
        line
    })
}

/// Runs `command` with the terminal's stdin, stdout and stderr; fails unless it exits with 0.
pub(crate) fn run(command: &mut Command) -> Result {
    let status = command
        .status()
        .map_err(|error| spawn_error(command, &error))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "`{}` failed ({status})",
            display(command)
        )))
    }
}

/// Runs `command` with its output captured; the exit status is left to the caller to judge.
pub(crate) fn capture(command: &mut Command) -> Result<Output> {
    command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|error| spawn_error(command, &error))
}

/// Runs `command` with stdout and stderr both written to the file `log`, in the order they came
/// (so cargo's `Running` lines and libtest's results interleave as on a terminal); the exit status
/// is left to the caller to judge. After `limit` it kills the command and every process it started,
/// and returns `None`.
pub(crate) fn to_file_within(
    command: &mut Command,
    log: &Path,
    limit: Duration,
) -> Result<Option<ExitStatus>> {
    let open = |error: io::Error| Error::new(format!("could not write {}: {error}", log.display()));
    let file = File::create(log).map_err(open)?;
    let stderr = file.try_clone().map_err(open)?;
    // The child stays in our process group, so a Ctrl-C at the terminal stops it and its children.
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .spawn()
        .map_err(|error| spawn_error(command, &error))?;
    let started = Instant::now();
    loop {
        let waited = child.try_wait().map_err(|error| {
            Error::new(format!(
                "could not wait for `{}`: {error}",
                display(command)
            ))
        })?;
        if let Some(status) = waited {
            return Ok(Some(status));
        }
        if started.elapsed() >= limit {
            // Found before the kill, while they are still the command's descendants; killed after,
            // so cargo cannot start the next test binary in between.
            let descendants = descendants(child.id());
            let _ = child.kill();
            let _ = child.wait();
            if !descendants.is_empty() {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .args(descendants.iter().map(u32::to_string))
                    .stderr(Stdio::null())
                    .status();
            }
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// The processes below `root` (children, grandchildren, ...), read from Linux's /proc. Elsewhere
/// the list is empty and only the command itself is killed.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((pid, parent_pid(&stat)?))
        })
        .collect();
    let mut found = vec![root];
    let mut index = 0;
    while let Some(&parent) = found.get(index) {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
            }
        }
        index += 1;
    }
    found.split_off(1)
}

/// The parent pid in a `/proc/<pid>/stat` line: `pid (comm) state ppid ...`, where comm may hold
/// spaces and parentheses, so the fields are counted from the last `)`.
fn parent_pid(stat: &str) -> Option<u32> {
    let fields = &stat[stat.rfind(')')? + 1..];
    fields.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `command` and returns its stdout, trimmed; fails unless it exits with 0.
pub(crate) fn stdout(command: &mut Command) -> Result<String> {
    let output = capture(command)?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(Error::new(format!(
            "`{}` failed ({}): {}",
            display(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

fn spawn_error(command: &Command, error: &io::Error) -> Error {
    if error.kind() == io::ErrorKind::NotFound {
        Error::new(format!(
            "`{}` could not start: `{}` was not found",
            display(command),
            command.get_program().to_string_lossy()
        ))
    } else {
        Error::new(format!("`{}` could not start: {error}", display(command)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_pid_is_read_after_the_command_name() {
        assert_eq!(parent_pid("4242 (cargo) S 17 4242 ..."), Some(17));
        assert_eq!(parent_pid("99 (a) b (c) R 5 99 0"), Some(5));
        assert_eq!(parent_pid("garbage"), None);
    }

    /// A command that outlives its limit is killed with what it started, and reported as `None`.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_command_over_its_limit_is_killed_with_its_children() {
        let dir = std::env::temp_dir();
        let log = dir.join(format!("xtask-process-{}.log", std::process::id()));
        let marker = dir.join(format!("xtask-process-{}.marker", std::process::id()));
        let script = format!(
            "(sleep 1; echo late > '{}') & echo started; wait",
            marker.display()
        );
        let started = Instant::now();
        let outcome = to_file_within(
            Command::new("sh").args(["-c", &script]),
            &log,
            Duration::from_millis(300),
        );
        let elapsed = started.elapsed();
        // Long enough for the grandchild to have written the marker, had it survived.
        thread::sleep(Duration::from_millis(1500));
        let output = fs::read_to_string(&log).unwrap_or_default();
        let survived = marker.exists();
        let _ = fs::remove_file(&log);
        let _ = fs::remove_file(&marker);
        assert!(matches!(outcome, Ok(None)), "not reported as timed out");
        assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
        assert_eq!(output.trim(), "started");
        assert!(!survived, "a grandchild outlived the kill");
    }
}
