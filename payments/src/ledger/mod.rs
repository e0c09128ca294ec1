//! The ledger: every committed change to orders, payments and their events goes through here.
//! Inside one transaction it locks the order, then the payment (in this order everywhere, so
//! two transactions never wait on each other), asks [`decide`], writes the rows and the event
//! lines, and announces the changed payments to other processes ([`changes::announce`]). A
//! change the shop hears about ([`webhook_event`]) is written to the webhook outbox in the same
//! transaction. It returns what changed; the caller tells this process (status cache, watchers)
//! once, after the commit, and the metrics count what committed. Provider calls never happen
//! here: a slow provider must not hold locks.
use crate::changes;
use crate::clock::now_ms;
use crate::error::{PaymentError, Result};
use crate::machine::{decide, Decision, PaymentEvent, Snapshot};
use crate::metrics::LedgerTally;
use crate::model::{Order, Payment, PaymentEventRecord};
use crate::status::{EventSource, OrderStatus, PaymentStatus};
use crate::store::{queries, Lock, Store, Which, WriteTx};
use crate::webhooks::{outbox, WebhookEndpoints, WebhookEvent, WebhookEventType};
use lines::{describe_event, line};

mod lines;
mod single;
pub(crate) use single::{claim, schedule_reconcile, Ledger};

/// What a committed ledger operation changed.
#[derive(Debug)]
pub(crate) struct Committed {
    /// The payment the operation was about, as committed.
    pub payment: Payment,
    /// Payments whose state may have changed: forget their cached states, wake their watchers.
    pub changed: Vec<String>,
    /// Payments closed here that must be closed at the provider too.
    pub to_close: Vec<String>,
    /// The notification applied had been processed before: nothing changed.
    pub duplicate: bool,
}

/// What [`Tx::apply`] did.
#[derive(Debug)]
pub(crate) struct Applied {
    /// The payment afterwards.
    pub payment: Payment,
    /// The order's other pending payments it closed (to be closed at the provider too).
    pub closed: Vec<String>,
    /// The notification's event id had been processed before: nothing changed.
    pub duplicate: bool,
}

/// What a new payment does to its order's pending payment (there is at most one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnPending {
    /// Close it: the new payment replaces it.
    Replace,
    /// Keep it if it is still payable and of the same method, and write nothing: two requests
    /// for the page's QR at once agree on one, and nobody's request closes a shopper's QR.
    KeepSameMethod,
}

/// What [`Tx::insert_payment`] did.
#[derive(Debug)]
pub(crate) struct Inserted {
    /// The order's pending payment now: the new one, or the one kept instead of it.
    pub payment: Payment,
    /// The payments it closed (to be closed at the provider too).
    pub closed: Vec<String>,
}

/// One ledger transaction. Its methods are the only writes; [`Tx::commit`] announces what they
/// changed and commits. Dropped without a commit, it rolls back.
pub(crate) struct Tx {
    w: WriteTx,
    changed: Vec<String>,
    /// What the metrics count once this commits.
    tally: LedgerTally,
    /// Where the events of this transaction's changes go (none: no events are written).
    webhooks: WebhookEndpoints,
}

impl Tx {
    pub async fn begin(store: &Store, webhooks: &WebhookEndpoints) -> Result<Self> {
        Ok(Self {
            w: store.begin_write().await?,
            changed: Vec::new(),
            tally: LedgerTally::default(),
            webhooks: webhooks.clone(),
        })
    }

    /// Announces the changed payments and commits; counts what committed; returns their ids.
    pub async fn commit(mut self) -> Result<Vec<String>> {
        changes::announce(self.w.conn(), &self.changed).await?;
        self.w.commit().await?;
        self.tally.publish();
        Ok(self.changed)
    }

    pub async fn insert_order(&mut self, order: &Order) -> Result<()> {
        Ok(queries::insert_order(self.w.conn(), order).await?)
    }

