//! Delivery faults (lost, failing, forged, stale) and API faults (system errors, slow answers).
mod common;
use common::{listener, start, unique, TestSandbox};
use sandbox::Faults;
use std::time::{Duration, Instant};

const NATIVE: &str = "/v3/pay/transactions/native";

async fn paid_wechat_trade(s: &TestSandbox, notify_url: &str) -> String {
    let no = unique("wx");
    let created = s
        .wechat("POST", NATIVE, &s.create_body(&no, 100, notify_url))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(s.wallet("wechatpay", &no, "/approve").await.status, 303);
    no
}

#[tokio::test]
async fn dropped_notifications_never_arrive() {
    let s = start(Faults {
        drop_notifications: true,
        ..Faults::default()
    })
    .await;
    let mut merchant = listener(0, (500, ""), (204, "")).await;
    paid_wechat_trade(&s, &merchant.url).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(merchant.received.try_recv().is_err());
}

#[tokio::test]
async fn the_first_deliveries_fail_before_the_merchant_hears_anything() {
    let s = start(Faults {
        fail_first_deliveries: 2,
        ..Faults::default()
    })
    .await;
    let mut merchant = listener(0, (500, ""), (204, "")).await;
    let started = Instant::now();
    paid_wechat_trade(&s, &merchant.url).await;
    merchant.next().await;
    // Two injected failures, each followed by a 50 ms retry wait.
    assert!(started.elapsed() >= Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(merchant.received.try_recv().is_err(), "acknowledged once");
}

#[tokio::test]
async fn forged_and_stale_notifications_do_not_verify() {
    for faults in [
        r#"{"forgedAnswers":true}"#,
        r#"{"staleTimestamps":true}"#,
        r#"{"wrongSerial":true}"#,
    ] {
        let s = start(Faults::default()).await;
        s.faults(faults).await;
        let mut merchant = listener(0, (500, ""), (204, "")).await;
        paid_wechat_trade(&s, &merchant.url).await;
        let (headers, body) = merchant.next().await;
        assert!(!s.wechat_signature_ok(&headers, &body), "{faults}");
    }
}

#[tokio::test]
async fn system_errors_and_slow_answers() {
    let s = start(Faults {
        system_errors: true,
        ..Faults::default()
    })
    .await;
    let no = unique("wx");
    let failed = s
        .wechat(
            "POST",
            NATIVE,
            &s.create_body(&no, 100, "http://127.0.0.1:9/n"),
        )
        .await;
    assert_eq!(
        (failed.status.as_u16(), failed.json()["code"].as_str()),
        (500, Some("SYSTEM_ERROR"))
    );
    let biz = serde_json::json!({ "out_trade_no": no, "total_amount": "1.00", "subject": "x" });
    let failed = s
        .alipay("alipay.trade.precreate", &biz.to_string(), None)
        .await;
    assert_eq!(
        s.alipay_response(&failed, "alipay_trade_precreate_response")["code"],
        "20000"
    );

    s.faults(r#"{"queryErrors":true,"slowAnswersMs":300}"#)
        .await;
    let started = Instant::now();
    let created = s
        .wechat(
            "POST",
            NATIVE,
            &s.create_body(&no, 100, "http://127.0.0.1:9/n"),
        )
        .await;
    assert_eq!(created.status, 200, "only queries fail");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let mchid = &s.credentials.wechatpay.mchid;
    let query = s
        .wechat(
            "GET",
            &format!("/v3/pay/transactions/out-trade-no/{no}?mchid={mchid}"),
            "",
        )
        .await;
    assert_eq!(query.status, 500);
}
