//! The merchant's API keys. A key reads `sk_<id>_<secret>`: the id finds its row, the secret is
//! checked against the SHA-256 kept there (compared in constant time). The key itself is shown
//! once, when it is created, and stored nowhere.
use crate::clock::now_ms;
use crate::idempotency::sha256_hex;
use crate::store::{Store, StoreError};
use base64::Engine;
use sqlx::Row;
use subtle::ConstantTimeEq;

const KEY_PREFIX: &str = "sk_";
/// The id part: 12 random bytes, 16 URL-safe characters.
const ID_CHARS: usize = 16;
/// The secret part: 32 random bytes, 43 URL-safe characters.
const SECRET_CHARS: usize = 43;
pub const MAX_NAME_CHARS: usize = 100;

/// A key as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// `key_<id>`: how logs, lists and orders name the key.
    pub id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// A key just created: the one moment its full text exists.
pub struct NewApiKey {
    pub key: ApiKey,
    /// `sk_…`: print it once, never store it.
    pub secret_key: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("key", &self.key)
            .field("secret_key", &"[redacted]")
            .finish()
    }
}

/// Why a presented key does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRejected {
    #[error("not a scanpay API key, or no such key")]
    Invalid,
    #[error("the key has been revoked")]
    Revoked,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("a key's name must be 1 to {MAX_NAME_CHARS} characters")]
    BadName,
    #[error("no key {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ApiKeyError {
    fn from(e: sqlx::Error) -> Self {
        ApiKeyError::Store(StoreError::Database(e))
    }
}

fn random_text(bytes: usize) -> String {
    let random: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
}

/// `sk_<id>_<secret>` → (`key_<id>`, secret). Base64url text may hold `_` itself, so the parts
/// are split by length, not at a separator.
fn split(presented: &str) -> Option<(String, &str)> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    if rest.len() != ID_CHARS + 1 + SECRET_CHARS || !rest.is_ascii() {
        return None;
    }
    let (id, secret) = (&rest[..ID_CHARS], &rest[ID_CHARS + 1..]);
    (rest.as_bytes()[ID_CHARS] == b'_').then(|| (format!("key_{id}"), secret))
}

pub async fn create(store: &Store, name: &str) -> Result<NewApiKey, ApiKeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiKeyError::BadName);
    }
    let id = random_text(12);
    let secret = random_text(32);
    let key = ApiKey {
        id: format!("key_{id}"),
        name: name.to_string(),
        created_at_ms: now_ms(),
        revoked_at_ms: None,
    };
    sqlx::query(
        "INSERT INTO api_keys (id, name, secret_sha256, created_at_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(&key.id)
    .bind(&key.name)
    .bind(sha256_hex(secret.as_bytes()))
    .bind(key.created_at_ms)
    .execute(store.write_pool())
    .await?;
    Ok(NewApiKey {
        key,
        secret_key: format!("{KEY_PREFIX}{id}_{secret}"),
    })
}

pub async fn list(store: &Store) -> Result<Vec<ApiKey>, ApiKeyError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at_ms, revoked_at_ms FROM api_keys ORDER BY created_at_ms, id",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ApiKey {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                created_at_ms: row.try_get("created_at_ms")?,
                revoked_at_ms: row.try_get("revoked_at_ms")?,
            })
        })
        .collect()
}

/// Revokes `id` (`key_…`); revoking a revoked key keeps its first revocation time.
pub async fn revoke(store: &Store, id: &str) -> Result<(), ApiKeyError> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at_ms = COALESCE(revoked_at_ms, $1) WHERE id = $2",
    )
    .bind(now_ms())
    .bind(id)
    .execute(store.write_pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiKeyError::NotFound(id.to_string()));
    }
    Ok(())
}

/// The id of the key `presented` (an `Authorization: Bearer` value), if it authenticates.
pub async fn verify(
    store: &Store,
    presented: &str,
) -> Result<Result<String, KeyRejected>, StoreError> {
    let Some((id, secret)) = split(presented) else {
        return Ok(Err(KeyRejected::Invalid));
    };
    let row = sqlx::query("SELECT secret_sha256, revoked_at_ms FROM api_keys WHERE id = $1")
        .bind(&id)
        .fetch_optional(store.pool())
        .await
        .map_err(StoreError::Database)?;
    let Some(row) = row else {
        return Ok(Err(KeyRejected::Invalid));
    };
    let stored: String = row.try_get("secret_sha256").map_err(StoreError::Database)?;
    let revoked: Option<i64> = row.try_get("revoked_at_ms").map_err(StoreError::Database)?;
    let matches: bool = sha256_hex(secret.as_bytes())
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into();
    Ok(match (matches, revoked) {
        (false, _) => Err(KeyRejected::Invalid),
        (true, Some(_)) => Err(KeyRejected::Revoked),
        (true, None) => Ok(id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}/k.db", dir.path().display()))
            .await
            .unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_created_key_authenticates_until_revoked_and_only_its_hash_is_kept() {
        let (_dir, store) = store().await;
        let new = create(&store, "shop backend").await.unwrap();
        assert!(new.secret_key.starts_with("sk_"));
        assert!(!format!("{new:?}").contains(&new.secret_key[20..]));
        assert_eq!(
            verify(&store, &new.secret_key).await.unwrap(),
            Ok(new.key.id.clone())
        );
        let kept: Vec<String> = sqlx::query_scalar("SELECT secret_sha256 FROM api_keys")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(kept.len(), 1);
        assert!(!new.secret_key.contains(&kept[0]) && kept[0].len() == 64);

        // One changed character of the secret, or of the id, does not authenticate.
        let mut wrong = new.secret_key.clone().into_bytes();
        let last = wrong.len() - 1;
        wrong[last] = if wrong[last] == b'A' { b'B' } else { b'A' };
        let wrong = String::from_utf8(wrong).unwrap();
        assert_eq!(
            verify(&store, &wrong).await.unwrap(),
            Err(KeyRejected::Invalid)
        );
        for garbage in ["", "sk_", "Bearer x", &new.secret_key[1..], "sk_ünïcode"] {
            assert_eq!(
                verify(&store, garbage).await.unwrap(),
                Err(KeyRejected::Invalid)
            );
        }

        revoke(&store, &new.key.id).await.unwrap();
        assert_eq!(
            verify(&store, &new.secret_key).await.unwrap(),
            Err(KeyRejected::Revoked)
        );
        let listed = list(&store).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].revoked_at_ms.is_some());
        assert!(matches!(
            revoke(&store, "key_nope").await,
            Err(ApiKeyError::NotFound(_))
        ));
        assert!(matches!(
            create(&store, "  ").await,
            Err(ApiKeyError::BadName)
        ));
    }
}
