//! The security headers of every answer, and the Content-Security-Policy of the pages.
//!
//! Every answer: `nosniff` (the JSON and the SVG are never read as script or HTML), no
//! `Referer` (order and payment ids are in our URLs, and the shop's return URL must not learn
//! them), no framing (`X-Frame-Options` for old browsers, `frame-ancestors` for the others: the
//! wallet's approve button cannot be clickjacked), `Cache-Control: private, no-store` unless
//! the answer says otherwise (everything but `/pkg`'s files is about an order or a payment, and
//! shared caches must keep none of it), and HSTS when the public URL is https (TLS terminates
//! in front of this server; the header travels through it).
//!
//! Pages rendered by Leptos carry a strict policy instead of the bare `frame-ancestors`: scripts
//! only with this render's nonce (leptos_axum makes one per request; `HydrationScripts` and the
//! resolved-resource scripts put it on every `<script>`) or from this origin.
use axum::http::{header, HeaderValue};
use axum::response::Response;
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower::util::MapResponseLayer;

/// Two years, subdomains of the public host included (the common preload-list requirement).
const HSTS: &str = "max-age=63072000; includeSubDomains";
const NO_FRAMING: &str = "frame-ancestors 'none'";
/// Anything about an order or a payment: kept by no cache, the browser's included.
pub const NOT_STORED: &str = "private, no-store";

/// The headers every answer carries, set by one response mapping (room reserved once) rather
/// than six nested layers (BENCHMARKS.md, "With the limits and security layers on").
pub fn layer(https: bool) -> MapResponseLayer<impl Fn(Response) -> Response + Clone> {
    MapResponseLayer::new(move |mut response: Response| {
        let headers = response.headers_mut();
        headers.reserve(6);
        let fixed = [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ];
        for (name, value) in fixed {
            headers.insert(name, HeaderValue::from_static(value));
        }
        // Pages set their full policy (which forbids framing too); everything else gets this.
        let defaults = [
            (header::CONTENT_SECURITY_POLICY, NO_FRAMING),
            (header::CACHE_CONTROL, NOT_STORED),
        ];
        for (name, value) in defaults {
            headers
                .entry(name)
                .or_insert_with(|| HeaderValue::from_static(value));
        }
        if https {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            );
        }
        response
    })
}

/// The Content-Security-Policy of the pages, but for the nonce.
#[derive(Clone)]
pub struct PagePolicy {
    connect_src: &'static str,
}

impl PagePolicy {
    pub fn from_env() -> Self {
        // `cargo leptos watch` injects a script (with the nonce) that reloads the page over a
        // WebSocket on the reload port: another origin. Never set in a release deployment.
        let watching = std::env::var_os("LEPTOS_WATCH").is_some();
        Self {
            connect_src: if watching {
                "'self' ws: wss:"
            } else {
                "'self'"
            },
        }
    }

    /// The policy with `nonce`.
    ///
    /// - `script-src`: the nonce, and this origin: Leptos's `<link rel="modulepreload">` of the
    ///   page's JS carries no nonce, so `'strict-dynamic'` (which ignores `'self'`) would block
    ///   it. This origin's only scripts are `/pkg`'s; its JSON and SVG answers are `nosniff`, so
    ///   a browser never runs them. `'wasm-unsafe-eval'` lets the page compile its WASM, and
    ///   allows no JavaScript `eval`.
    /// - `style-src 'self'`: the stylesheet in `/pkg`; the pages have no inline styles or
    ///   `style` attributes.
    /// - `img-src 'self'`: the QR (`/api/pay/{id}/qr.svg`) and the icon.
    /// - `connect-src`: server functions, the event stream, the long poll, the WASM fetch, and
    ///   the WebSocket (`?transport=ws`): CSP Level 3's `'self'` matches `ws:`/`wss:` to this
    ///   host and port (Chromium, Firefox, Safari ≥ 15.4; end2end/tests/websocket.spec.ts); an
    ///   older browser refuses the socket and the page polls.
    fn with_nonce(&self, nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self'; connect-src {}; object-src 'none'; \
             base-uri 'none'; form-action 'self'; {NO_FRAMING}",
            self.connect_src
        )
    }

    /// Sets the policy, with the nonce of the page being rendered, on its answer. Called in the
    /// Leptos context of every page render (pages and the 404 page); a server function's context
    /// has no nonce, and its answer keeps the bare `frame-ancestors`.
    pub fn send_for_this_page(&self) {
        let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
            return;
        };
        match HeaderValue::from_str(&self.with_nonce(&nonce)) {
            Ok(value) => response.insert_header(header::CONTENT_SECURITY_POLICY, value),
            Err(e) => tracing::error!("the page's Content-Security-Policy is not a header: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_scripts_by_nonce_and_never_inline() {
        let policy = PagePolicy {
            connect_src: "'self'",
        }
        .with_nonce("abc_-1");
        assert!(policy.contains("script-src 'self' 'nonce-abc_-1' 'wasm-unsafe-eval';"));
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.ends_with("frame-ancestors 'none'"), "{policy}");
        assert!(HeaderValue::from_str(&policy).is_ok());
    }
}
