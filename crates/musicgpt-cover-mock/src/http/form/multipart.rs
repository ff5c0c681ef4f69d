//! Streaming multipart reading of the Cover form, checked field by field against the spec.
//!
//! File parts are counted as they stream by; of the spec's file field, the upload is kept (see
//! `UploadSink`), of any other only the count. Text parts are kept up to
//! [`MAX_TEXT_BYTES`]. The body stream is metered so hostile input cannot make the parser buffer
//! without bound: no more than [`MAX_UNDRAINED`] bytes may pass while the parser looks for a part
//! boundary or the end of a part's headers, and each read yields after [`BURST`] bytes so a fast
//! sender cannot pile data up between two reads. A part's headers may take [`MAX_PART_HEADERS`]
//! bytes, and a part may not itself be multipart. After the closing boundary the rest of the body
//! is read to its end, so a body shorter than its `Content-Length` (or a chunked body that never
//! ends) is refused rather than taken for a whole form.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream};
use axum::http::header;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use super::fields::{FORM_OVERHEAD, FormError, MAX_PARTS, MAX_TEXT_BYTES, text_of, text_value};
use crate::domain::audio::{Extent, Probe};
use crate::domain::journal::FormLog;
use crate::domain::uploads::{
    Incoming, MAX_KEPT_BYTES, MEMORY_UPLOAD_BYTES, Reservation, UploadStore, WRITE_BATCH,
};
use crate::http::respond::with_causes;
use crate::http::stall::BodyStalled;
use crate::spec::{FormSpec, Value, ValueKind};

/// Most bytes that may pass while no part data is being read (boundaries, part headers).
pub(crate) const MAX_UNDRAINED: u64 = 1 << 20;
/// Bytes handed to the parser per read before it must come back.
const BURST: u64 = 256 * 1024;
/// Most bytes of one part's headers (names, values and their framing). A client sends a few
/// hundred; 8 KiB is what many servers allow for a whole request head.
pub(crate) const MAX_PART_HEADERS: usize = 8 * 1024;
#[derive(Debug, Default)]
struct Meter {
    total: AtomicU64,
    undrained: AtomicU64,
    too_large: AtomicBool,
    stuck: AtomicBool,
    /// Why the body stalled, if it did (see `http::stall`).
    stalled: std::sync::Mutex<Option<String>>,
}

#[derive(Debug, thiserror::Error)]
enum MeterError {
    #[error("the request body is larger than the upload limit")]
    TooLarge,
    #[error("no part boundary or end of part headers within {MAX_UNDRAINED} bytes")]
    Stuck,
    #[error("reading the request body failed: {0}")]
    Body(#[from] axum::Error),
}

/// The body stream with its bytes counted. Borrowed, so the rest of the body can be read after
/// the parser is done with it.
struct Metered<'m> {
    inner: &'m mut BodyDataStream,
    meter: &'m Meter,
    limit: u64,
    burst: u64,
}

impl Stream for Metered<'_> {
    type Item = Result<Bytes, MeterError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.burst >= BURST {
            // multer reads until the stream is pending; make it stop and drain what it has.
            self.burst = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match Pin::new(&mut *self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let len = chunk.len() as u64;
                let total = self.meter.total.fetch_add(len, Ordering::Relaxed) + len;
                if total > self.limit {
                    self.meter.too_large.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(MeterError::TooLarge)));
                }
                let undrained = self.meter.undrained.fetch_add(len, Ordering::Relaxed) + len;
                if undrained > MAX_UNDRAINED + BURST {
                    self.meter.stuck.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(MeterError::Stuck)));
                }
                self.burst += len;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(stalled) = BodyStalled::find(&e)
                    && let Ok(mut slot) = self.meter.stalled.lock()
                {
                    *slot = Some(stalled.to_string());
                }
                Poll::Ready(Some(Err(MeterError::Body(e))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                self.burst = 0;
                Poll::Pending
            }
        }
    }
}

