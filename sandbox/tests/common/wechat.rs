//! A WeChat Pay v3 client written from the protocol text.
use super::{answer, Answer, TestSandbox};
use axum::http::HeaderMap;

impl TestSandbox {
    /// A WeChat Pay v3 request signed as a merchant signs it (path as sent, exact body).
    pub async fn wechat(&self, method: &str, path_and_query: &str, body: &str) -> Answer {
        self.wechat_signed_with(method, path_and_query, body, None)
            .await
    }

    pub async fn wechat_signed_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: &str,
        signature: Option<&str>,
    ) -> Answer {
        let w = &self.credentials.wechatpay;
        let url = format!("{}{path_and_query}", w.base_url);
        let sent_path = url.trim_start_matches(&self.base);
        let timestamp = (sandbox::clock::now_ms() / 1000).to_string();
        let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
        let message = sandbox::wechatpay::auth::request_message(
            method,
            sent_path,
            &timestamp,
            nonce,
            body.as_bytes(),
        );
        let signature = match signature {
            Some(s) => s.to_string(),
            None => sandbox::keys::sign_with_pem(&w.merchant_private_key_pem, &message).unwrap(),
        };
        let authorization = format!(
            r#"WECHATPAY2-SHA256-RSA2048 mchid="{}",nonce_str="{nonce}",signature="{signature}",timestamp="{timestamp}",serial_no="{}""#,
            w.mchid, w.merchant_serial_no
        );
        let request = self
            .http
            .request(method.parse().unwrap(), &url)
            .header("authorization", authorization)
            .header("accept", "application/json")
            .header("content-type", "application/json");
        let request = if body.is_empty() {
            request
        } else {
            request.body(body.to_string())
        };
        answer(request.send().await.unwrap()).await
    }

    /// Verifies Wechatpay-* headers over a body with the credentials' WeChat Pay public key.
    pub fn wechat_signature_ok(&self, headers: &HeaderMap, body: &[u8]) -> bool {
        let w = &self.credentials.wechatpay;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        if header("wechatpay-serial") != w.public_key_id {
            return false;
        }
        let timestamp: i64 = header("wechatpay-timestamp").parse().unwrap_or(0);
        if (sandbox::clock::now_ms() / 1000 - timestamp).abs() >= 300 {
            return false;
        }
        let message = sandbox::wechatpay::auth::answer_message(
            &timestamp.to_string(),
            &header("wechatpay-nonce"),
            body,
        );
        let public = sandbox::keys::pkcs1_from_spki_pem(&w.public_key_pem).unwrap();
        sandbox::keys::verify_pkcs1(&public, &message, &header("wechatpay-signature"))
    }

    pub fn create_body(&self, out_trade_no: &str, total: i64, notify_url: &str) -> String {
        let w = &self.credentials.wechatpay;
        serde_json::json!({
            "appid": w.appid, "mchid": w.mchid, "description": "测试商品", "out_trade_no": out_trade_no,
            "notify_url": notify_url, "amount": { "total": total, "currency": "CNY" }
        })
        .to_string()
    }
}
