//! Reading an HTTP/1.1 answer by hand, for the raw load generator and the raw uploads.

use std::ops::Range;

/// An HTTP/1.1 answer's status, where its body starts and how long it is (its Content-Length),
/// once `buf` holds the whole head.
pub(crate) fn parse_head(buf: &[u8]) -> Option<(u16, usize, usize)> {
    let (status, start, framing, _) = head(buf)?;
    let len = match framing {
        Framing::Length(len) => len,
        Framing::Chunked => 0,
    };
    Some((status, start, len))
}

/// A whole answer, once `buf` holds it: its status, its body's bytes (as sent: a chunked body
/// with its chunk heads) and whether the server closes the connection after it.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Range<usize>,
    pub(crate) close: bool,
}

/// The answer at the start of `buf`, once all of it has come (a `Content-Length` body, or a
/// chunked one up to its last chunk).
pub(crate) fn complete_answer(buf: &[u8]) -> Option<Answer> {
    let (status, start, framing, close) = head(buf)?;
    let end = match framing {
        Framing::Length(len) => (buf.len() >= start + len).then_some(start + len)?,
        Framing::Chunked => {
            let rest = &buf[start..];
            if rest.starts_with(b"0\r\n\r\n") {
                start + 5
            } else {
                start + rest.windows(7).position(|w| w == b"\r\n0\r\n\r\n")? + 7
            }
        }
    };
    Some(Answer {
        status,
        body: start..end,
        close,
    })
}

enum Framing {
    Length(usize),
    Chunked,
}

fn head(buf: &[u8]) -> Option<(u16, usize, Framing, bool)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut framing = Framing::Length(0);
    let mut close = false;
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            framing = Framing::Length(value.parse().ok()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.eq_ignore_ascii_case("chunked")
        {
            framing = Framing::Chunked;
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            close = true;
        }
    }
    Some((status, end + 4, framing, close))
}

/// One blocking `GET path` (with the bench's key) over a new connection to `addr`; the answer's
/// status. For start-up timing: the first that succeeds is the server's first answered request.
pub(crate) fn get_once(addr: std::net::SocketAddr, path: &str) -> std::io::Result<u16> {
    use std::io::{Read, Write};

    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    stream.write_all(
        format!(
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: {}\r\naccept: application/json\r\nconnection: close\r\n\r\n",
            crate::request::KEY
        )
        .as_bytes(),
    )?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(answer) = complete_answer(&buf) {
            return Ok(answer.status);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
