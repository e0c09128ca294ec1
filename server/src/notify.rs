//! `POST /api/pay/notify`: the provider's signed callbacks. Verified in constant time, applied
//! once per event id inside the payment's transaction, answered within 5 s. A callback that
//! cannot be verified is not trusted: it only makes us ask the provider.
use crate::error::{CallerLang, HttpError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use payments::clock::now_ms;
use payments::error::ErrorCode;
use payments::provider::Notification;
use payments::secret::Secret;
use payments::service::PaymentService;
use payments::signature;
use payments::status::{EventSource, PaymentStatus};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// WeChat Pay expects an answer within 5 s; leave room for the network.
const ANSWER_WITHIN: Duration = Duration::from_secs(4);

/// What the intake needs: the service, and the merchant's own secret to verify callbacks with.
#[derive(Clone)]
struct Intake {
    payments: PaymentService,
    secret: Arc<Secret>,
}

pub fn router<S>(payments: PaymentService, secret: Secret) -> Router<S> {
    Router::new()
        .route("/api/pay/notify", post(notify))
        .with_state(Intake {
            payments,
            secret: Arc::new(secret),
        })
}

type Answer = (StatusCode, Json<Value>);

fn acknowledged() -> Answer {
    (
        StatusCode::OK,
        Json(json!({ "code": "SUCCESS", "message": "成功" })),
    )
}

/// A refusal in the provider's shape (`{"code": "FAIL", "message"}`), with the status and the
/// wording of the one error mapping.
fn refused(lang: CallerLang, error: HttpError) -> Answer {
    (
        error.status(),
        Json(json!({ "code": "FAIL", "message": error.message(lang.0), "error": error.code })),
    )
}

async fn notify(
    lang: CallerLang,
    State(state): State<Intake>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let parsed = serde_json::from_slice::<Notification>(&body);
    if let Err(e) = signature::verify(
        state.secret.expose().as_bytes(),
        header,
        &body,
        now_ms() / 1000,
    ) {
        tracing::warn!("notification refused: {e}");
        // Not trusted, but maybe true: ask the provider about that payment instead.
        if let Ok(n) = &parsed {
            if payments::ids::is_valid_payment_id(&n.trade.payment_id) {
                let payments = state.payments.clone();
                let payment_id = n.trade.payment_id.clone();
                tokio::spawn(async move {
                    // Only a payment still pending is worth asking about: anyone can send
                    // unverified callbacks, and each must not become a provider query.
                    let pending = payments
                        .payment_status(&payment_id)
                        .await
                        .is_ok_and(|view| view.status == PaymentStatus::Pending);
                    if !pending {
                        return;
                    }
                    if let Err(e) = payments
                        .reconcile_one(&payment_id, EventSource::Reconcile)
                        .await
                    {
                        tracing::info!(payment_id, "query after an unverified callback: {e}");
                    }
                });
            }
        }
        return refused(
            lang,
            HttpError::with_detail(ErrorCode::SignatureInvalid, e.to_string()),
        );
    }
    let notification = match parsed {
        Ok(n) => n,
        Err(e) => {
            return refused(
                lang,
                HttpError::with_detail(ErrorCode::NotificationMalformed, e.to_string()),
            )
        }
    };
    // Its own task: a slow database makes us answer "retry", never abandons a transaction.
    let payments = state.payments.clone();
    let work = tokio::spawn(async move { payments.apply_notification(payments::status::PaymentMethod::WechatPay, &notification).await });
    match tokio::time::timeout(ANSWER_WITHIN, work).await {
        Ok(Ok(Ok(_))) => acknowledged(),
        Ok(Err(e)) => {
            tracing::error!("applying a notification: {e}");
            refused(lang, HttpError::new(ErrorCode::Internal))
        }
        // Storage or provider trouble is ours to fix: a 5xx, and the provider retries.
        Ok(Ok(Err(e))) => refused(lang, e.into()),
        // Still running: it will finish, and a retry will find it processed.
        Err(_) => refused(lang, HttpError::new(ErrorCode::ProcessingTimeout)),
    }
}
