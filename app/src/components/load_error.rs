//! A page that could not load what it shows (the payment page, the order page): why, in the
//! shopper's words, and the HTTP status of the error (404 unknown order, 400 malformed id,
//! 503 …) on the server's answer.
use crate::error::ApiError;
use crate::i18n::use_texts;
use leptos::prelude::*;

/// Plain HTML, no WASM. "Retry" only when trying again can help (the server or the network
/// failed): it is a link to the page itself, so it works without JavaScript. `refused` titles
/// the caller's own mistakes (4xx other than an unknown order).
#[component]
pub fn LoadError(error: ApiError, refused: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    let t = use_texts();
    let retryable = error.code.is_retryable();
    let (title, hint) = match error.code.http_status() {
        404 => (t.api_error(&error), t.order_not_found_hint),
        _ if retryable => (t.unreachable, t.unreachable_hint),
        _ => (refused, ""),
    };
    // The code's own words, unless they only repeat the title.
    let detail = Some(t.api_error(&error)).filter(|d| *d != title);
    view! {
        <div class="state state-error" role="alert" data-code=error.code.as_str()>
            <p class="state-title">{title}</p>
            <p>{detail}</p>
            <p class="hint">{hint}</p>
            <p class="actions">
                // An empty href is this very page, its query (`?method=`, `?lang=`) included.
                {retryable.then(|| view! { <a href="" class="button primary">{t.retry}</a> })}
                <a href="/">{t.back_home}</a>
            </p>
        </div>
    }
}
