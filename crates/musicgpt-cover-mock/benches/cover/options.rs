//! The bench's command line: what to measure, for how long, with how many threads and connections.

use std::path::PathBuf;

use crate::PARTS;
use crate::common::options::{number, walk, whole};
use crate::peers::Kind;
use crate::scenario::Scenario;

const USAGE: &str = "\
usage: cargo xtask bench [OPTIONS]
   or: MUSICGPT_BENCH_MOCK_BIN=$PWD/target/release/musicgpt-cover-mock \\
       cargo bench -p musicgpt-cover-mock --bench cover -- [OPTIONS]
   or: cargo test -p musicgpt-cover-mock --bench cover -- --smoke
   (the program measures only when given --bench, as cargo bench does, or --smoke)

options:
  --rounds N            throughput rounds per row, each measuring bare, mock and the peers
                        (Prism, WireMock, Mockoon) (default 3)
  --seconds S           seconds per throughput measurement (default 3)
  --warmup S            seconds of load on the mock and the bare server before a row's rounds
                        (default 1); each peer gets a warm-up round (--seconds, at least --warmup)
  --concurrency C       concurrent requests, one keep-alive connection each (default 32)
  --scenario NAME       the throughput rows: {scenarios}
                        or all (default all)
  --server-threads N    worker threads of the servers' runtime (default 1)
  --client-threads N    worker threads of the load generator's runtime (default 1)
  --no-prism            leave Prism out (its rows say so)
  --no-wiremock         leave WireMock out (left out anyway, saying so, when not installed:
                        `cargo xtask tools --bench` installs it and Mockoon)
  --no-mockoon          leave Mockoon out (likewise)
  --no-peers            leave all three out
  --only WHAT           {parts} (default all)
  --upload-mib N        size of the uploads of the rss and client parts (default 1024)
  --limit-mib N         --max-upload-bytes of the mock that must refuse it (default 256)
  --startup-runs N      start-ups measured of the mock's binary and MockServer (default 20)
  --peer-startup-runs N start-ups measured of each peer (default 5: Prism's take about 1.5 s)
  --webhook-tasks N     tasks due at once in the webhooks part (default 10000)
  --markdown FILE       also write the results as Markdown sections (cargo xtask bench merges
                        them into BENCHMARKS.md)
  --smoke               every part for about a second, small sizes, one round; targets shown,
                        not judged; exit 0 unless the run is not valid (a test of the harness)
  -h, --help            this message

exit status: 0 every target met, 1 a target missed, 2 the run is not valid
";

/// The usage text, with the measurements' and the throughput rows' names.
pub(crate) fn usage() -> String {
    USAGE
        .replace("{parts}", &or_list(&PARTS.map(|(name, _)| name)))
        .replace("{scenarios}", &Scenario::ALL.map(Scenario::name).join(", "))
}

/// `a, b or c`.
fn or_list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

pub(crate) struct Options {
    pub(crate) rounds: usize,
    pub(crate) seconds: f64,
    pub(crate) warmup: f64,
    pub(crate) concurrency: usize,
    pub(crate) scenarios: Vec<Scenario>,
    pub(crate) server_threads: usize,
    pub(crate) client_threads: usize,
    /// The peers to measure (those not installed are left out when found missing).
    pub(crate) peers: Vec<Kind>,
    pub(crate) only: Option<String>,
    pub(crate) upload_mib: u64,
    pub(crate) limit_mib: u64,
    pub(crate) startup_runs: usize,
    pub(crate) peer_startup_runs: usize,
    pub(crate) webhook_tasks: usize,
    pub(crate) markdown: Option<PathBuf>,
    pub(crate) smoke: bool,
}

impl Options {
    /// `None` for `--help`. `--smoke` makes the defaults those of about a second per part; what is
    /// given on the command line still wins.
    pub(crate) fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let args: Vec<String> = args.collect();
        let o = match Options::read(&args, false)? {
            Some(o) if o.smoke => Options::read(&args, true)?,
            o => o,
        };
        let Some(o) = o else {
            return Ok(None);
        };
        if o.seconds <= 0.0 {
            return Err("--seconds must be more than 0".to_owned());
        }
        if o.limit_mib >= o.upload_mib {
            return Err(format!(
                "--limit-mib ({}) must be below --upload-mib ({}): the refused upload is that large",
                o.limit_mib, o.upload_mib
            ));
        }
        Ok(Some(o))
    }

    /// `args` over the defaults (a smoke run's when `smoke`).
    fn read(args: &[String], smoke: bool) -> Result<Option<Options>, String> {
        let mut o = Options {
            rounds: if smoke { 1 } else { 3 },
            seconds: if smoke { 0.5 } else { 3.0 },
            warmup: if smoke { 0.0 } else { 1.0 },
            concurrency: 32,
            scenarios: Scenario::ALL.to_vec(),
            server_threads: 1,
            client_threads: 1,
            peers: Kind::ALL.to_vec(),
            only: None,
            upload_mib: if smoke { 8 } else { 1024 },
            limit_mib: if smoke { 4 } else { 256 },
            startup_runs: if smoke { 1 } else { 20 },
            peer_startup_runs: if smoke { 1 } else { 5 },
            webhook_tasks: if smoke { 200 } else { 10_000 },
            markdown: None,
            smoke,
        };
        let run = walk(args.iter().cloned(), |flag, value| {
            let positive = |value: String| whole(flag, &value, 1..=usize::MAX);
            match flag {
                "--smoke" => o.smoke = true,
                "--no-peers" => o.peers.clear(),
                flag if Kind::ALL.iter().any(|k| k.flag() == flag) => {
                    o.peers.retain(|k| k.flag() != flag);
                }
                "--rounds" => o.rounds = positive(value()?)?,
                "--seconds" => o.seconds = number(flag, &value()?, 0.0..=3600.0)?,
                "--warmup" => o.warmup = number(flag, &value()?, 0.0..=3600.0)?,
                "--concurrency" => o.concurrency = positive(value()?)?,
                "--server-threads" => o.server_threads = positive(value()?)?,
                "--client-threads" => o.client_threads = positive(value()?)?,
                "--upload-mib" => o.upload_mib = whole(flag, &value()?, 1..=u64::MAX)?,
                "--limit-mib" => o.limit_mib = whole(flag, &value()?, 1..=u64::MAX)?,
                "--startup-runs" => o.startup_runs = positive(value()?)?,
                "--peer-startup-runs" => o.peer_startup_runs = positive(value()?)?,
                "--webhook-tasks" => o.webhook_tasks = positive(value()?)?,
                "--markdown" => o.markdown = Some(PathBuf::from(value()?)),
                "--scenario" => {
                    let name = value()?;
                    o.scenarios = if name == "all" {
                        Scenario::ALL.to_vec()
                    } else {
                        let known = Scenario::ALL.iter().find(|s| s.name() == name);
                        vec![*known.ok_or_else(|| {
                            format!(
                                "--scenario must be one of {} or all, got {name:?}",
                                Scenario::ALL.map(Scenario::name).join(", ")
                            )
                        })?]
                    }
                }
                "--only" => {
                    let part = value()?;
                    let names = PARTS.map(|(name, _)| name);
                    if !names.contains(&part.as_str()) {
                        return Err(format!("--only must be {}, got {part:?}", or_list(&names)));
                    }
                    o.only = Some(part);
                }
                other => return Err(format!("unknown option {other:?}")),
            }
            Ok(())
        })?;
        Ok(run.then_some(o))
    }
}
