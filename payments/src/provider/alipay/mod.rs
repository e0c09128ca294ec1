//! Alipay 当面付, scan (`alipay.trade.precreate` / `.query` / `.close`): RSA2 requests and
//! verified answers (see `gateway`), and notifications (see `notification`). Protocol:
//! shared/PROVIDERS.md and opendocs.alipay.com.
mod gateway;
mod notification;

use crate::clock::now_ms;
use crate::money::Amount;
use crate::provider::http::{checked_base_url, DEFAULT_TIMEOUT};
use crate::provider::keys::{RsaSigningKey, RsaVerifyingKey};
use crate::provider::{
    CreateTrade, PaymentProvider, ProviderConfigError, ProviderError, TradeStatus,
};
use crate::secret::Secret;
use crate::status::{PaymentMethod, TradeState};
use async_trait::async_trait;
use reqwest::Url;
use serde::Deserialize;
use std::time::Duration;

pub const DEFAULT_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// Alipay's limit on `subject`, in characters.
const SUBJECT_MAX_CHARS: usize = 256;

#[derive(Debug, Clone)]
pub struct AlipayConfig {
    /// [`DEFAULT_GATEWAY`], or the sandbox's.
    pub gateway: String,
    pub app_id: String,
    /// The app private key (应用私钥): PKCS#1 or PKCS#8, PEM or bare base64.
    pub app_private_key: Secret<String>,
    /// The Alipay public key (支付宝公钥, not the app's own): PEM or bare base64 SPKI.
    pub alipay_public_key: String,
    pub notify_url: String,
    /// Per attempt; [`DEFAULT_TIMEOUT`] is 5 s.
    pub timeout: Duration,
}

