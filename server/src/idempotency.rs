//! `Idempotency-Key` on the merchant routes' POSTs (see `payments::idempotency` for the rules):
//! the first answer to a key is kept and replayed, with `Idempotent-Replayed: true`.
use crate::auth::MerchantKey;
use crate::error::{CallerLang, HttpError};
use app::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use payments::error::{ErrorCode, PaymentError};
use payments::idempotency::{self, Begun, IdempotencyKey};
use payments::store::Store;
use std::time::Duration;

pub const HEADER: &str = "idempotency-key";
/// The merchant API's bodies are a few hundred bytes; the limits (`SCANPAY_API_BODY_LIMIT_BYTES`)
/// refuse larger ones first.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Answers kept for replay are the API's JSON answers.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The scope of a key: the API key's id, or every keyless caller together (development).
fn scope(request: &Request) -> String {
    request
        .extensions()
        .get::<MerchantKey>()
        .map_or_else(|| "anonymous".to_string(), |k| k.0.clone())
}

pub async fn idempotent(
    State(state): State<AppState>,
    lang: CallerLang,
    request: Request,
    next: Next,
) -> Response {
    let Some(raw) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let refuse = |error: HttpError| lang.answer::<()>(Err(error)).unwrap_err().into_response();
    let Some(key) = raw.to_str().ok().and_then(IdempotencyKey::parse) else {
        return refuse(HttpError::with_detail(
            ErrorCode::IdempotencyKeyInvalid,
            "1 to 255 visible ASCII characters, e.g. a UUID",
        ));
    };
    let scope = scope(&request);
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return refuse(HttpError::body_unreadable(&e)),
    };
    let store = state.payments.store();
    let fingerprint =
        idempotency::request_fingerprint(parts.method.as_str(), parts.uri.path(), &body);
    match idempotency::begin(store, &scope, &key, &fingerprint).await {
        Err(e) => return refuse(PaymentError::Store(e).into()),
        Ok(Begun::OtherRequest) => return refuse(HttpError::new(ErrorCode::IdempotencyKeyReused)),
        Ok(Begun::InFlight) => return refuse(HttpError::new(ErrorCode::IdempotencyKeyInFlight)),
        Ok(Begun::Replay { status, body }) => return replay(status, body),
        Ok(Begun::First) => {}
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    keep(store, &scope, &key, response).await
}

fn replay(status: u16, body: String) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Keeps the first answer; a server error is not kept (the same key may try again).
async fn keep(store: &Store, scope: &str, key: &IdempotencyKey, response: Response) -> Response {
    let status = response.status();
    if status.is_server_error() {
        if let Err(e) = idempotency::abandon(store, scope, key).await {
            tracing::error!("idempotency key not freed: {e}");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes =
        match tokio::time::timeout(Duration::from_secs(30), to_bytes(body, MAX_ANSWER_BYTES)).await
        {
            Ok(Ok(bytes)) => bytes,
            _ => {
                tracing::error!("answer not kept for an idempotency key: unreadable");
                let _ = idempotency::abandon(store, scope, key).await;
                return Response::from_parts(parts, Body::empty());
            }
        };
    let text = String::from_utf8_lossy(&bytes);
    if let Err(e) = idempotency::finish(store, scope, key, status.as_u16(), &text).await {
        tracing::error!("answer not kept for an idempotency key: {e}");
        let _ = idempotency::abandon(store, scope, key).await;
    }
    Response::from_parts(parts, Body::from(bytes))
}
