//! scanpay's server: SSR and server functions, the REST API, the providers' notification intake,
//! the merchant's webhook deliveries, the background workers (expiry and reconciliation, webhook
//! delivery), and in development the providers' sandbox (its own crate, mounted under
//! `/sandbox`, with its workers: notification delivery, demo auto-pay); for the operator,
//! liveness (`/healthz`), readiness and metrics (`/readyz`, `/metrics`: on a listener of their
//! own when `SCANPAY_METRICS_ADDR` is set) and one log line per request.
// The payment page's view type (an island of three states) is deeper than the default limit.
#![recursion_limit = "256"]
mod auth;
mod config;
mod csrf;
mod error;
mod guard;
mod health;
mod idempotency;
mod keys_cli;
mod limits;
mod live;
mod metrics;
mod notify;
mod operator;
mod page_forms;
mod providers;
mod request_log;
mod rest;
mod security_headers;
mod serve;
mod server_fns;
mod static_files;
mod status_reads;
mod webhooks;

use app::state::AppState;
use app::{shell, App};
use axum::routing::get;
use axum::Router;
use config::Settings;
use leptos::prelude::*;
use leptos_axum::{
    file_and_error_handler_with_context, generate_route_list_with_exclusions, LeptosRoutes,
};
use payments::clock::now_ms;
use payments::retention;
use payments::service::PaymentService;
use payments::store::{Engine, Store};
use payments::webhooks::WebhookSender;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;

/// Responses smaller than this are not compressed: compressing a few hundred bytes costs more
/// CPU than it saves on the wire.
const MIN_COMPRESSED_BYTES: u16 = 1024;

