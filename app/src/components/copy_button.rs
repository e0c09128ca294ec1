use crate::i18n::use_texts;
use leptos::prelude::*;

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(text: String, label: &'static str) -> impl IntoView {
    let t = use_texts();
    let copied = RwSignal::new(false);
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
}
