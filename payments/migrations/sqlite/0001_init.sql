CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'closed')),
    created_at_ms BIGINT NOT NULL,
    paid_at_ms BIGINT,
    paid_by_payment TEXT
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'expired', 'closed')),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    paid_at_ms BIGINT,
    provider_transaction_id TEXT,
    code_url TEXT NOT NULL,
    paid_late BIGINT NOT NULL DEFAULT 0,
    needs_refund BIGINT NOT NULL DEFAULT 0,
    failure_reason TEXT,
    updated_at_ms BIGINT NOT NULL
);

-- The database itself guarantees an order never has two pending payments.
CREATE UNIQUE INDEX payments_one_pending_per_order ON payments (order_id) WHERE status = 'pending';
CREATE INDEX payments_by_order ON payments (order_id, created_at_ms);
CREATE INDEX payments_pending_by_deadline ON payments (expires_at_ms) WHERE status = 'pending';

CREATE TABLE payment_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    at_ms BIGINT NOT NULL,
    source TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX payment_events_by_payment ON payment_events (payment_id, id);

-- The provider simulator's own books (a real provider keeps these on its side).
CREATE TABLE sim_trades (
    payment_id TEXT PRIMARY KEY,
    amount_fen BIGINT NOT NULL,
    description TEXT NOT NULL,
    trade_state TEXT NOT NULL,
    transaction_id TEXT,
    paid_at_ms BIGINT,
    autopay_at_ms BIGINT,
    failure_reason TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX sim_trades_autopay ON sim_trades (autopay_at_ms) WHERE trade_state = 'NOTPAY';

-- Written by /healthz-visible start-ups: proves a write survives a restart.
CREATE TABLE server_starts (
    started_at_ms BIGINT NOT NULL
);
