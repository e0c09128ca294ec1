-- The provider simulator's outbox: a trade's final state and its notification are written in one
-- transaction, then delivered (and retried) by a worker, so a crash loses no notification.
CREATE TABLE sim_notifications (
    event_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    delivered_at_ms BIGINT,
    gave_up_at_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX sim_notifications_due ON sim_notifications (next_attempt_at_ms)
    WHERE delivered_at_ms IS NULL AND gave_up_at_ms IS NULL;

-- Merchant side: every provider notification applied once, whatever the provider resends.
CREATE TABLE processed_notifications (
    event_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    processed_at_ms BIGINT NOT NULL
);

-- Reconciliation: when to ask the provider next about a pending payment, and a lease so
-- several server processes never work on the same payment at once.
ALTER TABLE payments ADD COLUMN next_reconcile_at_ms BIGINT;
ALTER TABLE payments ADD COLUMN reconcile_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN lease_until_ms BIGINT;
CREATE INDEX payments_pending_by_reconcile ON payments (next_reconcile_at_ms) WHERE status = 'pending';
