//! The operator's metrics: every series scanpay records, with its name, labels and meaning, in
//! this one place. They go through the `metrics` facade, which does nothing until a recorder is
//! installed: the server installs the Prometheus exporter before it builds the service, and
//! serves `GET /metrics`; the domain does not know the format. Names start with `scanpay_`;
//! `method` is the payment method (`wechatpay`, `alipay`).
use crate::machine::Transition;
use crate::provider::ProviderError;
use crate::status::{string_enum, PaymentMethod, PaymentStatus};
use ::metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter, Unit,
};
use std::time::Duration;

pub const PAYMENTS_CREATED: &str = "scanpay_payments_created_total";
pub const PAYMENTS_PAID: &str = "scanpay_payments_paid_total";
pub const PAYMENTS_FAILED: &str = "scanpay_payments_failed_total";
pub const PAYMENTS_EXPIRED: &str = "scanpay_payments_expired_total";
pub const PAYMENTS_CLOSED: &str = "scanpay_payments_closed_total";
pub const PAYMENTS_PAID_LATE: &str = "scanpay_payments_paid_late_total";
pub const PAYMENTS_REFUND_NEEDED: &str = "scanpay_payments_refund_needed_total";
pub const CALLBACKS: &str = "scanpay_callbacks_total";
pub const PROVIDER_CALL_DURATION: &str = "scanpay_provider_call_duration_seconds";
pub const PROVIDER_CALL_ERRORS: &str = "scanpay_provider_call_errors_total";
pub const LIVE_STREAMS_OPEN: &str = "scanpay_live_streams_open";
pub const STATUS_CACHE_HITS: &str = "scanpay_status_cache_hits_total";
pub const STATUS_CACHE_MISSES: &str = "scanpay_status_cache_misses_total";
/// Recorded by the webhook delivery worker ([`webhook_attempt`]).
pub const WEBHOOK_DELIVERIES: &str = "scanpay_webhook_deliveries_total";

/// Upper bounds of the provider call histogram, in seconds: from a fast answer to three attempts
/// that each time out (`SCANPAY_PROVIDER_TIMEOUT_MS`, 5 s by default) with their back-off.
pub const PROVIDER_CALL_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
];

/// Registers every series' help text (`# HELP`); call once, after installing the recorder.
pub fn describe() {
    for (name, help) in [
        (PAYMENTS_CREATED, "Payments created (committed), by method."),
        (PAYMENTS_PAID, "Payments that became paid (committed), by method; includes paid late."),
        (PAYMENTS_FAILED, "Payments the provider reported failed (committed), by method."),
        (PAYMENTS_EXPIRED, "Payments that expired unpaid (committed), by method."),
        (PAYMENTS_CLOSED, "Payments closed unpaid because another replaced or paid the order (committed), by method."),
        (PAYMENTS_PAID_LATE, "Payments paid after their deadline (committed), by method."),
        (PAYMENTS_REFUND_NEEDED, "Payments whose money arrived for an order already paid or closed: refund needed (committed), by method."),
        (CALLBACKS, "Provider notifications received, by method and outcome."),
        (PROVIDER_CALL_ERRORS, "Provider calls that failed (after retries), by method, operation and error."),
        (STATUS_CACHE_HITS, "Payment status reads answered from memory."),
        (STATUS_CACHE_MISSES, "Payment status reads that went to the database."),
        (WEBHOOK_DELIVERIES, "Webhook delivery attempts to the shop, by outcome."),
    ] {
        describe_counter!(name, help);
    }
    describe_histogram!(
        PROVIDER_CALL_DURATION,
        Unit::Seconds,
        "Provider calls (with their retries), by method and operation."
    );
    describe_gauge!(
        LIVE_STREAMS_OPEN,
        "Live-update requests open now, by transport (sse, long_poll)."
    );
}

