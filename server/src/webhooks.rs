//! The merchant's webhook deliveries over HTTP, in the REST API's shapes (`{"data": …}`, errors
//! through `error`): `GET /api/webhooks/deliveries?status=&limit=&before=` (newest first; the
//! next page is `before=<nextBefore>`) and `POST /api/webhooks/deliveries/{id}/resend` (the
//! same event and `webhook-id`, due now). Merchant-only: this router has no authentication of
//! its own; main.rs wraps it in the API key layer. A key sees and resends only deliveries about
//! its own orders.
use crate::auth::{key_id, MerchantKey};
use crate::error::{CallerLang, HttpError, LocalizedError};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use payments::error::{ErrorCode, PaymentError};
use payments::webhooks::{DeliveryQuery, DeliveryStatus, MAX_DELIVERIES_PER_PAGE};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn merchant_router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/deliveries", get(list_deliveries))
        .route(
            "/api/webhooks/deliveries/{id}/resend",
            post(resend_delivery),
        )
}

/// The list's query, as text: each value is checked here and named when it is wrong.
#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<String>,
    before: Option<String>,
}

fn invalid(detail: String) -> HttpError {
    HttpError::with_detail(ErrorCode::ParameterInvalid, detail)
}

impl ListQuery {
    fn parse(&self, api_key_id: Option<&str>) -> Result<DeliveryQuery, HttpError> {
        let status = match self.status.as_deref() {
            None => None,
            Some(text) => Some(DeliveryStatus::parse(text).ok_or_else(|| {
                invalid("status must be pending, delivered or failed".to_string())
            })?),
        };
        let limit = match self.limit.as_deref() {
            None => None,
            Some(text) => Some(
                text.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_DELIVERIES_PER_PAGE).contains(n))
                    .ok_or_else(|| {
                        invalid(format!(
                            "limit must be a whole number from 1 to {MAX_DELIVERIES_PER_PAGE}"
                        ))
                    })?,
            ),
        };
        let before = match self.before.as_deref() {
            None => None,
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                invalid("before must be a delivery id (the previous page's nextBefore)".into())
            })?),
        };
        Ok(DeliveryQuery {
            status,
            before,
            limit,
            api_key_id: api_key_id.map(str::to_string),
        })
    }
}

async fn list_deliveries(
    lang: CallerLang,
    State(state): State<AppState>,
    key: Option<Extension<MerchantKey>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, LocalizedError> {
    lang.answer(list_deliveries_in(&state, key_id(&key), &query).await)
}

async fn list_deliveries_in(
    state: &AppState,
    api_key_id: Option<&str>,
    query: &ListQuery,
) -> Result<Json<Value>, HttpError> {
    let query = query.parse(api_key_id)?;
    let deliveries = state.payments.webhook_deliveries(&query).await?;
    // A full page may have a next one: it starts below this page's last (oldest) id.
    let full = deliveries.len() as i64 == query.limit.unwrap_or(DEFAULT_PAGE);
    let next_before = deliveries.last().filter(|_| full).map(|d| d.id);
    Ok(Json(json!({
        "data": { "deliveries": deliveries, "nextBefore": next_before },
    })))
}

/// The service's page size when the query names none.
const DEFAULT_PAGE: i64 = payments::webhooks::DEFAULT_DELIVERIES_PER_PAGE;

async fn resend_delivery(
    lang: CallerLang,
    State(state): State<AppState>,
    key: Option<Extension<MerchantKey>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, LocalizedError> {
    lang.answer(resend_delivery_in(&state, key_id(&key), &id).await)
}

async fn resend_delivery_in(
    state: &AppState,
    api_key_id: Option<&str>,
    id: &str,
) -> Result<Json<Value>, HttpError> {
    // Ids are whole numbers: anything else names no delivery.
    let id = id
        .parse::<i64>()
        .map_err(|_| PaymentError::WebhookDeliveryNotFound)?;
    let delivery = state
        .payments
        .resend_webhook_delivery(id, api_key_id)
        .await?;
    Ok(Json(json!({ "data": delivery })))
}
