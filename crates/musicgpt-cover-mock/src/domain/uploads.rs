//! Uploaded songs, kept for their tasks, and the result files made from them.
//!
//! An upload of at most [`MEMORY_UPLOAD_BYTES`] is held in memory, as the pieces the form parser
//! gave (no file, no blocking call, nothing to delete), while the in-memory uploads fit in
//! [`MAX_MEMORY_BYTES`]; a larger one, or one that comes when memory is full, goes to the mock's
//! private directory (mode 0700, made on the first such upload): appended, a batch at a time,
//! to a segment file it shares with other uploads ([`SEGMENT_BYTES`]; deleted with the last of
//! them, on a thread of its own: `audio/segment.rs`). Either way it
//! is an [`Incoming`] while its Cover is read and checked; [`UploadStore::keep`] files it under
//! the task with what the Cover's probe found, and starts converting it (decode, shift, encode:
//! `audio::render_upload_async`) in the background; an upload the probe found is not audio is not
//! kept at all, only the reason, and its result is the generated tune. [`UploadStore::result`]
//! gives the result files, converting on first use if that has not started yet. An incoming
//! upload whose Cover is refused is freed when dropped. A kept upload (and its result) goes when
//! its task leaves the store ([`UploadStore::remove`], called on eviction), on reset
//! ([`UploadStore::clear`]) and at shutdown ([`UploadStore::shut_down`], when the server stops:
//! the directory too; and when the store is dropped, should the server never have run).
//!
//! The private directory holds a lock file the store keeps locked while it lives, so a directory
//! whose lock is free was left by a mock that died without cleaning up (killed): the next store
//! to make its directory removes those (see [`make_private_dir`]).
//!
//! Bounds: at most [`MAX_KEPT_BYTES`] of an upload need be kept (the first minute of any ordinary
//! file fits), at most [`MAX_MEMORY_BYTES`] of uploads are held in memory and at most
//! [`MAX_STORED_BYTES`] kept on disk at once (a Cover beyond that keeps the generated tune), and
//! at most [`MAX_RESULT_BYTES`] of result files are held in memory (the oldest are dropped and
//! made again from their upload if asked for again).

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bytes::Bytes;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::audio::{
    Chunks, Deleter, Extent, Pieces, Probe, Rendered, SharedFile, UploadSource, probe_upload_async,
    probe_upload_here, render_upload_async, tune_for_probe_failure,
};
use super::sync::lock;

/// The most of one upload worth keeping: only its first minute is converted, and a minute of even
/// 96 kHz 24-bit stereo WAV is 35 MB. The rest may be counted and dropped; the decoder takes a
/// file cut short as ending there.
pub(crate) const MAX_KEPT_BYTES: u64 = 64 << 20;
/// The most upload bytes kept on disk at once, over all tasks.
pub(crate) const MAX_STORED_BYTES: u64 = 2 << 30;
/// The most result-file bytes held in memory at once, over all tasks (a minute of 44.1 kHz
/// stereo is about 11.5 MB of WAV and 1 MB of MP3).
pub(crate) const MAX_RESULT_BYTES: usize = 256 << 20;
/// The most bytes of an upload held in memory: one that keeps more goes to disk. Writing it out
/// costs the mock more CPU than the rest of a Cover with a small upload (docs/profile.md); a MiB
/// in memory costs nothing but the MiB.
/// At 1 MiB, a song of up to a minute of 128 kbit/s MP3 (or six seconds of CD WAV) stays in
/// memory, and [`MAX_MEMORY_BYTES`] still holds 256 of the largest.
pub(crate) const MEMORY_UPLOAD_BYTES: u64 = 1 << 20;
/// The most upload bytes held in memory at once, over all uploads being received or kept (those
/// found not to be audio are not kept). When it is full, a new upload goes to disk as a large
/// one does. 256 MiB: what [`MAX_RESULT_BYTES`] allows the results too, so a mock full of both
/// holds about half a GiB.
pub(crate) const MAX_MEMORY_BYTES: u64 = 256 << 20;
/// The most bytes of uploads written into one shared file (a segment) before the next is begun.
/// Uploads on disk are appended to the current segment (a batch at a time, so a large one's
/// batches may lie between others') rather than given a file each: creating and deleting a file
/// per upload cost more than the rest of its Cover, up to a millisecond for a 1 MiB song (ext4
/// looking for an inode number not freed recently, as uploads come and go: docs/profile.md). A
/// segment is deleted when its last upload is, and what was written to it counts against
/// [`MAX_STORED_BYTES`] until then, so the bound holds whichever of its uploads live on; the
/// places of uploads let go meanwhile are given back when the bound is reached
/// ([`SharedFile::reclaim`]).
pub(crate) const SEGMENT_BYTES: u64 = 8 << 20;
/// Bytes of an upload gathered before they are written to disk in one blocking call.
pub(crate) const WRITE_BATCH: usize = 256 * 1024;
/// The name every mock's private directory starts with (the rest is a random UUID, 32 hex
/// digits): what [`sweep`] looks for.
const DIR_PREFIX: &str = "musicgpt-cover-mock-";
/// The lock file in a private directory, locked by its store while the store lives.
const LOCK_FILE: &str = "lock";

/// The uploads of one mock. Cheap to share behind an `Arc`; every method takes `&self`. The
/// default store makes its private directory in the system's temporary directory.
#[derive(Debug, Default)]
pub(crate) struct UploadStore {
    /// Where the private directory is made, when not in the system's temporary directory.
    parent: Option<PathBuf>,
    /// The private directory, made on first use (most mocks never see an upload, and small ones
    /// never need it).
    dir: OnceLock<Result<PrivateDir, String>>,
    /// Numbers segments and kept uploads, so no two names are ever the same (a seeded mock
    /// reuses task ids after a reset).
    next: AtomicU64,
    /// Upload bytes held in memory, being received or kept: at most [`MAX_MEMORY_BYTES`].
    /// Shared with every [`Reservation`], which gives its bytes back when dropped.
    in_memory: Arc<AtomicU64>,
    /// [`UploadStore::shut_down`] ran: nothing is kept any more.
    shut: AtomicBool,
    kept: Mutex<Kept>,
    /// The segment uploads are appended to now.
    segment: Mutex<Option<Arc<SharedFile>>>,
    /// Every segment made and not yet deleted (and some that are: pruned as segments are made),
    /// for their dead space to be given back when the bound is reached.
    segments: Mutex<Vec<Weak<SharedFile>>>,
    /// Deletes segments off the runtime's threads; started with the first.
    deleter: OnceLock<Deleter>,
    /// Bytes taken in segments not yet deleted, less those given back: at most
    /// [`MAX_STORED_BYTES`]. Each segment counts here what it takes and gives it back when
    /// deleted.
    in_segments: Arc<AtomicU64>,
}

