//! Durable storage on SQLite (default, embedded) or PostgreSQL, through sqlx's `Any` driver so
//! one set of queries serves both. Timestamps are unix milliseconds, flags are 0/1 integers.
use crate::secret::redact_url;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Database, Executor, Row, Transaction};

pub mod queries;
mod rows;

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

    /// The engine a connection runs on (a [`Store`] only ever opens these two).
    pub fn of(conn: &AnyConnection) -> Engine {
        if conn.backend_name() == <sqlx::Postgres as Database>::NAME {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    /// The clause that ends a SELECT taking `lock`: the one place that writes it. SQLite has no
    /// row locks; its single writer lock already covers every row a write transaction reads.
    pub fn lock_clause(self, lock: Lock) -> &'static str {
        match (self, lock) {
            (Engine::Sqlite, _) | (Engine::Postgres, Lock::None) => "",
            (Engine::Postgres, Lock::ForUpdate) => " FOR UPDATE",
            (Engine::Postgres, Lock::ForUpdateSkipLocked) => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// How a SELECT locks the rows it reads (held until its write transaction ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// Other writers of these rows wait for this transaction.
    ForUpdate,
    /// As [`Lock::ForUpdate`], but rows another transaction holds are skipped (worker claims).
    ForUpdateSkipLocked,
}

/// Which of an order's payments a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    OnlyPending,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL with its password redacted.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two processes on one SQLite file (two stores: separate connections), each running
    /// read-then-write transactions at once: none fails with SQLITE_BUSY, none is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_then_write_transactions_of_two_processes_never_fail_busy() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/shared.db", dir.path().display());
        let (a, b) = (
            Store::connect(&url).await.unwrap(),
            Store::connect(&url).await.unwrap(),
        );
        sqlx::query("CREATE TABLE counted (n BIGINT NOT NULL)")
            .execute(a.write_pool())
            .await
            .unwrap();
        let writes = (0..100).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let mut w = store.begin_write().await?;
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM counted")
                    .fetch_one(w.conn())
                    .await?;
                sqlx::query("INSERT INTO counted (n) VALUES ($1)")
                    .bind(n)
                    .execute(w.conn())
                    .await?;
                w.commit().await
            })
        });
        for result in futures::future::join_all(writes).await {
            result.unwrap().expect("no SQLITE_BUSY");
        }
        let ns: Vec<i64> = sqlx::query_scalar("SELECT n FROM counted ORDER BY n")
            .fetch_all(a.pool())
            .await
            .unwrap();
        assert_eq!(
            ns,
            (0..100).collect::<Vec<i64>>(),
            "each saw the writes before it"
        );
    }

    #[tokio::test]
    async fn a_new_sqlite_store_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/scanpay.db");
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let mut w = store.begin_write().await.unwrap();
        sqlx::query("DELETE FROM orders")
            .execute(w.conn())
            .await
            .unwrap();
        w.commit().await.unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&path.with_extension("db-wal")), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }

    /// Errors end up in logs: none may show the database password. (A refused connection
    /// shows none either, but its pool retries for 30 s, too long for a unit test.)
    #[tokio::test]
    async fn no_error_shows_the_database_password() {
        let urls = [
            "mysql://scanpay:hunter2@localhost/db",
            "postgres://scanpay:hunter2@[::1/db",
        ];
        for url in urls {
            let e = Store::connect(url).await.err().expect("fails");
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let e = engine_of("mysql://scanpay:hunter2@localhost/db").unwrap_err();
        assert!(e.to_string().contains("scanpay:***@localhost"), "{e}");
    }
}

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
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// Creates the SQLite file, if missing, readable and writable by its owner only (0600; a new
/// directory 0700): it holds orders, payments and API key hashes. SQLite gives its WAL and
/// shared-memory files the database file's mode.
pub fn create_private_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
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
                create_private_file(std::path::Path::new(path))
                    .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
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
                            // WAL: readers never wait for the writer. FULL: a commit is on disk
                            // (WAL fsynced) before anyone hears of it — a provider told
                            // "received" never loses its payment to a power cut. The group
                            // commit shares one fsync among every write waiting for it.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
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
        let tx = match self.engine {
            // IMMEDIATE: the write lock is taken at BEGIN. A deferred transaction that reads
            // and then writes must upgrade its lock, which fails with SQLITE_BUSY (busy_timeout
            // or not) when another process wrote in between; this one waits its turn instead.
            Engine::Sqlite => self.write_pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.write_pool.begin().await?,
        };
        Ok(WriteTx { tx })
    }

    /// The writer for a single statement outside a transaction (atomic on its own).
    pub fn write_pool(&self) -> &AnyPool {
        &self.write_pool
    }

    pub async fn applied_migrations(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// A round trip that reads nothing (`SELECT 1`): the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
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

/// Tables whose size /readyz reports.
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
