//! The adapter against a scripted WeChat Pay (own keys, tests/fixtures/own): what it signs,
//! what it believes, when it retries.
use super::*;
use crate::clock::now_ms;
use crate::provider::fake_server::{FakeServer, Reply};
use crate::provider::keys::{RsaSigningKey, RsaVerifyingKey};
use crate::provider::NotificationRejected;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
    };
}

const MCHID: &str = "1900000001";
const APPID: &str = "wx8888888888888888";
const API_V3_KEY: &str = "0123456789abcdef0123456789abcdef";
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0119000000012026";
/// `other.cert.pem`'s serial: answers signed with `other.key.pem` under it verify by certificate.
const CERT_SERIAL: &str = "3A1F00C0FFEE0002";

fn config(base_url: &str) -> WechatPayConfig {
    WechatPayConfig {
        base_url: base_url.into(),
        merchant_serial_no: "5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into(),
        merchant_private_key_pem: Secret::new(fixture!("own/merchant.key.pem").into()),
        api_v3_key: Secret::new(API_V3_KEY.into()),
        public_key: Some(WechatPayPublicKey {
            id: PUBLIC_KEY_ID.into(),
            pem: fixture!("own/platform.pub.pem").into(),
        }),
        platform_certificates_pem: vec![fixture!("own/other.cert.pem").into()],
        notify_url: "https://shop.example/api/pay/notify/wechatpay".into(),
        timeout: Duration::from_secs(1),
        ..WechatPayConfig::new(MCHID, APPID)
    }
}

