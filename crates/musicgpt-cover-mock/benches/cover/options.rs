//! The bench's command line: what to measure, for how long, with how many threads and connections.

use crate::scenario::Scenario;

pub(crate) const USAGE: &str = "\
usage: cargo xtask bench [OPTIONS]
   or: MUSICGPT_BENCH_MOCK_BIN=$PWD/target/release/musicgpt-cover-mock \\
       cargo bench -p musicgpt-cover-mock --bench cover -- [OPTIONS]
   (the program measures only when given --bench, as cargo bench does)

options:
  --rounds N            throughput rounds per scenario, each measuring bare and mock (default 5)
  --seconds S           seconds per measurement (default 3)
  --warmup S            seconds of load on each server before a scenario's rounds (default 1)
  --concurrency C       concurrent requests, one keep-alive connection each (default 16)
  --scenario NAME       url, file or all (default all)
  --server-threads N    worker threads of the servers' runtime (default 1)
  --client-threads N    worker threads of the load generator's runtime (default 1)
  --client KIND         the load generator: raw (a keep-alive TCP connection per task, requests
                        written whole; default: it leaves the pace to the servers) or reqwest
                        (one client, its keep-alive pool; saturates its core first)
  --only WHAT           throughput, rss or pitch (default all three)
  --upload-mib N        size of the accepted upload of the rss part (default 1024)
  --limit-mib N         --max-upload-bytes of the mock that must refuse it (default 256)
  -h, --help            this message

exit status: 0 every target met, 1 a target missed, 2 the run is not valid
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Only {
    Throughput,
    Rss,
    Pitch,
}

#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) rounds: usize,
    pub(crate) seconds: f64,
    pub(crate) warmup: f64,
    pub(crate) concurrency: usize,
    pub(crate) scenarios: Vec<Scenario>,
    pub(crate) server_threads: usize,
    pub(crate) client_threads: usize,
    pub(crate) only: Option<Only>,
    pub(crate) raw_client: bool,
    pub(crate) upload_mib: u64,
    pub(crate) limit_mib: u64,
}

impl Options {
    /// `None` for `--help`.
    pub(crate) fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let mut o = Options {
            rounds: 5,
            seconds: 3.0,
            warmup: 1.0,
            concurrency: 16,
            scenarios: vec![Scenario::Url, Scenario::File],
            server_threads: 1,
            client_threads: 1,
            only: None,
            raw_client: true,
            upload_mib: 1024,
            limit_mib: 256,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = || -> Result<String, String> {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                // `cargo bench` adds `--bench` to a harness-less target's arguments.
                "--bench" => {}
                "-h" | "--help" => return Ok(None),
                "--rounds" => o.rounds = positive(&flag, &value()?)?,
                "--seconds" => o.seconds = seconds(&flag, &value()?)?,
                "--warmup" => o.warmup = seconds(&flag, &value()?)?,
                "--concurrency" => o.concurrency = positive(&flag, &value()?)?,
                "--server-threads" => o.server_threads = positive(&flag, &value()?)?,
                "--client-threads" => o.client_threads = positive(&flag, &value()?)?,
                "--upload-mib" => o.upload_mib = positive(&flag, &value()?)? as u64,
                "--limit-mib" => o.limit_mib = positive(&flag, &value()?)? as u64,
                "--scenario" => {
                    o.scenarios = match value()?.as_str() {
                        "url" => vec![Scenario::Url],
                        "file" => vec![Scenario::File],
                        "all" => vec![Scenario::Url, Scenario::File],
                        other => {
                            return Err(format!(
                                "--scenario must be url, file or all, got {other:?}"
                            ));
                        }
                    }
                }
                "--client" => {
                    o.raw_client = match value()?.as_str() {
                        "reqwest" => false,
                        "raw" => true,
                        other => {
                            return Err(format!("--client must be reqwest or raw, got {other:?}"));
                        }
                    }
                }
                "--only" => {
                    o.only = Some(match value()?.as_str() {
                        "throughput" => Only::Throughput,
                        "rss" => Only::Rss,
                        "pitch" => Only::Pitch,
                        other => {
                            return Err(format!(
                                "--only must be throughput, rss or pitch, got {other:?}"
                            ));
                        }
                    })
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
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
}

fn positive(flag: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{flag} must be a whole number above 0, got {value:?}"
        )),
    }
}

fn seconds(flag: &str, value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=3600.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{flag} must be a number of seconds from 0 to 3600, got {value:?}"
        )),
    }
}