/// A store's private directory and its lock, held while the store lives; removed when dropped.
#[derive(Debug)]
struct PrivateDir {
    path: PathBuf,
    /// Locked (exclusively) for as long as this is open: other mocks see the directory is in use.
    _lock: File,
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[derive(Debug, Default)]
struct Kept {
    by_task: HashMap<Uuid, Entry>,
    /// Results held in memory, oldest first: (task, entry number, weight); `held` is the sum.
    results: VecDeque<(Uuid, u64, usize)>,
    held: usize,
}

impl Kept {
    /// Takes `task_id`'s entry out, its result no longer counted: dropping it frees its upload
    /// (outside the lock, as the caller does).
    fn forget(&mut self, task_id: &Uuid) -> Option<Entry> {
        let e = self.by_task.remove(task_id)?;
        let mut freed = 0;
        self.results.retain(|&(t, n, w)| {
            let this = t == *task_id && n == e.number;
            if this {
                freed += w;
            }
            !this
        });
        self.held = self.held.saturating_sub(freed);
        Some(e)
    }
}

#[derive(Debug)]
struct Entry {
    /// Distinguishes this entry from an earlier one of the same task id.
    number: u64,
    /// The upload, or why it is not audio (its probe said so; its bytes were not kept).
    kept: Result<Arc<Upload>, String>,
    pitch: i64,
    result: Arc<OnceCell<Arc<Rendered>>>,
    /// What the task's record says of its audio, known when its Cover was accepted (so a seeded
    /// mock's records do not depend on how far the background conversion has got).
    described: Option<String>,
}

/// Upload bytes counted against [`MAX_MEMORY_BYTES`]; given back when dropped.
#[derive(Debug)]
pub(crate) struct Reservation {
    counter: Arc<AtomicU64>,
    bytes: u64,
}

impl Reservation {
    /// Counts `more` bytes too, if they fit under [`MAX_MEMORY_BYTES`]; false (nothing counted)
    /// when they do not.
    pub(crate) fn grow(&mut self, more: u64) -> bool {
        let fits = self
            .counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                now.checked_add(more).filter(|&n| n <= MAX_MEMORY_BYTES)
            })
            .is_ok();
        if fits {
            self.bytes += more;
        }
        fits
    }

    /// Gives back all that was counted.
    pub(crate) fn release(&mut self) {
        self.counter.fetch_sub(self.bytes, Ordering::AcqRel);
        self.bytes = 0;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release();
    }
}

/// An upload's bytes, and what frees them when it is dropped: memory given back to
/// [`MAX_MEMORY_BYTES`], or its places in segments let go (a segment is deleted with the last).
#[derive(Debug)]
pub(crate) struct Upload {
    source: UploadSource,
    /// The memory it holds (nothing on disk).
    _reservation: Reservation,
}

impl AsRef<UploadSource> for Upload {
    fn as_ref(&self) -> &UploadSource {
        &self.source
    }
}

/// An upload being received or waiting for its Cover to be accepted; freed when dropped unless
/// [`UploadStore::keep`] took it.
#[derive(Debug)]
pub(crate) struct Incoming {
    upload: Upload,
    /// What the probe found, when it ran as the upload was written.
    probed: Option<Result<Probe, String>>,
}

impl Incoming {
    /// What the probe finds in it: found as it was written, or looked for now
    /// ([`probe_upload_async`]).
    pub(crate) async fn probe(&mut self) -> Result<Probe, String> {
        match self.probed.take() {
            Some(probed) => probed,
            None => probe_upload_async(self.source().clone()).await,
        }
    }

    /// Where its bytes are, for the probe.
    pub(crate) fn source(&self) -> &UploadSource {
        &self.upload.source
    }

    /// Whether the probe ran as it was written.
    #[cfg(test)]
    pub(crate) fn probed_as_written(&self) -> bool {
        self.probed.is_some()
    }

    /// Whether it is held in memory (not on disk).
    #[cfg(test)]
    pub(crate) fn in_memory(&self) -> bool {
        matches!(self.upload.source, UploadSource::Memory(_))
    }

    /// What it holds, read back from wherever it is.
    #[cfg(test)]
    pub(crate) fn read_back(&self) -> Vec<u8> {
        use std::io::Read as _;
        let mut back = Vec::new();
        let read = (self.source().open())
            .and_then(|mut r| r.read_to_end(&mut back).map_err(|e| e.to_string()));
        assert!(read.is_ok(), "{read:?}");
        back
    }

    /// The segment files the upload is written to (none in memory).
    #[cfg(test)]
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        match &self.upload.source {
            UploadSource::Disk(extents) => (extents.parts().iter())
                .map(|e| e.file.path.clone())
                .collect(),
            UploadSource::File(_) | UploadSource::Memory(_) => Vec::new(),
        }
    }
}

impl UploadStore {
    /// The private directory, made now if it was not (and the ones dead mocks left swept).
    pub(crate) fn dir(&self) -> io::Result<&Path> {
        let made = self.dir.get_or_init(|| {
            make_private_dir(&(self.parent.clone()).unwrap_or_else(std::env::temp_dir))
        });
        (made.as_ref().map(|dir| dir.path.as_path())).map_err(|e| io::Error::other(e.clone()))
    }

    /// `parts` (a batch of an upload's bytes) written to the current segment, or to a new one
    /// when they would not fit; where they went. Blocking (a segment may be created): call it off
    /// the runtime's threads. `Err` when writing fails, after shutdown, or when the segments
    /// would hold more than [`MAX_STORED_BYTES`].
    pub(crate) fn append(&self, parts: &[Bytes]) -> io::Result<Extent> {
        let len: u64 = parts.iter().map(|p| p.len() as u64).sum();
        // A full segment is let go (deleted once its uploads are), after the lock is released:
        // deleting a file takes a moment, which other appends need not wait for.
        let mut full = None;
        let placed = self.place(len, &mut full);
        drop(full);
        let (file, start) = placed?;
        // Made before the writes, so that a write failing lets the place go.
        let extent = Extent { file, start, len };
        let mut at = start;
        for part in parts {
            extent.file.write_all_at(part, at)?;
            at += part.len() as u64;
        }
        Ok(extent)
    }

