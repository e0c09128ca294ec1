//! Who follows committed payment changes in this process: the status cache and whoever waits
//! on a payment (long-polls, streams). Shared by the service and its group-commit writer.
use crate::model::Payment;
use crate::watch::PaymentWatchers;
use std::sync::{Arc, Mutex};

/// Status reads are served from memory; this bounds it (about 1 KB per payment).
const STATUS_CACHE_CAPACITY: u64 = 200_000;

#[derive(Clone)]
pub(crate) struct Followers {
    /// Status reads: filled from the database, invalidated after every committed change.
    /// `Arc`: a hit costs a reference count, not a copy of the payment's strings.
    status_cache: moka::sync::Cache<String, Arc<Payment>>,
    /// Counts invalidations. A cache fill lands only if none happened since its database read
    /// began (checked and inserted under this lock), so a read racing a commit never caches
    /// the state from before it.
    cache_epoch: Arc<Mutex<u64>>,
    pub watchers: Arc<PaymentWatchers>,
}

impl Followers {
    pub fn new() -> Self {
        Self {
            status_cache: moka::sync::Cache::new(STATUS_CACHE_CAPACITY),
            cache_epoch: Arc::default(),
            watchers: Arc::default(),
        }
    }

    /// These payments changed: forget their cached states and wake whoever waits for them.
    pub fn changed(&self, payment_ids: &[impl AsRef<str>]) {
        {
            let mut epoch = self.cache_epoch.lock().expect("cache epoch lock");
            for id in payment_ids {
                self.status_cache.invalidate(id.as_ref());
            }
            *epoch += 1;
        }
        self.watchers.changed(payment_ids.iter().map(AsRef::as_ref));
    }

    /// Changes may have been missed: forget everything, wake everyone.
    pub fn changed_all(&self) {
        {
            let mut epoch = self.cache_epoch.lock().expect("cache epoch lock");
            self.status_cache.invalidate_all();
            *epoch += 1;
        }
        self.watchers.changed_all();
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
        if let Some(payment) = self.status_cache.get(payment_id) {
            return Ok(payment);
        }
        let read_from = *self.cache_epoch.lock().expect("cache epoch lock");
        let payment = Arc::new(read().await?);
        let epoch = self.cache_epoch.lock().expect("cache epoch lock");
        if *epoch == read_from {
            self.status_cache
                .insert(payment_id.to_string(), payment.clone());
        }
        drop(epoch);
        Ok(payment)
    }
}
