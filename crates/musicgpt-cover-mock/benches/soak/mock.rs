//! The mock as the soak runs it: its log read as it goes, what it leaves in its TMPDIR, and a
//! stop by SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::lock;
use crate::common::mock::{self, command};

/// The running mock (killed when dropped, so the soak never leaves it behind) and its log.
pub(crate) struct Mock {
    pub(crate) running: mock::Mock,
    log: Arc<Mutex<Log>>,
}

/// What the mock wrote to stderr (its log, warnings only: a refused webhook is one, a panic or a
/// failed accept would be others).
#[derive(Default, Clone)]
pub(crate) struct Log {
    pub(crate) lines: u64,
    /// `webhook refused` warnings: one per refused webhook is expected.
    pub(crate) refused: u64,
    /// Lines that say a thread panicked.
    pub(crate) panics: u64,
    /// The first other lines, as written.
    pub(crate) others: Vec<String>,
    pub(crate) other_count: u64,
}

/// How many of the other lines are kept to print.
const OTHERS_KEPT: usize = 20;

impl Mock {
    /// Starts the mock with `args`, and `tmp` as its TMPDIR: where it makes its private upload
    /// directory, so the soak can watch what it keeps on disk.
    pub(crate) fn start(binary: &Path, args: &[&str], tmp: &Path) -> Result<Mock, String> {
        let mut command = command(binary, 0, args);
        // Read below: a refused webhook is logged as a warning, thousands of lines the report
        // only counts, while anything else it says (a panic) is shown.
        command.env("TMPDIR", tmp).stderr(Stdio::piped());
        let mut running = mock::Mock::start(command)?;
        let log = Arc::new(Mutex::new(Log::default()));
        if let Some(stderr) = running.child.stderr.take() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut log = lock(&log);
                    log.lines += 1;
                    if line.contains("panicked") {
                        log.panics += 1;
                    }
                    if line.contains("WARN") && line.contains("webhook refused") {
                        log.refused += 1;
                    } else {
                        log.other_count += 1;
                        if log.others.len() < OTHERS_KEPT {
                            log.others.push(line);
                        }
                    }
                }
            });
        }
        Ok(Mock { running, log })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.running.child.id()
    }

    /// What it wrote to stderr so far.
    pub(crate) fn log(&self) -> Log {
        lock(&self.log).clone()
    }

    /// Stops the mock as Ctrl-C or a service manager would, with SIGTERM (sent by `kill`, std
    /// has no signals), and waits up to `within` for it to exit; its exit status, or why not.
    pub(crate) fn stop(&mut self, within: Duration) -> Result<String, String> {
        let pid = self.pid().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("could not run kill: {e}"))?;
        if !sent.success() {
            return Err(format!("kill -TERM {pid} failed ({sent})"));
        }
        let started = std::time::Instant::now();
        loop {
            match self.running.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(status.to_string()),
                Ok(Some(status)) => return Err(format!("it exited with {status}")),
                Ok(None) if started.elapsed() < within => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(None) => break,
                Err(e) => return Err(format!("could not wait for it: {e}")),
            }
        }
        Err(format!(
            "still running {} s after SIGTERM",
            within.as_secs()
        ))
    }

    /// How the mock ended, if it did (it should still be running at the end of the soak).
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.running.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }
}

/// What is in `dir` (the mock's TMPDIR: its private upload directory while it runs; nothing after
/// it stopped).
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
