//! Segment files: the files uploads on disk share, each upload at places of its own.
//!
//! A [`SharedFile`] counts the bytes taken in it against the store's bound of uploads on disk.
//! An [`Extent`] is one place in it, owned by one upload: dropping it lets the place go. The
//! places let go while the file lives on (its other uploads do) are dead space, given back by
//! [`SharedFile::reclaim`] when the bound is reached: the whole blocks inside them are punched
//! out of the file (Linux's `fallocate(PUNCH_HOLE)`; elsewhere nothing is given back and the file
//! counts whole until deleted). The file is deleted when its last extent (and reader) lets it
//! go, on the [`Deleter`]'s thread.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use crate::domain::sync::lock;

/// Deletes shared files on a thread of its own, then gives their bytes back: deleting a segment
/// of a few MB takes 0.6 to 3 ms here (ext4 freeing its blocks), which a runtime's thread, where
/// an evicted task lets its upload go, must not wait for. Its thread ends when the last handle
/// is dropped; should it be gone (or never have started), the file is deleted in place.
#[derive(Debug, Clone)]
pub(crate) struct Deleter(mpsc::Sender<Box<dyn FnOnce() + Send>>);

impl Deleter {
    /// A deleter, its thread started.
    pub(crate) fn start() -> Deleter {
        let (jobs, queue) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        // A thread that cannot be spawned drops `queue`: each job then runs in place.
        let _ = std::thread::Builder::new()
            .name("upload-deleter".into())
            .spawn(move || queue.into_iter().for_each(|job| job()));
        Deleter(jobs)
    }

    /// Runs `job` on the deleter's thread after those asked for before (in place, should the
    /// thread be gone).
    pub(crate) fn run(&self, job: Box<dyn FnOnce() + Send>) {
        if let Err(mpsc::SendError(job)) = self.0.send(job) {
            job();
        }
    }

    /// Returns once every deletion asked for before it is done. Blocking.
    pub(crate) fn settle(&self) {
        let (done, wait) = mpsc::channel();
        self.run(Box::new(move || {
            let _ = done.send(());
        }));
        let _ = wait.recv();
    }
}

/// A file several uploads are written into, each at its own places: deleted when the last of
/// them (and the last reader) lets it go. The bytes taken in it, less those given back, are
/// counted in `on_disk` until it is deleted.
#[derive(Debug)]
pub(crate) struct SharedFile {
    pub(crate) path: PathBuf,
    file: File,
    taken: AtomicU64,
    /// The file system's block: only whole ones are given back.
    block: u64,
    dead: Mutex<Dead>,
    on_disk: Arc<AtomicU64>,
    deleter: Deleter,
}

/// The places let go while their file lives on.
#[derive(Debug, Default)]
struct Dead {
    /// Every place let go, neighbours joined into runs as they come (so there are never more
    /// runs than places in use between them): start → run.
    runs: BTreeMap<u64, Run>,
    /// Bytes given back (no longer counted), over all runs: what the file system said it freed.
    given: u64,
    /// The file system cannot punch holes: nothing is tried again.
    unpunchable: bool,
}

#[derive(Debug)]
struct Run {
    end: u64,
    /// Bytes of it punched out (whole blocks inside it).
    punched: u64,
}

impl Dead {
    /// The place `start..end` let go, joined with the runs it touches (disjoint and in order, so
    /// those starting at or before its end and ending at or after its start).
    fn let_go(&mut self, mut start: u64, mut end: u64) {
        let touching: Vec<u64> = (self.runs.range(..=end).rev())
            .take_while(|(_, run)| run.end >= start)
            .map(|(run_start, _)| *run_start)
            .collect();
        let mut punched = 0;
        for run_start in touching {
            if let Some(run) = self.runs.remove(&run_start) {
                start = start.min(run_start);
                end = end.max(run.end);
                punched += run.punched;
            }
        }
        self.runs.insert(start, Run { end, punched });
    }
}

