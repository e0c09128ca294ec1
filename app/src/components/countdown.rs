//! The payment countdown: `expires_at − (client now + offset)`, recomputed on every tick and
//! re-synced whenever a status answer brings the server's clock. Never a decremented counter, so
//! it neither drifts nor stalls in a throttled background tab.
use leptos::prelude::*;
use std::time::Duration;

/// Milliseconds left, from the deadline, the server's clock offset and the client's clock.
pub fn remaining_ms(expires_at_ms: i64, client_now_ms: i64, offset_ms: i64) -> i64 {
    (expires_at_ms - (client_now_ms + offset_ms)).max(0)
}

/// Whole seconds shown for `ms` left: rounds up, so "0:00" appears only at the deadline.
pub fn display_secs(ms: i64) -> i64 {
    (ms + 999) / 1000
}

/// A clock for countdowns: the server's time during SSR, the browser's time (ticking) after.
pub fn use_client_now(server_now_ms: i64) -> Signal<i64> {
    let now = RwSignal::new(server_now_ms);
    Effect::new(move || {
        now.set(js_sys::Date::now() as i64);
        let tick = set_interval_with_handle(
            move || {
                now.try_set(js_sys::Date::now() as i64);
            },
            Duration::from_millis(250),
        );
        on_cleanup(move || {
            if let Ok(tick) = tick {
                tick.clear();
            }
        });
    });
    now.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_uses_the_server_offset() {
        // The client clock is 10 s behind the server: offset +10 s.
        assert_eq!(remaining_ms(100_000, 50_000, 10_000), 40_000);
        assert_eq!(remaining_ms(100_000, 95_000, 10_000), 0);
    }

    #[test]
    fn display_rounds_up_until_the_deadline() {
        assert_eq!(display_secs(0), 0);
        assert_eq!(display_secs(1), 1);
        assert_eq!(display_secs(30_000), 30);
        assert_eq!(display_secs(30_001), 31);
    }
}
