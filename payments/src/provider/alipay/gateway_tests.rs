//! The Alipay adapter against a scripted gateway with keys of our own (tests/fixtures/own):
//! what it signs and sends, what it believes, when it retries.
use super::*;
use crate::provider::fake_server::{FakeServer, Reply};
use crate::provider::keys::{RsaSigningKey, RsaVerifyingKey};
use std::collections::BTreeMap;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
    };
}

const APP_ID: &str = "2021000000000001";

fn alipay(gateway: &str) -> Alipay {
    Alipay::new(AlipayConfig {
        gateway: format!("{gateway}/sandbox/alipay/gateway.do"),
        app_private_key: Secret::new(fixture!("own/alipay_app.pkcs1.pem").into()),
        alipay_public_key: fixture!("own/alipay_gateway.pub.pem").into(),
        notify_url: "http://127.0.0.1:3000/api/pay/notify/alipay".into(),
        timeout: Duration::from_secs(1),
        ..AlipayConfig::new(APP_ID)
    })
    .unwrap()
}

/// An answer to `method` as the gateway sends it, `response` signed (as written) by `key`.
fn answer_signed_by(key: &str, method: &str, response: &str) -> Reply {
    let sign = RsaSigningKey::parse(key)
        .unwrap()
        .sign_base64(response.as_bytes());
    let body = format!(
        r#"{{"{}_response":{response},"sign":"{sign}"}}"#,
        method.replace('.', "_")
    );
    Reply {
        status: 200,
        body: body.into(),
        ..Reply::default()
    }
}

fn answer(method: &str, response: &str) -> Reply {
    answer_signed_by(fixture!("own/alipay_gateway.key.pem"), method, response)
}

fn trade(expires_in_ms: i64) -> CreateTrade {
    CreateTrade {
        payment_id: "pay_0001".into(),
        amount_fen: 1299,
        description: "scanpay order".into(),
        expires_at_ms: now_ms() + expires_in_ms,
    }
}

/// Every parameter of a recorded request: the query string's and the form body's.
fn params(request: &crate::provider::fake_server::Recorded) -> BTreeMap<String, String> {
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .chain(form_urlencoded::parse(&request.body).into_owned())
        .collect()
}

#[tokio::test]
async fn precreate_signs_every_parameter_and_reads_the_raw_signed_answer() {
    let precreate = r#"{"code":"10000","msg":"Success","out_trade_no":"pay_0001","qr_code":"https:\/\/qr.alipay.com\/bax0001"}"#;
    let fake = FakeServer::start(vec![answer("alipay.trade.precreate", precreate)]).await;
    let qr_code = alipay(&fake.url).create(trade(90_000)).await.unwrap();
    assert_eq!(qr_code, "https://qr.alipay.com/bax0001");

    let [request] = fake.requests().try_into().unwrap();
    assert!(request.target.starts_with("/sandbox/alipay/gateway.do?"));
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded;charset=utf-8"
    );
    assert!(
        String::from_utf8(request.body.clone())
            .unwrap()
            .starts_with("biz_content="),
        "biz_content in the body"
    );
    let mut params = params(&request);
    let sign = params.remove("sign").unwrap();
    for (key, value) in [
        ("app_id", APP_ID),
        ("method", "alipay.trade.precreate"),
        ("format", "JSON"),
        ("charset", "utf-8"),
        ("sign_type", "RSA2"),
        ("version", "1.0"),
        ("notify_url", "http://127.0.0.1:3000/api/pay/notify/alipay"),
    ] {
        assert_eq!(params[key], value, "{key}");
    }
    assert!(gateway::parse_beijing_time(&params["timestamp"])
        .is_some_and(|at| (at - now_ms()).abs() < 5_000));
    let content = sign_content_of(&params);
    let app_key = RsaVerifyingKey::parse(fixture!("own/alipay_app.pub.pem")).unwrap();
    assert!(
        app_key.verify_base64(content.as_bytes(), &sign),
        "signed over {content}"
    );
    let biz: serde_json::Value = serde_json::from_str(&params["biz_content"]).unwrap();
    assert_eq!(
        biz,
        serde_json::json!({"out_trade_no": "pay_0001", "total_amount": "12.99", "subject": "scanpay order",
            "timeout_express": "2m", "qr_code_timeout_express": "2m"})
    );
}

fn sign_content_of(params: &BTreeMap<String, String>) -> String {
    gateway::sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn the_qr_lives_as_long_as_the_payment_in_whole_minutes_rounded_up() {
    assert_eq!(minutes_left(1_000 + 60_000, 1_000), "1m");
    assert_eq!(minutes_left(1_000 + 60_001, 1_000), "2m");
    assert_eq!(minutes_left(1_000 + 15 * 60_000, 1_000), "15m");
    assert_eq!(minutes_left(0, 1_000), "1m", "at least a minute");
}

#[tokio::test]
async fn an_unscanned_trade_is_not_paid_and_closes_as_closed() {
    let not_exist = r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}"#;
    let fake = FakeServer::start(vec![
        answer("alipay.trade.query", not_exist),
        answer("alipay.trade.close", not_exist),
    ])
    .await;
    let provider = alipay(&fake.url);
    let status = provider.query("pay_0001").await.unwrap();
    assert_eq!(
        (status.trade_state, status.amount_fen),
        (TradeState::NotPay, 0)
    );
    assert_eq!(
        provider.close("pay_0001").await.unwrap().trade_state,
        TradeState::Closed
    );
}

