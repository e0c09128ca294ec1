//! `use_hydrated`: false in the server's HTML, true once an island runs in the browser. Controls
//! that need WASM start disabled or hidden with it, and tests wait for the `data-hydrated` it feeds.
use leptos::prelude::*;

pub fn use_hydrated() -> ReadSignal<bool> {
    let hydrated = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move || hydrated.set(true));
    hydrated.read_only()
}
