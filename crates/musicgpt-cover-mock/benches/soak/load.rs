//! The load: one task per connection, each drawing a kind of request, sending it when the shared
//! pace allows, checking the answer, until the deadline; what they all saw.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::check::{Checked, Timing, check};
use crate::common::http1::Client;
use crate::common::noise;
use crate::ledger::Ledger;
use crate::mix::{self, Context, KINDS, Kind};
use crate::options::Options;

/// Examples kept of each sort of failure, for the report.
const EXAMPLES: usize = 8;
/// The largest upload: small files, so the soak is about many requests, not big ones.
const MAX_UPLOAD: usize = 32 * 1024;

/// What one kind of request saw.
#[derive(Default, Clone)]
pub(crate) struct KindTally {
    pub(crate) sent: u64,
    /// Answers by status.
    pub(crate) statuses: BTreeMap<u16, u64>,
    pub(crate) unexpected: u64,
    pub(crate) socket_errors: u64,
    /// Latency of every answer, in microseconds.
    pub(crate) latencies: Vec<u32>,
}

impl KindTally {
    /// `other`'s counts and latencies added to these.
    fn add(&mut self, other: &KindTally) {
        self.latencies.extend_from_slice(&other.latencies);
        self.sent += other.sent;
        self.unexpected += other.unexpected;
        self.socket_errors += other.socket_errors;
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
    }
}

/// What the whole load saw.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) kinds: Vec<KindTally>,
    pub(crate) unexpected_examples: Vec<String>,
    pub(crate) socket_examples: Vec<String>,
    /// Connections asked for, and opened (more means the mock closed some).
    pub(crate) connections: usize,
    pub(crate) connections_opened: u64,
    pub(crate) closed_by_server: u64,
    pub(crate) elapsed: Duration,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            kinds: vec![KindTally::default(); KINDS.len()],
            ..Tally::default()
        }
    }

    fn merge(&mut self, other: Tally) {
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            mine.add(theirs);
        }
        for (mine, theirs) in [
            (&mut self.unexpected_examples, other.unexpected_examples),
            (&mut self.socket_examples, other.socket_examples),
        ] {
            let room = EXAMPLES.saturating_sub(mine.len());
            mine.extend(theirs.into_iter().take(room));
        }
        self.connections_opened += other.connections_opened;
        self.closed_by_server += other.closed_by_server;
    }

    pub(crate) fn total(&self) -> KindTally {
        let mut total = KindTally::default();
        for k in &self.kinds {
            total.add(k);
        }
        total
    }
}

/// Hands out send times `1 / rate` apart to all connections, so the load is the same every
/// second whatever the latency. A connection that falls behind sends at once until it catches up.
struct Pacer {
    start: Instant,
    interval: Duration,
    next: AtomicU64,
}

impl Pacer {
    fn new(start: Instant, rate: u32) -> Pacer {
        Pacer {
            start,
            interval: Duration::from_secs(1) / rate,
            next: AtomicU64::new(0),
        }
    }

    /// The next send time.
    fn slot(&self) -> Instant {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.start + self.interval * u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// What every connection shares.
struct Shared {
    mock: SocketAddr,
    ledger: Arc<Ledger>,
    pacer: Pacer,
    /// Requests sent so far, for the progress lines.
    sent: Arc<AtomicU64>,
    deadline: Instant,
    time_scale: f64,
}

/// Runs the load for `--seconds` from `start`; returns what it saw.
pub(crate) async fn run(
    o: &Options,
    mock: SocketAddr,
    hook_url: &str,
    spec: Arc<mix::Spec>,
    ledger: Arc<Ledger>,
    sent: Arc<AtomicU64>,
    start: Instant,
) -> Tally {
    let shared = Arc::new(Shared {
        mock,
        ledger,
        pacer: Pacer::new(start, o.rate),
        sent,
        deadline: start + Duration::from_secs(o.seconds),
        time_scale: o.time_scale,
    });
    let noise: Arc<[u8]> = noise(MAX_UPLOAD).into();
    // Four songs of 0.25 to 1 s: short, so that converting them stays a small part of the load.
    let wavs: Arc<[Vec<u8>]> = [(440.0, 0.25), (523.25, 0.5), (659.25, 0.75), (392.0, 1.0)]
        .map(|(hz, seconds)| mix::wav(hz, seconds))
        .into();
    let workers: Vec<_> = (0..o.connections)
        .map(|worker| {
            let cx = Context {
                host: mock.to_string(),
                key: format!("soak-key-{worker:02}"),
                hook_url: hook_url.to_owned(),
                noise: Arc::clone(&noise),
                wavs: Arc::clone(&wavs),
                spec: Arc::clone(&spec),
            };
            let rng = StdRng::seed_from_u64(o.seed.wrapping_mul(1000).wrapping_add(worker as u64));
            tokio::spawn(connection(cx, rng, Arc::clone(&shared)))
        })
        .collect();
    let mut tally = Tally::new();
    for worker in workers {
        match worker.await {
            Ok(t) => tally.merge(t),
            Err(e) => {
                // A panic in the soak itself: the run says so rather than passing short.
                tally
                    .socket_examples
                    .push(format!("a load task ended: {e}"));
                tally.kinds[Kind::GetAllVoices.index()].socket_errors += 1;
            }
        }
    }
    tally.connections = o.connections;
    tally.elapsed = start.elapsed();
    tally
}

async fn connection(cx: Context, mut rng: StdRng, shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::new();
    let mut client = Client::new(shared.mock);
    loop {
        let slot = shared.pacer.slot();
        if slot >= shared.deadline {
            break;
        }
        tokio::time::sleep_until(slot.into()).await;
        let planned = mix::plan(mix::draw(&mut rng), &cx, &shared.ledger, &mut rng);
        let kind = &mut tally.kinds[planned.kind.index()];
        kind.sent += 1;
        shared.sent.fetch_add(1, Ordering::Relaxed);
        let at_send = Instant::now();
        let answer = client.send(&planned.bytes).await;
        let at = Timing {
            sent: at_send,
            received: Instant::now(),
        };
        match answer {
            Ok(answer) => {
                *kind.statuses.entry(answer.status).or_default() += 1;
                let micros = at.received.duration_since(at.sent).as_micros();
                kind.latencies
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
                match check(&planned.expect, &answer, at, shared.time_scale) {
                    Checked::Fine => {}
                    Checked::Accepted(task) => shared.ledger.add(task),
                    Checked::Unexpected(why) => {
                        kind.unexpected += 1;
                        if tally.unexpected_examples.len() < EXAMPLES {
                            let label = planned.kind.label();
                            tally.unexpected_examples.push(format!("{label}: {why}"));
                        }
                    }
                }
            }
            Err(e) => {
                kind.socket_errors += 1;
                if tally.socket_examples.len() < EXAMPLES {
                    tally
                        .socket_examples
                        .push(format!("{}: {e}", planned.kind.label()));
                }
            }
        }
    }
    tally.connections_opened = client.opened;
    tally.closed_by_server = client.closed_by_server;
    tally
}
