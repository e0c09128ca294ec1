//! The notification outbox: rows written with the payment, delivered by a worker that leases
//! what it sends (so several processes never send the same one at once), retried on the
//! provider's schedule until acknowledged the provider's way, or given up.
use crate::clock::now_ms;
use crate::faults::Faults;
use crate::store::StoreError;
use crate::trades::Provider;
use crate::Sandbox;
use futures::StreamExt;
use sqlx::{AnyConnection, Row};
use std::time::Duration;

/// How long a delivery worker owns a claimed notification before another may retry it.
const DELIVERY_LEASE_MS: i64 = 30_000;
const BATCH: i64 = 64;

/// A notification to queue: `payload` is what the protocol's sender turns into a request
/// (WeChat: the JSON body; Alipay: its form fields without `sign`/`notify_time`, as JSON).
pub struct Outgoing {
    pub id: String,
    pub provider: Provider,
    pub out_trade_no: String,
    pub notify_url: String,
    pub payload: String,
}

pub async fn enqueue(conn: &mut AnyConnection, outgoing: &Outgoing) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO notifications (id, provider, out_trade_no, notify_url, payload, \
         next_attempt_at_ms, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&outgoing.id)
    .bind(outgoing.provider.as_str())
    .bind(&outgoing.out_trade_no)
    .bind(&outgoing.notify_url)
    .bind(&outgoing.payload)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

struct Claimed {
    id: String,
    provider: Provider,
    notify_url: String,
    payload: String,
    attempts: i64,
}

impl Sandbox {
    /// Delivers queued notifications forever: at once when one is queued, otherwise every tick.
    pub(crate) async fn run_delivery(&self) {
        loop {
            match self.deliver_due().await {
                Ok(0) => {
                    tokio::select! {
                        _ = self.outbox_ready.notified() => {}
                        _ = tokio::time::sleep(self.config.tick) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("sandbox notification delivery: {e}");
                    tokio::time::sleep(self.config.tick).await;
                }
            }
        }
    }

    /// Claims the due notifications, sends them, records the outcomes; returns how many.
    async fn deliver_due(&self) -> Result<usize, StoreError> {
        let now = now_ms();
        let sql = format!(
            "UPDATE notifications SET next_attempt_at_ms = $1 WHERE id IN \
             (SELECT id FROM notifications WHERE delivered_at_ms IS NULL \
             AND gave_up_at_ms IS NULL AND next_attempt_at_ms <= $2 \
             ORDER BY next_attempt_at_ms LIMIT {BATCH}{}) \
             RETURNING id, provider, notify_url, payload, attempts",
            self.store.skip_locked()
        );
        let mut tx = self.store.begin_write().await?;
        let rows = sqlx::query(&sql)
            .bind(now + DELIVERY_LEASE_MS)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let provider: String = row.try_get("provider")?;
            claimed.push(Claimed {
                id: row.try_get("id")?,
                provider: Provider::parse(&provider)
                    .ok_or_else(|| StoreError::Corrupt(format!("provider {provider:?}")))?,
                notify_url: row.try_get("notify_url")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
            });
        }
        let faults = self.faults();
        if faults.reorder_notifications {
            claimed.reverse();
        }
        let count = claimed.len();
        // Reordering only shows if the batch goes out one after another.
        let parallel = if faults.reorder_notifications { 1 } else { 16 };
        futures::stream::iter(claimed)
            .map(|claimed| {
                let faults = &faults;
                async move {
                    let outcome = if claimed.attempts < i64::from(faults.fail_first_deliveries) {
                        Err("injected delivery failure".to_string())
                    } else {
                        self.send_with_faults(&claimed, faults).await
                    };
                    if let Err(e) = self.record_delivery(&claimed, outcome).await {
                        tracing::warn!(id = claimed.id, "recording a sandbox delivery: {e}");
                    }
                }
            })
            .buffer_unordered(parallel)
            .collect::<Vec<()>>()
            .await;
        Ok(count)
    }

    /// One attempt, with the copies and losses the faults ask for. `Ok`: acknowledged.
    async fn send_with_faults(&self, claimed: &Claimed, faults: &Faults) -> Result<(), String> {
        if faults.drop_notifications {
            return Ok(()); // lost on the way; the provider thinks it was delivered
        }
        if faults.delay_notifications_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.delay_notifications_ms)).await;
        }
        let mut outcome = Err("not sent".to_string());
        for _ in 0..=faults.duplicate_notifications {
            let result = match claimed.provider {
                Provider::Wechatpay => {
                    crate::wechatpay::notify::send(
                        self,
                        &claimed.notify_url,
                        &claimed.payload,
                        faults,
                    )
                    .await
                }
                Provider::Alipay => {
                    crate::alipay::notify::send(self, &claimed.notify_url, &claimed.payload, faults)
                        .await
                }
            };
            if outcome.is_err() {
                outcome = result;
            }
        }
        outcome
    }

    fn retry_schedule(&self, provider: Provider) -> Vec<Duration> {
        if let Some(schedule) = &self.config.notify_retry {
            return schedule.clone();
        }
        let secs = match provider {
            Provider::Wechatpay => crate::config::WECHATPAY_RETRY_SECS,
            Provider::Alipay => crate::config::ALIPAY_RETRY_SECS,
        };
        secs.iter().copied().map(Duration::from_secs).collect()
    }

    async fn record_delivery(
        &self,
        claimed: &Claimed,
        outcome: Result<(), String>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let attempts = claimed.attempts + 1;
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE notifications SET attempts = $1, delivered_at_ms = $2, \
                     last_error = NULL WHERE id = $3",
                )
                .bind(attempts)
                .bind(now)
                .bind(&claimed.id)
                .execute(self.store.write_pool())
                .await?;
            }
            Err(error) => {
                let wait = self
                    .retry_schedule(claimed.provider)
                    .get(claimed.attempts as usize)
                    .copied();
                tracing::info!(
                    id = claimed.id,
                    attempts,
                    "notification not acknowledged: {error}"
                );
                sqlx::query(
                    "UPDATE notifications SET attempts = $1, last_error = $2, \
                     next_attempt_at_ms = $3, gave_up_at_ms = $4 WHERE id = $5",
                )
                .bind(attempts)
                .bind(&error)
                .bind(now + wait.map_or(0, |w| w.as_millis() as i64))
                .bind(wait.is_none().then_some(now))
                .bind(&claimed.id)
                .execute(self.store.write_pool())
                .await?;
            }
        }
        Ok(())
    }
}
