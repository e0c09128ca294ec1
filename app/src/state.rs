//! Server-side state shared by Axum handlers and server functions (through context).
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use payments::service::PaymentService;
use std::ops::Deref;
use std::sync::Arc;

/// One `Arc`, so the copy every request's context gets costs a reference count, not a copy of
/// each field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub payments: PaymentService,
    /// `SCANPAY_MODE=production`: no demo shop, merchant routes need an API key.
    pub production: bool,
    /// The base URL shoppers reach this server at (pay page links in API answers).
    pub public_url: String,
    /// Who the shopper pays, as the pages show it.
    pub merchant_name: String,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        payments: PaymentService,
        production: bool,
        public_url: String,
        merchant_name: String,
    ) -> Self {
        Self(Arc::new(Shared {
            leptos_options,
            payments,
            production,
            public_url,
            merchant_name,
        }))
    }
}

impl Shared {
    /// Whether shoppers reach this server over TLS (terminated in front of it): HSTS and
    /// `Secure` cookies then.
    pub fn is_https(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
