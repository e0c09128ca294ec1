//! Open live-update streams (event streams, WebSockets and long-polls), per client address and in
//! total:
//! each holds a connection and ~19 KiB for as long as the shopper waits, so they are counted
//! apart from short requests. When full, the page's polling carries on without a stream.
use super::client::ClientAddr;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone)]
pub struct StreamSlots {
    inner: Arc<Slots>,
}

struct Slots {
    per_client: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_client: HashMap<ClientAddr, usize>,
}

/// Which cap refused a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Client,
    Server,
}

/// One open stream: its slot is given back when this is dropped.
pub(super) struct Slot {
    slots: Arc<Slots>,
    client: ClientAddr,
}

impl StreamSlots {
    pub fn new(per_client: usize, total: usize) -> Self {
        Self {
            inner: Arc::new(Slots {
                per_client,
                total,
                open: Mutex::new(Open::default()),
            }),
        }
    }

    pub(super) fn take(&self, client: ClientAddr) -> Result<Slot, Full> {
        let mut open = self.inner.lock();
        if open.total >= self.inner.total {
            return Err(Full::Server);
        }
        let of_client = open.by_client.entry(client).or_default();
        if *of_client >= self.inner.per_client {
            return Err(Full::Client);
        }
        *of_client += 1;
        open.total += 1;
        Ok(Slot {
            slots: self.inner.clone(),
            client,
        })
    }
}

/// A stream's slot, shared: given back when the last holder lets go. The request carries one
/// (an extension) so that a handler whose stream outlives its response (a WebSocket, which runs
/// on after the `101` answer) can keep the slot for as long as it runs.
#[derive(Clone)]
pub struct HeldSlot {
    _slot: Arc<Slot>,
}

impl HeldSlot {
    pub(super) fn new(slot: Slot) -> Self {
        Self {
            _slot: Arc::new(slot),
        }
    }
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, Open> {
        // The counts stay consistent whatever panicked while holding the lock.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.lock();
        open.total -= 1;
        if let Some(n) = open.by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_client_and_in_total_and_given_back() {
        let slots = StreamSlots::new(2, 3);
        let a = ClientAddr([10, 0, 0, 1].into());
        let b = ClientAddr([10, 0, 0, 2].into());
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert_eq!(slots.take(a).err(), Some(Full::Client));
        let _third = slots.take(b).unwrap();
        assert_eq!(slots.take(b).err(), Some(Full::Server));
        drop(first);
        assert!(slots.take(a).is_ok());
    }
}
