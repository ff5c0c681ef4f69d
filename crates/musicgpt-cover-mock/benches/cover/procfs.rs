//! CPU figures from /proc (Linux): how much of the machine the servers, the load generator and
//! other programs took.

use std::time::Duration;

/// Other programs' CPU use (percent of one core) above which a measurement is flagged.
pub(crate) const OTHERS_WARNING: f64 = 10.0;

/// CPU time counters from /proc (Linux), to tell how much of the machine other programs took
/// while something was measured.
pub(crate) struct CpuSample {
    /// Every CPU's jiffies, idle included.
    total: u64,
    /// Every CPU's busy jiffies (user, nice, system, irq, softirq, steal).
    busy: u64,
    /// This process's user and system jiffies.
    own: u64,
}

impl CpuSample {
    pub(crate) fn now() -> Option<CpuSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let field = |i: usize| cpu.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal (guest time is inside user already)
        let total = (0..8).map(field).sum();
        let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
        let own = stat_jiffies(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(CpuSample { total, busy, own })
    }

    /// How much CPU other processes used since `self`, in percent of one core, not counting
    /// `excluded` jiffies (a child process of the bench's, measured on its own).
    pub(crate) fn others_since(self, cores: usize, excluded: u64) -> Option<f64> {
        let later = CpuSample::now()?;
        let total = later.total.checked_sub(self.total)?;
        if total == 0 {
            return None;
        }
        let busy = later.busy.saturating_sub(self.busy);
        let own = later.own.saturating_sub(self.own) + excluded;
        Some(busy.saturating_sub(own) as f64 / total as f64 * cores as f64 * 100.0)
    }
}

/// CPU jiffies (user and system) per thread of a group, and every CPU's jiffies, idle included:
/// two readings say what share of the machine the group took between them.
pub(crate) struct Jiffies {
    /// (thread id, its jiffies so far)
    per_thread: Vec<(u64, u64)>,
    total: u64,
}

impl Jiffies {
    /// What the group used since `before`: each thread's growth, a thread started since counted
    /// whole. A thread that ended since (a runtime's blocking-pool thread, say) is left out, not
    /// subtracted: the sum of the group's counters would shrink and hide the others' work.
    fn used_since(&self, before: &Jiffies) -> u64 {
        self.per_thread
            .iter()
            .map(|(tid, now)| {
                let then = before
                    .per_thread
                    .iter()
                    .find(|(t, _)| t == tid)
                    .map_or(0, |(_, j)| *j);
                now.saturating_sub(then)
            })
            .sum()
    }
}

/// User and system jiffies in a `/proc/.../stat` line (fields 14 and 15, counted after the
/// command name, which may hold spaces and parentheses).
pub(crate) fn stat_jiffies(stat: &str) -> Option<u64> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Process `pid`'s jiffies, as a group of one.
pub(crate) fn process_jiffies(pid: u32) -> Option<Jiffies> {
    let total = CpuSample::now()?.total;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(Jiffies {
        per_thread: vec![(u64::from(pid), stat_jiffies(&stat)?)],
        total,
    })
}

/// The jiffies of this process's threads named `name` (a runtime's threads).
pub(crate) fn thread_jiffies(name: &str) -> Option<Jiffies> {
    let total = CpuSample::now()?.total;
    let tasks = std::fs::read_dir("/proc/self/task").ok()?.flatten();
    let per_thread = tasks.filter_map(|entry| {
        let tid = entry.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        let (open, close) = (stat.find('(')?, stat.rfind(')')?);
        (stat[open + 1..close] == *name).then(|| (tid, stat_jiffies(&stat).unwrap_or(0)))
    });
    Some(Jiffies {
        per_thread: per_thread.collect(),
        total,
    })
}

/// The jiffies a group used between two readings (0 when either is missing).
pub(crate) fn jiffies_used(before: Option<&Jiffies>, after: Option<&Jiffies>) -> u64 {
    match (before, after) {
        (Some(b), Some(a)) => a.used_since(b),
        _ => 0,
    }
}

/// Other programs' CPU use over one idle second before anything starts.
pub(crate) fn report_others_before(cores: usize) {
    let Some(before) = CpuSample::now() else {
        return;
    };
    std::thread::sleep(Duration::from_secs(1));
    if let Some(others) = before.others_since(cores, 0) {
        println!("other processes used {others:.0}% of a core in the second before the run");
        if others > OTHERS_WARNING {
            println!(
                "  warning: the machine is not idle; absolute numbers will be low and ratios noisier"
            );
        }
    }
}

/// The share of the machine a thread group took between two [`thread_jiffies`] (or
/// [`process_jiffies`]) readings, in percent of one core.
pub(crate) fn cpu_share(before: Option<&Jiffies>, after: Option<&Jiffies>, cores: usize) -> f64 {
    match (before, after) {
        (Some(b), Some(a)) if a.total > b.total => {
            a.used_since(b) as f64 / (a.total - b.total) as f64 * cores as f64 * 100.0
        }
        _ => f64::NAN,
    }
}
