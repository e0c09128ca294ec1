//! Status reads served from memory: filled from the database on a miss, and told of every
//! committed change (ours, or another process's through LISTEN/NOTIFY) to forget it. Hits and
//! misses are counted for the operator.
use crate::metrics::StatusCacheCounters;
use crate::model::Payment;
use std::sync::{Arc, Mutex};

/// Bounds the cache (about 1 KB per payment).
const STATUS_CACHE_CAPACITY: u64 = 200_000;

#[derive(Clone)]
pub(crate) struct StatusCache {
    /// `Arc`: a hit costs a reference count, not a copy of the payment's strings.
    payments: moka::sync::Cache<String, Arc<Payment>>,
    /// Counts invalidations. A fill lands only if none happened since its database read began
    /// (checked and inserted under this lock), so a read racing a commit never caches the
    /// state from before it.
    epoch: Arc<Mutex<u64>>,
    counters: Arc<StatusCacheCounters>,
}

impl StatusCache {
    pub fn new() -> Self {
        Self {
            payments: moka::sync::Cache::new(STATUS_CACHE_CAPACITY),
            epoch: Arc::default(),
            counters: Arc::new(StatusCacheCounters::register()),
        }
    }

    /// These payments changed: forget their cached states.
    pub fn invalidate(&self, payment_ids: &[impl AsRef<str>]) {
        let mut epoch = self.epoch.lock().expect("cache epoch lock");
        for id in payment_ids {
            self.payments.invalidate(id.as_ref());
        }
        *epoch += 1;
    }

    /// Changes may have been missed: forget everything.
    pub fn invalidate_all(&self) {
        let mut epoch = self.epoch.lock().expect("cache epoch lock");
        self.payments.invalidate_all();
        *epoch += 1;
    }

    /// The cached payment, if there is one (counted as a hit; a miss is counted by the read
    /// that follows it).
    pub fn cached(&self, payment_id: &str) -> Option<Arc<Payment>> {
        let payment = self.payments.get(payment_id)?;
        self.counters.hits.increment(1);
        Some(payment)
    }

    /// The cached payment, or else `read`'s, cached unless a change committed meanwhile.
    pub async fn cached_or<E, Read>(
        &self,
        payment_id: &str,
        read: impl FnOnce() -> Read,
    ) -> Result<Arc<Payment>, E>
    where
        Read: std::future::Future<Output = Result<Payment, E>>,
    {
        if let Some(payment) = self.cached(payment_id) {
            return Ok(payment);
        }
        self.counters.misses.increment(1);
        let read_from = *self.epoch.lock().expect("cache epoch lock");
        let payment = Arc::new(read().await?);
        let epoch = self.epoch.lock().expect("cache epoch lock");
        if *epoch == read_from {
            self.payments
                .insert(payment_id.to_string(), payment.clone());
        }
        drop(epoch);
        Ok(payment)
    }
}
