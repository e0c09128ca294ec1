//! Alipay's open-API gateway for 当面付: `alipay.trade.precreate`, `.query` and `.close` on
//! `POST /sandbox/alipay/gateway.do`, common parameters in the query string and/or the form body
//! (as the official SDKs send them), RSA2-verified, answered signed.
use crate::faults::ApiCall;
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

mod methods;
pub mod notify;
pub mod sign;

pub use crate::clock::alipay_time;

pub const GATEWAY_PATH: &str = "/sandbox/alipay/gateway.do";
const METHODS: [&str; 3] = [
    "alipay.trade.precreate",
    "alipay.trade.query",
    "alipay.trade.close",
];

/// Fen as Alipay's yuan string: `8888` → `"88.88"`.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// An exact yuan string (≤ 2 decimals, 0.01 ..= 100000000) as fen; never through a float.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole)
        || whole.len() > 9
        || (text.contains('.') && (!digits(fraction) || fraction.len() > 2))
    {
        return None;
    }
    let fen = whole.parse::<i64>().ok()? * 100 + format!("{fraction:0<2}").parse::<i64>().ok()?;
    (1..=10_000_000_000).contains(&fen).then_some(fen)
}

/// An answer object: `code`, `msg` and optional `sub_code` / `sub_msg`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome(pub Map<String, Value>);

impl Outcome {
    pub fn success(fields: Value) -> Self {
        let mut map = Map::new();
        map.insert("code".into(), json!("10000"));
        map.insert("msg".into(), json!("Success"));
        if let Value::Object(fields) = fields {
            map.extend(fields);
        }
        Outcome(map)
    }

    pub fn failure(code: &str, msg: &str, sub_code: &str, sub_msg: impl Into<String>) -> Self {
        let value =
            json!({ "code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg.into() });
        Outcome(value.as_object().cloned().unwrap_or_default())
    }

    pub fn business(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Self::failure("40004", "Business Failed", sub_code, sub_msg)
    }

    pub fn missing(sub_code: &str, sub_msg: &str) -> Self {
        Self::failure("40001", "Missing Required Arguments", sub_code, sub_msg)
    }

    pub fn invalid(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Self::failure("40002", "Invalid Arguments", sub_code, sub_msg)
    }

    pub fn unavailable() -> Self {
        Self::failure(
            "20000",
            "Service Currently Unavailable",
            "aop.ACQ.SYSTEM_ERROR",
            "系统繁忙",
        )
    }
}

/// Every parameter of a request, query string first, then the form body (values decoded once).
fn request_params(uri: &OriginalUri, headers: &HeaderMap, body: &[u8]) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let query = uri.0.query().unwrap_or_default().as_bytes();
    let body = if is_form { body } else { b"" };
    for (key, value) in form_urlencoded::parse(query).chain(form_urlencoded::parse(body)) {
        params
            .entry(key.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    params
}

impl Sandbox {
    /// The signed answer: `{"<response_key>":{…},"sign":"…"}`.
    fn alipay_answer(&self, response_key: &str, outcome: Outcome) -> Response {
        let object = sign::alipay_json(&Value::Object(outcome.0));
        let key = if self.faults().forged_answers {
            &self.merchants.forger
        } else {
            &self.merchants.alipay.alipay_key
        };
        let text = sign::answer_text(response_key, &object, &key.sign(object.as_bytes()));
        let mut response = text.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=utf-8"),
        );
        response
    }

    /// The common-parameter checks the gateway makes before any method runs.
    async fn admit_alipay(&self, params: &BTreeMap<String, String>) -> Result<(), Outcome> {
        let get = |name: &str| {
            params
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let app_id =
            get("app_id").ok_or_else(|| Outcome::missing("isv.missing-app-id", "缺少AppID参数"))?;
        if app_id != self.merchants.alipay.app_id {
            return Err(Outcome::invalid("isv.invalid-app-id", "无效的AppID参数"));
        }
        let signature =
            get("sign").ok_or_else(|| Outcome::missing("isv.missing-signature", "缺少签名参数"))?;
        match get("sign_type") {
            None => {
                return Err(Outcome::missing(
                    "isv.missing-signature-type",
                    "缺少签名类型参数",
                ))
            }
            Some("RSA2") => {}
            Some(_) => {
                return Err(Outcome::invalid(
                    "isv.invalid-signature-type",
                    "无效的签名类型参数，仅支持RSA2",
                ))
            }
        }
        if get("charset").is_some_and(|c| !c.eq_ignore_ascii_case("utf-8")) {
            return Err(Outcome::invalid(
                "isv.invalid-charset",
                "字符集错误，请使用utf-8",
            ));
        }
        let timestamp = get("timestamp")
            .ok_or_else(|| Outcome::missing("isv.missing-timestamp", "缺少时间戳参数"))?;
        if crate::clock::parse_alipay_time(timestamp).is_none() {
            return Err(Outcome::invalid(
                "isv.invalid-timestamp",
                "非法的时间戳参数，格式为yyyy-MM-dd HH:mm:ss",
            ));
        }
        if get("version").is_some_and(|v| v != "1.0") {
            return Err(Outcome::invalid(
                "isv.invalid-version",
                "版本号错误，应为1.0",
            ));
        }
        let content = sign::sign_content(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &["sign"],
        );
        let public = self.merchants.alipay.app_key.public_pkcs1();
        if !crate::keys::verify_pkcs1(public, content.as_bytes(), signature) {
            return Err(Outcome::invalid(
                "isv.invalid-signature",
                format!("验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{content}"),
            ));
        }
        Ok(())
    }
}

pub async fn gateway(
    State(sandbox): State<Arc<Sandbox>>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = request_params(&uri, &headers, &body);
    let Some(method) = params.get("method").filter(|m| !m.is_empty()) else {
        return sandbox.alipay_answer(
            "error_response",
            Outcome::missing("isv.missing-method", "缺少方法名参数"),
        );
    };
    if !METHODS.contains(&method.as_str()) {
        return sandbox.alipay_answer(
            "error_response",
            Outcome::invalid("isv.invalid-method", "不存在的方法名"),
        );
    }
    let response_key = format!("{}_response", method.replace('.', "_"));
    let call = match method.as_str() {
        "alipay.trade.precreate" => ApiCall::Create,
        "alipay.trade.query" => ApiCall::Query,
        _ => ApiCall::Close,
    };
    let outcome = match sandbox.admit_alipay(&params).await {
        Err(refused) => refused,
        Ok(()) if sandbox.injected_failure(call).await => Outcome::unavailable(),
        Ok(()) => sandbox.run_method(call, &params).await,
    };
    sandbox.alipay_answer(&response_key, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_strings_are_exact() {
        assert_eq!(yuan(8888), "88.88");
        assert_eq!(yuan(10), "0.10");
        assert_eq!(parse_yuan("88.88"), Some(8888));
        assert_eq!(parse_yuan("0.1"), Some(10));
        assert_eq!(parse_yuan("12"), Some(1200));
        for bad in [
            "0",
            "0.00",
            "1.234",
            "-1",
            "1.",
            ".5",
            "1e3",
            "",
            "100000000.01",
        ] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
    }
}
