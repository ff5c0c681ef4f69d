//! Webhooks: which targets are allowed (`policy`), the record of every delivery (`records`),
//! and the sender with its queue and retries (`sender`).

mod policy;
mod records;
mod sender;

pub(crate) use policy::check_target;
pub(crate) use records::WebhookLog;
pub use records::{DeliveryState, WebhookAttempt, WebhookDelivery, WebhookTotals};
pub use sender::{CONCURRENCY, MAX_IN_FLIGHT};
pub(crate) use sender::{Delivery, Posted, Release, SenderShared, Transport, run_sender};
