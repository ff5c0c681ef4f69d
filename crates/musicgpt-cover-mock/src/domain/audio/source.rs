//! Where an upload's bytes are read from: a file of its own, a place in a file several small
//! uploads share, or memory (the chunks the form parser gave).
//!
//! Decoding and probing take an [`UploadSource`] and open it as a symphonia `MediaSource`, so the
//! format logic in `decode` is one code path whichever way the upload was kept.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use symphonia::core::io::MediaSource;

/// An upload's bytes, as the decoder reads them. Cheap to clone (a path, a shared file, or shared
/// chunks).
#[derive(Debug, Clone)]
pub(crate) enum UploadSource {
    /// Written to this file.
    File(PathBuf),
    /// Written to `len` bytes of a shared file, from `start`.
    Region {
        file: Arc<SharedFile>,
        start: u64,
        len: u64,
    },
    /// Held in memory.
    Memory(Chunks),
}

/// A file several uploads are written into, each at its own place: deleted when the last of
/// them (and the last reader) lets it go.
pub(crate) struct SharedFile {
    pub(crate) path: PathBuf,
    pub(crate) file: File,
    /// Dropped with the file: what counts its bytes against the bound of uploads on disk.
    pub(crate) _counted: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for SharedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedFile")
            .field("path", &self.path)
            .finish()
    }
}

impl Drop for SharedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl SharedFile {
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

    fn read_at(&self, buf: &mut [u8], at: u64) -> io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&self.file, buf, at)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(&self.file, buf, at)
        }
    }
}

impl UploadSource {
    /// The bytes, ready for symphonia. `Err` says why they cannot be read (a file that is gone).
    pub(crate) fn open(&self) -> Result<Box<dyn MediaSource>, String> {
        match self {
            UploadSource::File(path) => File::open(path)
                .map(|f| Box::new(f) as Box<dyn MediaSource>)
                .map_err(|e| format!("the upload could not be read: {e}")),
            UploadSource::Region { file, start, len } => Ok(Box::new(RegionReader {
                file: Arc::clone(file),
                start: *start,
                len: *len,
                pos: 0,
            })),
            UploadSource::Memory(chunks) => Ok(match chunks.parts.as_ref() {
                // The usual case: one piece, read in place.
                [one] => Box::new(io::Cursor::new(one.clone())),
                _ => Box::new(ChunksReader {
                    chunks: chunks.clone(),
                    pos: 0,
                }),
            }),
        }
    }

    /// Bytes in memory; `None` for a file.
    pub(crate) fn memory_len(&self) -> Option<u64> {
        match self {
            UploadSource::File(_) | UploadSource::Region { .. } => None,
            UploadSource::Memory(chunks) => Some(chunks.len),
        }
    }
}

/// Bytes held in memory as the pieces they came in (not copied together), read as one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chunks {
    /// The pieces, none empty.
    parts: Arc<[Bytes]>,
    /// Where each piece starts: `starts[i]` is the sum of the lengths before piece `i`.
    starts: Arc<[u64]>,
    /// Their total length.
    len: u64,
}

impl Chunks {
    /// `parts` read one after the other (empty ones are left out).
    pub(crate) fn new(parts: Vec<Bytes>) -> Chunks {
        let parts: Vec<Bytes> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0u64;
        for p in &parts {
            starts.push(len);
            len += p.len() as u64;
        }
        Chunks {
            parts: parts.into(),
            starts: starts.into(),
            len,
        }
    }

    /// Total bytes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The pieces, in order.
    #[cfg(test)]
    pub(crate) fn parts(&self) -> &[Bytes] {
        &self.parts
    }
}

/// A reader over [`Chunks`]: `Read` and `Seek` across the pieces.
struct ChunksReader {
    chunks: Chunks,
    pos: u64,
}

impl Read for ChunksReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let c = &self.chunks;
        if self.pos >= c.len || buf.is_empty() {
            return Ok(0);
        }
        // The piece holding `pos`: the last one starting at or before it.
        let i = c.starts.partition_point(|&s| s <= self.pos) - 1;
        let offset = usize::try_from(self.pos - c.starts[i]).unwrap_or(usize::MAX);
        let piece = c.parts[i].get(offset..).unwrap_or_default();
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ChunksReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.chunks.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a position before the start",
            ));
        };
        self.pos = target;
        Ok(target)
    }
}

impl MediaSource for ChunksReader {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.chunks.len)
    }
}

/// A reader over one upload's place in a [`SharedFile`]: `Read` and `Seek` within it, reading at
/// an offset (so readers of the same file do not move each other).
struct RegionReader {
    file: Arc<SharedFile>,
    start: u64,
    len: u64,
    pos: u64,
}

impl Read for RegionReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        let read = self.file.read_at(&mut buf[..n], self.start + self.pos)?;
        self.pos += read as u64;
        Ok(read)
    }
}

impl Seek for RegionReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a position before the start",
            ));
        };
        self.pos = target;
        Ok(target)
    }
}

impl MediaSource for RegionReader {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces read as the bytes they hold together, from anywhere a seek lands.
    #[test]
    fn pieces_read_as_one() {
        let whole: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let parts = vec![
            Bytes::copy_from_slice(&whole[..7]),
            Bytes::new(),
            Bytes::copy_from_slice(&whole[7..500]),
            Bytes::copy_from_slice(&whole[500..]),
        ];
        let chunks = Chunks::new(parts);
        assert_eq!(chunks.len(), 1000);
        assert_eq!(chunks.parts().len(), 3, "the empty piece is left out");
        let Ok(mut reader) = UploadSource::Memory(chunks).open() else {
            panic!("memory does not open");
        };
        let mut read = Vec::new();
        assert!(reader.read_to_end(&mut read).is_ok());
        assert_eq!(read, whole);
        // From position 5 each time: a seek lands anywhere, in any piece, or past the end.
        for (to, at) in [
            (SeekFrom::Start(5), 5u64),
            (SeekFrom::Current(600), 605),
            (SeekFrom::Current(-5), 0),
            (SeekFrom::End(-1), 999),
            (SeekFrom::Start(2000), 2000),
        ] {
            assert_eq!(reader.seek(SeekFrom::Start(5)).ok(), Some(5));
            assert_eq!(reader.seek(to).ok(), Some(at));
            let mut rest = Vec::new();
            assert!(reader.read_to_end(&mut rest).is_ok());
            let at = usize::try_from(at).unwrap_or(usize::MAX).min(whole.len());
            assert_eq!(rest, whole[at..], "from {at}");
        }
        assert!(reader.seek(SeekFrom::Current(-3000)).is_err());
        assert_eq!(reader.byte_len(), Some(1000));
    }

    #[test]
    fn a_file_that_is_gone_says_so() {
        let gone = UploadSource::File(std::env::temp_dir().join(format!(
            "musicgpt-cover-mock-test-gone-{}",
            uuid::Uuid::new_v4().simple()
        )));
        let Err(why) = gone.open() else {
            panic!("a missing file opened");
        };
        assert!(why.contains("could not be read"), "{why}");
    }
}
