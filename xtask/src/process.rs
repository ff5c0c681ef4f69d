//! Running the external programs xtask drives, with errors that name the command and what to do.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Error, Result, project};

/// `cargo`, the same one that runs xtask (cargo sets `CARGO`), started at the workspace root.
pub(crate) fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(project::root());
    command
}

/// `git`, started at the workspace root.
pub(crate) fn git() -> Command {
    let mut command = Command::new("git");
    command.current_dir(project::root());
    command
}

/// The command line as a person would type it, for messages.
pub(crate) fn display(command: &Command) -> String {
    // A full path to cargo or to a tool in .tools says more than needed; the name is enough.
    let program = Path::new(command.get_program());
    let words = std::iter::once(program.file_name().unwrap_or(program.as_os_str()));
    let words: Vec<_> = words
        .chain(command.get_args())
        .map(OsStr::to_string_lossy)
        .collect();
    words.join(" ")
}

/// Runs `command` with the terminal's stdin, stdout and stderr; fails unless it exits with 0.
pub(crate) fn run(command: &mut Command) -> Result {
    let status = status(command)?;
    succeeded(command, status)
}

/// Runs `command` with the terminal's stdin, stdout and stderr; its exit status.
pub(crate) fn status(command: &mut Command) -> Result<ExitStatus> {
    command
        .status()
        .map_err(|error| spawn_error(command, &error))
}

/// Fails, naming `command`, unless its exit `status` is 0.
pub(crate) fn succeeded(command: &Command, status: ExitStatus) -> Result {
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "`{}` failed ({status})",
            display(command)
        )))
    }
}

/// Runs `command` with its output captured; the exit status is left to the caller to judge.
pub(crate) fn capture(command: &mut Command) -> Result<Output> {
    command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|error| spawn_error(command, &error))
}

/// Runs `command` with stdout and stderr both written to the file `log`, in the order they came
/// (so cargo's `Running` lines and libtest's results interleave as on a terminal); the exit status
/// is left to the caller to judge. After `limit` it kills the command and every process it started,
/// and returns `None`.
pub(crate) fn to_file_within(
    command: &mut Command,
    log: &Path,
    limit: Duration,
) -> Result<Option<ExitStatus>> {
    Background::spawn(command, log)?.wait_within(limit)
}

/// A command running on its own, its stdout and stderr written to a log file, while the caller
/// does something else. Dropped before it ended (the caller gave up on it: an earlier failure),
/// it is killed with every process it started, so nothing outlives the run that started it.
pub(crate) struct Background {
    child: Child,
    shown: String,
}

impl Background {
    /// Starts `command` with its output going to the file `log` (made anew).
    pub(crate) fn spawn(command: &mut Command, log: &Path) -> Result<Self> {
        let file = File::create(log).map_err(project::failed("write", log))?;
        let stderr = file.try_clone().map_err(project::failed("write", log))?;
        // The child stays in our process group, so a Ctrl-C at the terminal stops it and its
        // children.
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .map_err(|error| spawn_error(command, &error))?;
        Ok(Self {
            child,
            shown: display(command),
        })
    }

    /// The command's process id, to send it a signal.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the command has ended (`None`: still running), without waiting.
    pub(crate) fn try_status(&mut self) -> Result<Option<ExitStatus>> {
        self.child
            .try_wait()
            .map_err(|error| Error::new(format!("could not wait for `{}`: {error}", self.shown)))
    }

    /// Waits for the command's end, at most `limit`: its exit status, or `None` when it was
    /// still running then and has been killed with every process it started.
    pub(crate) fn wait_within(mut self, limit: Duration) -> Result<Option<ExitStatus>> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.try_status()? {
                return Ok(Some(status));
            }
            if started.elapsed() >= limit {
                self.kill();
                return Ok(None);
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Kills the command and what it started, and waits for the command.
    fn kill(&mut self) {
        // Found before the kill, while they are still the command's descendants; killed after,
        // so cargo cannot start the next test binary in between.
        let descendants = descendants(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !descendants.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(descendants.iter().map(u32::to_string))
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// The processes below `root` (children, grandchildren, ...), read from Linux's /proc. Elsewhere
/// the list is empty and only the command itself is killed.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((pid, parent_pid(&stat)?))
        })
        .collect();
    let mut found = vec![root];
    let mut index = 0;
    while let Some(&parent) = found.get(index) {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
            }
        }
        index += 1;
    }
    found.split_off(1)
}