    /// [`UploadStore::append`] of a whole upload's `parts`, and their probe from the bytes in hand
    /// (not read back): one blocking call for both, for an upload written in one call. Blocking.
    pub(crate) fn append_whole(
        &self,
        parts: Vec<Bytes>,
    ) -> io::Result<(Extent, Result<Probe, String>)> {
        let extent = self.append(&parts)?;
        let probed = probe_upload_here(&UploadSource::Memory(Chunks::new(parts)));
        Ok((extent, probed))
    }

    /// Where the next `len` bytes go: the current segment (or a new one), counted. A full one
    /// is moved to `full`.
    fn place(
        &self,
        len: u64,
        full: &mut Option<Arc<SharedFile>>,
    ) -> io::Result<(Arc<SharedFile>, u64)> {
        let mut current = lock(&self.segment);
        // Checked under the lock [`UploadStore::shut_down`] empties the slot under: no segment
        // is made after that.
        if self.shut.load(Ordering::Acquire) {
            return Err(io::Error::other("the mock has shut down"));
        }
        if current
            .as_ref()
            .is_some_and(|s| s.taken() + len > SEGMENT_BYTES)
        {
            *full = current.take();
        }
        let over = || self.in_segments.load(Ordering::Acquire) + len > MAX_STORED_BYTES;
        if over() {
            self.reclaim();
        }
        if over() {
            // Segments let go are counted until deleted (right after a reset, a full store's
            // 256 are being deleted): those asked for so far are waited for.
            self.settle();
        }
        if over() {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "the mock keeps at most {} MiB of uploads on disk and they are all in use",
                    MAX_STORED_BYTES >> 20
                ),
            ));
        }
        let segment = match current.as_ref() {
            Some(segment) => segment,
            None => {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                let path = self.dir()?.join(format!("segment-{n}.part"));
                let file = create_private_file(&path)?;
                let deleter = self.deleter.get_or_init(Deleter::start).clone();
                let made = Arc::new(SharedFile::new(path, file, &self.in_segments, deleter));
                let mut all = lock(&self.segments);
                all.retain(|s| s.strong_count() > 0);
                all.push(Arc::downgrade(&made));
                current.insert(made)
            }
        };
        // Counted before it is written, so an append meanwhile sees it.
        let start = segment.take(len);
        Ok((Arc::clone(segment), start))
    }

    /// Gives back the dead space in every segment (the places of uploads let go while others in
    /// the same segment live on). Blocking.
    fn reclaim(&self) {
        let live: Vec<Arc<SharedFile>> = lock(&self.segments)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for segment in &live {
            segment.reclaim();
        }
    }

    /// Returns once the segments let go so far are deleted (and no longer counted). Blocking.
    pub(crate) fn settle(&self) {
        if let Some(deleter) = self.deleter.get() {
            deleter.settle();
        }
    }

    /// An upload written to disk: `extents`, one after the other, and what the probe found in
    /// it if it ran as it was written.
    pub(crate) fn on_disk(
        &self,
        extents: Vec<Extent>,
        probed: Option<Result<Probe, String>>,
    ) -> Incoming {
        Incoming {
            upload: Upload {
                source: UploadSource::Disk(Pieces::new(extents)),
                _reservation: self.reservation(),
            },
            probed,
        }
    }

    /// Nothing counted against [`MAX_MEMORY_BYTES`] yet: grow it as an upload's bytes are
    /// gathered in memory.
    pub(crate) fn reservation(&self) -> Reservation {
        Reservation {
            counter: Arc::clone(&self.in_memory),
            bytes: 0,
        }
    }

    /// An upload held in memory: `parts`, whose bytes `reservation` counts.
    pub(crate) fn in_memory(&self, parts: Vec<Bytes>, reservation: Reservation) -> Incoming {
        Incoming {
            upload: Upload {
                source: UploadSource::Memory(Chunks::new(parts)),
                _reservation: reservation,
            },
            probed: None,
        }
    }

    /// Whether the private directory was made.
    #[cfg(test)]
    pub(crate) fn has_dir(&self) -> bool {
        self.dir.get().is_some()
    }

    /// Bytes counted against [`MAX_STORED_BYTES`] now.
    #[cfg(test)]
    pub(crate) fn on_disk_bytes(&self) -> u64 {
        self.in_segments.load(Ordering::Acquire)
    }

    /// Counts `delta` bytes more (or fewer) against [`MAX_STORED_BYTES`], as if segments held
    /// them: a test's full disk, taken back with the opposite delta.
    #[cfg(test)]
    pub(crate) fn count_on_disk(&self, delta: i64) {
        // Two's complement: adding a negative delta's bits (wrapping) subtracts it.
        self.in_segments.fetch_add(delta as u64, Ordering::AcqRel);
    }

    /// Upload bytes held in memory now.
    #[cfg(test)]
    pub(crate) fn memory_used(&self) -> u64 {
        self.in_memory.load(Ordering::Acquire)
    }

    /// Files the upload under `task_id` (whose Cover asked for `pitch`) with what its probe
    /// found, and, inside a Tokio runtime, starts converting it in the background. An upload the
    /// probe found is not audio is freed now and only the reason kept: its result is the
    /// generated tune, made without reading it again. `Err` after shutdown: the upload is freed,
    /// and the task keeps the generated tune. (The bound of uploads on disk was held as they were
    /// written: [`UploadStore::append`].)
    pub(crate) fn keep(
        self: &Arc<Self>,
        incoming: Incoming,
        task_id: Uuid,
        pitch: i64,
        probed: &Result<Probe, String>,
    ) -> io::Result<()> {
        if self.shut.load(Ordering::Acquire) {
            return Err(io::Error::other("the mock has shut down"));
        }
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let kept = match probed {
            Err(reason) => Err(reason.clone()),
            Ok(_) => Ok(Arc::new(incoming.upload)),
        };
        let result = Arc::new(OnceCell::new());
        let upload = kept.as_ref().ok().map(Arc::downgrade);
        {
            let entry = Entry {
                number,
                kept,
                pitch,
                result: Arc::clone(&result),
                described: None,
            };
            let mut kept_now = lock(&self.kept);
            let gone = kept_now.forget(&task_id);
            kept_now.by_task.insert(task_id, entry);
            drop(kept_now);
            drop(gone);
        }
        if let Some(upload) = upload
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let store = Arc::downgrade(self);
            runtime.spawn(async move {
                let made = result
                    .get_or_init(
                        || async move { Arc::new(render_upload_async(upload, pitch).await) },
                    )
                    .await;
                if let Some(store) = store.upgrade() {
                    store.account(task_id, number, made.weight());
                }
            });
        }
        Ok(())
    }

    /// Whether an upload (or the reason it is not audio) is kept for `task_id`.
    #[cfg(test)]
    pub(crate) fn has(&self, task_id: &Uuid) -> bool {
        lock(&self.kept).by_task.contains_key(task_id)
    }

    /// Where `task_id`'s upload is kept: `Some(true)` in memory, `Some(false)` on disk, `None`
    /// when no bytes of it are kept (none, or not audio).
    #[cfg(test)]
    pub(crate) fn kept_in_memory(&self, task_id: &Uuid) -> Option<bool> {
        let kept = lock(&self.kept);
        let upload = kept.by_task.get(task_id)?.kept.as_ref().ok()?;
        Some(matches!(upload.source, UploadSource::Memory(_)))
    }

    /// The result files of `task_id`'s upload (the generated tune, with the reason, when it did
    /// not decode), waiting for its conversion; `None` when no upload is kept for it.
    pub(crate) async fn result(&self, task_id: &Uuid) -> Option<Arc<Rendered>> {
        let (cell, kept, pitch, number) = {
            let kept = lock(&self.kept);
            let e = kept.by_task.get(task_id)?;
            (Arc::clone(&e.result), e.kept.clone(), e.pitch, e.number)
        };
        match kept {
            Ok(upload) => {
                // Held (strongly) while this waits, so it is there when the conversion's turn
                // comes.
                let made = cell
                    .get_or_init(|| async {
                        Arc::new(render_upload_async(Arc::downgrade(&upload), pitch).await)
                    })
                    .await
                    .clone();
                self.account(*task_id, number, made.weight());
                Some(made)
            }
            // The tune, whose files are shared with every task of this pitch: not counted.
            Err(reason) => Some(
                cell.get_or_init(|| async move {
                    Arc::new(tune_for_probe_failure(pitch, reason).await)
                })
                .await
                .clone(),
            ),
        }
    }

    /// What the admin record of `task_id` should say about its audio, once converted.
    pub(crate) fn note(&self, task_id: &Uuid) -> Option<String> {
        let kept = lock(&self.kept);
        let e = kept.by_task.get(task_id)?;
        e.described
            .clone()
            .or_else(|| e.result.get().map(|r| r.note.clone()))
    }

    /// Sets what the record of `task_id` says of its audio, in place of the conversion's note.
    pub(crate) fn describe(&self, task_id: &Uuid, note: String) {
        if let Some(e) = lock(&self.kept).by_task.get_mut(task_id) {
            e.described = Some(note);
        }
    }

    /// Counts a result held in memory, dropping the oldest ones beyond [`MAX_RESULT_BYTES`] (made
    /// again from their uploads if asked for again).
    fn account(&self, task_id: Uuid, number: u64, weight: usize) {
        let mut kept = lock(&self.kept);
        let current = kept
            .by_task
            .get(&task_id)
            .is_some_and(|e| e.number == number);
        if !current
            || kept
                .results
                .iter()
                .any(|&(t, n, _)| (t, n) == (task_id, number))
        {
            return;
        }
        kept.results.push_back((task_id, number, weight));
        kept.held += weight;
        while kept.held > MAX_RESULT_BYTES && kept.results.len() > 1 {
            let Some((old_task, old_number, old_weight)) = kept.results.pop_front() else {
                break;
            };
            kept.held = kept.held.saturating_sub(old_weight);
            if let Some(e) = kept.by_task.get_mut(&old_task)
                && e.number == old_number
            {
                e.result = Arc::new(OnceCell::new());
            }
        }
    }

    /// Frees the upload of `task_id` and its result: the task left the store.
    pub(crate) fn remove(&self, task_id: &Uuid) {
        let gone = lock(&self.kept).forget(task_id);
        // Dropped outside the lock.
        drop(gone);
    }

    /// Frees every kept upload and result (reset, shutdown). Uploads still being received are
    /// left to their [`Incoming`], which frees them. A conversion running at that moment holds
    /// its upload until it ends (a second at most).
    pub(crate) fn clear(&self) {
        // The current segment is let go too: deleted once the uploads in it are.
        let segment = lock(&self.segment).take();
        drop(segment);
        let drained = std::mem::take(&mut *lock(&self.kept));
        // Dropped outside the lock: deleting files takes a moment.
        drop(drained);
    }

    /// [`UploadStore::clear`], and the directory itself: the server stopped. A later upload is
    /// not kept (its task gets the generated tune).
    pub(crate) fn shut_down(&self) {
        self.shut.store(true, Ordering::Release);
        self.clear();
        if let Some(Ok(dir)) = self.dir.get() {
            let _ = std::fs::remove_dir_all(&dir.path);
        }
    }
}

