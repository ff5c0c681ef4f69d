//! Request bodies that stall: a body must not pause longer than the body timeout, and once that
//! long has passed it must average at least the minimum rate, so a client sending a byte a second
//! cannot hold a connection (and a handler) for long. A body that breaks either rule ends with a
//! [`BodyStalled`] error; the handler answers 408.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// How a body may pace itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    /// The longest pause, and the grace before `min_rate` applies.
    pub(crate) timeout: Duration,
    /// Bytes a second, on average, after the grace.
    pub(crate) min_rate: u64,
}

/// Why a request body was cut off.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the request body stalled: {received} bytes in {elapsed:.1?}, with no more than {timeout:?} between two pieces and at least {min_rate} bytes a second after the first {timeout:?} (--body-timeout, --min-body-rate)"
)]
pub(crate) struct BodyStalled {
    received: u64,
    elapsed: Duration,
    timeout: Duration,
    min_rate: u64,
}

impl BodyStalled {
    /// The stall behind an error a body reader returned, if that is what it was.
    pub(crate) fn find<'e>(
        error: &'e (dyn std::error::Error + 'static),
    ) -> Option<&'e BodyStalled> {
        std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref())
    }
}

/// A request body held to a [`Pace`].
pub(crate) struct PacedBody {
    inner: Body,
    pace: Pace,
    started: Instant,
    received: u64,
    deadline: Pin<Box<Sleep>>,
}

impl PacedBody {
    pub(crate) fn new(inner: Body, pace: Pace) -> PacedBody {
        let started = Instant::now();
        PacedBody {
            inner,
            pace,
            started,
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(started + pace.timeout)),
        }
    }

    /// The earlier of: the pause allowed from now, and when the average would fall below the
    /// minimum rate.
    fn next_deadline(&self, now: Instant) -> Instant {
        let pause = now + self.pace.timeout;
        if self.pace.min_rate == 0 {
            return pause;
        }
        let earned = Duration::from_secs_f64(self.received as f64 / self.pace.min_rate as f64);
        pause.min(self.started + self.pace.timeout + earned)
    }
}

impl http_body::Body for PacedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.received += data.len() as u64;
                }
                let next = self.next_deadline(Instant::now());
                self.deadline.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyStalled {
                    received: self.received,
                    elapsed: self.started.elapsed(),
                    timeout: self.pace.timeout,
                    min_rate: self.pace.min_rate,
                })))),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    // Real time, scaled down: a 200 ms pause allowed, 2,000 bytes a second after it. (Paused
    // time would need tokio's test-util, which `cargo bench` would then build into the release
    // dependencies a second time.)
    fn pace() -> Pace {
        Pace {
            timeout: Duration::from_millis(200),
            min_rate: 2_000,
        }
    }

    /// A body held to [`pace`], read as a stream, and the sender of its pieces.
    fn paced() -> (
        tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
        axum::body::BodyDataStream,
    ) {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let body = Body::from_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
        (
            tx,
            Body::new(PacedBody::new(body, pace())).into_data_stream(),
        )
    }

    #[tokio::test]
    async fn a_body_that_pauses_too_long_is_cut_off() {
        let (tx, mut stream) = paced();
        assert!(tx.send(Ok(Bytes::from_static(b"abc"))).await.is_ok());
        assert_eq!(
            stream.next().await.and_then(Result::ok).as_deref(),
            Some(&b"abc"[..])
        );
        // Nothing more for longer than the timeout.
        let next = stream.next().await;
        let Some(Err(e)) = next else {
            panic!("{next:?}")
        };
        assert!(BodyStalled::find(&e).is_some(), "{e}");
        drop(tx);
    }

    #[tokio::test]
    async fn a_trickle_is_cut_off_after_the_grace() {
        let (tx, mut stream) = paced();
        let started = Instant::now();
        let sender = tokio::spawn(async move {
            // 50 bytes a second, never pausing past the timeout, for up to 3 s.
            for _ in 0..150 {
                if tx.send(Ok(Bytes::from_static(b"x"))).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let mut got = 0;
        let error = loop {
            match stream.next().await {
                Some(Ok(bytes)) => got += bytes.len(),
                Some(Err(e)) => break e,
                None => panic!("the body ended"),
            }
        };
        assert!(BodyStalled::find(&error).is_some(), "{error}");
        // About the grace plus what the bytes earned at 2,000 a second: about 0.2 s, not 3 s.
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(1500),
            "{elapsed:?} after {got} bytes"
        );
        sender.abort();
    }

    #[tokio::test]
    async fn a_steady_body_passes() {
        let (tx, mut stream) = paced();
        let sender = tokio::spawn(async move {
            // 1 KiB every 20 ms (50 KiB a second) for 0.6 s: above the minimum rate, never
            // pausing for long.
            for _ in 0..30 {
                if tx.send(Ok(Bytes::from(vec![0u8; 1024]))).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let mut got = 0;
        while let Some(piece) = stream.next().await {
            got += piece.unwrap_or_else(|e| panic!("{e}")).len();
        }
        assert_eq!(got, 30 * 1024);
        assert!(sender.await.is_ok());
    }
}
