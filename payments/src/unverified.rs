//! Unverified notifications: anyone can send them, so one may at most prompt a query to the
//! provider about the payment it names — and not every one does. Per payment at most one query
//! per interval, at most a few at once (the rest are dropped: reconciliation asks on its own
//! schedule anyway), nothing written unless the provider's answer changes the payment, and the
//! refusals logged at most once per second (each is counted in the metrics).
use crate::ids::is_valid_payment_id;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How often one payment may be queried because of unverified notifications.
pub const QUERY_INTERVAL: Duration = Duration::from_secs(10);
/// Hint-prompted queries running at once, at most.
pub const MAX_CONCURRENT_QUERIES: usize = 4;
/// Payments remembered as recently queried, at most (bounds the memory a flood can take).
const MAX_REMEMBERED: u64 = 100_000;

/// Decides which unverified notifications may prompt a query. Cheap to clone (shared state).
#[derive(Clone)]
pub struct UnverifiedHints {
    recently_queried: moka::sync::Cache<String, ()>,
    permits: Arc<Semaphore>,
    log: Arc<LogLimit>,
}

impl Default for UnverifiedHints {
    fn default() -> Self {
        Self::new(QUERY_INTERVAL, MAX_CONCURRENT_QUERIES)
    }
}

impl UnverifiedHints {
    pub fn new(interval: Duration, concurrency: usize) -> Self {
        Self {
            recently_queried: moka::sync::Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .time_to_live(interval)
                .build(),
            permits: Arc::new(Semaphore::new(concurrency)),
            log: Arc::new(LogLimit::default()),
        }
    }

    /// A permit to query the provider about `payment_id` now, or `None`: not a payment id,
    /// queried within the interval already, or too many queries under way.
    pub fn admit(&self, payment_id: &str) -> Option<OwnedSemaphorePermit> {
        if !is_valid_payment_id(payment_id) {
            return None;
        }
        // The permit first: a hint dropped for want of one leaves the payment unmarked.
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        let entry = self
            .recently_queried
            .entry(payment_id.to_string())
            .or_insert(());
        entry.is_fresh().then_some(permit)
    }

    /// Whether to log this refusal, and how many were not logged since the last one logged.
    pub fn log_refusal(&self) -> Option<u64> {
        self.log.admit()
    }
}

/// At most one log line per second; the refusals in between are only counted.
#[derive(Default)]
struct LogLimit {
    last: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl LogLimit {
    fn admit(&self) -> Option<u64> {
        let mut last = self.last.lock().expect("log limit lock");
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < Duration::from_secs(1)) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(now);
        Some(self.suppressed.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "pay_AAAAAAAAAAAAAAAAAAAAAA";
    const OTHER: &str = "pay_BBBBBBBBBBBBBBBBBBBBBB";

    #[test]
    fn one_query_per_payment_per_interval_and_a_few_at_once() {
        let hints = UnverifiedHints::new(Duration::from_secs(60), 1);
        assert!(hints.admit("pay_not-an-id").is_none());
        let first = hints.admit(ID).expect("the first hint is queried");
        assert!(
            hints.admit(ID).is_none(),
            "the same payment again: coalesced"
        );
        assert!(hints.admit(OTHER).is_none(), "no permit left");
        drop(first);
        assert!(hints.admit(OTHER).is_some(), "a permit again");
    }

    #[test]
    fn refusals_are_logged_at_most_once_a_second() {
        let hints = UnverifiedHints::default();
        assert_eq!(hints.log_refusal(), Some(0));
        assert_eq!(hints.log_refusal(), None);
        assert_eq!(hints.log_refusal(), None);
        *hints.log.last.lock().unwrap() = Some(Instant::now() - Duration::from_secs(2));
        assert_eq!(hints.log_refusal(), Some(2));
    }
}
