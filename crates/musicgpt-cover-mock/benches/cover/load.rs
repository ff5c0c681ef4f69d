//! The load generator: many tasks, each with a keep-alive TCP connection of its own, each sending
//! its next request as soon as the last is answered, the request's bytes written whole and the
//! answer read by hand (a few microseconds per request, so the server is what limits throughput);
//! what they saw.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::task::JoinHandle;

use crate::http1::complete_answer;

/// One server under load, and the requests to send it: connection `i` sends
/// `requests[i % requests.len()]` over and over.
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) requests: Vec<Bytes>,
}

/// What one measurement saw.
#[derive(Default)]
pub(crate) struct Measurement {
    /// Requests answered 2xx: only these count.
    pub(crate) ok: u64,
    /// Requests answered otherwise, or not at all.
    pub(crate) failed: u64,
    pub(crate) first_failure: Option<String>,
    elapsed: Duration,
    /// Latency of every request answered 2xx, in microseconds.
    latencies: Vec<u32>,
    /// The servers' runtime's CPU use, in percent of one core (NaN off Linux, or out of process).
    pub(crate) server_cpu: f64,
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

/// `target`'s requests from `concurrency` tasks each sending the next as soon as the last is
/// answered, for `duration`; requests/s counts the 2xx answers by the time the last one came.
pub(crate) async fn load(target: &Target, concurrency: usize, duration: Duration) -> Measurement {
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<JoinHandle<Measurement>> = (0..concurrency)
        .map(|i| {
            let addr = target.addr;
            let request = target.requests[i % target.requests.len()].clone();
            tokio::spawn(async move {
                let mut m = Measurement {
                    latencies: Vec::with_capacity(16 * 1024),
                    ..Measurement::default()
                };
                let mut connection: Option<RawConnection> = None;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match raw_once(&mut connection, addr, &request).await {
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

/// A raw keep-alive connection and its read buffer.
struct RawConnection {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

/// One request over the task's raw connection (opened, or opened again after an error or a
/// `Connection: close`, first); `Err` unless it was answered 2xx.
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
            if let Some(answer) = complete_answer(&c.buf) {
                return Ok(answer);
            }
            if c.stream.read_buf(&mut c.buf).await? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
        }
    };
    match exchange.await {
        Ok(answer) => {
            let outcome = if (200..300).contains(&answer.status) {
                Ok(())
            } else {
                Err(format!(
                    "{}: {}",
                    answer.status,
                    String::from_utf8_lossy(&c.buf[answer.body])
                ))
            };
            if answer.close {
                *connection = None;
            }
            outcome
        }
        Err(e) => {
            *connection = None;
            Err(format!("request failed: {e}"))
        }
    }
}
