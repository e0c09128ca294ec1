//! (Over 350 lines: the simulator moves to its own crate, provider-sim, in a later issue.)
//! A payment provider simulator modelled on WeChat Pay Native: it keeps its own trades, serves
//! a wallet page (in the server) where a shopper approves or declines, can pay by itself after a
//! random delay (demo auto-pay), and notifies the merchant of every final state over HTTP,
//! signed, retrying on a growing schedule. Faults can be injected to test the merchant.
use crate::clock::now_ms;
use crate::provider::{CreateTrade, Notification, PaymentProvider, ProviderError, TradeStatus};
use crate::secret::Secret;
use crate::signature;
use crate::status::TradeState;
use crate::store::{Lock, Store, StoreError};
use async_trait::async_trait;
use futures::StreamExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::ops::RangeInclusive;
use std::sync::RwLock;
use std::time::Duration;
use tokio::sync::Notify;

/// WeChat Pay's callback retry schedule: 15 s, 15 s, 30 s, 3 m, 10 m, 20 m, 30 m ×3, 1 h,
/// 3 h ×3, 6 h ×2 — about 24 hours in all.
pub const DEFAULT_RETRY_SECS: &[u64] = &[
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];
/// How long a delivery worker owns a claimed notification before another may retry it.
const DELIVERY_LEASE_MS: i64 = 30_000;

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Base URL the shopper's phone can reach; `code_url` is `{public_url}/sim/pay/{id}`.
    pub public_url: String,
    pub merchant_name: String,
    /// Demo auto-pay: pay each trade after a random delay in this range (seconds).
    pub autopay_secs: Option<RangeInclusive<u64>>,
    /// Where notifications are POSTed (the merchant's `/api/pay/notify`).
    pub notify_url: String,
    pub notify_secret: Secret<Vec<u8>>,
    /// Waits between delivery attempts; after the last one the provider gives up.
    pub retry_schedule: Vec<Duration>,
    pub faults: Faults,
}

/// Misbehaviour on demand, for tests (environment `SCANPAY_SIM_FAULTS` or `PUT /sim/faults`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Notifications are lost: the provider believes it delivered them.
    pub drop_notifications: bool,
    /// The first N delivery attempts of every notification fail (as if the merchant were down).
    pub fail_first_deliveries: u32,
    /// Every delivery waits this long first.
    pub delay_notifications_ms: u64,
    /// Extra copies of every delivery.
    pub duplicate_notifications: u32,
    /// Each batch of deliveries goes out in reverse order.
    pub reorder_notifications: bool,
    /// Queries answer with an error.
    pub query_errors: bool,
    /// The bank declines every approval.
    pub decline_all: bool,
    /// The shopper pays just as the merchant closes the trade at the deadline: the close answers
    /// CLOSED, yet the trade ends SUCCESS, paid after the deadline.
    pub pay_during_close: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("交易不存在")]
    UnknownTrade,
    #[error("交易已关闭,无法支付")]
    Closed,
    #[error("交易已支付")]
    AlreadyPaid,
    #[error("交易已失败")]
    AlreadyFailed,
    #[error("provider store: {0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SimError {
    fn from(e: sqlx::Error) -> Self {
        SimError::Store(StoreError::Database(e))
    }
}

pub struct Simulator {
    store: Store,
    config: SimulatorConfig,
    faults: RwLock<Faults>,
    http: reqwest::Client,
    /// Wakes the delivery worker as soon as a notification is queued.
    outbox_ready: Notify,
}

const TRADE_COLUMNS: &str =
    "payment_id, amount_fen, description, trade_state, transaction_id, paid_at_ms, failure_reason";

fn trade_from_row(row: &AnyRow) -> Result<(TradeStatus, String), SimError> {
    let state: String = row.try_get("trade_state")?;
    Ok((
        TradeStatus {
            payment_id: row.try_get("payment_id")?,
            trade_state: TradeState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("trade_state {state:?}")))?,
            amount_fen: row.try_get("amount_fen")?,
            transaction_id: row.try_get("transaction_id")?,
            paid_at_ms: row.try_get("paid_at_ms")?,
            failure_reason: row.try_get("failure_reason")?,
        },
        row.try_get("description")?,
    ))
}

/// A trade as the wallet page shows it.
#[derive(Debug, Clone)]
pub struct WalletTrade {
    pub status: TradeStatus,
    pub description: String,
    pub merchant_name: String,
}

