//! Server-side state shared by Axum handlers and server functions (through context).
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use payments::service::PaymentService;
use payments::simulator::Simulator;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub payments: PaymentService,
    pub simulator: Arc<Simulator>,
}
