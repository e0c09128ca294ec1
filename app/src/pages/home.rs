//! Home: amount and description → create an order → go pay.
use crate::api::create_order;
use crate::i18n::use_texts;
use crate::use_hydrated::use_hydrated;
use leptos::prelude::*;
use payments::limits::MAX_DESCRIPTION_CHARS;
use payments::money::Amount;

#[component]
pub fn HomePage() -> impl IntoView {
    let t = use_texts();
    view! {
        <section class="card">
            <h1>{t.new_order}</h1>
            <NewOrderForm/>
        </section>
    }
}

/// The form is the page's only island: it needs WASM to validate and create the order. The
/// release build (`scripts/build_release.sh`, `--cfg wasm_split`) splits it into its own WASM
/// file loaded by this page only, so the payment page does not download it; other builds keep
/// one WASM file (a lazy island needs cargo-leptos's `--split`).
#[cfg_attr(wasm_split, island(lazy))]
#[cfg_attr(not(wasm_split), island)]
fn NewOrderForm() -> impl IntoView {
    let t = use_texts();
    let amount = RwSignal::new("1299".to_string());
    let description = RwSignal::new(t.default_description.to_string());
    let input_error = RwSignal::new(None::<&'static str>);
    let create =
        Action::new(|(fen, description): &(i64, String)| create_order(*fen, description.clone()));
    Effect::new(move || {
        if let Some(Ok(order)) = create.value().get() {
            // A page load: the payment page is rendered by the server, QR included.
            let _ = window()
                .location()
                .set_href(&format!("/orders/{}/pay", order.id));
        }
    });
    // Interactive only once hydrated: the button starts disabled in the server's HTML.
    let hydrated = use_hydrated();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match Amount::parse_yuan(&amount.get_untracked()) {
            Ok(a) => {
                input_error.set(None);
                create.dispatch((a.fen(), description.get_untracked()));
            }
            Err(e) => input_error.set(Some(t.amount_error(&e))),
        }
    };
    let server_error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| t.api_error(&e))
    };
    view! {
            <form class="order-form" on:submit=submit data-hydrated=move || hydrated.get().to_string()>
                <label>
                    {t.amount_label}
                    <input
                        name="amount"
                        inputmode="decimal"
                        autocomplete="off"
                        prop:value=amount
                        on:input=move |ev| amount.set(event_target_value(&ev))
                        aria-describedby="amount-error"
                    />
                </label>
                <label>
                    {t.description_label}
                    <input
                        name="description"
                        maxlength=MAX_DESCRIPTION_CHARS
                        prop:value=description
                        on:input=move |ev| description.set(event_target_value(&ev))
                    />
                </label>
                <p id="amount-error" class="form-error" role="alert">
                    {move || input_error.get().or_else(server_error)}
                </p>
                <button
                    type="submit"
                    class="primary"
                    disabled=move || !hydrated.get() || create.pending().get()
                >
                    {move || if create.pending().get() { t.creating } else { t.create_and_pay }}
                </button>
            </form>
    }
}
