//! Payment changes between processes on PostgreSQL: a transaction that changes payments
//! announces their ids with NOTIFY (delivered when it commits), and every process LISTENs, so
//! its status cache and watchers follow the others' commits. SQLite has one process: nothing.
use crate::store::{Engine, StoreResult};
use std::time::Duration;

/// PostgreSQL channel on which every transaction that changes a payment announces its id.
pub const PAYMENT_CHANGES_CHANNEL: &str = "scanpay_payment_changed";

/// In a write transaction: tells other processes these payments changed (on commit).
pub(crate) async fn announce(
    conn: &mut sqlx::AnyConnection,
    payment_ids: &[impl AsRef<str>],
) -> StoreResult<()> {
    if Engine::of(conn) == Engine::Postgres {
        for id in payment_ids {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(PAYMENT_CHANGES_CHANNEL)
                .bind(id.as_ref())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Follows other processes' changes forever: `changed` per announced payment, `changed_all`
/// whenever announcements may have been missed (on every (re)connect). Reconnects after 1 s.
pub(crate) async fn listen(
    database_url: &str,
    changed: impl Fn(&str),
    changed_all: impl Fn(),
) -> ! {
    loop {
        match sqlx::postgres::PgListener::connect(database_url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(PAYMENT_CHANGES_CHANNEL).await {
                    tracing::warn!("LISTEN {PAYMENT_CHANGES_CHANNEL}: {e}");
                } else {
                    changed_all();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) => changed(n.payload()),
                            // Reconnected: notifications sent meanwhile are lost.
                            Ok(None) => changed_all(),
                            Err(e) => {
                                tracing::warn!("change listener: {e}");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("connecting the change listener: {e}"),
        }
        changed_all();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
