//! Server functions: thin calls into the payment service. Amounts are minor units (fen).
//! Each has a fixed endpoint (`/api/<name>`, form-encoded arguments, JSON answer), so scripts and
//! benchmarks can call them too.
use crate::error::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use payments::model::{Order, PaymentStatusView};
use payments::status::PaymentMethod;
use serde::{Deserialize, Serialize};

/// The arguments in the query string, like server_fn's `GetUrl`, but read by hand
/// ([`payment_id_argument`]): serde_qs's nested forms cost the hot path ~3,000 instructions per
/// request and serde_urlencoded's field machinery ~1,800 (callgrind; BENCHMARKS.md) for one
/// flat argument.
pub struct GetQuery;

impl leptos::server_fn::ContentType for GetQuery {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";
}

impl leptos::server_fn::codec::Encoding for GetQuery {
    const METHOD: http::Method = http::Method::GET;
}

impl<E, Request> leptos::server_fn::codec::IntoReq<GetQuery, Request, E> for GetPaymentStatus
where
    Request: leptos::server_fn::request::ClientReq<E>,
    E: leptos::server_fn::error::FromServerFnError,
{
    fn into_req(self, path: &str, accepts: &str) -> Result<Request, E> {
        use leptos::server_fn::error::{IntoAppError, ServerFnErrorErr};
        use leptos::server_fn::ContentType;
        let query = serde_urlencoded::to_string(&self)
            .map_err(|e| ServerFnErrorErr::Serialization(e.to_string()).into_app_error())?;
        Request::try_new_get(path, GetQuery::CONTENT_TYPE, accepts, &query)
    }
}

impl<E, Request> leptos::server_fn::codec::FromReq<GetQuery, Request, E> for GetPaymentStatus
where
    Request: leptos::server_fn::request::Req<E> + Send + 'static,
    E: leptos::server_fn::error::FromServerFnError,
{
    async fn from_req(request: Request) -> Result<Self, E> {
        use leptos::server_fn::error::{IntoAppError, ServerFnErrorErr};
        let payment_id = payment_id_argument(request.as_query().unwrap_or_default())
            .map_err(|e| ServerFnErrorErr::Args(e.into()).into_app_error())?;
        Ok(GetPaymentStatus { payment_id })
    }
}

/// `payment_id` from a form-encoded query, as serde_urlencoded reads it into
/// [`GetPaymentStatus`] (other keys ignored, a second `payment_id` refused), decoding only what
/// is encoded.
pub fn payment_id_argument(query: &str) -> Result<String, &'static str> {
    let mut found = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decoded(key) != "payment_id" {
            continue;
        }
        if found.replace(value).is_some() {
            return Err("duplicate field `payment_id`");
        }
    }
    let payment_id = found.ok_or("missing field `payment_id`")?;
    Ok(form_decoded(payment_id).into_owned())
}

/// A key or value of a form-encoded query, `+` and `%XX` decoded (invalid UTF-8 replaced, as
/// form_urlencoded does).
fn form_decoded(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.bytes().any(|b| b == b'%' || b == b'+') {
        return text.into();
    }
    // form_urlencoded decodes `key=value` pairs: `=text` is the text as a value.
    let pair = format!("={text}");
    let decoded = form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned());
    decoded.unwrap_or_default().into()
}

/// JSON like server_fn's `Json`, for the status answer only.
pub struct StatusJsonEncoding;

/// The status read's answer encoding (the argument still comes in the URL).
pub type StatusJson = leptos::server_fn::codec::Post<StatusJsonEncoding>;

impl leptos::server_fn::ContentType for StatusJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl leptos::server_fn::FormatType for StatusJsonEncoding {
    const FORMAT_TYPE: leptos::server_fn::Format = leptos::server_fn::Format::Text;
}

/// Written by `payments::json` (the same bytes as serde_json's, a fraction of the work: the
/// status read is the hot path).
#[cfg(feature = "ssr")]
impl leptos::server_fn::Encodes<PaymentStatusView> for StatusJsonEncoding {
    type Error = std::convert::Infallible;

    fn encode(output: &PaymentStatusView) -> Result<leptos::server_fn::Bytes, Self::Error> {
        Ok(output.to_json().into())
    }
}

/// The browser never sends a status answer; this only completes the codec.
#[cfg(not(feature = "ssr"))]
impl<T: Serialize> leptos::server_fn::Encodes<T> for StatusJsonEncoding {
    type Error = <JsonEncoding as leptos::server_fn::Encodes<T>>::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        JsonEncoding::encode(output)
    }
}

impl<T: serde::de::DeserializeOwned> leptos::server_fn::Decodes<T> for StatusJsonEncoding {
    type Error = <JsonEncoding as leptos::server_fn::Decodes<T>>::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        JsonEncoding::decode(bytes)
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::{ApiError, ErrorCode};
    use crate::state::AppState;
    use leptos::prelude::use_context;

    pub fn state() -> Result<AppState, ApiError> {
        use_context::<AppState>()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "server state missing"))
    }

    pub fn view(payment: &payments::model::Payment) -> payments::model::PaymentStatusView {
        payments::model::PaymentStatusView::of(payment, payments::clock::now_ms())
    }
}

