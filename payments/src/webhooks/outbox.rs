//! The outbox's queries: an event and its deliveries written in the transaction of the change
//! (by the ledger), due deliveries claimed under a lease, each attempt's outcome, and the
//! merchant's list and resend.
use super::merchant::{DeliveryQuery, DeliveryStatus, WebhookDelivery};
use super::{WebhookEndpoints, WebhookEvent, WebhookEventType};
use crate::store::{Engine, Lock, StoreError, StoreResult};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// Writes `event` and one delivery per endpoint, due at once.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    event: &WebhookEvent,
    endpoints: &WebhookEndpoints,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webhook_events (id, type, order_id, payment_id, payload, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&event.id)
    .bind(event.event_type.as_str())
    .bind(&event.order_id)
    .bind(&event.payment_id)
    .bind(&event.payload)
    .bind(event.created_at_ms)
    .execute(&mut *conn)
    .await?;
    for url in endpoints.urls() {
        sqlx::query(
            "INSERT INTO webhook_deliveries (event_id, endpoint_url, status, attempts, \
             next_attempt_at_ms, created_at_ms) VALUES ($1, $2, 'pending', 0, $3, $3)",
        )
        .bind(&event.id)
        .bind(url)
        .bind(event.created_at_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A delivery a worker owns for one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub id: i64,
    pub event_id: String,
    pub endpoint_url: String,
    /// This attempt's number (1 for the first).
    pub attempt: i64,
    pub payload: String,
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a delivery to one of `endpoints` is due: a plain read, so an idle worker never
/// takes SQLite's one writer.
pub(crate) async fn any_due(
    conn: &mut AnyConnection,
    now_ms: i64,
    endpoints: &WebhookEndpoints,
) -> StoreResult<bool> {
    if endpoints.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= $1 \
         AND endpoint_url IN ({}) LIMIT 1",
        placeholders(2, endpoints.urls().len())
    );
    let mut query = sqlx::query(&sql).bind(now_ms);
    for url in endpoints.urls() {
        query = query.bind(url);
    }
    Ok(query.fetch_optional(conn).await?.is_some())
}

/// Claims up to `limit` due deliveries to `endpoints` (rows another worker holds are skipped),
/// counts their attempt and pushes them `lease_ms` ahead, so no other worker sends them until
/// this attempt's outcome is recorded (or this worker died).
pub(crate) async fn claim_due(
    conn: &mut AnyConnection,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
    endpoints: &WebhookEndpoints,
) -> StoreResult<Vec<Claimed>> {
    if endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let skip_locked = Engine::of(conn).lock_clause(Lock::ForUpdateSkipLocked);
    let sql = format!(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at_ms = $1, \
         next_attempt_at_ms = $2 WHERE id IN (SELECT id FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_at_ms <= $1 AND endpoint_url IN ({}) \
         ORDER BY next_attempt_at_ms LIMIT $3{skip_locked}) \
         RETURNING id, event_id, endpoint_url, attempts",
        placeholders(4, endpoints.urls().len())
    );
    let mut query = sqlx::query(&sql)
        .bind(now_ms)
        .bind(now_ms + lease_ms)
        .bind(limit);
    for url in endpoints.urls() {
        query = query.bind(url);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        claimed.push(Claimed {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            endpoint_url: row.try_get("endpoint_url")?,
            attempt: row.try_get("attempts")?,
            payload: String::new(),
        });
    }
    let sql = format!(
        "SELECT id, payload FROM webhook_events WHERE id IN ({})",
        placeholders(1, claimed.len())
    );
    let mut query = sqlx::query(&sql);
    for delivery in &claimed {
        query = query.bind(&delivery.event_id);
    }
    for row in query.fetch_all(&mut *conn).await? {
        let (id, payload): (String, String) = (row.try_get("id")?, row.try_get("payload")?);
        for delivery in claimed.iter_mut().filter(|d| d.event_id == id) {
            delivery.payload.clone_from(&payload);
        }
    }
    Ok(claimed)
}

/// What an attempt leaves on its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub status: DeliveryStatus,
    pub next_attempt_at_ms: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at_ms: Option<i64>,
}

