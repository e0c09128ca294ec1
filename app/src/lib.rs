//! scanpay's pages, shared by the server (SSR, feature `ssr`) and the browser (feature `hydrate`).
pub mod api;
pub mod components;
pub mod error;
pub mod format;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;
pub mod use_polling;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around [`App`], rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
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
    // Effects run only in the browser, after hydration: tests and styles key off this flag.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <Stylesheet id="leptos" href="/pkg/scanpay.css"/>
        <Title text="scanpay 扫码支付"/>
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().to_string()>
                <header class="topbar">
                    <a href="/" class="brand">"scanpay"</a>
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
