//! What the buyer (or the bank behind them) does to a trade: scan, approve, decline. The wallet
//! page and demo auto-pay both act through here.
use crate::clock::now_ms;
use crate::keys::{random_alphanumeric, random_digits};
use crate::outbox::Outgoing;
use crate::store::StoreError;
use crate::trades::{self, Provider, SettleError, Settlement, Trade, TradeState};
use crate::Sandbox;

/// Why the bank refuses every approval under fault `declineAll`.
pub const BANK_DECLINE_REASON: &str = "银行卡余额不足";
/// WeChat's trade_state_desc when the buyer declines in the wallet.
pub const BUYER_DECLINE_REASON: &str = "用户拒绝支付";

#[derive(Debug, thiserror::Error)]
pub enum BuyerError {
    #[error("no such trade")]
    Unknown,
    #[error("the trade is no longer payable")]
    Final(Box<Trade>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SettleError> for BuyerError {
    fn from(e: SettleError) -> Self {
        match e {
            SettleError::Unknown => BuyerError::Unknown,
            SettleError::Final(trade) => BuyerError::Final(trade),
            SettleError::Store(e) => BuyerError::Store(e),
        }
    }
}

/// How an approval ended.
#[derive(Debug)]
pub enum Approval {
    Paid,
    /// The bank refused (fault `declineAll`): WeChat PAYERROR, Alipay still unpaid.
    Refused,
}

fn new_transaction_id(provider: Provider, trade: &Trade) -> String {
    match provider {
        // Alipay's trade_no was given at the scan.
        Provider::Alipay => trade.transaction_id.clone().unwrap_or_default(),
        Provider::Wechatpay => format!("4200{}", random_digits(24)),
    }
}

fn new_payer_id(provider: Provider) -> String {
    match provider {
        Provider::Wechatpay => format!("o{}", random_alphanumeric(27)),
        Provider::Alipay => format!("2088{}", random_digits(12)),
    }
}

impl Sandbox {
    /// The buyer opens the wallet page: an Alipay trade comes into existence.
    pub(crate) async fn scan(
        &self,
        provider: Provider,
        out_trade_no: &str,
    ) -> Result<Trade, BuyerError> {
        let trade = match provider {
            Provider::Alipay => trades::scan(&self.store, provider, out_trade_no).await?,
            Provider::Wechatpay => trades::load(&self.store, provider, out_trade_no).await?,
        };
        trade.ok_or(BuyerError::Unknown)
    }

    /// The buyer approves: money moves and the merchant is notified, unless the bank refuses.
    pub(crate) async fn approve(
        &self,
        provider: Provider,
        out_trade_no: &str,
    ) -> Result<Approval, BuyerError> {
        let trade = self.scan(provider, out_trade_no).await?;
        if trade.state != TradeState::NotPay {
            return Err(BuyerError::Final(Box::new(trade)));
        }
        if self.faults().decline_all {
            return match provider {
                Provider::Wechatpay => {
                    let settlement = Settlement::Fail {
                        reason: BANK_DECLINE_REASON.into(),
                    };
                    trades::settle(&self.store, provider, out_trade_no, settlement, |_| None)
                        .await?;
                    Ok(Approval::Refused)
                }
                Provider::Alipay => Ok(Approval::Refused),
            };
        }
        self.pay(trade).await.map(|_| Approval::Paid)
    }

    /// Pays an unpaid trade and queues its notification in the same transaction.
    pub(crate) async fn pay(&self, trade: Trade) -> Result<Trade, BuyerError> {
        self.pay_at(trade, now_ms()).await
    }

    /// [`Self::pay`], the money landing at `at_ms` (fault `payDuringClose`: a payment that raced
    /// the close lands just before the trade's time ran out).
    pub(crate) async fn pay_at(&self, trade: Trade, at_ms: i64) -> Result<Trade, BuyerError> {
        let settlement = Settlement::Pay {
            transaction_id: new_transaction_id(trade.provider, &trade),
            payer_id: new_payer_id(trade.provider),
        };
        let (paid, queued) = trades::settle_at(
            &self.store,
            trade.provider,
            &trade.out_trade_no,
            settlement,
            at_ms,
            |paid| self.notification_for(paid),
        )
        .await?;
        if queued {
            self.outbox_ready.notify_one();
        }
        Ok(paid)
    }

    /// The buyer declines. WeChat: PAYERROR (Native notifies success only, so no notification).
    /// Alipay: a wallet's cancel changes nothing; the trade stays payable.
    pub(crate) async fn decline(
        &self,
        provider: Provider,
        out_trade_no: &str,
    ) -> Result<Trade, BuyerError> {
        let trade = self.scan(provider, out_trade_no).await?;
        if trade.state != TradeState::NotPay {
            return Err(BuyerError::Final(Box::new(trade)));
        }
        match provider {
            Provider::Wechatpay => {
                let settlement = Settlement::Fail {
                    reason: BUYER_DECLINE_REASON.into(),
                };
                Ok(
                    trades::settle(&self.store, provider, out_trade_no, settlement, |_| None)
                        .await?
                        .0,
                )
            }
            Provider::Alipay => Ok(trade),
        }
    }

    /// The notification a paid trade sends, if the merchant gave a notify_url.
    fn notification_for(&self, trade: &Trade) -> Option<Outgoing> {
        let notify_url = trade.notify_url.clone()?;
        let (id, payload) = match trade.provider {
            Provider::Wechatpay => crate::wechatpay::notify::payload(self, trade),
            Provider::Alipay => crate::alipay::notify::payload(self, trade),
        };
        Some(Outgoing {
            id,
            provider: trade.provider,
            out_trade_no: trade.out_trade_no.clone(),
            notify_url,
            payload,
        })
    }
}
