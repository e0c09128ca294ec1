//! CSRF defence: a browser's unsafe request (POST, PUT, PATCH, DELETE) sent by another site is
//! refused with 403 `cross_site_request` before any handler runs. Any site can make a browser
//! send a form-encoded POST to our server functions or to the wallet's approve button without
//! asking; the browser tells us where such a request comes from.
//!
//! - `Sec-Fetch-Site` (every current browser): refused when `cross-site`.
//! - Without it, `Origin` (older browsers): refused unless it is the public URL's origin or the
//!   host the request was sent to.
//! - Neither header: not a browser (server-to-server clients, curl, the sandbox's provider
//!   protocol): let through.
//! - `Authorization: Bearer …`: a merchant's program with its key, which the auth layer still
//!   verifies. A page cannot put that header on a cross-site request without a CORS preflight,
//!   which this server never grants.
//!
//! The providers' callbacks are not behind this layer at all: main.rs merges them after it.
//!
//! A WebSocket's upgrade is a GET, which this layer lets through; its handler (live.rs) asks
//! [`is_foreign_websocket`] itself (cross-site WebSocket hijacking: a page opens a socket to any
//! site, with the shopper's cookies, and the handshake's `Origin` is what tells who asked).
use crate::error::{CallerLang, HttpError};
use crate::guard::GuardLayer;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use payments::error::ErrorCode;
use std::sync::Arc;

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// The origin (`scheme://host[:port]`) of the public URL: where shoppers' browsers load pages.
#[derive(Clone)]
pub struct PublicOrigin(Arc<str>);

impl PublicOrigin {
    pub fn of(public_url: &str) -> Self {
        let origin = match public_url.parse::<Uri>() {
            Ok(uri) => match (uri.scheme_str(), uri.authority()) {
                (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
                _ => public_url.to_string(),
            },
            Err(_) => public_url.to_string(),
        };
        Self(origin.to_ascii_lowercase().into())
    }
}

/// The layer that refuses an unsafe request from another site, in the REST error shape.
pub fn refuse_cross_site(
    public: PublicOrigin,
) -> GuardLayer<impl Fn(&mut Request) -> Option<Response> + Clone> {
    GuardLayer::new(move |request: &mut Request| {
        is_cross_site(request.method(), request.headers(), &public).then(|| {
            HttpError::new(ErrorCode::CrossSiteRequest)
                .in_lang(CallerLang::of(request.headers()).0)
                .into_response()
        })
    })
}

fn is_cross_site(method: &Method, headers: &HeaderMap, public: &PublicOrigin) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or_default());
    if method.is_safe() || text(header::AUTHORIZATION.as_str()).is_some_and(is_bearer) {
        return false;
    }
    match (text(SEC_FETCH_SITE), text(header::ORIGIN.as_str())) {
        (Some(site), _) => site.eq_ignore_ascii_case("cross-site"),
        (None, Some(origin)) => !is_own_origin(origin, headers, public),
        (None, None) => false,
    }
}

/// A WebSocket handshake that a page of another origin started: browsers always send `Origin`
/// on one, so it must be ours (the public URL's, or the host it was sent to); a sibling
/// subdomain (`same-site`) is refused too. No `Origin`: not a browser.
pub fn is_foreign_websocket(headers: &HeaderMap, public: &PublicOrigin) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or_default());
    text(SEC_FETCH_SITE).is_some_and(|site| site.eq_ignore_ascii_case("cross-site"))
        || text(header::ORIGIN.as_str()).is_some_and(|o| !is_own_origin(o, headers, public))
}

/// `origin` is the public URL's, or that of the host the request was sent to (behind a proxy,
/// or another name for this server).
fn is_own_origin(origin: &str, headers: &HeaderMap, public: &PublicOrigin) -> bool {
    let origin = origin.to_ascii_lowercase();
    let sent_to_host = |host: &str| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
    };
    origin == *public.0
        || headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(sent_to_host)
}

fn is_bearer(authorization: &str) -> bool {
    authorization
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cross_site(method: Method, headers: &[(&str, &str)]) -> bool {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        is_cross_site(&method, &map, &PublicOrigin::of("https://Pay.Example.com/"))
    }

    #[test]
    fn only_unsafe_requests_that_a_browser_says_are_from_another_site_are_refused() {
        let evil = ("origin", "https://evil.example");
        assert!(cross_site(
            Method::POST,
            &[("sec-fetch-site", "cross-site")]
        ));
        assert!(cross_site(Method::DELETE, &[evil]));
        assert!(cross_site(Method::POST, &[("origin", "null")]));
        assert!(!cross_site(
            Method::GET,
            &[("sec-fetch-site", "cross-site"), evil]
        ));
        assert!(!cross_site(Method::POST, &[]));
        // The browser's own word wins over Origin.
        assert!(!cross_site(
            Method::POST,
            &[("sec-fetch-site", "same-origin"), evil]
        ));
        assert!(!cross_site(
            Method::POST,
            &[("origin", "https://pay.example.com")]
        ));
        // Behind a proxy or on another name for this server: the host it was sent to.
        assert!(!cross_site(
            Method::PUT,
            &[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ]
        ));
        assert!(cross_site(
            Method::PUT,
            &[
                ("origin", "http://127.0.0.1:3001"),
                ("host", "127.0.0.1:3000")
            ]
        ));
        assert!(!cross_site(
            Method::POST,
            &[
                ("sec-fetch-site", "cross-site"),
                ("authorization", "Bearer sk_x")
            ]
        ));
        assert!(cross_site(
            Method::POST,
            &[
                ("sec-fetch-site", "cross-site"),
                ("authorization", "Basic eDp5")
            ]
        ));
    }

    #[test]
    fn a_websocket_is_refused_unless_its_origin_is_ours() {
        let foreign = |headers: &[(&str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in headers {
                map.insert(
                    header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
            is_foreign_websocket(&map, &PublicOrigin::of("https://pay.example.com"))
        };
        assert!(!foreign(&[]));
        assert!(!foreign(&[("origin", "https://pay.example.com")]));
        assert!(!foreign(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ]));
        assert!(foreign(&[("origin", "https://evil.example")]));
        assert!(foreign(&[("origin", "null")]));
        // Same site is not same origin: a sibling subdomain is refused too.
        assert!(foreign(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://shop.example.com")
        ]));
        assert!(foreign(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://pay.example.com")
        ]));
    }
}
