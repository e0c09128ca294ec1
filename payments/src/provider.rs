//! A payment provider as the merchant sees it: create a trade and get the QR's text, query its
//! state, close it. One adapter per protocol (`wechatpay`, `alipay`); their states are mapped
//! onto WeChat Pay's `trade_state` names ([`TradeState`]).
use crate::status::{PaymentMethod, TradeState};

pub mod alipay;
#[cfg(test)]
mod fake_server;
pub(crate) mod http;
pub mod keys;
mod metered;
pub mod wechatpay;
/// The URL rule shared with the server (its public URL in production).
pub use http::is_https_or_loopback_url;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a trade is called at the provider when the order has no description: both providers
/// require one (WeChat Pay `description`, Alipay `subject`), and their wallets read Chinese.
pub const DEFAULT_TRADE_DESCRIPTION: &str = "扫码支付订单";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTrade {
    /// Our payment id: the provider's `out_trade_no`.
    pub payment_id: String,
    pub amount_fen: i64,
    pub description: String,
    pub expires_at_ms: i64,
}

/// The provider's answer to a query, and the content of its notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeStatus {
    pub payment_id: String,
    pub trade_state: TradeState,
    /// What the provider says was (or is to be) paid. Meaningful for `Success` (compare it with
    /// the payment's amount); for `NotPay` it may be 0 (Alipay before the scan knows no trade,
    /// a WeChat Pay answer may omit it): never compare amounts of a trade that is not paid.
    pub amount_fen: i64,
    pub transaction_id: Option<String>,
    pub paid_at_ms: Option<i64>,
    pub failure_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider has no trade {0}")]
    UnknownTrade(String),
    /// Down, slow past our timeout, 5xx/SYSTEM_ERROR/20000 after the retries, or an answer whose
    /// signature did not verify (treated as forged): the state is unknown, ask again later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider understood and refused the call (its code and message): retrying the same
    /// call will not help (e.g. PARAM_ERROR, OUT_TRADE_NO_USED, ORDER_CLOSED, ACQ.*).
    #[error("the provider refused: {code}: {message}")]
    Rejected { code: String, message: String },
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The protocol this adapter speaks.
    fn method(&self) -> PaymentMethod;
    /// Registers a trade; returns the `code_url` the shopper scans.
    async fn create(&self, trade: CreateTrade) -> Result<String, ProviderError>;
    async fn query(&self, payment_id: &str) -> Result<TradeStatus, ProviderError>;
    /// Closes an unpaid trade. Returns the trade's state afterwards: `Success` means the money
    /// arrived before the close, and the caller must record it as paid.
    async fn close(&self, payment_id: &str) -> Result<TradeStatus, ProviderError>;
}

/// What the provider POSTs to the merchant's notify URL (signed, see `signature`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Unique per event; the provider resends the same id until it is acknowledged.
    pub event_id: String,
    #[serde(flatten)]
    pub trade: TradeStatus,
}

/// The enabled providers (at most one per method), each call timed for the operator, and the
/// method a payment gets when the shopper has not chosen one.
#[derive(Clone)]
pub struct Providers {
    enabled: Vec<Arc<dyn PaymentProvider>>,
    default_method: PaymentMethod,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvidersError {
    #[error("no payment provider is configured")]
    NoneEnabled,
    #[error("two providers speak {0}")]
    Duplicate(PaymentMethod),
    #[error("the default method {0} is not enabled (enabled: {1})")]
    DefaultNotEnabled(PaymentMethod, String),
}

impl Providers {
    /// `default_method`: `None` picks the first enabled provider.
    pub fn new(
        enabled: Vec<Arc<dyn PaymentProvider>>,
        default_method: Option<PaymentMethod>,
    ) -> Result<Self, ProvidersError> {
        let first = enabled.first().ok_or(ProvidersError::NoneEnabled)?.method();
        for (i, provider) in enabled.iter().enumerate() {
            if enabled[..i].iter().any(|p| p.method() == provider.method()) {
                return Err(ProvidersError::Duplicate(provider.method()));
            }
        }
        let providers = Self {
            default_method: default_method.unwrap_or(first),
            enabled: enabled
                .into_iter()
                .map(|p| Arc::new(metered::Metered(p)) as Arc<dyn PaymentProvider>)
                .collect(),
        };
        if providers.get(providers.default_method).is_none() {
            let names: Vec<&str> = providers.methods().map(PaymentMethod::as_str).collect();
            return Err(ProvidersError::DefaultNotEnabled(
                providers.default_method,
                names.join(", "),
            ));
        }
        Ok(providers)
    }

    pub fn get(&self, method: PaymentMethod) -> Option<&dyn PaymentProvider> {
        self.enabled
            .iter()
            .find(|p| p.method() == method)
            .map(|p| &**p)
    }

    /// The enabled methods, in the order they were configured.
    pub fn methods(&self) -> impl Iterator<Item = PaymentMethod> + '_ {
        self.enabled.iter().map(|p| p.method())
    }

    pub fn default_method(&self) -> PaymentMethod {
        self.default_method
    }
}

/// An adapter's configuration cannot work: which field, and what it needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ProviderConfigError {
    /// The field as named in the adapter's config struct, e.g. `wechatpay.api_v3_key`.
    pub field: &'static str,
    pub problem: String,
}

impl ProviderConfigError {
    pub(crate) fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

/// Why a notification was not accepted. Nothing in it is trusted: `out_trade_no` (when it could
/// be read) may at most prompt a query to the provider, whose answer is verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationRejected {
    /// The signature, timestamp, serial or key did not check out (or it was a signature probe).
    #[error("unverified notification: {reason}")]
    Unverified {
        reason: String,
        out_trade_no: Option<String>,
    },
    /// Signed by the provider but not in the expected shape.
    #[error("malformed notification: {reason}")]
    Malformed {
        reason: String,
        out_trade_no: Option<String>,
    },
    /// Verified, but for another merchant or app (mchid / appid / app_id differ).
    #[error("notification for another merchant: {reason}")]
    NotOurs {
        reason: String,
        out_trade_no: Option<String>,
    },
}

impl NotificationRejected {
    /// The trade the notification claims to be about, unverified: a reason to query, no more.
    pub fn out_trade_no(&self) -> Option<&str> {
        match self {
            Self::Unverified { out_trade_no, .. }
            | Self::Malformed { out_trade_no, .. }
            | Self::NotOurs { out_trade_no, .. } => out_trade_no.as_deref(),
        }
    }
}
