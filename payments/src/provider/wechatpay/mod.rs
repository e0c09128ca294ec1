//! WeChat Pay API v3, Native (扫码支付), for a direct merchant: create / query / close, every
//! request signed and every answer verified (see `client`), and payment notifications (see
//! `notification`). Protocol: shared/PROVIDERS.md and pay.weixin.qq.com's API v3 pages.
mod client;
mod notification;
mod verifier;

use crate::provider::http::{checked_base_url, DEFAULT_TIMEOUT};
use crate::provider::keys::{Certificate, RsaSigningKey, RsaVerifyingKey};
use crate::provider::{
    CreateTrade, PaymentProvider, ProviderConfigError, ProviderError, TradeStatus,
};
use crate::secret::Secret;
use crate::status::{PaymentMethod, TradeState};
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use verifier::SignatureVerifier;

pub use verifier::MAX_SKEW_SECS;

pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// WeChat Pay's limit on `description`, in characters.
const DESCRIPTION_MAX_CHARS: usize = 127;

/// The WeChat Pay public key (merchant platform → API安全 → 微信支付公钥): the default way new
/// merchants verify WeChat Pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatPayPublicKey {
    /// `PUB_KEY_ID_…`: what WeChat Pay sends in `Wechatpay-Serial` when it signs with this key.
    pub id: String,
    /// SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`) or bare base64.
    pub pem: String,
}

#[derive(Debug, Clone)]
pub struct WechatPayConfig {
    /// [`DEFAULT_BASE_URL`], or the sandbox's (a path prefix is kept and signed).
    pub base_url: String,
    pub mchid: String,
    pub appid: String,
    /// The serial of the merchant API certificate (upper hex), the `serial_no` of requests.
    pub merchant_serial_no: String,
    /// The merchant API private key (`apiclient_key.pem`, PKCS#8; PKCS#1 and bare base64 too).
    pub merchant_private_key_pem: Secret<String>,
    /// The APIv3 key: exactly 32 bytes, decrypts notifications.
    pub api_v3_key: Secret<String>,
    pub public_key: Option<WechatPayPublicKey>,
    /// Platform certificates (PEM, one or several per entry): keep every valid one.
    pub platform_certificates_pem: Vec<String>,
    /// Where WeChat Pay POSTs notifications: https, no query string.
    pub notify_url: String,
    /// Per attempt; [`DEFAULT_TIMEOUT`] is 5 s.
    pub timeout: Duration,
}

