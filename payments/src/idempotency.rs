//! `Idempotency-Key` on requests that create something, by Stripe's rules: the first answer to a
//! key is kept and replayed for [`KEPT_FOR`]; the same key with other parameters is refused;
//! while the first request is still being answered, the same key is refused as in flight. Keys
//! are scoped per API key (or per anonymous caller in development).
use crate::clock::now_ms;
use crate::store::{Store, StoreError};
use sqlx::Row;
use std::time::Duration;

/// How long an answer is replayed.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// A first request still unanswered after this long died with its process: the key is free.
const ABANDONED_AFTER: Duration = Duration::from_secs(5 * 60);
pub const MAX_KEY_CHARS: usize = 255;

/// A key as sent: 1 to 255 visible ASCII characters (UUIDs, ULIDs, the shop's own ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= MAX_KEY_CHARS
            && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Begun {
    /// First time: run it, then [`finish`] (or [`abandon`] if it failed in a way worth retrying).
    First,
    /// Answered before: send this again.
    Replay { status: u16, body: String },
    /// The key was used for a request with other parameters.
    OtherRequest,
    /// The first request with this key is still being answered.
    InFlight,
}

/// Lower-hex SHA-256: request fingerprints here, API key secrets in `api_keys`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The fingerprint of a request: what it asks for, not how it travelled.
pub fn request_fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut all = Vec::with_capacity(method.len() + path.len() + body.len() + 2);
    all.extend_from_slice(method.as_bytes());
    all.push(b' ');
    all.extend_from_slice(path.as_bytes());
    all.push(b'\n');
    all.extend_from_slice(body);
    sha256_hex(&all)
}

/// Claims `key` for a request with `fingerprint`, or says what was answered before.
pub async fn begin(
    store: &Store,
    scope: &str,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Begun, StoreError> {
    let now = now_ms();
    // An expired answer, or a first request that never finished, frees the key.
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2 \
         AND (created_at_ms < $3 OR (status_code IS NULL AND created_at_ms < $4))",
    )
    .bind(scope)
    .bind(key.as_str())
    .bind(now - KEPT_FOR.as_millis() as i64)
    .bind(now - ABANDONED_AFTER.as_millis() as i64)
    .execute(store.write_pool())
    .await
    .map_err(StoreError::Database)?;
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (scope, idempotency_key, request_sha256, created_at_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (scope, idempotency_key) DO NOTHING",
    )
    .bind(scope)
    .bind(key.as_str())
    .bind(fingerprint)
    .bind(now)
    .execute(store.write_pool())
    .await
    .map_err(StoreError::Database)?;
    if claimed.rows_affected() == 1 {
        return Ok(Begun::First);
    }
    let row = sqlx::query(
        "SELECT request_sha256, status_code, response_body FROM idempotency_keys \
         WHERE scope = $1 AND idempotency_key = $2",
    )
    .bind(scope)
    .bind(key.as_str())
    .fetch_optional(store.pool())
    .await
    .map_err(StoreError::Database)?;
    // Freed between the insert and this read (its first request failed): claim it again.
    let Some(row) = row else {
        return Box::pin(begin(store, scope, key, fingerprint)).await;
    };
    let stored: String = row
        .try_get("request_sha256")
        .map_err(StoreError::Database)?;
    let status: Option<i64> = row.try_get("status_code").map_err(StoreError::Database)?;
    let body: Option<String> = row.try_get("response_body").map_err(StoreError::Database)?;
    Ok(match status {
        _ if stored != fingerprint => Begun::OtherRequest,
        None => Begun::InFlight,
        Some(status) => Begun::Replay {
            status: status as u16,
            body: body.unwrap_or_default(),
        },
    })
}

/// Keeps the answer to the request that claimed `key`.
pub async fn finish(
    store: &Store,
    scope: &str,
    key: &IdempotencyKey,
    status: u16,
    body: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE idempotency_keys SET status_code = $1, response_body = $2 \
         WHERE scope = $3 AND idempotency_key = $4",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(scope)
    .bind(key.as_str())
    .execute(store.write_pool())
    .await
    .map_err(StoreError::Database)?;
    Ok(())
}

/// Frees `key` after a failure the caller may retry (a 5xx): nothing was kept to replay.
pub async fn abandon(store: &Store, scope: &str, key: &IdempotencyKey) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2 \
         AND status_code IS NULL",
    )
    .bind(scope)
    .bind(key.as_str())
    .execute(store.write_pool())
    .await
    .map_err(StoreError::Database)?;
    Ok(())
}

/// Forgets answers older than [`KEPT_FOR`]; how many.
pub async fn forget_expired(store: &Store) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at_ms < $1")
        .bind(now_ms() - KEPT_FOR.as_millis() as i64)
        .execute(store.write_pool())
        .await
        .map_err(StoreError::Database)?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_replay_other_request_in_flight_and_abandon() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}/i.db", dir.path().display()))
            .await
            .unwrap();
        let key = IdempotencyKey::parse("order-42-attempt-1").unwrap();
        let a = request_fingerprint("POST", "/api/orders", br#"{"totalAmount":1}"#);
        let b = request_fingerprint("POST", "/api/orders", br#"{"totalAmount":2}"#);
        assert_ne!(a, b);
        assert_eq!(
            begin(&store, "key_1", &key, &a).await.unwrap(),
            Begun::First
        );
        assert_eq!(
            begin(&store, "key_1", &key, &a).await.unwrap(),
            Begun::InFlight
        );
        assert_eq!(
            begin(&store, "key_1", &key, &b).await.unwrap(),
            Begun::OtherRequest
        );
        // Another API key's same key is another key.
        assert_eq!(
            begin(&store, "key_2", &key, &b).await.unwrap(),
            Begun::First
        );
        finish(&store, "key_1", &key, 200, "{\"data\":1}")
            .await
            .unwrap();
        assert_eq!(
            begin(&store, "key_1", &key, &a).await.unwrap(),
            Begun::Replay {
                status: 200,
                body: "{\"data\":1}".into()
            }
        );
        abandon(&store, "key_2", &key).await.unwrap();
        assert_eq!(
            begin(&store, "key_2", &key, &a).await.unwrap(),
            Begun::First
        );
        // Kept for 24 h, then forgotten.
        sqlx::query("UPDATE idempotency_keys SET created_at_ms = created_at_ms - $1")
            .bind(KEPT_FOR.as_millis() as i64 + 1)
            .execute(store.write_pool())
            .await
            .unwrap();
        assert_eq!(
            begin(&store, "key_1", &key, &b).await.unwrap(),
            Begun::First
        );
        assert_eq!(forget_expired(&store).await.unwrap(), 1);
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("9f1c2d1e-4b5a-4c3d-8e7f-0a1b2c3d4e5f").is_some());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_some());
        for bad in ["", " ", "a b", "ключ", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_none(), "{bad:?}");
        }
    }
}
