//! Settings from the environment, grouped by the part that owns them (merchant service, provider
//! simulator, HTTP); each group builds its own part. Every variable has a default (see README);
//! the defaults of the service's limits are the payments crate's constants.
use payments::limits::{
    DEFAULT_PAYMENT_TTL_SECS, DEFAULT_RECONCILE_EVERY_SECS, DEFAULT_RECONCILE_SCHEDULE_SECS,
};
use payments::secret::{redact_url, Secret};
use payments::service::ServiceConfig;
use payments::simulator::{Faults, SimulatorConfig, DEFAULT_RETRY_SECS};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    pub merchant: MerchantSettings,
    pub simulator: SimulatorSettings,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Base URL encoded in QR codes and callback URLs.
    pub public_url: String,
}

/// The merchant's payment service: its store, its timing, and the secret callbacks are
/// verified with.
#[derive(Debug, Clone)]
pub struct MerchantSettings {
    pub database_url: Secret,
    pub payment_ttl: Duration,
    pub reconcile_schedule: Vec<Duration>,
    pub reconcile_every: Duration,
    /// How often the expiry and reconciliation workers run.
    pub sweep_interval: Duration,
    /// `None`: no SCANPAY_NOTIFY_SECRET was set; the server uses a development secret.
    pub notify_secret: Option<Secret>,
}

/// The simulated provider (a separate system in real life: its own store and workers).
#[derive(Debug, Clone)]
pub struct SimulatorSettings {
    /// On SQLite a file beside the merchant's (so its writes do not queue behind the merchant's
    /// single writer), on PostgreSQL the same database.
    pub database_url: Secret,
    pub merchant_name: String,
    /// Demo auto-pay delay range in seconds; `None` when off.
    pub autopay_secs: Option<RangeInclusive<u64>>,
    pub notify_url: String,
    pub notify_retry: Vec<Duration>,
    pub faults: Faults,
    /// Whether `PUT /sim/faults` exists (tests only).
    pub fault_endpoint: bool,
    /// How often its delivery and auto-pay workers look for work.
    pub tick: Duration,
}

/// The secret used when SCANPAY_NOTIFY_SECRET is not set: fine for a demo, never for money.
pub const DEVELOPMENT_NOTIFY_SECRET: &str = "scanpay-development-notify-secret";
const DEFAULT_DATABASE_URL: &str = "sqlite://data/scanpay.db";
const DEFAULT_MERCHANT_NAME: &str = "scanpay 演示商户";
const DEFAULT_SWEEP_MS: u64 = 1000;
const DEFAULT_SIMULATOR_TICK_MS: u64 = 250;

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

fn parse_positive(
    var_name: &'static str,
    default: u64,
    expected: &'static str,
) -> Result<u64, ConfigError> {
    match var(var_name) {
        None => Ok(default),
        Some(v) => v.trim().parse().ok().filter(|n| *n > 0).ok_or(ConfigError {
            var: var_name,
            value: v,
            expected,
        }),
    }
}

fn parse_secs(var_name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    parse_positive(var_name, default, "a whole number of seconds > 0").map(Duration::from_secs)
}

fn parse_ms(var_name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    parse_positive(var_name, default, "a whole number of milliseconds > 0")
        .map(Duration::from_millis)
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
                .filter(|s| s.is_finite() && *s >= 0.0)
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

impl Settings {
    /// `site_addr`: the address the server listens on (the default base of its URLs).
    pub fn from_env(site_addr: SocketAddr) -> Result<Self, ConfigError> {
        let http = HttpSettings {
            public_url: var("SCANPAY_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://{site_addr}")),
        };
        let merchant = MerchantSettings::from_env()?;
        let simulator = SimulatorSettings::from_env(&merchant, site_addr)?;
        Ok(Self {
            http,
            merchant,
            simulator,
        })
    }
}