impl WechatPayConfig {
    /// A config with the real host and the default timeout; the rest to be filled in.
    pub fn new(mchid: impl Into<String>, appid: impl Into<String>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            mchid: mchid.into(),
            appid: appid.into(),
            merchant_serial_no: String::new(),
            merchant_private_key_pem: Secret::default(),
            api_v3_key: Secret::default(),
            public_key: None,
            platform_certificates_pem: Vec::new(),
            notify_url: String::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

pub struct WechatPay {
    base_url: String,
    mchid: String,
    appid: String,
    merchant_serial_no: String,
    signing_key: RsaSigningKey,
    api_v3_key: Secret<Vec<u8>>,
    verifier: SignatureVerifier,
    notify_url: String,
    http: reqwest::Client,
}

impl WechatPay {
    pub fn new(config: WechatPayConfig) -> Result<Self, ProviderConfigError> {
        let err = |field: &'static str, problem: String| ProviderConfigError::new(field, problem);
        let base_url = checked_base_url("wechatpay.base_url", &config.base_url)?;
        for (field, value) in [
            ("wechatpay.mchid", &config.mchid),
            ("wechatpay.appid", &config.appid),
            ("wechatpay.merchant_serial_no", &config.merchant_serial_no),
        ] {
            if value.trim().is_empty() {
                return Err(err(field, "is empty".into()));
            }
        }
        let signing_key =
            RsaSigningKey::parse(config.merchant_private_key_pem.expose()).map_err(|e| {
                err(
                    "wechatpay.merchant_private_key_pem",
                    format!("expected the merchant API private key (apiclient_key.pem): {e}"),
                )
            })?;
        let api_v3_key = config.api_v3_key.expose().as_bytes().to_vec();
        if api_v3_key.len() != 32 {
            return Err(err(
                "wechatpay.api_v3_key",
                format!(
                    "must be exactly 32 bytes (the APIv3 key set in the merchant platform), got {}",
                    api_v3_key.len()
                ),
            ));
        }
        let public_key = match &config.public_key {
            None => None,
            Some(WechatPayPublicKey { id, pem }) => {
                if !id.starts_with("PUB_KEY_ID_") {
                    return Err(err(
                        "wechatpay.public_key.id",
                        format!("{id:?} does not start with PUB_KEY_ID_"),
                    ));
                }
                let key = RsaVerifyingKey::parse(pem).map_err(|e| {
                    err(
                        "wechatpay.public_key.pem",
                        format!("expected the WeChat Pay public key (pub_key.pem): {e}"),
                    )
                })?;
                Some((id.clone(), key))
            }
        };
        let mut certificates = Vec::new();
        for pem in &config.platform_certificates_pem {
            certificates.extend(Certificate::parse_all(pem).map_err(|e| {
                err(
                    "wechatpay.platform_certificates_pem",
                    format!("expected WeChat Pay platform certificates: {e}"),
                )
            })?);
        }
        if public_key.is_none() && certificates.is_empty() {
            return Err(err(
                "wechatpay.public_key",
                "WeChat Pay answers cannot be verified: configure the WeChat Pay public key or platform certificates".into(),
            ));
        }
        checked_base_url("wechatpay.notify_url", &config.notify_url)?;
        Ok(Self {
            base_url: base_url.as_str().trim_end_matches('/').to_string(),
            mchid: config.mchid,
            appid: config.appid,
            merchant_serial_no: config.merchant_serial_no,
            signing_key,
            api_v3_key: Secret::new(api_v3_key),
            verifier: SignatureVerifier::new(public_key, certificates),
            notify_url: config.notify_url,
            http: crate::provider::http::client(config.timeout),
        })
    }

    fn trade_path(&self, payment_id: &str) -> String {
        format!("/v3/pay/transactions/out-trade-no/{payment_id}")
    }
}

#[derive(Serialize)]
struct NativeOrder<'a> {
    appid: &'a str,
    mchid: &'a str,
    description: &'a str,
    out_trade_no: &'a str,
    time_expire: String,
    notify_url: &'a str,
    amount: OrderAmount,
}

#[derive(Serialize)]
struct OrderAmount {
    total: i64,
    currency: &'static str,
}

#[derive(Deserialize)]
struct CodeUrl {
    code_url: String,
}

/// A WeChat Pay Transaction (query answer, decrypted notification), the fields we use.
#[derive(Debug, Deserialize)]
struct Transaction {
    appid: Option<String>,
    mchid: Option<String>,
    out_trade_no: String,
    transaction_id: Option<String>,
    trade_state: String,
    trade_state_desc: Option<String>,
    success_time: Option<String>,
    amount: Option<TransactionAmount>,
}

#[derive(Debug, Deserialize)]
struct TransactionAmount {
    total: i64,
}

impl Transaction {
    /// The normalized state. A trade without `amount` (possible before payment) reports 0:
    /// the service never compares amounts of a NotPay trade.
    fn into_trade_status(self) -> Result<TradeStatus, String> {
        let trade_state = match self.trade_state.as_str() {
            "SUCCESS" | "REFUND" => TradeState::Success, // REFUND: the money did arrive
            "NOTPAY" | "USERPAYING" | "ACCEPT" => TradeState::NotPay,
            "CLOSED" | "REVOKED" => TradeState::Closed,
            "PAYERROR" => TradeState::PayError,
            other => return Err(format!("unknown trade_state {other:?}")),
        };
        let amount_fen = match (self.amount, trade_state) {
            (Some(amount), _) => amount.total,
            (None, TradeState::Success) => return Err("a paid transaction without amount".into()),
            (None, _) => 0,
        };
        let paid_at_ms = match self
            .success_time
            .filter(|_| trade_state == TradeState::Success)
        {
            Some(time) => Some(
                DateTime::parse_from_rfc3339(&time)
                    .map_err(|e| format!("success_time {time:?}: {e}"))?
                    .timestamp_millis(),
            ),
            None => None,
        };
        Ok(TradeStatus {
            payment_id: self.out_trade_no,
            trade_state,
            amount_fen,
            transaction_id: self.transaction_id.filter(|id| !id.is_empty()),
            paid_at_ms,
            failure_reason: self
                .trade_state_desc
                .filter(|_| trade_state == TradeState::PayError),
        })
    }
}

/// `expires_at_ms` in RFC 3339 at Beijing time, as `time_expire` must be.
fn beijing_rfc3339(at_ms: i64) -> String {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    DateTime::from_timestamp_millis(at_ms)
        .unwrap_or_default()
        .with_timezone(&beijing)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// At most `max` characters, cut on a character boundary.
fn truncate_chars(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(end, _)| &text[..end])
}

#[async_trait]
impl PaymentProvider for WechatPay {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::WechatPay
    }

