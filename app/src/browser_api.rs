//! The pages' requests from the browser, without the server-function client: the status read,
//! the long-poll and the home page's new order call the same server-function endpoints
//! (`api.rs`) with `fetch`, and the browser's own `JSON.parse` reads the answers. What the
//! server-function client cost the page's WASM (serde_json, serde_qs, the request and response
//! types, the float formatting of serde's error messages) is in BENCHMARKS.md.
//!
//! Every transport's status answer goes through [`decode_status`]; an error answer (`{"code",
//! "message"}`, any 4xx or 5xx) through [`decode_error`]. Compiled on both sides (the island's
//! code is), called only in the browser.
use crate::error::{ApiError, ErrorCode};
use payments::model::PaymentStatusView;
use payments::status::{PaymentFailure, PaymentMethod, PaymentStatus};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A parsed JSON object as the decoders read it: JavaScript's own objects in the browser
/// (`JSON.parse`, `Response.json()`), serde_json's in the tests.
pub trait JsonObject: Sized {
    fn text(&self, key: &str) -> Option<String>;
    fn number(&self, key: &str) -> Option<f64>;
    /// `self[key]` (`undefined`/`null` when it has none).
    fn member(&self, key: &str) -> Self;
}

impl JsonObject for JsValue {
    fn text(&self, key: &str) -> Option<String> {
        self.member(key).as_string()
    }
    fn number(&self, key: &str) -> Option<f64> {
        self.member(key).as_f64()
    }
    fn member(&self, key: &str) -> JsValue {
        js_sys::Reflect::get(self, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }
}

/// A status answer (`PaymentStatusView` as the server serializes it: camelCase, optional fields
/// `null`), `None` when it is not one. Integers travel as JSON numbers: every one here
/// (milliseconds since the epoch, fen) is far below 2^53, so exact in an `f64`.
pub fn decode_status(v: &impl JsonObject) -> Option<PaymentStatusView> {
    let int = |key| v.number(key).map(|n| n as i64);
    Some(PaymentStatusView {
        payment_id: v.text("paymentId")?,
        order_id: v.text("orderId")?,
        status: PaymentStatus::parse(&v.text("status")?)?,
        method: PaymentMethod::parse(&v.text("method")?)?,
        amount_fen: int("amountFen")?,
        expires_at_ms: int("expiresAtMs")?,
        server_now_ms: int("serverNowMs")?,
        paid_at_ms: int("paidAtMs"),
        failure_reason: v.text("failureReason"),
        failure: v.text("failure").and_then(|f| PaymentFailure::parse(&f)),
        code_url: v.text("codeUrl")?,
    })
}

/// An error answer. One without a code this page knows reads as the request failing on its way,
/// as the server-function client read it.
pub fn decode_error(v: &impl JsonObject) -> ApiError {
    match v.text("code").and_then(|code| ErrorCode::parse(&code)) {
        Some(code) => ApiError::new(code, v.text("message").unwrap_or_default()),
        None => network_error(),
    }
}

fn network_error() -> ApiError {
    ApiError::new(ErrorCode::Network, "no answer")
}

/// `GET /api/get_payment_status?payment_id=…`
pub async fn read_status(payment_id: &str) -> Result<PaymentStatusView, ApiError> {
    let query: String = form(&[("payment_id", payment_id)]).to_string().into();
    let url = String::from("/api/get_payment_status?") + &query;
    status_answer(leptos::prelude::window().fetch_with_str(&url)).await
}

/// `POST /api/wait_payment_status`: answers when the status is no longer `known`, or after
/// `wait_secs` with it unchanged.
pub async fn wait_status(
    payment_id: &str,
    known: PaymentStatus,
    wait_secs: u64,
) -> Result<PaymentStatusView, ApiError> {
    let wait_secs = crate::format::decimal(wait_secs);
    post(
        "/api/wait_payment_status",
        &[
            ("payment_id", payment_id),
            ("known", known.as_str()),
            ("wait_secs", &wait_secs),
        ],
    )
    .await
}

/// `POST /api/create_order` (the home page's form): the new order's id.
pub async fn create_order(
    amount: payments::money::Amount,
    description: &str,
) -> Result<String, ApiError> {
    // An `Amount` is positive.
    let amount_fen = crate::format::decimal(amount.fen().unsigned_abs());
    let order = answer(post_request(
        "/api/create_order",
        &[("amount_fen", &amount_fen), ("description", description)],
    ))
    .await?;
    order.text("id").ok_or_else(network_error)
}

async fn post(url: &str, fields: &[(&str, &str)]) -> Result<PaymentStatusView, ApiError> {
    status_answer(post_request(url, fields)).await
}

/// Form-encoded, as the server functions take their arguments.
fn post_request(url: &str, fields: &[(&str, &str)]) -> js_sys::Promise {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    // A URLSearchParams body is sent as application/x-www-form-urlencoded.
    init.set_body(&form(fields));
    leptos::prelude::window().fetch_with_str_and_init(url, &init)
}

fn form(fields: &[(&str, &str)]) -> web_sys::UrlSearchParams {
    let params = web_sys::UrlSearchParams::new().expect("URLSearchParams");
    for (name, value) in fields {
        params.append(name, value);
    }
    params
}

/// A fetch's answer as a status, or its error. No answer, or one that is not JSON of either
/// shape, is a network error (retried soon by the poller).
async fn status_answer(request: js_sys::Promise) -> Result<PaymentStatusView, ApiError> {
    decode_status(&answer(request).await?).ok_or_else(network_error)
}

/// A fetch's JSON answer, or the error it carries (any 4xx or 5xx).
async fn answer(request: js_sys::Promise) -> Result<JsValue, ApiError> {
    let response: web_sys::Response = JsFuture::from(request)
        .await
        .map_err(|_| network_error())?
        .unchecked_into();
    let body = match response.json() {
        Ok(json) => JsFuture::from(json).await.map_err(|_| network_error())?,
        Err(_) => return Err(network_error()),
    };
    if response.ok() {
        Ok(body)
    } else {
        Err(decode_error(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    impl JsonObject for Value {
        fn text(&self, key: &str) -> Option<String> {
            self.get(key)?.as_str().map(str::to_string)
        }
        fn number(&self, key: &str) -> Option<f64> {
            self.get(key)?.as_f64()
        }
        fn member(&self, key: &str) -> Value {
            self.get(key).cloned().unwrap_or_default()
        }
    }

    fn view() -> PaymentStatusView {
        PaymentStatusView {
            payment_id: "pay_AAAAAAAAAAAAAAAAAAAAAA".into(),
            order_id: "ord_BBBBBBBBBBBBBBBBBBBBBB".into(),
            status: PaymentStatus::Failed,
            method: PaymentMethod::Alipay,
            amount_fen: 129_950,
            expires_at_ms: 1_795_305_600_123,
            server_now_ms: 1_795_305_500_456,
            paid_at_ms: None,
            failure_reason: Some("余额不足".into()),
            failure: Some(PaymentFailure::InsufficientBalance),
            code_url: "https://qr.alipay.com/x?a=1&b=<2>".into(),
        }
    }

    #[test]
    fn decodes_what_the_server_serializes() {
        for view in [
            view(),
            PaymentStatusView {
                status: PaymentStatus::Paid,
                paid_at_ms: Some(1_795_305_550_000),
                failure_reason: None,
                failure: None,
                ..view()
            },
        ] {
            let json = serde_json::to_value(&view).unwrap();
            assert_eq!(decode_status(&json), Some(view));
        }
    }

    #[test]
    fn an_answer_of_another_shape_is_not_a_status() {
        let mut json = serde_json::to_value(view()).unwrap();
        json["status"] = "unknown".into();
        assert_eq!(decode_status(&json), None);
        assert_eq!(decode_status(&serde_json::json!({"code": "x"})), None);
    }

    #[test]
    fn decodes_error_answers() {
        let busy = serde_json::json!({"code": "server_busy", "message": "busy"});
        assert_eq!(
            decode_error(&busy),
            ApiError::new(ErrorCode::ServerBusy, "busy")
        );
        let json = serde_json::to_value(ApiError::new(ErrorCode::OrderNotPayable, "paid")).unwrap();
        assert_eq!(decode_error(&json).code, ErrorCode::OrderNotPayable);
        assert!(decode_error(&serde_json::json!({"code": "new_code"})).is_network());
        assert!(decode_error(&serde_json::json!([1])).is_network());
    }
}
