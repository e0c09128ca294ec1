//! Server functions over HTTP: the status read's lean dispatch path, and the status codes of
//! every server function's error answers.
//!
//! leptos_axum runs every server function inside a fresh reactive owner with the request's parts,
//! `ResponseOptions` and the app's contexts provided, after looking its service up in a locked
//! registry — per call. For `get_payment_status`, which every waiting shopper calls every 2 s,
//! that setup cost more than the status lookup itself (see BENCHMARKS.md). It needs none of it:
//! only `AppState`. So its route is taken out of leptos_axum's list and the same server function
//! (same codec, same body, same errors) runs here inside one long-lived owner that provides
//! `AppState`.
use crate::error::{CallerLang, HttpError};
use app::api::GetPaymentStatus;
use app::error::ApiError;
use app::state::AppState;
use axum::body::Body;
use axum::http::{HeaderName, Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos::reactive::computed::ScopedFuture;
use leptos::server_fn::ServerFn;

/// server_fn marks its error answers with this header (and sends them all as 500). A
/// `HeaderName`, not a `&str`: looked up on every answer, a string is parsed each time.
const SERVER_FN_ERROR_HEADER: HeaderName = HeaderName::from_static("serverfnerror");
/// An error answer is a short JSON message; anything longer is passed on untouched.
const MAX_ERROR_BYTES: usize = 16 * 1024;

/// Server functions that leptos_axum must not route: this module does.
pub fn excluded_paths() -> Vec<String> {
    vec![GetPaymentStatus::PATH.to_string()]
}

pub fn router(state: &AppState) -> Router<AppState> {
    // Nothing reactive runs in it (no signals, no children), so one owner serves every call.
    let owner = Owner::new();
    owner.with(|| provide_context(state.clone()));
    Router::new().route(
        GetPaymentStatus::PATH,
        get(move |req: Request<Body>| {
            let answer = ScopedFuture {
                owner: owner.clone(),
                observer: None,
                // Boxed at once: the future is large, and each move on the way into axum's own
                // box copied all of it (~1,000 instructions per status read).
                fut: Box::pin(GetPaymentStatus::run_on_server(req)),
            };
            // Called here rather than as a layer: a middleware layer costs the hot path
            // measurably (see BENCHMARKS.md).
            async move { error_status(answer.await).await }
        }),
    )
}

/// Request middleware for server-function routes: reads a posted body (already bounded by the
/// limits' body-size and body-read-time layers) before server_fn does, so a body over the limit
/// or too slow is answered like the REST API's (413 / 408, JSON) instead of server_fn's
/// "bad arguments". Pages and other methods pass untouched.
pub async fn read_body_first(request: Request<Body>, next: Next) -> Response {
    if request.method() != Method::POST || !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let lang = CallerLang::of(request.headers());
    let (parts, body) = request.into_parts();
    // The body layers bound it: no second limit here.
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(e) => HttpError::body_unreadable(&e)
            .in_lang(lang.0)
            .into_response(),
    }
}

/// Response middleware for server-function routes: an error answer gets the status of its kind
/// (404 unknown, 400 bad input, 503 unavailable) instead of server_fn's 500 for all, so scripts
/// and logs see what went wrong. Other answers pass through after one header lookup.
pub async fn error_status(response: Response) -> Response {
    if !response.headers().contains_key(&SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_ERROR_BYTES).await {
        Ok(bytes) => {
            if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
                parts.status = error.status();
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            tracing::warn!("server function error answer unreadable: {e}");
            Response::from_parts(parts, Body::empty())
        }
    }
}
