//! Webhooks: which targets are allowed (`policy`), the record of every delivery (`records`),
//! and the sender with its queue and retries (`sender`).

mod policy;
mod records;
mod sender;

pub(crate) use policy::check_target;
pub(crate) use records::WebhookLog;
pub use records::{DeliveryState, WebhookAttempt, WebhookDelivery};
pub use sender::CONCURRENCY;
pub(crate) use sender::{Delivery, Posted, SenderShared, Transport, run_sender};