/// The demo shop's order form, with JavaScript (the amount already read by
/// [`payments::money::Amount::parse_typed_yuan`] in the browser).
#[server(endpoint = "create_order")]
pub async fn create_order(amount_fen: i64, description: String) -> Result<Order, ApiError> {
    let amount = payments::money::Amount::from_fen(amount_fen)
        .map_err(payments::error::PaymentError::from)?;
    create_demo_order(&ssr::state()?, amount, &description).await
}

/// The demo shop's order, from the form with or without JavaScript (the server's form post):
/// development only, as in production orders come from the shop's backend with its API key.
#[cfg(feature = "ssr")]
pub async fn create_demo_order(
    state: &crate::state::AppState,
    amount: payments::money::Amount,
    description: &str,
) -> Result<Order, ApiError> {
    if state.production {
        return Err(ApiError::new(
            crate::error::ErrorCode::NotInProduction,
            "the demo shop is development only: create orders with POST /api/orders and an API key",
        ));
    }
    Ok(state.payments.create_order(amount, description).await?)
}

/// An order as its shopper sees it: what is bought, from whom, and its state. No payments and no
/// history: those are the merchant's, behind the API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopperOrder {
    pub order: Order,
    /// Who the shopper pays (`SCANPAY_MERCHANT_NAME`).
    pub merchant_name: String,
}

#[server(endpoint = "get_order")]
pub async fn get_order(order_id: String) -> Result<ShopperOrder, ApiError> {
    let state = ssr::state()?;
    Ok(ShopperOrder {
        order: state.payments.order(&order_id).await?,
        merchant_name: state.merchant_name.clone(),
    })
}

/// The payment methods this server accepts, in the order the page offers them (the default
/// first).
#[server(endpoint = "payment_methods")]
pub async fn payment_methods() -> Result<Vec<PaymentMethod>, ApiError> {
    let (mut enabled, default) = ssr::state()?.payments.methods();
    enabled.sort_by_key(|m| *m != default);
    Ok(enabled)
}

/// What the payment page shows when it loads (see `PaymentService::payment_for_page`): the
/// order's latest payment as it is, a first one only when it has none, another app's when the
/// shopper chose one. It may write (a first payment), so it is a POST even though the page
/// loads it.
#[server(endpoint = "payment_for_page")]
pub async fn payment_for_page(
    order_id: String,
    method: Option<PaymentMethod>,
) -> Result<PaymentStatusView, ApiError> {
    let payment = ssr::state()?
        .payments
        .payment_for_page(&order_id, method)
        .await?;
    Ok(ssr::view(&payment))
}

/// 重新支付: the order's pending payment if it still has time left, else a new one. A request
/// from elsewhere never closes a live QR of the same method.
#[server(endpoint = "current_or_new_payment")]
pub async fn current_or_new_payment(
    order_id: String,
    method: Option<PaymentMethod>,
) -> Result<PaymentStatusView, ApiError> {
    let payment = ssr::state()?
        .payments
        .current_or_new_payment(&order_id, method)
        .await?;
    Ok(ssr::view(&payment))
}

/// A GET: the read is safe and repeatable, and a request without a body is the cheapest one the
/// server can answer (every waiting shopper asks every 2 s).
#[server(endpoint = "get_payment_status", input = GetQuery, output = StatusJson)]
pub async fn get_payment_status(payment_id: String) -> Result<PaymentStatusView, ApiError> {
    Ok(ssr::state()?.payments.payment_status(&payment_id).await?)
}

/// Long-poll: answers as soon as the status differs from `known`, or after `wait_secs`
/// (at most [`payments::limits::MAX_LONG_POLL_SECS`]) with it unchanged.
#[server(endpoint = "wait_payment_status")]
pub async fn wait_payment_status(
    payment_id: String,
    known: payments::status::PaymentStatus,
    wait_secs: u64,
) -> Result<PaymentStatusView, ApiError> {
    let wait = std::time::Duration::from_secs(wait_secs.min(payments::limits::MAX_LONG_POLL_SECS));
    Ok(ssr::state()?
        .payments
        .wait_for_status(&payment_id, Some(known), wait)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_argument_as_serde_urlencoded_does() {
        for query in [
            "payment_id=pay_abc",
            "payment_id=a%20b+c%2B&x=1",
            "x=1&payment_id=",
            "payment%5Fid=encoded-key",
            "payment_id",
            "payment_id=a=b",
            "&&payment_id=p&&",
            "payment_id=%E4%B8%AD%ZZ%",
            "payment_id=%FF",
            "",
            "paymentId=camel",
            "payment_id=one&payment_id=two",
        ] {
            let by_serde = serde_urlencoded::from_str::<GetPaymentStatus>(query)
                .map(|args| args.payment_id)
                .map_err(|_| ());
            assert_eq!(
                payment_id_argument(query).map_err(|_| ()),
                by_serde,
                "{query}"
            );
        }
    }
}
