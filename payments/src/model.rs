//! Records and views shared by the store, the server functions and the browser.
use crate::status::{EventSource, OrderStatus, PaymentFailure, PaymentMethod, PaymentStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub amount_fen: i64,
    /// The shop's words for what is bought; `None` when it gave none (each reader words its own
    /// default: the page in the shopper's language, the provider adapter its required subject).
    pub description: Option<String>,
    pub status: OrderStatus,
    pub created_at_ms: i64,
    pub paid_at_ms: Option<i64>,
    /// The one payment that paid this order.
    pub paid_by_payment: Option<String>,
    /// The shop's own id for this order (unique per API key).
    pub reference: Option<String>,
    /// Where the shopper goes after paying (scanpay's order page when absent).
    pub return_url: Option<String>,
    /// The API key that created it: the merchant's business, never the browser's.
    #[serde(skip)]
    pub api_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: String,
    pub order_id: String,
    pub amount_fen: i64,
    pub status: PaymentStatus,
    /// The provider whose app pays it.
    pub method: PaymentMethod,
    pub created_at_ms: i64,
    /// The deadline, on the server's clock.
    pub expires_at_ms: i64,
    pub paid_at_ms: Option<i64>,
    pub provider_transaction_id: Option<String>,
    /// What the QR code encodes: the provider's link for this payment.
    pub code_url: String,
    pub paid_late: bool,
    pub needs_refund: bool,
    pub failure_reason: Option<String>,
}

impl Payment {
    /// The status a reader should see at `now_ms`: a pending payment past its deadline is
    /// expired even before the sweeper has written it down.
    pub fn status_at(&self, now_ms: i64) -> PaymentStatus {
        if self.status == PaymentStatus::Pending && now_ms >= self.expires_at_ms {
            PaymentStatus::Expired
        } else {
            self.status
        }
    }

    /// Why it failed, as a code, when it did (the provider's words are `failure_reason`).
    pub fn failure(&self) -> Option<PaymentFailure> {
        (self.status == PaymentStatus::Failed).then(|| {
            self.failure_reason
                .as_deref()
                .map_or(PaymentFailure::Other, PaymentFailure::of_provider_reason)
        })
    }
}

/// One line of a payment's append-only history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentEventRecord {
    pub at_ms: i64,
    pub source: EventSource,
    pub old_status: Option<PaymentStatus>,
    pub new_status: Option<PaymentStatus>,
    pub detail: String,
}

/// What the payment page polls: enough to render the status and compute the countdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentStatusView {
    pub payment_id: String,
    pub order_id: String,
    pub status: PaymentStatus,
    pub method: PaymentMethod,
    pub amount_fen: i64,
    pub expires_at_ms: i64,
    /// The server's clock when it answered; the countdown's offset comes from it.
    pub server_now_ms: i64,
    pub paid_at_ms: Option<i64>,
    /// The provider's own words (for the merchant); the page words `failure` instead.
    pub failure_reason: Option<String>,
    /// Why it failed, when it did.
    pub failure: Option<PaymentFailure>,
    pub code_url: String,
}

impl PaymentStatusView {
    pub fn of(payment: &Payment, now_ms: i64) -> Self {
        Self {
            payment_id: payment.id.clone(),
            order_id: payment.order_id.clone(),
            status: payment.status_at(now_ms),
            method: payment.method,
            amount_fen: payment.amount_fen,
            expires_at_ms: payment.expires_at_ms,
            server_now_ms: now_ms,
            paid_at_ms: payment.paid_at_ms,
            failure_reason: payment.failure_reason.clone(),
            failure: payment.failure(),
            code_url: payment.code_url.clone(),
        }
    }

    /// Time left until the payment's deadline as the server saw it (zero once passed). A
    /// pending payment changes then with no event to announce it, so waiters wake at it.
    pub fn until_deadline(&self) -> std::time::Duration {
        std::time::Duration::from_millis((self.expires_at_ms - self.server_now_ms).max(0) as u64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentWithEvents {
    pub payment: Payment,
    pub events: Vec<PaymentEventRecord>,
}

/// An order with its payments, newest first, each with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetail {
    pub order: Order,
    pub payments: Vec<PaymentWithEvents>,
}
