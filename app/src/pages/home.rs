//! Home: amount and description → create an order → go pay.
use crate::api::create_order;
use crate::i18n::use_texts;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use payments::money::Amount;

#[component]
pub fn HomePage() -> impl IntoView {
    let t = use_texts();
    let amount = RwSignal::new("1299".to_string());
    let description = RwSignal::new(t.default_description.to_string());
    let input_error = RwSignal::new(None::<String>);
    let create =
        Action::new(|(fen, description): &(i64, String)| create_order(*fen, description.clone()));
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(order)) = create.value().get() {
            navigate(&format!("/orders/{}/pay", order.id), Default::default());
        }
    });
    // Interactive only once hydrated: the button starts disabled in the server's HTML.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match Amount::parse_yuan(&amount.get_untracked()) {
            Ok(a) => {
                input_error.set(None);
                create.dispatch((a.fen(), description.get_untracked()));
            }
            Err(e) => input_error.set(Some(t.amount_error(&e).to_string())),
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
        <section class="card">
            <h1>{t.new_order}</h1>
            <form class="order-form" on:submit=submit>
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
                        maxlength="200"
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
        </section>
    }
}
