//! Status reads answered before axum's Router. Every waiting shopper's page reads its payment's
//! status every 2 s: for a read served from memory, the Router's route lookup, the extensions it
//! gives each request (original URI, matched path, URL parameters), the extractors and, for the
//! server function, server_fn's codec and reactive owner cost more than the read itself
//! (callgrind; BENCHMARKS.md). So a plain `GET` whose payment is in the status cache is answered
//! here, with the bytes its route answers. Everything else goes to the Router unchanged: a miss
//! (the route reads the database and caches it), any error, a long-poll (`?wait=`), another
//! method, an id that needs decoding, a browser form's call of the server function. The routes
//! (`rest::public_router`, `server_fns::router`) remain the reads' one definition; this is
//! their shortcut, inside every limit (it sits where the Router sits).
use crate::rest;
use app::api::{payment_id_argument, GetPaymentStatus};
use app::state::AppState;
use axum::http::{header, HeaderMap, Method, Request};
use axum::response::Response;
use futures::future::Either;
use leptos::server_fn::ServerFn;
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};
use tower::Service;

/// The Router (`inner`) with cached status reads answered in front of it.
#[derive(Clone)]
pub struct StatusReads<S> {
    state: AppState,
    inner: S,
}

impl<S> StatusReads<S> {
    pub fn new(state: AppState, inner: S) -> Self {
        Self { state, inner }
    }

    /// The answer to a cached status read; `None`: the Router's to answer.
    fn answer<B>(&self, request: &Request<B>) -> Option<Response> {
        if request.method() != Method::GET {
            return None;
        }
        let (path, query) = (request.uri().path(), request.uri().query());
        if let (Some(payment_id), None) = (rest_status_path(path), query) {
            let view = self.state.payments.cached_status(payment_id)?;
            // A stored amount that is not one: the route words the error.
            return rest::status_answer(&view).ok();
        }
        if path == GetPaymentStatus::PATH && !accepts_html(request.headers()) {
            let payment_id = payment_id_argument(query?).ok()?;
            let view = self.state.payments.cached_status(&payment_id)?;
            return Some(rest::json_answer(view.to_json()));
        }
        None
    }
}

impl<S, B> Service<Request<B>> for StatusReads<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self.answer(&request) {
            Some(response) => Either::Left(ready(Ok(response))),
            None => Either::Right(self.inner.call(request)),
        }
    }
}

/// `{id}` of `/api/pay/{id}/status`, when it is written in the ids' own letters (the route
/// percent-decodes anything else).
fn rest_status_path(path: &str) -> Option<&str> {
    let id = path.strip_prefix("/api/pay/")?.strip_suffix("/status")?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    (!id.is_empty() && id.bytes().all(plain)).then_some(id)
}

/// server_fn answers a call from an HTML form (`Accept: text/html`) with a redirect.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .is_some_and(|accept| accept.as_bytes().windows(9).any(|w| w == b"text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_only_plain_rest_status_paths() {
        assert_eq!(rest_status_path("/api/pay/pay_A-1/status"), Some("pay_A-1"));
        for other in [
            "/api/pay//status",
            "/api/pay/a/b/status",
            "/api/pay/pay%5Fa/status",
            "/api/pay/a/status/",
            "/api/pay/a/qr.svg",
            "/api/pay/notify/status2",
        ] {
            assert_eq!(rest_status_path(other), None, "{other}");
        }
    }

    #[test]
    fn sees_html_forms() {
        let mut headers = HeaderMap::new();
        assert!(!accepts_html(&headers));
        headers.insert(header::ACCEPT, "application/json".parse().unwrap());
        assert!(!accepts_html(&headers));
        headers.insert(header::ACCEPT, "text/html,*/*;q=0.8".parse().unwrap());
        assert!(accepts_html(&headers));
    }
}
