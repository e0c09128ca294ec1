//! Who is waiting for which payment: long-polls and event streams subscribe here, and every
//! committed change (ours, or another process's through LISTEN/NOTIFY) wakes exactly the
//! watchers of that payment.
//!
//! One small signal (a version and a `Notify`) per watched payment, shared by its watchers and
//! gone with the last of them. Not `tokio::sync::watch`: its channel carries eight `Notify`s
//! for contention that one payment's handful of watchers never have, and with thousands of
//! shoppers waiting, the bytes per watcher are the budget.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::Notify;

#[derive(Default)]
struct Signal {
    version: AtomicU64,
    notify: Notify,
}

#[derive(Default)]
pub struct PaymentWatchers {
    signals: Mutex<HashMap<String, Weak<Signal>>>,
}

/// One watcher's view of a payment's signal: which version it has seen.
pub struct Watch {
    signal: Arc<Signal>,
    seen: u64,
}

impl Watch {
    /// Everything up to now counts as seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.signal.version.load(Ordering::Acquire);
    }

    /// Whether the payment may have changed since it was last seen.
    #[cfg(test)]
    pub fn has_changed(&self) -> bool {
        self.signal.version.load(Ordering::Acquire) != self.seen
    }

    /// Waits until the payment may have changed since it was last seen, and marks it seen.
    pub async fn changed(&mut self) {
        loop {
            // Registered before the version is read, so a change in between still wakes us.
            let notified = self.signal.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let version = self.signal.version.load(Ordering::Acquire);
            if version != self.seen {
                self.seen = version;
                return;
            }
            notified.await;
        }
    }
}

impl PaymentWatchers {
    /// A watch that changes whenever the payment may have changed (from now on).
    pub fn subscribe(&self, payment_id: &str) -> Watch {
        let mut signals = self.signals.lock().expect("watchers lock");
        // Forget payments nobody watches any more, now and then, so the map stays small.
        if signals.len() >= 1024 && signals.len().is_power_of_two() {
            signals.retain(|_, signal| signal.strong_count() > 0);
        }
        let signal = match signals.get(payment_id).and_then(Weak::upgrade) {
            Some(signal) => signal,
            None => {
                let signal = Arc::new(Signal::default());
                signals.insert(payment_id.to_string(), Arc::downgrade(&signal));
                signal
            }
        };
        let seen = signal.version.load(Ordering::Acquire);
        Watch { signal, seen }
    }

    /// Wakes the watchers of these payments.
    pub fn changed<'a>(&self, payment_ids: impl IntoIterator<Item = &'a str>) {
        let mut signals = self.signals.lock().expect("watchers lock");
        for id in payment_ids {
            match signals.get(id).map(Weak::upgrade) {
                Some(Some(signal)) => wake(&signal),
                Some(None) => {
                    signals.remove(id);
                }
                None => {}
            }
        }
    }

    /// Wakes everyone (changes from other processes may have been missed).
    pub fn changed_all(&self) {
        let signals = self.signals.lock().expect("watchers lock");
        for signal in signals.values().filter_map(Weak::upgrade) {
            wake(&signal);
        }
    }

    /// How many payments the map remembers: watched now, or not yet forgotten.
    pub fn remembered(&self) -> usize {
        self.signals.lock().expect("watchers lock").len()
    }

    /// How many payments someone watches.
    #[cfg(test)]
    pub fn watched(&self) -> usize {
        let signals = self.signals.lock().expect("watchers lock");
        signals.values().filter(|s| s.strong_count() > 0).count()
    }
}

fn wake(signal: &Signal) {
    signal.version.fetch_add(1, Ordering::AcqRel);
    signal.notify.notify_waiters();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn only_the_watchers_of_a_changed_payment_wake() {
        let watchers = PaymentWatchers::default();
        let mut a = watchers.subscribe("a");
        let b = watchers.subscribe("b");
        watchers.changed(["a"]);
        assert!(a.has_changed());
        assert!(!b.has_changed());
        a.mark_unchanged();
        watchers.changed_all();
        assert!(a.has_changed() && b.has_changed());
    }

    #[tokio::test]
    async fn a_change_before_the_wait_is_not_missed_and_a_waiter_wakes() {
        let watchers = Arc::new(PaymentWatchers::default());
        let mut early = watchers.subscribe("p");
        watchers.changed(["p"]);
        tokio::time::timeout(Duration::from_secs(1), early.changed())
            .await
            .expect("a change made before waiting counts");
        assert!(!early.has_changed(), "seen once woken");

        let mut waiting = watchers.subscribe("p");
        let waiter = tokio::spawn(async move { waiting.changed().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        watchers.changed(["p"]);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("woken")
            .expect("no panic");
    }

    #[test]
    fn unwatched_payments_are_forgotten() {
        let watchers = PaymentWatchers::default();
        drop(watchers.subscribe("a"));
        watchers.changed(["a"]);
        assert_eq!(watchers.watched(), 0);
        assert!(watchers.signals.lock().unwrap().is_empty());
    }
}
