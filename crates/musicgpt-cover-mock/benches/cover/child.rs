//! Where the tools are (Prism, the npm package `cargo xtask tools` pins into `.tools/npm`, and the
//! other peers of `peers.rs`), and a server program as a child process (a peer, the mock's
//! binary), timed from its exec to its first answered request.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::http1::{complete, request};
use crate::common::spec::operation;
use crate::request::KEY;

/// The folder `cargo xtask ci` names for the tools (else the workspace's `.tools`).
const TOOLS_ENV: &str = "MUSICGPT_TOOLS_DIR";
/// How long a server (Prism the slowest) may take to answer its first request.
const STARTUP_LIMIT: Duration = Duration::from_secs(90);

/// The request that tells a server is up, getAllVoices: the same on every server, so comparable.
pub(crate) fn ready_path() -> Result<&'static str, String> {
    Ok(operation("getAllVoices")?.1)
}

/// The spec Prism is given: the one the mock embeds (the crate's link to the workspace's file).
pub(crate) fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml")
}

/// The tools folder: [`TOOLS_ENV`]'s, else the workspace's `.tools`.
pub(crate) fn tools_dir() -> PathBuf {
    std::env::var_os(TOOLS_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools"),
            PathBuf::from,
        )
}

/// A free port on 127.0.0.1 for a program that wants one on its command line (released before
/// returning; another process could take it first, and the start would then fail).
pub(crate) fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

/// A server program as a child process; killed when dropped.
pub(crate) struct ChildServer {
    child: Child,
    pub(crate) addr: SocketAddr,
    /// From just before the exec to the first answered request.
    pub(crate) started_in: Duration,
}

impl ChildServer {
    /// Runs `command` (which must listen on `port`) and polls `prefix` + [`ready_path`] every
    /// millisecond until it is answered 200.
    pub(crate) fn start(
        mut command: Command,
        port: u16,
        prefix: &str,
        what: &str,
    ) -> Result<ChildServer, String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let path = format!("{prefix}{}", ready_path()?);
        let started = Instant::now();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {what}: {e}"))?;
        let mut server = ChildServer {
            child,
            addr,
            started_in: Duration::ZERO,
        };
        loop {
            match get_once(addr, &path) {
                Ok(200) => break,
                Ok(status) => return Err(format!("{what} answered {path} with {status}")),
                Err(_) => {}
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("{what} exited ({status}) before answering"));
            }
            if started.elapsed() > STARTUP_LIMIT {
                return Err(format!("{what} did not answer within {STARTUP_LIMIT:?}"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        server.started_in = started.elapsed();
        Ok(server)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One blocking `GET path` (with the bench's key) over a new connection to `addr`; the answer's
/// status. For start-up timing: the first that succeeds is the server's first answered request.
pub(crate) fn get_once(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let host = addr.to_string();
    let headers = [
        ("host", host.as_str()),
        ("authorization", KEY),
        ("accept", "application/json"),
        ("connection", "close"),
    ];
    stream.write_all(&request("GET", path, &headers, &[]))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let mut eof = false;
    loop {
        if let Some((answer, _)) = complete(&buf, eof).map_err(std::io::Error::other)? {
            return Ok(answer.status);
        }
        let n = stream.read(&mut chunk)?;
        eof = n == 0;
        buf.extend_from_slice(&chunk[..n]);
    }
}
