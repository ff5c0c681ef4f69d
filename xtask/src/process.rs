//! Running the external programs xtask drives, with errors that name the command and what to do.

use std::io;
use std::process::{Command, Output};

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
