//! A faithful sandbox of WeChat Pay API v3 Native (扫码支付) and Alipay 当面付
//! (`alipay.trade.precreate` / `.query` / `.close`): the same calls, signatures, error shapes,
//! encrypted and signed notifications and retry schedules as the real services, so a merchant's
//! production adapters (and the providers' own SDKs) talk to it unchanged — only base URLs, ids
//! and keys differ. Each trade's `code_url` / `qr_code` is a wallet page a phone can open to pay
//! or decline; demo auto-pay and protocol-level faults are built in.
//!
//! Mounted by the scanpay server in development (`Sandbox::router`, `Sandbox::run_workers`), or
//! standalone:
//!
//! ```sh
//! SCANPAY_SANDBOX_ADDR=127.0.0.1:3100 cargo run -p sandbox --bin scanpay-sandbox
//! curl http://127.0.0.1:3100/sandbox/credentials   # ids, keys and base URLs for a merchant
//! ```
//!
//! The binary also serves the front doors at the real hosts' paths (`/v3/pay/...`,
//! `/gateway.do`) for SDKs that only let the host change. Settings: `SCANPAY_AUTOPAY` (`5..15`,
//! a number, or `off`), `SCANPAY_SANDBOX_DATABASE_URL`, `SCANPAY_SANDBOX_FAULTS` (JSON, see
//! [`Faults`]), `SCANPAY_SANDBOX_FAULT_ENDPOINT=on`, `SCANPAY_SANDBOX_NOTIFY_RETRY_SECS`
//! (`0.5,1,2`), `SCANPAY_MERCHANT_NAME`; the binary adds `SCANPAY_SANDBOX_ADDR` and
//! `SCANPAY_PUBLIC_URL`.
//!
//! Routes (all under `/sandbox`): `wechatpay/v3/pay/transactions/native`,
//! `wechatpay/v3/pay/transactions/out-trade-no/{no}` (`?mchid=`),
//! `wechatpay/v3/pay/transactions/out-trade-no/{no}/close`, `alipay/gateway.do`,
//! `pay/{wechatpay|alipay}/{no}` (+ `/approve`, `/decline`; `?lang=zh-CN|en`), the wallet page's
//! `wallet.css` and `wallet-icon.svg`, `credentials`, and `faults` when enabled.
use axum::routing::{get, post};
use axum::Router;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;

pub mod alipay;
mod autopay;
mod buyer;
pub mod clock;
mod config;
mod faults;
pub mod keys;
mod merchants;
mod outbox;
mod routes;
mod store;
mod trades;
mod wallet;
pub mod wechatpay;

pub use config::{
    parse_autopay, SandboxConfig, SandboxConfigError, ALIPAY_RETRY_SECS, DEFAULT_MERCHANT_NAME,
    WECHATPAY_RETRY_SECS,
};
pub use faults::Faults;
pub use merchants::{AlipayCredentials, Credentials, WechatpayCredentials};
pub use store::POSTGRES_SCHEMA;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Merchants(#[from] merchants::MerchantsError),
    #[error("sandbox HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

pub struct Sandbox {
    config: SandboxConfig,
    store: store::Store,
    merchants: merchants::Merchants,
    faults: RwLock<Faults>,
    /// API calls failed so far by fault `failFirstCalls` (reset when the faults change).
    calls_failed: AtomicU32,
    http: reqwest::Client,
    /// Wakes the delivery worker as soon as a notification is queued.
    outbox_ready: Notify,
}

impl Sandbox {
    /// Connects to its store, migrates, and loads (or generates once) its merchants and keys.
    pub async fn open(config: SandboxConfig) -> Result<Arc<Sandbox>, SandboxError> {
        let store = store::Store::connect(&config.database_url).await?;
        let merchants = merchants::Merchants::load_or_generate(&store).await?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        let mut config = config;
        config.public_url = config.public_url.trim_end_matches('/').to_string();
        Ok(Arc::new(Sandbox {
            faults: RwLock::new(config.faults.clone()),
            config,
            store,
            merchants,
            calls_failed: AtomicU32::new(0),
            http,
            outbox_ready: Notify::new(),
        }))
    }

    /// Closes the store's connections (and waits for them): the store file is then complete.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Everything a merchant integration needs (what `GET /sandbox/credentials` answers).
    pub fn credentials(&self) -> Credentials {
        self.merchants.credentials(&self.config.public_url)
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    pub fn faults(&self) -> Faults {
        self.faults.read().expect("faults lock").clone()
    }

    /// Replaces the faults; fields left out are off. Restarts the `failFirstCalls` count.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.write().expect("faults lock") = faults;
        self.calls_failed
            .store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every `/sandbox/...` route, with the sandbox as their own state.
    pub fn router<S: Clone + Send + Sync + 'static>(self: &Arc<Self>) -> Router<S> {
        let router = Router::new()
            .route("/sandbox/credentials", get(routes::credentials))
            .route(
                &format!("{}/v3/pay/transactions/native", wechatpay::PREFIX),
                post(wechatpay::create),
            )
            .route(
                &format!(
                    "{}/v3/pay/transactions/out-trade-no/{{no}}",
                    wechatpay::PREFIX
                ),
                get(wechatpay::query),
            )
            .route(
                &format!(
                    "{}/v3/pay/transactions/out-trade-no/{{no}}/close",
                    wechatpay::PREFIX
                ),
                post(wechatpay::close),
            )
            .route(
                alipay::GATEWAY_PATH,
                post(alipay::gateway).get(alipay::gateway),
            )
            .route(wallet::STYLESHEET_PATH, get(wallet::stylesheet))
            .route(wallet::ICON_PATH, get(wallet::icon))
            .route("/sandbox/pay/{provider}/{no}", get(wallet::page))
            .route(
                "/sandbox/pay/{provider}/{no}/approve",
                post(wallet::approve),
            )
            .route(
                "/sandbox/pay/{provider}/{no}/decline",
                post(wallet::decline),
            );
        let router = if self.config.fault_endpoint {
            router.route(
                "/sandbox/faults",
                get(routes::get_faults).put(routes::put_faults),
            )
        } else {
            router
        };
        router.with_state(self.clone())
    }

    /// The same front doors at the real hosts' paths (`/v3/pay/transactions/...`,
    /// `/gateway.do`), for clients that only let the host be changed (the standalone binary
    /// serves them; a client signs the path it sends, so either mount verifies).
    pub fn root_router<S: Clone + Send + Sync + 'static>(self: &Arc<Self>) -> Router<S> {
        Router::new()
            .route("/v3/pay/transactions/native", post(wechatpay::create))
            .route(
                "/v3/pay/transactions/out-trade-no/{no}",
                get(wechatpay::query),
            )
            .route(
                "/v3/pay/transactions/out-trade-no/{no}/close",
                post(wechatpay::close),
            )
            .route("/gateway.do", post(alipay::gateway).get(alipay::gateway))
            .with_state(self.clone())
    }

    /// Notification delivery and demo auto-pay, until the process ends.
    pub async fn run_workers(self: Arc<Self>) {
        tokio::join!(self.run_delivery(), self.run_autopay());
    }

    /// The wallet page of a trade: its `code_url` / `qr_code`.
    pub(crate) fn wallet_url(&self, provider: trades::Provider, out_trade_no: &str) -> String {
        format!(
            "{}/sandbox/pay/{}/{out_trade_no}",
            self.config.public_url,
            provider.as_str()
        )
    }
}
