//! Webhooks to the shop, per the Standard Webhooks specification. The ledger decides which
//! event a committed change of a payment produces and writes it, with one delivery per
//! configured endpoint, in that change's own transaction (`outbox`): no paid order goes
//! unannounced, and nothing is announced that was rolled back. A worker (`delivery`) sends the
//! due deliveries outside any transaction, signed (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), and retries on a growing schedule until a 2xx or the schedule's end.
//! The merchant lists deliveries and sends one again (`merchant`).
mod delivery;
mod events;
mod merchant;
pub(crate) mod outbox;

pub use delivery::WebhookSender;
pub(crate) use events::WebhookEvent;
pub use events::WebhookEventType;
pub use merchant::{
    DeliveryQuery, DeliveryStatus, WebhookDelivery, DEFAULT_DELIVERIES_PER_PAGE,
    MAX_DELIVERIES_PER_PAGE,
};

use crate::limits::{DEFAULT_WEBHOOK_RETRY_SECS, WEBHOOK_TIMEOUT_SECS};
use crate::provider::http::is_https_or_loopback;
use crate::secret::{redact_url, Secret};
use base64::Engine;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The endpoint URLs events are delivered to. None: no event is written at all.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WebhookEndpoints(Arc<[String]>);

/// A URL [`WebhookEndpoints::parse`] refused: shown redacted, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEndpoint {
    pub url_for_logs: String,
    pub expected: &'static str,
}

impl WebhookEndpoints {
    /// Each URL checked with [`check_endpoint_url`] (every refusal reported); a URL given twice
    /// is one endpoint.
    pub fn parse<'a>(
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, Vec<InvalidEndpoint>> {
        let mut checked: Vec<String> = Vec::new();
        let mut invalid = Vec::new();
        for url in urls {
            match check_endpoint_url(url) {
                Ok(url) if checked.contains(&url) => {}
                Ok(url) => checked.push(url),
                Err(expected) => invalid.push(InvalidEndpoint {
                    url_for_logs: redact_url(url.trim()),
                    expected,
                }),
            }
        }
        if invalid.is_empty() {
            Ok(Self(checked.into()))
        } else {
            Err(invalid)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn urls(&self) -> &[String] {
        &self.0
    }
}

/// URLs may hold credentials (user info, a token parameter): printed redacted.
impl fmt::Debug for WebhookEndpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|url| redact_url(url)))
            .finish()
    }
}

/// `url` (trimmed) if it is an absolute `https` URL, or `http` to a loopback host (tests, a
/// receiver on this machine): a shop's payment events do not travel in clear text.
pub fn check_endpoint_url(url: &str) -> Result<String, &'static str> {
    const EXPECTED: &str = "an absolute https URL (plain http only to 127.0.0.1, ::1 or localhost)";
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|_| EXPECTED)?;
    if is_https_or_loopback(&parsed) {
        Ok(url.to_string())
    } else {
        Err(EXPECTED)
    }
}

/// The secret deliveries are signed with: `whsec_` and the base64 of at least
/// [`MIN_SECRET_BYTES`] random bytes, as Standard Webhooks libraries expect it. Never printed.
#[derive(Clone, Debug)]
pub struct WebhookSecret(Secret);

/// The shortest key the specification allows (192 bits).
pub const MIN_SECRET_BYTES: usize = 24;
const SECRET_PREFIX: &str = "whsec_";

impl WebhookSecret {
    /// Refuses anything but `whsec_` + standard base64 of ≥ 24 bytes; the error shows no part
    /// of the secret.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const EXPECTED: &str = "whsec_ followed by the base64 of at least 24 random bytes";
        let key = text.trim().strip_prefix(SECRET_PREFIX).ok_or(EXPECTED)?;
        match base64::engine::general_purpose::STANDARD.decode(key) {
            Ok(bytes) if bytes.len() >= MIN_SECRET_BYTES => {
                Ok(Self(Secret::new(text.trim().to_string())))
            }
            _ => Err(EXPECTED),
        }
    }

    /// Whether this is `text` (a published example, say), compared in constant time.
    pub fn is(&self, text: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0
            .expose()
            .as_bytes()
            .ct_eq(text.trim().as_bytes())
            .into()
    }

    /// The signer; a parsed secret always makes one.
    pub(crate) fn signer(&self) -> standardwebhooks::Webhook {
        standardwebhooks::Webhook::new(self.0.expose()).expect("a parsed secret is valid base64")
    }
}