/// A new directory in `parent` only this user may enter (0700), with a random name; never an
/// existing one (so not one another user placed there beforehand). It holds [`LOCK_FILE`],
/// locked for as long as the returned handle is open.
///
/// It is made under a hidden temporary name and renamed to its final one only once its lock is
/// held, so a directory with the final name and a free lock is always one whose store is gone,
/// never one being made; [`sweep`] then removes those in `parent`.
fn make_private_dir(parent: &Path) -> Result<PrivateDir, String> {
    let failed = |e: io::Error| {
        format!(
            "cannot make a private directory for uploads in {}: {e}",
            parent.display()
        )
    };
    let id = Uuid::new_v4().simple();
    let making = parent.join(format!(".{DIR_PREFIX}new-{id}"));
    let dir = parent.join(format!("{DIR_PREFIX}{id}"));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&making).map_err(failed)?;
    let locked = create_private_file(&making.join(LOCK_FILE)).and_then(|file| {
        lock_file(&file)?;
        std::fs::rename(&making, &dir)?;
        Ok(file)
    });
    let lock = match locked {
        Ok(file) => file,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&making);
            return Err(failed(e));
        }
    };
    sweep(parent, &dir);
    Ok(PrivateDir {
        path: dir,
        _lock: lock,
    })
}

