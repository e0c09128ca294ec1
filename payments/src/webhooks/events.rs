//! What a webhook says: its type and its JSON body. Which event a committed change produces is
//! the ledger's decision (`ledger::webhook_event`); this only words it.
use crate::ids;
use crate::model::Payment;
use crate::status::string_enum;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

string_enum!(
    /// The events a shop hears about: `order.paid` (an order became paid, by this payment);
    /// `payment.paid_late` (money arrived that did not pay the order: it was paid by another
    /// payment already, or closed; to be refunded); `payment.expired` (the deadline passed
    /// unpaid; the order stays payable with a new payment); `payment.failed` (the provider
    /// reports it failed, e.g. declined).
    WebhookEventType {
        OrderPaid = "order.paid",
        PaymentPaidLate = "payment.paid_late",
        PaymentExpired = "payment.expired",
        PaymentFailed = "payment.failed",
    }
);

/// One event as the outbox keeps it: `payload` is the exact body every attempt sends and signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebhookEvent {
    pub id: String,
    pub event_type: WebhookEventType,
    pub order_id: String,
    pub payment_id: String,
    pub payload: String,
    pub created_at_ms: i64,
}

impl WebhookEvent {
    /// The event about `payment` as committed, for the order the shop knows as `reference`.
    /// Amounts in fen; times in RFC 3339 (UTC).
    pub fn new(
        event_type: WebhookEventType,
        payment: &Payment,
        reference: Option<String>,
        now_ms: i64,
    ) -> Self {
        let payload = json!({
            "type": event_type,
            "timestamp": rfc3339(now_ms),
            "data": {
                "orderId": payment.order_id,
                "reference": reference,
                "paymentId": payment.id,
                "method": payment.method,
                "status": payment.status,
                "amountFen": payment.amount_fen,
                "providerTransactionId": payment.provider_transaction_id,
                "paidAt": payment.paid_at_ms.map(rfc3339),
                "paidLate": payment.paid_late,
                "needsRefund": payment.needs_refund,
                "failureReason": payment.failure_reason,
                "failure": payment.failure(),
            },
        });
        Self {
            id: ids::new_webhook_event_id(),
            event_type,
            order_id: payment.order_id.clone(),
            payment_id: payment.id.clone(),
            payload: payload.to_string(),
            created_at_ms: now_ms,
        }
    }
}

/// `2024-05-01T08:30:00.123Z`.
fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{PaymentMethod, PaymentStatus};
    use serde_json::Value;

    #[test]
    fn the_payload_carries_the_order_the_money_and_the_provider_transaction() {
        let payment = Payment {
            id: "pay_AAAAAAAAAAAAAAAAAAAAAA".into(),
            order_id: "ord_BBBBBBBBBBBBBBBBBBBBBB".into(),
            amount_fen: 1299,
            status: PaymentStatus::Paid,
            method: PaymentMethod::Alipay,
            created_at_ms: 0,
            expires_at_ms: 0,
            paid_at_ms: Some(1_714_552_200_123),
            provider_transaction_id: Some("2024050122001".into()),
            code_url: "https://qr.example/x".into(),
            paid_late: false,
            needs_refund: false,
            failure_reason: None,
        };
        let event = WebhookEvent::new(
            WebhookEventType::OrderPaid,
            &payment,
            Some("shop-42".into()),
            1_714_552_201_000,
        );
        assert!(
            event.id.starts_with(ids::WEBHOOK_EVENT_PREFIX) && event.id.len() == 26,
            "{}",
            event.id
        );
        let body: Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(body["type"], "order.paid");
        assert_eq!(body["timestamp"], "2024-05-01T08:30:01.000Z");
        let data = &body["data"];
        assert_eq!(data["orderId"], "ord_BBBBBBBBBBBBBBBBBBBBBB");
        assert_eq!(data["reference"], "shop-42");
        assert_eq!(data["paymentId"], "pay_AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(data["method"], "alipay");
        assert_eq!(data["amountFen"], 1299);
        assert_eq!(data["providerTransactionId"], "2024050122001");
        assert_eq!(data["paidAt"], "2024-05-01T08:30:00.123Z");
        assert_eq!(data["needsRefund"], false);
        assert!(!event.payload.contains("qr.example"), "no code URL");

        let unpaid = Payment {
            status: PaymentStatus::Expired,
            paid_at_ms: None,
            provider_transaction_id: None,
            ..payment
        };
        let event = WebhookEvent::new(WebhookEventType::PaymentExpired, &unpaid, None, 0);
        let body: Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(body["type"], "payment.expired");
        assert!(body["data"]["reference"].is_null() && body["data"]["paidAt"].is_null());
    }
}

