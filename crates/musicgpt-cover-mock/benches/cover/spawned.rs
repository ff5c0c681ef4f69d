//! The mock's release binary as a child process, and where to find it.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::procfs::{self, Memory};
use crate::request::COVER_PATH;

/// Where `cargo xtask bench` says the mock's release binary is.
const BIN_ENV: &str = "MUSICGPT_BENCH_MOCK_BIN";

/// The mock's binary as a child process; killed when dropped (also on a panic or an early
/// return).
pub(crate) struct Spawned {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Spawned {
    pub(crate) fn start(binary: &Path, args: &[&str]) -> Result<Spawned, String> {
        let mut command = Command::new(binary);
        command.args(["--addr", "127.0.0.1:0"]).args(args);
        clean_env(&mut command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take();
        let mut spawned = Spawned {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        };
        let Some(stdout) = stdout else {
            return Err("the mock's stdout is not readable".to_owned());
        };
        // The mock prints `Listening on http://ADDR` once bound; the rest of its output is read
        // and dropped, so the pipe never fills.
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
            .map_err(|_| format!("{} did not say where it listens", binary.display()))?;
        spawned.addr = addr
            .parse()
            .map_err(|_| format!("the mock listens on {addr:?}, not an address"))?;
        Ok(spawned)
    }

    pub(crate) fn cover_url(&self) -> String {
        format!("http://{}{COVER_PATH}", self.addr)
    }

    /// `VmRSS` and `VmHWM` (peak) of the child, in bytes.
    pub(crate) fn memory(&self) -> Result<Memory, String> {
        procfs::memory(self.child.id())
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Leaves out the settings from the environment that would change what is measured.
pub(crate) fn clean_env(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name
            .to_str()
            .is_some_and(|n| n.starts_with("MUSICGPT_MOCK_") || n == "RUST_LOG")
        {
            command.env_remove(name);
        }
    }
}

/// The mock's binary: [`BIN_ENV`]'s, else the one cargo built for this bench (in the same
/// profile: release under `cargo bench`, the test profile under `cargo test --bench cover`).
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
    // Cargo builds the package's binary for its benches, in the same profile, and says where.
    let built = PathBuf::from(env!("CARGO_BIN_EXE_musicgpt-cover-mock"));
    if built.is_file() {
        Ok(built)
    } else {
        Err(format!(
            "{BIN_ENV} is not set and {} does not exist: run `cargo xtask bench`, which builds the \
             release binary",
            built.display()
        ))
    }
}
