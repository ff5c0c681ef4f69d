//! Where an upload's bytes are read from: memory (the chunks the form parser gave), places in
//! files several uploads share (the store's segments), or a file (the lab, tests).
//!
//! Decoding and probing take an [`UploadSource`] and open it as a symphonia `MediaSource`, so the
//! format logic in `decode` is one code path whichever way the upload was kept.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use symphonia::core::io::MediaSource;

use super::segment::Extent;

/// An upload's bytes, as the decoder reads them. Cheap to clone (a path, or shared pieces).
#[derive(Debug, Clone)]
pub(crate) enum UploadSource {
    /// This file (the lab and tests read files in place).
    File(PathBuf),
    /// Written to places in segment files, one after the other.
    Disk(Pieces<Extent>),
    /// Held in memory.
    Memory(Pieces<Bytes>),
}

/// Bytes held in memory as the pieces they came in (not copied together).
pub(crate) type Chunks = Pieces<Bytes>;

/// One piece of an upload, read at an offset within it.
pub(crate) trait Piece: Send + Sync + 'static {
    fn len(&self) -> u64;
    /// Reads into `buf` from `at` (which is below `len`); the count read, 0 only at the end.
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<usize>;
}

impl Piece for Bytes {
    fn len(&self) -> u64 {
        Bytes::len(self) as u64
    }

    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<usize> {
        let offset = usize::try_from(at).unwrap_or(usize::MAX);
        let piece = self.get(offset..).unwrap_or_default();
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        Ok(n)
    }
}

impl Piece for Extent {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.len.saturating_sub(at)).unwrap_or(usize::MAX);
        let n = left.min(buf.len());
        let buf = &mut buf[..n];
        let read = self.file.read_at(buf, self.start + at)?;
        if read == 0 && n > 0 {
            // The extent was written whole before it was handed out: its file was cut short by
            // something else, which is not the upload's end.
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(read)
    }
}

impl UploadSource {
    /// The bytes, ready for symphonia. `Err` says why they cannot be read (a file that is gone).
    pub(crate) fn open(&self) -> Result<Box<dyn MediaSource>, String> {
        match self {
            UploadSource::File(path) => File::open(path)
                .map(|f| Box::new(f) as Box<dyn MediaSource>)
                .map_err(|e| format!("the upload could not be read: {e}")),
            UploadSource::Disk(extents) => Ok(Box::new(extents.reader())),
            UploadSource::Memory(chunks) => Ok(match chunks.parts.as_ref() {
                // The usual case: one piece, read in place.
                [one] => Box::new(io::Cursor::new(one.clone())),
                _ => Box::new(chunks.reader()),
            }),
        }
    }

    /// Bytes in memory; `None` for a file.
    pub(crate) fn memory_len(&self) -> Option<u64> {
        match self {
            UploadSource::File(_) | UploadSource::Disk(_) => None,
            UploadSource::Memory(chunks) => Some(chunks.len),
        }
    }
}

/// Pieces read one after the other as one run of bytes (not copied together). A clone shares
/// them.
#[derive(Debug)]
pub(crate) struct Pieces<P> {
    /// The pieces, none empty.
    parts: Arc<[P]>,
    /// Where each piece starts: `starts[i]` is the sum of the lengths before piece `i`.
    starts: Arc<[u64]>,
    /// Their total length.
    len: u64,
}

impl<P> Clone for Pieces<P> {
    fn clone(&self) -> Self {
        Pieces {
            parts: Arc::clone(&self.parts),
            starts: Arc::clone(&self.starts),
            len: self.len,
        }
    }
}

impl<P: Piece> Pieces<P> {
    /// `parts` read one after the other (empty ones are left out).
    pub(crate) fn new(parts: Vec<P>) -> Pieces<P> {
        let parts: Vec<P> = parts.into_iter().filter(|p| p.len() > 0).collect();
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0u64;
        for p in &parts {
            starts.push(len);
            len += p.len();
        }
        Pieces {
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
    pub(crate) fn parts(&self) -> &[P] {
        &self.parts
    }

    fn reader(&self) -> PiecesReader<P> {
        PiecesReader {
            pieces: self.clone(),
            pos: 0,
        }
    }
}

/// A reader over [`Pieces`]: `Read` and `Seek` across them.
struct PiecesReader<P> {
    pieces: Pieces<P>,
    pos: u64,
}

impl<P: Piece> Read for PiecesReader<P> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let c = &self.pieces;
        if self.pos >= c.len || buf.is_empty() {
            return Ok(0);
        }
        // The piece holding `pos`: the last one starting at or before it.
        let i = c.starts.partition_point(|&s| s <= self.pos) - 1;
        let n = c.parts[i].read_at(self.pos - c.starts[i], buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<P: Piece> Seek for PiecesReader<P> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.pieces.len.checked_add_signed(d),
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

impl<P: Piece> MediaSource for PiecesReader<P> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.pieces.len)
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
        let why = gone.open().err().expect("a missing file opened");
        assert!(why.contains("could not be read"), "{why}");
    }
}
