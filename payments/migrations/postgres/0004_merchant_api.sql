-- The merchant's API keys. A key is shown once, when it is created; only the SHA-256 of its
-- secret part is kept, so a copy of the database does not hold usable keys.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);

-- Which key created an order (NULL: the development demo shop, or before keys existed), the
-- shop's own reference for it (unique per key: the same reference is the same order), and where
-- the shopper goes after paying.
ALTER TABLE orders ADD COLUMN api_key_id TEXT REFERENCES api_keys (id);
ALTER TABLE orders ADD COLUMN reference TEXT;
ALTER TABLE orders ADD COLUMN return_url TEXT;
CREATE UNIQUE INDEX orders_reference_per_key
    ON orders ((COALESCE(api_key_id, '')), reference) WHERE reference IS NOT NULL;

-- Idempotency-Key (Stripe's rules): the first answer to a key is kept and replayed for 24 h.
-- `status_code` is NULL while that first request is still being answered.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status_code BIGINT,
    response_body TEXT,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at_ms);