fn new_event_id() -> String {
    format!("evt_{:032x}", rand::random::<u128>())
}

fn new_transaction_id() -> String {
    format!(
        "4200{:016}",
        rand::rng().random_range(0..10_000_000_000_000_000u64)
    )
}

impl Simulator {
    pub fn new(store: Store, config: SimulatorConfig) -> Self {
        let faults = RwLock::new(config.faults.clone());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client without TLS always builds");
        Self {
            store,
            config,
            faults,
            http,
            outbox_ready: Notify::new(),
        }
    }

    pub fn config(&self) -> &SimulatorConfig {
        &self.config
    }

    pub fn faults(&self) -> Faults {
        self.faults.read().expect("faults lock").clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.write().expect("faults lock") = faults;
    }

    pub fn code_url(&self, payment_id: &str) -> String {
        format!(
            "{}/sim/pay/{payment_id}",
            self.config.public_url.trim_end_matches('/')
        )
    }

    async fn load(&self, payment_id: &str) -> Result<(TradeStatus, String), SimError> {
        let sql = format!("SELECT {TRADE_COLUMNS} FROM sim_trades WHERE payment_id = $1");
        let row = sqlx::query(&sql)
            .bind(payment_id)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or(SimError::UnknownTrade)?;
        trade_from_row(&row)
    }

    pub async fn wallet_trade(&self, payment_id: &str) -> Result<WalletTrade, SimError> {
        let (status, description) = self.load(payment_id).await?;
        Ok(WalletTrade {
            status,
            description,
            merchant_name: self.config.merchant_name.clone(),
        })
    }

    /// Moves an unpaid trade to `to` and, for a final state the merchant must hear about, queues
    /// the notification in the same transaction. Returns the trade afterwards, or why not.
    async fn settle(
        &self,
        payment_id: &str,
        to: TradeState,
        failure_reason: Option<&str>,
        paid_at_ms: i64,
    ) -> Result<TradeStatus, SimError> {
        let now = now_ms();
        let paid = to == TradeState::Success;
        let transaction_id = paid.then(new_transaction_id);
        let mut w = self.store.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE sim_trades SET trade_state = $1, transaction_id = $2, paid_at_ms = $3, \
             failure_reason = $4 WHERE payment_id = $5 AND trade_state = 'NOTPAY'",
        )
        .bind(to.as_str())
        .bind(transaction_id.as_deref())
        .bind(paid.then_some(paid_at_ms))
        .bind(failure_reason)
        .bind(payment_id)
        .execute(w.conn())
        .await?
        .rows_affected();
        let sql = format!("SELECT {TRADE_COLUMNS} FROM sim_trades WHERE payment_id = $1");
        let row = sqlx::query(&sql)
            .bind(payment_id)
            .fetch_optional(w.conn())
            .await?
            .ok_or(SimError::UnknownTrade)?;
        let (status, _) = trade_from_row(&row)?;
        if changed == 0 {
            return Err(match status.trade_state {
                TradeState::NotPay => SimError::UnknownTrade,
                TradeState::Success => SimError::AlreadyPaid,
                TradeState::Closed => SimError::Closed,
                TradeState::PayError => SimError::AlreadyFailed,
            });
        }
        let notifies = matches!(to, TradeState::Success | TradeState::PayError);
        if notifies {
            let notification = Notification {
                event_id: new_event_id(),
                trade: status.clone(),
            };
            sqlx::query(
                "INSERT INTO sim_notifications (event_id, payment_id, body, next_attempt_at_ms, \
                 created_at_ms) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&notification.event_id)
            .bind(payment_id)
            .bind(serde_json::to_string(&notification).expect("a notification serializes"))
            .bind(now)
            .execute(w.conn())
            .await?;
        }
        w.commit().await?;
        if notifies {
            self.outbox_ready.notify_one();
        }
        Ok(status)
    }

    /// The shopper approves in the wallet: money moves (unless the bank declines), and the
    /// merchant is notified.
    pub async fn approve(&self, payment_id: &str) -> Result<TradeStatus, SimError> {
        if self.faults().decline_all {
            return self.decline(payment_id, "银行卡余额不足").await;
        }
        self.settle(payment_id, TradeState::Success, None, now_ms())
            .await
    }

