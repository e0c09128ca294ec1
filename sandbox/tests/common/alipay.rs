//! An Alipay gateway client written from the protocol text.
use super::{answer, Answer, TestSandbox};
use std::collections::BTreeMap;

impl TestSandbox {
    /// string, biz_content in the form body, RSA2 over all of them.
    pub async fn alipay(
        &self,
        method: &str,
        biz_content: &str,
        notify_url: Option<&str>,
    ) -> Answer {
        let a = &self.credentials.alipay;
        let timestamp = sandbox::alipay::alipay_time(sandbox::clock::now_ms());
        let mut params: BTreeMap<&str, &str> = BTreeMap::from([
            ("app_id", a.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp.as_str()),
            ("version", "1.0"),
            ("biz_content", biz_content),
        ]);
        if let Some(url) = notify_url {
            params.insert("notify_url", url);
        }
        let content =
            sandbox::alipay::sign::sign_content(params.iter().map(|(k, v)| (*k, *v)), &["sign"]);
        let sign =
            sandbox::keys::sign_with_pem(&a.app_private_key_pem, content.as_bytes()).unwrap();
        let mut query: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| **k != "biz_content")
            .map(|(k, v)| (*k, *v))
            .collect();
        query.push(("sign", &sign));
        let url = format!(
            "{}?{}",
            a.gateway,
            serde_urlencoded::to_string(&query).unwrap()
        );
        let body = serde_urlencoded::to_string([("biz_content", biz_content)]).unwrap();
        let request = self
            .http
            .post(url)
            .header(
                "content-type",
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(body);
        answer(request.send().await.unwrap()).await
    }

    /// The `…_response` object of an Alipay answer, its signature verified over the raw text.
    pub fn alipay_response(&self, answer: &Answer, key: &str) -> serde_json::Value {
        let (object, verified) = self.alipay_response_unverified(answer, key);
        assert!(verified, "answer signature: {}", answer.body);
        object
    }

    /// The `…_response` object and whether its signature verifies.
    pub fn alipay_response_unverified(
        &self,
        answer: &Answer,
        key: &str,
    ) -> (serde_json::Value, bool) {
        let text = &answer.body;
        let start = text
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("no {key}: {text}"))
            + key.len()
            + 3;
        let object = &text[start..start + matching_brace(&text[start..])];
        let sign = serde_json::from_str::<serde_json::Value>(text).unwrap()["sign"]
            .as_str()
            .unwrap()
            .to_string();
        let public =
            sandbox::keys::pkcs1_from_spki_pem(&self.credentials.alipay.alipay_public_key_pem)
                .unwrap();
        let verified = sandbox::keys::verify_pkcs1(&public, object.as_bytes(), &sign);
        (serde_json::from_str(object).unwrap(), verified)
    }
}

/// The length of the JSON object `text` starts with, through its matching `}`.
fn matching_brace(text: &str) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (false, _, '"') => in_string = true,
            (false, _, '{') => depth += 1,
            (false, _, '}') => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced JSON: {text}")
}
