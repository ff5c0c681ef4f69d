//! Uploaded songs, kept on disk for their tasks, and the result files made from them.
//!
//! Each mock has a private temporary directory (mode 0700, made on the first upload). An upload
//! is streamed into an [`Incoming`] file while it is counted; when its Cover makes a task,
//! [`UploadStore::keep`] files it under the task and starts converting it (decode, shift, encode:
//! `audio::render_upload_async`) in the background; [`UploadStore::result`] gives the result
//! files, converting on first use if that has not started yet. An incoming file whose Cover is
//! refused is deleted when dropped. A kept upload (and its result) goes when its task leaves the
//! store ([`UploadStore::remove`], called on eviction), on reset ([`UploadStore::clear`]) and at
//! shutdown ([`UploadStore::shut_down`], when the server stops: the directory too; and when the
//! store is dropped, should the server never have run).
//!
//! Bounds: at most [`MAX_KEPT_BYTES`] of an upload need be written (the first minute of any
//! ordinary file fits), at most [`MAX_STORED_BYTES`] of uploads are kept at once (a Cover beyond
//! that keeps the generated tune), and at most [`MAX_RESULT_BYTES`] of result files are held in
//! memory (the oldest are dropped and made again from their upload if asked for again).

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::OnceCell;
use uuid::Uuid;

use super::audio::{Rendered, render_upload_async};
use super::sync::lock;

/// The most of one upload worth writing to disk: only its first minute is converted, and a minute
/// of even 96 kHz 24-bit stereo WAV is 35 MB. The rest may be counted and dropped; the decoder
/// takes a file cut short as ending there.
pub(crate) const MAX_KEPT_BYTES: u64 = 64 << 20;
/// The most upload bytes kept on disk at once, over all tasks.
pub(crate) const MAX_STORED_BYTES: u64 = 2 << 30;
/// The most result-file bytes held in memory at once, over all tasks (a minute of 44.1 kHz
/// stereo is about 11.5 MB of WAV and 1 MB of MP3).
pub(crate) const MAX_RESULT_BYTES: usize = 256 << 20;

/// The uploads of one mock. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub(crate) struct UploadStore {
    /// Where the private directory is made.
    parent: PathBuf,
    /// The private directory, made on first use (most mocks never see an upload).
    dir: OnceLock<Result<PathBuf, String>>,
    /// Numbers incoming files and kept ones, so no two names are ever the same (a seeded mock
    /// reuses task ids after a reset).
    next: AtomicU64,
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    by_task: HashMap<Uuid, Entry>,
    /// Upload bytes on disk.
    stored: u64,
    /// Results held in memory, oldest first: (task, entry number, weight); `held` is the sum.
    results: VecDeque<(Uuid, u64, usize)>,
    held: usize,
}

impl Kept {
    /// Takes `task_id`'s entry out: its upload is deleted, its result no longer counted.
    fn forget(&mut self, task_id: &Uuid) {
        if let Some(e) = self.by_task.remove(task_id) {
            self.stored = self.stored.saturating_sub(e.size);
            let mut freed = 0;
            self.results.retain(|&(t, n, w)| {
                let this = t == *task_id && n == e.number;
                if this {
                    freed += w;
                }
                !this
            });
            self.held = self.held.saturating_sub(freed);
            let _ = std::fs::remove_file(&e.path);
        }
    }
}

#[derive(Debug)]
struct Entry {
    /// Distinguishes this entry from an earlier one of the same task id.
    number: u64,
    path: PathBuf,
    pitch: i64,
    size: u64,
    result: Arc<OnceCell<Arc<Rendered>>>,
    /// What the task's record says of its audio, known when its Cover was accepted (so a seeded
    /// mock's records do not depend on how far the background conversion has got).
    described: Option<String>,
}

/// A file an upload is being written to; deleted when dropped unless [`UploadStore::keep`] took it.
#[derive(Debug)]
pub(crate) struct Incoming {
    path: PathBuf,
    armed: bool,
}

impl Incoming {
    /// Where the upload is written.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Default for UploadStore {
    fn default() -> Self {
        UploadStore::new(std::env::temp_dir())
    }
}

impl UploadStore {
    /// A store whose private directory will be made in `parent`.
    pub(crate) fn new(parent: PathBuf) -> UploadStore {
        UploadStore {
            parent,
            dir: OnceLock::new(),
            next: AtomicU64::new(0),
            kept: Mutex::new(Kept::default()),
        }
    }

    /// The private directory, made now if it was not.
    pub(crate) fn dir(&self) -> io::Result<&Path> {
        let made = self.dir.get_or_init(|| make_private_dir(&self.parent));
        match made {
            Ok(dir) => Ok(dir),
            Err(e) => Err(io::Error::other(e.clone())),
        }
    }