    /// Checks the order (failing before anything is written if it is unknown or not payable),
    /// then, as `on_pending` says, keeps its pending payment or closes it and inserts `payment`,
    /// to be asked about at the provider first at `first_reconcile_at_ms`.
    pub async fn insert_payment(
        &mut self,
        payment: &Payment,
        first_reconcile_at_ms: i64,
        on_pending: OnPending,
    ) -> Result<Inserted> {
        let conn = self.w.conn();
        let order = queries::order(conn, &payment.order_id, Lock::ForUpdate)
            .await?
            .ok_or(PaymentError::OrderNotFound)?;
        if order.status != OrderStatus::Pending {
            return Err(PaymentError::OrderNotPayable(order.status));
        }
        let previous =
            queries::payments_of_order(conn, &order.id, Which::OnlyPending, Lock::ForUpdate)
                .await?;
        let now = now_ms();
        if on_pending == OnPending::KeepSameMethod {
            let kept = previous
                .iter()
                .find(|p| p.method == payment.method && p.status_at(now) == PaymentStatus::Pending);
            if let Some(kept) = kept {
                return Ok(Inserted {
                    payment: kept.clone(),
                    closed: Vec::new(),
                });
            }
        }
        for old in &previous {
            let event = PaymentEvent::Close {
                reason: format!("superseded by {}", payment.id),
            };
            self.decide_and_write(old.clone(), &order, &event, EventSource::Api, now)
                .await?;
        }
        queries::insert_payment(self.w.conn(), payment, now, first_reconcile_at_ms).await?;
        self.tally.created(payment.method);
        let valid_for = (payment.expires_at_ms - payment.created_at_ms) / 1000;
        self.append(
            &payment.id,
            line(
                now,
                EventSource::Api,
                None,
                Some(PaymentStatus::Pending),
                format!("created, valid for {valid_for} s"),
            ),
        )
        .await?;
        let closed: Vec<String> = previous.into_iter().map(|p| p.id).collect();
        self.changed.extend(closed.iter().cloned());
        Ok(Inserted {
            payment: payment.clone(),
            closed,
        })
    }

