//! The soak's command line: how long, how many connections and how fast, and the settings the
//! mock is started with.

use musicgpt_cover_mock::ETA_SECONDS;

use crate::common::options::{number, walk, whole};

const SOAK_TIME_SCALE: f64 = 0.005;

/// The help, its eta range the mock's.
pub(crate) fn usage() -> String {
    let (shortest, longest) = (*ETA_SECONDS.start(), *ETA_SECONDS.end());
    format!(
        "\
usage: cargo xtask soak [OPTIONS]
   or: MUSICGPT_SOAK_MOCK_BIN=$PWD/target/release/musicgpt-cover-mock \\
       cargo bench -p musicgpt-cover-mock --bench soak -- [OPTIONS]
   (the program runs only when given --bench, as cargo bench does)

options:
  --seconds N        how long the load runs (default 60; at least 3, since RSS is judged by thirds)
  --connections C    concurrent keep-alive connections (default 64)
  --rate R           requests a second, all connections together (default 4000)
  --time-scale S     the mock's --time-scale: a task takes eta x S seconds, eta being {shortest} to {longest}
                     (default {SOAK_TIME_SCALE}: {} to {} s, so tasks finish all through the run)
  --task-capacity N  the mock's --task-capacity (default 2000: the store is full, and evicting,
                     within the first seconds, so the RSS after warm-up is that of a full store)
  --drain S          seconds allowed after the load for every task to be final and every
                     webhook settled (default 60)
  --seed N           seed of the request mix (default: from the clock; printed, to repeat a run)
  -h, --help         this message

exit status: 0 every check passed, 1 a check failed, 2 the run is not valid
",
        shortest as f64 * SOAK_TIME_SCALE,
        longest as f64 * SOAK_TIME_SCALE,
    )
}

pub(crate) struct Options {
    pub(crate) seconds: u64,
    pub(crate) connections: usize,
    pub(crate) rate: u32,
    pub(crate) time_scale: f64,
    pub(crate) task_capacity: usize,
    pub(crate) drain: f64,
    pub(crate) seed: u64,
}

impl Options {
    /// `None` for `--help`.
    pub(crate) fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let mut o = Options {
            seconds: 60,
            connections: 64,
            rate: 4000,
            time_scale: SOAK_TIME_SCALE,
            task_capacity: 2000,
            drain: 60.0,
            seed: clock_seed(),
        };
        let run = walk(args, |flag, value| {
            match flag {
                "--seconds" => o.seconds = whole(flag, &value()?, 3..=86_400)?,
                "--connections" => o.connections = whole(flag, &value()?, 1..=4096)?,
                "--rate" => o.rate = whole(flag, &value()?, 1..=1_000_000)?,
                "--task-capacity" => o.task_capacity = whole(flag, &value()?, 1..=10_000_000)?,
                "--seed" => o.seed = whole(flag, &value()?, 0..=u64::MAX)?,
                "--time-scale" => o.time_scale = number(flag, &value()?, 0.0..=1.0)?,
                "--drain" => o.drain = number(flag, &value()?, 1.0..=3600.0)?,
                other => return Err(format!("unknown option {other:?}")),
            }
            Ok(())
        })?;
        Ok(run.then_some(o))
    }

    /// The shortest and the longest a task runs: the mock's eta, times the scale.
    pub(crate) fn task_seconds(&self) -> (f64, f64) {
        let scaled = |eta: u64| eta as f64 * self.time_scale;
        (scaled(*ETA_SECONDS.start()), scaled(*ETA_SECONDS.end()))
    }
}

/// A seed nobody chose, so two runs do not send the same mix; printed so one can be repeated.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64 % 1_000_000_000)
}