/// The parent pid in a `/proc/<pid>/stat` line: `pid (comm) state ppid ...`, where comm may hold
/// spaces and parentheses, so the fields are counted from the last `)`.
fn parent_pid(stat: &str) -> Option<u32> {
    let fields = &stat[stat.rfind(')')? + 1..];
    fields.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `command` and returns its stdout, trimmed; fails unless it exits with 0.
pub(crate) fn stdout(command: &mut Command) -> Result<String> {
    let output = capture(command)?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(Error::new(format!(
            "`{}` failed ({}): {}",
            display(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// `work` on each of `items`, at most `at_once` side by side (a worker takes the next item as
/// soon as it is free): the results in `items`' order, or the first error once every one has
/// ended; `panicked` is the error of one that panicked.
pub(crate) fn side_by_side<T: Send, R: Send>(
    items: impl IntoIterator<Item = T>,
    at_once: usize,
    panicked: &str,
    work: impl Fn(T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let queue = std::sync::Mutex::new(
        items
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
            .into_iter(),
    );
    let mut results: Vec<(usize, Result<R>)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..at_once.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    // The lock is held only to take the next item.
                    while let Some((index, item)) = queue.lock().ok().and_then(|mut q| q.next()) {
                        let result =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(item)))
                                .unwrap_or_else(|_| Err(Error::new(panicked)));
                        done.push((index, result));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The error of a `command` that could not start.
pub(crate) fn spawn_error(command: &Command, error: &io::Error) -> Error {
    if error.kind() == io::ErrorKind::NotFound {
        Error::new(format!(
            "`{}` could not start: `{}` was not found",
            display(command),
            command.get_program().to_string_lossy()
        ))
    } else {
        Error::new(format!("`{}` could not start: {error}", display(command)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_keeps_the_order_runs_every_item_and_bounds_the_workers() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let (running, most, ran) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        let (last_done, zero_saw_it) = (AtomicBool::new(false), AtomicBool::new(false));
        let work = |i: u64| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            if i == 0 {
                // A pool: the other worker takes items 1 and 2 while this one still runs (in
                // rounds of two, item 2 would only start after it, and this would time out).
                let waited = Instant::now();
                while !last_done.load(Ordering::SeqCst)
                    && waited.elapsed() < Duration::from_secs(10)
                {
                    thread::sleep(Duration::from_millis(1));
                }
                zero_saw_it.store(last_done.load(Ordering::SeqCst), Ordering::SeqCst);
            }
            running.fetch_sub(1, Ordering::SeqCst);
            ran.fetch_add(1, Ordering::SeqCst);
            match i {
                2 => {
                    last_done.store(true, Ordering::SeqCst);
                    Ok(20)
                }
                3 => Err(Error::new("three")),
                4 => panic!("four"),
                i => Ok(i * 10),
            }
        };
        let all = side_by_side(0..3, 2, "panicked", work).expect("no error among 0..3");
        assert_eq!(all, vec![0, 10, 20]);
        assert!(
            zero_saw_it.load(Ordering::SeqCst),
            "item 2 ended while item 0 ran"
        );
        assert_eq!(ran.load(Ordering::SeqCst), 3);
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "at most two at once, and two"
        );
        let failed = side_by_side(1..7, 2, "panicked", work).expect_err("item 3 fails");
        assert_eq!(failed.to_string(), "three");
        assert_eq!(ran.load(Ordering::SeqCst), 3 + 6, "every item ran");
        let panicked = side_by_side([4], 1, "it panicked", work).expect_err("item 4 panics");
        assert_eq!(panicked.to_string(), "it panicked");
    }

    #[test]
    fn the_parent_pid_is_read_after_the_command_name() {
        assert_eq!(parent_pid("4242 (cargo) S 17 4242 ..."), Some(17));
        assert_eq!(parent_pid("99 (a) b (c) R 5 99 0"), Some(5));
        assert_eq!(parent_pid("garbage"), None);
    }

    /// A log file, a marker file and a `sh` script that prints `started`, then starts a
    /// grandchild which writes the marker a second later: the marker exists only if the
    /// grandchild outlived what was meant to kill it.
    #[cfg(target_os = "linux")]
    fn with_a_grandchild(name: &str) -> (std::path::PathBuf, std::path::PathBuf, String) {
        let dir = std::env::temp_dir();
        let log = dir.join(format!("xtask-{name}-{}.log", std::process::id()));
        let marker = dir.join(format!("xtask-{name}-{}.marker", std::process::id()));
        let script = format!(
            "(sleep 1; echo late > '{}') & echo started; wait",
            marker.display()
        );
        (log, marker, script)
    }

    /// A command that outlives its limit is killed with what it started, and reported as `None`.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_command_over_its_limit_is_killed_with_its_children() {
        let (log, marker, script) = with_a_grandchild("process");
        let started = Instant::now();
        let outcome = to_file_within(
            Command::new("sh").args(["-c", &script]),
            &log,
            Duration::from_millis(300),
        );
        let elapsed = started.elapsed();
        // Long enough for the grandchild to have written the marker, had it survived.
        thread::sleep(Duration::from_millis(1500));
        let output = fs::read_to_string(&log).unwrap_or_default();
        let survived = marker.exists();
        let _ = fs::remove_file(&log);
        let _ = fs::remove_file(&marker);
        assert!(matches!(outcome, Ok(None)), "not reported as timed out");
        assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
        assert_eq!(output.trim(), "started");
        assert!(!survived, "a grandchild outlived the kill");
    }

    /// A background command given up on (its `Background` dropped: an earlier step failed) is
    /// killed with what it started; one that was waited for is left alone.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_background_command_dropped_early_is_killed_with_its_children() {
        let (log, marker, script) = with_a_grandchild("background");
        let background = Background::spawn(Command::new("sh").args(["-c", &script]), &log);
        assert!(background.is_ok(), "not started");
        // Time for `sh` to start its child before it is given up on.
        thread::sleep(Duration::from_millis(200));
        drop(background);
        thread::sleep(Duration::from_millis(1500));
        let survived = marker.exists();
        let output = fs::read_to_string(&log).unwrap_or_default();
        let _ = fs::remove_file(&marker);

        let finished = Background::spawn(Command::new("sh").args(["-c", "echo done"]), &log)
            .and_then(|background| background.wait_within(Duration::from_secs(10)));
        let done = fs::read_to_string(&log).unwrap_or_default();
        let _ = fs::remove_file(&log);
        assert_eq!(output.trim(), "started");
        assert!(!survived, "a grandchild outlived the drop");
        assert!(
            matches!(finished, Ok(Some(status)) if status.success()),
            "{finished:?}"
        );
        assert_eq!(done.trim(), "done");
    }
}
