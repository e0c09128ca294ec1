//! Settings from the environment, grouped by the part that owns them (HTTP, merchant service,
//! providers, webhooks to the shop, the development sandbox, the operator's endpoints, the limits
//! against a hostile internet); each
//! group builds its own part. Every variable has a default (see README); the defaults of the
//! service's limits are the payments crate's constants.
mod limits;
mod mode;
mod providers;
mod webhooks;

pub use limits::{LimitSettings, RateLimit};
pub use mode::Mode;
use payments::limits::{
    DEFAULT_PAYMENT_TTL_SECS, DEFAULT_RECONCILE_EVERY_SECS, DEFAULT_RECONCILE_SCHEDULE_SECS,
};
use payments::secret::{redact_url, Secret};
use payments::service::ServiceConfig;
use payments::webhooks::WebhookConfig;
pub use providers::{notify_url, ProviderSettings};
use sandbox::SandboxConfig;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub http: HttpSettings,
    pub merchant: MerchantSettings,
    pub providers: ProviderSettings,
    /// The providers' sandbox, mounted under `/sandbox`: development only (`None` in production,
    /// or with `SCANPAY_SANDBOX=off`).
    pub sandbox: Option<SandboxConfig>,
    /// Webhooks to the shop (`None`: no endpoint configured, no events written).
    pub webhooks: Option<WebhookConfig>,
    pub metrics: MetricsSettings,
    pub limits: LimitSettings,
}

/// Where the operator's endpoints, `GET /metrics` and `GET /readyz`, are served: they tell
/// anyone who can reach them how much the shop sells, so they are not for the world.
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// `SCANPAY_METRICS_ADDR` (e.g. `127.0.0.1:9464`): a listener of their own, and they are not
    /// on the public one. `None` (development): on the main router, next to the pages.
    /// Production refuses to start without it.
    pub addr: Option<SocketAddr>,
}

impl MetricsSettings {
    fn from_env() -> Result<Self, ConfigError> {
        let addr = match var("SCANPAY_METRICS_ADDR") {
            None => None,
            Some(v) => Some(v.trim().parse().map_err(|_| ConfigError {
                var: "SCANPAY_METRICS_ADDR",
                value: v,
                expected: "an address and port to listen on, like 127.0.0.1:9464",
            })?),
        };
        Ok(Self { addr })
    }

    /// Whether the main router serves the operator's endpoints: only when they have no
    /// listener of their own.
    pub fn on_main_router(&self) -> bool {
        self.addr.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Base URL the outside world reaches this server at: QR codes, wallet pages, notify URLs.
    pub public_url: String,
    /// Base URL this process reaches itself at over loopback (the sandbox's front doors and its
    /// notifications, in development).
    pub loopback_url: String,
}

/// The merchant's payment service: its store, its timing, and the name shoppers pay.
#[derive(Debug, Clone)]
pub struct MerchantSettings {
    /// `SCANPAY_MERCHANT_NAME`: who the shopper pays, on the payment and order pages (the
    /// sandbox's wallet page reads the same variable).
    pub name: String,
    pub database_url: Secret,
    pub payment_ttl: Duration,
    pub reconcile_schedule: Vec<Duration>,
    pub reconcile_every: Duration,
    /// How often the expiry and reconciliation workers run.
    pub sweep_interval: Duration,
}

const DEFAULT_DATABASE_URL: &str = "sqlite://data/scanpay.db";
const DEFAULT_SWEEP_MS: u64 = 1000;

#[derive(Debug, thiserror::Error)]
#[error("{var}={value:?}: {expected}")]
pub struct ConfigError {
    var: &'static str,
    value: String,
    expected: &'static str,
}

impl ConfigError {
    pub fn new(var: &'static str, value: impl Into<String>, expected: &'static str) -> Self {
        Self {
            var,
            value: value.into(),
            expected,
        }
    }
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

impl Settings {
    /// `site_addr`: the address the server listens on (the default base of its URLs). Every
    /// problem is reported, not just the first.
    pub fn from_env(site_addr: SocketAddr) -> Result<Self, Vec<ConfigError>> {
        let mut loopback = site_addr;
        if loopback.ip().is_unspecified() {
            loopback.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let http = HttpSettings {
            public_url: var("SCANPAY_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://{site_addr}")),
            loopback_url: format!("http://{loopback}"),
        };
        let mode = Mode::from_env().map_err(|e| vec![e])?;
        let merchant = MerchantSettings::from_env().map_err(|e| vec![e])?;
        let metrics = MetricsSettings::from_env().map_err(|e| vec![e])?;
        let limits = LimitSettings::from_env().map_err(|e| vec![e])?;
        let (providers, webhooks) = match (
            ProviderSettings::from_env(&http.public_url),
            webhooks::from_env(),
        ) {
            (Ok(providers), Ok(webhooks)) => (providers, webhooks),
            (providers, webhooks) => {
                let errors = providers.err().into_iter().flatten();
                return Err(errors.chain(webhooks.err().into_iter().flatten()).collect());
            }
        };
        let sandbox_wanted = match var("SCANPAY_SANDBOX").as_deref().map(str::trim) {
            None => !mode.is_production(),
            Some("off") => false,
            Some("on") => true,
            Some(other) => {
                return Err(vec![ConfigError::new(
                    "SCANPAY_SANDBOX",
                    other,
                    "on or off",
                )])
            }
        };
        let sandbox = if sandbox_wanted && !mode.is_production() {
            Some(
                SandboxConfig::from_env(
                    &http.public_url,
                    &sandbox_database_url(merchant.database_url.expose()),
                )
                .map_err(|e| {
                    vec![ConfigError::new(
                        "SCANPAY_SANDBOX_*",
                        e.to_string(),
                        "valid sandbox settings",
                    )]
                })?,
            )
        } else {
            None
        };
        let settings = Self {
            mode,
            http,
            merchant,
            providers,
            webhooks,
            sandbox,
            metrics,
            limits,
        };
        if mode.is_production() {
            let problems = mode::production_problems(&settings);
            if !problems.is_empty() {
                return Err(problems);
            }
        }
        Ok(settings)
    }