impl Drop for SharedFile {
    fn drop(&mut self) {
        let path = std::mem::take(&mut self.path);
        let counted = self.taken() - lock(&self.dead).given;
        let on_disk = Arc::clone(&self.on_disk);
        self.deleter.run(Box::new(move || {
            let _ = std::fs::remove_file(&path);
            on_disk.fetch_sub(counted, Ordering::AcqRel);
        }));
    }
}

impl SharedFile {
    /// `file`, at `path`, empty; what is taken in it is counted in `on_disk`, and `deleter`
    /// deletes it.
    pub(crate) fn new(
        path: PathBuf,
        file: File,
        on_disk: &Arc<AtomicU64>,
        deleter: Deleter,
    ) -> SharedFile {
        SharedFile {
            block: block_size(&file),
            path,
            file,
            taken: AtomicU64::new(0),
            dead: Mutex::default(),
            on_disk: Arc::clone(on_disk),
            deleter,
        }
    }

    /// Bytes taken in it so far.
    pub(crate) fn taken(&self) -> u64 {
        self.taken.load(Ordering::Acquire)
    }

    /// Takes the next `len` bytes (counted at once, before they are written) and says where they
    /// start. The caller keeps takers in turn (the store's segment lock).
    pub(crate) fn take(&self, len: u64) -> u64 {
        self.on_disk.fetch_add(len, Ordering::AcqRel);
        self.taken.fetch_add(len, Ordering::AcqRel)
    }

    /// Writes `bytes` at `at`, whatever else is written elsewhere in the file meanwhile.
    pub(crate) fn write_all_at(&self, bytes: &[u8], at: u64) -> io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::write_all_at(&self.file, bytes, at)
        }
        #[cfg(windows)]
        {
            let (mut bytes, mut at) = (bytes, at);
            while !bytes.is_empty() {
                match std::os::windows::fs::FileExt::seek_write(&self.file, bytes, at) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        bytes = &bytes[n..];
                        at += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }

    /// Reads into `buf` from `at`; the count read, 0 at the file's end.
    pub(crate) fn read_at(&self, buf: &mut [u8], at: u64) -> io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&self.file, buf, at)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(&self.file, buf, at)
        }
    }

    /// Gives back the dead space: the whole blocks inside each run of places let go, where not
    /// punched yet, are punched out of the file, and what the file system says that freed (the
    /// bytes it holds for the file, before and after; never more than was punched) is no longer
    /// counted. How many bytes were given back. Blocking, and its callers take turns (the store's
    /// segment lock); the file's lock is not held while punching, so an upload let go meanwhile
    /// (on a runtime's thread) does not wait.
    pub(crate) fn reclaim(&self) -> u64 {
        // (the first block, the bytes to punch, the bytes of the run already punched)
        let todo: Vec<(u64, u64, u64)> = {
            let dead = lock(&self.dead);
            if dead.unpunchable {
                return 0;
            }
            (dead.runs.iter())
                .filter_map(|(&start, run)| {
                    let from = start.next_multiple_of(self.block);
                    let inside = (run.end / self.block * self.block).saturating_sub(from);
                    (inside > run.punched).then_some((from, inside, run.punched))
                })
                .collect()
        };
        if todo.is_empty() {
            return 0;
        }
        let before = allocated(&self.file);
        let mut punched = Vec::new();
        let mut unpunchable = false;
        for (from, inside, was) in todo {
            match punch(&self.file, from, inside) {
                Ok(()) => punched.push((from, inside - was)),
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    unpunchable = true;
                    break;
                }
                // Left counted; tried again at the next call.
                Err(_) => {}
            }
        }
        // A write elsewhere in the file meanwhile makes this smaller: fewer bytes given back
        // than freed, never more.
        let freed = before
            .zip(allocated(&self.file))
            .map_or(0, |(before, after)| before.saturating_sub(after));
        let mut dead = lock(&self.dead);
        dead.unpunchable |= unpunchable;
        let mut more = 0;
        for (from, bytes) in punched {
            // The run that holds `from` now: runs only grow while the lock was let go.
            if let Some((_, run)) = dead.runs.range_mut(..=from).next_back() {
                run.punched += bytes;
                more += bytes;
            }
        }
        let given = freed.min(more);
        dead.given += given;
        self.on_disk.fetch_sub(given, Ordering::AcqRel);
        given
    }

    /// The file system's block.
    #[cfg(test)]
    pub(crate) fn block(&self) -> u64 {
        self.block
    }

    /// Bytes given back so far.
    #[cfg(test)]
    pub(crate) fn given(&self) -> u64 {
        lock(&self.dead).given
    }
}

