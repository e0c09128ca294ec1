//! The REST API, compatible with the tutorial's Vue client: `{"data": …}` on success,
//! `{"message": …}` on error. Amounts here are yuan (`1299`, `12.99`), converted once into fen.
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use payments::clock::now_ms;
use payments::model::{Order, Payment};
use payments::money::{Amount, AmountError};
use payments::service::{ErrorKind, PaymentError};
use payments::status::PaymentStatus;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::time::Duration;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/orders", post(create_order))
        .route("/api/orders/{order_id}", get(get_order))
        .route("/api/pay/create", post(create_payment))
        .route("/api/pay/{payment_id}/status", get(payment_status))
}

/// The QR code (an SVG of ~10 KB that compresses well): kept apart so it gets compressed.
pub fn qr_router() -> Router<AppState> {
    Router::new().route("/api/pay/{payment_id}/qr.svg", get(payment_qr))
}

/// Every error this API answers, mapped to a status code in one place.
#[derive(Debug)]
pub enum RestError {
    Payment(PaymentError),
    /// The body is not JSON (400) or lacks/mistypes a field (422).
    Body(StatusCode, String),
}

impl From<PaymentError> for RestError {
    fn from(e: PaymentError) -> Self {
        RestError::Payment(e)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            RestError::Payment(e) => {
                let status = match e.kind() {
                    ErrorKind::NotFound => StatusCode::NOT_FOUND,
                    ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
                    ErrorKind::Unavailable => {
                        tracing::error!("REST: {e:?}");
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                };
                (status, e.to_string())
            }
            RestError::Body(status, message) => (status, message),
        };
        (status, Json(json!({ "message": message }))).into_response()
    }
}

type RestResult = Result<Json<Value>, RestError>;