    /// The payment service's settings: the merchant's timing, and where its events go.
    pub fn service_config(&self) -> ServiceConfig {
        ServiceConfig {
            webhook_endpoints: self
                .webhooks
                .as_ref()
                .map(|w| w.endpoints.clone())
                .unwrap_or_default(),
            ..self.merchant.service_config()
        }
    }
}

impl MerchantSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            name: var("SCANPAY_MERCHANT_NAME")
                .unwrap_or_else(|| sandbox::DEFAULT_MERCHANT_NAME.to_string()),
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
        })
    }

    pub fn service_config(&self) -> ServiceConfig {
        ServiceConfig {
            payment_ttl: self.payment_ttl,
            reconcile_schedule: self.reconcile_schedule.clone(),
            reconcile_every: self.reconcile_every,
            ..ServiceConfig::default()
        }
    }

    /// The database URL as logs may show it.
    pub fn database_for_logs(&self) -> String {
        redact_url(self.database_url.expose())
    }
}

/// `sqlite://dir/name.db?opts` → `sqlite://dir/name-sandbox.db?opts` (a real provider is a
/// separate system, and its writes must not queue behind the merchant's single SQLite writer);
/// PostgreSQL is shared (the sandbox keeps to its own schema).
fn sandbox_database_url(database_url: &str) -> String {
    if !database_url.starts_with("sqlite:") {
        return database_url.to_string();
    }
    let (path, query) = match database_url.split_once('?') {
        Some((path, query)) => (path, format!("?{query}")),
        None => (database_url, String::new()),
    };
    let stem = path.strip_suffix(".db").unwrap_or(path);
    format!("{stem}-sandbox.db{query}")
}

#[cfg(test)]
mod tests {
    use super::{sandbox_database_url, MerchantSettings, Secret};
    use std::time::Duration;

    #[test]
    fn the_sandbox_gets_a_sqlite_file_of_its_own_and_shares_postgres() {
        assert_eq!(
            sandbox_database_url("sqlite://data/scanpay.db"),
            "sqlite://data/scanpay-sandbox.db"
        );
        assert_eq!(
            sandbox_database_url("sqlite:///tmp/x/bench.db?mode=rwc"),
            "sqlite:///tmp/x/bench-sandbox.db?mode=rwc"
        );
        assert_eq!(
            sandbox_database_url("postgres://u@h/db"),
            "postgres://u@h/db"
        );
    }

    #[test]
    fn settings_never_print_their_secrets() {
        let merchant = MerchantSettings {
            name: "shop".to_string(),
            database_url: Secret::new("postgres://shop:hunter2@db/scanpay".to_string()),
            payment_ttl: Duration::from_secs(300),
            reconcile_schedule: vec![],
            reconcile_every: Duration::from_secs(60),
            sweep_interval: Duration::from_secs(1),
        };
        let printed = format!("{merchant:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!merchant.database_for_logs().contains("hunter2"));
    }
}
