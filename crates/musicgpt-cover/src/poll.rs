//! Waiting for a conversion: poll `GET /v1/byId` with bounded exponential backoff until the
//! status is final (the spec's `x-final-values`) or a deadline passes.

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
/// until `timeout` has passed.
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
}

impl Default for PollOptions {
    /// 2 s, doubling up to 30 s, for 20 minutes: well inside the lowest plan's 20 status checks
    /// a minute, and longer than a long song's conversion.
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            timeout: Duration::from_secs(20 * 60),
        }
    }
}

impl PollOptions {
    fn next_delay(&self, delay: Duration) -> Duration {
        delay.mul_f64(self.multiplier.max(1.0)).min(self.max_delay)
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
    /// spec does not know keeps the polling going. Retryable failures (transport, 429, 5xx)
    /// are retried within the deadline; any other error ends the wait.
    ///
    /// # Errors
    ///
    /// [`ApiError::Timeout`] when `options.timeout` passes first, or the first error that is
    /// not retryable.
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
        loop {
            match self.get_cover_conversion(conversion.clone()).await {
                Ok(seen) if seen.status.is_final() => return Ok(seen),
                Ok(seen) => last_status = Some(seen.status),
                Err(error) if error.is_retryable() => {}
                Err(error) => return Err(error),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ApiError::Timeout {
                    waited: now - started,
                    last_status,
                });
            }
            // The last sleep is cut short so that one poll happens right at the deadline.
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = options.next_delay(delay);
        }
    }
}