/// Reads and checks the form. `record` gets every part as it is seen, for the journal, also when
/// the form is rejected. The file of the spec's file field is also kept by `uploads` (its first
/// [`MAX_KEPT_BYTES`], in memory when small, else in a file; the rest is only counted), given
/// back with the values; a write that fails leaves the task the generated tune, nothing worse.
pub(crate) async fn read(
    spec: &FormSpec,
    body: Body,
    boundary: String,
    max_upload: u64,
    uploads: Option<&Arc<UploadStore>>,
    record: &mut FormLog,
) -> Result<(Vec<Option<Value>>, Option<Incoming>), FormError> {
    let mut upload: Option<Incoming> = None;
    let meter = Meter::default();
    let limit = max_upload.saturating_add(FORM_OVERHEAD);
    let mut body = body.into_data_stream();
    let stream = Metered {
        inner: &mut body,
        meter: &meter,
        limit,
        burst: 0,
    };
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut values: Vec<Option<Value>> = vec![None; spec.fields.len()];
    let mut seen = 0u64; // one bit per spec field
    let mut parts = 0usize;

    let stream_error = |e: multer::Error| -> FormError {
        if let Some(why) = meter.stalled.lock().ok().and_then(|mut s| s.take()) {
            FormError::Stalled(why)
        } else if meter.too_large.load(Ordering::Relaxed) {
            FormError::TooLarge
        } else if meter.stuck.load(Ordering::Relaxed) {
            FormError::Invalid(format!(
                "the body is not valid multipart/form-data: no part boundary or end of part headers within {MAX_UNDRAINED} bytes"
            ))
        } else {
            FormError::Invalid(describe(&e))
        }
    };

    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(stream_error(e)),
        };
        meter.undrained.store(0, Ordering::Relaxed);
        parts += 1;
        if parts > MAX_PARTS {
            return Err(FormError::Invalid(format!(
                "the form has more than {MAX_PARTS} parts"
            )));
        }
        check_part(&field, parts)?;
        let Some(name) = field.name() else {
            return Err(FormError::Invalid(format!(
                "form part {parts} has no name in its Content-Disposition header"
            )));
        };
        let index = spec.index_of(name).filter(|&i| i < 64);
        let rule = index.map(|i| &spec.fields[i]);
        if let Some(i) = index {
            if seen & (1 << i) != 0 {
                return Err(FormError::Invalid(format!(
                    "field {name} was given more than once"
                )));
            }
            seen |= 1 << i;
        }
        let is_file = field.file_name().is_some()
            || field
                .content_type()
                .is_some_and(|t| !t.essence_str().eq_ignore_ascii_case("text/plain"));

        if is_file && rule.is_none_or(|r| r.kind == ValueKind::Binary) {
            // Counted; the spec's file field's first bytes are also written to disk.
            let filename = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(ToString::to_string);
            let slot = record.file_part(name, filename.as_deref(), content_type.as_deref());
            let mut sink = match (index, uploads) {
                (Some(_), Some(store)) => Some(UploadSink::new(store)),
                _ => None,
            };
            let mut size = 0u64;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        meter.undrained.store(0, Ordering::Relaxed);
                        size += chunk.len() as u64;
                        record.file_data(slot, &chunk);
                        if size > max_upload {
                            record.file_size(slot, size);
                            return Err(FormError::TooLarge);
                        }
                        if let Some(s) = &mut sink
                            && !s.write(&chunk).await
                        {
                            sink = None;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        record.file_size(slot, size);
                        return Err(stream_error(e));
                    }
                }
            }
            record.file_size(slot, size);
            if let Some(i) = index {
                // A browser sends an empty, nameless file part when no file was chosen.
                let empty = size == 0 && filename.as_deref().is_none_or(str::is_empty);
                if !empty && let Some(s) = sink {
                    upload = s.finish().await;
                }
                if !empty {
                    values[i] = Some(Value::File {
                        filename,
                        content_type,
                        size,
                    });
                }
            }
            continue;
        }

        if let Some(rule) = rule
            && rule.kind == ValueKind::Binary
        {
            return Err(FormError::Invalid(format!(
                "{name} must be a file upload (a part with a filename), got a text field"
            )));
        }

        // A text part (or a file part given for a text field: its content is the value). The
        // name borrows the field, which reading needs: keep what is needed of it first.
        let name_for_log: Option<String> = match index {
            Some(_) => None,
            None => Some(name.to_owned()),
        };
        let (text, overflow) = read_text(&mut field, &meter).await.map_err(stream_error)?;
        let field_name = match (&name_for_log, rule) {
            (Some(n), _) => n.as_str(),
            (None, Some(r)) => r.name.as_str(),
            (None, None) => "",
        };
        let bytes: &[u8] = match &text {
            Text::Borrowed(bytes) => bytes,
            Text::Owned(bytes) => bytes,
        };
        // The journal shows what came, also when it is not text.
        record.text_field(field_name, &String::from_utf8_lossy(bytes), overflow);
        let Some((i, rule)) = index.zip(rule) else {
            // Fields the spec does not name are ignored, as FastAPI does.
            continue;
        };
        let text = text_of(&rule.name, bytes, overflow)?;
        values[i] = Some(text_value(rule, text, overflow)?);
    }
    drop(multipart);
    rest_of_body(&mut body, &meter, limit).await?;

    spec.required_given(&values).map_err(FormError::Invalid)?;
    Ok((values, upload))
}

