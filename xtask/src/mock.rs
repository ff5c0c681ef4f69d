//! `cargo xtask mock [ARGS]`: runs the mock server in release mode, passing ARGS through.

use crate::{Error, Result, process};

/// `cargo run --release -p musicgpt-cover-mock -- ARGS`.
pub(crate) fn run(args: &[String]) -> Result {
    // `cargo xtask mock -- --seed 1` reads naturally too; one `--` for cargo is added below.
    let args = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => args,
    };
    let mut command = process::cargo();
    command
        .args(["run", "--release", "--package", "musicgpt-cover-mock", "--"])
        .args(args);
    println!("mock: {}", process::display(&command));
    exec(command)
}

// Replacing xtask with cargo hands Ctrl-C straight to the mock, which then shuts down cleanly and
// reports what was pending, with nothing in between that could exit first.
#[cfg(unix)]
fn exec(mut command: std::process::Command) -> Result {
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    Err(Error::new(format!(
        "`{}` could not start: {error}",
        process::display(&command)
    )))
}

#[cfg(not(unix))]
fn exec(mut command: std::process::Command) -> Result {
    process::run(&mut command).map_err(|error| Error::new(format!("mock: {error}")))
}
