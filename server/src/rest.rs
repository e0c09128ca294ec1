//! The REST API, compatible with the tutorial's Vue client: `{"data": …}` on success,
//! `{"message": …, "code": …}` on error (see `error`). Amounts here are yuan (`1299`, `12.99`), converted once into fen.
use crate::auth::{key_id, MerchantKey};
use crate::error::{CallerLang, HttpError, LocalizedError};
use crate::live::{LongPoll, LongPollQuery};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use payments::clock::now_ms;
use payments::error::{ErrorCode, PaymentError};
use payments::json::JsonObject;
use payments::model::{Order, Payment, PaymentStatusView};
use payments::money::{Amount, AmountError};
use payments::orders::{NewOrder, OrderReference, ReturnUrl, MAX_REFERENCE_CHARS};
use payments::status::{OrderStatus, PaymentFailure, PaymentMethod, PaymentStatus};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

mod body;
use body::{parse_body, text_field, Body};

/// What the shopper's page reads: by payment id (128 random bits), no key.
pub fn public_router() -> Router<AppState> {
    Router::new().route("/api/pay/{payment_id}/status", get(payment_status))
}

/// The merchant's routes: main.rs puts them behind the API key (`auth::authenticate`) and
/// `Idempotency-Key` (`idempotency::idempotent`).
pub fn merchant_router() -> Router<AppState> {
    Router::new()
        .route("/api/orders", post(create_order))
        .route("/api/orders/{order_id}", get(get_order))
        .route("/api/pay/create", post(create_payment))
}

/// The QR code (an SVG of ~10 KB that compresses well): kept apart so it gets compressed.
pub fn qr_router() -> Router<AppState> {
    Router::new().route("/api/pay/{payment_id}/qr.svg", get(payment_qr))
}

type RestResult<T = Json<Value>> = Result<T, LocalizedError>;

/// Yuan as an exact JSON number: `1299`, `12.99` (never `1299.0`). A stored amount that is
/// not one is corrupt data: an error, never a made-up number.
fn yuan(fen: i64) -> Result<Box<RawValue>, HttpError> {
    let text = checked_amount(fen)?.yuan_json_text();
    Ok(RawValue::from_string(text).expect("a decimal is valid JSON"))
}

fn checked_amount(fen: i64) -> Result<Amount, HttpError> {
    Amount::from_fen(fen).map_err(|e| {
        tracing::error!(fen, "stored amount is invalid: {e}");
        HttpError::new(ErrorCode::Internal)
    })
}