#[tokio::test]
async fn close_then_query_catches_a_payment_during_the_close() {
    let paid = r#"{"code":"10000","msg":"Success","trade_no":"2026113022001","out_trade_no":"pay_0001","trade_status":"TRADE_SUCCESS","total_amount":"12.99","send_pay_date":"2026-11-30 08:50:00"}"#;
    let fake = FakeServer::start(vec![
        answer(
            "alipay.trade.close",
            r#"{"code":"10000","msg":"Success","out_trade_no":"pay_0001"}"#,
        ),
        answer("alipay.trade.query", paid),
    ])
    .await;
    let status = alipay(&fake.url).close("pay_0001").await.unwrap();
    assert_eq!(
        status,
        TradeStatus {
            payment_id: "pay_0001".into(),
            trade_state: TradeState::Success,
            amount_fen: 1299,
            transaction_id: Some("2026113022001".into()),
            paid_at_ms: Some(1_795_999_800_000),
            failure_reason: None,
        }
    );
    assert_eq!(params(&fake.requests()[1])["method"], "alipay.trade.query");
}

#[tokio::test]
async fn code_20000_is_retried_with_the_same_biz_content_then_unavailable() {
    let busy = r#"{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"}"#;
    let wait = r#"{"code":"10000","msg":"Success","out_trade_no":"pay_0001","trade_status":"WAIT_BUYER_PAY","total_amount":"12.99"}"#;
    let method = "alipay.trade.query";
    let fake = FakeServer::start(vec![
        answer(method, busy),
        answer(method, busy),
        answer(method, wait),
    ])
    .await;
    let status = alipay(&fake.url).query("pay_0001").await.unwrap();
    assert_eq!(
        (status.trade_state, status.amount_fen),
        (TradeState::NotPay, 1299)
    );
    let biz: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| params(r)["biz_content"].clone())
        .collect();
    assert_eq!(biz, vec![r#"{"out_trade_no":"pay_0001"}"#.to_string(); 3]);

    let fake = FakeServer::start(vec![
        answer(method, busy),
        answer(method, busy),
        answer(method, busy),
    ])
    .await;
    assert!(matches!(
        alipay(&fake.url).query("pay_0001").await,
        Err(ProviderError::Unavailable(_))
    ));
}

#[tokio::test]
async fn answers_not_signed_by_alipay_are_forged_and_refusals_are_rejections() {
    let paid = r#"{"code":"10000","msg":"Success","out_trade_no":"pay_0001","trade_status":"TRADE_SUCCESS","total_amount":"12.99"}"#;
    let forged = answer_signed_by(
        fixture!("own/alipay_app.key.pem"),
        "alipay.trade.query",
        paid,
    );
    let mut tampered = answer("alipay.trade.query", paid);
    tampered.body = String::from_utf8(tampered.body)
        .unwrap()
        .replace("12.99", "0.01")
        .into_bytes();
    let invalid = r#"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}"#;
    let fake = FakeServer::start(vec![
        forged,
        tampered,
        answer("alipay.trade.query", invalid),
    ])
    .await;
    let provider = alipay(&fake.url);
    for case in ["signed with the wrong key", "tampered"] {
        let result = provider.query("pay_0001").await;
        assert!(
            matches!(&result, Err(ProviderError::Unavailable(r)) if r.contains("signature")),
            "{case}: {result:?}"
        );
    }
    let result = provider.query("pay_0001").await;
    assert!(
        matches!(result, Err(ProviderError::Rejected { code, .. }) if code == "isv.invalid-signature")
    );
}

#[test]
fn own_notifications_round_trip_and_configuration_errors_name_the_field() {
    let gateway_key = RsaSigningKey::parse(fixture!("own/alipay_gateway.key.pem")).unwrap();
    let mut fields = vec![
        ("notify_id", "2026113000222"),
        ("app_id", APP_ID),
        ("trade_status", "TRADE_SUCCESS"),
        ("out_trade_no", "pay_0001"),
        ("trade_no", "2026113022001"),
        ("total_amount", "12.99"),
        ("gmt_payment", "2026-11-30 08:50:00"),
        ("buyer_logon_id", ""),
        ("subject", "a+b & c=d"),
    ];
    let content = gateway::sign_content(fields.iter().copied());
    let sign = gateway_key.sign_base64(content.as_bytes());
    fields.extend([("sign", sign.as_str()), ("sign_type", "RSA2")]);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    let notification = alipay("http://127.0.0.1:9")
        .verify_notification(body.as_bytes())
        .unwrap();
    assert_eq!(
        (
            notification.event_id.as_str(),
            notification.trade.amount_fen
        ),
        ("2026113000222", 1299)
    );

    let config = || AlipayConfig {
        app_private_key: Secret::new(fixture!("own/alipay_app.key.pem").into()),
        alipay_public_key: fixture!("own/alipay_gateway.pub.pem").into(),
        notify_url: "https://shop.example/notify".into(),
        ..AlipayConfig::new(APP_ID)
    };
    let field = |config: AlipayConfig| Alipay::new(config).err().map(|e| e.field);
    assert_eq!(field(config()), None);
    assert_eq!(
        field(AlipayConfig {
            gateway: "http://openapi.alipay.com/gateway.do".into(),
            ..config()
        }),
        Some("alipay.gateway")
    );
    assert_eq!(
        field(AlipayConfig {
            alipay_public_key: fixture!("own/alipay_gateway.key.pem").into(),
            ..config()
        }),
        Some("alipay.alipay_public_key")
    );
    assert_eq!(
        field(AlipayConfig {
            app_private_key: Secret::default(),
            ..config()
        }),
        Some("alipay.app_private_key")
    );
    assert_eq!(
        field(AlipayConfig {
            app_id: " ".into(),
            ..config()
        }),
        Some("alipay.app_id")
    );
}
