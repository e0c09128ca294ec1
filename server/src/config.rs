//! Configuration from the environment; every variable has a default (see README).
use payments::simulator::{Faults, DEFAULT_RETRY_SECS};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// The simulated provider's own database, as a real provider has: on SQLite a file beside
    /// ours (so its writes do not queue behind the merchant's single writer), on PostgreSQL the
    /// same database. SCANPAY_PROVIDER_DATABASE_URL overrides it.
    pub provider_database_url: String,
    pub payment_ttl: Duration,
    /// Demo auto-pay delay range in seconds; `None` when off.
    pub autopay_secs: Option<RangeInclusive<u64>>,
    pub public_url: String,
    pub merchant_name: String,
    pub sweep_interval: Duration,
    pub notify_url: String,
    /// `None`: no SCANPAY_NOTIFY_SECRET was set; the server uses a development secret.
    pub notify_secret: Option<String>,
    pub notify_retry: Vec<Duration>,
    pub reconcile_schedule: Vec<Duration>,
    pub reconcile_every: Duration,
    pub sim_faults: Faults,
    /// Whether `PUT /sim/faults` exists (tests only).
    pub sim_fault_endpoint: bool,
}

/// The secret used when SCANPAY_NOTIFY_SECRET is not set: fine for a demo, never for money.
pub const DEVELOPMENT_NOTIFY_SECRET: &str = "scanpay-development-notify-secret";

#[derive(Debug, thiserror::Error)]
#[error("{var}={value:?}: {expected}")]
pub struct ConfigError {
    var: &'static str,
    value: String,
    expected: &'static str,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_secs(var_name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match var(var_name) {
        None => Ok(default),
        Some(v) => v.trim().parse().ok().filter(|n| *n > 0).ok_or(ConfigError {
            var: var_name,
            value: v,
            expected: "a whole number of seconds > 0",
        }),
    }
}

/// A comma-separated list of seconds, e.g. `15,15,30`.
fn parse_secs_list(var_name: &'static str, default: &[u64]) -> Result<Vec<Duration>, ConfigError> {
    let Some(v) = var(var_name) else {
        return Ok(default.iter().copied().map(Duration::from_secs).collect());
    };
    let parsed: Option<Vec<Duration>> = v
        .split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .ok()
                .filter(|s| *s >= 0.0)
                .map(Duration::from_secs_f64)
        })
        .collect();
    parsed.filter(|list| !list.is_empty()).ok_or(ConfigError {
        var: var_name,
        value: v,
        expected: "comma-separated seconds, like 15,15,30",
    })
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

impl Config {
    pub fn from_env(site_addr: SocketAddr) -> Result<Self, ConfigError> {
        let autopay_secs = match var("SCANPAY_AUTOPAY") {
            None => Some(5..=15),
            Some(v) => parse_autopay(&v).ok_or(ConfigError {
                var: "SCANPAY_AUTOPAY",
                value: v,
                expected: "a range of seconds like 5..15, a number, or off",
            })?,
        };
        let sweep_ms = parse_secs("SCANPAY_SWEEP_MS", 1000)?;
        let mut reconcile = parse_secs_list("SCANPAY_RECONCILE_SECS", &[10, 30, 60, 60])?;
        // The last entry is the interval after the schedule: "10,30,60,60" = 10 s, 30 s, 60 s,
        // then every 60 s.
        let reconcile_every = if reconcile.len() > 1 {
            reconcile.pop().expect("non-empty")
        } else {
            Duration::from_secs(60)
        };
        let sim_faults = match var("SCANPAY_SIM_FAULTS") {
            None => Faults::default(),
            Some(v) => serde_json::from_str(&v).map_err(|_| ConfigError {
                var: "SCANPAY_SIM_FAULTS",
                value: v,
                expected: "JSON like {\"dropNotifications\":true}",
            })?,
        };
        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| "sqlite://data/scanpay.db".to_string());
        Ok(Self {
            provider_database_url: var("SCANPAY_PROVIDER_DATABASE_URL")
                .unwrap_or_else(|| provider_database_url(&database_url)),
            database_url,
            payment_ttl: Duration::from_secs(parse_secs("SCANPAY_PAYMENT_TTL_SECS", 300)?),
            autopay_secs,
            public_url: var("SCANPAY_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://{site_addr}")),
            merchant_name: var("SCANPAY_MERCHANT_NAME")
                .unwrap_or_else(|| "scanpay 演示商户".to_string()),
            sweep_interval: Duration::from_millis(sweep_ms),
            notify_url: var("SCANPAY_NOTIFY_URL")
                .unwrap_or_else(|| format!("http://{site_addr}/api/pay/notify")),
            notify_secret: var("SCANPAY_NOTIFY_SECRET"),
            notify_retry: parse_secs_list("SCANPAY_NOTIFY_RETRY_SECS", DEFAULT_RETRY_SECS)?,
            reconcile_schedule: reconcile,
            reconcile_every,
            sim_faults,
            sim_fault_endpoint: var("SCANPAY_SIM_FAULT_ENDPOINT").as_deref() == Some("on"),
        })
    }
}

/// `sqlite://dir/name.db?opts` → `sqlite://dir/name-provider.db?opts`; other engines share.
fn provider_database_url(database_url: &str) -> String {
    if !database_url.starts_with("sqlite:") {
        return database_url.to_string();
    }
    let (path, query) = match database_url.split_once('?') {
        Some((path, query)) => (path, format!("?{query}")),
        None => (database_url, String::new()),
    };
    let stem = path.strip_suffix(".db").unwrap_or(path);
    format!("{stem}-provider.db{query}")
}

#[cfg(test)]
mod tests {
    use super::{parse_autopay, provider_database_url};

    #[test]
    fn the_provider_gets_a_sqlite_file_of_its_own_and_shares_postgres() {
        assert_eq!(
            provider_database_url("sqlite://data/scanpay.db"),
            "sqlite://data/scanpay-provider.db"
        );
        assert_eq!(
            provider_database_url("sqlite:///tmp/x/bench.db?mode=rwc"),
            "sqlite:///tmp/x/bench-provider.db?mode=rwc"
        );
        assert_eq!(
            provider_database_url("postgres://u@h/db"),
            "postgres://u@h/db"
        );
    }

    #[test]
    fn parses_autopay() {
        assert_eq!(parse_autopay("5..15"), Some(Some(5..=15)));
        assert_eq!(parse_autopay(" 3 "), Some(Some(3..=3)));
        assert_eq!(parse_autopay("off"), Some(None));
        assert_eq!(parse_autopay("15..5"), None);
        assert_eq!(parse_autopay("soon"), None);
    }
}
