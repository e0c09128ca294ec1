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
/// Waits between a webhook delivery's attempts, in seconds (Standard Webhooks' and Svix's
/// schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; eight attempts over
/// about 27 h); after the last, the delivery has failed.
pub const DEFAULT_WEBHOOK_RETRY_SECS: &[u64] = &[5, 300, 1800, 7200, 18000, 36000, 36000];
/// How long one webhook attempt may take, in seconds, before it counts as failed.
pub const WEBHOOK_TIMEOUT_SECS: u64 = 10;
