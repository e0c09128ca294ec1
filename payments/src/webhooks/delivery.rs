//! The delivery worker: claims the due deliveries (under a lease, so several processes never
//! send the same attempt at once), commits the claim, then POSTs each one signed, outside any
//! transaction, and records the outcome: delivered on any 2xx, otherwise due again after the
//! schedule's next wait, or failed past its end. A worker that dies mid-attempt leaves the
//! delivery to be retried when its lease ends: a shop may get an event twice (it recognises
//! the copy by its `webhook-id`), never not at all.
use super::merchant::DeliveryStatus;
use super::outbox::{self, Claimed, Recorded};
use super::{retry_wait, WebhookConfig};
use crate::clock::now_ms;
use crate::error::Result;
use crate::metrics::{self, WebhookOutcome};
use crate::secret::redact_url;
use crate::store::Store;
use futures::StreamExt;
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

/// Deliveries claimed at once, and sent side by side.
const BATCH: i64 = 64;
const PARALLEL: usize = 16;
/// A claim lasts the attempt's timeout and this much more (to record the outcome).
const LEASE_MARGIN: Duration = Duration::from_secs(20);
/// `last_error` is for a person glancing at the list: short.
const MAX_ERROR_CHARS: usize = 200;

const USER_AGENT: &str = concat!("scanpay-webhooks/", env!("CARGO_PKG_VERSION"));

/// Sends the outbox's deliveries to the configured endpoints.
#[derive(Clone)]
pub struct WebhookSender {
    store: Store,
    config: WebhookConfig,
    client: reqwest::Client,
    signer: Arc<standardwebhooks::Webhook>,
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The endpoint answered with this HTTP status.
    Answered(u16),
    /// No answer: could not connect, timed out, broken answer (short, without the URL).
    Unreachable(String),
}

impl WebhookSender {
    pub fn new(store: Store, config: WebhookConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(USER_AGENT)
            // A redirect is not a delivery (and would turn the POST into a GET).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client with rustls and a timeout builds");
        let signer = Arc::new(config.secret.signer());
        Self {
            store,
            config,
            client,
            signer,
        }
    }

    /// Delivers forever: every `tick`, and at once again after a full batch.
    pub async fn run(&self, tick: Duration) {
        loop {
            match self.deliver_due(BATCH).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!("webhook delivery: {e}"),
            }
            tokio::time::sleep(tick).await;
        }
    }

    /// Claims up to `limit` due deliveries, sends them and records the outcomes; returns how
    /// many it sent.
    pub async fn deliver_due(&self, limit: i64) -> Result<usize> {
        let endpoints = &self.config.endpoints;
        let now = now_ms();
        let mut conn = self.store.pool().acquire().await?;
        if !outbox::any_due(&mut conn, now, endpoints).await? {
            return Ok(0);
        }
        drop(conn);
        let lease_ms = (self.config.timeout + LEASE_MARGIN).as_millis() as i64;
        let mut w = self.store.begin_write().await?;
        let claimed = outbox::claim_due(w.conn(), now, lease_ms, limit, endpoints).await?;
        w.commit().await?;
        let count = claimed.len();
        futures::stream::iter(claimed)
            .map(|delivery| async move {
                let outcome = self.attempt(&delivery).await;
                if let Err(e) = self.record(&delivery, &outcome).await {
                    tracing::warn!(id = delivery.id, "recording a webhook attempt: {e}");
                }
            })
            .buffer_unordered(PARALLEL)
            .collect::<Vec<()>>()
            .await;
        Ok(count)
    }

    /// One signed POST. The timestamp is this attempt's: receivers refuse old ones.
    async fn attempt(&self, delivery: &Claimed) -> Outcome {
        let timestamp = now_ms() / 1000;
        let signature = self
            .signer
            .sign(&delivery.event_id, timestamp, delivery.payload.as_bytes())
            .expect("a String payload is UTF-8");
        let sent = self
            .client
            .post(&delivery.endpoint_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &delivery.event_id)
            .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, timestamp)
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(delivery.payload.clone())
            .send()
            .await;
        match sent {
            Ok(answer) => Outcome::Answered(answer.status().as_u16()),
            Err(e) => Outcome::Unreachable(describe(&e)),
        }
    }

    async fn record(&self, delivery: &Claimed, outcome: &Outcome) -> Result<()> {
        let recorded = after_attempt(
            outcome,
            delivery.attempt,
            &self.config.retry_schedule,
            now_ms(),
        );
        let (event_id, attempt) = (&delivery.event_id, delivery.attempt);
        let endpoint = redact_url(&delivery.endpoint_url);
        let error = &recorded.last_error;
        let outcome = match recorded.status {
            DeliveryStatus::Delivered => {
                tracing::info!(event_id, attempt, endpoint, "webhook delivered");
                WebhookOutcome::Delivered
            }
            DeliveryStatus::Pending => {
                tracing::info!(
                    event_id,
                    attempt,
                    endpoint,
                    ?error,
                    "webhook not delivered; will retry"
                );
                WebhookOutcome::Retrying
            }
            DeliveryStatus::Failed => {
                tracing::warn!(
                    event_id,
                    attempt,
                    endpoint,
                    ?error,
                    "webhook not delivered; gave up"
                );
                WebhookOutcome::GaveUp
            }
        };
        metrics::webhook_attempt(outcome);
        let mut conn = self.store.write_pool().acquire().await?;
        outbox::record(&mut conn, delivery.id, attempt, &recorded).await?;
        Ok(())
    }
}

