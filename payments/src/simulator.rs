//! A payment provider simulator modelled on WeChat Pay Native: it keeps its own trades, serves
//! a wallet page (in the server) where a shopper approves or declines, can pay by itself after a
//! random delay (demo auto-pay), and notifies the merchant of every final state.
use crate::clock::now_ms;
use crate::provider::{CreateTrade, PaymentProvider, ProviderError, TradeStatus};
use crate::status::TradeState;
use crate::store::{Store, StoreError};
use async_trait::async_trait;
use rand::Rng;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::ops::RangeInclusive;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the simulator tells the merchant about a trade that reached a final state.
pub type Notification = TradeStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorConfig {
    /// Base URL the shopper's phone can reach; `code_url` is `{public_url}/sim/pay/{id}`.
    pub public_url: String,
    pub merchant_name: String,
    /// Demo auto-pay: pay each trade after a random delay in this range (seconds).
    pub autopay_secs: Option<RangeInclusive<u64>>,
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
    notify: mpsc::UnboundedSender<Notification>,
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

impl Simulator {
    /// The simulator and the receiving end of its notifications.
    pub fn new(
        store: Store,
        config: SimulatorConfig,
    ) -> (Self, mpsc::UnboundedReceiver<Notification>) {
        let (notify, notifications) = mpsc::unbounded_channel();
        (
            Self {
                store,
                config,
                notify,
            },
            notifications,
        )
    }

    pub fn config(&self) -> &SimulatorConfig {
        &self.config
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

    /// Moves an unpaid trade to `to`; returns the trade afterwards, or why it could not move.
    async fn settle(
        &self,
        payment_id: &str,
        to: TradeState,
        failure_reason: Option<&str>,
    ) -> Result<TradeStatus, SimError> {
        let now = now_ms();
        let transaction_id = (to == TradeState::Success).then(new_transaction_id);
        let mut w = self.store.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE sim_trades SET trade_state = $1, transaction_id = $2, paid_at_ms = $3, \
             failure_reason = $4 WHERE payment_id = $5 AND trade_state = 'NOTPAY'",
        )
        .bind(to.as_str())
        .bind(transaction_id.as_deref())
        .bind((to == TradeState::Success).then_some(now))
        .bind(failure_reason)
        .bind(payment_id)
        .execute(w.conn())
        .await?
        .rows_affected();
        w.commit().await?;
        let (status, _) = self.load(payment_id).await?;
        if changed == 1 {
            return Ok(status);
        }
        Err(match status.trade_state {
            TradeState::NotPay => unreachable!("an unpaid trade is always settled"),
            TradeState::Success => SimError::AlreadyPaid,
            TradeState::Closed => SimError::Closed,
            TradeState::PayError => SimError::AlreadyFailed,
        })
    }

    /// The shopper approves in the wallet: money moves, the merchant is notified.
    pub async fn approve(&self, payment_id: &str) -> Result<TradeStatus, SimError> {
        let status = self.settle(payment_id, TradeState::Success, None).await?;
        self.send(status.clone());
        Ok(status)
    }

    /// The shopper declines (or the bank refuses): PAYERROR, the merchant is notified.
    pub async fn decline(&self, payment_id: &str, reason: &str) -> Result<TradeStatus, SimError> {
        let status = self
            .settle(payment_id, TradeState::PayError, Some(reason))
            .await?;
        self.send(status.clone());
        Ok(status)
    }

    fn send(&self, notification: Notification) {
        // The receiver lives as long as the server; a closed channel means shutdown.
        let _ = self.notify.send(notification);
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
}

fn new_transaction_id() -> String {
    format!(
        "4200{:016}",
        rand::rng().random_range(0..10_000_000_000_000_000u64)
    )
}

fn unavailable(e: SimError) -> ProviderError {
    match e {
        SimError::UnknownTrade => ProviderError::UnknownTrade(String::new()),
        other => ProviderError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl PaymentProvider for Simulator {
    async fn create(&self, trade: CreateTrade) -> Result<String, ProviderError> {
        let now = now_ms();
        let autopay_at = self.config.autopay_secs.as_ref().map(|range| {
            let secs = rand::rng().random_range(range.clone());
            now + (secs as i64) * 1000
        });
        let run = async {
            let mut w = self.store.begin_write().await?;
            sqlx::query(
                "INSERT INTO sim_trades (payment_id, amount_fen, description, trade_state, \
                 autopay_at_ms, created_at_ms) VALUES ($1, $2, $3, 'NOTPAY', $4, $5)",
            )
            .bind(&trade.payment_id)
            .bind(trade.amount_fen)
            .bind(&trade.description)
            .bind(autopay_at)
            .bind(now)
            .execute(w.conn())
            .await?;
            w.commit().await?;
            Ok::<_, SimError>(())
        };
        run.await.map_err(unavailable)?;
        Ok(self.code_url(&trade.payment_id))
    }

    async fn query(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        self.load(payment_id)
            .await
            .map(|(status, _)| status)
            .map_err(|e| match e {
                SimError::UnknownTrade => ProviderError::UnknownTrade(payment_id.to_string()),
                other => unavailable(other),
            })
    }

    async fn close(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        match self.settle(payment_id, TradeState::Closed, None).await {
            Ok(status) => Ok(status),
            // Already final: report how it ended (SUCCESS means the money arrived first).
            Err(SimError::AlreadyPaid | SimError::Closed | SimError::AlreadyFailed) => {
                self.query(payment_id).await
            }
            Err(SimError::UnknownTrade) => Err(ProviderError::UnknownTrade(payment_id.to_string())),
            Err(e) => Err(unavailable(e)),
        }
    }
}
