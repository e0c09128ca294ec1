-- Webhooks to the shop: a durable outbox. An event is written in the transaction of the change
-- that caused it (only when endpoints are configured), with one delivery per endpoint; a
-- worker sends the deliveries that are due and records each attempt's outcome.
CREATE TABLE webhook_events (
    -- msg_…: the webhook-id header, the same on every attempt and every resend.
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL
        CHECK (type IN ('order.paid', 'payment.paid_late', 'payment.expired', 'payment.failed')),
    order_id TEXT NOT NULL REFERENCES orders (id),
    payment_id TEXT NOT NULL REFERENCES payments (id),
    -- The signed body, exactly as sent.
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX webhook_events_by_payment ON webhook_events (payment_id);

CREATE TABLE webhook_deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES webhook_events (id),
    endpoint_url TEXT NOT NULL,
    -- failed: gave up after the last retry (a resend queues it again).
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    -- While pending: when it is due (pushed ahead while an attempt is under way, a lease).
    next_attempt_at_ms BIGINT,
    last_attempt_at_ms BIGINT,
    last_status_code BIGINT,
    -- Short and without secrets: "HTTP 500", "timed out", "could not connect: …".
    last_error TEXT,
    delivered_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (event_id, endpoint_url)
);
-- The worker's scan for due deliveries.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms)
    WHERE status = 'pending';
-- The merchant's list, newest first, optionally of one status.
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, id);