/// What attempt number `attempt`'s outcome leaves on its delivery at `now_ms`: delivered on
/// any 2xx; otherwise due again after the schedule's wait, or failed past its end. Pure.
pub(crate) fn after_attempt(
    outcome: &Outcome,
    attempt: i64,
    schedule: &[Duration],
    now_ms: i64,
) -> Recorded {
    let (last_status_code, last_error) = match outcome {
        Outcome::Answered(code) if (200..300).contains(code) => {
            return Recorded {
                status: DeliveryStatus::Delivered,
                next_attempt_at_ms: None,
                last_status_code: Some(i64::from(*code)),
                last_error: None,
                delivered_at_ms: Some(now_ms),
            }
        }
        Outcome::Answered(code) => (Some(i64::from(*code)), format!("HTTP {code}")),
        Outcome::Unreachable(why) => (None, why.clone()),
    };
    let wait = retry_wait(schedule, attempt);
    Recorded {
        status: match wait {
            Some(_) => DeliveryStatus::Pending,
            None => DeliveryStatus::Failed,
        },
        next_attempt_at_ms: wait.map(|w| now_ms + w.as_millis() as i64),
        last_status_code,
        last_error: Some(last_error),
        delivered_at_ms: None,
    }
}

/// A transport failure in a few words and its innermost cause ("Connection refused (os error
/// 111)"); never reqwest's own message, which names the URL (it may hold a token).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = error.source();
    while let Some(deeper) = cause.and_then(|c| c.source()) {
        cause = Some(deeper);
    }
    let text = match cause {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_string(),
    };
    text.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn schedule() -> Vec<Duration> {
        vec![Duration::from_secs(5), Duration::from_secs(300)]
    }

    #[test]
    fn any_2xx_delivers() {
        for code in [200, 201, 204, 299] {
            let r = after_attempt(&Outcome::Answered(code), 1, &schedule(), NOW);
            assert_eq!(r.status, DeliveryStatus::Delivered, "{code}");
            assert_eq!(
                (r.delivered_at_ms, r.next_attempt_at_ms, r.last_error),
                (Some(NOW), None, None)
            );
            assert_eq!(r.last_status_code, Some(i64::from(code)));
        }
    }

    #[test]
    fn anything_else_retries_on_the_schedule_then_fails() {
        for outcome in [
            Outcome::Answered(500),
            Outcome::Answered(301),
            Outcome::Answered(404),
            Outcome::Unreachable("could not connect: Connection refused".into()),
        ] {
            let first = after_attempt(&outcome, 1, &schedule(), NOW);
            assert_eq!(first.status, DeliveryStatus::Pending, "{outcome:?}");
            assert_eq!(first.next_attempt_at_ms, Some(NOW + 5_000));
            assert_eq!(first.delivered_at_ms, None);
            let second = after_attempt(&outcome, 2, &schedule(), NOW);
            assert_eq!(second.next_attempt_at_ms, Some(NOW + 300_000));
            let last = after_attempt(&outcome, 3, &schedule(), NOW);
            assert_eq!(
                (last.status, last.next_attempt_at_ms),
                (DeliveryStatus::Failed, None)
            );
        }
        let r = after_attempt(&Outcome::Answered(503), 1, &schedule(), NOW);
        assert_eq!(
            (r.last_status_code, r.last_error.as_deref()),
            (Some(503), Some("HTTP 503"))
        );
        let r = after_attempt(&Outcome::Unreachable("timed out".into()), 1, &[], NOW);
        assert_eq!(
            (r.status, r.last_status_code, r.last_error.as_deref()),
            (DeliveryStatus::Failed, None, Some("timed out"))
        );
    }
}