/// An upload being kept as it streams by: in memory while it stays within
/// [`MEMORY_UPLOAD_BYTES`] and the uploads in memory within their bound (no blocking call), else
/// on disk. Its chunks are gathered as they came (slices of the parser's buffer, not copied).
/// Once it goes to disk, what was gathered is appended to the store's current segment with the
/// rest every [`WRITE_BATCH`] bytes and at its end ([`UploadStore::append`]), each one blocking
/// call on Tokio's blocking pool: a call per chunk (what `tokio::fs::File` makes) cost a thread
/// hand-off per 8 to 16 KiB, more than the write itself, and a file per upload cost more than
/// the rest of its Cover (creating it: ext4 looking for an inode number not freed recently, as
/// uploads come and go). An upload written in one call at its end (a small one that went to disk
/// because memory was full) is probed in that same call, from the bytes in hand
/// ([`UploadStore::append_whole`]): one hand-off to the pool rather than two, and no reading
/// back. That probe runs before the rest of the form is checked, so a Cover refused after its
/// upload pays for it, as it pays for the write.
struct UploadSink {
    store: Arc<UploadStore>,
    /// The upload goes to disk (it grew past [`MEMORY_UPLOAD_BYTES`], or memory was full).
    to_disk: bool,
    /// Where its batches were written, in order.
    written: Vec<Extent>,
    /// Writing failed (what was written is let go).
    failed: bool,
    batch: Vec<Bytes>,
    batched: usize,
    /// The gathered bytes, counted against the bound of uploads in memory while they are only
    /// there.
    memory: Reservation,
    /// Bytes taken so far, written or batched.
    taken: u64,
    /// What the probe found, when it ran as the upload was written.
    probed: Option<Result<Probe, String>>,
}

impl UploadSink {
    fn new(store: &Arc<UploadStore>) -> UploadSink {
        UploadSink {
            store: Arc::clone(store),
            to_disk: false,
            written: Vec::new(),
            failed: false,
            batch: Vec::new(),
            batched: 0,
            memory: store.reservation(),
            taken: 0,
            probed: None,
        }
    }

    /// Takes what fits of `chunk`; false when writing failed.
    async fn write(&mut self, chunk: &Bytes) -> bool {
        let room = MAX_KEPT_BYTES.saturating_sub(self.taken);
        let take = usize::try_from(room).unwrap_or(usize::MAX).min(chunk.len());
        if take == 0 {
            return true;
        }
        self.taken += take as u64;
        self.batched += take;
        self.batch.push(chunk.slice(..take));
        if !self.to_disk {
            if self.taken <= MEMORY_UPLOAD_BYTES && self.memory.grow(take as u64) {
                return true;
            }
            // Too large for memory, or memory is full: to disk, with what was gathered, which
            // is written out with the next batch (a small upload: in one call at its end).
            self.to_disk = true;
            self.memory.release();
        }
        if self.batched >= WRITE_BATCH {
            return self.flush(false).await;
        }
        true
    }

    /// Appends the batch to the store's segment, and with `probe` probes it in the same blocking
    /// call (the batch is then the whole upload: nothing was written before); false when writing
    /// failed.
    async fn flush(&mut self, probe: bool) -> bool {
        debug_assert!(!probe || self.written.is_empty());
        if self.failed {
            return false;
        }
        if self.batch.is_empty() {
            return true;
        }
        let store = Arc::clone(&self.store);
        let batch = std::mem::take(&mut self.batch);
        self.batched = 0;
        let appended = tokio::task::spawn_blocking(move || {
            if probe {
                (store.append_whole(batch)).map(|(extent, probed)| (extent, Some(probed)))
            } else {
                store.append(&batch).map(|extent| (extent, None))
            }
        })
        .await;
        match appended {
            Ok(Ok((extent, probed))) => {
                self.written.push(extent);
                self.probed = probed;
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "an upload could not be written to disk; its task keeps the generated tune");
                self.fail()
            }
            Err(e) => {
                tracing::warn!(error = %e, "writing an upload failed; its task keeps the generated tune");
                self.fail()
            }
        }
    }

    fn fail(&mut self) -> bool {
        self.failed = true;
        self.written.clear();
        false
    }

    /// The upload, complete: in memory, or on disk.
    async fn finish(mut self) -> Option<Incoming> {
        if !self.to_disk {
            let batch = std::mem::take(&mut self.batch);
            return Some(self.store.in_memory(batch, self.memory));
        }
        // Nothing written yet: the batch is the whole upload.
        let whole = self.written.is_empty();
        if !self.flush(whole).await {
            return None;
        }
        let written = std::mem::take(&mut self.written);
        Some(self.store.on_disk(written, self.probed.take()))
    }
}