/// `len` bytes of a [`SharedFile`], from `start`: one upload's place in it, let go when dropped.
#[derive(Debug)]
pub(crate) struct Extent {
    pub(crate) file: Arc<SharedFile>,
    pub(crate) start: u64,
    pub(crate) len: u64,
}

impl Drop for Extent {
    fn drop(&mut self) {
        if self.len > 0 {
            lock(&self.file.dead).let_go(self.start, self.start + self.len);
        }
    }
}

/// The bytes the file system holds for `file` (its blocks, as `stat` counts them).
#[cfg(unix)]
fn allocated(file: &File) -> Option<u64> {
    let meta = file.metadata().ok()?;
    Some(std::os::unix::fs::MetadataExt::blocks(&meta) * 512)
}

#[cfg(not(unix))]
fn allocated(_file: &File) -> Option<u64> {
    None
}

/// The block a file's space is given in (what `stat` says; 4 KiB where it cannot tell). A file
/// system that frees space in larger units frees less than is punched, which [`allocated`]
/// sees.
fn block_size(file: &File) -> u64 {
    #[cfg(unix)]
    if let Ok(meta) = file.metadata() {
        let block = std::os::unix::fs::MetadataExt::blksize(&meta);
        if block > 0 {
            return block;
        }
    }
    let _ = file;
    4096
}

/// Whether files in `dir` can have holes punched in them (tests of it are skipped, saying so,
/// where they cannot).
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn punches_in(dir: &std::path::Path) -> bool {
    let path = dir.join(format!(
        "musicgpt-cover-mock-test-punch-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let punched = File::create_new(&path).and_then(|file| {
        std::os::unix::fs::FileExt::write_all_at(&file, &[1; 8192], 0)?;
        punch(&file, 0, block_size(&file))
    });
    let _ = std::fs::remove_file(&path);
    punched.is_ok()
}

/// Bytes that do not compress (a file system that compresses would hold fewer blocks for them
/// than their length) and hold no format marker, or a false one that fails: `len` of a xorshift
/// sequence.
#[cfg(test)]
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Frees the blocks of `len` bytes of `file` from `start` (both whole blocks), its length kept.
/// `Unsupported` where the file system (or the kernel) cannot.
#[cfg(target_os = "linux")]
fn punch(file: &File, start: u64, len: u64) -> io::Result<()> {
    use rustix::fs::{FallocateFlags, fallocate};
    use rustix::io::Errno;
    let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
    fallocate(file, flags, start, len).map_err(|e| match e {
        Errno::OPNOTSUPP | Errno::NOSYS => io::ErrorKind::Unsupported.into(),
        other => io::Error::from(other),
    })
}

