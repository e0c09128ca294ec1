//! The trades both front doors and the wallet share: one table, one life cycle
//! (NOTPAY → SUCCESS | CLOSED | PAYERROR), each protocol reading it its own way.
use crate::clock::now_ms;
use crate::outbox::{self, Outgoing};
use crate::store::{Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Wechatpay,
    Alipay,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Wechatpay => "wechatpay",
            Provider::Alipay => "alipay",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "wechatpay" => Some(Provider::Wechatpay),
            "alipay" => Some(Provider::Alipay),
            _ => None,
        }
    }
}

/// WeChat Pay's `trade_state` names; Alipay's `trade_status` is derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeState {
    NotPay,
    Success,
    Closed,
    PayError,
}

impl TradeState {
    pub fn as_str(self) -> &'static str {
        match self {
            TradeState::NotPay => "NOTPAY",
            TradeState::Success => "SUCCESS",
            TradeState::Closed => "CLOSED",
            TradeState::PayError => "PAYERROR",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::NotPay, Self::Success, Self::Closed, Self::PayError]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub provider: Provider,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub description: String,
    pub attach: Option<String>,
    pub notify_url: Option<String>,
    pub create_params: String,
    /// As it reads now: an unpaid trade past its deadline is CLOSED.
    pub state: TradeState,
    pub state_desc: Option<String>,
    pub scanned_at_ms: Option<i64>,
    pub transaction_id: Option<String>,
    pub payer_id: Option<String>,
    pub paid_at_ms: Option<i64>,
    pub expires_at_ms: i64,
    pub created_at_ms: i64,
}

const COLUMNS: &str = "provider, out_trade_no, amount_fen, description, attach, notify_url, \
    create_params, state, state_desc, scanned_at_ms, transaction_id, payer_id, paid_at_ms, \
    expires_at_ms, created_at_ms";

impl Trade {
    fn from_row(row: &AnyRow, now: i64) -> Result<Self, StoreError> {
        let provider: String = row.try_get("provider")?;
        let state: String = row.try_get("state")?;
        let expires_at_ms: i64 = row.try_get("expires_at_ms")?;
        let mut state = TradeState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("trade state {state:?}")))?;
        if state == TradeState::NotPay && expires_at_ms <= now {
            state = TradeState::Closed;
        }
        Ok(Self {
            provider: Provider::parse(&provider)
                .ok_or_else(|| StoreError::Corrupt(format!("provider {provider:?}")))?,
            out_trade_no: row.try_get("out_trade_no")?,
            amount_fen: row.try_get("amount_fen")?,
            description: row.try_get("description")?,
            attach: row.try_get("attach")?,
            notify_url: row.try_get("notify_url")?,
            create_params: row.try_get("create_params")?,
            state,
            state_desc: row.try_get("state_desc")?,
            scanned_at_ms: row.try_get("scanned_at_ms")?,
            transaction_id: row.try_get("transaction_id")?,
            payer_id: row.try_get("payer_id")?,
            paid_at_ms: row.try_get("paid_at_ms")?,
            expires_at_ms,
            created_at_ms: row.try_get("created_at_ms")?,
        })
    }

    /// An Alipay trade exists for the merchant only once the buyer scanned it.
    pub fn exists_for_merchant(&self) -> bool {
        self.provider == Provider::Wechatpay || self.scanned_at_ms.is_some()
    }
}

pub struct NewTrade {
    pub provider: Provider,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub description: String,
    pub attach: Option<String>,
    pub notify_url: Option<String>,
    pub create_params: String,
    pub expires_at_ms: i64,
    pub autopay_at_ms: Option<i64>,
}

/// What a settlement does to an unpaid trade.
pub enum Settlement {
    Pay {
        transaction_id: String,
        payer_id: String,
    },
    Fail {
        reason: String,
    },
    Close,
}

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("no such trade")]
    Unknown,
    /// Already final (or past its deadline): how it stands.
    #[error("the trade is no longer payable")]
    Final(Box<Trade>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SettleError {
    fn from(e: sqlx::Error) -> Self {
        SettleError::Store(StoreError::Database(e))
    }
}

async fn load_in(
    conn: &mut AnyConnection,
    provider: Provider,
    out_trade_no: &str,
) -> Result<Option<Trade>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM trades WHERE provider = $1 AND out_trade_no = $2");
    let row = sqlx::query(&sql)
        .bind(provider.as_str())
        .bind(out_trade_no)
        .fetch_optional(conn)
        .await?;
    row.map(|row| Trade::from_row(&row, now_ms())).transpose()
}

pub async fn load(
    store: &Store,
    provider: Provider,
    out_trade_no: &str,
) -> Result<Option<Trade>, StoreError> {
    let mut conn = store.pool().acquire().await?;
    load_in(&mut conn, provider, out_trade_no).await
}