/// What a parser error means, in the words of someone who has to fix the request.
fn describe(e: &multer::Error) -> String {
    use std::error::Error as _;
    let invalid = "the body is not valid multipart/form-data";
    match e {
        // The body itself failed (hyper's framing: a bad chunk, a connection that ended early).
        multer::Error::StreamReadFailed(source) => with_causes(source.as_ref()),
        multer::Error::IncompleteStream => format!(
            "{invalid}: it ends before the closing boundary (--BOUNDARY--), or a boundary line is malformed"
        ),
        multer::Error::IncompleteFieldData { field_name } => format!(
            "{invalid}: the body ends inside part {}",
            field_name.as_deref().unwrap_or("?")
        ),
        multer::Error::IncompleteHeaders | multer::Error::ReadHeaderFailed(_) => format!(
            "{invalid}: the headers of a part could not be read ({}); a part has at most 32 headers",
            e.source()
                .map_or_else(|| e.to_string(), ToString::to_string)
        ),
        multer::Error::DecodeHeaderName { .. } | multer::Error::DecodeHeaderValue { .. } => {
            format!(
                "{invalid}: a part's header holds a byte no header may (a control character such as NUL)"
            )
        }
        other => format!("{invalid}: {other}"),
    }
}

/// What is wrong with a part before its content is read: headers over [`MAX_PART_HEADERS`], a
/// name or filename that is not UTF-8 (the parser reports those as absent), a part that is
/// itself multipart. `number` counts parts from 1.
fn check_part(field: &multer::Field<'_>, number: usize) -> Result<(), FormError> {
    let size: usize = field
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_PART_HEADERS {
        return Err(FormError::Invalid(format!(
            "the headers of form part {number} take {size} bytes; a part's headers may take at most {MAX_PART_HEADERS}"
        )));
    }
    let disposition = field
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .map(|v| v.as_bytes());
    if disposition.is_some_and(|d| std::str::from_utf8(d).is_err()) {
        let what = match field.name() {
            None => format!("the name of form part {number}"),
            Some(name) => format!("the filename of form part {number} ({name})"),
        };
        return Err(FormError::Invalid(format!(
            "{what} is not valid UTF-8: its Content-Disposition header holds bytes that are not UTF-8; send names and filenames as UTF-8"
        )));
    }
    if let Some(kind) = field.content_type()
        && kind.type_().as_str().eq_ignore_ascii_case("multipart")
    {
        let name = field.name().unwrap_or("?");
        return Err(FormError::Invalid(format!(
            "form part {number} ({name}) is itself {}: nested multipart is not supported (RFC 7578 deprecates it); send each field as a part of its own",
            kind.essence_str()
        )));
    }
    Ok(())
}

/// Reads what follows the closing boundary (an epilogue, usually nothing) to the body's end:
/// a body that stops short of its `Content-Length`, or a chunked body that never ends, is not a
/// whole request, even when the form inside it is.
async fn rest_of_body(
    body: &mut BodyDataStream,
    meter: &Meter,
    limit: u64,
) -> Result<(), FormError> {
    while let Some(piece) = body.next().await {
        match piece {
            Ok(chunk) => {
                let len = chunk.len() as u64;
                if meter.total.fetch_add(len, Ordering::Relaxed) + len > limit {
                    return Err(FormError::TooLarge);
                }
            }
            Err(e) => {
                return Err(match BodyStalled::find(&e) {
                    Some(stalled) => FormError::Stalled(stalled.to_string()),
                    None => FormError::Invalid(format!(
                        "reading the request body failed after the closing boundary: {}",
                        with_causes(&e)
                    )),
                });
            }
        }
    }
    Ok(())
}

/// A text part's bytes: the one chunk it came in (the usual case, no copy), or a copy.
enum Text {
    Borrowed(Bytes),
    Owned(BytesMut),
}

