//! The providers' side of notifications, for tests that send what WeChat Pay or Alipay would send
//! — or what a forger would. Genuine ones are signed with the sandbox's own keys (WeChat Pay's
//! platform key, Alipay's key and the APIv3 key), read from the sandbox's store, as the provider
//! alone holds them; forged ones with a test key of our own (fixtures/forger.key.pem), which no
//! merchant trusts.
use crate::harness::{on_postgres, TestServer};
use reqwest::StatusCode;
use sandbox::keys::{RsaKey, StoredKey};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What the sandbox's two test merchants share with their provider, and the provider's keys.
pub struct ProviderKeys {
    pub mchid: String,
    pub appid: String,
    pub public_key_id: String,
    pub api_v3_key: String,
    /// WeChat Pay's key: what answers and notifications are signed with.
    pub platform: RsaKey,
    pub app_id: String,
    pub seller_id: String,
    /// Alipay's key (the merchant verifies with its public half, 支付宝公钥).
    pub alipay: RsaKey,
}

fn key(stored: &Value) -> RsaKey {
    RsaKey::load(StoredKey {
        private_pem: stored["private_pem"].as_str().expect("private_pem").into(),
        public_pem: stored["public_pem"].as_str().expect("public_pem").into(),
    })
    .expect("a stored sandbox key")
}

