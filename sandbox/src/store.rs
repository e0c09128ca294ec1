//! The sandbox's own store on SQLite or PostgreSQL (sqlx `Any`, as the merchant's store). On
//! PostgreSQL it lives in schema `scanpay_sandbox`, migrations table included, so it can share
//! the merchant's database without either seeing the other's tables.
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub const POSTGRES_SCHEMA: &str = "scanpay_sandbox";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported sandbox database URL (scheme {0:?}): use sqlite://path or postgres://…")]
    UnsupportedUrl(String),
    #[error("sandbox database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("sandbox migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt sandbox row: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite allows one writer: one connection queues this process's writers (no SQLITE_BUSY).
    /// PostgreSQL: the same pool as reads.
    write_pool: AnyPool,
    engine: Engine,
}

fn engine_of(url: &str) -> Result<Engine, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Engine::Postgres)
    } else {
        // Only the scheme: the rest may hold a password.
        let scheme = url.split(':').next().unwrap_or_default().to_string();
        Err(StoreError::UnsupportedUrl(scheme))
    }
}

/// The file, if missing, readable by its owner only (it holds the sandbox's private keys); its
/// WAL gets the same mode from SQLite.
fn create_private_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true).mode(0o700).create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    match options.write(true).create_new(true).mode(0o600).open(path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// `sqlite://dir/file.db` with its directory created and the file created if missing.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    create_private_file(std::path::Path::new(path))
        .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
    Ok(if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    })
}

impl Store {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = engine_of(url)?;
        let url = match engine {
            Engine::Sqlite => sqlite_url(url)?,
            Engine::Postgres => {
                // Once, before the pool: concurrent CREATE SCHEMA IF NOT EXISTS can still race.
                let mut conn = AnyConnection::connect(url).await?;
                conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {POSTGRES_SCHEMA}").as_str())
                    .await?;
                conn.close().await?;
                url.to_string()
            }
        };
        let options = |max_connections| {
            AnyPoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(engine == Engine::Postgres)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        match engine {
                            Engine::Sqlite => {
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute("PRAGMA synchronous = NORMAL").await?;
                                conn.execute("PRAGMA busy_timeout = 5000").await?;
                            }
                            Engine::Postgres => {
                                let sql = format!("SET search_path TO {POSTGRES_SCHEMA}");
                                conn.execute(sql.as_str()).await?;
                            }
                        }
                        Ok(())
                    })
                })
        };
        let (pool, write_pool) = match engine {
            Engine::Sqlite => {
                let pool = options(4).connect(&url).await?;
                SQLITE_MIGRATIONS.run(&pool).await?;
                let write_pool = options(1).connect(&url).await?;
                (pool, write_pool)
            }
            Engine::Postgres => {
                let pool = options(8).connect(&url).await?;
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

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn write_pool(&self) -> &AnyPool {
        &self.write_pool
    }

    /// Waits for every connection to close: SQLite checkpoints its WAL into the file then, so the
    /// file alone is a complete copy of the store.
    pub async fn close(&self) {
        self.write_pool.close().await;
        self.pool.close().await;
    }

    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.engine {
            // IMMEDIATE: no read-then-write lock upgrade to fail with SQLITE_BUSY when a second
            // process shares the file (as in the merchant's store).
            Engine::Sqlite => self.write_pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.write_pool.begin().await?,
        })
    }

    /// Ends a worker's claim SELECT: rows another worker holds are skipped (PostgreSQL; SQLite's
    /// single writer already serialises claims).
    pub fn skip_locked(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "",
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}
