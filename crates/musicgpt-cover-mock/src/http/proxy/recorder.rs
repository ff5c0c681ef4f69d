//! `proxy --record DIR`: each exchange the proxy forwarded written to `DIR` as one JSON file, a
//! journal entry ([`JournalEntry`]) numbered in the order the answers came
//! (`0001-POST-Cover.json`), the key redacted and uploads by name, size and hash, for a person to
//! review and for `--replay DIR` to answer from.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::journal::{JournalEntry, JournalKind, RequestRecord};

/// Where a recording goes, and the number of its next exchange.
#[derive(Debug)]
pub(super) struct Recorder {
    dir: PathBuf,
    next: AtomicU64,
}

impl Recorder {
    /// A recorder writing to `dir`, made if it does not exist; one that already holds
    /// recordings is refused (a second session would interleave with the first).
    pub(super) fn create(dir: &Path) -> Result<Recorder, String> {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "--record {}: cannot create the directory: {e}",
                dir.display()
            )
        })?;
        Recorder::unused(dir)?;
        Ok(Recorder {
            dir: dir.to_owned(),
            next: AtomicU64::new(1),
        })
    }

    /// Whether `dir` may be recorded into: it does not exist yet, or holds no recording.
    pub(super) fn unused(dir: &Path) -> Result<(), String> {
        let shown = dir.display();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("--record {shown}: cannot read the directory: {e}")),
        };
        (entries.filter_map(Result::ok).map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "json"))
            .map_or(Ok(()), |held| {
                Err(format!(
                    "--record {shown} already holds a recording ({}); give an empty or new directory",
                    held.display()
                ))
            })
    }

    /// The number of an exchange whose upstream has just answered.
    pub(super) fn number(&self) -> u64 {
        self.next.fetch_add(1, Ordering::AcqRel)
    }

    /// Writes exchange `number`, answered at `at`. A file that cannot be written is logged: the
    /// client's answer is not held up by the recording.
    pub(super) fn write(&self, number: u64, at: &str, record: &RequestRecord) {
        let name: String = record
            .path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect();
        let path = self
            .dir
            .join(format!("{number:04}-{}-{name}.json", record.method));
        let entry = JournalEntry {
            seq: number,
            at: at.to_owned(),
            kind: JournalKind::Request,
            request: Some(record.clone()),
            webhook: None,
        };
        let written = serde_json::to_vec_pretty(&entry)
            .map_err(|e| e.to_string())
            .and_then(|mut text| {
                text.push(b'\n');
                std::fs::write(&path, text).map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), "the recording's file was not written: {e}");
        }
    }
}
