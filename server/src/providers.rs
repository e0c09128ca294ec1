//! The payment providers this server uses: the ones configured in the environment, or — when
//! none is, in development — both protocols' adapters pointed at the sandbox mounted on this
//! same server, with the sandbox's test merchants. The adapters are the same code either way;
//! only base URLs, ids and keys differ.
use crate::config::{notify_url, Settings};
use payments::provider::alipay::{Alipay, AlipayConfig};
use payments::provider::wechatpay::{WechatPay, WechatPayConfig, WechatPayPublicKey};
use payments::provider::{PaymentProvider, ProviderConfigError, Providers};
use payments::secret::Secret;
use payments::status::PaymentMethod;
use sandbox::Credentials;
use std::sync::Arc;

/// The enabled adapters: as the service sees them (`providers`), and each by its concrete type
/// for its notification route.
pub struct Adapters {
    pub providers: Providers,
    pub wechatpay: Option<Arc<WechatPay>>,
    pub alipay: Option<Arc<Alipay>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdaptersError {
    #[error(transparent)]
    Config(#[from] ProviderConfigError),
    #[error(transparent)]
    Providers(#[from] payments::provider::ProvidersError),
}

impl Adapters {
    /// `sandbox`: the mounted sandbox's credentials, if it is mounted (development).
    pub fn build(
        settings: &Settings,
        sandbox: Option<&Credentials>,
    ) -> Result<Self, AdaptersError> {
        let configured = &settings.providers;
        let unconfigured = configured.wechatpay.is_none() && configured.alipay.is_none();
        let (wechatpay, alipay) = if let (true, Some(sandbox)) = (unconfigured, sandbox) {
            tracing::warn!(
                "no payment provider is configured: using the sandbox's test merchants \
                 (development only; see README, Going live)"
            );
            let (wechatpay, alipay) = sandbox_merchants(settings, sandbox);
            (Some(wechatpay), Some(alipay))
        } else {
            (configured.wechatpay.clone(), configured.alipay.clone())
        };
        let wechatpay = wechatpay.map(WechatPay::new).transpose()?.map(Arc::new);
        let alipay = alipay.map(Alipay::new).transpose()?.map(Arc::new);
        let mut enabled: Vec<Arc<dyn PaymentProvider>> = Vec::new();
        if let Some(adapter) = &wechatpay {
            enabled.push(adapter.clone());
        }
        if let Some(adapter) = &alipay {
            enabled.push(adapter.clone());
        }
        let providers = Providers::new(enabled, configured.default_method)?;
        Ok(Self {
            providers,
            wechatpay,
            alipay,
        })
    }
}

/// Both protocols' configuration for the sandbox's test merchants. This process reaches the
/// sandbox, and the sandbox reaches this process, over loopback.
fn sandbox_merchants(
    settings: &Settings,
    sandbox: &Credentials,
) -> (WechatPayConfig, AlipayConfig) {
    let loopback = &settings.http.loopback_url;
    let timeout = settings.providers.timeout;
    let w = &sandbox.wechatpay;
    let wechatpay = WechatPayConfig {
        base_url: format!("{loopback}/sandbox/wechatpay"),
        mchid: w.mchid.clone(),
        appid: w.appid.clone(),
        merchant_serial_no: w.merchant_serial_no.clone(),
        merchant_private_key_pem: Secret::new(w.merchant_private_key_pem.clone()),
        api_v3_key: Secret::new(w.api_v3_key.clone()),
        public_key: Some(WechatPayPublicKey {
            id: w.public_key_id.clone(),
            pem: w.public_key_pem.clone(),
        }),
        platform_certificates_pem: Vec::new(),
        notify_url: notify_url(loopback, PaymentMethod::WechatPay),
        timeout,
    };
    let a = &sandbox.alipay;
    let alipay = AlipayConfig {
        gateway: format!("{loopback}/sandbox/alipay/gateway.do"),
        app_id: a.app_id.clone(),
        app_private_key: Secret::new(a.app_private_key_pem.clone()),
        alipay_public_key: a.alipay_public_key_pem.clone(),
        notify_url: notify_url(loopback, PaymentMethod::Alipay),
        timeout,
    };
    (wechatpay, alipay)
}