/// Inserts the trade unless one with its out_trade_no exists; returns the stored trade either
/// way (the caller compares `create_params` to tell a retry from a conflict). One statement
/// holds the writer; the read after it sees the row whoever inserted it.
pub async fn create(store: &Store, new: NewTrade) -> Result<Trade, StoreError> {
    sqlx::query(
        "INSERT INTO trades (provider, out_trade_no, amount_fen, description, attach, notify_url, \
         create_params, state, expires_at_ms, autopay_at_ms, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'NOTPAY', $8, $9, $10) \
         ON CONFLICT (provider, out_trade_no) DO NOTHING",
    )
    .bind(new.provider.as_str())
    .bind(&new.out_trade_no)
    .bind(new.amount_fen)
    .bind(&new.description)
    .bind(new.attach.as_deref())
    .bind(new.notify_url.as_deref())
    .bind(&new.create_params)
    .bind(new.expires_at_ms)
    .bind(new.autopay_at_ms)
    .bind(now_ms())
    .execute(store.write_pool())
    .await?;
    load(store, new.provider, &new.out_trade_no)
        .await?
        .ok_or_else(|| StoreError::Corrupt("a trade vanished after its insert".into()))
}

/// The buyer scans (opens the wallet page): an unpaid Alipay trade comes into existence, with
/// its trade_no. Returns the trade as it stands, or `None` if there is none.
pub async fn scan(
    store: &Store,
    provider: Provider,
    out_trade_no: &str,
) -> Result<Option<Trade>, StoreError> {
    let now = now_ms();
    let trade_no = format!(
        "{}{}",
        crate::clock::beijing_date(now),
        crate::keys::random_digits(20)
    );
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "UPDATE trades SET scanned_at_ms = $1, transaction_id = COALESCE(transaction_id, $2) \
         WHERE provider = $3 AND out_trade_no = $4 AND scanned_at_ms IS NULL \
         AND state = 'NOTPAY' AND expires_at_ms > $1",
    )
    .bind(now)
    .bind((provider == Provider::Alipay).then_some(trade_no))
    .bind(provider.as_str())
    .bind(out_trade_no)
    .execute(&mut *tx)
    .await?;
    let trade = load_in(&mut tx, provider, out_trade_no).await?;
    tx.commit().await?;
    Ok(trade)
}

/// Moves an unpaid, unexpired trade on, and queues the notification `notify` makes of the
/// result in the same transaction (so a crash loses neither). The outbox is woken by the caller.
pub async fn settle(
    store: &Store,
    provider: Provider,
    out_trade_no: &str,
    settlement: Settlement,
    notify: impl FnOnce(&Trade) -> Option<Outgoing>,
) -> Result<(Trade, bool), SettleError> {
    settle_at(store, provider, out_trade_no, settlement, now_ms(), notify).await
}

/// [`settle`] as of `now` (unix ms): the trade must have been unpaid and unexpired then.
pub async fn settle_at(
    store: &Store,
    provider: Provider,
    out_trade_no: &str,
    settlement: Settlement,
    now: i64,
    notify: impl FnOnce(&Trade) -> Option<Outgoing>,
) -> Result<(Trade, bool), SettleError> {
    let (state, desc, transaction_id, payer_id, paid_at) = match settlement {
        Settlement::Pay {
            transaction_id,
            payer_id,
        } => (
            TradeState::Success,
            Some("支付成功".to_string()),
            Some(transaction_id),
            Some(payer_id),
            Some(now),
        ),
        Settlement::Fail { reason } => (TradeState::PayError, Some(reason), None, None, None),
        Settlement::Close => (
            TradeState::Closed,
            Some("订单已关闭".to_string()),
            None,
            None,
            None,
        ),
    };
    let mut tx = store.begin_write().await?;
    let changed = sqlx::query(
        "UPDATE trades SET state = $1, state_desc = $2, \
         transaction_id = COALESCE(transaction_id, $3), payer_id = $4, paid_at_ms = $5, \
         autopay_at_ms = NULL \
         WHERE provider = $6 AND out_trade_no = $7 AND state = 'NOTPAY' AND expires_at_ms > $8",
    )
    .bind(state.as_str())
    .bind(desc.as_deref())
    .bind(transaction_id.as_deref())
    .bind(payer_id.as_deref())
    .bind(paid_at)
    .bind(provider.as_str())
    .bind(out_trade_no)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let trade = load_in(&mut tx, provider, out_trade_no)
        .await?
        .ok_or(SettleError::Unknown)?;
    if changed == 0 {
        return Err(SettleError::Final(Box::new(trade)));
    }
    let queued = match notify(&trade) {
        Some(outgoing) => {
            outbox::enqueue(&mut tx, &outgoing).await?;
            true
        }
        None => false,
    };
    tx.commit().await?;
    Ok((trade, queued))
}

/// Trades whose demo auto-pay time has come.
pub async fn autopay_due(store: &Store, limit: i64) -> Result<Vec<(Provider, String)>, StoreError> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT provider, out_trade_no FROM trades WHERE state = 'NOTPAY' \
         AND autopay_at_ms IS NOT NULL AND autopay_at_ms <= $1 AND expires_at_ms > $1 LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let provider: String = row.try_get(0)?;
            let provider = Provider::parse(&provider)
                .ok_or_else(|| StoreError::Corrupt(format!("provider {provider:?}")))?;
            Ok((provider, row.try_get(1)?))
        })
        .collect()
}

/// Auto-pay tried this trade (paid or refused): not again.
pub async fn clear_autopay(
    store: &Store,
    provider: Provider,
    out_trade_no: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE trades SET autopay_at_ms = NULL WHERE provider = $1 AND out_trade_no = $2")
        .bind(provider.as_str())
        .bind(out_trade_no)
        .execute(store.write_pool())
        .await?;
    Ok(())
}
