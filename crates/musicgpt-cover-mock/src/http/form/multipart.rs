//! Streaming multipart reading of the Cover form, checked field by field against the spec.
//!
//! File parts are counted as they stream by and never kept. Text parts are kept up to
//! [`MAX_TEXT_BYTES`]. The body stream is metered so hostile input cannot make the parser buffer
//! without bound: no more than [`MAX_UNDRAINED`] bytes may pass while the parser looks for a part
//! boundary or the end of a part's headers, and each read yields after [`BURST`] bytes so a fast
//! sender cannot pile data up between two reads.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream};
use bytes::{Bytes, BytesMut};
use futures::Stream;

use super::fields::{FORM_OVERHEAD, FormError, MAX_PARTS, MAX_TEXT_BYTES, text_value};
use crate::domain::journal::FormLog;
use crate::http::stall::BodyStalled;
use crate::spec::{FormSpec, Value, ValueKind};

/// Most bytes that may pass while no part data is being read (boundaries, part headers).
pub(crate) const MAX_UNDRAINED: u64 = 1 << 20;
/// Bytes handed to the parser per read before it must come back.
const BURST: u64 = 256 * 1024;
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

/// The body stream with its bytes counted.
struct Metered<'m> {
    inner: BodyDataStream,
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
        match Pin::new(&mut self.inner).poll_next(cx) {
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
/// the form is rejected.
pub(crate) async fn read(
    spec: &FormSpec,
    body: Body,
    boundary: String,
    max_upload: u64,
    record: &mut FormLog,
) -> Result<Vec<Option<Value>>, FormError> {
    let meter = Meter::default();
    let stream = Metered {
        inner: body.into_data_stream(),
        meter: &meter,
        limit: max_upload.saturating_add(FORM_OVERHEAD),
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
            FormError::Invalid(format!("the body is not valid multipart/form-data: {e}"))
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
        let Some(name) = field.name() else {
            return Err(FormError::Invalid(
                "a form part has no name in its Content-Disposition header".to_owned(),
            ));
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
            // Counted, never kept.
            let filename = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(ToString::to_string);
            let slot = record.file_part(name, filename.as_deref(), content_type.as_deref());
            let mut size = 0u64;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        meter.undrained.store(0, Ordering::Relaxed);
                        size += chunk.len() as u64;
                        if size > max_upload {
                            record.file_size(slot, size);
                            return Err(FormError::TooLarge);
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
        let lossy = String::from_utf8_lossy(bytes);
        let text: &str = &lossy;
        record.text_field(field_name, text, overflow);
        let Some((i, rule)) = index.zip(rule) else {
            // Fields the spec does not name are ignored, as FastAPI does.
            continue;
        };
        values[i] = Some(text_value(rule, text, overflow)?);
    }

    spec.required_given(&values).map_err(FormError::Invalid)?;
    Ok(values)
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
