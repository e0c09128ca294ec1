//! `SCANPAY_MODE`: development (the default: the sandbox mounted, demo auto-pay, the demo shop,
//! API keys optional) or production, which fails closed: it refuses to start — one line per
//! problem — unless a real provider is configured with secrets that are not published ones, the
//! public URL is https, and nothing of the sandbox is asked for.
use super::{var, ConfigError, Settings};
use payments::provider::keys::RsaSigningKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

impl Mode {
    pub fn from_env() -> Result<Self, ConfigError> {
        match var("SCANPAY_MODE").as_deref().map(str::trim) {
            None | Some("development") => Ok(Mode::Development),
            Some("production") => Ok(Mode::Production),
            Some(other) => Err(ConfigError::new(
                "SCANPAY_MODE",
                other,
                "development or production",
            )),
        }
    }

    pub fn is_production(self) -> bool {
        self == Mode::Production
    }
}

/// Variables that only mean something with the sandbox (development).
const SANDBOX_VARS: &[&str] = &[
    "SCANPAY_AUTOPAY",
    "SCANPAY_SANDBOX_DATABASE_URL",
    "SCANPAY_SANDBOX_FAULTS",
    "SCANPAY_SANDBOX_FAULT_ENDPOINT",
    "SCANPAY_SANDBOX_NOTIFY_RETRY_SECS",
];

/// Private keys published with this repository (the SDKs' test vectors and our own test keys):
/// anyone can sign with them, so production refuses them whatever their encoding.
const PUBLISHED_PRIVATE_KEYS: &[&str] = &[
    include_str!("../../../payments/tests/fixtures/wechatpay-java/merchant_private_key.pem"),
    include_str!("../../../payments/tests/fixtures/wechatpay-java/wechat_pay_private_key.pem"),
    include_str!("../../../payments/tests/fixtures/alipay-sdk-nodejs-all/app-private-key.pem"),
    include_str!("../../../payments/tests/fixtures/own/merchant.key.pem"),
    include_str!("../../../payments/tests/fixtures/own/platform.key.pem"),
    include_str!("../../../payments/tests/fixtures/own/other.key.pem"),
    include_str!("../../../payments/tests/fixtures/own/alipay_app.key.pem"),
    include_str!("../../../payments/tests/fixtures/own/alipay_gateway.key.pem"),
    include_str!("../../tests/integration/fixtures/forger.key.pem"),
];

/// APIv3 keys published in SDK test code and in this repository's tests.
const PUBLISHED_APIV3_KEYS: &[&str] = &[
    "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
    "0123456789abcdef0123456789abcdef",
    "testMchAPIv3Key0",
];

fn is_published_private_key(pem: &str) -> bool {
    let Ok(key) = RsaSigningKey::parse(pem) else {
        return false;
    };
    let public = key.public_key_der();
    PUBLISHED_PRIVATE_KEYS
        .iter()
        .filter_map(|published| RsaSigningKey::parse(published).ok())
        .any(|published| published.public_key_der() == public)
}

/// Webhook secrets published in this repository's tests and in the Standard Webhooks
/// specification's examples.
const PUBLISHED_WEBHOOK_SECRETS: &[&str] = &[
    "whsec_c2NhbnBheSBpbnRlZ3JhdGlvbiB0ZXN0IGtleSAzMmI=",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
];

use payments::provider::is_https_or_loopback_url as is_https_or_loopback;

