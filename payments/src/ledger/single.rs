//! Ledger operations each in a transaction of its own (PostgreSQL's writers, tests and tools;
//! on SQLite the group commit batches several in one [`Tx`]), and the workers' bookkeeping.
use super::{Committed, Inserted, OnPending, Tx};
use crate::clock::now_ms;
use crate::error::Result;
use crate::machine::PaymentEvent;
use crate::model::{Order, Payment};
use crate::status::EventSource;
use crate::store::{queries, Claimed, Due, Store};
use crate::webhooks::WebhookEndpoints;

/// One service's ledger: its store, and where its changes' webhook events go. Each operation
/// is a transaction of its own (the group commit batches several in one [`Tx`] instead).
#[derive(Clone, Copy)]
pub(crate) struct Ledger<'a> {
    pub store: &'a Store,
    pub webhooks: &'a WebhookEndpoints,
}

impl Ledger<'_> {
    async fn begin(&self) -> Result<Tx> {
        Tx::begin(self.store, self.webhooks).await
    }

    /// Writes a new order.
    pub async fn insert_order(&self, order: &Order) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.insert_order(order).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes a new payment, or keeps the pending one (see [`Tx::insert_payment`]).
    pub async fn insert_payment(
        &self,
        payment: &Payment,
        first_reconcile_at_ms: i64,
        on_pending: OnPending,
    ) -> Result<Inserted> {
        let mut tx = self.begin().await?;
        let inserted = tx
            .insert_payment(payment, first_reconcile_at_ms, on_pending)
            .await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Applies an event (see [`Tx::apply`]).
    pub async fn apply(
        &self,
        payment: &Payment,
        event: &PaymentEvent,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<Committed> {
        let mut tx = self.begin().await?;
        let applied = tx
            .apply(&payment.id, &payment.order_id, event, source, event_id)
            .await?;
        let changed = tx.commit().await?;
        Ok(Committed {
            payment: applied.payment,
            changed,
            to_close: applied.closed,
            duplicate: applied.duplicate,
        })
    }

    /// Logs a line about a payment without changing it (see [`Tx::log`]).
    pub async fn log(&self, payment: &Payment, source: EventSource, detail: String) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.log(payment, source, detail).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Workers' bookkeeping (no status changes, nothing to announce): leases up to `limit` pending
/// payments that `due` selects, for `lease_ms`.
pub(crate) async fn claim(
    store: &Store,
    due: Due,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>> {
    let mut w = store.begin_write().await?;
    let claimed = queries::claim_pending(w.conn(), due, now_ms(), lease_ms, limit).await?;
    w.commit().await?;
    Ok(claimed)
}

/// Workers' bookkeeping: when to ask the provider about the payment next (`None`: never), and
/// its lease released.
pub(crate) async fn schedule_reconcile(
    store: &Store,
    payment_id: &str,
    attempts: i64,
    next_at_ms: Option<i64>,
) -> Result<()> {
    let mut w = store.begin_write().await?;
    queries::set_next_reconcile(w.conn(), payment_id, attempts, next_at_ms).await?;
    w.commit().await?;
    Ok(())
}