/// No hole punching here: the file counts whole until it is deleted.
#[cfg(not(target_os = "linux"))]
fn punch(_file: &File, _start: u64, _len: u64) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of 10 bytes in the temp dir, counted in `on_disk`, and the one extent over them.
    fn ten_bytes(on_disk: &Arc<AtomicU64>, deleter: Deleter) -> (PathBuf, Extent) {
        let path = std::env::temp_dir().join(format!(
            "musicgpt-cover-mock-test-segment-{}.part",
            uuid::Uuid::new_v4().simple()
        ));
        let file = File::create_new(&path).expect("no file");
        let file = Arc::new(SharedFile::new(path.clone(), file, on_disk, deleter));
        let start = file.take(10);
        assert!(file.write_all_at(b"0123456789", start).is_ok());
        let extent = Extent {
            file,
            start,
            len: 10,
        };
        (path, extent)
    }

    /// The last extent let go does not delete its file where it is dropped (a runtime's thread):
    /// the deleter's thread does, then gives its bytes back.
    #[test]
    fn a_file_let_go_is_deleted_on_the_deleters_thread_then_no_longer_counted() {
        let on_disk = Arc::new(AtomicU64::new(0));
        let deleter = Deleter::start();
        let (path, extent) = ten_bytes(&on_disk, deleter.clone());
        assert_eq!(on_disk.load(Ordering::Acquire), 10);
        // The deleter's thread busy until `release` goes.
        let (release, busy) = mpsc::channel::<()>();
        deleter.run(Box::new(move || {
            let _ = busy.recv();
        }));
        drop(extent);
        assert!(path.exists(), "deleted where it was dropped");
        assert_eq!(
            on_disk.load(Ordering::Acquire),
            10,
            "uncounted before deleted"
        );
        drop(release);
        deleter.settle();
        assert!(!path.exists());
        assert_eq!(on_disk.load(Ordering::Acquire), 0);
    }

    /// Places let go join the runs they touch, in whatever order they come, and keep what was
    /// punched of those; places apart stay apart.
    #[test]
    fn places_let_go_join_into_runs() {
        let mut dead = Dead::default();
        let runs = |dead: &Dead| -> Vec<(u64, u64, u64)> {
            (dead.runs.iter())
                .map(|(start, run)| (*start, run.end, run.punched))
                .collect()
        };
        for i in (0..10u64).rev() {
            dead.let_go(i * 100, i * 100 + 100);
        }
        assert_eq!(runs(&dead), [(0, 1000, 0)]);
        dead.let_go(2000, 2100);
        dead.let_go(1500, 1600);
        assert_eq!(
            runs(&dead),
            [(0, 1000, 0), (1500, 1600, 0), (2000, 2100, 0)]
        );
        if let Some(run) = dead.runs.get_mut(&0) {
            run.punched = 512;
        }
        // The gaps filled: one run, which keeps what was punched of its parts.
        dead.let_go(1000, 1500);
        dead.let_go(1600, 2000);
        assert_eq!(runs(&dead), [(0, 2100, 512)]);
    }

    /// What the file system freed is given back, and not again: a second reclaim finds nothing
    /// new.
    #[cfg(target_os = "linux")]
    #[test]
    fn dead_space_is_given_back_once() {
        if !punches_in(&std::env::temp_dir()) {
            eprintln!("skipped: the temp dir's file system cannot punch holes");
            return;
        }
        let on_disk = Arc::new(AtomicU64::new(0));
        let (path, extent) = ten_bytes(&on_disk, Deleter::start());
        let file = Arc::clone(&extent.file);
        let block = file.block;
        let start = file.take(3 * block);
        let written = file.write_all_at(&noise(3 * block as usize, 7), start);
        assert!(written.is_ok());
        let middle = Extent {
            file: Arc::clone(&file),
            start,
            len: 3 * block,
        };
        assert_eq!(file.reclaim(), 0, "nothing let go yet");
        let held = allocated(&file.file).unwrap_or(0);
        drop(middle);
        // The whole blocks inside the place: two (it starts 10 bytes into one).
        assert_eq!(file.reclaim(), 2 * block);
        assert_eq!(allocated(&file.file), Some(held - 2 * block));
        assert_eq!(file.reclaim(), 0);
        assert_eq!(on_disk.load(Ordering::Acquire), 10 + block);
        drop((extent, file));
        let _ = std::fs::remove_file(path);
    }

    /// A deleter without its thread deletes in place.
    #[test]
    fn a_deleter_without_its_thread_deletes_in_place() {
        let on_disk = Arc::new(AtomicU64::new(0));
        let (jobs, _) = mpsc::channel();
        let (path, extent) = ten_bytes(&on_disk, Deleter(jobs));
        drop(extent);
        assert!(!path.exists());
        assert_eq!(on_disk.load(Ordering::Acquire), 0);
    }
}
