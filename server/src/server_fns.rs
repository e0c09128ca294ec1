//! The status read's server function on a lean dispatch path.
//!
//! leptos_axum runs every server function inside a fresh reactive owner with the request's parts,
//! `ResponseOptions` and the app's contexts provided, after looking its service up in a locked
//! registry — per call. For `get_payment_status`, which every waiting shopper calls every 2 s,
//! that setup cost more than the status lookup itself (see BENCHMARKS.md). It needs none of it:
//! only `AppState`. So its route is taken out of leptos_axum's list and the same server function
//! (same codec, same body, same errors) runs here inside one long-lived owner that provides
//! `AppState`.
use app::api::GetPaymentStatus;
use app::state::AppState;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos::reactive::computed::ScopedFuture;
use leptos::server_fn::ServerFn;

/// Server functions that leptos_axum must not route: this module does.
pub fn excluded_paths() -> Vec<String> {
    vec![GetPaymentStatus::PATH.to_string()]
}

pub fn router(state: &AppState) -> Router<AppState> {
    // Nothing reactive runs in it (no signals, no children), so one owner serves every call.
    let owner = Owner::new();
    owner.with(|| provide_context(state.clone()));
    Router::new().route(
        GetPaymentStatus::PATH,
        get(move |req: Request<Body>| ScopedFuture {
            owner: owner.clone(),
            observer: None,
            fut: GetPaymentStatus::run_on_server(req),
        }),
    )
}
