//! The shop's webhook endpoints and the secret deliveries are signed with. Endpoints are
//! optional (none: no events are written); with any, the secret is required and must be a
//! Standard Webhooks secret. Every problem is reported, one line each; the secret never is.
use super::{parse_secs_list, var, ConfigError};
use payments::limits::DEFAULT_WEBHOOK_RETRY_SECS;
use payments::secret::Secret;
use payments::webhooks::{WebhookConfig, WebhookEndpoints, WebhookSecret};

/// `None`: no endpoint configured.
pub fn from_env() -> Result<Option<WebhookConfig>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let urls = var("SCANPAY_WEBHOOK_URLS");
    let listed = urls.as_deref().unwrap_or_default().split(',');
    let endpoints = match WebhookEndpoints::parse(listed.filter(|u| !u.trim().is_empty())) {
        Ok(endpoints) => endpoints,
        Err(invalid) => {
            for url in invalid {
                errors.push(ConfigError::new(
                    "SCANPAY_WEBHOOK_URLS",
                    url.url_for_logs,
                    url.expected,
                ));
            }
            WebhookEndpoints::default()
        }
    };
    let secret = match var("SCANPAY_WEBHOOK_SECRET") {
        Some(text) => match WebhookSecret::parse(&text) {
            Ok(secret) => Some(secret),
            Err(expected) => {
                // The value is the secret: named, never shown.
                let shown = Secret::new(()).to_string();
                errors.push(ConfigError::new("SCANPAY_WEBHOOK_SECRET", shown, expected));
                None
            }
        },
        None if urls.is_some() => {
            errors.push(ConfigError::new(
                "SCANPAY_WEBHOOK_SECRET",
                "",
                "required with SCANPAY_WEBHOOK_URLS: whsec_ and the base64 of ≥ 24 random bytes",
            ));
            None
        }
        None => None,
    };
    let retry_schedule =
        match parse_secs_list("SCANPAY_WEBHOOK_RETRY_SECS", DEFAULT_WEBHOOK_RETRY_SECS) {
            Ok(schedule) => schedule,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(secret
        .filter(|_| !endpoints.is_empty())
        .map(|secret| WebhookConfig {
            retry_schedule,
            ..WebhookConfig::new(endpoints, secret)
        }))
}