/// Every reason `settings` may not run in production (empty: it may).
pub fn production_problems(settings: &Settings) -> Vec<ConfigError> {
    let mut problems = Vec::new();
    let providers = &settings.providers;
    if providers.wechatpay.is_none() && providers.alipay.is_none() {
        problems.push(ConfigError::new(
            "SCANPAY_WECHATPAY_MCHID / SCANPAY_ALIPAY_APP_ID",
            "",
            "production needs a real payment provider: configure WeChat Pay or Alipay \
             (README, Going live)",
        ));
    }
    if !is_https_or_loopback(&settings.http.public_url) {
        problems.push(ConfigError::new(
            "SCANPAY_PUBLIC_URL",
            settings.http.public_url.clone(),
            "production needs the https URL shoppers and providers reach this server at",
        ));
    }
    if settings.metrics.addr.is_none() {
        problems.push(ConfigError::new(
            "SCANPAY_METRICS_ADDR",
            "",
            "production serves /metrics and /readyz only on a listener of their own, e.g. \
             127.0.0.1:9464 (not to the world)",
        ));
    }
    for name in SANDBOX_VARS {
        // `off` asks for nothing (scripts may set SCANPAY_AUTOPAY=off everywhere).
        if let Some(value) = var(name).filter(|v| v.trim() != "off") {
            problems.push(ConfigError::new(
                name,
                value,
                "the sandbox and demo auto-pay are development only: unset it",
            ));
        }
    }
    if var("SCANPAY_SANDBOX").is_some_and(|v| v.trim() != "off") {
        problems.push(ConfigError::new(
            "SCANPAY_SANDBOX",
            var("SCANPAY_SANDBOX").unwrap_or_default(),
            "the sandbox is never mounted in production: run scanpay-sandbox on its own",
        ));
    }
    if settings.limits.rate.is_none() {
        problems.push(ConfigError::new(
            "SCANPAY_RATE_LIMIT",
            "off",
            "production keeps the per-client rate limit: raise SCANPAY_RATE_LIMIT_BURST and \
             SCANPAY_RATE_LIMIT_PER_SEC instead (off is for load generators)",
        ));
    }
    if let Some(w) = &providers.wechatpay {
        if is_published_private_key(w.merchant_private_key_pem.expose()) {
            problems.push(ConfigError::new(
                "SCANPAY_WECHATPAY_PRIVATE_KEY_FILE",
                "(a key published with scanpay's tests)",
                "production needs your own merchant API private key",
            ));
        }
        if PUBLISHED_APIV3_KEYS.contains(&w.api_v3_key.expose().as_str()) {
            problems.push(ConfigError::new(
                "SCANPAY_WECHATPAY_APIV3_KEY",
                "(a published test key)",
                "production needs the APIv3 key you set on the merchant platform",
            ));
        }
    }
    if let Some(webhooks) = &settings.webhooks {
        if PUBLISHED_WEBHOOK_SECRETS
            .iter()
            .any(|s| webhooks.secret.is(s))
        {
            problems.push(ConfigError::new(
                "SCANPAY_WEBHOOK_SECRET",
                "(a secret published with scanpay's tests or the specification)",
                "production needs a secret of your own: echo \"whsec_$(openssl rand -base64 32)\"",
            ));
        }
    }
    if let Some(a) = &providers.alipay {
        if is_published_private_key(a.app_private_key.expose()) {
            problems.push(ConfigError::new(
                "SCANPAY_ALIPAY_APP_PRIVATE_KEY_FILE",
                "(a key published with scanpay's tests)",
                "production needs your own application private key",
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_keys_are_recognised_in_any_encoding() {
        let pkcs1 = include_str!(
            "../../../payments/tests/fixtures/alipay-sdk-nodejs-all/app-private-key.pem"
        );
        let pkcs8 = include_str!(
            "../../../payments/tests/fixtures/alipay-sdk-nodejs-all/app-private-key-pkcs8.pem"
        );
        assert!(is_published_private_key(pkcs1));
        assert!(is_published_private_key(pkcs8));
        assert!(!is_published_private_key("not a key"));
    }

    #[test]
    fn production_urls_are_https_or_loopback() {
        assert!(is_https_or_loopback("https://pay.shop.example"));
        assert!(is_https_or_loopback("http://127.0.0.1:3000"));
        assert!(!is_https_or_loopback("http://pay.shop.example"));
        assert!(!is_https_or_loopback("http://0.0.0.0:3000"));
    }
}
