//! Rows to records: the column lists the queries select and their decoding.
use super::{StoreError, StoreResult};
use crate::model::{Order, Payment, PaymentEventRecord};
use crate::status::{EventSource, OrderStatus, PaymentMethod, PaymentStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

pub(super) const ORDER_COLUMNS: &str =
    "id, amount_fen, description, status, created_at_ms, paid_at_ms, paid_by_payment, \
     reference, return_url, api_key_id";
pub(super) const PAYMENT_COLUMNS: &str =
    "id, order_id, amount_fen, status, created_at_ms, expires_at_ms, \
     paid_at_ms, provider_transaction_id, code_url, paid_late, needs_refund, failure_reason, method";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// `orders.description` is NOT NULL: an order without a description stores the empty text.
pub(super) fn order_from_row(row: &AnyRow) -> StoreResult<Order> {
    let status: String = row.try_get("status")?;
    Ok(Order {
        id: row.try_get("id")?,
        amount_fen: row.try_get("amount_fen")?,
        description: Some(row.try_get::<String, _>("description")?).filter(|d| !d.is_empty()),
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt("order status", &status))?,
        created_at_ms: row.try_get("created_at_ms")?,
        paid_at_ms: row.try_get("paid_at_ms")?,
        paid_by_payment: row.try_get("paid_by_payment")?,
        reference: row.try_get("reference")?,
        return_url: row.try_get("return_url")?,
        api_key_id: row.try_get("api_key_id")?,
    })
}

pub(super) fn payment_from_row(row: &AnyRow) -> StoreResult<Payment> {
    let status: String = row.try_get("status")?;
    let method: String = row.try_get("method")?;
    Ok(Payment {
        id: row.try_get("id")?,
        order_id: row.try_get("order_id")?,
        amount_fen: row.try_get("amount_fen")?,
        status: PaymentStatus::parse(&status).ok_or_else(|| corrupt("payment status", &status))?,
        method: PaymentMethod::parse(&method).ok_or_else(|| corrupt("payment method", &method))?,
        created_at_ms: row.try_get("created_at_ms")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        paid_at_ms: row.try_get("paid_at_ms")?,
        provider_transaction_id: row.try_get("provider_transaction_id")?,
        code_url: row.try_get("code_url")?,
        paid_late: row.try_get::<i64, _>("paid_late")? != 0,
        needs_refund: row.try_get::<i64, _>("needs_refund")? != 0,
        failure_reason: row.try_get("failure_reason")?,
    })
}

pub(super) fn event_from_row(row: &AnyRow) -> StoreResult<PaymentEventRecord> {
    let source: String = row.try_get("source")?;
    let status = |col: &str| -> StoreResult<Option<PaymentStatus>> {
        let text: Option<String> = row.try_get(col)?;
        text.map(|t| PaymentStatus::parse(&t).ok_or_else(|| corrupt(col, &t)))
            .transpose()
    };
    Ok(PaymentEventRecord {
        at_ms: row.try_get("at_ms")?,
        source: EventSource::parse(&source).ok_or_else(|| corrupt("event source", &source))?,
        old_status: status("old_status")?,
        new_status: status("new_status")?,
        detail: row.try_get("detail")?,
    })
}
