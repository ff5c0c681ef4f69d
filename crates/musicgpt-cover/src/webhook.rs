//! The completion webhook: parse either documented payload shape into the generated
//! `types::CoverWebhook`, and read the result URLs whatever names they came under.

use crate::types;

impl types::CoverWebhook {
    /// Parses a webhook body (the raw bytes of the POST, or a `&str`). Both documented shapes
    /// (the reference page's `audio_url`/`audio_url_wav`/`conversion_cost`, and the current
    /// documentation's `conversion_path`/`message`) are accepted, and unknown fields ignored.
    ///
    /// # Errors
    ///
    /// The JSON error, which names the missing or mistyped field.
    pub fn parse(payload: impl AsRef<[u8]>) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(payload.as_ref())
    }
}

/// The result URLs and cost, read the same way from the webhook and from a byId conversion: both
/// carry either documented set of names.
macro_rules! result_accessors {
    ($ty:ty) => {
        impl $ty {
            /// The MP3 of the finished cover: `audio_url`, else `conversion_path`.
            pub fn mp3_url(&self) -> Option<&str> {
                self.audio_url
                    .as_deref()
                    .or(self.conversion_path.as_deref())
            }

            /// The WAV of the finished cover: `audio_url_wav`, else `conversion_path_wav`.
            pub fn wav_url(&self) -> Option<&str> {
                self.audio_url_wav
                    .as_deref()
                    .or(self.conversion_path_wav.as_deref())
            }

            /// The credits charged, whether sent as a string or a number.
            pub fn cost(&self) -> Option<f64> {
                self.conversion_cost.as_ref().and_then(types::Cost::as_f64)
            }
        }
    };
}

result_accessors!(types::CoverWebhook);
result_accessors!(types::Conversion);

impl types::Cost {
    /// The amount as a number (`"0.88"` and `0.88` alike).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(amount) => Some(*amount),
            Self::String(amount) => amount.parse().ok(),
        }
    }
}