/// Locks `file` for this process, or says why not (another holds it: `WouldBlock`).
fn lock_file(file: &File) -> io::Result<()> {
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => {
            io::Error::new(io::ErrorKind::WouldBlock, "the lock is held")
        }
        std::fs::TryLockError::Error(e) => e,
    })
}

/// Removes the private directories in `parent` that mocks which died without cleaning up left
/// (killed, say): named like `ours`, owned by the same user as `ours`, holding a lock file no
/// one holds. A directory without a lock file (made by another program, or an older mock) or
/// whose lock is held (a live mock) is left alone. Errors are ignored: this is housekeeping.
fn sweep(parent: &Path, ours: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    #[cfg(unix)]
    let owner = {
        use std::os::unix::fs::MetadataExt;
        match std::fs::symlink_metadata(ours) {
            Ok(m) => m.uid(),
            Err(_) => return,
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        let path = entry.path();
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || path == ours {
            continue;
        }
        // Not a symbolic link, and this user's.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if meta.uid() != owner {
                continue;
            }
        }
        let Ok(lock) = File::open(path.join(LOCK_FILE)) else {
            continue;
        };
        if lock_file(&lock).is_ok() {
            // Its owner is gone: no store can be using it (a store locks before the rename).
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// A new file only this user may read (0600); never an existing one.
fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    // Read too: a segment is read back through the handle it was written with.
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Arc<UploadStore> {
        Arc::new(UploadStore::default())
    }

    /// A directory of its own for a test's stores, so sweeping sees only what the test made.
    struct Parent(PathBuf);

    impl Parent {
        fn new() -> Parent {
            let path = std::env::temp_dir().join(format!(
                "musicgpt-cover-mock-test-parent-{}",
                Uuid::new_v4().simple()
            ));
            assert!(std::fs::create_dir(&path).is_ok());
            Parent(path)
        }

        fn store(&self) -> Arc<UploadStore> {
            Arc::new(UploadStore {
                parent: Some(self.0.clone()),
                ..UploadStore::default()
            })
        }

        /// A directory named as a store's, with a lock file (unlocked) or none, and a file in it.
        fn abandoned(&self, with_lock: bool) -> PathBuf {
            let dir = self
                .0
                .join(format!("{DIR_PREFIX}{}", Uuid::new_v4().simple()));
            assert!(std::fs::create_dir(&dir).is_ok());
            assert!(std::fs::write(dir.join("incoming-0.part"), b"left behind").is_ok());
            if with_lock {
                assert!(std::fs::write(dir.join(LOCK_FILE), b"").is_ok());
            }
            dir
        }
    }

    impl Drop for Parent {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// An upload held in memory, `bytes` in pieces of 1000, counted.
    fn held(s: &UploadStore, bytes: &[u8]) -> Incoming {
        let mut reservation = s.reservation();
        assert!(reservation.grow(bytes.len() as u64));
        let parts = bytes.chunks(1000).map(Bytes::copy_from_slice).collect();
        s.in_memory(parts, reservation)
    }

    /// What the Cover's probe says of bytes that are audio (these tests keep bytes that are not:
    /// the store takes the probe's word).
    fn audio() -> Result<Probe, String> {
        Ok(Probe {
            duration: 1.0,
            truncated: false,
            source_seconds: Some(1.0),
            sample_rate: 8_000,
        })
    }

    /// `bytes`, written to the store's segment.
    fn written(s: &UploadStore, bytes: &[u8]) -> Incoming {
        let extent = s
            .append(&[Bytes::copy_from_slice(bytes)])
            .expect("not written");
        s.on_disk(vec![extent], None)
    }

    /// The segment uploads are written to now.
    fn current(s: &UploadStore) -> Arc<SharedFile> {
        lock(&s.segment)
            .as_ref()
            .map(Arc::clone)
            .expect("no current segment")
    }

    /// The uploads (and readers) that hold `segment`, besides the store and `segment` itself.
    fn holders(segment: &Arc<SharedFile>) -> usize {
        Arc::strong_count(segment) - 2
    }

    #[test]
    fn the_directory_is_private_and_made_on_first_use() {
        let s = store();
        assert!(s.dir.get().is_none());
        let dir = s.dir().map(Path::to_owned).expect("no directory");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o700));
        }
        assert!(dir.join(LOCK_FILE).exists());
        drop(s);
        assert!(!dir.exists(), "dropping the store removes its directory");
    }

    /// The segment files in the store's directory.
    fn segments(s: &UploadStore) -> Vec<PathBuf> {
        let Ok(dir) = s.dir() else {
            return Vec::new();
        };
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("segment-"))
            })
            .collect();
        // By number: segment-10 comes after segment-2.
        found.sort_by_key(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let number = name.as_deref().and_then(|n| {
                n.strip_prefix("segment-")?
                    .strip_suffix(".part")?
                    .parse::<u64>()
                    .ok()
            });
            number.unwrap_or(u64::MAX)
        });
        found
    }

    /// Appends from several threads at once: each batch gets a place of its own (none overlap,
    /// each reads back what was written), the segments' count is the bytes appended, and all of
    /// it goes once the uploads and the current segment are let go.
    #[test]
    fn appends_from_several_threads_take_places_of_their_own() {
        let s = store();
        let written: Vec<(u8, Extent)> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..8u8)
                .map(|t| {
                    let s = &s;
                    scope.spawn(move || {
                        (0..40usize)
                            .map(|i| {
                                let len = 1 + (i * 7919 + usize::from(t) * 104_729) % 300_000;
                                let fill = t.wrapping_mul(40).wrapping_add(i as u8);
                                let extent = s
                                    .append(&[Bytes::from(vec![fill; len])])
                                    .expect("not appended");
                                (fill, extent)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|t| t.join().unwrap_or_default())
                .collect()
        });
        assert_eq!(written.len(), 8 * 40);
        let total: u64 = written.iter().map(|(_, e)| e.len).sum();
        assert_eq!(s.in_segments.load(Ordering::Acquire), total);
        let mut places: Vec<(PathBuf, u64, u64)> = (written.iter())
            .map(|(_, e)| (e.file.path.clone(), e.start, e.start + e.len))
            .collect();
        places.sort();
        for pair in places.windows(2) {
            if pair[0].0 == pair[1].0 {
                assert!(pair[0].2 <= pair[1].1, "overlap: {pair:?}");
            }
        }
        assert!(
            segments(&s).len() > 1,
            "the appends filled more than one segment"
        );
        for (fill, extent) in written {
            let len = usize::try_from(extent.len).unwrap_or(0);
            let incoming = s.on_disk(vec![extent], None);
            assert_eq!(incoming.read_back(), vec![fill; len]);
        }
        s.clear();
        s.settle();
        assert_eq!(s.in_segments.load(Ordering::Acquire), 0);
        assert_eq!(segments(&s), Vec::<PathBuf>::new());
    }

    /// Uploads on disk share a segment file, each read back whole from its places (an upload
    /// written in several batches has several, not next to each other); a full segment is let go
    /// for a new one, and a segment is deleted (and no longer counted against the disk bound)
    /// once the store has moved on and its last upload is gone.
    #[test]
    fn uploads_on_disk_share_a_segment_deleted_with_its_last_upload() {
        let s = store();
        let upload = |i: usize, len: usize| {
            let bytes: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            let appended = s.append(&[
                Bytes::copy_from_slice(&bytes[..len / 3]),
                Bytes::copy_from_slice(&bytes[len / 3..]),
            ]);
            let extent = appended.expect("not appended");
            let incoming = s.on_disk(vec![extent], None);
            assert!(!incoming.in_memory());
            assert_eq!(incoming.read_back(), bytes, "upload {i}");
            incoming
        };
        let first: Vec<Incoming> = (0..3).map(|i| upload(i, 5000 + i)).collect();
        assert_eq!(segments(&s).len(), 1, "one file for all three");
        assert_eq!(s.in_segments.load(Ordering::Acquire), 15_003);
        // Two batches, with another upload's between them.
        let bytes: Vec<u8> = (0..3000u32).map(|j| (j % 251) as u8).collect();
        let one = s.append(&[Bytes::copy_from_slice(&bytes[..1000])]);
        let between = upload(5, 10);
        let two = s.append(&[Bytes::copy_from_slice(&bytes[1000..])]);
        let (Ok(one), Ok(two)) = (one, two) else {
            panic!("not appended");
        };
        assert_eq!(
            two.start,
            one.start + 1000 + 10,
            "another upload came between"
        );
        let split = s.on_disk(vec![one, two], None);
        assert_eq!(split.read_back(), bytes);
        drop((split, between));
        // Kept with a task, it is counted once, by its segment.
        let mut first = first.into_iter();
        if let Some(kept) = first.next() {
            assert!(s.keep(kept, Uuid::from_u128(1), 0, &audio()).is_ok());
        }
        assert_eq!(s.in_segments.load(Ordering::Acquire), 15_003 + 3010);
        // Fill the segment: the next upload begins another.
        let big = usize::try_from(WRITE_BATCH as u64).unwrap_or(usize::MAX);
        let filling: Vec<Incoming> = (0..usize::try_from(SEGMENT_BYTES).unwrap_or(0) / big)
            .map(|i| upload(10 + i, big))
            .collect();
        assert_eq!(segments(&s).len(), 2);
        let old = segments(&s)[0].clone();
        drop(filling);
        drop(first);
        assert!(old.exists(), "task 1's upload is still in it");
        // Its reader keeps it too, until done.
        let source = {
            let kept = lock(&s.kept);
            let entry = &kept.by_task[&Uuid::from_u128(1)];
            entry.kept.as_ref().ok().map(|u| u.source.clone())
        };
        assert!(source.is_some());
        s.remove(&Uuid::from_u128(1));
        assert!(old.exists(), "a reader still has it");
        drop(source);
        s.settle();
        assert!(!old.exists(), "deleted with its last upload");
        assert_eq!(
            s.in_segments.load(Ordering::Acquire),
            u64::try_from(big).unwrap_or(0),
            "only the current segment is counted"
        );
        s.clear();
        s.settle();
        assert_eq!(
            segments(&s),
            Vec::<PathBuf>::new(),
            "a reset lets the current one go"
        );
        assert_eq!(s.in_segments.load(Ordering::Acquire), 0);
    }

    /// An append that would take the uploads on disk past [`MAX_STORED_BYTES`] is refused (the
    /// task keeps the generated tune), as after shutdown.
    #[test]
    fn appends_are_bounded_by_the_disk_bound() {
        let s = store();
        s.in_segments
            .store(MAX_STORED_BYTES - 10, Ordering::Release);
        let refused = s.append(&[Bytes::from_static(&[1u8; 11])]);
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::StorageFull),
            "{refused:?}"
        );
        s.in_segments.store(0, Ordering::Release);
        assert!(s.append(&[Bytes::from_static(&[1u8; 11])]).is_ok());
        s.shut_down();
        assert!(s.append(&[Bytes::from_static(&[1u8; 11])]).is_err());
    }

    /// The file system's blocks `file` takes (512 bytes each).
    #[cfg(unix)]
    fn blocks(file: &Path) -> u64 {
        std::fs::metadata(file).map_or(0, |m| std::os::unix::fs::MetadataExt::blocks(&m))
    }

    /// At the disk bound, the places of uploads let go in segments that live on are given back
    /// (their whole blocks punched out, on Linux) before an append is refused: a refused upload
    /// among kept ones no longer holds the bound. What the kept uploads hold is untouched, and a
    /// place let go next to one already given back frees the block they share.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_dead_space_of_segments_is_given_back_at_the_bound() {
        use crate::domain::audio::{noise, punches_in};
        let s = store();
        if !punches_in(&std::env::temp_dir()) {
            eprintln!("skipped: the temp dir's file system cannot punch holes");
            return;
        }
        let kept = |i: u64| {
            let bytes = noise(10_000, i);
            (written(&s, &bytes), bytes)
        };
        // 10,000 bytes kept, 300,001 refused, 200,000 refused, 10,000 kept: the two refused
        // ones share a block.
        let (first, first_bytes) = kept(1);
        let refused = written(&s, &noise(300_001, 3));
        let refused_too = written(&s, &noise(200_000, 4));
        let (last, last_bytes) = kept(2);
        let segment = current(&s);
        let block = segment.block();
        let inside =
            |from: u64, to: u64| (to / block * block).saturating_sub(from.next_multiple_of(block));
        let taken = segment.taken();
        assert_eq!(s.on_disk_bytes(), taken);
        drop(refused);
        // Nothing is given back before the bound is reached.
        assert!(s.append(&[Bytes::from_static(b"x")]).is_ok());
        assert_eq!(s.on_disk_bytes(), taken + 1);
        assert_eq!(segment.given(), 0);
        // At the bound (the rest counted as if other segments held it): what `refused` held is
        // given back, and the append goes through.
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let others = MAX_STORED_BYTES - s.on_disk_bytes();
        s.count_on_disk(signed(others));
        let before = blocks(&segment.path) * 512;
        let fits = s.append(&[Bytes::from(noise(100_000, 5))]);
        assert!(fits.is_ok(), "{fits:?}");
        let given = segment.given();
        assert_eq!(
            given,
            inside(10_000, 310_001),
            "the whole blocks inside the refused upload"
        );
        let after = blocks(&segment.path) * 512;
        assert!(
            after + given <= before + 100_000 + 2 * block,
            "the file holds {after} bytes of blocks, {before} before, {given} given back"
        );
        // Its neighbour let go too: the block they share is freed with it.
        drop(refused_too);
        let more = MAX_STORED_BYTES - s.on_disk_bytes();
        s.count_on_disk(signed(more));
        assert!(s.append(&[Bytes::from_static(b"y")]).is_ok());
        let both = segment.given();
        assert_eq!(
            both,
            inside(10_000, 510_001),
            "the two refused uploads' blocks"
        );
        assert!(
            both - given > inside(310_001, 510_001),
            "and the one they share"
        );
        // The kept uploads read back as they were written.
        assert_eq!(first.read_back(), first_bytes);
        assert_eq!(last.read_back(), last_bytes);
        // Nothing else to give back: a full store refuses the append.
        let full = MAX_STORED_BYTES - s.on_disk_bytes();
        s.count_on_disk(signed(full));
        let refused = s.append(&[Bytes::from_static(b"z")]);
        assert!(
            refused.is_err_and(|e| e.kind() == io::ErrorKind::StorageFull),
            "nothing is left to give back"
        );
        s.count_on_disk(-signed(others + more + full));
        // Deleted, the segment gives back the rest, and nothing is counted twice.
        drop((first, last, fits, segment));
        s.clear();
        s.settle();
        assert_eq!(s.on_disk_bytes(), 0);
    }

    /// Right after a reset, the segments let go are still being deleted (and counted): an append
    /// that finds the bound reached waits for those deletions rather than being refused.
    #[test]
    fn an_append_waits_for_segments_being_deleted() {
        let s = store();
        let upload = written(&s, b"held");
        let segment = current(&s);
        let deleter = s.deleter.get().cloned().expect("no deleter with a segment");
        // The deleter busy until `release` goes, as with 256 segments to delete.
        let (release, busy) = std::sync::mpsc::channel::<()>();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let _ = busy.recv();
        });
        deleter.run(job);
        drop((upload, segment));
        s.clear();
        assert_eq!(s.on_disk_bytes(), 4, "counted until deleted");
        s.count_on_disk(i64::try_from(MAX_STORED_BYTES - 4).unwrap_or(i64::MAX));
        let appended = std::thread::scope(|scope| {
            let append = scope.spawn(|| s.append(&[Bytes::from_static(b"more")]));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!append.is_finished(), "the append waits for the deletion");
            drop(release);
            append.join()
        });
        assert!(matches!(appended, Ok(Ok(_))), "{appended:?}");
        s.count_on_disk(-i64::try_from(MAX_STORED_BYTES - 4).unwrap_or(0));
    }

    #[test]
    fn uploads_on_disk_live_as_long_as_their_task() {
        let s = store();
        // Refused Cover: the upload lets its segment go with its handle.
        let refused = written(&s, b"abc");
        let segment = current(&s);
        assert_eq!(holders(&segment), 1);
        drop(refused);
        assert_eq!(holders(&segment), 0);

        for task in 1..=3u128 {
            let incoming = written(&s, b"not audio");
            let id = Uuid::from_u128(task);
            assert!(s.keep(incoming, id, 0, &audio()).is_ok());
            assert!(s.has(&id));
            assert_eq!(s.kept_in_memory(&id), Some(false));
        }
        assert_eq!(holders(&segment), 3);
        assert_eq!(s.in_segments.load(Ordering::Acquire), 3 + 27);
        // Evicted.
        s.remove(&Uuid::from_u128(1));
        assert_eq!(holders(&segment), 2);
        assert!(!s.has(&Uuid::from_u128(1)));
        // Reset: the segment goes with its uploads.
        let path = segment.path.clone();
        drop(segment);
        assert!(path.exists());
        s.clear();
        s.settle();
        assert!(!path.exists());
        assert_eq!(s.in_segments.load(Ordering::Acquire), 0);
        // Only the directory and its lock are left, and they go with the store.
        let dir = s.dir().map(Path::to_owned).unwrap_or_default();
        let left: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(left, [LOCK_FILE]);
        drop(s);
        assert!(!dir.exists());
        // Or when the server stops, store or not; an upload after that is not kept.
        let s = store();
        let incoming = written(&s, b"kept");
        assert!(s.keep(incoming, Uuid::from_u128(7), 0, &audio()).is_ok());
        let dir = s.dir().map(Path::to_owned).unwrap_or_default();
        s.shut_down();
        assert!(!dir.exists());
        assert!(s.append(&[Bytes::from_static(b"late")]).is_err());
        let late = held(&s, b"late");
        assert!(s.keep(late, Uuid::from_u128(8), 0, &audio()).is_err());
        assert_eq!(s.memory_used(), 0);
    }

    /// A small upload never touches the disk, and its memory is given back when it is refused,
    /// evicted, reset or shut down.
    #[test]
    fn uploads_in_memory_live_as_long_as_their_task() {
        let s = store();
        let refused = held(&s, &[7u8; 2048]);
        assert!(refused.in_memory());
        assert_eq!(s.memory_used(), 2048);
        drop(refused);
        assert_eq!(s.memory_used(), 0);
        for task in 1..=3u128 {
            let incoming = held(&s, &[task as u8; 2048]);
            assert!(s.keep(incoming, Uuid::from_u128(task), 0, &audio()).is_ok());
            assert_eq!(s.kept_in_memory(&Uuid::from_u128(task)), Some(true));
        }
        assert_eq!(s.memory_used(), 3 * 2048);
        assert_eq!(s.in_segments.load(Ordering::Acquire), 0, "nothing on disk");
        s.remove(&Uuid::from_u128(1));
        assert_eq!(s.memory_used(), 2 * 2048);
        // The same task id again (a seeded mock after a reset) replaces the upload.
        let again = held(&s, &[9u8; 100]);
        assert!(s.keep(again, Uuid::from_u128(2), 0, &audio()).is_ok());
        assert_eq!(s.memory_used(), 2048 + 100);
        s.clear();
        assert_eq!(s.memory_used(), 0);
        let last = held(&s, b"last");
        assert!(s.keep(last, Uuid::from_u128(4), 0, &audio()).is_ok());
        s.shut_down();
        assert_eq!(s.memory_used(), 0);
        assert!(s.dir.get().is_none(), "no directory was ever made");
    }

    /// Memory for uploads is bounded: what does not fit is refused, so the upload goes to disk.
    #[test]
    fn the_memory_bound_holds() {
        let s = store();
        let mut first = s.reservation();
        assert!(first.grow(MAX_MEMORY_BYTES - 10));
        let mut second = s.reservation();
        assert!(!second.grow(11), "over the bound");
        assert!(second.grow(10));
        assert_eq!(s.memory_used(), MAX_MEMORY_BYTES);
        assert!(!second.grow(1));
        drop(first);
        assert_eq!(s.memory_used(), 10);
        drop(second);
        assert_eq!(s.memory_used(), 0);
    }

    /// The store's wiring: a task evicted, or all of them reset, takes its upload along.
    #[test]
    fn a_task_leaving_the_task_store_takes_its_upload() {
        use crate::domain::store::TaskStore;
        use crate::domain::tasks::{AudioSource, sample_task};

        let s = store();
        let mut tasks = TaskStore::new(1, 1 << 20).with_uploads(Arc::clone(&s));
        for seq in 1..=2u64 {
            let id = Uuid::from_u128(u128::from(seq));
            assert!(s.keep(written(&s, b"song"), id, 0, &audio()).is_ok());
            let mut task = sample_task(seq, 10);
            task.request.source = AudioSource::File {
                filename: Some("song.wav".into()),
                content_type: None,
                size: 0,
            };
            assert!(tasks.insert(task).is_ok());
            assert!(tasks.settle_due(10).is_empty());
        }
        // The store holds one task: the first was evicted for the second, with its upload.
        let segment = current(&s);
        assert!(!s.has(&Uuid::from_u128(1)));
        assert!(s.has(&Uuid::from_u128(2)));
        assert_eq!(holders(&segment), 1, "the first task's upload was let go");
        tasks.clear();
        assert!(!s.has(&Uuid::from_u128(2)));
        assert_eq!(
            Arc::strong_count(&segment),
            1,
            "a reset lets the segment go"
        );
    }

    /// An upload the Cover's probe found is not audio: only the reason is kept (its bytes are
    /// freed at once, so nothing could decode them again), and its result is the tune with it.
    #[tokio::test]
    async fn bytes_that_are_not_audio_give_the_tune_and_say_why_without_a_second_look() {
        let s = store();
        let bytes = [0u8; 1000];
        let incoming = held(&s, &bytes);
        let probed = super::super::audio::probe_upload_async(incoming.source().clone()).await;
        let why = probed.clone().expect_err("zeros probed as audio");
        let id = Uuid::from_u128(9);
        assert!(s.keep(incoming, id, 3, &probed).is_ok());
        assert!(s.has(&id));
        assert_eq!(s.kept_in_memory(&id), None, "no bytes of it are kept");
        assert_eq!(s.memory_used(), 0);
        let result = s.result(&id).await.expect("no result");
        assert!(!result.is_upload());
        assert_eq!(result.duration, super::super::audio::DURATION_SECONDS);
        assert!(result.note.contains("did not decode"), "{}", result.note);
        assert!(result.note.contains(&why), "{}", result.note);
        assert_eq!(s.note(&id), Some(result.note.clone()));
        // Not counted with the results: its files are the tune every such task shares.
        assert_eq!(lock(&s.kept).held, 0);
        assert!(s.result(&Uuid::from_u128(10)).await.is_none());
        // The same from disk: let go at once.
        let incoming = written(&s, &bytes);
        let probed = super::super::audio::probe_upload_async(incoming.source().clone()).await;
        assert!(probed.is_err());
        assert!(s.keep(incoming, Uuid::from_u128(11), 0, &probed).is_ok());
        assert_eq!(holders(&current(&s)), 0);
    }

    /// A directory a dead mock left (its lock free) is removed when another store makes its own.
    #[test]
    fn a_directory_whose_lock_is_free_is_swept() {
        let parent = Parent::new();
        let abandoned = parent.abandoned(true);
        let s = parent.store();
        assert!(s.dir().is_ok());
        assert!(!abandoned.exists(), "{} was not swept", abandoned.display());
    }

    /// A live store's directory is never swept: its lock is held.
    #[test]
    fn a_directory_locked_by_a_live_store_is_not_swept() {
        let parent = Parent::new();
        let live = parent.store();
        let live_dir = live.dir().map(Path::to_owned).unwrap_or_default();
        let s = parent.store();
        let own = s.dir().map(Path::to_owned).unwrap_or_default();
        assert_ne!(own, live_dir);
        assert!(
            live_dir.join(LOCK_FILE).exists(),
            "the live store's directory was swept"
        );
        // Its uploads still work.
        assert!(live.append(&[Bytes::from_static(b"song")]).is_ok());
        // And once it is gone (dropped, its lock with it), so is its directory.
        drop(live);
        assert!(!live_dir.exists());
    }

    /// A directory without a lock file (not a mock's, or an older mock's) is left alone, and so
    /// is one being made (under its hidden temporary name).
    #[test]
    fn a_directory_without_a_lock_file_is_not_swept() {
        let parent = Parent::new();
        let unlocked = parent.abandoned(false);
        let making = parent
            .0
            .join(format!(".{DIR_PREFIX}new-{}", Uuid::new_v4().simple()));
        assert!(std::fs::create_dir(&making).is_ok());
        assert!(std::fs::write(making.join(LOCK_FILE), b"").is_ok());
        let s = parent.store();
        assert!(s.dir().is_ok());
        assert!(unlocked.join("incoming-0.part").exists());
        assert!(making.join(LOCK_FILE).exists());
    }
}
