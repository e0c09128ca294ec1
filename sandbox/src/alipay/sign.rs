//! Alipay's RSA2 texts: the sorted `k=v&…` string requests and notifications are signed over,
//! and answers whose signature covers the exact `…_response` object text as emitted.
use serde_json::Value;
use std::collections::BTreeMap;

/// Parameters sorted by key (ASCII), empty values and `excluded` keys dropped, joined as
/// `k=v&…` with the raw (un-encoded) values.
pub fn sign_content<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    excluded: &[&str],
) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, v)| !v.is_empty() && !excluded.contains(k))
        .collect();
    sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// JSON as Alipay's gateway writes it: compact, with `/` escaped as `\/`.
pub fn alipay_json(value: &Value) -> String {
    // A '/' can only occur inside JSON strings, where `\/` is a valid escape of it.
    value.to_string().replace('/', "\\/")
}

/// `{"<key>":<object>,"sign":"<sign>"}` exactly: the signature covers `object` as written here.
pub fn answer_text(response_key: &str, object_text: &str, sign: &str) -> String {
    format!("{{\"{response_key}\":{object_text},\"sign\":\"{sign}\"}}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_content_sorts_drops_empty_and_excluded_and_keeps_raw_values() {
        let params = [
            ("sign", "xyz"),
            ("timestamp", "2026-12-02 10:34:56"),
            ("app_id", "2021"),
            ("biz_content", r#"{"out_trade_no":"a&b"}"#),
            ("notify_url", ""),
            ("sign_type", "RSA2"),
        ];
        assert_eq!(
            sign_content(params, &["sign"]),
            r#"app_id=2021&biz_content={"out_trade_no":"a&b"}&sign_type=RSA2&timestamp=2026-12-02 10:34:56"#
        );
        assert_eq!(
            sign_content(params, &["sign", "sign_type"]),
            r#"app_id=2021&biz_content={"out_trade_no":"a&b"}&timestamp=2026-12-02 10:34:56"#
        );
    }

    #[test]
    fn answers_escape_slashes_and_wrap_the_signed_object_verbatim() {
        let object =
            alipay_json(&json!({"code": "10000", "qr_code": "http://h/sandbox/pay/alipay/x"}));
        assert_eq!(
            object,
            r#"{"code":"10000","qr_code":"http:\/\/h\/sandbox\/pay\/alipay\/x"}"#
        );
        let answer = answer_text("alipay_trade_precreate_response", &object, "c2ln");
        assert_eq!(
            answer,
            format!(r#"{{"alipay_trade_precreate_response":{object},"sign":"c2ln"}}"#)
        );
        // What a client extracts (from the key's `{` to its matching `}`) is what was signed.
        let start = answer.find('{').unwrap() + r#"{"alipay_trade_precreate_response":"#.len();
        let end = answer.rfind(r#","sign":"#).unwrap();
        assert_eq!(&answer[start..end], object);
    }
}
