//! The load generators: the same Cover from many tasks, each sending the next as soon as the last
//! is answered, through reqwest or over raw keep-alive TCP connections; what they saw.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use bytes::Bytes;
use tokio::task::JoinHandle;

use crate::http1::parse_head;
use crate::request::{COVER_PATH, KEY, content_type};

/// One server under load.
pub(crate) struct Target {
    pub(crate) name: &'static str,
    pub(crate) url: String,
    pub(crate) addr: SocketAddr,
}

/// What one measurement saw.
#[derive(Default)]
pub(crate) struct Measurement {
    pub(crate) ok: u64,
    pub(crate) failed: u64,
    pub(crate) first_failure: Option<String>,
    elapsed: Duration,
    /// Latency of every answered request, in microseconds.
    latencies: Vec<u32>,
    /// The servers' runtime's CPU use, in percent of one core (NaN off Linux).
    pub(crate) server_cpu: f64,
    /// The load generator's runtime's CPU use, likewise.
    pub(crate) client_cpu: f64,
}

impl Measurement {
    pub(crate) fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The servers' runtime's CPU time per answered request, in microseconds.
    pub(crate) fn server_micros_per_request(&self) -> f64 {
        self.server_cpu / 100.0 * self.elapsed.as_secs_f64() * 1e6 / self.ok as f64
    }

    /// The `q` quantile of the latencies, in milliseconds.
    pub(crate) fn latency_ms(&mut self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        let (_, nth, _) = self.latencies.select_nth_unstable(index);
        f64::from(*nth) / 1000.0
    }
}

/// How the load generator sends.
#[derive(Clone)]
pub(crate) enum LoadClient {
    /// One reqwest client for every task (its pool: one keep-alive connection per task).
    Reqwest(reqwest::Client),
    /// A keep-alive TCP connection per task, the request's bytes written whole and the answer
    /// read by hand: a few microseconds per request, so the server is what limits throughput.
    Raw,
}

/// The same request, from `concurrency` tasks each sending the next as soon as the last is
/// answered, for `duration`; requests/s counts the answers by the time the last one came.
pub(crate) async fn load(
    how: LoadClient,
    target: &Target,
    body: Bytes,
    concurrency: usize,
    duration: Duration,
) -> Measurement {
    let content_type = content_type();
    let raw_request = raw_request(target.addr, &body);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<JoinHandle<Measurement>> = (0..concurrency)
        .map(|_| {
            let how = how.clone();
            let (url, addr) = (Arc::<str>::from(target.url.as_str()), target.addr);
            let (body, raw_request, content_type) =
                (body.clone(), raw_request.clone(), content_type.clone());
            tokio::spawn(async move {
                let mut m = Measurement {
                    latencies: Vec::with_capacity(16 * 1024),
                    ..Measurement::default()
                };
                let mut connection: Option<RawConnection> = None;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let outcome = match &how {
                        LoadClient::Reqwest(client) => {
                            reqwest_once(client, &url, &content_type, body.clone()).await
                        }
                        LoadClient::Raw => raw_once(&mut connection, addr, &raw_request).await,
                    };
                    match outcome {
                        Ok(()) => {
                            m.ok += 1;
                            let micros = sent.elapsed().as_micros();
                            m.latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                        }
                        Err(e) => {
                            m.failed += 1;
                            m.first_failure.get_or_insert(e);
                        }
                    }
                }
                m
            })
        })
        .collect();
    let mut total = Measurement::default();
    for worker in workers {
        match worker.await {
            Ok(m) => {
                total.ok += m.ok;
                total.failed += m.failed;
                if total.first_failure.is_none() {
                    total.first_failure = m.first_failure;
                }
                total.latencies.extend(m.latencies);
            }
            Err(e) => {
                total.failed += 1;
                total
                    .first_failure
                    .get_or_insert(format!("a load task ended: {e}"));
            }
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// One Cover through reqwest; `Err` unless it was answered 200.
async fn reqwest_once(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    body: Bytes,
) -> Result<(), String> {
    let response = client
        .post(url)
        .header(header::AUTHORIZATION, KEY)
        .header(header::ACCEPT, "multipart/form-data")
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    match response.bytes().await {
        Ok(_) if status == StatusCode::OK => Ok(()),
        Ok(answer) => Err(format!("{status}: {}", String::from_utf8_lossy(&answer))),
        Err(e) => Err(format!("{status}, body unreadable: {e}")),
    }
}

/// The whole HTTP/1.1 request, head and body, as the raw load generator writes it: the same
/// headers as reqwest sends (but its `accept: */*` default and no `user-agent`, which reqwest
/// does not send either).
fn raw_request(addr: SocketAddr, body: &[u8]) -> Bytes {
    let mut request = format!(
        "POST {COVER_PATH} HTTP/1.1\r\nhost: {addr}\r\nauthorization: {KEY}\r\naccept: multipart/form-data\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
        content_type(),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    Bytes::from(request)
}

/// A raw keep-alive connection and its read buffer.
struct RawConnection {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

/// One Cover over the task's raw connection (opened, or opened again after an error, first);
/// `Err` unless it was answered 200.
async fn raw_once(
    connection: &mut Option<RawConnection>,
    addr: SocketAddr,
    request: &[u8],
) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    if connection.is_none() {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("could not connect to {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        *connection = Some(RawConnection {
            stream,
            buf: Vec::with_capacity(4096),
        });
    }
    let Some(c) = connection.as_mut() else {
        return Err("no connection".to_owned());
    };
    let exchange = async {
        c.stream.write_all(request).await?;
        c.buf.clear();
        loop {
            if let Some((status, start, len)) = parse_head(&c.buf)
                && c.buf.len() >= start + len
            {
                return Ok((status, start, len));
            }
            if c.stream.read_buf(&mut c.buf).await? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
        }
    };
    match exchange.await {
        Ok((200, _, _)) => Ok(()),
        Ok((status, start, len)) => Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&c.buf[start..start + len])
        )),
        Err(e) => {
            *connection = None;
            Err(format!("request failed: {e}"))
        }
    }
}
