//! One WeChat Pay call: signed as sent (`WECHATPAY2-SHA256-RSA2048`), retried while transient,
//! its answer verified before anything in it is believed.
use super::WechatPay;
use crate::clock::now_ms;
use crate::provider::http::{transport_failure, with_retries, Attempt};
use crate::provider::ProviderError;
use rand::distr::{Alphanumeric, SampleString};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;

/// Error codes that mean "not done, try the same call again" (WeChat Pay's own advice).
const TRANSIENT_CODES: &[&str] = &["SYSTEM_ERROR", "BANK_ERROR", "FREQUENCY_LIMITED"];

#[derive(Deserialize)]
struct ErrorAnswer {
    code: String,
    message: String,
}

impl WechatPay {
    /// Sends `method path_and_query` (relative to the base URL) with `body`; the verified 2xx
    /// answer's body, or the error it amounts to (`Rejected` with WeChat Pay's code).
    pub(super) async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<String>,
    ) -> Result<Vec<u8>, ProviderError> {
        let url = Url::parse(&format!("{}{path_and_query}", self.base_url))
            .map_err(|e| ProviderError::Unavailable(format!("bad request URL: {e}")))?;
        with_retries(|| self.attempt(method.clone(), &url, body.as_deref())).await
    }

    async fn attempt(&self, method: Method, url: &Url, body: Option<&str>) -> Attempt<Vec<u8>> {
        let authorization =
            self.authorization(method.as_str(), &signed_target(url), body.unwrap_or(""));
        let mut request = self
            .http
            .request(method, url.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::AUTHORIZATION, authorization);
        if let Some(id) = self.verifier.public_key_id() {
            request = request.header("Wechatpay-Serial", id);
        }
        if let Some(body) = body {
            request = request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(e),
        };
        let (status, headers) = (response.status(), response.headers().clone());
        let answer = match response.bytes().await {
            Ok(bytes) => bytes.to_vec(),
            Err(e) => return transport_failure(e),
        };
        if status.is_success() {
            return Attempt::Done(
                match self.verifier.verify(&headers, &answer, now_ms() / 1000) {
                    Ok(()) => Ok(answer),
                    Err(reason) => {
                        tracing::warn!(%url, %reason, "forged WeChat Pay answer: its signature does not verify");
                        Err(ProviderError::Unavailable(format!(
                            "answer signature rejected: {reason}"
                        )))
                    }
                },
            );
        }
        classify_error(status, &answer)
    }

    /// The `Authorization` header for this request: the signature of exactly what is sent.
    pub(super) fn authorization(&self, method: &str, target: &str, body: &str) -> String {
        let timestamp = now_ms() / 1000;
        let nonce = Alphanumeric.sample_string(&mut rand::rng(), 32);
        let message = format!("{method}\n{target}\n{timestamp}\n{nonce}\n{body}\n");
        let signature = self.signing_key.sign_base64(message.as_bytes());
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{}\",signature=\"{signature}\"",
            self.mchid, self.merchant_serial_no
        )
    }
}

/// The request target as it goes on the wire (path with any base-URL prefix, and the query).
fn signed_target(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    }
}

fn classify_error(status: StatusCode, answer: &[u8]) -> Attempt<Vec<u8>> {
    let error: Option<ErrorAnswer> = serde_json::from_slice(answer).ok();
    match error {
        Some(e) if TRANSIENT_CODES.contains(&e.code.as_str()) => {
            Attempt::Transient(format!("HTTP {status} {}: {}", e.code, e.message))
        }
        _ if status.is_server_error() => Attempt::Transient(format!("HTTP {status}")),
        Some(e) => Attempt::Done(Err(ProviderError::Rejected {
            code: e.code,
            message: e.message,
        })),
        None => Attempt::Done(Err(ProviderError::Rejected {
            code: format!("HTTP_{}", status.as_u16()),
            message: String::from_utf8_lossy(answer).chars().take(200).collect(),
        })),
    }
}
