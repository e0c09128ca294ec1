//! Durable storage on SQLite (default, embedded) or PostgreSQL, through sqlx's `Any` driver so
//! one set of queries serves both. Timestamps are unix milliseconds, flags are 0/1 integers.
use crate::model::{Order, Payment, PaymentEventRecord};
use crate::status::{EventSource, OrderStatus, PaymentStatus};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, Transaction};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://path or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("rolled back with its write batch: {0}")]
    RolledBackWithBatch(String),
    #[error("the writer task has stopped")]
    WriterStopped,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    /// Reads (and, on PostgreSQL, writes).
    pool: AnyPool,
    /// Where write transactions run. SQLite allows one writer: a pool of one connection queues
    /// this process's writers in order, so they never trip over each other (SQLITE_BUSY), and
    /// keeps that connection's prepared statements warm; readers use `pool` meanwhile.
    /// PostgreSQL: the same pool as reads.
    write_pool: AnyPool,
    engine: Engine,
}

/// A write transaction; on SQLite it holds the one writer connection until it ends.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.tx.commit().await?)
    }
}

/// Parses a `DATABASE_URL` into the engine it selects.
pub fn engine_of(url: &str) -> StoreResult<Engine> {
    if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Engine::Postgres)
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

impl Store {
    /// Connects, creating the SQLite file (and its directory) if needed, and migrates.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let engine = engine_of(url)?;
        let url = match engine {
            Engine::Sqlite => {
                let path = url
                    .trim_start_matches("sqlite:")
                    .trim_start_matches("//")
                    .split('?')
                    .next()
                    .unwrap_or_default();
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir)
                            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
                    }
                }
                if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                }
            }
            Engine::Postgres => url.to_string(),
        };
        let options = |max_connections| {
            AnyPoolOptions::new()
                .max_connections(max_connections)
                // A SQLite connection is a file handle that cannot drop like a socket: pinging
                // it before every use would only add a round trip to its worker thread.
                .test_before_acquire(engine == Engine::Postgres)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if engine == Engine::Sqlite {
                            // WAL: readers never wait for the writer; NORMAL is durable across a
                            // process crash, which is what a restart-safe store needs.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                        }
                        Ok(())
                    })
                })
        };
        let (pool, write_pool) = match engine {
            Engine::Sqlite => {
                let pool = options(8).connect(&url).await?;
                // Migrated before the writer connects, so its statements see the schema.
                SQLITE_MIGRATIONS.run(&pool).await?;
                let write_pool = options(1).connect(&url).await?;
                (pool, write_pool)
            }
            Engine::Postgres => {
                let pool = options(16).connect(&url).await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            pool,
            write_pool,
            engine,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(WriteTx {
            tx: self.write_pool.begin().await?,
        })
    }

    /// The writer for a single statement outside a transaction (atomic on its own).
    pub fn write_pool(&self) -> &AnyPool {
        &self.write_pool
    }

    /// Row lock inside a write transaction (PostgreSQL); SQLite's writer lock covers it.
    pub fn for_update(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "",
            Engine::Postgres => " FOR UPDATE",
        }
    }

    pub async fn applied_migrations(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    pub async fn count(&self, table: Table) -> StoreResult<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        Ok(sqlx::query(&sql).fetch_one(&self.pool).await?.try_get(0)?)
    }

    pub async fn record_start(&self, now_ms: i64) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("INSERT INTO server_starts (started_at_ms) VALUES ($1)")
            .bind(now_ms)
            .execute(w.conn())
            .await?;
        w.commit().await
    }
}

/// Which pending payments a worker claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Past the deadline: close at the provider and expire.
    Expiry,
    /// Time to ask the provider (a callback may have been lost).
    Reconcile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: String,
    pub reconcile_attempts: i64,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// Tables whose size /healthz reports.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Orders,
    Payments,
    PaymentEvents,
    ServerStarts,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Orders => "orders",
            Table::Payments => "payments",
            Table::PaymentEvents => "payment_events",
            Table::ServerStarts => "server_starts",
        }
    }
}

const ORDER_COLUMNS: &str =
    "id, amount_fen, description, status, created_at_ms, paid_at_ms, paid_by_payment";
const PAYMENT_COLUMNS: &str = "id, order_id, amount_fen, status, created_at_ms, expires_at_ms, \
     paid_at_ms, provider_transaction_id, code_url, paid_late, needs_refund, failure_reason";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn order_from_row(row: &AnyRow) -> StoreResult<Order> {
    let status: String = row.try_get("status")?;
    Ok(Order {
        id: row.try_get("id")?,
        amount_fen: row.try_get("amount_fen")?,
        description: row.try_get("description")?,
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt("order status", &status))?,
        created_at_ms: row.try_get("created_at_ms")?,
        paid_at_ms: row.try_get("paid_at_ms")?,
        paid_by_payment: row.try_get("paid_by_payment")?,
    })
}

fn payment_from_row(row: &AnyRow) -> StoreResult<Payment> {
    let status: String = row.try_get("status")?;
    Ok(Payment {
        id: row.try_get("id")?,
        order_id: row.try_get("order_id")?,
        amount_fen: row.try_get("amount_fen")?,
        status: PaymentStatus::parse(&status).ok_or_else(|| corrupt("payment status", &status))?,
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

fn event_from_row(row: &AnyRow) -> StoreResult<PaymentEventRecord> {
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

/// Queries on orders, payments and their events. Each takes the connection (pool or
/// transaction) it runs on; `lock` adds the row lock where the engine has one.
pub mod queries {
    use super::*;

    pub async fn insert_order(conn: &mut AnyConnection, order: &Order) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO orders (id, amount_fen, description, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&order.id)
        .bind(order.amount_fen)
        .bind(&order.description)
        .bind(order.status.as_str())
        .bind(order.created_at_ms)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn order(
        conn: &mut AnyConnection,
        id: &str,
        lock: &str,
    ) -> StoreResult<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{lock}");
        let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
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
             code_url, updated_at_ms, next_reconcile_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        lock: &str,
    ) -> StoreResult<Option<Payment>> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{lock}");
        let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    pub async fn payments_of_order(
        conn: &mut AnyConnection,
        order_id: &str,
        only_pending: bool,
        lock: &str,
    ) -> StoreResult<Vec<Payment>> {
        let filter = if only_pending {
            " AND status = 'pending'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id = $1{filter} \
             ORDER BY created_at_ms DESC, id{lock}"
        );
        let rows = sqlx::query(&sql).bind(order_id).fetch_all(conn).await?;
        rows.iter().map(payment_from_row).collect()
    }

    /// Claims up to `limit` pending payments that `due` selects (a SQL condition on `$1`, the
    /// time now), leasing them for `lease_ms` so no other process works on them meanwhile.
    /// Returns `(id, reconcile_attempts, created_at_ms, expires_at_ms)` of each.
    pub async fn claim_pending(
        conn: &mut AnyConnection,
        engine: Engine,
        due: Due,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<Claimed>> {
        let skip_locked = match engine {
            Engine::Sqlite => "",
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        };
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

    pub async fn update_payment(
        conn: &mut AnyConnection,
        p: &Payment,
        now_ms: i64,
    ) -> StoreResult<()> {
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
}