/// Which event each transition of the state machine produces: the ledger's decision
/// ([`crate::ledger::webhook_event`]), over every status and event.
#[cfg(test)]
mod decided_by_the_ledger {
    use super::WebhookEventType;
    use crate::ledger::webhook_event;
    use crate::machine::{decide, Decision, PaymentEvent, Snapshot};
    use crate::status::{OrderStatus, PaymentStatus};

    /// The event of each transition the machine can make, as the ledger commits it.
    fn event_of(
        status: PaymentStatus,
        order: OrderStatus,
        event: &PaymentEvent,
    ) -> Option<WebhookEventType> {
        let snapshot = Snapshot {
            status,
            expires_at_ms: 1_000,
            order_status: order,
        };
        match decide(snapshot, event) {
            Decision::Ignore { .. } => None,
            // The order is paid by the transition that pays it (mark_order_paid on a locked,
            // pending order).
            Decision::Transition(t) => webhook_event(t.to, t.pays_order),
        }
    }

    fn paid_at(ms: i64) -> PaymentEvent {
        PaymentEvent::ProviderPaid {
            transaction_id: "4200".into(),
            paid_at_ms: ms,
        }
    }

    #[test]
    fn money_that_pays_the_order_is_order_paid_even_after_the_deadline() {
        use PaymentStatus as S;
        for (from, at) in [
            (S::Pending, 500),
            (S::Pending, 5_000),
            (S::Expired, 5_000),
            (S::Failed, 1),
        ] {
            assert_eq!(
                event_of(from, OrderStatus::Pending, &paid_at(at)),
                Some(WebhookEventType::OrderPaid),
                "{from:?} at {at}"
            );
        }
    }

    #[test]
    fn money_for_an_order_already_paid_is_paid_late_to_refund() {
        use PaymentStatus as S;
        for from in [S::Pending, S::Closed, S::Expired, S::Failed] {
            assert_eq!(
                event_of(from, OrderStatus::Paid, &paid_at(1)),
                Some(WebhookEventType::PaymentPaidLate),
                "{from:?}"
            );
        }
    }

    #[test]
    fn expiry_and_failure_are_told_and_closes_and_duplicates_are_not() {
        use PaymentStatus as S;
        let pending = OrderStatus::Pending;
        assert_eq!(
            event_of(S::Pending, pending, &PaymentEvent::Expire),
            Some(WebhookEventType::PaymentExpired)
        );
        let declined = PaymentEvent::ProviderFailed { reason: None };
        assert_eq!(
            event_of(S::Pending, pending, &declined),
            Some(WebhookEventType::PaymentFailed)
        );
        let close = PaymentEvent::Close {
            reason: "superseded".into(),
        };
        assert_eq!(event_of(S::Pending, pending, &close), None);
        assert_eq!(
            event_of(S::Paid, OrderStatus::Paid, &paid_at(1)),
            None,
            "duplicate"
        );
        for terminal in [S::Paid, S::Failed, S::Expired, S::Closed] {
            for event in [&PaymentEvent::Expire, &declined, &close] {
                assert_eq!(
                    event_of(terminal, pending, event),
                    None,
                    "{terminal:?} {event:?}"
                );
            }
        }
    }
}
