//! WECHATPAY2-SHA256-RSA2048 both ways: the merchant's signed requests are verified exactly as
//! sent; every answer and notification is signed with WeChat Pay's platform key.
use crate::clock::now_ms;
use crate::faults::Faults;
use crate::keys::{random_upper_hex, verify_pkcs1};
use crate::Sandbox;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

pub const SCHEMA: &str = "WECHATPAY2-SHA256-RSA2048";
/// Requests and answers more than this far from now are refused.
pub const MAX_SKEW_SECS: i64 = 300;
const SIGN_MESSAGE_SHOWN: usize = 256;

/// An error answer in WeChat Pay's shape: `{"code","message","detail"?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WechatError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<Value>,
}

impl WechatError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    pub fn param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
    }

    pub fn system() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误",
        )
    }

    fn sign_error(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "SIGN_ERROR", message)
    }

    pub fn body(&self) -> String {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(detail) = &self.detail {
            body["detail"] = detail.clone();
        }
        body.to_string()
    }
}

/// The message a request signature covers: `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut message = format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// The message an answer or notification signature covers: `TIMESTAMP\nNONCE\nBODY\n`.
pub fn answer_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// `key="value",…` after the schema; `None` when it is not a WECHATPAY2 header.
fn parse_authorization(header: &str) -> Option<Vec<(&str, &str)>> {
    let params = header.strip_prefix(SCHEMA)?.strip_prefix(' ')?;
    params
        .split(',')
        .map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            let value = value.strip_prefix('"')?.strip_suffix('"')?;
            Some((key, value))
        })
        .collect()
}

impl Sandbox {
    /// Verifies a merchant request as WeChat Pay does; returns the mchid it was signed for.
    pub(crate) fn verify_request(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), WechatError> {
        let merchant = &self.merchants.wechatpay;
        let format_error = || {
            WechatError::sign_error(
                "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》",
            )
        };
        let header = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(format_error)?;
        let params = parse_authorization(header).ok_or_else(format_error)?;
        let field = |name: &str| {
            params
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
                .ok_or_else(format_error)
        };
        let (mchid, nonce, timestamp, serial_no, signature) = (
            field("mchid")?,
            field("nonce_str")?,
            field("timestamp")?,
            field("serial_no")?,
            field("signature")?,
        );
        if mchid != merchant.mchid {
            return Err(WechatError::new(
                StatusCode::BAD_REQUEST,
                "MCH_NOT_EXISTS",
                "商户号不存在",
            ));
        }
        if !serial_no.eq_ignore_ascii_case(&merchant.merchant_serial_no) {
            return Err(WechatError::sign_error(
                "商户证书序列号有误。请使用签名私钥匹配的证书序列号",
            ));
        }
        let signed_at: i64 = timestamp.parse().map_err(|_| format_error())?;
        // abs_diff: a timestamp near i64::MIN cannot overflow the subtraction.
        if (now_ms() / 1000).abs_diff(signed_at) > MAX_SKEW_SECS.unsigned_abs() {
            return Err(WechatError::sign_error(
                "Authorization中的timestamp与当前时间相差超过5分钟，请检查系统时间",
            ));
        }
        if let Some(serial) = headers
            .get("wechatpay-serial")
            .and_then(|v| v.to_str().ok())
        {
            if serial != merchant.public_key_id {
                return Err(WechatError::param(format!(
                    "Wechatpay-Serial {serial} 不是本商户的微信支付公钥ID或平台证书序列号"
                )));
            }
        }
        let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
        let message = request_message(method.as_str(), path_and_query, timestamp, nonce, body);
        if verify_pkcs1(merchant.merchant_key.public_pkcs1(), &message, signature) {
            return Ok(());
        }
        let shown = String::from_utf8_lossy(&message);
        let truncated: String = shown.chars().take(SIGN_MESSAGE_SHOWN).collect();
        let mut error = WechatError::sign_error("错误的签名，验签失败");
        error.detail = Some(json!({
            "detail": { "issue": "sign not match" },
            "field": "signature",
            "location": "authorization",
            "sign_information": {
                "method": method.as_str(),
                "sign_message_length": message.len(),
                "truncated_sign_message": truncated,
                "url": path_and_query,
            }
        }));
        Err(error)
    }

    /// The `Wechatpay-*` headers for a body, honouring the signing faults.
    pub(crate) fn signed_headers(
        &self,
        body: &[u8],
        faults: &Faults,
    ) -> Vec<(&'static str, String)> {
        let merchant = &self.merchants.wechatpay;
        let timestamp = faults.signing_timestamp(now_ms() / 1000).to_string();
        let nonce = random_upper_hex(32);
        let message = answer_message(&timestamp, &nonce, body);
        let signature = if faults.signature_probe {
            let probe = base64::engine::general_purpose::STANDARD.encode(random_upper_hex(48));
            format!("WECHATPAY/SIGNTEST/{probe}")
        } else if faults.forged_answers {
            self.merchants.forger.sign(&message)
        } else {
            merchant.platform_key.sign(&message)
        };
        let serial = if faults.wrong_serial {
            format!("PUB_KEY_ID_99{}", crate::keys::random_digits(30))
        } else {
            merchant.public_key_id.clone()
        };
        vec![
            ("wechatpay-timestamp", timestamp),
            ("wechatpay-nonce", nonce),
            ("wechatpay-signature", signature),
            ("wechatpay-serial", serial),
            ("wechatpay-signature-type", SCHEMA.to_string()),
            ("request-id", random_upper_hex(32).to_lowercase()),
        ]
    }

    /// A signed answer: JSON body, or none (204).
    pub(crate) fn wechat_answer(&self, status: StatusCode, body: Option<String>) -> Response {
        let bytes = body.unwrap_or_default();
        let mut response = (status, bytes.clone()).into_response();
        let headers = response.headers_mut();
        if !bytes.is_empty() {
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
        for (name, value) in self.signed_headers(bytes.as_bytes(), &self.faults()) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }

    pub(crate) fn wechat_error(&self, error: WechatError) -> Response {
        self.wechat_answer(error.status, Some(error.body()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_message_has_five_lines_each_ended() {
        let message = request_message("GET", "/v3/certificates?x=1", "1554208460", "593BEC0C", b"");
        assert_eq!(
            message,
            b"GET\n/v3/certificates?x=1\n1554208460\n593BEC0C\n\n"
        );
        let message = request_message("POST", "/p", "1", "n", br#"{"a":1}"#);
        assert_eq!(message, b"POST\n/p\n1\nn\n{\"a\":1}\n");
        assert_eq!(answer_message("1", "n", b""), b"1\nn\n\n");
    }

    #[test]
    fn parses_authorization_in_any_order_with_spaces() {
        let header = r#"WECHATPAY2-SHA256-RSA2048 mchid="1900000001", nonce_str="abc",signature="c2ln",timestamp="1",serial_no="ABC""#;
        let params = parse_authorization(header).unwrap();
        assert!(params.contains(&("mchid", "1900000001")));
        assert!(params.contains(&("serial_no", "ABC")));
        assert!(parse_authorization("Bearer x").is_none());
        assert!(parse_authorization(r#"WECHATPAY2-SHA256-RSA2048 mchid=1"#).is_none());
    }
}
