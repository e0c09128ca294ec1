//! Home: amount and description → create an order → go pay. The form is a real form: without
//! JavaScript (or before its WASM runs) it posts to the server (server/src/page_forms.rs), which
//! answers 303 to the payment page, or renders this page again with the error and the shopper's
//! input ([`RefusedOrderForm`]).
use crate::api::create_order;
use crate::error::ErrorCode;
use crate::i18n::{use_texts, Texts};
use crate::use_hydrated::use_hydrated;
use leptos::html;
use leptos::prelude::*;
use payments::limits::MAX_DESCRIPTION_CHARS;
use payments::money::{Amount, AmountError};
use serde::{Deserialize, Serialize};

/// Why the order form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderFormError {
    /// The amount as typed is not one ([`Amount::parse_typed_yuan`]).
    Amount(AmountError),
    /// The server refused the order or failed.
    Server(ErrorCode),
}

impl OrderFormError {
    /// Whether the amount field is the one in error (its line under the field).
    fn is_amount(self) -> bool {
        matches!(
            self,
            Self::Amount(_) | Self::Server(ErrorCode::AmountInvalid)
        )
    }

    /// Whether the description field is the one in error.
    fn is_description(self) -> bool {
        matches!(
            self,
            Self::Server(ErrorCode::DescriptionTooLong | ErrorCode::DescriptionInvalid)
        )
    }

    fn text(self, t: &Texts) -> &'static str {
        match self {
            Self::Amount(e) => t.amount_error(&e),
            Self::Server(code) => t.error(code),
        }
    }
}

/// The form as the shopper posted it, refused: the page shows it again with the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedOrderForm {
    pub amount: String,
    pub description: String,
    pub error: OrderFormError,
}

#[component]
pub fn HomePage() -> impl IntoView {
    let t = use_texts();
    let refused = use_context::<RefusedOrderForm>();
    view! {
        <section class="card">
            <h1>{t.new_order}</h1>
            <NewOrderForm refused/>
        </section>
    }
}

/// The form is the page's only island: with WASM it checks the amount at once and creates the
/// order with a server function instead of a page load. The release build
/// (`scripts/build_release.sh`, `--cfg wasm_split`) splits it into its own WASM file loaded by
/// this page only, so the payment page does not download it; other builds keep one WASM file
/// (a lazy island needs cargo-leptos's `--split`).
#[cfg_attr(wasm_split, island(lazy))]
#[cfg_attr(not(wasm_split), island)]
fn NewOrderForm(refused: Option<RefusedOrderForm>) -> impl IntoView {
    let t = use_texts();
    let (amount, description, refused_error) = match refused {
        Some(f) => (f.amount, f.description, Some(f.error)),
        None => ("1299".to_string(), t.default_description.to_string(), None),
    };
    let error = RwSignal::new(refused_error);
    let amount_input = NodeRef::<html::Input>::new();
    let description_input = NodeRef::<html::Input>::new();
    let create =
        Action::new(|(fen, description): &(i64, String)| create_order(*fen, description.clone()));
    Effect::new(move || match create.value().get() {
        // A page load: the payment page is rendered by the server, QR included.
        Some(Ok(order)) => {
            let _ = window()
                .location()
                .set_href(&format!("/orders/{}/pay", order.id));
        }
        Some(Err(e)) => error.set(Some(OrderFormError::Server(e.code))),
        None => {}
    });
    let hydrated = use_hydrated();
    // With WASM: no page load, the same checks.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(amount), Some(description)) = (amount_input.get(), description_input.get())
        else {
            return;
        };
        match Amount::parse_typed_yuan(&amount.value()) {
            Ok(a) => {
                error.set(None);
                create.dispatch((a.fen(), description.value()));
            }
            Err(e) => error.set(Some(OrderFormError::Amount(e))),
        }
    };
    let amount_error = move || error.get().filter(|e| e.is_amount());
    let other_error = move || error.get().filter(|e| !e.is_amount());
    // Each error has its line reserved under its field: nothing moves when one appears. The
    // description's line also says what went wrong on the server.
    view! {
        // No action: the post goes to this page's own URL, `?lang=` included.
        <form class="order-form" method="post" on:submit=submit data-hydrated=move || hydrated.get().to_string()>
            <label>
                {t.amount_label}
                <input
                name="amount"
                inputmode="decimal"
                autocomplete="off"
                value=amount
                node_ref=amount_input
                aria-invalid=move || amount_error().map(|_| "true")
                aria-describedby="amount-error"
                />
            </label>
            <p id="amount-error" class="form-error field-error" role="alert">
                {move || amount_error().map(|e| e.text(t))}
            </p>
            <label>
                {t.description_label}
                <input
                name="description"
                maxlength=MAX_DESCRIPTION_CHARS
                value=description
                node_ref=description_input
                aria-invalid=move || other_error().filter(|e| e.is_description()).map(|_| "true")
                aria-describedby="form-error"
                />
            </label>
            <p id="form-error" class="form-error field-error" role="alert">
                {move || other_error().map(|e| e.text(t))}
            </p>
            <button type="submit" class="primary" disabled=move || create.pending().get()>
                {move || if create.pending().get() { t.creating } else { t.create_and_pay }}
            </button>
        </form>
    }
}
