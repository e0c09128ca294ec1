//! scanpay's server: SSR and server functions, the REST API, the provider simulator, and the
//! background workers (notification intake, expiry sweeper, demo auto-pay).
// The payment page's view type (an island of three states) is deeper than the default limit.
#![recursion_limit = "256"]
mod config;
mod health;
mod live;
mod notify;
mod rest;
mod serve;
mod server_fns;
mod sim;
mod static_files;

use app::state::AppState;
use app::{shell, App};
use axum::routing::get;
use axum::Router;
use config::{Config, DEVELOPMENT_NOTIFY_SECRET};
use leptos::prelude::*;
use leptos_axum::{generate_route_list_with_exclusions, LeptosRoutes};
use payments::clock::now_ms;
use payments::service::PAYMENT_CHANGES_CHANNEL;
use payments::service::{PaymentService, ServiceConfig};
use payments::simulator::{Simulator, SimulatorConfig};
use payments::store::{Engine, Store};
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;

/// Responses smaller than this are not compressed: compressing a few hundred bytes costs more
/// CPU than it saves on the wire.
const MIN_COMPRESSED_BYTES: u16 = 1024;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("scanpay: {what}: {e}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    // Built by cargo-leptos the name is compiled in; `cargo run`/`cargo test` builds need it here.
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
        std::env::set_var("LEPTOS_OUTPUT_NAME", "scanpay");
    }
    let conf = get_configuration(None).unwrap_or_else(|e| fail("Leptos configuration", e));
    let mut leptos_options = conf.leptos_options;
    // Hashed file names only when this binary's build made them (see static_files).
    let hashed_pkg_files = static_files::hashed_pkg_files(&leptos_options);
    leptos_options.hash_files = hashed_pkg_files.is_some();
    let addr = leptos_options.site_addr;
    let config = Config::from_env(addr).unwrap_or_else(|e| fail("configuration", e));

    let store = Store::connect(&config.database_url)
        .await
        .unwrap_or_else(|e| fail("database", e));
    store
        .record_start(now_ms())
        .await
        .unwrap_or_else(|e| fail("database", e));
    tracing::info!(
        engine = store.engine().name(),
        ttl_secs = config.payment_ttl.as_secs(),
        autopay = ?config.autopay_secs,
        public_url = %config.public_url,
        "starting"
    );

    let notify_secret = config.notify_secret.clone().unwrap_or_else(|| {
        tracing::warn!(
            "SCANPAY_NOTIFY_SECRET is not set: using the development secret; set it in production"
        );
        DEVELOPMENT_NOTIFY_SECRET.to_string()
    });
    let provider_store = if config.provider_database_url == config.database_url {
        store.clone()
    } else {
        Store::connect(&config.provider_database_url)
            .await
            .unwrap_or_else(|e| fail("the simulated provider's database", e))
    };
    let simulator = Arc::new(Simulator::new(
        provider_store,
        SimulatorConfig {
            public_url: config.public_url.clone(),
            merchant_name: config.merchant_name.clone(),
            autopay_secs: config.autopay_secs.clone(),
            notify_url: config.notify_url.clone(),
            notify_secret: notify_secret.into_bytes(),
            retry_schedule: config.notify_retry.clone(),
            faults: config.sim_faults.clone(),
        },
    ));
    let payments = PaymentService::new(
        store,
        simulator.clone(),
        ServiceConfig {
            payment_ttl: config.payment_ttl,
            reconcile_schedule: config.reconcile_schedule.clone(),
            reconcile_every: config.reconcile_every,
        },
    );

    // Background work: expiry and reconciliation (merchant side); notification delivery and
    // demo auto-pay (provider side). Each survives restarts: its state is in the database.
    tokio::spawn({
        let payments = payments.clone();
        let tick = config.sweep_interval;
        async move { payments.run_workers(tick).await }
    });
    tokio::spawn({
        let simulator = simulator.clone();
        async move { simulator.run_delivery(Duration::from_millis(250)).await }
    });
    tokio::spawn({
        let simulator = simulator.clone();
        async move { simulator.run_autopay(Duration::from_millis(250)).await }
    });
    if payments.store().engine() == Engine::Postgres {
        tokio::spawn(listen_for_changes(
            config.database_url.clone(),
            payments.clone(),
        ));
    }

    let state = AppState::new(leptos_options.clone(), payments, simulator);
    let routes = generate_route_list_with_exclusions(App, Some(server_fns::excluded_paths()));
    // Pages, the wallet page, the QR code and the other server functions go out compressed.
    let compressed = Router::new()
        .merge(rest::qr_router())
        .merge(sim::router(config.sim_fault_endpoint))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::map_response(server_fns::error_status))
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED_BYTES))),
        );
    // The JSON API answers a few hundred bytes (below MIN_COMPRESSED_BYTES): the compression
    // layer would only cost them time (~15 % of the status read's throughput); static files are
    // compressed ahead of time and event streams never are.
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .merge(rest::router())
        .merge(notify::router())
        .merge(live::router())
        .merge(server_fns::router(&state))
        .merge(static_files::router(
            &static_files::pkg_dir(&leptos_options),
            hashed_pkg_files.unwrap_or_default(),
        ))
        .merge(compressed)
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| fail(&format!("listening on {addr}"), e));
    tracing::info!("listening on http://{addr}");
    serve::serve(listener, app, shutdown_signal()).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .unwrap_or_else(|e| fail("signal handler", e));
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}

/// PostgreSQL: other processes' changes reach this process's status cache and watchers. If the
/// listener drops, everything cached is forgotten (a change may have been missed) and it
/// reconnects.
async fn listen_for_changes(database_url: String, payments: PaymentService) {
    loop {
        match sqlx::postgres::PgListener::connect(&database_url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(PAYMENT_CHANGES_CHANNEL).await {
                    tracing::warn!("LISTEN {PAYMENT_CHANGES_CHANNEL}: {e}");
                } else {
                    payments.changed_all();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) => payments.changed(&[n.payload()]),
                            // Reconnected: notifications sent meanwhile are lost.
                            Ok(None) => payments.changed_all(),
                            Err(e) => {
                                tracing::warn!("change listener: {e}");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("connecting the change listener: {e}"),
        }
        payments.changed_all();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