/// Everything the delivery worker needs.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub endpoints: WebhookEndpoints,
    pub secret: WebhookSecret,
    /// Waits after each failed attempt; past the last, the delivery has failed.
    pub retry_schedule: Vec<Duration>,
    /// One attempt's time limit.
    pub timeout: Duration,
}

impl WebhookConfig {
    /// The defaults for the schedule and timeout ([`DEFAULT_WEBHOOK_RETRY_SECS`],
    /// [`WEBHOOK_TIMEOUT_SECS`]).
    pub fn new(endpoints: WebhookEndpoints, secret: WebhookSecret) -> Self {
        Self {
            endpoints,
            secret,
            retry_schedule: DEFAULT_WEBHOOK_RETRY_SECS
                .iter()
                .copied()
                .map(Duration::from_secs)
                .collect(),
            timeout: Duration::from_secs(WEBHOOK_TIMEOUT_SECS),
        }
    }
}

/// How long to wait after a delivery's `attempts`-th attempt failed; `None`: give up. Pure.
pub fn retry_wait(schedule: &[Duration], attempts: i64) -> Option<Duration> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    schedule.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_makes_eight_attempts_over_about_a_day() {
        let schedule = WebhookConfig::new(
            WebhookEndpoints::default(),
            WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
        )
        .retry_schedule;
        let waits: Vec<Duration> = (1..).map_while(|n| retry_wait(&schedule, n)).collect();
        assert_eq!(waits.len() + 1, 8, "attempts in all");
        assert_eq!(waits[0], Duration::from_secs(5));
        assert_eq!(waits[1], Duration::from_secs(300));
        let span: Duration = waits.iter().sum();
        assert!(
            span >= Duration::from_secs(24 * 3600) && span <= Duration::from_secs(28 * 3600),
            "{span:?}"
        );
        assert_eq!(retry_wait(&schedule, 8), None, "gave up after the 8th");
        assert_eq!(retry_wait(&schedule, 0), None, "no attempt has failed yet");
    }

    #[test]
    fn a_short_schedule_gives_up_after_its_last_wait() {
        let schedule = [Duration::from_millis(200), Duration::from_millis(500)];
        assert_eq!(retry_wait(&schedule, 1), Some(Duration::from_millis(200)));
        assert_eq!(retry_wait(&schedule, 2), Some(Duration::from_millis(500)));
        assert_eq!(retry_wait(&schedule, 3), None);
        assert_eq!(retry_wait(&[], 1), None, "an empty schedule: one attempt");
    }

    #[test]
    fn only_a_well_formed_secret_is_accepted_and_it_never_prints() {
        let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let secret = WebhookSecret::parse(good).unwrap();
        assert!(!format!("{secret:?}").contains("MfKQ"), "{secret:?}");
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",   // no prefix
            "whsec_",                             // empty
            "whsec_c2hvcnQ=",                     // 5 bytes
            "whsec_not base64 at all!!!!!!!!!!!", // not base64
        ] {
            let e = WebhookSecret::parse(bad).unwrap_err();
            let key = bad.trim_start_matches(SECRET_PREFIX);
            assert!(key.is_empty() || !e.contains(key), "{e}");
        }
    }

    #[test]
    fn endpoints_need_https_except_on_loopback_and_print_without_passwords() {
        for ok in [
            "https://shop.example/hooks",
            "http://127.0.0.1:8080/hooks",
            "http://localhost/h",
            "http://[::1]:9/h",
        ] {
            assert_eq!(check_endpoint_url(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "http://shop.example/hooks",
            "ftp://x/y",
            "shop.example/hooks",
        ] {
            assert!(check_endpoint_url(bad).is_err(), "{bad}");
        }
        let url = "https://u:hunter2@shop.example/h";
        let endpoints =
            WebhookEndpoints::parse([url, " https://u:hunter2@shop.example/h"]).unwrap();
        assert!(!format!("{endpoints:?}").contains("hunter2"));
        assert_eq!(endpoints.urls(), [url], "one endpoint, given twice");
        let refused =
            WebhookEndpoints::parse(["http://u:hunter2@shop.example/h", url, "nope"]).unwrap_err();
        assert_eq!(refused.len(), 2);
        assert_eq!(refused[0].url_for_logs, "http://u:***@shop.example/h");
    }
}
