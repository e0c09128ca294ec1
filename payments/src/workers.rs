//! Background workers: expiry (close at the provider, ask once more, then expire) and
//! reconciliation (ask the provider about payments whose callback may be lost). Each claims its
//! payments under a lease first, so several processes never work on the same one; a restart
//! picks up where the database says.
use crate::error::Result;
use crate::ledger;
use crate::machine::PaymentEvent;
use crate::model::Payment;
use crate::provider::ProviderError;
use crate::service::{reconcile_offset, PaymentService};
use crate::status::{EventSource, TradeState};
use crate::store::Due;
use std::time::{Duration, Instant};

/// How long a worker owns a claimed payment; if it dies, another takes over after this.
const WORKER_LEASE_MS: i64 = 15_000;
/// A worker starts on a claimed payment only this long after the claim, so that the work it
/// starts (provider calls with their retries) ends inside the lease: the rest of the batch is
/// left for the next claim, never worked on by two processes at once (a slow provider or a
/// loaded machine made a 200-payment batch outlast its lease).
const START_WITHIN: Duration = Duration::from_millis(WORKER_LEASE_MS as u64 / 3);

impl PaymentService {
    /// Expires pending payments past their deadline. Closes at the provider first and asks once
    /// more afterwards, so money that raced the deadline is recorded as paid (late), never lost.
    /// Returns how many it handled.
    pub async fn expire_due(&self, limit: i64) -> Result<usize> {
        let due = ledger::claim(self.store(), Due::Expiry, WORKER_LEASE_MS, limit).await?;
        let claimed = Instant::now();
        let mut handled = 0;
        for payment in due.iter().take_while(|_| claimed.elapsed() < START_WITHIN) {
            if let Err(e) = self.expire_one(&payment.id).await {
                tracing::warn!(payment_id = payment.id, "expiring: {e}; will retry");
            }
            handled += 1;
        }
        Ok(handled)
    }

    async fn expire_one(&self, payment_id: &str) -> Result<Payment> {
        let provider = self.provider_of(payment_id).await?;
        let closed = match provider.close(payment_id).await {
            Ok(status) => Some(status),
            Err(ProviderError::UnknownTrade(_)) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(status) = &closed {
            if status.trade_state == TradeState::Success {
                return self.apply_trade(status, EventSource::Expiry).await;
            }
            // A payment can land between the close and its answer: ask again before giving up.
            let after = provider.query(payment_id).await?;
            if after.trade_state == TradeState::Success {
                return self.apply_trade(&after, EventSource::Expiry).await;
            }
        }
        self.apply(payment_id, &PaymentEvent::Expire, EventSource::Expiry)
            .await
    }

    /// Asks the provider about pending payments whose callback may have been lost, on the
    /// schedule in [`crate::service::ServiceConfig`]. Returns how many it asked about.
    pub async fn reconcile_due(&self, limit: i64) -> Result<usize> {
        let due = ledger::claim(self.store(), Due::Reconcile, WORKER_LEASE_MS, limit).await?;
        let config = self.config();
        let claimed = Instant::now();
        let mut handled = 0;
        for payment in due.iter().take_while(|_| claimed.elapsed() < START_WITHIN) {
            if let Err(e) = self
                .reconcile_one(&payment.id, EventSource::Reconcile)
                .await
            {
                tracing::warn!(payment_id = payment.id, "reconciling: {e}");
            }
            let attempts = payment.reconcile_attempts + 1;
            let offset = reconcile_offset(
                &config.reconcile_schedule,
                config.reconcile_every,
                attempts as usize,
            );
            let next = payment.created_at_ms + offset.as_millis() as i64;
            // Past the deadline the expiry worker takes over.
            let next = (next < payment.expires_at_ms).then_some(next);
            ledger::schedule_reconcile(self.store(), &payment.id, attempts, next).await?;
            handled += 1;
        }
        Ok(handled)
    }

    /// Runs expiry and reconciliation forever.
    pub async fn run_workers(&self, tick: Duration) {
        loop {
            match self.expire_due(200).await {
                Ok(n) if n > 0 => tracing::info!("expired {n} payment(s)"),
                Ok(_) => {}
                Err(e) => tracing::warn!("expiry sweep: {e}"),
            }
            if let Err(e) = self.reconcile_due(200).await {
                tracing::warn!("reconciliation: {e}");
            }
            tokio::time::sleep(tick).await;
        }
    }
}
