use crate::i18n::use_texts;
use crate::use_hydrated::use_hydrated;
use leptos::prelude::*;

/// Copies `text` to the clipboard and says so. Shown only once the page's WASM runs: without
/// JavaScript the button could not work, so it is not in the server's HTML.
#[component]
pub fn CopyButton(text: String, label: &'static str) -> impl IntoView {
    let t = use_texts();
    let copied = RwSignal::new(false);
    let hydrated = use_hydrated();
    move || {
        let text = text.clone();
        hydrated.get().then(|| {
            let copy = move |_| {
                let clipboard = window().navigator().clipboard();
                let _ = clipboard.write_text(&text);
                copied.set(true);
            };
            view! {
                <button type="button" class="link-button" on:click=copy>
                    {move || if copied.get() { t.copied } else { label }}
                </button>
            }
        })
    }
}