fn text(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// The keys of the sandbox mounted in `server`, from its store (`…/scanpay-sandbox.db` beside the
/// merchant's SQLite file; schema `scanpay_sandbox` on PostgreSQL).
pub async fn provider_keys(server: &TestServer) -> ProviderKeys {
    use sqlx::{Connection, Row};
    let stored = if on_postgres() {
        let mut conn = sqlx::PgConnection::connect(&server.database_url)
            .await
            .expect("PostgreSQL");
        let body: String = sqlx::query("SELECT body FROM scanpay_sandbox.merchants WHERE id = 1")
            .fetch_one(&mut conn)
            .await
            .expect("the sandbox's merchants")
            .get(0);
        serde_json::from_str(&body).expect("stored merchants")
    } else {
        stored_merchants(
            &server
                .database_url
                .replace("scanpay.db", "scanpay-sandbox.db"),
        )
        .await
    };
    keys_of(&stored)
}

/// The merchants a sandbox keeps in its SQLite store at `url`, as stored (JSON).
pub async fn stored_merchants(url: &str) -> Value {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("the sandbox's SQLite store");
    let body: String = sqlx::query("SELECT body FROM merchants WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("the sandbox's merchants")
        .get(0);
    serde_json::from_str(&body).expect("stored merchants")
}

fn keys_of(stored: &Value) -> ProviderKeys {
    let (w, a) = (&stored["wechatpay"], &stored["alipay"]);
    ProviderKeys {
        mchid: text(&w["mchid"]),
        appid: text(&w["appid"]),
        public_key_id: text(&w["public_key_id"]),
        api_v3_key: text(&w["api_v3_key"]),
        platform: key(&w["platform_key"]),
        app_id: text(&a["app_id"]),
        seller_id: text(&a["seller_id"]),
        alipay: key(&a["alipay_key"]),
    }
}

/// The tests' own key: signs forgeries.
pub fn forger() -> RsaKey {
    RsaKey::load(StoredKey {
        private_pem: include_str!("fixtures/forger.key.pem").into(),
        public_pem: include_str!("fixtures/forger.pub.pem").into(),
    })
    .expect("fixtures/forger.key.pem")
}

pub fn now_secs() -> i64 {
    payments::clock::now_ms() / 1000
}

// ---- WeChat Pay ----

/// A paid Transaction, as WeChat Pay encrypts it into a notification.
pub fn wechat_transaction(keys: &ProviderKeys, payment_id: &str, amount_fen: i64) -> Value {
    json!({
        "appid": keys.appid,
        "mchid": keys.mchid,
        "out_trade_no": payment_id,
        "transaction_id": "4200000000000000000000000001",
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        // Now, rounded up to the second (RFC 3339 here has whole seconds).
        "success_time": sandbox::clock::rfc3339(payments::clock::now_ms() + 999),
        "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
        "amount": { "total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY" },
    })
}

/// The notification body: `transaction` encrypted with the APIv3 key.
pub fn wechat_body(keys: &ProviderKeys, event_id: &str, transaction: &Value) -> String {
    let nonce = "abcdefghijkl";
    let ciphertext = sandbox::keys::aes_gcm_encrypt(
        &keys.api_v3_key,
        nonce,
        "transaction",
        transaction.to_string().as_bytes(),
    )
    .expect("AES-256-GCM");
    json!({
        "id": event_id,
        "create_time": "2026-01-02T10:34:57+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": "transaction",
            "nonce": nonce,
        }
    })
    .to_string()
}

/// The `Wechatpay-*` headers of `body` signed by `signer` at `timestamp`, naming key `serial`.
pub fn wechat_headers(
    signer: &RsaKey,
    serial: &str,
    timestamp: i64,
    body: &str,
) -> Vec<(String, String)> {
    let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
    let message = format!("{timestamp}\n{nonce}\n{body}\n");
    vec![
        ("Wechatpay-Timestamp".into(), timestamp.to_string()),
        ("Wechatpay-Nonce".into(), nonce.into()),
        (
            "Wechatpay-Signature".into(),
            signer.sign(message.as_bytes()),
        ),
        ("Wechatpay-Serial".into(), serial.into()),
        (
            "Wechatpay-Signature-Type".into(),
            "WECHATPAY2-SHA256-RSA2048".into(),
        ),
    ]
}

/// A signature probe: WeChat Pay checks that merchants really verify.
pub fn probe_signature() -> String {
    format!(
        "WECHATPAY/SIGNTEST/{}",
        "QUJDREVGR0hJSktMTU5PUA==".repeat(8)
    )
}

/// POSTs to `/api/pay/notify/wechatpay`; the status and the JSON answer (if any).
pub async fn post_wechat(
    server: &TestServer,
    headers: &[(String, String)],
    body: &str,
) -> (StatusCode, Value) {
    let mut request = server
        .client
        .post(server.url("/api/pay/notify/wechatpay"))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let r = request.send().await.expect("notify");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

// ---- Alipay ----

/// A TRADE_SUCCESS notification's fields, unsigned.
pub fn alipay_fields(
    keys: &ProviderKeys,
    payment_id: &str,
    total_amount: &str,
    notify_id: &str,
) -> BTreeMap<String, String> {
    [
        ("notify_time", "2026-01-02 10:34:57"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", notify_id),
        ("app_id", &keys.app_id),
        ("auth_app_id", &keys.app_id),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("sign_type", "RSA2"),
        ("trade_no", "2026010222001400000000000001"),
        ("out_trade_no", payment_id),
        ("buyer_id", "2088102177846875"),
        ("seller_id", &keys.seller_id),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", total_amount),
        ("receipt_amount", total_amount),
        ("buyer_pay_amount", total_amount),
        ("subject", "测试商品"),
        ("gmt_create", "2026-01-02 10:34:50"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([(
        "gmt_payment".to_string(),
        sandbox::clock::alipay_time(payments::clock::now_ms() + 999),
    )])
    .collect()
}

/// `application/x-www-form-urlencoded` as a provider sends it.
pub fn urlencode(fields: &BTreeMap<String, String>) -> String {
    fn encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The fields with `sign` added: RSA2 over the sorted `k=v` pairs without `sign` and
/// `sign_type`, empty values left out.
pub fn alipay_signed(
    signer: &RsaKey,
    mut fields: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let content = fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && *k != "sign" && *k != "sign_type")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    fields.insert("sign".into(), signer.sign(content.as_bytes()));
    fields
}

/// POSTs a form to `/api/pay/notify/alipay`; the status and the body answered.
pub async fn post_alipay(server: &TestServer, body: &str) -> (StatusCode, String) {
    let r = server
        .client
        .post(server.url("/api/pay/notify/alipay"))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body.to_string())
        .send()
        .await
        .expect("notify");
    let status = r.status();
    (status, r.text().await.unwrap_or_default())
}

/// A genuine notification that `payment_id` was paid `amount_fen`, with event id `event_id`,
/// POSTed to the method's notify route: (status, whether it was acknowledged).
pub async fn post_genuine_paid(
    server: &TestServer,
    keys: &ProviderKeys,
    method: &str,
    payment_id: &str,
    amount_fen: i64,
    event_id: &str,
) -> (StatusCode, bool) {
    match method {
        "wechatpay" => {
            let body = wechat_body(
                keys,
                event_id,
                &wechat_transaction(keys, payment_id, amount_fen),
            );
            let headers = wechat_headers(&keys.platform, &keys.public_key_id, now_secs(), &body);
            let (status, _) = post_wechat(server, &headers, &body).await;
            (
                status,
                status == StatusCode::NO_CONTENT || status == StatusCode::OK,
            )
        }
        "alipay" => {
            let yuan = format!("{}.{:02}", amount_fen / 100, amount_fen % 100);
            let fields = alipay_fields(keys, payment_id, &yuan, event_id);
            let body = urlencode(&alipay_signed(&keys.alipay, fields));
            let (status, answer) = post_alipay(server, &body).await;
            (status, answer == "success")
        }
        other => panic!("method {other}"),
    }
}
