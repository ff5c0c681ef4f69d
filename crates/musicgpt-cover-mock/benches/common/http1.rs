//! A hand-written HTTP/1.1 client over one keep-alive connection, the reading of an answer it
//! rests on, and the writing of a request and of a `multipart/form-data` body. The loads need to know exactly how many connections they hold, to spend a few
//! microseconds a request (so the server is what limits throughput), and to tell a socket error
//! (no answer, a broken connection) from an answer, which a pooled client that reconnects and
//! retries on its own would blur.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long an answer may take before it counts as a socket error (the mock answers in
/// milliseconds; this only keeps a hung connection from holding a run forever).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A whole answer: its status and its body (a chunked one joined).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// One connection to one address, opened on first use and again after the server closed it.
pub(crate) struct Client {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Connections opened so far.
    pub(crate) opened: u64,
    /// Answers that said `Connection: close` (the next request opens a new connection).
    pub(crate) closed_by_server: u64,
}

impl Client {
    pub(crate) fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            stream: None,
            buf: Vec::with_capacity(8 * 1024),
            opened: 0,
            closed_by_server: 0,
        }
    }

    /// Sends `request` (head and body, written whole) and reads its answer. `Err` is a socket
    /// error: the connection could not be opened, broke, closed early or went silent; the
    /// connection is dropped and the next call opens a new one.
    pub(crate) async fn send(&mut self, request: &[u8]) -> Result<Answer, String> {
        let fresh = self.stream.is_none();
        let outcome = tokio::time::timeout(ANSWER_TIMEOUT, self.exchange(request)).await;
        let reused = if fresh { "new" } else { "kept-alive" };
        match outcome {
            Ok(Ok((answer, close))) => {
                if close {
                    self.stream = None;
                    self.closed_by_server += 1;
                }
                Ok(answer)
            }
            Ok(Err(e)) => {
                self.stream = None;
                Err(format!("{e} (on a {reused} connection)"))
            }
            Err(_) => {
                self.stream = None;
                Err(format!(
                    "no answer within {}s (on a {reused} connection)",
                    ANSWER_TIMEOUT.as_secs()
                ))
            }
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<(Answer, bool), String> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .map_err(|e| format!("connect to {}: {e}", self.addr))?;
            stream
                .set_nodelay(true)
                .map_err(|e| format!("TCP_NODELAY: {e}"))?;
            self.opened += 1;
            self.stream = Some(stream);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err("no connection".to_owned());
        };
        stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.buf.clear();
        let mut eof = false;
        loop {
            if let Some(done) = complete(&self.buf, eof)? {
                return Ok(done);
            }
            let read = stream.read_buf(&mut self.buf).await;
            eof = read.map_err(|e| format!("read: {e}"))? == 0;
        }
    }
}

/// A whole HTTP/1.1 request: `headers` in their order, then, for a body or a method other than GET,
/// `content-length`, and the body.
pub(crate) fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method != "GET" || !body.is_empty() {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A curl-like boundary; the same bytes go to every server.
const BOUNDARY: &str = "------------------------b3nchMA4YWxkTrZu0gW";

/// The `content-type` of a [`Form`].
pub(crate) fn form_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A `multipart/form-data` body written by hand, as curl writes one.
#[derive(Default)]
pub(crate) struct Form(pub(crate) Vec<u8>);

impl Form {
    pub(crate) fn text(mut self, name: &str, value: &str) -> Form {
        self.0.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
        self
    }

    /// The head of a file part `audio_file`: its bytes and `\r\n` are to follow.
    pub(crate) fn file_head(mut self, file_name: &str, content_type: &str) -> Form {
        self.0.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        self
    }

    /// A file part `audio_file` holding `bytes`.
    pub(crate) fn file(self, file_name: &str, content_type: &str, bytes: &[u8]) -> Form {
        let mut form = self.file_head(file_name, content_type);
        form.0.extend_from_slice(bytes);
        form.0.extend_from_slice(b"\r\n");
        form
    }

    /// The body, closed.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.0
            .extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.0
    }
}

/// The answer at the start of `buf` once all of it has come, and whether the server closes the
/// connection after it; `None` while more is to come. `eof`: nothing more will come (the server
/// closed the connection), so an answer still short is an error. `Err` when it is not HTTP/1.1.
pub(crate) fn complete(buf: &[u8], eof: bool) -> Result<Option<(Answer, bool)>, String> {
    let Some(head) = parse_head(buf)? else {
        return match (eof, buf.is_empty()) {
            (false, _) => Ok(None),
            (true, true) => Err("closed before answering".to_owned()),
            (true, false) => Err(format!(
                "closed in the middle of an answer's head ({} bytes)",
                buf.len()
            )),
        };
    };
    let rest = &buf[head.len..];
    let body = match head.framing {
        Framing::Length(n) if rest.len() > n => {
            return Err(format!(
                "{} bytes after a {n}-byte answer nobody asked for",
                rest.len() - n
            ));
        }
        Framing::Length(n) if rest.len() == n => Some(rest.to_vec()),
        Framing::Chunked => dechunk(rest)?,
        Framing::UntilClose if eof => Some(rest.to_vec()),
        Framing::Length(_) | Framing::UntilClose => None,
    };
    match body {
        Some(body) => Ok(Some((
            Answer {
                status: head.status,
                body,
            },
            head.close,
        ))),
        None if eof => Err(format!("closed in the middle of a {} answer", head.status)),
        None => Ok(None),
    }
}

/// How an answer's body is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

struct Head {
    status: u16,
    len: usize,
    framing: Framing,
    close: bool,
}

/// The answer's head once `buf` holds all of it; `Err` when it is not HTTP/1.1.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| "an answer head that is not text")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP/1.1 status line: {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("a header line without a colon: {line:?}"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("Content-Length {value:?}"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"));
        }
    }
    let framing = match (chunked, length) {
        (true, _) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(n),
        (false, None) => Framing::UntilClose,
    };
    let close = close || matches!(framing, Framing::UntilClose);
    Ok(Some(Head {
        status,
        len: end + 4,
        framing,
        close,
    }))
}

/// The body of a chunked answer once `rest` holds all of it (trailers are not expected and
/// refused).
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&rest[..eol]).map_err(|_| "a chunk size not text")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("a chunk size {size_text:?}"))?;
        let data = eol + 2;
        if rest.len() < data + size + 2 {
            return Ok(None);
        }
        if &rest[data + size..data + size + 2] != b"\r\n" {
            return Err("a chunk not followed by CRLF".to_owned());
        }
        if size == 0 {
            if rest.len() > data + 2 {
                return Err("bytes after the last chunk".to_owned());
            }
            return Ok(Some(body));
        }
        body.extend_from_slice(&rest[data..data + size]);
        rest = &rest[data + size + 2..];
    }
}