    /// Applies `event` to the payment (of `order_id`): locks both, decides, writes and logs;
    /// if this pays the order, its other pending payments are closed with it. With
    /// `event_id`, a notification already processed changes nothing but is logged.
    pub async fn apply(
        &mut self,
        payment_id: &str,
        order_id: &str,
        event: &PaymentEvent,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<Applied> {
        let conn = self.w.conn();
        let order = queries::order(conn, order_id, Lock::ForUpdate)
            .await?
            .ok_or(PaymentError::OrderNotFound)?;
        let payment = queries::payment(conn, payment_id, Lock::ForUpdate)
            .await?
            .ok_or(PaymentError::PaymentNotFound)?;
        let now = now_ms();
        if let Some(event_id) = event_id {
            // A replay writes nothing (not even a line: anyone holding a captured notification
            // could grow the log); it is acknowledged and counted in the metrics.
            if !queries::mark_notification_processed(conn, event_id, payment_id, now).await? {
                return Ok(Applied {
                    payment,
                    closed: Vec::new(),
                    duplicate: true,
                });
            }
        }
        let (payment, paid_order) = self
            .decide_and_write(payment, &order, event, source, now)
            .await?;
        let siblings = if paid_order {
            queries::payments_of_order(self.w.conn(), order_id, Which::OnlyPending, Lock::ForUpdate)
                .await?
        } else {
            Vec::new()
        };
        // The order is paid: its other pending payments are closed with it.
        let paid_order_now = Order {
            status: OrderStatus::Paid,
            ..order
        };
        for sibling in &siblings {
            let event = PaymentEvent::Close {
                reason: format!("order paid by {}", payment.id),
            };
            self.decide_and_write(sibling.clone(), &paid_order_now, &event, source, now)
                .await?;
        }
        let closed: Vec<String> = siblings.into_iter().map(|p| p.id).collect();
        self.changed.push(payment.id.clone());
        self.changed.extend(closed.iter().cloned());
        Ok(Applied {
            payment,
            closed,
            duplicate: false,
        })
    }

    /// Logs a line about the payment without changing it (a report we refuse, a trade state
    /// that means nothing for it).
    pub async fn log(
        &mut self,
        payment: &Payment,
        source: EventSource,
        detail: String,
    ) -> Result<()> {
        self.append(
            &payment.id,
            line(now_ms(), source, Some(payment.status), None, detail),
        )
        .await
    }

    /// Decides and writes one event for a payment whose row (and order) this transaction has
    /// locked. Returns the payment afterwards and whether this event paid the order.
    async fn decide_and_write(
        &mut self,
        mut payment: Payment,
        order: &Order,
        event: &PaymentEvent,
        source: EventSource,
        now: i64,
    ) -> Result<(Payment, bool)> {
        let before = payment.status;
        let decision = decide(
            Snapshot {
                status: before,
                expires_at_ms: payment.expires_at_ms,
                order_status: order.status,
            },
            event,
        );
        let describe = describe_event(event);
        let transition = match decision {
            Decision::Ignore { why } => {
                self.append(
                    &payment.id,
                    line(
                        now,
                        source,
                        Some(before),
                        None,
                        format!("{describe}; ignored: {why}"),
                    ),
                )
                .await?;
                return Ok((payment, false));
            }
            Decision::Transition(t) => t,
        };
        payment.status = transition.to;
        payment.paid_late |= transition.paid_late;
        payment.needs_refund |= transition.needs_refund;
        match event {
            PaymentEvent::ProviderPaid {
                transaction_id,
                paid_at_ms,
            } => {
                payment.paid_at_ms = Some(*paid_at_ms);
                payment.provider_transaction_id = Some(transaction_id.clone());
            }
            PaymentEvent::ProviderFailed { reason } => {
                payment.failure_reason = reason.clone();
            }
            PaymentEvent::Expire | PaymentEvent::Close { .. } => {}
        }
        let conn = self.w.conn();
        queries::update_payment(conn, &payment, now).await?;
        self.tally.transition(payment.method, &transition);
        let paid_order = transition.pays_order
            && queries::mark_order_paid(
                conn,
                &order.id,
                &payment.id,
                payment.paid_at_ms.unwrap_or(now),
            )
            .await?;
        let mut detail = describe;
        if payment.paid_late {
            detail.push_str("; paid late");
        }
        if payment.needs_refund {
            detail.push_str("; needs refund");
        }
        if paid_order {
            detail.push_str("; order paid");
        }
        self.append(
            &payment.id,
            line(now, source, Some(before), Some(payment.status), detail),
        )
        .await?;
        if let Some(event_type) = webhook_event(payment.status, paid_order) {
            self.queue_webhook(event_type, &payment, order, now).await?;
        }
        Ok((payment, paid_order))
    }

    /// Writes the event about `payment` and its deliveries, if any endpoint is configured.
    async fn queue_webhook(
        &mut self,
        event_type: WebhookEventType,
        payment: &Payment,
        order: &Order,
        now: i64,
    ) -> Result<()> {
        if self.webhooks.is_empty() {
            return Ok(());
        }
        let event = WebhookEvent::new(event_type, payment, order.reference.clone(), now);
        outbox::enqueue(self.w.conn(), &event, &self.webhooks).await?;
        Ok(())
    }

    pub(super) async fn append(
        &mut self,
        payment_id: &str,
        record: PaymentEventRecord,
    ) -> Result<()> {
        Ok(queries::append_event(self.w.conn(), payment_id, &record).await?)
    }
}

/// The webhook event a committed transition of a payment to `to` produces, if any: the one
/// place that decides what the shop hears. `paid_order`: this transition paid the order.
pub(crate) fn webhook_event(to: PaymentStatus, paid_order: bool) -> Option<WebhookEventType> {
    match to {
        PaymentStatus::Paid if paid_order => Some(WebhookEventType::OrderPaid),
        // Money that did not pay the order (paid by another payment already, or closed): the
        // shop must refund it.
        PaymentStatus::Paid => Some(WebhookEventType::PaymentPaidLate),
        PaymentStatus::Expired => Some(WebhookEventType::PaymentExpired),
        PaymentStatus::Failed => Some(WebhookEventType::PaymentFailed),
        // Superseded by a newer payment or closed with its paid order: nothing for the shop.
        PaymentStatus::Closed | PaymentStatus::Pending => None,
    }
}