    /// The shopper declines (or the bank refuses): PAYERROR, and the merchant is notified.
    pub async fn decline(&self, payment_id: &str, reason: &str) -> Result<TradeStatus, SimError> {
        self.settle(payment_id, TradeState::PayError, Some(reason), now_ms())
            .await
    }

    /// Demo auto-pay: pays due trades. Survives restarts because the due time is stored.
    pub async fn run_autopay(&self, tick: Duration) {
        loop {
            if let Err(e) = self.autopay_due().await {
                tracing::warn!("auto-pay: {e}");
            }
            tokio::time::sleep(tick).await;
        }
    }

    async fn autopay_due(&self) -> Result<(), SimError> {
        let rows = sqlx::query(
            "SELECT payment_id FROM sim_trades WHERE trade_state = 'NOTPAY' \
             AND autopay_at_ms IS NOT NULL AND autopay_at_ms <= $1 LIMIT 100",
        )
        .bind(now_ms())
        .fetch_all(self.store.pool())
        .await?;
        for row in rows {
            let id: String = row.try_get(0)?;
            match self.approve(&id).await {
                Ok(_) => tracing::info!(payment_id = %id, "auto-pay: paid"),
                // Closed or settled meanwhile: nothing to pay.
                Err(SimError::Closed | SimError::AlreadyPaid | SimError::AlreadyFailed) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Delivers queued notifications until the process ends: at once when one is queued,
    /// otherwise every `tick` for retries that came due.
    pub async fn run_delivery(&self, tick: Duration) {
        loop {
            match self.deliver_due().await {
                Ok(0) => {
                    tokio::select! {
                        _ = self.outbox_ready.notified() => {}
                        _ = tokio::time::sleep(tick) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("notification delivery: {e}");
                    tokio::time::sleep(tick).await;
                }
            }
        }
    }

    /// Claims due notifications (a lease, so several processes never send the same one at
    /// once), sends them, and records the outcome. Returns how many it claimed.
    pub async fn deliver_due(&self) -> Result<usize, SimError> {
        let now = now_ms();
        let skip_locked = self.store.engine().lock_clause(Lock::ForUpdateSkipLocked);
        let sql = format!(
            "UPDATE sim_notifications SET next_attempt_at_ms = $1 WHERE event_id IN \
             (SELECT event_id FROM sim_notifications WHERE delivered_at_ms IS NULL \
             AND gave_up_at_ms IS NULL AND next_attempt_at_ms <= $2 \
             ORDER BY next_attempt_at_ms LIMIT 64{skip_locked}) \
             RETURNING event_id, body, attempts"
        );
        let mut w = self.store.begin_write().await?;
        let rows = sqlx::query(&sql)
            .bind(now + DELIVERY_LEASE_MS)
            .bind(now)
            .fetch_all(w.conn())
            .await?;
        w.commit().await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let event_id: String = row.try_get("event_id")?;
            let body: String = row.try_get("body")?;
            let attempts: i64 = row.try_get("attempts")?;
            claimed.push((event_id, body, attempts));
        }
        let faults = self.faults();
        if faults.reorder_notifications {
            claimed.reverse();
        }
        let count = claimed.len();
        // Reordering only shows if the batch goes out one after another.
        let parallel = if faults.reorder_notifications { 1 } else { 16 };
        futures::stream::iter(claimed)
            .map(|(event_id, body, attempts)| {
                let faults = &faults;
                async move {
                    let outcome = if attempts < i64::from(faults.fail_first_deliveries) {
                        Err("injected delivery failure".to_string())
                    } else {
                        self.send(&body, faults).await
                    };
                    if let Err(e) = self.record_delivery(&event_id, attempts, outcome).await {
                        tracing::warn!(event_id, "recording a delivery: {e}");
                    }
                }
            })
            .buffer_unordered(parallel)
            .collect::<Vec<()>>()
            .await;
        Ok(count)
    }

    /// One delivery attempt (with the duplicates a fault asks for). `Ok` means acknowledged.
    async fn send(&self, body: &str, faults: &Faults) -> Result<(), String> {
        if faults.drop_notifications {
            return Ok(()); // lost on the way; the provider thinks it was delivered
        }
        if faults.delay_notifications_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.delay_notifications_ms)).await;
        }
        let mut outcome = Err("not sent".to_string());
        for _ in 0..=faults.duplicate_notifications {
            let signature = signature::sign(
                self.config.notify_secret.expose(),
                now_ms() / 1000,
                body.as_bytes(),
            );
            let attempt = self
                .http
                .post(&self.config.notify_url)
                .header("content-type", "application/json")
                .header(signature::HEADER, signature)
                .body(body.to_string())
                .send()
                .await;
            let result = match attempt {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(e.to_string()),
            };
            if outcome.is_err() {
                outcome = result;
            }
        }
        outcome
    }

