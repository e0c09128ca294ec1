//! scanpay's payment domain. The default build (money, statuses, the state machine, shared
//! records) compiles to WASM too; feature `server` adds storage, the provider and the workers.
pub mod error;
pub mod ids;
#[cfg(feature = "server")]
pub mod json;
pub mod limits;
pub mod machine;
pub mod model;
pub mod money;
pub mod secret;
pub mod status;

#[cfg(feature = "server")]
pub mod api_keys;
#[cfg(feature = "server")]
pub mod changes;
#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
mod group_commit;
#[cfg(feature = "server")]
pub mod idempotency;
#[cfg(feature = "server")]
mod ledger;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod orders;
#[cfg(feature = "server")]
pub mod provider;
#[cfg(feature = "server")]
pub mod qr;
#[cfg(feature = "server")]
pub mod retention;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
mod status_cache;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
mod trades;
#[cfg(feature = "server")]
pub mod unverified;
#[cfg(feature = "server")]
pub mod watch;
#[cfg(feature = "server")]
pub mod webhooks;
#[cfg(feature = "server")]
mod workers;
