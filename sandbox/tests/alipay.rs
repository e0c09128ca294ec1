//! Alipay 当面付 against the sandbox gateway, with a client written from the spec.
mod common;
use common::{listener, start, unique};
use sandbox::Faults;

fn biz(no: &str, amount: &str) -> String {
    serde_json::json!({ "out_trade_no": no, "total_amount": amount, "subject": "测试商品", "qr_code_timeout_express": "5m" }).to_string()
}

#[tokio::test]
async fn no_trade_before_the_scan_then_paid_with_a_signed_notification() {
    let s = start(Faults::default()).await;
    let mut merchant = listener(1, (200, "fail"), (200, "success")).await;
    let no = unique("ali");
    let created = s
        .alipay(
            "alipay.trade.precreate",
            &biz(&no, "88.88"),
            Some(&merchant.url),
        )
        .await;
    assert!(
        created.body.contains(r#"http:\/\/"#),
        "slashes escaped as Alipay does: {}",
        created.body
    );
    let answer = s.alipay_response(&created, "alipay_trade_precreate_response");
    assert_eq!(answer["code"], "10000");
    assert_eq!(
        answer["qr_code"].as_str().unwrap(),
        format!("{}/sandbox/pay/alipay/{no}", s.base)
    );

    let query = format!(r#"{{"out_trade_no":"{no}"}}"#);
    let before = s.alipay("alipay.trade.query", &query, None).await;
    let before = s.alipay_response(&before, "alipay_trade_query_response");
    assert_eq!(
        (before["code"].as_str(), before["sub_code"].as_str()),
        (Some("40004"), Some("ACQ.TRADE_NOT_EXIST"))
    );
    let close_before = s.alipay("alipay.trade.close", &query, None).await;
    assert_eq!(
        s.alipay_response(&close_before, "alipay_trade_close_response")["sub_code"],
        "ACQ.TRADE_NOT_EXIST"
    );

    let page = s.wallet("alipay", &no, "").await;
    assert!(
        page.body.contains("¥88.88") && page.body.contains("确认支付"),
        "{}",
        page.body
    );
    let scanned = s.alipay("alipay.trade.query", &query, None).await;
    let scanned = s.alipay_response(&scanned, "alipay_trade_query_response");
    assert_eq!(scanned["trade_status"], "WAIT_BUYER_PAY");
    assert!(scanned["trade_no"].as_str().unwrap().starts_with("20"));

    // The wallet's decline changes nothing on Alipay's side.
    assert_eq!(s.wallet("alipay", &no, "/decline").await.status, 303);
    assert_eq!(s.wallet("alipay", &no, "/approve").await.status, 303);
    let (headers, first) = merchant.next().await;
    let (_, resent) = merchant.next().await;
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    let fields: std::collections::BTreeMap<String, String> =
        serde_urlencoded::from_bytes(&first).unwrap();
    let resent: std::collections::BTreeMap<String, String> =
        serde_urlencoded::from_bytes(&resent).unwrap();
    assert_eq!(fields["notify_id"], resent["notify_id"]);
    let content = sandbox::alipay::sign::sign_content(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["sign", "sign_type"],
    );
    let public =
        sandbox::keys::pkcs1_from_spki_pem(&s.credentials.alipay.alipay_public_key_pem).unwrap();
    assert!(sandbox::keys::verify_pkcs1(
        &public,
        content.as_bytes(),
        &fields["sign"]
    ));
    assert_eq!(
        (
            fields["trade_status"].as_str(),
            fields["total_amount"].as_str()
        ),
        ("TRADE_SUCCESS", "88.88")
    );
    assert_eq!(fields["app_id"], s.credentials.alipay.app_id);

    let paid = s.alipay("alipay.trade.query", &query, None).await;
    assert_eq!(
        s.alipay_response(&paid, "alipay_trade_query_response")["trade_status"],
        "TRADE_SUCCESS"
    );
}

#[tokio::test]
async fn the_gateway_refuses_what_alipay_refuses() {
    let s = start(Faults::default()).await;
    let no = unique("ali");
    let bad_amount = s
        .alipay("alipay.trade.precreate", &biz(&no, "1.234"), None)
        .await;
    assert_eq!(
        s.alipay_response(&bad_amount, "alipay_trade_precreate_response")["sub_code"],
        "ACQ.INVALID_PARAMETER"
    );

    // A tampered body: the signature no longer covers what arrives.
    let a = &s.credentials.alipay;
    let url = format!("{}?app_id={}&method=alipay.trade.query&charset=utf-8&sign_type=RSA2&timestamp=2026-01-01%2000:00:00&version=1.0&sign=AAAA", a.gateway, a.app_id);
    let r = s
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("biz_content=%7B%7D")
        .send()
        .await
        .unwrap();
    let r = common::Answer {
        status: r.status(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    };
    let refused = s.alipay_response(&r, "alipay_trade_query_response");
    assert_eq!(
        (refused["code"].as_str(), refused["sub_code"].as_str()),
        (Some("40002"), Some("isv.invalid-signature"))
    );
    assert!(
        refused["sub_msg"].as_str().unwrap().contains("app_id="),
        "{refused}"
    );

    let r = s
        .http
        .post(&a.gateway)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        r.contains(r#""error_response":{"#) && r.contains("isv.missing-method"),
        "{r}"
    );

    s.faults(r#"{"failFirstCalls":1}"#).await;
    let first = s
        .alipay("alipay.trade.precreate", &biz(&no, "1.00"), None)
        .await;
    let first = s.alipay_response(&first, "alipay_trade_precreate_response");
    assert_eq!(
        (first["code"].as_str(), first["sub_code"].as_str()),
        (Some("20000"), Some("aop.ACQ.SYSTEM_ERROR"))
    );
    let retried = s
        .alipay("alipay.trade.precreate", &biz(&no, "1.00"), None)
        .await;
    assert_eq!(
        s.alipay_response(&retried, "alipay_trade_precreate_response")["code"],
        "10000"
    );
}

#[tokio::test]
async fn a_payment_during_the_close_and_forged_answers() {
    let s = start(Faults {
        pay_during_close: true,
        ..Faults::default()
    })
    .await;
    let no = unique("ali");
    s.alipay("alipay.trade.precreate", &biz(&no, "2.50"), None)
        .await;
    let query = format!(r#"{{"out_trade_no":"{no}"}}"#);
    let closed = s.alipay("alipay.trade.close", &query, None).await;
    assert_eq!(
        s.alipay_response(&closed, "alipay_trade_close_response")["code"],
        "10000"
    );
    let paid = s.alipay("alipay.trade.query", &query, None).await;
    assert_eq!(
        s.alipay_response(&paid, "alipay_trade_query_response")["trade_status"],
        "TRADE_SUCCESS"
    );

    s.faults(r#"{"forgedAnswers":true}"#).await;
    let forged = s.alipay("alipay.trade.query", &query, None).await;
    let (object, verified) = s.alipay_response_unverified(&forged, "alipay_trade_query_response");
    assert_eq!((object["code"].as_str(), verified), (Some("10000"), false));
}

#[tokio::test]
async fn closing_a_scanned_trade_closes_it() {
    let s = start(Faults::default()).await;
    let no = unique("ali");
    s.alipay("alipay.trade.precreate", &biz(&no, "3.00"), None)
        .await;
    s.wallet("alipay", &no, "").await;
    let query = format!(r#"{{"out_trade_no":"{no}"}}"#);
    let closed = s.alipay("alipay.trade.close", &query, None).await;
    let closed = s.alipay_response(&closed, "alipay_trade_close_response");
    assert_eq!(closed["code"], "10000");
    assert!(closed["trade_no"].as_str().is_some());
    let state = s.alipay("alipay.trade.query", &query, None).await;
    assert_eq!(
        s.alipay_response(&state, "alipay_trade_query_response")["trade_status"],
        "TRADE_CLOSED"
    );
    assert_eq!(s.wallet("alipay", &no, "/approve").await.status, 409);
}
