//! The mock's binary as a child process on 127.0.0.1 and a free port, where to find it, and a
//! process's memory from /proc.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The running mock; killed when dropped (also on an early return or a panic), so a run never
/// leaves it behind.
pub(crate) struct Mock {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

/// `binary --addr 127.0.0.1:PORT ARGS` (0: a free port), with no settings from the environment
/// (they would change what is measured); the caller may add to it before [`Mock::start`].
pub(crate) fn command(binary: &Path, port: u16, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .args(args);
    for (name, _) in std::env::vars_os() {
        if name
            .to_str()
            .is_some_and(|n| n.starts_with("MUSICGPT_MOCK_") || n == "RUST_LOG")
        {
            command.env_remove(name);
        }
    }
    command
}

impl Mock {
    /// Starts `command` (from [`command`]) and waits until it says where it listens.
    pub(crate) fn start(mut command: Command) -> Result<Mock, String> {
        let shown = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {shown}: {e}"))?;
        let stdout = child.stdout.take();
        let mut mock = Mock {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let stdout = stdout.ok_or("the mock's stdout is not readable")?;
        // The mock prints `Listening on http://ADDR` once bound; the rest of its output (the
        // banner, the undelivered webhooks at exit) is read and dropped so the pipe never fills
        // and blocks it.
        let (found, listening) = mpsc::channel();
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
        let addr = listening
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| format!("{shown} did not say where it listens"))?;
        mock.addr = addr
            .parse()
            .map_err(|_| format!("the mock listens on {addr:?}, not an address"))?;
        Ok(mock)
    }

    /// `VmRSS` and `VmHWM` (peak) of the mock.
    pub(crate) fn memory(&self) -> Result<Memory, String> {
        memory(self.child.id())
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mock's binary: the one in `crate::MOCK_BIN_ENV` (where `cargo xtask` puts it), else the
/// one cargo built for this bench target (in the same profile: release under `cargo bench`).
pub(crate) fn binary() -> Result<PathBuf, String> {
    let env = crate::MOCK_BIN_ENV;
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "{env}={} is not a file (`cargo bench` runs this program in the package's \
                 folder: give an absolute path)",
                path.display()
            ));
        }
        return Ok(path);
    }
    let built = PathBuf::from(env!("CARGO_BIN_EXE_musicgpt-cover-mock"));
    if built.is_file() {
        Ok(built)
    } else {
        Err(format!(
            "{env} is not set and {} does not exist: run `cargo xtask bench` or `cargo xtask \
             soak`, which build the release binary",
            built.display()
        ))
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Memory {
    pub(crate) rss: u64,
    #[allow(dead_code, reason = "the soak judges the resident memory only")]
    pub(crate) hwm: u64,
}

/// `VmRSS` and `VmHWM` (peak) of process `pid`, in bytes, from /proc (Linux).
pub(crate) fn memory(pid: u32) -> Result<Memory, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| format!("could not read {path} (Linux only): {e}"))?;
    let field = |name: &str| -> Result<u64, String> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
            .ok_or_else(|| format!("{path} has no {name}"))
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        hwm: field("VmHWM:")?,
    })
}
