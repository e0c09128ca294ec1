//! `POST /api/pay/notify`: the provider's signed callbacks. Verified in constant time, applied
//! once per event id inside the payment's transaction, answered within 5 s. A callback that
//! cannot be verified is not trusted: it only makes us ask the provider.
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use payments::clock::now_ms;
use payments::provider::Notification;
use payments::service::{ErrorKind, PaymentError};
use payments::signature;
use payments::status::{EventSource, PaymentStatus};
use serde_json::{json, Value};
use std::time::Duration;

/// WeChat Pay expects an answer within 5 s; leave room for the network.
const ANSWER_WITHIN: Duration = Duration::from_secs(4);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/pay/notify", post(notify))
}

fn answer(status: StatusCode, message: &str) -> (StatusCode, Json<Value>) {
    let code = if status.is_success() {
        "SUCCESS"
    } else {
        "FAIL"
    };
    (status, Json(json!({ "code": code, "message": message })))
}

async fn notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let secret = &state.simulator.config().notify_secret;
    let parsed = serde_json::from_slice::<Notification>(&body);
    if let Err(e) = signature::verify(secret, header, &body, now_ms() / 1000) {
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
        return answer(StatusCode::UNAUTHORIZED, &format!("签名验证失败: {e}"));
    }
    let notification = match parsed {
        Ok(n) => n,
        Err(e) => return answer(StatusCode::BAD_REQUEST, &format!("通知格式错误: {e}")),
    };
    // Its own task: a slow database makes us answer "retry", never abandons a transaction.
    let payments = state.payments.clone();
    let work = tokio::spawn(async move { payments.apply_notification(&notification).await });
    match tokio::time::timeout(ANSWER_WITHIN, work).await {
        Ok(Ok(Ok(_))) => answer(StatusCode::OK, "成功"),
        Ok(Err(e)) => {
            tracing::error!("applying a notification: {e}");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "处理失败,请重试")
        }
        Ok(Ok(Err(e))) => {
            let status = match (&e, e.kind()) {
                (PaymentError::AmountMismatch, _) => StatusCode::BAD_REQUEST,
                (_, ErrorKind::NotFound) => StatusCode::NOT_FOUND,
                (_, ErrorKind::BadRequest) => StatusCode::BAD_REQUEST,
                // Ours to fix: the provider will retry.
                (_, ErrorKind::Unavailable) => StatusCode::SERVICE_UNAVAILABLE,
            };
            answer(status, &e.to_string())
        }
        // Still running: it will finish, and a retry will find it processed.
        Err(_) => answer(StatusCode::SERVICE_UNAVAILABLE, "处理超时,请重试"),
    }
}
