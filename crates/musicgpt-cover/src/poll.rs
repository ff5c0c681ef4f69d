//! Waiting for a conversion: poll `GET /v1/byId` with bounded exponential backoff until the
//! status is final (the spec's `x-final-values`) or a deadline passes, riding out the failures
//! that may pass (transport errors, request timeouts, 429, 5xx) and honouring `Retry-After`.
//!
//! A poll is a GET that changes nothing, so sending it again is always harmless; a Cover is not
//! (see the crate's "Retries and faults").

use std::time::Duration;

use tokio::time::Instant;

use crate::{ApiError, COVER_CONVERSION_TYPE, Client, types};

/// Which conversion to look up: `GET /v1/byId` takes one of the two ids a Cover call returns.
///
/// The ids are plain strings, as the API's schema says: its documentation's own placeholder ids
/// are not UUIDs, so the client takes any text (the mock issues UUIDs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConversionRef {
    /// The `task_id` of the Cover response.
    TaskId(String),
    /// The `conversion_id` of the Cover response.
    ConversionId(String),
}

impl From<&types::CoverResponse> for ConversionRef {
    /// By its `task_id`, which every Cover answer carries (`conversion_id` may be missing).
    fn from(response: &types::CoverResponse) -> Self {
        Self::TaskId(response.task_id.clone())
    }
}

/// How [`Client::wait_for_conversion`] polls: the first poll at once, then a delay that starts
/// at `initial_delay` and is multiplied by `multiplier` after each poll, up to `max_delay`,
/// until `timeout` has passed. A `Retry-After` longer than the delay (up to `max_retry_after`)
/// is waited instead; each poll may take at most `request_timeout`.
///
/// Build one with `..PollOptions::default()` for the fields you leave alone: more may come.
#[derive(Debug, Clone, PartialEq)]
pub struct PollOptions {
    /// The delay after the first poll.
    pub initial_delay: Duration,
    /// The longest delay between two polls.
    pub max_delay: Duration,
    /// The growth of the delay from one poll to the next (values below 1 count as 1).
    pub multiplier: f64,
    /// How long to keep polling before [`ApiError::Timeout`].
    pub timeout: Duration,
    /// The longest one poll may take, from sending the request to the last byte of the answer;
    /// a poll that takes longer is given up ([`ApiError::RequestTimeout`]) and retried, so a
    /// stalled or dribbling answer cannot eat the whole wait. A poll is also given no more than
    /// the time left before `timeout` (but at least a second, or `request_timeout` if shorter).
    pub request_timeout: Duration,
    /// The longest `Retry-After` honoured: a longer one (a misconfigured server's hours) is
    /// taken as this long.
    pub max_retry_after: Duration,
}

impl Default for PollOptions {
    /// 2 s, doubling up to 30 s, for 20 minutes: well inside the lowest plan's 20 status checks
    /// a minute, and longer than a long song's conversion. 30 s per request (an answer is a
    /// small JSON object that normally comes in well under a second), `Retry-After` honoured up
    /// to 5 minutes.
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            timeout: Duration::from_secs(20 * 60),
            request_timeout: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(5 * 60),
        }
    }
}

/// The least time a poll is given when the deadline is nearer than that (the last poll, at the
/// deadline, would otherwise be given none).
const LAST_POLL_BUDGET: Duration = Duration::from_secs(1);

impl PollOptions {
    fn next_delay(&self, delay: Duration) -> Duration {
        delay.mul_f64(self.multiplier.max(1.0)).min(self.max_delay)
    }

    /// How long a poll sent `remaining` before the deadline may take.
    fn request_budget(&self, remaining: Duration) -> Duration {
        self.request_timeout.min(remaining.max(LAST_POLL_BUDGET))
    }
}

impl Client {
    /// One look at a Cover conversion (`GET /v1/byId` with `conversionType` =
    /// [`COVER_CONVERSION_TYPE`]).
    ///
    /// # Errors
    ///
    /// The [`ApiError`] of the call.
    pub async fn get_cover_conversion(
        &self,
        conversion: ConversionRef,
    ) -> Result<types::Conversion, ApiError> {
        let request = self
            .get_conversion_by_id()
            .conversion_type(COVER_CONVERSION_TYPE);
        let request = match conversion {
            ConversionRef::TaskId(id) => request.task_id(id),
            ConversionRef::ConversionId(id) => request.conversion_id(id),
        };
        Ok(request.send().await?.into_inner().conversion)
    }

    /// Polls a Cover conversion until its status is final and returns it as last seen.
    ///
    /// A final status is one of `ConversionStatus::FINAL_VALUES` (from the spec); whether it is
    /// a success is for the caller to check (`conversion.status.is_completed()`). A status the
    /// spec does not know keeps the polling going.
    ///
    /// Failures that may pass ([`ApiError::is_retryable`]: a connection refused, reset or
    /// closed, an answer cut short, a poll over `options.request_timeout`, 429, 5xx) are
    /// retried on the same backoff within the deadline; a `Retry-After` (seconds or an
    /// HTTP-date, capped at `options.max_retry_after`) makes the next poll wait at least that
    /// long. Any other error (401, 403, 404, 400...) ends the wait at once: polling again
    /// would get the same answer.
    ///
    /// # Errors
    ///
    /// [`ApiError::Timeout`] when `options.timeout` passes first (or a `Retry-After` puts the
    /// next poll past it), with the last status seen, the number of requests and the last
    /// retried error; or the first error that is not retryable.
    pub async fn wait_for_conversion(
        &self,
        conversion: impl Into<ConversionRef>,
        options: &PollOptions,
    ) -> Result<types::Conversion, ApiError> {
        let conversion = conversion.into();
        let started = Instant::now();
        let deadline = started + options.timeout;
        let mut delay = options.initial_delay;
        let mut last_status = None;
        let mut last_error = None;
        let mut attempts: u32 = 0;
        loop {
            let budget = options.request_budget(deadline.saturating_duration_since(Instant::now()));
            attempts = attempts.saturating_add(1);
            // The server's `Retry-After`, if this poll got one.
            let mut asked_wait = None;
            match tokio::time::timeout(budget, self.get_cover_conversion(conversion.clone())).await
            {
                Ok(Ok(seen)) if seen.status.is_final() => return Ok(seen),
                Ok(Ok(seen)) => last_status = Some(seen.status),
                Ok(Err(error)) if error.is_retryable() => {
                    asked_wait = error
                        .retry_after()
                        .map(|wait| wait.min(options.max_retry_after));
                    last_error = Some(Box::new(error));
                }
                Ok(Err(error)) => return Err(error),
                Err(_elapsed) => last_error = Some(Box::new(ApiError::RequestTimeout(budget))),
            }
            let now = Instant::now();
            let remaining = deadline.saturating_duration_since(now);
            // At the deadline, or told to come back only after it: polling again is pointless.
            if remaining.is_zero() || asked_wait.is_some_and(|wait| wait > remaining) {
                return Err(ApiError::Timeout {
                    waited: now - started,
                    last_status,
                    attempts,
                    last_error,
                });
            }
            let pause = asked_wait.map_or(delay, |wait| wait.max(delay));
            // The last sleep is cut short so that one poll happens right at the deadline.
            tokio::time::sleep(pause.min(remaining)).await;
            delay = options.next_delay(delay);
        }
    }
}
