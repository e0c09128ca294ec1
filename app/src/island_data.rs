//! What an island starts from, carried as a JSON data block beside it instead of as island props.
//! Props are read in the browser by serde_json (the `#[island]` macro's `data-props`), which
//! would be most of a small island's WASM; a data block is read by the browser's own
//! `JSON.parse` and decoded field by field (`browser_api::JsonObject`). On the server the island
//! gets the same value from context, so its server render and its hydration agree.
use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// `value` as the JSON of a data block. `<` appears only inside JSON strings, where `\u003c`
/// reads the same: the data cannot end its element.
pub fn json(value: &impl serde::Serialize) -> String {
    leptos::serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

/// `<script type="application/json" id=…>` holding `json` (server render; see [`json`]). A data
/// block is never run; it carries the page's nonce because every script element does.
pub fn block(id: &'static str, json: String) -> impl IntoView {
    view! { <script type="application/json" id=id nonce=leptos::nonce::use_nonce() inner_html=json></script> }
}

/// The data block `id` parsed (browser); `undefined` when the page has none.
pub fn read(id: &str) -> JsValue {
    document()
        .get_element_by_id(id)
        .and_then(|element| element.text_content())
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or_default()
}