/// mimalloc rather than glibc's malloc: a request's buffers are often freed on another worker
/// thread than the one that made them, and glibc's arenas then serialize the workers on a lock
/// (futex calls in every profile of the status read under load; BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("scanpay: {what}: {e}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        // Colours only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    // Before anything records: the payment service registers its counters when it is built.
    let metrics_handle = metrics::install().unwrap_or_else(|e| fail("metrics", e));
    // Built by cargo-leptos the name is compiled in; `cargo run`/`cargo test` builds need it here.
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
        std::env::set_var("LEPTOS_OUTPUT_NAME", "scanpay");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("keys") {
        std::process::exit(keys_cli::run(&args[1..]).await);
    }
    let conf = get_configuration(None).unwrap_or_else(|e| fail("Leptos configuration", e));
    let mut leptos_options = conf.leptos_options;
    // Hashed file names only when this binary's build made them (see static_files).
    let hashed_pkg_files = static_files::hashed_pkg_files(&leptos_options);
    leptos_options.hash_files = hashed_pkg_files.is_some();
    // Bound first, so that port 0 works: the settings (public and callback URLs) use the
    // address the listener really got.
    let requested = leptos_options.site_addr;
    let listener = tokio::net::TcpListener::bind(&requested)
        .await
        .unwrap_or_else(|e| fail(&format!("listening on {requested}"), e));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| fail("the listener's address", e));
    let settings = Settings::from_env(addr).unwrap_or_else(|errors| {
        for e in &errors {
            eprintln!("scanpay: configuration: {e}");
        }
        std::process::exit(2)
    });
    let merchant = &settings.merchant;
    let operator_listener = match settings.metrics.addr {
        None => None,
        Some(requested) => Some(
            tokio::net::TcpListener::bind(requested)
                .await
                .unwrap_or_else(|e| fail(&format!("listening on {requested}"), e)),
        ),
    };

    let store = Store::connect(merchant.database_url.expose())
        .await
        .unwrap_or_else(|e| fail(&format!("database {}", merchant.database_for_logs()), e));
    store
        .record_start(now_ms())
        .await
        .unwrap_or_else(|e| fail("database", e));
    tracing::info!(
        engine = store.engine().name(),
        ttl_secs = merchant.payment_ttl.as_secs(),
        public_url = %settings.http.public_url,
        mode = ?settings.mode,
        "starting"
    );

    // The providers' sandbox (development): a separate system in real life, with its own store
    // and workers.
    let sandbox = match settings.sandbox.clone() {
        Some(config) => Some(
            sandbox::Sandbox::open(config)
                .await
                .unwrap_or_else(|e| fail("the providers' sandbox", e)),
        ),
        None => None,
    };
    let credentials = sandbox.as_ref().map(|s| s.credentials());
    let adapters = providers::Adapters::build(&settings, credentials.as_ref())
        .unwrap_or_else(|e| fail("payment providers", e));
    let payments =
        PaymentService::new(store, adapters.providers.clone(), settings.service_config());

    // Background work: expiry and reconciliation, forgetting old idempotency keys and
    // notification ids, webhook delivery (merchant side); notification delivery and demo
    // auto-pay (the sandbox). Each survives restarts: its state is in the database. Each runs
    // forever: one that stops is a bug, and the server stops with it (see `supervise`).
    let mut workers = Workers::default();
    workers.spawn("expiry and reconciliation", {
        let payments = payments.clone();
        let tick = merchant.sweep_interval;
        async move { payments.run_workers(tick).await }
    });
    workers.spawn(
        "forgetting idempotency keys (24 h) and notification ids (48 h)",
        {
            let store = payments.store().clone();
            async move { retention::forget_expired_forever(store).await }
        },
    );
    if let Some(webhooks) = &settings.webhooks {
        workers.spawn("webhook delivery", {
            let sender = WebhookSender::new(payments.store().clone(), webhooks.clone());
            let tick = merchant.sweep_interval;
            async move { sender.run(tick).await }
        });
    }
    if let Some(sandbox) = &sandbox {
        workers.spawn("sandbox: notification delivery and demo auto-pay", {
            let sandbox = sandbox.clone();
            async move { sandbox.run_workers().await }
        });
    }
    if payments.store().engine() == Engine::Postgres {
        workers.spawn("PostgreSQL change listener", {
            let payments = payments.clone();
            let url = merchant.database_url.clone();
            async move { payments.listen_for_changes(url.expose()).await }
        });
    }
    workers.spawn("metrics upkeep", metrics::upkeep(metrics_handle.clone()));
    let operator = operator::Operator {
        metrics: metrics_handle,
        readiness: Arc::new(health::Readiness::new(payments.clone(), workers.names())),
    };

    let state = AppState::new(
        leptos_options.clone(),
        payments.clone(),
        settings.mode.is_production(),
        settings.http.public_url.clone(),
        settings.merchant.name.clone(),
    );
    let routes = generate_route_list_with_exclusions(App, Some(server_fns::excluded_paths()));
    // Every page render (the 404 page too) and server function call runs in this context.
    let leptos_context = {
        let state = state.clone();
        let page_policy = security_headers::PagePolicy::from_env();
        move || {
            provide_context(state.clone());
            page_policy.send_for_this_page();
        }
    };
    // Pages, the wallet page, the QR code and the other server functions go out compressed.
    let pages = page_forms::PageRenderer {
        context: Arc::new(leptos_context.clone()),
        options: leptos_options.clone(),
    };
    let compressed = Router::new()
        .merge(rest::qr_router())
        .merge(page_forms::router(pages))
        .merge(
            sandbox
                .as_ref()
                .map(|sandbox| sandbox.router())
                .unwrap_or_default(),
        )
        .leptos_routes_with_context(&state, routes, leptos_context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            leptos_context,
            shell,
        ))
        .layer(axum::middleware::map_response(server_fns::error_status))
        .layer(axum::middleware::from_fn(server_fns::read_body_first))
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED_BYTES))),
        );
    // The JSON API answers a few hundred bytes (below MIN_COMPRESSED_BYTES): the compression
    // layer would only cost them time (see BENCHMARKS.md); static files are compressed ahead of
    // time and event streams never are.
    let mut app = Router::new()
        .route("/healthz", get(health::healthz))
        // What browsers ask for on pages that link no icon (the pages link /favicon.svg).
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/favicon.svg") }),
        )
        .merge(rest::public_router())
        .merge(
            // The merchant's routes: API key (required in production), then Idempotency-Key.
            rest::merchant_router()
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    idempotency::idempotent,
                ))
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    auth::authenticate,
                )),
        )
        // merchant-only: wrapped by the API key layer
        .merge(
            webhooks::merchant_router().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::authenticate,
            )),
        )
        .merge(live::router())
        .merge(server_fns::router(&state))
        .merge(static_files::router(
            &static_files::pkg_dir(&leptos_options),
            hashed_pkg_files.unwrap_or_default(),
        ))
        .merge(compressed)
        .layer(csrf::refuse_cross_site(csrf::PublicOrigin::of(
            &state.public_url,
        )))
        // After the CSRF layer, so outside it: the providers' servers post these, signed.
        .merge(notify::router(
            &payments,
            adapters.wechatpay,
            adapters.alipay,
        ))
        .with_state(state.clone());
    if settings.metrics.on_main_router() {
        app = app.merge(operator::router(operator.clone()));
    }
    let https = state.is_https();
    let app = status_reads::StatusReads::new(state.clone(), app);
    let limits = limits::Limits::new(app, &settings.limits);
    let app = move |peer: SocketAddr| {
        ServiceBuilder::new()
            .layer(request_log::RequestLogLayer)
            .layer(security_headers::layer(https))
            .service(limits.for_peer(peer.ip()))
    };

    if let Some(listener) = operator_listener {
        let operator = operator::router(operator);
        let router = move |_: SocketAddr| {
            ServiceBuilder::new()
                .layer(request_log::RequestLogLayer)
                .layer(security_headers::layer(https))
                .service(operator.clone())
        };
        if let Ok(addr) = listener.local_addr() {
            tracing::info!("operator endpoints (/metrics, /readyz) on http://{addr}");
        }
        // Not raced against the main server: on shutdown, that one's open requests get their
        // grace period whatever this one does.
        tokio::spawn(serve::serve(
            listener,
            router,
            settings.limits.connection_timeouts(),
            shutdown_signal(),
        ));
    }
    tracing::info!("listening on http://{addr}");
    tokio::select! {
        _ = serve::serve(listener, app, settings.limits.connection_timeouts(), shutdown_signal()) => {}
        stopped = workers.first_to_stop() => {
            tracing::error!("{stopped}: the server stops with it");
            std::process::exit(1);
        }
    }
}

/// The background workers, by name, so that one that stops (returns or panics) is reported
/// with its name.
#[derive(Default)]
struct Workers {
    tasks: tokio::task::JoinSet<()>,
    names: HashMap<tokio::task::Id, &'static str>,
}

impl Workers {
    fn spawn(&mut self, name: &'static str, work: impl Future<Output = ()> + Send + 'static) {
        let id = self.tasks.spawn(work).id();
        self.names.insert(id, name);
    }

    /// Waits until a worker stops; says which and how. Never returns without workers.
    async fn first_to_stop(&mut self) -> String {
        match self.tasks.join_next_with_id().await {
            Some(Ok((id, ()))) => format!("worker {:?} stopped", self.name(id)),
            Some(Err(e)) => format!("worker {:?} failed: {e}", self.name(e.id())),
            None => std::future::pending().await,
        }
    }

    /// The workers' names, sorted.
    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.names.values().copied().collect();
        names.sort_unstable();
        names
    }

    fn name(&self, id: tokio::task::Id) -> &'static str {
        self.names.get(&id).copied().unwrap_or("unknown")
    }
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