/// Reads a text part, keeping at most [`MAX_TEXT_BYTES`]; true when there was more.
async fn read_text(
    field: &mut multer::Field<'_>,
    meter: &Meter,
) -> Result<(Text, bool), multer::Error> {
    let mut text: Option<Text> = None;
    let mut overflow = false;
    while let Some(chunk) = field.chunk().await? {
        meter.undrained.store(0, Ordering::Relaxed);
        text = Some(match text {
            None if chunk.len() <= MAX_TEXT_BYTES => Text::Borrowed(chunk),
            None => {
                overflow = true;
                Text::Borrowed(chunk.slice(..MAX_TEXT_BYTES))
            }
            Some(Text::Borrowed(first)) => {
                let mut owned = BytesMut::with_capacity(first.len() + chunk.len());
                owned.extend_from_slice(&first);
                append(&mut owned, &chunk, &mut overflow);
                Text::Owned(owned)
            }
            Some(Text::Owned(mut owned)) => {
                append(&mut owned, &chunk, &mut overflow);
                Text::Owned(owned)
            }
        });
    }
    Ok((text.unwrap_or(Text::Borrowed(Bytes::new())), overflow))
}

fn append(owned: &mut BytesMut, chunk: &[u8], overflow: &mut bool) {
    let room = MAX_TEXT_BYTES.saturating_sub(owned.len());
    if chunk.len() > room {
        *overflow = true;
    }
    owned.extend_from_slice(&chunk[..room.min(chunk.len())]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::uploads::MAX_MEMORY_BYTES;

    /// `len` bytes through a sink, in chunks of 16 KiB (what hyper and multer give), and what
    /// came out.
    async fn sink_through(store: &Arc<UploadStore>, len: usize) -> (Option<Incoming>, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut sink = UploadSink::new(store);
        for chunk in bytes.chunks(16 << 10) {
            assert!(sink.write(&Bytes::copy_from_slice(chunk)).await);
        }
        (sink.finish().await, bytes)
    }

    #[tokio::test]
    async fn a_small_upload_stays_in_memory() {
        let store = Arc::new(UploadStore::default());
        for len in [0, 2 << 10, MEMORY_UPLOAD_BYTES as usize] {
            let (incoming, bytes) = sink_through(&store, len).await;
            let incoming = incoming.unwrap_or_else(|| panic!("{len} bytes were not kept"));
            assert!(incoming.in_memory(), "{len} bytes");
            assert_eq!(incoming.read_back(), bytes);
            assert_eq!(store.memory_used(), len as u64);
        }
        assert_eq!(store.memory_used(), 0, "each was freed when dropped");
    }

    /// Past the threshold, the upload is written out, what was gathered first included, and it
    /// holds no memory any more.
    #[tokio::test]
    async fn an_upload_crossing_the_threshold_ends_on_disk_whole() {
        let store = Arc::new(UploadStore::default());
        // Past the threshold, and then two batches more.
        let len = MEMORY_UPLOAD_BYTES as usize + 2 * WRITE_BATCH + 1;
        let (incoming, bytes) = sink_through(&store, len).await;
        let incoming = incoming.expect("not kept");
        assert!(!incoming.in_memory());
        assert_eq!(incoming.read_back(), bytes);
        assert_eq!(store.memory_used(), 0);
        // Written in batches to the store's segment, and gone once let go.
        let files = incoming.files();
        assert!(files.len() > 1, "{files:?}");
        assert!(files.iter().all(|f| f.exists()));
        drop(incoming);
        store.clear();
        store.settle();
        assert!(files.iter().all(|f| !f.exists()));
    }

    /// When the uploads in memory fill their bound, even a small one goes to a file.
    #[tokio::test]
    async fn a_full_memory_sends_small_uploads_to_disk() {
        let store = Arc::new(UploadStore::default());
        let mut others = store.reservation();
        assert!(others.grow(MAX_MEMORY_BYTES - 1000));
        let (incoming, bytes) = sink_through(&store, 2 << 10).await;
        let incoming = incoming.expect("not kept");
        assert!(!incoming.in_memory());
        assert_eq!(incoming.read_back(), bytes);
        // Written into the store's shared segment, not a file of its own.
        let files = incoming.files();
        assert!(
            files.len() == 1
                && (files.iter()).all(|f| f
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("segment-"))),
            "{files:?}"
        );
        assert_eq!(store.memory_used(), MAX_MEMORY_BYTES - 1000);
        drop(others);
        let (incoming, _) = sink_through(&store, 2 << 10).await;
        assert!(incoming.is_some_and(|i| i.in_memory()), "room again");
    }

    /// A small upload that goes to disk because memory is full is probed as it is written (one
    /// hand-off to the blocking pool for both); one written in several batches is probed when
    /// asked, from disk. Either way the probe finds what a probe of the kept bytes finds.
    #[tokio::test]
    async fn an_upload_written_in_one_call_is_probed_in_that_call() {
        let store = Arc::new(UploadStore::default());
        let mut others = store.reservation();
        assert!(others.grow(MAX_MEMORY_BYTES));
        let tone: Vec<f32> = (0..44_100).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        let song = crate::domain::audio::mp3(&[tone.clone(), tone], 44_100)
            .expect("the MP3 encoder failed");
        // The bytes, whether they are written in one call, whether they are audio.
        for (bytes, whole, audio) in [
            (song, true, true),
            (vec![7u8; 2 << 10], true, false),
            (vec![7u8; 2 * WRITE_BATCH + 1], false, false),
        ] {
            let mut sink = UploadSink::new(&store);
            for chunk in bytes.chunks(16 << 10) {
                assert!(sink.write(&Bytes::copy_from_slice(chunk)).await);
            }
            let mut incoming = sink.finish().await.expect("not kept");
            assert!(!incoming.in_memory());
            assert_eq!(incoming.read_back(), bytes);
            assert_eq!(incoming.probed_as_written(), whole, "{} bytes", bytes.len());
            let again = crate::domain::audio::probe_upload_async(incoming.source().clone()).await;
            assert_eq!(again.is_ok(), audio, "{} bytes: {again:?}", bytes.len());
            assert_eq!(incoming.probe().await, again, "{} bytes", bytes.len());
        }
        drop(others);
    }

    /// A write that fails part-way (the disk bound reached at its second batch) fails the sink:
    /// what was written is let go, and nothing is kept.
    #[tokio::test]
    async fn a_write_failing_part_way_keeps_nothing() {
        use crate::domain::uploads::MAX_STORED_BYTES;
        let store = Arc::new(UploadStore::default());
        let mut sink = UploadSink::new(&store);
        let chunk = Bytes::from(vec![5u8; 16 << 10]);
        // Past what one upload may hold in memory: the first batch is written out.
        while sink.written.is_empty() {
            assert!(sink.write(&chunk).await);
        }
        let written = store.on_disk_bytes();
        assert!(written > MEMORY_UPLOAD_BYTES);
        let room = i64::try_from(MAX_STORED_BYTES - written).unwrap_or(i64::MAX);
        store.count_on_disk(room);
        let mut took = true;
        for _ in 0..=WRITE_BATCH / chunk.len() {
            took &= sink.write(&chunk).await;
        }
        assert!(!took, "the second batch did not fit");
        assert!(sink.written.is_empty(), "what was written is let go");
        assert!(sink.finish().await.is_none());
        store.count_on_disk(-room);
        store.clear();
        store.settle();
        assert_eq!(store.on_disk_bytes(), 0, "the first batch's segment went");
    }

    /// What keeping an upload costs, in memory and on disk (appended to the store's segment from
    /// the blocking pool, let go), per size: the numbers [`MEMORY_UPLOAD_BYTES`] rests on. Run in
    /// release:
    /// `cargo test --release -p musicgpt-cover-mock --lib upload_cost_report -- --ignored --nocapture`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    #[ignore = "a timing report (meaningful in release only); it checks where each upload is kept"]
    async fn upload_cost_report() {
        let store = Arc::new(UploadStore::default());
        println!("bytes      memory µs   disk µs (wall, per upload, from receipt to freed)");
        for len in [2usize << 10, 64 << 10, 1 << 20] {
            let rounds = if len > 100_000 { 100 } else { 1000 };
            let mut each = [0.0f64; 2];
            for (i, to_disk) in [false, true].into_iter().enumerate() {
                let mut others = store.reservation();
                if to_disk {
                    assert!(others.grow(MAX_MEMORY_BYTES));
                }
                let started = std::time::Instant::now();
                for _ in 0..rounds {
                    let (incoming, _) = sink_through(&store, len).await;
                    assert_eq!(incoming.map(|i| i.in_memory()), Some(!to_disk));
                }
                each[i] = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
            }
            println!("{len:>8} {:>12.1} {:>9.1}", each[0], each[1]);
        }
    }
}
