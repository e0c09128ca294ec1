//! The real providers' settings, read from the environment. A provider is enabled when its id
//! (`SCANPAY_WECHATPAY_MCHID`, `SCANPAY_ALIPAY_APP_ID`) is set; then every value it needs must be
//! there, and each missing or unreadable one is named. Key material comes from files (what the
//! merchant platforms hand out), the APIv3 key from a variable or a file.
use super::{var, ConfigError};
use payments::provider::alipay::{AlipayConfig, DEFAULT_GATEWAY};
use payments::provider::wechatpay::{WechatPayConfig, WechatPayPublicKey, DEFAULT_BASE_URL};
use payments::secret::Secret;
use payments::status::PaymentMethod;
use std::time::Duration;

/// Every provider call's timeout unless `SCANPAY_PROVIDER_TIMEOUT_MS` says otherwise.
const DEFAULT_PROVIDER_TIMEOUT_MS: u64 = 5_000;

#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `None`: not configured here (in development the sandbox's merchant is used instead).
    pub wechatpay: Option<WechatPayConfig>,
    pub alipay: Option<AlipayConfig>,
    /// The method a payment gets when the shopper has not chosen (`SCANPAY_DEFAULT_METHOD`).
    pub default_method: Option<PaymentMethod>,
    pub timeout: Duration,
}

impl ProviderSettings {
    /// `notify_base`: where the providers reach this server (`…/api/pay/notify/<method>`).
    pub fn from_env(notify_base: &str) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let timeout =
            match super::parse_ms("SCANPAY_PROVIDER_TIMEOUT_MS", DEFAULT_PROVIDER_TIMEOUT_MS) {
                Ok(timeout) => timeout,
                Err(e) => {
                    errors.push(e);
                    Duration::from_millis(DEFAULT_PROVIDER_TIMEOUT_MS)
                }
            };
        let default_method = match var("SCANPAY_DEFAULT_METHOD") {
            None => None,
            Some(v) => match PaymentMethod::parse(v.trim()) {
                Some(method) => Some(method),
                None => {
                    errors.push(ConfigError::new(
                        "SCANPAY_DEFAULT_METHOD",
                        v,
                        "wechatpay or alipay",
                    ));
                    None
                }
            },
        };
        let mut env = Env {
            errors: &mut errors,
        };
        let wechatpay = env.wechatpay(notify_base, timeout);
        let alipay = env.alipay(notify_base, timeout);
        if errors.is_empty() {
            Ok(Self {
                wechatpay,
                alipay,
                default_method,
                timeout,
            })
        } else {
            Err(errors)
        }
    }
}

/// The notify URL of `method` under `notify_base`.
pub fn notify_url(notify_base: &str, method: PaymentMethod) -> String {
    format!(
        "{}/api/pay/notify/{}",
        notify_base.trim_end_matches('/'),
        method.as_str()
    )
}

/// Reads variables, collecting every problem instead of stopping at the first.
struct Env<'a> {
    errors: &'a mut Vec<ConfigError>,
}

impl Env<'_> {
    fn required(&mut self, name: &'static str, what: &'static str) -> String {
        var(name).unwrap_or_else(|| {
            self.errors
                .push(ConfigError::new(name, String::new(), what));
            String::new()
        })
    }

    /// The contents of the file a variable names.
    fn file(&mut self, name: &'static str, what: &'static str) -> Option<String> {
        let path = var(name)?;
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) => {
                self.errors.push(ConfigError::new(
                    name,
                    path,
                    if e.kind() == std::io::ErrorKind::NotFound {
                        "a file that exists"
                    } else {
                        what
                    },
                ));
                None
            }
        }
    }

    fn required_file(&mut self, name: &'static str, what: &'static str) -> String {
        if var(name).is_none() {
            self.errors
                .push(ConfigError::new(name, String::new(), what));
            return String::new();
        }
        self.file(name, what).unwrap_or_default()
    }

    fn wechatpay(&mut self, notify_base: &str, timeout: Duration) -> Option<WechatPayConfig> {
        let mchid = var("SCANPAY_WECHATPAY_MCHID")?;
        let appid = self.required("SCANPAY_WECHATPAY_APPID", "the AppID bound to the merchant");
        let merchant_serial_no = self.required(
            "SCANPAY_WECHATPAY_MERCHANT_SERIAL_NO",
            "the merchant API certificate's serial number",
        );
        let merchant_private_key_pem = self.required_file(
            "SCANPAY_WECHATPAY_PRIVATE_KEY_FILE",
            "the path of the merchant API private key (apiclient_key.pem)",
        );
        let api_v3_key = match var("SCANPAY_WECHATPAY_APIV3_KEY") {
            Some(key) => key,
            None => self
                .required_file(
                    "SCANPAY_WECHATPAY_APIV3_KEY_FILE",
                    "the APIv3 key (SCANPAY_WECHATPAY_APIV3_KEY) or a file holding it",
                )
                .trim()
                .to_string(),
        };
        let public_key = var("SCANPAY_WECHATPAY_PUBLIC_KEY_ID").map(|id| WechatPayPublicKey {
            id,
            pem: self.required_file(
                "SCANPAY_WECHATPAY_PUBLIC_KEY_FILE",
                "the path of the WeChat Pay public key (pub_key.pem)",
            ),
        });
        let mut platform_certificates_pem = Vec::new();
        if let Some(paths) = var("SCANPAY_WECHATPAY_PLATFORM_CERT_FILES") {
            for path in paths.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match std::fs::read_to_string(path) {
                    Ok(text) => platform_certificates_pem.push(text),
                    Err(e) => self.errors.push(ConfigError::new(
                        "SCANPAY_WECHATPAY_PLATFORM_CERT_FILES",
                        format!("{path}: {e}"),
                        "comma-separated paths of readable platform certificates (PEM)",
                    )),
                }
            }
        }
        if public_key.is_none() && platform_certificates_pem.is_empty() {
            self.errors.push(ConfigError::new(
                "SCANPAY_WECHATPAY_PUBLIC_KEY_ID",
                String::new(),
                "the WeChat Pay public key's id and file (or SCANPAY_WECHATPAY_PLATFORM_CERT_FILES)",
            ));
        }
        Some(WechatPayConfig {
            base_url: var("SCANPAY_WECHATPAY_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into()),
            mchid,
            appid,
            merchant_serial_no,
            merchant_private_key_pem: Secret::new(merchant_private_key_pem),
            api_v3_key: Secret::new(api_v3_key),
            public_key,
            platform_certificates_pem,
            notify_url: notify_url(notify_base, PaymentMethod::WechatPay),
            timeout,
        })
    }

    fn alipay(&mut self, notify_base: &str, timeout: Duration) -> Option<AlipayConfig> {
        let app_id = var("SCANPAY_ALIPAY_APP_ID")?;
        let app_private_key = self.required_file(
            "SCANPAY_ALIPAY_APP_PRIVATE_KEY_FILE",
            "the path of the application private key (应用私钥)",
        );
        let alipay_public_key = self.required_file(
            "SCANPAY_ALIPAY_PUBLIC_KEY_FILE",
            "the path of the Alipay public key (支付宝公钥, not the application's own)",
        );
        Some(AlipayConfig {
            gateway: var("SCANPAY_ALIPAY_GATEWAY").unwrap_or_else(|| DEFAULT_GATEWAY.into()),
            app_id,
            app_private_key: Secret::new(app_private_key),
            alipay_public_key,
            notify_url: notify_url(notify_base, PaymentMethod::Alipay),
            timeout,
        })
    }
}