impl AlipayConfig {
    /// A config with the real gateway and the default timeout; the rest to be filled in.
    pub fn new(app_id: impl Into<String>) -> Self {
        Self {
            gateway: DEFAULT_GATEWAY.into(),
            app_id: app_id.into(),
            app_private_key: Secret::default(),
            alipay_public_key: String::new(),
            notify_url: String::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

pub struct Alipay {
    gateway: Url,
    app_id: String,
    signing_key: RsaSigningKey,
    alipay_key: RsaVerifyingKey,
    notify_url: String,
    http: reqwest::Client,
}

impl Alipay {
    pub fn new(config: AlipayConfig) -> Result<Self, ProviderConfigError> {
        let gateway = checked_base_url("alipay.gateway", &config.gateway)?;
        if config.app_id.trim().is_empty() {
            return Err(ProviderConfigError::new("alipay.app_id", "is empty"));
        }
        let signing_key = RsaSigningKey::parse(config.app_private_key.expose()).map_err(|e| {
            ProviderConfigError::new(
                "alipay.app_private_key",
                format!("expected the app private key (应用私钥): {e}"),
            )
        })?;
        let alipay_key = RsaVerifyingKey::parse(&config.alipay_public_key).map_err(|e| {
            ProviderConfigError::new(
                "alipay.alipay_public_key",
                format!("expected the Alipay public key (支付宝公钥): {e}"),
            )
        })?;
        checked_base_url("alipay.notify_url", &config.notify_url)?;
        Ok(Self {
            gateway,
            app_id: config.app_id,
            signing_key,
            alipay_key,
            notify_url: config.notify_url,
            http: crate::provider::http::client(config.timeout),
        })
    }
}

/// A trade as `alipay.trade.query` and notifications describe it, the fields we use.
#[derive(Debug, Deserialize)]
struct AlipayTrade {
    out_trade_no: String,
    trade_no: Option<String>,
    trade_status: String,
    total_amount: Option<String>,
    /// `send_pay_date` in query answers, `gmt_payment` in notifications.
    #[serde(alias = "gmt_payment")]
    send_pay_date: Option<String>,
}

impl AlipayTrade {
    fn into_trade_status(self) -> Result<TradeStatus, String> {
        let trade_state = match self.trade_status.as_str() {
            "WAIT_BUYER_PAY" => TradeState::NotPay,
            "TRADE_SUCCESS" | "TRADE_FINISHED" => TradeState::Success,
            "TRADE_CLOSED" => TradeState::Closed,
            other => return Err(format!("unknown trade_status {other:?}")),
        };
        let amount_fen = match self.total_amount.as_deref() {
            Some(text) => Amount::parse_yuan(text)
                .map_err(|e| format!("total_amount {text:?}: {e}"))?
                .fen(),
            None if trade_state == TradeState::Success => {
                return Err("a paid trade without total_amount".into())
            }
            None => 0,
        };
        let paid_at_ms = match self
            .send_pay_date
            .filter(|_| trade_state == TradeState::Success)
        {
            Some(text) => {
                Some(gateway::parse_beijing_time(&text).ok_or(format!("payment time {text:?}"))?)
            }
            None => None,
        };
        Ok(TradeStatus {
            payment_id: self.out_trade_no,
            trade_state,
            amount_fen,
            transaction_id: self.trade_no.filter(|no| !no.is_empty()),
            paid_at_ms,
            failure_reason: None,
        })
    }
}

/// No trade exists before the scan: unpaid, amount unknown (0; see [`TradeStatus::amount_fen`]).
fn unscanned(payment_id: &str, trade_state: TradeState) -> TradeStatus {
    TradeStatus {
        payment_id: payment_id.to_string(),
        trade_state,
        amount_fen: 0,
        transaction_id: None,
        paid_at_ms: None,
        failure_reason: None,
    }
}

/// The payment's remaining lifetime in whole minutes, rounded up, at least 1 (`"5m"`).
fn minutes_left(expires_at_ms: i64, now_ms: i64) -> String {
    let left_ms = (expires_at_ms - now_ms).max(1);
    format!("{}m", (left_ms + 59_999) / 60_000)
}

fn is_rejected_with(error: &ProviderError, expected: &str) -> bool {
    matches!(error, ProviderError::Rejected { code, .. } if code == expected)
}

#[async_trait]
impl PaymentProvider for Alipay {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::Alipay
    }

    async fn create(&self, trade: CreateTrade) -> Result<String, ProviderError> {
        let total_amount =
            Amount::from_fen(trade.amount_fen).map_err(|e| ProviderError::Rejected {
                code: "INVALID_AMOUNT".into(),
                message: format!("{} fen: {e}", trade.amount_fen),
            })?;
        // The QR cannot be closed before it is scanned: its own timeout bounds it instead.
        let lifetime = minutes_left(trade.expires_at_ms, now_ms());
        let subject: String = trade.description.chars().take(SUBJECT_MAX_CHARS).collect();
        let biz_content = serde_json::json!({
            "out_trade_no": trade.payment_id,
            "total_amount": total_amount.yuan_decimal_text(),
            "subject": subject,
            "timeout_express": lifetime,
            "qr_code_timeout_express": lifetime,
        })
        .to_string();
        let answer = self
            .call(
                "alipay.trade.precreate",
                &biz_content,
                Some(&self.notify_url),
            )
            .await?;
        answer["qr_code"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                ProviderError::Unavailable("Alipay precreate answer without qr_code".into())
            })
    }

    async fn query(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        let biz_content = serde_json::json!({ "out_trade_no": payment_id }).to_string();
        match self.call("alipay.trade.query", &biz_content, None).await {
            Ok(answer) => serde_json::from_value::<AlipayTrade>(answer)
                .map_err(|e| e.to_string())
                .and_then(AlipayTrade::into_trade_status)
                .map_err(|reason| {
                    ProviderError::Unavailable(format!("Alipay query answer: {reason}"))
                }),
            Err(e) if is_rejected_with(&e, "ACQ.TRADE_NOT_EXIST") => {
                Ok(unscanned(payment_id, TradeState::NotPay))
            }
            Err(e) => Err(e),
        }
    }

    async fn close(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        let biz_content = serde_json::json!({ "out_trade_no": payment_id }).to_string();
        match self.call("alipay.trade.close", &biz_content, None).await {
            // Closed, or paid/closed already: the query tells which (a payment during the
            // close answers 10000 yet ends TRADE_SUCCESS).
            Ok(_) => {}
            Err(e)
                if is_rejected_with(&e, "ACQ.TRADE_HAS_SUCCESS")
                    || is_rejected_with(&e, "ACQ.TRADE_STATUS_ERROR") => {}
            // Never scanned: nothing to close, and the QR expires with the payment.
            Err(e) if is_rejected_with(&e, "ACQ.TRADE_NOT_EXIST") => {
                return Ok(unscanned(payment_id, TradeState::Closed))
            }
            Err(e) => return Err(e),
        }
        self.query(payment_id).await
    }
}

#[cfg(test)]
mod gateway_tests;
#[cfg(test)]
mod tests;
