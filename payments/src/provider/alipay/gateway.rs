//! One call to the Alipay gateway: RSA2-signed common parameters in the query string,
//! `biz_content` in the form body, the answer verified over the exact raw text of its
//! `…_response` value before anything in it is believed; `20000` retried.
use super::Alipay;
use crate::clock::now_ms;
use crate::provider::http::{transport_failure, with_retries, Attempt};
use crate::provider::ProviderError;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde::Deserialize;

const BEIJING_SECS: i32 = 8 * 3600;
/// Alipay's timestamps (`timestamp`, `send_pay_date`, `gmt_payment`): Beijing time.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(BEIJING_SECS).expect("+08:00 is a valid offset")
}

pub fn beijing_time_text(at_ms: i64) -> String {
    DateTime::from_timestamp_millis(at_ms)
        .unwrap_or_default()
        .with_timezone(&beijing())
        .format(TIME_FORMAT)
        .to_string()
}

/// `yyyy-MM-dd HH:mm:ss` at Beijing time as unix milliseconds.
pub fn parse_beijing_time(text: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), TIME_FORMAT).ok()?;
    Some(
        beijing()
            .from_local_datetime(&naive)
            .single()?
            .timestamp_millis(),
    )
}

/// The string RSA2 signs: non-empty values sorted by key, `k=v` joined by `&`, raw.
pub fn sign_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut params: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    params.sort_unstable();
    let pairs: Vec<String> = params
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    pairs.join("&")
}

/// The exact text of the JSON object under `key` at the top level of `raw` (from its `{` to
/// the matching `}`), as received: what Alipay signed. Strings are skipped with their escapes,
/// so braces or a `"sign"` inside values do not confuse it.
pub fn raw_object_value<'a>(raw: &'a str, key: &str) -> Option<&'a str> {
    let bytes = raw.as_bytes();
    let quoted = format!("\"{key}\"");
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i)?;
                let value = raw[end..]
                    .trim_start()
                    .strip_prefix(':')
                    .map(str::trim_start);
                if let (1, true, Some(value)) = (depth, raw[i..end] == quoted, value) {
                    let start = raw.len() - value.len();
                    return value
                        .starts_with('{')
                        .then(|| object_end(bytes, start))
                        .flatten()
                        .map(|e| &raw[start..e]);
                }
                i = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index just past the string that starts with the quote at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index just past the object (or array) that starts at `start`.
fn object_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Deserialize)]
struct Status {
    code: String,
    #[serde(default)]
    msg: String,
    sub_code: Option<String>,
    sub_msg: Option<String>,
}

impl Alipay {
    /// Calls `method` with `biz_content` (sent and signed byte for byte); the verified
    /// `…_response` object of a `10000` answer, else the error it amounts to.
    pub(super) async fn call(
        &self,
        method: &str,
        biz_content: &str,
        notify_url: Option<&str>,
    ) -> Result<serde_json::Value, ProviderError> {
        with_retries(|| self.attempt(method, biz_content, notify_url)).await
    }

    async fn attempt(
        &self,
        method: &str,
        biz_content: &str,
        notify_url: Option<&str>,
    ) -> Attempt<serde_json::Value> {
        let timestamp = beijing_time_text(now_ms());
        let mut common = vec![
            ("app_id", self.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp.as_str()),
            ("version", "1.0"),
        ];
        if let Some(url) = notify_url {
            common.push(("notify_url", url));
        }
        let signed = sign_content(common.iter().copied().chain([("biz_content", biz_content)]));
        let sign = self.signing_key.sign_base64(signed.as_bytes());
        let mut url = self.gateway.clone();
        url.query_pairs_mut()
            .extend_pairs(&common)
            .append_pair("sign", &sign);
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("biz_content", biz_content)
            .finish();
        let request = self
            .http
            .post(url)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(body);
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(e),
        };
        let status = response.status();
        let raw = match response.text().await {
            Ok(text) => text,
            Err(e) => return transport_failure(e),
        };
        if status.is_server_error() {
            return Attempt::Transient(format!("HTTP {status}"));
        }
        self.read_answer(method, &raw)
    }

    fn read_answer(&self, method: &str, raw: &str) -> Attempt<serde_json::Value> {
        let unexpected = |reason: String| {
            Attempt::Done(Err(ProviderError::Unavailable(format!(
                "Alipay answer: {reason}"
            ))))
        };
        let response_key = format!("{}_response", method.replace('.', "_"));
        let Some(signed) = raw_object_value(raw, &response_key) else {
            return match raw_object_value(raw, "error_response").map(serde_json::from_str::<Status>)
            {
                Some(Ok(error)) => Attempt::Done(Err(rejected(error))),
                _ => unexpected(format!("no {response_key} in {:.200}", raw)),
            };
        };
        let sign = serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .and_then(|answer| answer.get("sign")?.as_str().map(str::to_string));
        if !sign.is_some_and(|sign| self.alipay_key.verify_base64(signed.as_bytes(), &sign)) {
            tracing::warn!(
                method,
                "forged Alipay answer: its sign does not verify with the Alipay public key"
            );
            return unexpected("answer signature rejected: sign missing or not Alipay's".into());
        }
        let Ok(status) = serde_json::from_str::<Status>(signed) else {
            return unexpected(format!("{response_key} without code"));
        };
        match status.code.as_str() {
            "10000" => Attempt::Done(
                serde_json::from_str(signed).map_err(|e| ProviderError::Unavailable(e.to_string())),
            ),
            "20000" => Attempt::Transient(format!(
                "20000 {}: {}",
                status.msg,
                status.sub_msg.unwrap_or_default()
            )),
            _ => Attempt::Done(Err(rejected(status))),
        }
    }
}

/// A refusal with Alipay's most precise code (`ACQ.TRADE_NOT_EXIST` over `40004`).
fn rejected(status: Status) -> ProviderError {
    ProviderError::Rejected {
        code: status.sub_code.unwrap_or(status.code),
        message: status.sub_msg.unwrap_or(status.msg),
    }
}
