//! The limits and defaults the payment service enforces, one constant each; every other crate
//! (the server's settings and checks, the page, the tests) uses these instead of its own copy.
//! Plain numbers, so the browser build can use them too.

/// Longest long-poll wait, in seconds (below common proxy idle timeouts).
pub const MAX_LONG_POLL_SECS: u64 = 25;
/// How long a payment's QR code is valid unless configured otherwise, in seconds.
pub const DEFAULT_PAYMENT_TTL_SECS: u64 = 300;
/// When to ask the provider about a pending payment, in seconds after its creation (WeChat
/// Pay's guide: 10 s, 30 s, 60 s) ...
pub const DEFAULT_RECONCILE_SCHEDULE_SECS: &[u64] = &[10, 30, 60];
/// ... and then how often, until the deadline.
pub const DEFAULT_RECONCILE_EVERY_SECS: u64 = 60;
/// Longest order description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
