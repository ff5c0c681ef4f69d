//! The load generator: many tasks, each with a keep-alive TCP connection of its own, each sending
//! its next request as soon as the last is answered through the hand-written client (a few
//! microseconds per request, so the server is what limits throughput); what they saw.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::task::JoinHandle;

use crate::common::http1::Client;
use crate::common::quantile_ms;

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
        quantile_ms(&mut self.latencies, q).unwrap_or(f64::NAN)
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
                let mut client = Client::new(addr);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match client.send(&request).await {
                        Ok(answer) if (200..300).contains(&answer.status) => {
                            m.ok += 1;
                            let micros = sent.elapsed().as_micros();
                            m.latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                        }
                        Ok(answer) => {
                            m.failed += 1;
                            let body = String::from_utf8_lossy(&answer.body);
                            m.first_failure
                                .get_or_insert_with(|| format!("{}: {body}", answer.status));
                        }
                        Err(e) => {
                            m.failed += 1;
                            m.first_failure
                                .get_or_insert_with(|| format!("request failed: {e}"));
                        }
                    }
                }
                m
            })
        })
        .collect();
    let mut total = Measurement::default();
    for worker in workers {
        let m = worker.await.unwrap_or_else(|e| Measurement {
            failed: 1,
            first_failure: Some(format!("a load task ended: {e}")),
            ..Measurement::default()
        });
        total.ok += m.ok;
        total.failed += m.failed;
        total.first_failure = total.first_failure.or(m.first_failure);
        total.latencies.extend(m.latencies);
    }
    total.elapsed = started.elapsed();
    total
}
