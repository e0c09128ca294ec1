//! The payment state machine: every status change of a payment is decided here, and only here.
//! Pure: the store loads the payment and its order under a lock, asks [`decide`], and writes the
//! answer in the same transaction.
use crate::status::{OrderStatus, PaymentStatus};

/// Something that happened to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    /// The provider reports the money received.
    ProviderPaid {
        transaction_id: String,
        paid_at_ms: i64,
    },
    /// The provider reports the payment failed (declined, PAYERROR), with its reason if it
    /// gave one (the page words a missing one itself).
    ProviderFailed { reason: Option<String> },
    /// The deadline passed and the provider confirmed the trade closed.
    Expire,
    /// Superseded: a newer payment was created for the order, or another payment paid it.
    Close { reason: String },
}

/// What the payment and its order look like before the event, read under the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub status: PaymentStatus,
    pub expires_at_ms: i64,
    pub order_status: OrderStatus,
}

/// The outcome of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing changes (a duplicate, or an event a terminal state ignores); `why` goes to the log.
    Ignore {
        why: &'static str,
    },
    Transition(Transition),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub to: PaymentStatus,
    /// Money arrived after the deadline (or after we gave up on the payment).
    pub paid_late: bool,
    /// Money arrived but the order was already paid by another payment (or closed).
    pub needs_refund: bool,
    /// This payment is the one that pays the order.
    pub pays_order: bool,
}

impl Transition {
    fn to(status: PaymentStatus) -> Self {
        Self {
            to: status,
            paid_late: false,
            needs_refund: false,
            pays_order: false,
        }
    }
}

/// Decides what `event` does to a payment in `before`. Exhaustive over status × event.
pub fn decide(before: Snapshot, event: &PaymentEvent) -> Decision {
    use PaymentStatus as S;
    match (before.status, event) {
        (S::Paid, PaymentEvent::ProviderPaid { .. }) => Decision::Ignore {
            why: "duplicate: already paid",
        },
        // Money received wins over any earlier verdict, but is never counted twice: only an
        // order still pending is paid by it; otherwise the payment is flagged for a refund.
        (
            from @ (S::Pending | S::Failed | S::Expired | S::Closed),
            PaymentEvent::ProviderPaid { paid_at_ms, .. },
        ) => {
            let pays_order = before.order_status == OrderStatus::Pending;
            Decision::Transition(Transition {
                to: S::Paid,
                paid_late: from == S::Expired || *paid_at_ms > before.expires_at_ms,
                needs_refund: !pays_order,
                pays_order,
            })
        }
        (S::Pending, PaymentEvent::ProviderFailed { .. }) => {
            Decision::Transition(Transition::to(S::Failed))
        }
        (S::Pending, PaymentEvent::Expire) => Decision::Transition(Transition::to(S::Expired)),
        (S::Pending, PaymentEvent::Close { .. }) => Decision::Transition(Transition::to(S::Closed)),
        (
            S::Paid | S::Failed | S::Expired | S::Closed,
            PaymentEvent::ProviderFailed { .. } | PaymentEvent::Expire | PaymentEvent::Close { .. },
        ) => Decision::Ignore {
            why: "terminal state keeps its status",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEADLINE: i64 = 1_000_000;

    fn snap(status: PaymentStatus, order_status: OrderStatus) -> Snapshot {
        Snapshot {
            status,
            expires_at_ms: DEADLINE,
            order_status,
        }
    }

    fn paid_at(ms: i64) -> PaymentEvent {
        PaymentEvent::ProviderPaid {
            transaction_id: "tx".into(),
            paid_at_ms: ms,
        }
    }

    #[test]
    fn pending_paid_in_time_pays_the_order() {
        let d = decide(
            snap(PaymentStatus::Pending, OrderStatus::Pending),
            &paid_at(DEADLINE),
        );
        assert_eq!(
            d,
            Decision::Transition(Transition {
                to: PaymentStatus::Paid,
                paid_late: false,
                needs_refund: false,
                pays_order: true
            })
        );
    }

    #[test]
    fn second_payment_of_a_paid_order_needs_a_refund() {
        let d = decide(snap(PaymentStatus::Pending, OrderStatus::Paid), &paid_at(1));
        let Decision::Transition(t) = d else {
            panic!("{d:?}")
        };
        assert_eq!(
            (t.to, t.pays_order, t.needs_refund),
            (PaymentStatus::Paid, false, true)
        );
    }

    #[test]
    fn money_after_expiry_is_paid_late_and_pays_an_unpaid_order() {
        let d = decide(
            snap(PaymentStatus::Expired, OrderStatus::Pending),
            &paid_at(DEADLINE + 5),
        );
        let Decision::Transition(t) = d else {
            panic!("{d:?}")
        };
        assert!(t.paid_late && t.pays_order && !t.needs_refund);

        let d = decide(
            snap(PaymentStatus::Pending, OrderStatus::Pending),
            &paid_at(DEADLINE + 1),
        );
        let Decision::Transition(t) = d else {
            panic!("{d:?}")
        };
        assert!(t.paid_late, "pending but paid after the deadline is late");
    }

    #[test]
    fn money_for_a_closed_payment_of_a_paid_order_needs_a_refund() {
        let d = decide(snap(PaymentStatus::Closed, OrderStatus::Paid), &paid_at(1));
        let Decision::Transition(t) = d else {
            panic!("{d:?}")
        };
        assert!(t.needs_refund && !t.pays_order && !t.paid_late);
    }

    #[test]
    fn duplicates_and_late_verdicts_change_nothing() {
        assert!(matches!(
            decide(snap(PaymentStatus::Paid, OrderStatus::Paid), &paid_at(1)),
            Decision::Ignore { .. }
        ));
        let late = [
            PaymentEvent::ProviderFailed {
                reason: Some("x".into()),
            },
            PaymentEvent::Expire,
            PaymentEvent::Close { reason: "x".into() },
        ];
        for status in PaymentStatus::ALL.iter().filter(|s| s.is_terminal()) {
            for event in &late {
                assert!(
                    matches!(
                        decide(snap(*status, OrderStatus::Pending), event),
                        Decision::Ignore { .. }
                    ),
                    "{status:?} {event:?}"
                );
            }
        }
    }

    #[test]
    fn pending_moves_to_each_terminal_state() {
        let s = snap(PaymentStatus::Pending, OrderStatus::Pending);
        let target = |e: &PaymentEvent| match decide(s, e) {
            Decision::Transition(t) => t.to,
            d => panic!("{d:?}"),
        };
        assert_eq!(
            target(&PaymentEvent::ProviderFailed {
                reason: Some("d".into())
            }),
            PaymentStatus::Failed
        );
        assert_eq!(target(&PaymentEvent::Expire), PaymentStatus::Expired);
        assert_eq!(
            target(&PaymentEvent::Close { reason: "n".into() }),
            PaymentStatus::Closed
        );
    }

    #[test]
    fn no_event_ever_returns_to_pending() {
        let events = [
            paid_at(1),
            PaymentEvent::ProviderFailed {
                reason: Some("x".into()),
            },
            PaymentEvent::Expire,
            PaymentEvent::Close { reason: "x".into() },
        ];
        for status in PaymentStatus::ALL {
            for order in OrderStatus::ALL {
                for e in &events {
                    if let Decision::Transition(t) = decide(snap(*status, *order), e) {
                        assert_ne!(t.to, PaymentStatus::Pending);
                    }
                }
            }
        }
    }
}