/// What a ledger transaction changed, counted only once it has committed: a transaction that
/// rolls back (alone, or with its group-commit batch) counts nothing.
#[derive(Default)]
pub(crate) struct LedgerTally(Vec<(PaymentMethod, &'static str)>);

impl LedgerTally {
    pub fn created(&mut self, method: PaymentMethod) {
        self.0.push((method, PAYMENTS_CREATED));
    }

    pub fn transition(&mut self, method: PaymentMethod, transition: &Transition) {
        let status = match transition.to {
            PaymentStatus::Pending => None,
            PaymentStatus::Paid => Some(PAYMENTS_PAID),
            PaymentStatus::Failed => Some(PAYMENTS_FAILED),
            PaymentStatus::Expired => Some(PAYMENTS_EXPIRED),
            PaymentStatus::Closed => Some(PAYMENTS_CLOSED),
        };
        let flags = [
            transition.paid_late.then_some(PAYMENTS_PAID_LATE),
            transition.needs_refund.then_some(PAYMENTS_REFUND_NEEDED),
        ];
        for name in std::iter::once(status).chain(flags).flatten() {
            self.0.push((method, name));
        }
    }

    /// Call after the commit.
    pub fn publish(self) {
        for (method, name) in self.0 {
            counter!(name, "method" => method.as_str()).increment(1);
        }
    }
}

string_enum!(
    /// What became of a provider notification (`scanpay_callbacks_total{outcome}`): accepted
    /// (verified and applied, whether or not it changed the payment), duplicate (its event id was
    /// applied before), unverified (signature, timestamp or key did not check out), malformed
    /// (signed, but not the expected shape), not ours (another merchant or app, or a payment of
    /// the other method), refused (unknown payment, amount mismatch), unavailable (storage: the
    /// provider resends), timeout (still being applied when the provider wanted its answer; a
    /// resend finds it done), internal.
    CallbackOutcome {
        Accepted = "accepted",
        Duplicate = "duplicate",
        Unverified = "unverified",
        Malformed = "malformed",
        NotOurs = "not_ours",
        Refused = "refused",
        Unavailable = "unavailable",
        Timeout = "timeout",
        Internal = "internal",
    }
);

pub fn callback(method: PaymentMethod, outcome: CallbackOutcome) {
    counter!(CALLBACKS, "method" => method.as_str(), "outcome" => outcome.as_str()).increment(1);
}

string_enum!(
    /// A call to a provider (`operation` label).
    ProviderOperation {
        Create = "create",
        Query = "query",
        Close = "close",
    }
);

/// One provider call, with its retries: how long it took and, if it failed, how.
pub(crate) fn provider_call(
    method: PaymentMethod,
    operation: ProviderOperation,
    took: Duration,
    error: Option<&ProviderError>,
) {
    let (method, operation) = (method.as_str(), operation.as_str());
    histogram!(PROVIDER_CALL_DURATION, "method" => method, "operation" => operation)
        .record(took.as_secs_f64());
    if let Some(error) = error {
        let error = match error {
            ProviderError::UnknownTrade(_) => "unknown_trade",
            ProviderError::Unavailable(_) => "unavailable",
            ProviderError::Rejected { .. } => "rejected",
        };
        counter!(PROVIDER_CALL_ERRORS, "method" => method, "operation" => operation, "error" => error)
            .increment(1);
    }
}

string_enum!(
    /// How a shopper's page waits for a change (`transport` label).
    LiveTransport {
        EventStream = "sse",
        WebSocket = "websocket",
        LongPoll = "long_poll",
    }
);

/// A live-update request, counted in [`LIVE_STREAMS_OPEN`] for as long as this lives.
pub struct OpenStream(LiveTransport);

impl OpenStream {
    pub fn open(transport: LiveTransport) -> Self {
        gauge!(LIVE_STREAMS_OPEN, "transport" => transport.as_str()).increment(1.0);
        Self(transport)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        gauge!(LIVE_STREAMS_OPEN, "transport" => self.0.as_str()).decrement(1.0);
    }
}

string_enum!(
    /// What a webhook delivery attempt came to (`scanpay_webhook_deliveries_total{outcome}`):
    /// delivered (the endpoint answered 2xx), retrying (no 2xx or no answer; due again on the
    /// schedule), gave_up (no 2xx after the schedule's last retry: the delivery failed).
    WebhookOutcome {
        Delivered = "delivered",
        Retrying = "retrying",
        GaveUp = "gave_up",
    }
);

pub(crate) fn webhook_attempt(outcome: WebhookOutcome) {
    counter!(WEBHOOK_DELIVERIES, "outcome" => outcome.as_str()).increment(1);
}

/// The status cache's counters, registered once: a status read is the hot path.
pub(crate) struct StatusCacheCounters {
    pub hits: Counter,
    pub misses: Counter,
}

impl StatusCacheCounters {
    pub fn register() -> Self {
        Self {
            hits: counter!(STATUS_CACHE_HITS),
            misses: counter!(STATUS_CACHE_MISSES),
        }
    }
}

#[cfg(test)]
mod tests;
