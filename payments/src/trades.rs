//! What the provider reports about trades (callbacks, query answers, close answers) becomes
//! ledger events here; and trades we no longer want are closed at the provider, outside any
//! transaction.
use crate::clock::now_ms;
use crate::error::{PaymentError, Result};
use crate::ledger::Applied;
use crate::machine::PaymentEvent;
use crate::model::Payment;
use crate::provider::{Notification, TradeStatus};
use crate::service::{check_payment_id, PaymentService};
use crate::status::{EventSource, PaymentMethod, TradeState};

/// A verified notification, applied (see [`PaymentService::apply_notification`]).
#[derive(Debug)]
pub struct NotificationApplied {
    /// The payment afterwards.
    pub payment: Payment,
    /// Its event id had been applied before: acknowledged again, nothing changed.
    pub duplicate: bool,
}

/// The event a provider's report of a trade means for our payment, if any.
fn event_for_trade(status: &TradeStatus) -> Option<PaymentEvent> {
    match status.trade_state {
        TradeState::Success => Some(PaymentEvent::ProviderPaid {
            transaction_id: status.transaction_id.clone().unwrap_or_default(),
            paid_at_ms: status.paid_at_ms.unwrap_or_else(now_ms),
        }),
        TradeState::PayError => Some(PaymentEvent::ProviderFailed {
            reason: status.failure_reason.clone(),
        }),
        TradeState::NotPay | TradeState::Closed => None,
    }
}

impl PaymentService {
    /// Closes trades we no longer want at the provider. Money that arrived first is recorded as
    /// paid, which may close further payments: a worklist, not recursion.
    pub(crate) async fn close_at_provider(&self, mut payment_ids: Vec<String>) {
        while let Some(payment_id) = payment_ids.pop() {
            let closed = match self.provider_of(&payment_id).await {
                Ok(provider) => provider.close(&payment_id).await.map_err(Into::into),
                Err(e) => Err(e),
            };
            match closed {
                Ok(status) if status.trade_state == TradeState::Success => {
                    match self
                        .apply_trade_inner(&status, EventSource::Reconcile, None)
                        .await
                    {
                        Ok(applied) => payment_ids.extend(applied.closed),
                        Err(e) => tracing::error!(
                            payment_id,
                            "recording a payment that raced its close: {e}"
                        ),
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(payment_id, "closing at the provider: {e}"),
            }
        }
    }

    /// Applies what the provider reports about a trade (notification or query answer).
    pub async fn apply_trade(&self, status: &TradeStatus, source: EventSource) -> Result<Payment> {
        let applied = self.apply_trade_inner(status, source, None).await?;
        self.close_at_provider(applied.closed).await;
        Ok(applied.payment)
    }

    /// Applies a verified notification from `method`'s provider exactly once per event id.
    pub async fn apply_notification(
        &self,
        method: PaymentMethod,
        notification: &Notification,
    ) -> Result<NotificationApplied> {
        let payment = self.payment(&notification.trade.payment_id).await?;
        if payment.method != method {
            return Err(PaymentError::NotificationNotOurs(method));
        }
        let applied = self
            .apply_trade_to(
                payment,
                &notification.trade,
                EventSource::Provider,
                Some(&notification.event_id),
            )
            .await?;
        self.close_at_provider(applied.closed).await;
        Ok(NotificationApplied {
            payment: applied.payment,
            duplicate: applied.duplicate,
        })
    }

    /// [`Self::apply_trade`] without the provider calls: returns the payments to close there.
    async fn apply_trade_inner(
        &self,
        status: &TradeStatus,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<Applied> {
        let payment = self.payment(&status.payment_id).await?;
        self.apply_trade_to(payment, status, source, event_id).await
    }

    /// [`Self::apply_trade_inner`] for a payment already read (the ledger reads it again,
    /// locked, before it changes anything).
    async fn apply_trade_to(
        &self,
        payment: Payment,
        status: &TradeStatus,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<Applied> {
        // Only a report that money moved carries an amount to check: a trade that was never
        // scanned (Alipay) has none yet.
        let money_moved = status.trade_state == TradeState::Success;
        if money_moved && status.amount_fen != payment.amount_fen {
            let detail = format!(
                "rejected provider {}: amount {} ≠ {}",
                status.trade_state, status.amount_fen, payment.amount_fen
            );
            self.ledger().log(&payment, source, detail).await?;
            tracing::error!(payment_id = %payment.id, "provider amount mismatch");
            return Err(PaymentError::AmountMismatch);
        }
        match event_for_trade(status) {
            Some(event) => self.apply_event(&payment, &event, source, event_id).await,
            None => {
                let detail = format!("provider {}", status.trade_state);
                self.ledger().log(&payment, source, detail).await?;
                Ok(Applied {
                    payment,
                    closed: Vec::new(),
                    duplicate: false,
                })
            }
        }
    }

    /// Asks the provider about one payment and applies the answer.
    pub async fn reconcile_one(&self, payment_id: &str, source: EventSource) -> Result<Payment> {
        let status = self.query_at_provider(payment_id).await?;
        self.apply_trade(&status, source).await
    }

    /// What the payment's provider says of its trade now.
    async fn query_at_provider(&self, payment_id: &str) -> Result<TradeStatus> {
        check_payment_id(payment_id)?;
        Ok(self
            .provider_of(payment_id)
            .await?
            .query(payment_id)
            .await?)
    }

    /// Asks the provider about a payment an unverified notification named (see
    /// [`crate::unverified`]): its answer is applied only if money moved or the payment
    /// failed. Otherwise nothing is written: unauthenticated traffic leaves no audit rows.
    pub async fn query_on_unverified_hint(&self, payment_id: &str) -> Result<()> {
        let status = self.query_at_provider(payment_id).await?;
        if event_for_trade(&status).is_some() {
            self.apply_trade(&status, EventSource::Reconcile).await?;
        }
        Ok(())
    }
}
