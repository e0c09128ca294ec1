//! What both adapters' HTTP needs: a client with a timeout (HTTPS via rustls), plain HTTP only
//! to loopback hosts, and retries of transient failures with the same parameters.
use super::{ProviderConfigError, ProviderError};
use reqwest::Url;
use std::future::Future;
use std::time::Duration;

/// Waits before the 2nd and 3rd attempt: three attempts in all, then `Unavailable`.
const BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(300)];

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

pub const USER_AGENT: &str = concat!(
    "scanpay/",
    env!("CARGO_PKG_VERSION"),
    " (payments adapter; reqwest)"
);

/// `url` parsed; `https`, or `http` to 127.0.0.0/8, ::1 or localhost (the sandbox, tests).
pub fn checked_base_url(field: &'static str, url: &str) -> Result<Url, ProviderConfigError> {
    let parsed = Url::parse(url).map_err(|e| {
        ProviderConfigError::new(field, format!("{url:?} is not an absolute URL ({e})"))
    })?;
    let loopback = is_loopback(&parsed);
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(ProviderConfigError::new(
            field,
            format!("{url:?}: plain http is allowed only to loopback hosts (127.0.0.1, ::1, localhost); use https"),
        )),
        other => Err(ProviderConfigError::new(field, format!("{url:?}: scheme {other:?}, expected https"))),
    }
}

/// Whether the URL's host is 127.0.0.0/8, ::1 or localhost: the one place plain `http` is
/// allowed (the sandbox, tests; webhook endpoints on this machine).
pub fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `https`, or plain `http` to a loopback host: the rule for every URL scanpay sends money
/// events or shoppers to (provider base URLs, webhook endpoints, return URLs and the public URL
/// in production).
pub fn is_https_or_loopback(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

/// [`is_https_or_loopback`] for a URL as text: also false for what is not an absolute URL
/// with a host.
pub fn is_https_or_loopback_url(text: &str) -> bool {
    Url::parse(text).is_ok_and(|u| u.host_str().is_some() && is_https_or_loopback(&u))
}

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .build()
        .expect("a reqwest client with rustls and a timeout builds")
}

/// One attempt's outcome: final, or transient (worth the same call again).
pub enum Attempt<T> {
    Done(Result<T, ProviderError>),
    Transient(String),
}

/// Runs `attempt` up to three times while it is transient; then the provider is unavailable.
pub async fn with_retries<T, F, Fut>(mut attempt: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut last = String::new();
    for wait in std::iter::once(Duration::ZERO).chain(BACKOFF) {
        tokio::time::sleep(wait).await;
        match attempt().await {
            Attempt::Done(result) => return result,
            Attempt::Transient(reason) => {
                tracing::debug!(%reason, "provider call failed; retrying");
                last = reason;
            }
        }
    }
    Err(ProviderError::Unavailable(format!(
        "after {} attempts: {last}",
        BACKOFF.len() + 1
    )))
}

/// A transport failure (timeout, refused connection, broken answer) as a transient attempt.
/// Its text leaves out the URL: it ends up in logs, and Alipay's query string carries the
/// request's signature.
pub fn transport_failure<T>(error: reqwest::Error) -> Attempt<T> {
    let error = error.without_url();
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "transport error"
    };
    Attempt::Transient(format!("{kind}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::{client, transport_failure, Attempt, DEFAULT_TIMEOUT};

    #[tokio::test]
    async fn a_transport_failure_does_not_repeat_the_query_string() {
        // Nothing listens on port 1 of loopback: the connection is refused at once.
        let url = "http://127.0.0.1:1/gateway.do?app_id=2021&sign=c2lnbmF0dXJl";
        let error = client(DEFAULT_TIMEOUT).get(url).send().await.unwrap_err();
        let Attempt::Transient(reason) = transport_failure::<()>(error) else {
            panic!("a refused connection is transient")
        };
        assert!(reason.starts_with("could not connect"), "{reason}");
        assert!(
            !reason.contains("sign=") && !reason.contains("c2lnbmF0dXJl"),
            "{reason}"
        );
    }
}
