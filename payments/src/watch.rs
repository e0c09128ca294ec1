//! Who is waiting for which payment: long-polls and event streams subscribe here, and every
//! committed change (ours, or another process's through LISTEN/NOTIFY) wakes exactly the
//! watchers of that payment. One `watch` channel per watched payment, dropped when unwatched.
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

#[derive(Default)]
pub struct PaymentWatchers {
    channels: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl PaymentWatchers {
    /// A receiver that changes whenever the payment may have changed.
    pub fn subscribe(&self, payment_id: &str) -> watch::Receiver<u64> {
        let mut channels = self.channels.lock().expect("watchers lock");
        // Forget payments nobody watches any more, now and then, so the map stays small.
        if channels.len() >= 1024 && channels.len().is_power_of_two() {
            channels.retain(|_, tx| tx.receiver_count() > 0);
        }
        channels
            .entry(payment_id.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Wakes the watchers of these payments.
    pub fn changed<'a>(&self, payment_ids: impl IntoIterator<Item = &'a str>) {
        let mut channels = self.channels.lock().expect("watchers lock");
        for id in payment_ids {
            if let Some(tx) = channels.get(id) {
                if tx.receiver_count() == 0 {
                    channels.remove(id);
                } else {
                    tx.send_modify(|version| *version += 1);
                }
            }
        }
    }

    /// Wakes everyone (changes from other processes may have been missed).
    pub fn changed_all(&self) {
        let channels = self.channels.lock().expect("watchers lock");
        for tx in channels.values() {
            tx.send_modify(|version| *version += 1);
        }
    }

    pub fn watched(&self) -> usize {
        self.channels.lock().expect("watchers lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_watchers_of_a_changed_payment_wake() {
        let watchers = PaymentWatchers::default();
        let mut a = watchers.subscribe("a");
        let b = watchers.subscribe("b");
        watchers.changed(["a"]);
        assert!(a.has_changed().unwrap());
        assert!(!b.has_changed().unwrap());
        a.mark_unchanged();
        watchers.changed_all();
        assert!(a.has_changed().unwrap() && b.has_changed().unwrap());
    }

    #[test]
    fn unwatched_payments_are_forgotten() {
        let watchers = PaymentWatchers::default();
        drop(watchers.subscribe("a"));
        watchers.changed(["a"]);
        assert_eq!(watchers.watched(), 0);
    }
}
