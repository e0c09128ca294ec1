-- The sandbox's own books: what WeChat Pay and Alipay keep on their side.

-- Its test merchants, keys included, generated once (one row, JSON).
CREATE TABLE merchants (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);

-- One trade per provider and out_trade_no. An Alipay trade exists for the merchant only once
-- scanned (scanned_at_ms); a NOTPAY trade past expires_at_ms reads CLOSED.
CREATE TABLE trades (
    provider TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    description TEXT NOT NULL,
    attach TEXT,
    notify_url TEXT,
    -- The create call's parameters, to tell a same-parameter retry from a conflicting one.
    create_params TEXT NOT NULL,
    state TEXT NOT NULL,
    state_desc TEXT,
    scanned_at_ms BIGINT,
    transaction_id TEXT,
    payer_id TEXT,
    paid_at_ms BIGINT,
    expires_at_ms BIGINT NOT NULL,
    autopay_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (provider, out_trade_no)
);
CREATE INDEX trades_autopay ON trades (autopay_at_ms) WHERE state = 'NOTPAY';

-- The outbox: a trade's payment and its notification are written in one transaction, then
-- delivered (and retried) by a worker holding a lease, so a crash loses none.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    notify_url TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    delivered_at_ms BIGINT,
    gave_up_at_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX notifications_due ON notifications (next_attempt_at_ms)
    WHERE delivered_at_ms IS NULL AND gave_up_at_ms IS NULL;
