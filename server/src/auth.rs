//! Who calls the merchant routes: a merchant's API key (`Authorization: Bearer sk_…`, see
//! `payments::api_keys`) or, in development only, nobody. The key's id travels on as a request
//! extension ([`MerchantKey`]) to the handlers, which scope what they read and write by it.
use crate::error::{CallerLang, HttpError};
use app::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use payments::api_keys::{self, KeyRejected};
use payments::error::{ErrorCode, PaymentError};

/// The authenticated API key of a request (its id, `key_…`).
#[derive(Debug, Clone)]
pub struct MerchantKey(pub String);

/// The id of the request's key, if it has one (development allows none).
pub fn key_id(key: &Option<axum::Extension<MerchantKey>>) -> Option<&str> {
    key.as_ref().map(|k| k.0 .0.as_str())
}

/// Route layer of the merchant routes: a presented key must authenticate (401 not a key, 403
/// revoked); without one, production answers 401 and development lets the request through.
pub async fn authenticate(
    State(state): State<AppState>,
    lang: CallerLang,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let refused = |code| lang.answer::<()>(Err(HttpError::new(code))).unwrap_err();
    match presented {
        None if state.production => return refused(ErrorCode::ApiKeyRequired).into_response(),
        None => {}
        Some(value) => {
            let Some(token) = value.strip_prefix("Bearer ") else {
                return refused(ErrorCode::ApiKeyInvalid).into_response();
            };
            match api_keys::verify(state.payments.store(), token.trim()).await {
                Ok(Ok(id)) => {
                    request.extensions_mut().insert(MerchantKey(id));
                }
                Ok(Err(KeyRejected::Invalid)) => {
                    return refused(ErrorCode::ApiKeyInvalid).into_response()
                }
                Ok(Err(KeyRejected::Revoked)) => {
                    return refused(ErrorCode::ApiKeyRevoked).into_response()
                }
                Err(e) => {
                    return lang
                        .answer::<()>(Err(PaymentError::Store(e)))
                        .unwrap_err()
                        .into_response()
                }
            }
        }
    }
    next.run(request).await
}