/// Records attempt number `attempt`'s outcome, unless a later attempt was claimed meanwhile
/// (a resend while it was under way): the latest attempt's outcome is the one that stands.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    delivery_id: i64,
    attempt: i64,
    recorded: &Recorded,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, next_attempt_at_ms = $2, \
         last_status_code = $3, last_error = $4, \
         delivered_at_ms = COALESCE($5, delivered_at_ms) \
         WHERE id = $6 AND attempts = $7 AND status = 'pending'",
    )
    .bind(recorded.status.as_str())
    .bind(recorded.next_attempt_at_ms)
    .bind(recorded.last_status_code)
    .bind(&recorded.last_error)
    .bind(recorded.delivered_at_ms)
    .bind(delivery_id)
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(())
}

const DELIVERY_COLUMNS: &str = "d.id, d.event_id, e.type, e.order_id, e.payment_id, \
     d.endpoint_url, d.status, d.attempts, d.next_attempt_at_ms, d.last_attempt_at_ms, \
     d.last_status_code, d.last_error, d.delivered_at_ms, d.created_at_ms";

/// A delivery with its event and the event's order (whose API key owns it).
const DELIVERY_TABLES: &str = "webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
     JOIN orders o ON o.id = e.order_id";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn delivery_from_row(row: &AnyRow) -> StoreResult<WebhookDelivery> {
    let event_type: String = row.try_get("type")?;
    let status: String = row.try_get("status")?;
    Ok(WebhookDelivery {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        event_type: WebhookEventType::parse(&event_type)
            .ok_or_else(|| corrupt("webhook event type", &event_type))?,
        order_id: row.try_get("order_id")?,
        payment_id: row.try_get("payment_id")?,
        endpoint_url: row.try_get("endpoint_url")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt("webhook delivery status", &status))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at_ms: row.try_get("next_attempt_at_ms")?,
        last_attempt_at_ms: row.try_get("last_attempt_at_ms")?,
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        delivered_at_ms: row.try_get("delivered_at_ms")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

/// Deliveries newest first, as `query` selects them (its limit already capped).
pub(crate) async fn deliveries(
    conn: &mut AnyConnection,
    query: &DeliveryQuery,
    limit: i64,
) -> StoreResult<Vec<WebhookDelivery>> {
    // $1 and $2 always; the optional filters take the next numbers in this order.
    let mut filters = String::new();
    let mut next = 3;
    for (present, filter) in [
        (query.status.is_some(), "d.status"),
        (query.api_key_id.is_some(), "o.api_key_id"),
    ] {
        if present {
            filters.push_str(&format!(" AND {filter} = ${next}"));
            next += 1;
        }
    }
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_TABLES} \
         WHERE d.id < $1{filters} ORDER BY d.id DESC LIMIT $2"
    );
    let mut select = sqlx::query(&sql)
        .bind(query.before.unwrap_or(i64::MAX))
        .bind(limit);
    if let Some(status) = query.status {
        select = select.bind(status.as_str());
    }
    if let Some(key) = &query.api_key_id {
        select = select.bind(key.as_str());
    }
    let rows = select.fetch_all(conn).await?;
    rows.iter().map(delivery_from_row).collect()
}

/// Delivery `id`, if it is about an order of `api_key_id` (`None`: any order).
pub(crate) async fn delivery(
    conn: &mut AnyConnection,
    id: i64,
    api_key_id: Option<&str>,
) -> StoreResult<Option<WebhookDelivery>> {
    let owned = if api_key_id.is_some() {
        " AND o.api_key_id = $2"
    } else {
        ""
    };
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_TABLES} WHERE d.id = $1{owned}");
    let mut select = sqlx::query(&sql).bind(id);
    if let Some(key) = api_key_id {
        select = select.bind(key);
    }
    let row = select.fetch_optional(conn).await?;
    row.as_ref().map(delivery_from_row).transpose()
}

/// Queues the delivery again, due at `now_ms` (same event, same id); `false` if there is none.
pub(crate) async fn requeue(conn: &mut AnyConnection, id: i64, now_ms: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = $1 WHERE id = $2",
    )
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
