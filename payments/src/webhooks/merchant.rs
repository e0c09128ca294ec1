//! The merchant's view of webhook deliveries: the list (newest first, a page at a time,
//! optionally of one status) and "send again" (the same event, the same `webhook-id`, due now).
use super::outbox;
use super::WebhookEventType;
use crate::clock::now_ms;
use crate::error::{PaymentError, Result};
use crate::secret::redact_url;
use crate::service::PaymentService;
use crate::status::string_enum;
use serde::Serialize;

string_enum!(
    /// Where a delivery stands: `pending` (due now or at `nextAttemptAt`: the first attempt or
    /// a retry), `delivered` (the endpoint answered 2xx), `failed` (no 2xx by the schedule's
    /// last retry; a resend queues it again).
    DeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
);

/// One event's delivery to one endpoint, as the merchant sees it. Times in unix milliseconds,
/// like the rest of the REST API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub id: i64,
    /// The `webhook-id` header: the same on every attempt.
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    pub order_id: String,
    pub payment_id: String,
    /// With any password in it redacted.
    pub endpoint_url: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    #[serde(rename = "nextAttemptAt")]
    pub next_attempt_at_ms: Option<i64>,
    #[serde(rename = "lastAttemptAt")]
    pub last_attempt_at_ms: Option<i64>,
    /// The endpoint's last HTTP status (none if it could not be reached).
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    #[serde(rename = "deliveredAt")]
    pub delivered_at_ms: Option<i64>,
    #[serde(rename = "createdAt")]
    pub created_at_ms: i64,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this one (the previous page's last id).
    pub before: Option<i64>,
    /// At most this many ([`DEFAULT_DELIVERIES_PER_PAGE`] if none; capped at
    /// [`MAX_DELIVERIES_PER_PAGE`]).
    pub limit: Option<i64>,
    /// Only deliveries about orders created with this API key (`None`: development without a
    /// key, every delivery). A key sees its own orders' events, as it sees its own orders.
    pub api_key_id: Option<String>,
}

pub const DEFAULT_DELIVERIES_PER_PAGE: i64 = 50;
pub const MAX_DELIVERIES_PER_PAGE: i64 = 200;

fn for_the_merchant(mut delivery: WebhookDelivery) -> WebhookDelivery {
    delivery.endpoint_url = redact_url(&delivery.endpoint_url);
    delivery
}

impl PaymentService {
    /// Webhook deliveries, newest first.
    pub async fn webhook_deliveries(&self, query: &DeliveryQuery) -> Result<Vec<WebhookDelivery>> {
        let limit = query
            .limit
            .unwrap_or(DEFAULT_DELIVERIES_PER_PAGE)
            .clamp(1, MAX_DELIVERIES_PER_PAGE);
        let mut conn = self.store().pool().acquire().await?;
        let deliveries = outbox::deliveries(&mut conn, query, limit).await?;
        Ok(deliveries.into_iter().map(for_the_merchant).collect())
    }

    /// Queues delivery `id` again, due now: the same event and `webhook-id`, so a shop that
    /// already has it recognises the copy. If that attempt fails, retries go on where the
    /// delivery's schedule stands: none for one that had failed (gave up) already.
    /// Another key's delivery is not found.
    pub async fn resend_webhook_delivery(
        &self,
        id: i64,
        api_key_id: Option<&str>,
    ) -> Result<WebhookDelivery> {
        let mut w = self.store().begin_write().await?;
        if outbox::delivery(w.conn(), id, api_key_id).await?.is_none()
            || !outbox::requeue(w.conn(), id, now_ms()).await?
        {
            return Err(PaymentError::WebhookDeliveryNotFound);
        }
        let delivery = outbox::delivery(w.conn(), id, api_key_id)
            .await?
            .ok_or(PaymentError::WebhookDeliveryNotFound)?;
        w.commit().await?;
        Ok(for_the_merchant(delivery))
    }
}
