//! The event log's lines: who changed what, from which status to which, and why.
use crate::machine::PaymentEvent;
use crate::model::PaymentEventRecord;
use crate::status::{EventSource, PaymentStatus};

/// The one builder of event-log lines: when, who, the status before and after (`None` after:
/// nothing changed), and what happened.
pub(super) fn line(
    at_ms: i64,
    source: EventSource,
    old_status: Option<PaymentStatus>,
    new_status: Option<PaymentStatus>,
    detail: String,
) -> PaymentEventRecord {
    PaymentEventRecord {
        at_ms,
        source,
        old_status,
        new_status,
        detail,
    }
}

pub(super) fn describe_event(event: &PaymentEvent) -> String {
    match event {
        PaymentEvent::ProviderPaid { transaction_id, .. } => {
            format!("provider SUCCESS, transaction {transaction_id}")
        }
        PaymentEvent::ProviderFailed { reason } => match reason {
            Some(reason) => format!("provider PAYERROR: {reason}"),
            None => "provider PAYERROR".to_string(),
        },
        PaymentEvent::Expire => "deadline passed, closed at provider".to_string(),
        PaymentEvent::Close { reason } => format!("closed: {reason}"),
    }
}