    async fn record_delivery(
        &self,
        event_id: &str,
        attempts_before: i64,
        outcome: Result<(), String>,
    ) -> Result<(), SimError> {
        let now = now_ms();
        let attempts = attempts_before + 1;
        let mut w = self.store.begin_write().await?;
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE sim_notifications SET attempts = $1, delivered_at_ms = $2, \
                     last_error = NULL WHERE event_id = $3",
                )
                .bind(attempts)
                .bind(now)
                .bind(event_id)
                .execute(w.conn())
                .await?;
            }
            Err(error) => {
                let wait = self.config.retry_schedule.get(attempts_before as usize);
                tracing::info!(event_id, attempts, "notification not acknowledged: {error}");
                sqlx::query(
                    "UPDATE sim_notifications SET attempts = $1, last_error = $2, \
                     next_attempt_at_ms = $3, gave_up_at_ms = $4 WHERE event_id = $5",
                )
                .bind(attempts)
                .bind(&error)
                .bind(now + wait.map_or(0, |w| w.as_millis() as i64))
                .bind(wait.is_none().then_some(now))
                .bind(event_id)
                .execute(w.conn())
                .await?;
            }
        }
        w.commit().await?;
        Ok(())
    }
}

fn unavailable(e: SimError) -> ProviderError {
    ProviderError::Unavailable(e.to_string())
}

#[async_trait]
impl PaymentProvider for Simulator {
    fn method(&self) -> crate::status::PaymentMethod {
        crate::status::PaymentMethod::WechatPay
    }

    async fn create(&self, trade: CreateTrade) -> Result<String, ProviderError> {
        let now = now_ms();
        let autopay_at = self.config.autopay_secs.as_ref().map(|range| {
            let secs = rand::rng().random_range(range.clone());
            now + (secs as i64) * 1000
        });
        // One statement, atomic by itself: no transaction round trips around it.
        sqlx::query(
            "INSERT INTO sim_trades (payment_id, amount_fen, description, trade_state, \
             autopay_at_ms, created_at_ms) VALUES ($1, $2, $3, 'NOTPAY', $4, $5)",
        )
        .bind(&trade.payment_id)
        .bind(trade.amount_fen)
        .bind(&trade.description)
        .bind(autopay_at)
        .bind(now)
        .execute(self.store.write_pool())
        .await
        .map_err(|e| unavailable(SimError::Store(e.into())))?;
        Ok(self.code_url(&trade.payment_id))
    }

    async fn query(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        if self.faults().query_errors {
            return Err(ProviderError::Unavailable("injected query error".into()));
        }
        self.load(payment_id)
            .await
            .map(|(status, _)| status)
            .map_err(|e| match e {
                SimError::UnknownTrade => ProviderError::UnknownTrade(payment_id.to_string()),
                other => unavailable(other),
            })
    }

    async fn close(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        if self.faults().pay_during_close {
            // The shopper's payment lands just after the close was answered "CLOSED".
            return match self.load(payment_id).await {
                Ok((mut status, _)) if status.trade_state == TradeState::NotPay => {
                    self.settle(payment_id, TradeState::Success, None, now_ms())
                        .await
                        .map_err(unavailable)?;
                    status.trade_state = TradeState::Closed;
                    Ok(status)
                }
                Ok((status, _)) => Ok(status),
                Err(SimError::UnknownTrade) => {
                    Err(ProviderError::UnknownTrade(payment_id.to_string()))
                }
                Err(e) => Err(unavailable(e)),
            };
        }
        match self
            .settle(payment_id, TradeState::Closed, None, now_ms())
            .await
        {
            Ok(status) => Ok(status),
            // Already final: report how it ended (SUCCESS means the money arrived first).
            Err(SimError::AlreadyPaid | SimError::Closed | SimError::AlreadyFailed) => self
                .load(payment_id)
                .await
                .map(|(status, _)| status)
                .map_err(unavailable),
            Err(SimError::UnknownTrade) => Err(ProviderError::UnknownTrade(payment_id.to_string())),
            Err(e) => Err(unavailable(e)),
        }
    }
}
