//! The sandbox's settings, from the environment or built by the embedding server.
use crate::faults::Faults;
use std::ops::RangeInclusive;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Its own store (`sqlite://…` or `postgres://…`; on PostgreSQL, schema `scanpay_sandbox`).
    pub database_url: String,
    /// The base of the wallet URLs a phone opens, e.g. `http://127.0.0.1:3000`.
    pub public_url: String,
    /// The payee the wallet page shows.
    pub merchant_name: String,
    /// Demo auto-pay: pay each trade after a random delay in this range (seconds).
    pub autopay_secs: Option<RangeInclusive<u64>>,
    /// Waits between notification attempts; `None`: each protocol's real schedule.
    pub notify_retry: Option<Vec<Duration>>,
    pub faults: Faults,
    /// Whether `GET`/`PUT /sandbox/faults` exist (tests only).
    pub fault_endpoint: bool,
    /// How often the delivery and auto-pay workers look for work.
    pub tick: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{var}={value:?}: {expected}")]
pub struct SandboxConfigError {
    pub var: &'static str,
    pub value: String,
    pub expected: &'static str,
}

pub const DEFAULT_MERCHANT_NAME: &str = "scanpay demo shop";
pub const DEFAULT_TICK: Duration = Duration::from_millis(250);

/// WeChat Pay's notification retry schedule (about 24 h).
pub const WECHATPAY_RETRY_SECS: &[u64] = &[
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];
/// Alipay's notification retry schedule (about 25 h).
pub const ALIPAY_RETRY_SECS: &[u64] = &[240, 600, 600, 3600, 7200, 21600, 54000];

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl SandboxConfig {
    /// Reads SCANPAY_AUTOPAY, SCANPAY_SANDBOX_DATABASE_URL, SCANPAY_SANDBOX_FAULTS,
    /// SCANPAY_SANDBOX_FAULT_ENDPOINT, SCANPAY_SANDBOX_NOTIFY_RETRY_SECS and
    /// SCANPAY_MERCHANT_NAME; the rest comes from the caller.
    pub fn from_env(
        public_url: &str,
        default_database_url: &str,
    ) -> Result<Self, SandboxConfigError> {
        let autopay_secs = match var("SCANPAY_AUTOPAY") {
            None => Some(5..=15),
            Some(v) => parse_autopay(&v).ok_or(SandboxConfigError {
                var: "SCANPAY_AUTOPAY",
                value: v,
                expected: "a range of seconds like 5..15, a number, or off",
            })?,
        };
        let faults = match var("SCANPAY_SANDBOX_FAULTS") {
            None => Faults::default(),
            Some(v) => serde_json::from_str(&v).map_err(|_| SandboxConfigError {
                var: "SCANPAY_SANDBOX_FAULTS",
                value: v,
                expected: "JSON like {\"dropNotifications\":true}",
            })?,
        };
        let notify_retry = match var("SCANPAY_SANDBOX_NOTIFY_RETRY_SECS") {
            None => None,
            Some(v) => Some(parse_secs_list(&v).ok_or(SandboxConfigError {
                var: "SCANPAY_SANDBOX_NOTIFY_RETRY_SECS",
                value: v,
                expected: "comma-separated seconds, like 0.2,0.5,1",
            })?),
        };
        Ok(Self {
            database_url: var("SCANPAY_SANDBOX_DATABASE_URL")
                .unwrap_or_else(|| default_database_url.to_string()),
            public_url: public_url.trim_end_matches('/').to_string(),
            merchant_name: var("SCANPAY_MERCHANT_NAME")
                .unwrap_or_else(|| DEFAULT_MERCHANT_NAME.to_string()),
            autopay_secs,
            notify_retry,
            faults,
            fault_endpoint: var("SCANPAY_SANDBOX_FAULT_ENDPOINT").as_deref() == Some("on"),
            tick: DEFAULT_TICK,
        })
    }
}

/// `5..15` (seconds, inclusive), a single number, or `off`.
pub fn parse_autopay(text: &str) -> Option<Option<RangeInclusive<u64>>> {
    let text = text.trim();
    if matches!(text, "off" | "0" | "false" | "no") {
        return Some(None);
    }
    let (lo, hi) = text.split_once("..").unwrap_or((text, text));
    let (lo, hi): (u64, u64) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo <= hi).then_some(Some(lo..=hi))
}

/// `15,15,30` or `0.2,0.5` seconds.
pub fn parse_secs_list(text: &str) -> Option<Vec<Duration>> {
    let list: Option<Vec<Duration>> = text
        .split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
        })
        .collect();
    list.filter(|list| !list.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_autopay_and_retry_lists() {
        assert_eq!(parse_autopay("5..15"), Some(Some(5..=15)));
        assert_eq!(parse_autopay(" 3 "), Some(Some(3..=3)));
        assert_eq!(parse_autopay("off"), Some(None));
        assert_eq!(parse_autopay("15..5"), None);
        assert_eq!(
            parse_secs_list("0.5, 2"),
            Some(vec![Duration::from_millis(500), Duration::from_secs(2)])
        );
        assert_eq!(parse_secs_list("1,soon"), None);
        assert_eq!(parse_secs_list(""), None);
    }
}
