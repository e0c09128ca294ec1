//! Home: amount and description → create an order → go pay. The form is a real form: without
//! JavaScript (or before its WASM runs) it posts to the server (server/src/page_forms.rs), which
//! answers 303 to the payment page, or renders this page again with the error and the shopper's
//! input ([`RefusedOrderForm`]).
use crate::browser_api::{self, JsonObject};
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

    /// As the page's data block carries it: the server's error code, or `amount_…` for the
    /// amount as typed (no server code starts so but `amount_invalid` and `amount_mismatch`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Amount(AmountError::NotPositive) => "amount_not_positive",
            Self::Amount(AmountError::TooPrecise) => "amount_too_precise",
            Self::Amount(AmountError::TooLarge) => "amount_too_large",
            Self::Amount(AmountError::NotANumber) => "amount_not_a_number",
            Self::Server(code) => code.as_str(),
        }
    }

    pub fn of_code(code: &str) -> Option<Self> {
        [
            AmountError::NotPositive,
            AmountError::TooPrecise,
            AmountError::TooLarge,
            AmountError::NotANumber,
        ]
        .into_iter()
        .map(Self::Amount)
        .find(|e| e.code() == code)
        .or_else(|| ErrorCode::parse(code).map(Self::Server))
    }
}

/// The form as the shopper posted it, refused: the page shows it again with the error. Provided
/// as context by the server's form post (server/src/page_forms.rs); the island reads it from
/// there on the server and from the page's data block in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedOrderForm {
    pub amount: String,
    pub description: String,
    pub error: OrderFormError,
}

/// The data block that carries a [`RefusedOrderForm`] to the browser (`island_data`).
const REFUSED_ID: &str = "refused-order-form";

impl RefusedOrderForm {
    #[cfg(feature = "ssr")]
    fn of_page() -> Option<Self> {
        use_context()
    }

    #[cfg(not(feature = "ssr"))]
    fn of_page() -> Option<Self> {
        Self::decode(&crate::island_data::read(REFUSED_ID))
    }

    /// What the browser reads back from the data block.
    pub fn decode(v: &impl JsonObject) -> Option<Self> {
        Some(Self {
            amount: v.text("amount")?,
            description: v.text("description")?,
            error: OrderFormError::of_code(&v.text("error")?)?,
        })
    }

    /// What the data block holds.
    fn data(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Data<'a> {
            amount: &'a str,
            description: &'a str,
            error: &'static str,
        }
        Data {
            amount: &self.amount,
            description: &self.description,
            error: self.error.code(),
        }
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let t = use_texts();
    let data = use_context::<RefusedOrderForm>().map(|refused| {
        crate::island_data::block(REFUSED_ID, crate::island_data::json(&refused.data()))
    });
    view! {
        <section class="card">
            <h1>{t.new_order}</h1>
            {data}
            <NewOrderForm/>
        </section>
    }
}

/// The form is the page's only island: with WASM it checks the amount at once and creates the
/// order with the server function's endpoint (`browser_api::create_order`) instead of a page
/// load. The release build
/// (`scripts/build_release.sh`, `--cfg wasm_split`) splits it into its own WASM file loaded by
/// this page only, so the payment page does not download it; other builds keep one WASM file
/// (a lazy island needs cargo-leptos's `--split`).
#[cfg_attr(wasm_split, island(lazy))]
#[cfg_attr(not(wasm_split), island)]
fn NewOrderForm() -> impl IntoView {
    let t = use_texts();
    let (amount, description, refused_error) = match RefusedOrderForm::of_page() {
        Some(f) => (f.amount, f.description, Some(f.error)),
        None => ("1299".to_string(), t.default_description.to_string(), None),
    };
    let error = RwSignal::new(refused_error);
    let amount_input = NodeRef::<html::Input>::new();
    let description_input = NodeRef::<html::Input>::new();
    let creating = RwSignal::new(false);
    let create = move |amount: Amount, description: String| {
        creating.set(true);
        leptos::task::spawn_local(async move {
            match browser_api::create_order(amount, &description).await {
                // A page load: the payment page is rendered by the server, QR included.
                Ok(id) => {
                    let _ = window()
                        .location()
                        .set_href(&["/orders/", &id, "/pay"].concat());
                }
                Err(e) => {
                    error.try_set(Some(OrderFormError::Server(e.code)));
                }
            }
            creating.try_set(false);
        });
    };
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
                create(a, description.value());
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
        <form class="order-form" method="post" on:submit=submit data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
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
            <button type="submit" class="primary" disabled=creating>
                {move || if creating.get() { t.creating } else { t.create_and_pay }}
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_error_has_its_own_code() {
        let amount = [
            AmountError::NotPositive,
            AmountError::TooPrecise,
            AmountError::TooLarge,
            AmountError::NotANumber,
        ]
        .map(OrderFormError::Amount);
        let server = ErrorCode::ALL
            .iter()
            .map(|code| OrderFormError::Server(*code));
        for error in amount.into_iter().chain(server) {
            assert_eq!(OrderFormError::of_code(error.code()), Some(error));
        }
    }

    #[test]
    fn the_data_block_reads_back() {
        let refused = RefusedOrderForm {
            amount: "1,29".into(),
            description: "机械键盘 </script>".into(),
            error: OrderFormError::Amount(AmountError::NotANumber),
        };
        let json = serde_json::to_value(refused.data()).unwrap();
        assert_eq!(RefusedOrderForm::decode(&json), Some(refused));
    }
}
