//! Requests per client address: a token bucket each (governor's GCRA), so one client's flood is
//! refused with 429 while everyone else is served.
use super::client::ClientAddr;
use crate::config::RateLimit;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Buckets of clients that stopped asking are dropped this often (they would be full again).
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct PerClientRate {
    limiter: Arc<DefaultKeyedRateLimiter<ClientAddr>>,
}

impl PerClientRate {
    /// Spawns the task that forgets idle clients (it runs as long as the limiter is in use).
    pub fn new(limit: RateLimit) -> Self {
        let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(
            Quota::per_second(per_second).allow_burst(burst),
        ));
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FORGET_IDLE_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(limiter) = weak.upgrade() else { break };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
        Self { limiter }
    }

    /// `Err(wait)`: over the limit; the next request is allowed after `wait`.
    pub fn check(&self, client: ClientAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}
