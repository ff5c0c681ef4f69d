//! Reading an HTTP/1.1 answer by hand, for the raw load generator and the raw uploads.

/// An HTTP/1.1 answer's status, where its body starts and how long it is (its Content-Length),
/// once `buf` holds the whole head.
pub(crate) fn parse_head(buf: &[u8]) -> Option<(u16, usize, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let len = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            if name.eq_ignore_ascii_case("content-length") {
                value.trim().parse().ok()
            } else {
                None
            }
        })
        .unwrap_or(0);
    Some((status, end + 4, len))
}
