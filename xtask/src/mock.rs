//! The mock for xtask's commands: `cargo xtask mock [ARGS]` runs it in release mode, passing ARGS
//! through; [`build`] builds its binary and [`start`] runs it, for every command that needs it
//! (bench, soak, dist, verify-live, package).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde::Deserialize;

use crate::package::MOCK;
use crate::{Error, Result, process, project};

/// `cargo run --release -p musicgpt-cover-mock -- ARGS`.
pub(crate) fn run(args: &[String]) -> Result {
    let mut command = process::cargo();
    command
        .args(["run", "--release", "--package", MOCK, "--"])
        .args(args);
    println!("mock: {}", process::display(&command));
    exec(command)
}

// Replacing xtask with cargo hands Ctrl-C straight to the mock, which then shuts down cleanly and
// reports what was pending, with nothing in between that could exit first.
#[cfg(unix)]
fn exec(mut command: Command) -> Result {
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    Err(process::spawn_error(&command, &error))
}

#[cfg(not(unix))]
fn exec(mut command: Command) -> Result {
    process::run(&mut command).map_err(|error| Error::new(format!("mock: {error}")))
}

/// `cargo build [--release] -p musicgpt-cover-mock --bin musicgpt-cover-mock [--target T]`,
/// announced as the command `who`; the binary's absolute path (see [`built`]).
pub(crate) fn build(who: &str, release: bool, target: Option<&str>) -> Result<PathBuf> {
    let mut build = process::cargo();
    build.arg("build");
    if release {
        build.arg("--release");
    }
    build.args(["--package", MOCK, "--bin", MOCK]);
    if let Some(target) = target {
        build.args(["--target", target]);
    }
    built(who, build)
}

/// Runs `build`, a cargo command that builds the mock's binary (`cargo build`, or a `cargo bench
/// --no-run` whose bench needs it), announced as the command `who`; returns the binary's absolute
/// path, as cargo reports it (so `CARGO_TARGET_DIR`, `--target` and the like are honoured).
pub(crate) fn built(who: &str, mut build: Command) -> Result<PathBuf> {
    // JSON on stdout, to find the binary; the usual progress and diagnostics on stderr.
    build.arg("--message-format=json-render-diagnostics");
    println!("{who}: {}", process::display(&build));
    let output = process::capture(build.stdout(Stdio::piped()).stderr(Stdio::inherit()))?;
    process::succeeded(&build, output.status)?;
    let messages = String::from_utf8_lossy(&output.stdout);
    executable(&messages).map(PathBuf::from).ok_or_else(|| {
        Error::new(format!(
            "`{}` named no executable in its output",
            process::display(&build)
        ))
    })
}

/// The running mock (or its proxy mode), killed when dropped: started here, stopped here, by its
/// own handle.
pub(crate) struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary ARGS` and returns it with the first line of its stdout that holds `marker`
/// (such as the banner's `API base URL` line), waiting up to `limit`; the rest of its output is
/// read and dropped on a thread of its own, so it never blocks on a full pipe.
pub(crate) fn start(
    binary: &Path,
    args: &[&str],
    marker: &'static str,
    limit: Duration,
) -> Result<(Running, String)> {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(project::failed("start", binary))?;
    let stdout = child.stdout.take();
    let running = Running(child);
    let stdout = stdout.ok_or_else(|| Error::new("the mock's stdout was not captured"))?;
    let line = line_with(stdout, marker, limit)
        .map_err(|e| Error::new(format!("{}: {e}", binary.display())))?;
    Ok((running, line))
}

/// The first line of `out` that holds `marker`, within `limit`; the rest is read and dropped.
fn line_with(
    out: impl Read + Send + 'static,
    marker: &'static str,
    limit: Duration,
) -> Result<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            if line.contains(marker)
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(line);
            }
        }
    });
    receiver.recv_timeout(limit).map_err(|_| {
        Error::new(format!(
            "it printed no `{marker}` line within {}s of starting",
            limit.as_secs()
        ))
    })
}

/// One of cargo's JSON messages (one object a line), as far as finding a binary goes.
#[derive(Deserialize)]
struct Message {
    reason: String,
    target: Option<Target>,
    executable: Option<String>,
}

#[derive(Deserialize)]
struct Target {
    kind: Vec<String>,
    name: String,
}

/// The `executable` of the mock's binary in cargo's JSON messages.
fn executable(messages: &str) -> Option<String> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|message| {
            message.reason == "compiler-artifact"
                && message
                    .target
                    .as_ref()
                    .is_some_and(|target| target.name == MOCK && target.kind == ["bin"])
        })
        .find_map(|message| message.executable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_is_found_in_cargos_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/musicgpt-cover-mock#0.1.0","target":{"kind":["lib"],"crate_types":["lib"],"name":"musicgpt_cover_mock"},"executable":null,"fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/musicgpt-cover-mock#0.1.0","target":{"kind":["bin"],"crate_types":["bin"],"name":"musicgpt-cover-mock","src_path":"/w/src/main.rs"},"filenames":["/w/target/release/musicgpt-cover-mock"],"executable":"/w/my \"target\"\\release/musicgpt-cover-mock","fresh":false}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable(messages).as_deref(),
            Some(r#"/w/my "target"\release/musicgpt-cover-mock"#)
        );
        assert_eq!(
            executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
    }

    #[test]
    fn the_marked_line_is_read_and_a_silent_mock_times_out() {
        let banner = "musicgpt-cover-mock 0.1.0: a mock\nListening on http://127.0.0.1:5\n  \
                      API base URL  http://127.0.0.1:5/api/public\n    POST /api/public/v1/Cover\n";
        let found = line_with(
            std::io::Cursor::new(banner),
            "API base URL",
            Duration::from_secs(5),
        );
        assert_eq!(
            found.ok().as_deref(),
            Some("  API base URL  http://127.0.0.1:5/api/public")
        );
        let silent = line_with(std::io::empty(), "API base URL", Duration::from_millis(100));
        assert!(silent.is_err());
    }
}