    /// A new, empty file (mode 0600) to write an upload to, and its handle (for
    /// `tokio::fs::File::from_std`).
    pub(crate) fn incoming(&self) -> io::Result<(Incoming, File)> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir()?.join(format!("incoming-{n}.part"));
        let file = create_private_file(&path)?;
        Ok((Incoming { path, armed: true }, file))
    }

    /// Files the upload under `task_id` (whose Cover asked for `pitch`) and, inside a Tokio
    /// runtime, starts converting it in the background. `Err` when the file is gone, or when the
    /// uploads kept already fill [`MAX_STORED_BYTES`]: the upload is deleted, and the task keeps
    /// the generated tune.
    pub(crate) fn keep(
        self: &Arc<Self>,
        mut incoming: Incoming,
        task_id: Uuid,
        pitch: i64,
    ) -> io::Result<()> {
        let size = std::fs::metadata(&incoming.path)?.len();
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self
            .dir()?
            .join(format!("{}-{number}.upload", task_id.simple()));
        let result = Arc::new(OnceCell::new());
        {
            let mut kept = lock(&self.kept);
            let freed = kept.by_task.get(&task_id).map_or(0, |e| e.size);
            if kept.stored.saturating_sub(freed) + size > MAX_STORED_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    format!(
                        "the mock keeps at most {} MiB of uploads and they are all in use",
                        MAX_STORED_BYTES >> 20
                    ),
                ));
            }
            std::fs::rename(&incoming.path, &path)?;
            incoming.armed = false;
            let entry = Entry {
                number,
                path: path.clone(),
                pitch,
                size,
                result: Arc::clone(&result),
                described: None,
            };
            kept.forget(&task_id);
            kept.stored += size;
            kept.by_task.insert(task_id, entry);
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = Arc::downgrade(self);
            runtime.spawn(async move {
                let made = result
                    .get_or_init(|| async move { Arc::new(render_upload_async(path, pitch).await) })
                    .await;
                if let Some(store) = store.upgrade() {
                    store.account(task_id, number, made.weight());
                }
            });
        }
        Ok(())
    }

    /// Whether an upload is kept for `task_id`.
    #[cfg(test)]
    pub(crate) fn has(&self, task_id: &Uuid) -> bool {
        lock(&self.kept).by_task.contains_key(task_id)
    }

    /// The result files of `task_id`'s upload (the generated tune, with the reason, when it did
    /// not decode), waiting for its conversion; `None` when no upload is kept for it.
    pub(crate) async fn result(&self, task_id: &Uuid) -> Option<Arc<Rendered>> {
        let (cell, path, pitch, number) = {
            let kept = lock(&self.kept);
            let e = kept.by_task.get(task_id)?;
            (Arc::clone(&e.result), e.path.clone(), e.pitch, e.number)
        };
        let made = cell
            .get_or_init(|| async move { Arc::new(render_upload_async(path, pitch).await) })
            .await
            .clone();
        self.account(*task_id, number, made.weight());
        Some(made)
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

    /// Deletes the upload of `task_id` and its result: the task left the store.
    pub(crate) fn remove(&self, task_id: &Uuid) {
        lock(&self.kept).forget(task_id);
    }

    /// Deletes every kept upload and result (reset, shutdown). Uploads still being received are
    /// left to their [`Incoming`], which deletes them.
    pub(crate) fn clear(&self) {
        let mut kept = lock(&self.kept);
        for (_, e) in kept.by_task.drain() {
            let _ = std::fs::remove_file(&e.path);
        }
        *kept = Kept::default();
    }

    /// [`UploadStore::clear`], and the directory itself: the server stopped. A later upload finds
    /// no directory and is not kept (its task gets the generated tune).
    pub(crate) fn shut_down(&self) {
        self.clear();
        if let Some(Ok(dir)) = self.dir.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for UploadStore {
    fn drop(&mut self) {
        if let Some(Ok(dir)) = self.dir.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A new directory in `parent` only this user may enter (0700), with a random name; never an
/// existing one (so not one another user placed there beforehand).
fn make_private_dir(parent: &Path) -> Result<PathBuf, String> {
    let dir = parent.join(format!("musicgpt-cover-mock-{}", Uuid::new_v4().simple()));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).map_err(|e| {
        format!(
            "cannot make a private directory for uploads in {}: {e}",
            parent.display()
        )
    })?;
    Ok(dir)
}

/// A new file only this user may read (0600); never an existing one.
fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn store() -> Arc<UploadStore> {
        Arc::new(UploadStore::new(std::env::temp_dir()))
    }

    #[test]
    fn the_directory_is_private_and_made_on_first_use() {
        let s = store();
        assert!(s.dir.get().is_none());
        let dir = s.dir().map(Path::to_owned);
        let Ok(dir) = dir else {
            panic!("no directory: {dir:?}");
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o700));
        }
        drop(s);
        assert!(!dir.exists(), "dropping the store removes its directory");
    }

    #[test]
    fn uploads_live_as_long_as_their_task() {
        let s = store();
        // Refused Cover: the incoming file goes with its handle.
        let Ok((refused, mut file)) = s.incoming() else {
            panic!("no incoming file");
        };
        assert!(file.write_all(b"abc").is_ok());
        let refused_path = refused.path().to_owned();
        assert!(refused_path.exists());
        drop(refused);
        assert!(!refused_path.exists());

        let mut paths = Vec::new();
        for task in 1..=3u128 {
            let Ok((incoming, mut file)) = s.incoming() else {
                panic!("no incoming file");
            };
            assert!(file.write_all(b"not audio").is_ok());
            let id = Uuid::from_u128(task);
            assert!(s.keep(incoming, id, 0).is_ok());
            assert!(s.has(&id));
            paths.push(lock(&s.kept).by_task[&id].path.clone());
        }
        assert!(paths.iter().all(|p| p.exists()));
        assert_eq!(lock(&s.kept).stored, 27);
        // Evicted.
        s.remove(&Uuid::from_u128(1));
        assert!(!paths[0].exists() && paths[1].exists());
        assert!(!s.has(&Uuid::from_u128(1)));
        // Reset.
        s.clear();
        assert!(paths.iter().all(|p| !p.exists()));
        assert_eq!(lock(&s.kept).stored, 0);
        // Only the directory is left, and it goes with the store.
        let dir = s.dir().map(Path::to_owned).unwrap_or_default();
        assert_eq!(std::fs::read_dir(&dir).map(Iterator::count).ok(), Some(0));
        drop(s);
        assert!(!dir.exists());
        // Or when the server stops, store or not; an upload after that is not kept.
        let s = store();
        let Ok((incoming, _file)) = s.incoming() else {
            panic!("no incoming file");
        };
        assert!(s.keep(incoming, Uuid::from_u128(7), 0).is_ok());
        let dir = s.dir().map(Path::to_owned).unwrap_or_default();
        s.shut_down();
        assert!(!dir.exists());
        assert!(s.incoming().is_err());
    }

    /// The store's wiring: a task evicted, or all of them reset, takes its upload along.
    #[test]
    fn a_task_leaving_the_task_store_takes_its_upload() {
        use crate::domain::store::TaskStore;
        use crate::domain::tasks::{AudioSource, sample_task};

        let s = store();
        let mut tasks = TaskStore::new(1, 1 << 20).with_uploads(Arc::clone(&s));
        let mut paths = Vec::new();
        for seq in 1..=2u64 {
            let id = Uuid::from_u128(u128::from(seq));
            let Ok((incoming, _file)) = s.incoming() else {
                panic!("no incoming file");
            };
            assert!(s.keep(incoming, id, 0).is_ok());
            paths.push(lock(&s.kept).by_task[&id].path.clone());
            let mut task = sample_task(seq, 10);
            task.source = AudioSource::File {
                filename: Some("song.wav".into()),
                content_type: None,
                size: 0,
            };
            assert!(tasks.insert(task).is_ok());
            assert!(tasks.settle_due(10).is_empty());
        }
        // The store holds one task: the first was evicted for the second, with its upload.
        assert!(!paths[0].exists() && !s.has(&Uuid::from_u128(1)));
        assert!(paths[1].exists() && s.has(&Uuid::from_u128(2)));
        tasks.clear();
        assert!(!paths[1].exists() && !s.has(&Uuid::from_u128(2)));
    }

    #[tokio::test]
    async fn bytes_that_are_not_audio_give_the_tune_and_say_why() {
        let s = store();
        let Ok((incoming, mut file)) = s.incoming() else {
            panic!("no incoming file");
        };
        assert!(file.write_all(&[0u8; 1000]).is_ok());
        let id = Uuid::from_u128(9);
        assert!(s.keep(incoming, id, 3).is_ok());
        let Some(result) = s.result(&id).await else {
            panic!("no result");
        };
        assert!(!result.is_upload());
        assert_eq!(result.duration, super::super::audio::DURATION_SECONDS);
        let note = s.note(&id).unwrap_or_default();
        assert!(note.contains("did not decode"), "{note}");
        assert!(s.result(&Uuid::from_u128(10)).await.is_none());
    }
}