/// Headers WeChat Pay would send with `body`, signed by `key` under `serial` at `timestamp`.
fn signed_headers(key: &str, serial: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
    let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    let signature = RsaSigningKey::parse(key).unwrap().sign_base64(&message);
    [
        ("Wechatpay-Timestamp", timestamp.to_string()),
        ("Wechatpay-Nonce", nonce.to_string()),
        ("Wechatpay-Signature", signature),
        ("Wechatpay-Serial", serial.to_string()),
        (
            "Wechatpay-Signature-Type",
            "WECHATPAY2-SHA256-RSA2048".to_string(),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect()
}

fn signed(status: u16, body: &str) -> Reply {
    let headers = signed_headers(
        fixture!("own/platform.key.pem"),
        PUBLIC_KEY_ID,
        now_ms() / 1000,
        body.as_bytes(),
    );
    Reply {
        status,
        headers,
        body: body.into(),
        ..Reply::default()
    }
}

fn error(status: u16, code: &str) -> Reply {
    Reply {
        status,
        body: format!(r#"{{"code":"{code}","message":"{code} message"}}"#).into(),
        ..Reply::default()
    }
}

fn trade() -> CreateTrade {
    CreateTrade {
        payment_id: "pay_0001".into(),
        amount_fen: 1299,
        description: "扫".repeat(130),
        expires_at_ms: 1_796_000_000_000,
    }
}

/// The fields of a `WECHATPAY2-SHA256-RSA2048 k="v",…` header.
fn authorization_fields(header: &str) -> std::collections::HashMap<String, String> {
    let params = header
        .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
        .expect("the scheme");
    params
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

#[tokio::test]
async fn create_signs_exactly_the_path_and_body_it_sends() {
    let fake = FakeServer::start(vec![signed(
        200,
        r#"{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}"#,
    )])
    .await;
    let provider = WechatPay::new(config(&format!("{}/sandbox/wechatpay", fake.url))).unwrap();
    assert_eq!(
        provider.create(trade()).await.unwrap(),
        "weixin://wxpay/bizpayurl?pr=abc"
    );

    let [request] = fake.requests().try_into().unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(
        request.target,
        "/sandbox/wechatpay/v3/pay/transactions/native"
    );
    assert_eq!(request.headers["accept"], "application/json");
    assert!(request.headers["user-agent"]
        .to_str()
        .unwrap()
        .starts_with("scanpay/"));
    assert_eq!(request.headers["wechatpay-serial"], PUBLIC_KEY_ID);
    let auth = authorization_fields(request.headers["authorization"].to_str().unwrap());
    assert_eq!(
        (auth["mchid"].as_str(), auth["serial_no"].as_str()),
        (MCHID, "5F1C72E2A8931B72A2E13AF8DEE92471EB397115")
    );
    let body = String::from_utf8(request.body.clone()).unwrap();
    let message = format!(
        "POST\n/sandbox/wechatpay/v3/pay/transactions/native\n{}\n{}\n{body}\n",
        auth["timestamp"], auth["nonce_str"]
    );
    let merchant = RsaVerifyingKey::parse(fixture!("own/merchant.pub.pem")).unwrap();
    assert!(merchant.verify_base64(message.as_bytes(), &auth["signature"]));

    let order: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(order["time_expire"], "2026-11-30T08:53:20+08:00");
    assert_eq!(order["description"].as_str().unwrap().chars().count(), 127);
    assert_eq!(
        order["amount"],
        serde_json::json!({"total": 1299, "currency": "CNY"})
    );
    assert_eq!(
        (order["appid"].as_str(), order["mchid"].as_str()),
        (Some(APPID), Some(MCHID))
    );
    assert_eq!(order["out_trade_no"], "pay_0001");
    assert_eq!(
        order["notify_url"],
        "https://shop.example/api/pay/notify/wechatpay"
    );
}

#[tokio::test]
async fn query_signs_the_query_string_and_maps_the_transaction() {
    let paid = r#"{"appid":"wx8888888888888888","mchid":"1900000001","out_trade_no":"pay_0001","transaction_id":"4200000001","trade_state":"SUCCESS","trade_state_desc":"支付成功","success_time":"2026-11-30T08:50:00+08:00","amount":{"total":1299,"currency":"CNY"}}"#;
    let declined = r#"{"out_trade_no":"pay_0001","trade_state":"PAYERROR","trade_state_desc":"用户拒绝支付","amount":{"total":1299}}"#;
    let fake = FakeServer::start(vec![signed(200, paid), signed(200, declined)]).await;
    let provider = WechatPay::new(config(&fake.url)).unwrap();
    let status = provider.query("pay_0001").await.unwrap();
    assert_eq!(
        status,
        TradeStatus {
            payment_id: "pay_0001".into(),
            trade_state: TradeState::Success,
            amount_fen: 1299,
            transaction_id: Some("4200000001".into()),
            paid_at_ms: Some(1_795_999_800_000),
            failure_reason: None,
        }
    );
    let status = provider.query("pay_0001").await.unwrap();
    assert_eq!(
        (status.trade_state, status.failure_reason.as_deref()),
        (TradeState::PayError, Some("用户拒绝支付"))
    );

    let request = &fake.requests()[0];
    assert_eq!(
        request.target,
        "/v3/pay/transactions/out-trade-no/pay_0001?mchid=1900000001"
    );
    let auth = authorization_fields(request.headers["authorization"].to_str().unwrap());
    let message = format!(
        "GET\n{}\n{}\n{}\n\n",
        request.target, auth["timestamp"], auth["nonce_str"]
    );
    let merchant = RsaVerifyingKey::parse(fixture!("own/merchant.pub.pem")).unwrap();
    assert!(merchant.verify_base64(message.as_bytes(), &auth["signature"]));
}

#[tokio::test]
async fn system_errors_and_5xx_are_retried_with_the_same_body_then_unavailable() {
    let ok = signed(200, r#"{"code_url":"weixin://x"}"#);
    let fake = FakeServer::start(vec![
        error(500, "SYSTEM_ERROR"),
        Reply {
            status: 502,
            ..Reply::default()
        },
        ok,
    ])
    .await;
    let provider = WechatPay::new(config(&fake.url)).unwrap();
    assert_eq!(provider.create(trade()).await.unwrap(), "weixin://x");
    let bodies: Vec<Vec<u8>> = fake.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "the same parameters every time"
    );

    let fake = FakeServer::start(vec![
        error(500, "BANK_ERROR"),
        error(500, "SYSTEM_ERROR"),
        error(500, "SYSTEM_ERROR"),
    ])
    .await;
    let provider = WechatPay::new(config(&fake.url)).unwrap();
    assert!(matches!(
        provider.create(trade()).await,
        Err(ProviderError::Unavailable(_))
    ));
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_slow_provider_times_out_three_times_then_is_unavailable() {
    let slow = Reply {
        delay: Duration::from_millis(600),
        ..signed(200, r#"{"code_url":"weixin://x"}"#)
    };
    let fake = FakeServer::start(vec![slow.clone(), slow.clone(), slow]).await;
    let provider = WechatPay::new(WechatPayConfig {
        timeout: Duration::from_millis(200),
        ..config(&fake.url)
    })
    .unwrap();
    let error = provider.create(trade()).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Unavailable(reason) if reason.contains("timed out")),
        "{error}"
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn error_codes_map_to_provider_errors_and_close_queries_afterwards() {
    let closed = r#"{"out_trade_no":"pay_0001","trade_state":"CLOSED","trade_state_desc":"订单已关闭","amount":{"total":1299}}"#;
    let paid = r#"{"out_trade_no":"pay_0001","trade_state":"SUCCESS","transaction_id":"42","success_time":"2026-11-30T08:50:00+08:00","amount":{"total":1299}}"#;
    let fake = FakeServer::start(vec![
        error(404, "ORDER_NOT_EXIST"),
        signed(204, ""),
        signed(200, paid),
        error(400, "ORDER_CLOSED"),
        signed(200, closed),
        error(403, "OUT_TRADE_NO_USED"),
    ])
    .await;
    let provider = WechatPay::new(config(&fake.url)).unwrap();
    assert_eq!(
        provider.query("pay_0001").await,
        Err(ProviderError::UnknownTrade("pay_0001".into()))
    );
    assert_eq!(
        provider.close("pay_0001").await.unwrap().trade_state,
        TradeState::Success,
        "paid during the close"
    );
    assert_eq!(
        provider.close("pay_0001").await.unwrap().trade_state,
        TradeState::Closed
    );
    assert!(
        matches!(provider.create(trade()).await, Err(ProviderError::Rejected { code, .. }) if code == "OUT_TRADE_NO_USED")
    );
    let close = &fake.requests()[1];
    assert_eq!(
        close.target,
        "/v3/pay/transactions/out-trade-no/pay_0001/close"
    );
    assert_eq!(close.body, br#"{"mchid":"1900000001"}"#);
}

mod notifications;
mod refusals;