    async fn create(&self, trade: CreateTrade) -> Result<String, ProviderError> {
        let order = NativeOrder {
            appid: &self.appid,
            mchid: &self.mchid,
            description: truncate_chars(&trade.description, DESCRIPTION_MAX_CHARS),
            out_trade_no: &trade.payment_id,
            time_expire: beijing_rfc3339(trade.expires_at_ms),
            notify_url: &self.notify_url,
            amount: OrderAmount {
                total: trade.amount_fen,
                currency: "CNY",
            },
        };
        let body = serde_json::to_string(&order).expect("an order serializes");
        let answer = self
            .call(
                reqwest::Method::POST,
                "/v3/pay/transactions/native",
                Some(body),
            )
            .await?;
        let code_url: CodeUrl = parse_answer(&answer)?;
        Ok(code_url.code_url)
    }

    async fn query(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        let path = format!("{}?mchid={}", self.trade_path(payment_id), self.mchid);
        let answer = self
            .call(reqwest::Method::GET, &path, None)
            .await
            .map_err(|e| match e {
                ProviderError::Rejected { code, .. } if code == "ORDER_NOT_EXIST" => {
                    ProviderError::UnknownTrade(payment_id.to_string())
                }
                other => other,
            })?;
        let transaction: Transaction = parse_answer(&answer)?;
        transaction.into_trade_status().map_err(|reason| {
            ProviderError::Unavailable(format!("WeChat Pay query answer: {reason}"))
        })
    }

    async fn close(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        let path = format!("{}/close", self.trade_path(payment_id));
        let body = serde_json::json!({ "mchid": self.mchid }).to_string();
        match self.call(reqwest::Method::POST, &path, Some(body)).await {
            // Closed now, or already: either way the query tells the final state (paid during
            // the close included).
            Ok(_) => {}
            Err(ProviderError::Rejected { code, .. }) if code == "ORDER_CLOSED" => {}
            Err(ProviderError::Rejected { code, .. }) if code == "ORDER_NOT_EXIST" => {
                return Err(ProviderError::UnknownTrade(payment_id.to_string()))
            }
            Err(other) => return Err(other),
        }
        self.query(payment_id).await
    }
}

/// A verified 2xx answer's JSON; unparseable means something answered that is not WeChat Pay.
fn parse_answer<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        ProviderError::Unavailable(format!("WeChat Pay answered an unexpected body: {e}"))
    })
}

#[cfg(test)]
mod tests;
