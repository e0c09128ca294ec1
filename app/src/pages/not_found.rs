use crate::i18n::use_texts;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = use_texts();
    view! {
        <section class="card">
            <h1>{t.page_not_found}</h1>
            <p><a href="/">{t.back_home}</a></p>
        </section>
    }
}
