//! The mock's release binary as a child process on 127.0.0.1 and a free port, where to find it,
//! and its resident memory.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

/// Where `cargo xtask soak` says the mock's release binary is.
const BIN_ENV: &str = "MUSICGPT_SOAK_MOCK_BIN";

/// The running mock; killed when dropped (also on an early return or a panic), so the soak never
/// leaves it behind.
pub(crate) struct Mock {
    child: Child,
    pub(crate) addr: SocketAddr,
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
    pub(crate) fn start(binary: &Path, args: &[String], tmp: &Path) -> Result<Mock, String> {
        let mut command = Command::new(binary);
        command
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("TMPDIR", tmp);
        // Settings from the environment would change what is soaked.
        for (name, _) in std::env::vars_os() {
            if name
                .to_str()
                .is_some_and(|n| n.starts_with("MUSICGPT_MOCK_") || n == "RUST_LOG")
            {
                command.env_remove(name);
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Read below: a refused webhook is logged as a warning, thousands of lines the
            // report only counts, while anything else it says (a panic) is shown.
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take();
        let (found, listening) = mpsc::channel();
        if let Some(stdout) = stdout {
            // The mock prints `Listening on http://ADDR` once bound; the rest of its output (the
            // banner, the undelivered webhooks at exit) is read and dropped so the pipe never
            // fills and blocks it.
            std::thread::spawn(move || {
                let mut found = Some(found);
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(addr) = line.strip_prefix("Listening on http://")
                        && let Some(found) = found.take()
                    {
                        let _ = found.send(addr.trim().to_owned());
                    }
                }
            });
        }
        let log = Arc::new(Mutex::new(Log::default()));
        if let Some(stderr) = child.stderr.take() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
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
        let mut mock = Mock {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        let addr = listening
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| format!("{} did not say where it listens", binary.display()))?;
        mock.addr = addr
            .parse()
            .map_err(|_| format!("the mock listens on {addr:?}, not an address"))?;
        Ok(mock)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stderr so far.
    pub(crate) fn log(&self) -> Log {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the mock as Ctrl-C or a service manager would, with SIGTERM (sent by `kill`, std
    /// has no signals), and waits up to `within` for it to exit; its exit status, or why not.
    pub(crate) fn stop(&mut self, within: Duration) -> Result<String, String> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("could not run kill: {e}"))?;
        if !sent.success() {
            return Err(format!("kill -TERM {pid} failed ({sent})"));
        }
        let started = std::time::Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(status.to_string()),
                Ok(Some(status)) => return Err(format!("it exited with {status}")),
                Ok(None) if started.elapsed() < within => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(None) => {
                    return Err(format!(
                        "still running {} s after SIGTERM",
                        within.as_secs()
                    ));
                }
                Err(e) => return Err(format!("could not wait for it: {e}")),
            }
        }
    }

    /// How the mock ended, if it did (it should still be running at the end of the soak).
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mock's TMPDIR, made for the run and removed at its end (what the mock leaves in it too).
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> Result<TempDir, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("musicgpt-soak-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("could not make {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// What is in it (the mock's private upload directory while it runs; nothing after it
    /// stopped).
    pub(crate) fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `VmRSS` of process `pid`, in bytes, from /proc (Linux).
pub(crate) fn rss(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| format!("could not read {path} (Linux only): {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .ok_or_else(|| format!("{path} has no VmRSS"))
}

pub(crate) fn binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(BIN_ENV) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "{BIN_ENV}={} is not a file (`cargo bench` runs this program in the package's \
                 folder: give an absolute path)",
                path.display()
            ));
        }
        return Ok(path);
    }
    // `cargo bench` puts this program in target/release/deps/; the binary is one folder up.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let guess = exe.parent().and_then(Path::parent).map(|dir| {
        dir.join(format!(
            "musicgpt-cover-mock{}",
            std::env::consts::EXE_SUFFIX
        ))
    });
    match guess {
        Some(path) if path.is_file() => Ok(path),
        _ => Err(format!(
            "{BIN_ENV} is not set and no release binary was found beside the soak: run \
             `cargo xtask soak`, which builds it (`cargo build --release -p musicgpt-cover-mock`)"
        )),
    }
}
