//! The providers' payment notifications, one route per protocol:
//! `POST /api/pay/notify/wechatpay` and `POST /api/pay/notify/alipay`. Each is verified by its
//! adapter against the raw body before anything in it is believed, applied once per event id,
//! and answered the way that protocol acknowledges (WeChat: 204; Alipay: the body `success`) —
//! anything else makes the provider resend. A notification that cannot be verified is not
//! trusted: at most it prompts a query to the provider about a payment still pending (one per
//! payment per interval, a few at once, nothing written unless the answer changes it). Each
//! notification is counted by its outcome (`scanpay_callbacks_total`).
use crate::error::{CallerLang, HttpError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use payments::error::{ErrorCode, PaymentError};
use payments::metrics::{self, CallbackOutcome};
use payments::provider::alipay::Alipay;
use payments::provider::wechatpay::WechatPay;
use payments::provider::{Notification, NotificationRejected};
use payments::service::PaymentService;
use payments::status::{PaymentMethod, PaymentStatus};
use payments::unverified::UnverifiedHints;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// WeChat Pay expects an answer within 5 s; leave room for the network.
const ANSWER_WITHIN: Duration = Duration::from_secs(4);

/// The adapters that verify each protocol's notifications (`None`: not enabled, no route).
struct Intake<P> {
    payments: PaymentService,
    adapter: Arc<P>,
    /// Shared by both protocols: which unverified notifications may prompt a query.
    hints: UnverifiedHints,
}

impl<P> Intake<P> {
    fn new(payments: &PaymentService, adapter: Arc<P>, hints: &UnverifiedHints) -> Self {
        Self {
            payments: payments.clone(),
            adapter,
            hints: hints.clone(),
        }
    }
}

// Not derived: that would ask `P: Clone`, and only the `Arc` is cloned.
impl<P> Clone for Intake<P> {
    fn clone(&self) -> Self {
        Self {
            payments: self.payments.clone(),
            adapter: self.adapter.clone(),
            hints: self.hints.clone(),
        }
    }
}

pub fn router<S: Clone + Send + Sync + 'static>(
    payments: &PaymentService,
    wechatpay: Option<Arc<WechatPay>>,
    alipay: Option<Arc<Alipay>>,
) -> Router<S> {
    let mut router = Router::new();
    let hints = UnverifiedHints::default();
    if let Some(adapter) = wechatpay {
        let intake = Intake::new(payments, adapter, &hints);
        router = router.route(
            "/api/pay/notify/wechatpay",
            post(wechatpay_notify).with_state(intake),
        );
    }
    if let Some(adapter) = alipay {
        let intake = Intake::new(payments, adapter, &hints);
        router = router.route(
            "/api/pay/notify/alipay",
            post(alipay_notify).with_state(intake),
        );
    }
    router
}

/// A body that could not be read whole: over the callback limit (413), stalled (408) or cut off
/// (400), in the API's error shape — the provider resends whatever is not acknowledged.
fn unreadable(rejection: BytesRejection, lang: CallerLang) -> Response {
    HttpError::body_unreadable(&rejection)
        .in_lang(lang.0)
        .into_response()
}

async fn wechatpay_notify(
    State(intake): State<Intake<WechatPay>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return unreadable(rejection, CallerLang::of(&headers)),
    };
    let verified = intake.adapter.verify_notification(&headers, &body);
    match take(
        &intake.payments,
        &intake.hints,
        PaymentMethod::WechatPay,
        verified,
    )
    .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        // WeChat reads only the status; the body is its documented shape, for people.
        Err(e) => (
            e.status(),
            Json(json!({ "code": "FAIL", "message": e.code.as_str() })),
        )
            .into_response(),
    }
}

async fn alipay_notify(
    State(intake): State<Intake<Alipay>>,
    lang: CallerLang,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return unreadable(rejection, lang),
    };
    let verified = intake.adapter.verify_notification(&body);
    match take(
        &intake.payments,
        &intake.hints,
        PaymentMethod::Alipay,
        verified,
    )
    .await
    {
        // Exactly these 7 bytes: anything else is resent.
        Ok(()) => (StatusCode::OK, "success").into_response(),
        Err(e) => (e.status(), "fail").into_response(),
    }
}

