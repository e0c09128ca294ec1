//! Records the store keeps only for a while, and the one worker that forgets them.
//!
//! Provider notification ids are kept past the providers' resend horizon (WeChat Pay resends for
//! about 24 h, Alipay for about 25 h): within it a resent or replayed notification is recognised
//! and writes nothing. Past it no provider resends, and a replay of a notification whose id was
//! forgotten meets a payment that is long terminal, which the state machine ignores.
use crate::clock::now_ms;
use crate::idempotency;
use crate::store::{Store, StoreError};
use std::time::Duration;

/// How long a processed notification's id is remembered.
pub const NOTIFICATION_IDS_KEPT_FOR: Duration = Duration::from_secs(48 * 60 * 60);
/// How often the worker looks for records to forget.
const EVERY: Duration = Duration::from_secs(60 * 60);

/// What one pass forgot.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Forgotten {
    pub idempotency_keys: u64,
    pub notification_ids: u64,
}

/// Forgets notification ids processed longer than [`NOTIFICATION_IDS_KEPT_FOR`] before `now_ms`.
pub async fn forget_notification_ids(store: &Store, now_ms: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM processed_notifications WHERE processed_at_ms < $1")
        .bind(now_ms - NOTIFICATION_IDS_KEPT_FOR.as_millis() as i64)
        .execute(store.write_pool())
        .await
        .map_err(StoreError::Database)?;
    Ok(done.rows_affected())
}

/// One pass: idempotency answers past [`idempotency::KEPT_FOR`], notification ids past
/// [`NOTIFICATION_IDS_KEPT_FOR`].
pub async fn forget_expired(store: &Store) -> Result<Forgotten, StoreError> {
    Ok(Forgotten {
        idempotency_keys: idempotency::forget_expired(store).await?,
        notification_ids: forget_notification_ids(store, now_ms()).await?,
    })
}

/// Runs [`forget_expired`] hourly, forever (several instances may: deletes are idempotent).
pub async fn forget_expired_forever(store: Store) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        match forget_expired(&store).await {
            Ok(forgotten) if forgotten == Forgotten::default() => {}
            Ok(Forgotten {
                idempotency_keys,
                notification_ids,
            }) => tracing::info!(idempotency_keys, notification_ids, "forgot expired records"),
            Err(e) => tracing::warn!("forgetting expired records: {e}"),
        }
    }
}
