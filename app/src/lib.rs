//! scanpay's pages, shared by the server (SSR, feature `ssr`) and the browser (feature `hydrate`).
// Leptos view types nest deep (the payment page with its island and forms).
#![recursion_limit = "256"]
pub mod api;
pub mod components;
pub mod error;
pub mod format;
pub mod i18n;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;
pub mod use_hydrated;
pub mod use_poll_schedule;
pub mod use_polling;
pub mod use_server_clock;
pub mod use_server_events;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around [`App`], rendered on the server only. Pages are server-rendered
/// HTML; only their `#[island]` components hydrate, so the WASM holds nothing but those.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = i18n::current_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                // Hashed names in a release build (cargo-leptos `hash-files`), plain otherwise.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = i18n::current_lang();
    provide_context(lang);
    i18n::remember_lang_choice();
    let t = lang.texts();
    view! {
        <Title text=t.title/>
        <Router>
            <div class="app">
                <header class="topbar">
                    <a href="/" class="brand">"scanpay"</a>
                    // A full page load: the server renders the other language and remembers it.
                    <a href=format!("?lang={}", lang.other().code()) rel="external" class="lang-switch"
                        lang=lang.other().code()>
                        {t.switch_to}
                    </a>
                </header>
                <main>
                    <Routes fallback=pages::not_found::NotFound>
                        <Route path=path!("") view=pages::home::HomePage/>
                        // Async: the whole page (QR included) is in the HTML, so it works and
                        // shows the payment without JavaScript.
                        <Route path=path!("/orders/:id") view=pages::order::OrderPage ssr=SsrMode::Async/>
                        <Route path=path!("/orders/:id/pay") view=pages::pay::PayPage ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
