//! The payment countdown: `expires_at − now` on the server's clock (`use_server_clock`),
//! recomputed on every tick. Never a decremented counter, so it neither drifts nor stalls in a
//! throttled background tab.

/// Milliseconds left until the deadline, on the server's clock.
pub fn remaining_ms(expires_at_ms: i64, server_now_ms: i64) -> i64 {
    (expires_at_ms - server_now_ms).max(0)
}

/// Whole seconds shown for `ms` left: rounds up, so "0:00" appears only at the deadline.
pub fn display_secs(ms: i64) -> i64 {
    (ms + 999) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_stops_at_zero() {
        assert_eq!(remaining_ms(100_000, 60_000), 40_000);
        assert_eq!(remaining_ms(100_000, 105_000), 0);
    }

    #[test]
    fn display_rounds_up_until_the_deadline() {
        assert_eq!(display_secs(0), 0);
        assert_eq!(display_secs(1), 1);
        assert_eq!(display_secs(30_000), 30);
        assert_eq!(display_secs(30_001), 31);
    }
}