/// What both protocols do with a notification once their adapter has looked at it.
async fn take(
    payments: &PaymentService,
    hints: &UnverifiedHints,
    method: PaymentMethod,
    verified: Result<Notification, NotificationRejected>,
) -> Result<(), HttpError> {
    let (outcome, answer) = match verified {
        Ok(notification) => apply(payments, method, notification).await,
        Err(rejected) => refuse(payments, hints, method, rejected),
    };
    metrics::callback(method, outcome);
    answer
}

type Taken = (CallbackOutcome, Result<(), HttpError>);

/// A verified notification, applied once per event id.
async fn apply(
    payments: &PaymentService,
    method: PaymentMethod,
    notification: Notification,
) -> Taken {
    // Its own task: a slow database makes us answer "retry", never abandons a transaction.
    let work = tokio::spawn({
        let payments = payments.clone();
        async move { payments.apply_notification(method, &notification).await }
    });
    match tokio::time::timeout(ANSWER_WITHIN, work).await {
        Ok(Ok(Ok(applied))) if applied.duplicate => (CallbackOutcome::Duplicate, Ok(())),
        Ok(Ok(Ok(_))) => (CallbackOutcome::Accepted, Ok(())),
        Ok(Ok(Err(e))) => {
            let outcome = match e {
                PaymentError::Store(_) => CallbackOutcome::Unavailable,
                PaymentError::NotificationNotOurs(_) => CallbackOutcome::NotOurs,
                _ => CallbackOutcome::Refused,
            };
            if outcome != CallbackOutcome::Unavailable {
                tracing::warn!(%method, "notification refused: {e}");
            }
            (outcome, Err(e.into()))
        }
        Ok(Err(e)) => {
            tracing::error!(%method, "applying a notification: {e}");
            (
                CallbackOutcome::Internal,
                Err(HttpError::new(ErrorCode::Internal)),
            )
        }
        // Still running: it will finish, and a resend will find it processed.
        Err(_) => (
            CallbackOutcome::Timeout,
            Err(HttpError::new(ErrorCode::ProcessingTimeout)),
        ),
    }
}

/// A notification the adapter would not vouch for: logged, answered 4xx, and at most a query.
fn refuse(
    payments: &PaymentService,
    hints: &UnverifiedHints,
    method: PaymentMethod,
    rejected: NotificationRejected,
) -> Taken {
    // Anyone can send these: a flood must not become a flood of log lines.
    if let Some(not_logged) = hints.log_refusal() {
        tracing::warn!(%method, not_logged, "notification refused: {rejected}");
    }
    let (outcome, code) = match rejected {
        NotificationRejected::Unverified { out_trade_no, .. } => {
            if let Some(payment_id) = out_trade_no {
                query_if_pending(payments.clone(), hints, payment_id);
            }
            (CallbackOutcome::Unverified, ErrorCode::SignatureInvalid)
        }
        NotificationRejected::NotOurs { .. } => {
            (CallbackOutcome::NotOurs, ErrorCode::NotificationNotOurs)
        }
        NotificationRejected::Malformed { .. } => {
            (CallbackOutcome::Malformed, ErrorCode::NotificationMalformed)
        }
    };
    (outcome, Err(HttpError::new(code)))
}

/// Not trusted, but maybe true: ask the provider about that payment, if it is still pending
/// and `hints` admits a query now (see `payments::unverified`).
fn query_if_pending(payments: PaymentService, hints: &UnverifiedHints, payment_id: String) {
    let Some(permit) = hints.admit(&payment_id) else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let pending = payments
            .payment_status(&payment_id)
            .await
            .is_ok_and(|view| view.status == PaymentStatus::Pending);
        if !pending {
            return;
        }
        if let Err(e) = payments.query_on_unverified_hint(&payment_id).await {
            tracing::info!(payment_id, "query after an unverified notification: {e}");
        }
    });
}
