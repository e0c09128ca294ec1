use crate::i18n::use_texts;
use crate::use_hydrated::use_hydrated;
use leptos::prelude::*;

/// Copies `text` to the clipboard and says so. Hidden until the page's WASM runs: without
/// JavaScript the button could not work. (Always in the markup, shown by an attribute: a button
/// built only once hydrated would ship a second, building path for it in the WASM.)
#[component]
pub fn CopyButton(text: String, label: &'static str) -> impl IntoView {
    let t = use_texts();
    let copied = RwSignal::new(false);
    let hydrated = use_hydrated();
    let copy = move |_| {
        let clipboard = window().navigator().clipboard();
        let _ = clipboard.write_text(&text);
        copied.set(true);
    };
    view! {
        <button type="button" class="link-button" hidden=move || !hydrated.get() on:click=copy>
            {move || if copied.get() { t.copied } else { label }}
        </button>
    }
}
