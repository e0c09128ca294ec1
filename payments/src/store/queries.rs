//! Queries on orders, payments and their events. Each takes the connection (pool or
//! transaction) it runs on; a [`Lock`] adds the row lock where that connection's engine has one.
use super::rows::{
    event_from_row, order_from_row, payment_from_row, ORDER_COLUMNS, PAYMENT_COLUMNS,
};
use super::{Claimed, Due, Engine, Lock, StoreResult, Which};
use crate::model::{Order, Payment, PaymentEventRecord};
use crate::status::PaymentStatus;
use sqlx::{AnyConnection, Row};

pub async fn insert_order(conn: &mut AnyConnection, order: &Order) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO orders (id, amount_fen, description, status, created_at_ms, reference, \
         return_url, api_key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&order.id)
    .bind(order.amount_fen)
    .bind(order.description.as_deref().unwrap_or("")) // NOT NULL: none is the empty text
    .bind(order.status.as_str())
    .bind(order.created_at_ms)
    .bind(&order.reference)
    .bind(&order.return_url)
    .bind(&order.api_key_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn order(conn: &mut AnyConnection, id: &str, lock: Lock) -> StoreResult<Option<Order>> {
    let lock = Engine::of(conn).lock_clause(lock);
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{lock}");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(order_from_row).transpose()
}

/// The order an API key (or, with `None`, the keyless demo shop) created under `reference`.
pub async fn order_by_reference(
    conn: &mut AnyConnection,
    api_key_id: Option<&str>,
    reference: &str,
) -> StoreResult<Option<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE COALESCE(api_key_id, '') = $1 AND reference = $2"
    );
    let row = sqlx::query(&sql)
        .bind(api_key_id.unwrap_or(""))
        .bind(reference)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(order_from_row).transpose()
}

pub async fn mark_order_paid(
    conn: &mut AnyConnection,
    order_id: &str,
    payment_id: &str,
    paid_at_ms: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE orders SET status = 'paid', paid_at_ms = $1, paid_by_payment = $2 \
         WHERE id = $3 AND status = 'pending'",
    )
    .bind(paid_at_ms)
    .bind(payment_id)
    .bind(order_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_payment(
    conn: &mut AnyConnection,
    p: &Payment,
    now_ms: i64,
    first_reconcile_at_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO payments (id, order_id, amount_fen, status, created_at_ms, expires_at_ms, \
         code_url, updated_at_ms, next_reconcile_at_ms, method) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&p.id)
    .bind(&p.order_id)
    .bind(p.amount_fen)
    .bind(p.status.as_str())
    .bind(p.created_at_ms)
    .bind(p.expires_at_ms)
    .bind(&p.code_url)
    .bind(now_ms)
    .bind(first_reconcile_at_ms)
    .bind(p.method.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a provider notification's event id; `false` if it was already processed.
pub async fn mark_notification_processed(
    conn: &mut AnyConnection,
    event_id: &str,
    payment_id: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO processed_notifications (event_id, payment_id, processed_at_ms) \
         VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(payment_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn set_next_reconcile(
    conn: &mut AnyConnection,
    payment_id: &str,
    attempts: i64,
    next_at_ms: Option<i64>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE payments SET reconcile_attempts = $1, next_reconcile_at_ms = $2, \
         lease_until_ms = NULL WHERE id = $3",
    )
    .bind(attempts)
    .bind(next_at_ms)
    .bind(payment_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn payment(
    conn: &mut AnyConnection,
    id: &str,
    lock: Lock,
) -> StoreResult<Option<Payment>> {
    let lock = Engine::of(conn).lock_clause(lock);
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{lock}");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(payment_from_row).transpose()
}

pub async fn payments_of_order(
    conn: &mut AnyConnection,
    order_id: &str,
    which: Which,
    lock: Lock,
) -> StoreResult<Vec<Payment>> {
    let filter = match which {
        Which::All => "",
        Which::OnlyPending => " AND status = 'pending'",
    };
    let lock = Engine::of(conn).lock_clause(lock);
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id = $1{filter} \
         ORDER BY created_at_ms DESC, id{lock}"
    );
    let rows = sqlx::query(&sql).bind(order_id).fetch_all(conn).await?;
    rows.iter().map(payment_from_row).collect()
}

/// Claims up to `limit` pending payments that `due` selects (past their deadline, or due to be
/// asked about at `now_ms`), skipping rows other workers hold, and leases them for `lease_ms`
/// so no other process works on them meanwhile. Returns each as [`Claimed`].
pub async fn claim_pending(
    conn: &mut AnyConnection,
    due: Due,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> StoreResult<Vec<Claimed>> {
    let skip_locked = Engine::of(conn).lock_clause(Lock::ForUpdateSkipLocked);
    let condition = match due {
        Due::Expiry => "expires_at_ms <= $1",
        Due::Reconcile => "next_reconcile_at_ms <= $1 AND expires_at_ms > $1",
    };
    let sql = format!(
        "UPDATE payments SET lease_until_ms = $2 WHERE id IN (SELECT id FROM payments \
         WHERE status = 'pending' AND {condition} \
         AND (lease_until_ms IS NULL OR lease_until_ms <= $1) \
         ORDER BY expires_at_ms LIMIT $3{skip_locked}) \
         RETURNING id, reconcile_attempts, created_at_ms, expires_at_ms"
    );
    let rows = sqlx::query(&sql)
        .bind(now_ms)
        .bind(now_ms + lease_ms)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                reconcile_attempts: r.try_get("reconcile_attempts")?,
                created_at_ms: r.try_get("created_at_ms")?,
                expires_at_ms: r.try_get("expires_at_ms")?,
            })
        })
        .collect()
}

pub async fn update_payment(conn: &mut AnyConnection, p: &Payment, now_ms: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE payments SET status = $1, paid_at_ms = $2, provider_transaction_id = $3, \
         paid_late = $4, needs_refund = $5, failure_reason = $6, updated_at_ms = $7 \
         WHERE id = $8",
    )
    .bind(p.status.as_str())
    .bind(p.paid_at_ms)
    .bind(&p.provider_transaction_id)
    .bind(i64::from(p.paid_late))
    .bind(i64::from(p.needs_refund))
    .bind(&p.failure_reason)
    .bind(now_ms)
    .bind(&p.id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn append_event(
    conn: &mut AnyConnection,
    payment_id: &str,
    e: &PaymentEventRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO payment_events (payment_id, at_ms, source, old_status, new_status, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(payment_id)
    .bind(e.at_ms)
    .bind(e.source.as_str())
    .bind(e.old_status.map(PaymentStatus::as_str))
    .bind(e.new_status.map(PaymentStatus::as_str))
    .bind(&e.detail)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn events_of_payment(
    conn: &mut AnyConnection,
    payment_id: &str,
) -> StoreResult<Vec<PaymentEventRecord>> {
    let rows = sqlx::query(
        "SELECT at_ms, source, old_status, new_status, detail FROM payment_events \
         WHERE payment_id = $1 ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(event_from_row).collect()
}
