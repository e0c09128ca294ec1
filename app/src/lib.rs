//! scanpay's pages, shared by the server (SSR, feature `ssr`) and the browser (feature `hydrate`).
// Leptos view types nest deep (the payment page with its island and forms).
#![recursion_limit = "256"]
pub mod api;
pub mod browser_api;
pub mod components;
pub mod error;
pub mod format;
pub mod i18n;
pub mod island_data;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;
pub mod use_hydrated;
pub mod use_poll_schedule;
pub mod use_polling;
pub mod use_server_clock;
pub mod use_server_events;
pub mod use_web_socket;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around [`App`], rendered on the server only. Pages are server-rendered
/// HTML; only their `#[island]` components hydrate, so the WASM holds nothing but those.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = i18n::current_lang();
    let hydration = hydration_scripts(options.clone());
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Before the stylesheet: a script after it would wait for the CSS to download
                // before it could start the WASM's.
                {hydration}
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                // Hashed names in a release build (cargo-leptos `hash-files`), plain otherwise.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Leptos's `<HydrationScripts>`, whose preload links (the page's JS and WASM) are added by a
/// script instead: a browser with JavaScript off fetched both (over 100 KB it cannot run); one
/// with it starts both fetches at the same point of the page as before. Called in the shell's
/// own scope: the component provides context the islands need (the split WASM's manifest).
fn hydration_scripts(options: LeptosOptions) -> impl IntoView {
    let html = view! { <HydrationScripts options islands=true/> }.to_html();
    let (links, module) = html.split_at(html.find("<script").unwrap_or(html.len()));
    // The module script's own text, between its start tag and its end tag.
    let module = module
        .find('>')
        .and_then(|start| Some(&module[start + 1..module.rfind("</script>")?]))
        .unwrap_or_default()
        .to_string();
    let add_links = format!(
        "document.head.insertAdjacentHTML(\"beforeend\",{})",
        js_string(links)
    );
    let nonce = leptos::nonce::use_nonce();
    view! {
        <script nonce=nonce.clone() inner_html=add_links></script>
        <script type="module" nonce=nonce inner_html=module></script>
    }
}

/// `text` as a JavaScript string literal that is safe inside a `<script>` element.
fn js_string(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for c in text.chars() {
        match c {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            '<' => literal.push_str("\\u003c"),
            '\n' => literal.push_str("\\n"),
            c => literal.push(c),
        }
    }
    literal.push('"');
    literal
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

#[cfg(test)]
mod tests {
    #[test]
    fn js_string_cannot_end_the_script_or_the_string() {
        assert_eq!(
            super::js_string("<link href=\"a\\b\">\n</script>"),
            r#""\u003clink href=\"a\\b\">\n\u003c/script>""#
        );
    }

    /// `hydration_scripts` cuts Leptos's `<HydrationScripts>` markup at its first `<script`: if
    /// a Leptos upgrade changes that markup, this says so before any page stops hydrating.
    #[cfg(feature = "ssr")]
    #[test]
    fn hydration_scripts_keep_the_links_in_a_script_and_the_module_whole() {
        use leptos::prelude::*;
        let owner = Owner::new();
        let html = owner.with(|| {
            super::hydration_scripts(LeptosOptions::builder().output_name("scanpay").build())
                .to_html()
        });
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert_eq!(scripts.len(), 2, "{html}");
        assert!(!html.starts_with("<link"), "{html}");
        assert!(scripts[0].contains("insertAdjacentHTML"), "{html}");
        assert!(scripts[0].contains("modulepreload"), "{html}");
        assert!(scripts[0].contains("scanpay_bg.wasm"), "{html}");
        assert!(scripts[1].starts_with(" type=\"module\""), "{html}");
        assert!(scripts[1].contains("hydrateIslands"), "{html}");
        assert!(!scripts[1].contains("<link"), "{html}");
    }
}