fn order_json(order: &Order, public_url: &str) -> Result<Value, HttpError> {
    Ok(json!({
        "id": order.id,
        "reference": order.reference,
        "returnUrl": order.return_url,
        "payUrl": format!("{public_url}/orders/{}/pay", order.id),
        "totalAmount": yuan(order.amount_fen)?,
        "amountFen": order.amount_fen,
        "description": order.description,
        "status": order.status,
        "createdAt": order.created_at_ms,
        "paidAt": order.paid_at_ms,
        "paidByPayment": order.paid_by_payment,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateOrderBody {
    total_amount: Option<Box<RawValue>>,
    #[serde(default)]
    description: Option<String>,
    /// The shop's own order id: the same one (under the same key) is the same order.
    #[serde(default)]
    reference: Option<String>,
    /// Where the shopper goes after paying.
    #[serde(default)]
    return_url: Option<String>,
}

type Key = Option<Extension<MerchantKey>>;

async fn create_order(
    lang: CallerLang,
    State(state): State<AppState>,
    key: Key,
    body: Body,
) -> RestResult {
    lang.answer(create_order_in(&state, key_id(&key), &body).await)
}

async fn create_order_in(
    state: &AppState,
    key: Option<&str>,
    body: &Body,
) -> Result<Json<Value>, HttpError> {
    let body: CreateOrderBody = parse_body(body)?;
    let raw = body
        .total_amount
        .ok_or_else(|| HttpError::missing_field("totalAmount"))?;
    // Exact decimal parse of the number as written; a string, bool or null is not an amount.
    let text = raw.get();
    let amount = if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Amount::parse_yuan(text)
    } else {
        Err(AmountError::NotANumber)
    }
    .map_err(PaymentError::from)?;
    let reference = body
        .reference
        .map(|r| {
            OrderReference::parse(&r).ok_or_else(|| {
                HttpError::with_detail(
                    ErrorCode::ReferenceInvalid,
                    format!("1 to {MAX_REFERENCE_CHARS} visible ASCII characters"),
                )
            })
        })
        .transpose()?;
    let return_url = body
        .return_url
        .map(|u| {
            ReturnUrl::parse(&u)
                .filter(|u| !state.production || u.is_https_or_loopback())
                .ok_or_else(|| {
                    HttpError::with_detail(
                        ErrorCode::ReturnUrlInvalid,
                        "an absolute https URL (http only in development or to loopback)",
                    )
                })
        })
        .transpose()?;
    let created = state
        .payments
        .create_order_for(NewOrder {
            amount,
            description: body.description.unwrap_or_default(),
            reference,
            return_url,
            api_key_id: key.map(str::to_string),
        })
        .await?;
    Ok(Json(
        json!({ "data": order_json(&created.order, &state.public_url)? }),
    ))
}

async fn get_order(
    lang: CallerLang,
    State(state): State<AppState>,
    key: Key,
    Path(order_id): Path<String>,
) -> RestResult {
    lang.answer(get_order_in(&state, key_id(&key), &order_id).await)
}

/// The order's full detail, every payment's history included: the key holder's view.
async fn get_order_in(
    state: &AppState,
    key: Option<&str>,
    order_id: &str,
) -> Result<Json<Value>, HttpError> {
    let detail = state.payments.order_detail_for(order_id, key).await?;
    let mut data = order_json(&detail.order, &state.public_url)?;
    data["payments"] = detail
        .payments
        .iter()
        .map(|p| {
            Ok(json!({
                "paymentId": p.payment.id,
                "status": p.payment.status,
                "method": p.payment.method,
                "codeUrl": p.payment.code_url,
                "amount": yuan(p.payment.amount_fen)?,
                "createdAt": p.payment.created_at_ms,
                "expiresAt": p.payment.expires_at_ms,
                "paidAt": p.payment.paid_at_ms,
                "providerTransactionId": p.payment.provider_transaction_id,
                "paidLate": p.payment.paid_late,
                "needsRefund": p.payment.needs_refund,
                "events": p.events,
            }))
        })
        .collect::<Result<Vec<Value>, HttpError>>()?
        .into();
    Ok(Json(json!({ "data": data })))
}

/// Fields kept as their raw JSON text (no tree is built of them), so that a field of the wrong
/// type is told apart from a missing one.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePaymentBody {
    order_id: Option<Box<RawValue>>,
    /// `wechatpay` or `alipay`; the server's default method when absent or null.
    method: Option<Box<RawValue>>,
}

async fn create_payment(
    lang: CallerLang,
    State(state): State<AppState>,
    key: Key,
    body: Body,
) -> RestResult {
    lang.answer(create_payment_in(&state, key_id(&key), &body).await)
}

/// The order's pending payment of that method if it has one (another caller never closes the
/// shopper's live QR), else a new payment.
async fn create_payment_in(
    state: &AppState,
    key: Option<&str>,
    body: &Body,
) -> Result<Json<Value>, HttpError> {
    let body: CreatePaymentBody = parse_body(body)?;
    let order_id =
        text_field(body.order_id, "orderId")?.ok_or(HttpError::missing_field("orderId"))?;
    let method = text_field(body.method, "method")?
        .map(|m| {
            PaymentMethod::parse(&m).ok_or_else(|| {
                HttpError::with_detail(
                    ErrorCode::ParameterInvalid,
                    format!("method {m:?}: expected wechatpay or alipay"),
                )
            })
        })
        .transpose()?;
    // Another key's order is not found; keyless (development) callers reach any order. A
    // paid or closed order takes no payment (the page's read answers the paying one instead).
    let order = state.payments.order_for(&order_id, key).await?;
    if order.status != OrderStatus::Pending {
        return Err(PaymentError::OrderNotPayable(order.status).into());
    }
    let payment = state
        .payments
        .current_or_new_payment(&order_id, method)
        .await?;
    Ok(Json(json!({ "data": payment_created_json(&payment)? })))
}

fn payment_created_json(p: &Payment) -> Result<Value, HttpError> {
    Ok(json!({
        "paymentId": p.id,
        "orderId": p.order_id,
        "amount": yuan(p.amount_fen)?,
        "qrCodeUrl": format!("/api/pay/{}/qr.svg", p.id),
        "codeUrl": p.code_url,
        "method": p.method,
        "expiresIn": ((p.expires_at_ms - now_ms()).max(0) + 999) / 1000,
        "expiresAt": p.expires_at_ms,
    }))
}

/// The status read; with `?wait=` a long-poll (see `live::LongPoll`).
async fn payment_status(
    lang: CallerLang,
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
    Query(query): Query<LongPollQuery>,
) -> RestResult<Response> {
    lang.answer(payment_status_in(&state, &payment_id, query).await)
}

async fn payment_status_in(
    state: &AppState,
    payment_id: &str,
    query: LongPollQuery,
) -> Result<Response, HttpError> {
    let poll = LongPoll::parse(&query)?;
    let view = state
        .payments
        .wait_for_status(payment_id, poll.known, poll.wait)
        .await?;
    status_answer(&view)
}

/// The REST API's answer to a status read (the long-poll's too).
pub fn status_answer(view: &PaymentStatusView) -> Result<Response, HttpError> {
    let answer = StatusAnswer {
        payment_id: &view.payment_id,
        status: view.status,
        method: view.method,
        amount: checked_amount(view.amount_fen)?,
        order_id: &view.order_id,
        expires_at: view.expires_at_ms,
        server_now: view.server_now_ms,
        paid_at: view.paid_at_ms,
        failure_reason: view.failure_reason.as_deref(),
        failure: view.failure,
    };
    Ok(json_answer(answer.to_json()))
}

/// A JSON answer (200) of `body`.
pub fn json_answer(body: Vec<u8>) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    // Room for every header it leaves with (type and length, the security headers, the request
    // id): the map is not grown and rehashed on the way out.
    *response.headers_mut() = HeaderMap::with_capacity(12);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The status answer, `{"data": …}`: the hot path, written by `payments::json` (its serde form,
/// which the tests compare it with, is the documented shape).
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
struct StatusAnswer<'a> {
    payment_id: &'a str,
    status: PaymentStatus,
    method: PaymentMethod,
    #[cfg_attr(test, serde(serialize_with = "tests::yuan_number"))]
    amount: Amount,
    order_id: &'a str,
    expires_at: i64,
    server_now: i64,
    paid_at: Option<i64>,
    /// The provider's own words, as it reported them.
    failure_reason: Option<&'a str>,
    /// The same as a code, for a shop that words it for its shoppers.
    failure: Option<PaymentFailure>,
}

impl StatusAnswer<'_> {
    fn to_json(&self) -> Vec<u8> {
        let mut out = payments::json::status_answer_buffer();
        let mut answer = JsonObject::begin(&mut out);
        answer.object("data", |data| {
            data.str("paymentId", self.payment_id)
                .name("status", self.status.as_str())
                .name("method", self.method.as_str())
                .raw("amount", &self.amount.yuan_json_text())
                .str("orderId", self.order_id)
                .int("expiresAt", self.expires_at)
                .int("serverNow", self.server_now)
                .opt_int("paidAt", self.paid_at)
                .opt_str("failureReason", self.failure_reason)
                .opt_name("failure", self.failure.map(PaymentFailure::as_str));
        });
        answer.end();
        out
    }
}

async fn payment_qr(
    lang: CallerLang,
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
) -> RestResult<Response> {
    let payment = lang.answer(state.payments.payment(&payment_id).await)?;
    let svg = payments::qr::svg(&payment.code_url, 200);
    // Not cached anywhere (`private, no-store`, see security_headers): it names the payment.
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    pub fn yuan_number<S: serde::Serializer>(amount: &Amount, to: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(amount.yuan_json_text())
            .expect("a decimal is valid JSON")
            .serialize(to)
    }

    #[derive(Serialize)]
    struct Data<T> {
        data: T,
    }

    #[test]
    fn the_status_answer_is_its_serde_form() {
        let answer = |failure_reason, failure, paid_at, fen| StatusAnswer {
            payment_id: "pay_0a1b",
            status: PaymentStatus::Failed,
            method: PaymentMethod::WechatPay,
            amount: Amount::from_fen(fen).unwrap(),
            order_id: "ord_9z",
            expires_at: 1_765_000_000_000,
            server_now: 1_764_999_999_999,
            paid_at,
            failure_reason,
            failure,
        };
        for a in [
            answer(None, None, Some(1), 1),
            answer(
                Some("余额不足 \"quoted\" \\ \n"),
                Some(PaymentFailure::ALL[1]),
                None,
                1250,
            ),
            answer(Some(""), None, None, Amount::MAX_FEN),
        ] {
            let serde_form = serde_json::to_string(&Data { data: &a }).unwrap();
            assert_eq!(String::from_utf8(a.to_json()).unwrap(), serde_form);
        }
    }
}