/// Parses a JSON body with messages a developer can act on (axum's own are plain text).
fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, RestError> {
    if body.is_empty() {
        return Err(RestError::Body(
            StatusCode::BAD_REQUEST,
            "请求体为空,需要 JSON".to_string(),
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        RestError::Body(
            StatusCode::BAD_REQUEST,
            format!("请求体不是有效的 JSON: {e}"),
        )
    })?;
    serde_json::from_value(value).map_err(|e| {
        RestError::Body(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("请求字段有误: {e}"),
        )
    })
}

/// Yuan as an exact JSON number: `1299`, `12.99` (never `1299.0`).
fn yuan(fen: i64) -> Box<RawValue> {
    let text = Amount::from_fen(fen)
        .map(Amount::yuan_json_text)
        .unwrap_or_else(|_| "0".to_string());
    RawValue::from_string(text).expect("a decimal is valid JSON")
}

fn order_json(order: &Order) -> Value {
    json!({
        "id": order.id,
        "totalAmount": yuan(order.amount_fen),
        "amountFen": order.amount_fen,
        "description": order.description,
        "status": order.status,
        "createdAt": order.created_at_ms,
        "paidAt": order.paid_at_ms,
        "paidByPayment": order.paid_by_payment,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateOrderBody {
    total_amount: Option<Box<RawValue>>,
    #[serde(default)]
    description: Option<String>,
}

async fn create_order(State(state): State<AppState>, body: Bytes) -> RestResult {
    let body: CreateOrderBody = parse_body(&body)?;
    let raw = body.total_amount.ok_or_else(|| {
        RestError::Body(
            StatusCode::BAD_REQUEST,
            "缺少 totalAmount(金额,单位元)".to_string(),
        )
    })?;
    // Exact decimal parse of the number as written; a string, bool or null is not an amount.
    let text = raw.get();
    let amount = if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Amount::parse_yuan(text)
    } else {
        Err(AmountError::NotANumber)
    }
    .map_err(PaymentError::from)?;
    let order = state
        .payments
        .create_order(amount, body.description.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(json!({ "data": order_json(&order) })))
}

async fn get_order(State(state): State<AppState>, Path(order_id): Path<String>) -> RestResult {
    let detail = state.payments.order_detail(&order_id).await?;
    let mut data = order_json(&detail.order);
    data["payments"] = detail
        .payments
        .iter()
        .map(|p| {
            json!({
                "paymentId": p.payment.id,
                "status": p.payment.status,
                "amount": yuan(p.payment.amount_fen),
                "createdAt": p.payment.created_at_ms,
                "expiresAt": p.payment.expires_at_ms,
                "paidAt": p.payment.paid_at_ms,
                "paidLate": p.payment.paid_late,
                "needsRefund": p.payment.needs_refund,
                "events": p.events,
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePaymentBody {
    order_id: Option<Value>,
}

async fn create_payment(State(state): State<AppState>, body: Bytes) -> RestResult {
    let body: CreatePaymentBody = parse_body(&body)?;
    let order_id = match body.order_id {
        Some(Value::String(id)) => id,
        Some(_) => {
            return Err(RestError::Body(
                StatusCode::UNPROCESSABLE_ENTITY,
                "orderId 必须是字符串".to_string(),
            ))
        }
        None => {
            return Err(RestError::Body(
                StatusCode::BAD_REQUEST,
                "缺少 orderId".to_string(),
            ))
        }
    };
    let payment = state.payments.create_payment(&order_id).await?;
    Ok(Json(json!({ "data": payment_created_json(&payment) })))
}

fn payment_created_json(p: &Payment) -> Value {
    json!({
        "paymentId": p.id,
        "orderId": p.order_id,
        "amount": yuan(p.amount_fen),
        "qrCodeUrl": format!("/api/pay/{}/qr.svg", p.id),
        "codeUrl": p.code_url,
        "expiresIn": ((p.expires_at_ms - now_ms()).max(0) + 999) / 1000,
        "expiresAt": p.expires_at_ms,
    })
}

/// `?wait=<seconds ≤ 25>` long-polls: the answer comes as soon as the status differs from
/// `?status=` (or from the status when the request arrived), or when the wait ends.
#[derive(Deserialize)]
struct StatusQuery {
    wait: Option<String>,
    status: Option<String>,
}

async fn payment_status(
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
    Query(query): Query<StatusQuery>,
) -> Result<Response, RestError> {
    let wait = match query.wait.as_deref() {
        None => Duration::ZERO,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
            .filter(|w| *w <= crate::live::MAX_WAIT)
            .ok_or_else(|| {
                RestError::Body(
                    StatusCode::BAD_REQUEST,
                    "wait 必须是 0 到 25 之间的整数秒".to_string(),
                )
            })?,
    };
    let known = match query.status.as_deref() {
        None => None,
        Some(text) => Some(PaymentStatus::parse(text).ok_or_else(|| {
            RestError::Body(
                StatusCode::BAD_REQUEST,
                "status 必须是 pending、paid、failed、expired 或 closed".to_string(),
            )
        })?),
    };
    let view = state
        .payments
        .wait_for_status(&payment_id, known, wait)
        .await?;
    Ok(Json(Data {
        data: StatusAnswer {
            payment_id: &view.payment_id,
            status: view.status,
            amount: yuan(view.amount_fen),
            order_id: &view.order_id,
            expires_at: view.expires_at_ms,
            server_now: view.server_now_ms,
            paid_at: view.paid_at_ms,
            failure_reason: view.failure_reason.as_deref(),
        },
    })
    .into_response())
}

/// `{"data": …}`, serialized straight from a struct.
#[derive(Serialize)]
struct Data<T> {
    data: T,
}

/// The status answer. Typed rather than built as a JSON tree: it is the hot path.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusAnswer<'a> {
    payment_id: &'a str,
    status: PaymentStatus,
    amount: Box<RawValue>,
    order_id: &'a str,
    expires_at: i64,
    server_now: i64,
    paid_at: Option<i64>,
    failure_reason: Option<&'a str>,
}

async fn payment_qr(
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
) -> Result<Response, RestError> {
    let payment = state.payments.payment(&payment_id).await?;
    let svg = payments::qr::svg(&payment.code_url, 200);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            // A payment's QR never changes.
            (header::CACHE_CONTROL, "public, max-age=86400, immutable"),
        ],
        svg,
    )
        .into_response())
}
