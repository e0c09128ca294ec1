//! The WASM entry: hydrates the islands of the server-rendered page (`#[island]` components in
//! `app`, each exported to JavaScript by its macro).
#[allow(unused_imports)]
use app::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A build whose panics abort at once (scripts/build_release.sh) never calls a panic hook;
    // the hook's message formatting would only weigh on its WASM.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
