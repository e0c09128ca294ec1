//! The WASM entry: hydrates the islands of the server-rendered page (`#[island]` components in
//! `app`, each exported to JavaScript by its macro).
#[allow(unused_imports)]
use app::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