impl MerchantSettings {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: Secret::new(
                var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            ),
            payment_ttl: parse_secs("SCANPAY_PAYMENT_TTL_SECS", DEFAULT_PAYMENT_TTL_SECS)?,
            reconcile_schedule: parse_secs_list(
                "SCANPAY_RECONCILE_SECS",
                DEFAULT_RECONCILE_SCHEDULE_SECS,
            )?,
            reconcile_every: parse_secs(
                "SCANPAY_RECONCILE_EVERY_SECS",
                DEFAULT_RECONCILE_EVERY_SECS,
            )?,
            sweep_interval: parse_ms("SCANPAY_SWEEP_MS", DEFAULT_SWEEP_MS)?,
            notify_secret: var("SCANPAY_NOTIFY_SECRET").map(Secret::new),
        })
    }

    /// The secret callbacks are signed with: the configured one, else (with a warning) the
    /// development secret.
    pub fn notify_secret(&self) -> Secret {
        self.notify_secret.clone().unwrap_or_else(|| {
            tracing::warn!(
                "SCANPAY_NOTIFY_SECRET is not set: using the development secret; set it in production"
            );
            Secret::new(DEVELOPMENT_NOTIFY_SECRET.to_string())
        })
    }

    pub fn service_config(&self) -> ServiceConfig {
        ServiceConfig {
            payment_ttl: self.payment_ttl,
            reconcile_schedule: self.reconcile_schedule.clone(),
            reconcile_every: self.reconcile_every,
        }
    }

    /// The database URL as logs may show it.
    pub fn database_for_logs(&self) -> String {
        redact_url(self.database_url.expose())
    }
}

impl SimulatorSettings {
    fn from_env(merchant: &MerchantSettings, site_addr: SocketAddr) -> Result<Self, ConfigError> {
        let autopay_secs = match var("SCANPAY_AUTOPAY") {
            None => Some(5..=15),
            Some(v) => parse_autopay(&v).ok_or(ConfigError {
                var: "SCANPAY_AUTOPAY",
                value: v,
                expected: "a range of seconds like 5..15, a number, or off",
            })?,
        };
        let faults = match var("SCANPAY_SIM_FAULTS") {
            None => Faults::default(),
            Some(v) => serde_json::from_str(&v).map_err(|_| ConfigError {
                var: "SCANPAY_SIM_FAULTS",
                value: v,
                expected: "JSON like {\"dropNotifications\":true}",
            })?,
        };
        Ok(Self {
            database_url: Secret::new(
                var("SCANPAY_PROVIDER_DATABASE_URL")
                    .unwrap_or_else(|| provider_database_url(merchant.database_url.expose())),
            ),
            merchant_name: var("SCANPAY_MERCHANT_NAME")
                .unwrap_or_else(|| DEFAULT_MERCHANT_NAME.to_string()),
            autopay_secs,
            notify_url: var("SCANPAY_NOTIFY_URL")
                .unwrap_or_else(|| format!("http://{site_addr}/api/pay/notify")),
            notify_retry: parse_secs_list("SCANPAY_NOTIFY_RETRY_SECS", DEFAULT_RETRY_SECS)?,
            faults,
            fault_endpoint: var("SCANPAY_SIM_FAULT_ENDPOINT").as_deref() == Some("on"),
            tick: Duration::from_millis(DEFAULT_SIMULATOR_TICK_MS),
        })
    }

    /// The simulator's own configuration; it signs with the secret it shares with the merchant,
    /// as a real provider shares its API key.
    pub fn simulator_config(&self, public_url: &str, notify_secret: &Secret) -> SimulatorConfig {
        SimulatorConfig {
            public_url: public_url.to_string(),
            merchant_name: self.merchant_name.clone(),
            autopay_secs: self.autopay_secs.clone(),
            notify_url: self.notify_url.clone(),
            notify_secret: Secret::new(notify_secret.expose().clone().into_bytes()),
            retry_schedule: self.notify_retry.clone(),
            faults: self.faults.clone(),
        }
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
    use super::{parse_autopay, provider_database_url, MerchantSettings, Secret};
    use std::time::Duration;

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

    #[test]
    fn settings_never_print_their_secrets() {
        let merchant = MerchantSettings {
            database_url: Secret::new("postgres://shop:hunter2@db/scanpay".to_string()),
            payment_ttl: Duration::from_secs(300),
            reconcile_schedule: vec![],
            reconcile_every: Duration::from_secs(60),
            sweep_interval: Duration::from_secs(1),
            notify_secret: Some(Secret::new("top-secret-key".to_string())),
        };
        let printed = format!("{merchant:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("top-secret-key"), "{printed}");
        assert!(!merchant.database_for_logs().contains("hunter2"));
    }
}
