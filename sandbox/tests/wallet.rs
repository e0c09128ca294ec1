//! The wallet page (the scan), expiry, demo auto-pay and the bank's refusals.
mod common;
use common::{listener, start, start_with, unique, TestSandbox};
use sandbox::Faults;

const NATIVE: &str = "/v3/pay/transactions/native";

async fn wechat_trade(s: &TestSandbox, notify_url: &str) -> String {
    let no = unique("wx");
    let created = s
        .wechat("POST", NATIVE, &s.create_body(&no, 500, notify_url))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    no
}

async fn wechat_state(s: &TestSandbox, no: &str) -> serde_json::Value {
    let mchid = &s.credentials.wechatpay.mchid;
    let path = format!("/v3/pay/transactions/out-trade-no/{no}?mchid={mchid}");
    s.wechat("GET", &path, "").await.json()
}

#[tokio::test]
async fn the_page_speaks_the_language_it_was_opened_in() {
    let s = start(Faults::default()).await;
    let no = wechat_trade(&s, "http://127.0.0.1:9/n").await;
    let zh = s.wallet("wechatpay", &no, "").await;
    assert!(
        zh.body.contains("确认支付") && zh.body.contains("拒绝") && zh.body.contains("测试商户")
    );
    assert!(zh.body.contains(r#"role="status""#) && zh.body.contains("focus-visible"));
    let url = format!("{}/sandbox/pay/wechatpay/{no}", s.base);
    let en = s
        .http
        .get(&url)
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    let en = en.text().await.unwrap();
    assert!(
        en.contains("Confirm payment") && en.contains("Decline") && !en.contains("确认支付"),
        "{en}"
    );
    let en_query = s
        .http
        .get(format!("{url}?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en_query.contains(r#"name="lang" value="en""#),
        "the buttons keep the language"
    );
    let declined = s
        .http
        .post(format!("{url}/decline"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 303);
    assert_eq!(
        declined.headers()["location"],
        format!("/sandbox/pay/wechatpay/{no}?lang=en")
    );
    let after = s
        .http
        .get(format!("{url}?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        after.contains("Payment failed") && !after.contains("Confirm payment"),
        "{after}"
    );
    assert_eq!(s.wallet("wechatpay", "nosuchtrade", "").await.status, 404);
}

#[tokio::test]
async fn a_trade_past_its_time_expire_reads_closed_and_cannot_be_paid() {
    let s = start(Faults::default()).await;
    let no = unique("wx");
    let mut body: serde_json::Value =
        serde_json::from_str(&s.create_body(&no, 100, "http://127.0.0.1:9/n")).unwrap();
    let deadline = sandbox::clock::now_ms() / 1000 * 1000 + 2000;
    body["time_expire"] = sandbox::clock::rfc3339(deadline).into();
    assert_eq!(
        s.wechat("POST", NATIVE, &body.to_string()).await.status,
        200
    );
    assert_eq!(wechat_state(&s, &no).await["trade_state"], "NOTPAY");
    tokio::time::sleep(std::time::Duration::from_millis(
        (deadline - sandbox::clock::now_ms() + 100) as u64,
    ))
    .await;
    assert_eq!(wechat_state(&s, &no).await["trade_state"], "CLOSED");
    let page = s.wallet("wechatpay", &no, "").await;
    assert!(page.body.contains("交易已关闭") && !page.body.contains("确认支付"));
    let refused = s.wallet("wechatpay", &no, "/approve").await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("无法支付"), "{}", refused.body);
}

#[tokio::test]
async fn demo_autopay_pays_both_protocols_by_itself() {
    let s = start_with(|config| config.autopay_secs = Some(0..=0)).await;
    let mut merchant = listener(0, (500, ""), (200, "success")).await;
    let no = wechat_trade(&s, &merchant.url).await;
    let (_, note) = merchant.next().await;
    assert!(String::from_utf8_lossy(&note).contains("TRANSACTION.SUCCESS"));
    assert_eq!(wechat_state(&s, &no).await["trade_state"], "SUCCESS");

    let ali = unique("ali");
    let biz = serde_json::json!({ "out_trade_no": ali, "total_amount": "1.00", "subject": "x" });
    s.alipay(
        "alipay.trade.precreate",
        &biz.to_string(),
        Some(&merchant.url),
    )
    .await;
    let (_, form) = merchant.next().await;
    assert!(String::from_utf8_lossy(&form).contains("TRADE_SUCCESS"));
    let query = format!(r#"{{"out_trade_no":"{ali}"}}"#);
    let paid = s.alipay("alipay.trade.query", &query, None).await;
    assert_eq!(
        s.alipay_response(&paid, "alipay_trade_query_response")["trade_status"],
        "TRADE_SUCCESS"
    );
}

#[tokio::test]
async fn when_the_bank_declines_wechat_fails_and_alipay_stays_payable() {
    let s = start(Faults {
        decline_all: true,
        ..Faults::default()
    })
    .await;
    let no = wechat_trade(&s, "http://127.0.0.1:9/n").await;
    assert_eq!(s.wallet("wechatpay", &no, "/approve").await.status, 303);
    let t = wechat_state(&s, &no).await;
    assert_eq!(
        (t["trade_state"].as_str(), t["trade_state_desc"].as_str()),
        (Some("PAYERROR"), Some("银行卡余额不足"))
    );

    let ali = unique("ali");
    let biz = serde_json::json!({ "out_trade_no": ali, "total_amount": "1.00", "subject": "x" });
    s.alipay("alipay.trade.precreate", &biz.to_string(), None)
        .await;
    let refused = s.wallet("alipay", &ali, "/approve").await;
    assert_eq!(
        refused.headers["location"],
        format!("/sandbox/pay/alipay/{ali}?notice=bank")
    );
    let page = s
        .http
        .get(format!("{}/sandbox/pay/alipay/{ali}?notice=bank", s.base))
        .send()
        .await
        .unwrap();
    let page = common::Answer {
        status: page.status(),
        headers: page.headers().clone(),
        body: page.text().await.unwrap(),
    };
    assert!(
        page.body.contains("银行卡余额不足") && page.body.contains("确认支付"),
        "{}",
        page.body
    );
    let query = format!(r#"{{"out_trade_no":"{ali}"}}"#);
    let still = s.alipay("alipay.trade.query", &query, None).await;
    assert_eq!(
        s.alipay_response(&still, "alipay_trade_query_response")["trade_status"],
        "WAIT_BUYER_PAY"
    );
}

#[tokio::test]
async fn duplicated_notifications_arrive_twice_and_identical() {
    let s = start(Faults {
        duplicate_notifications: 1,
        ..Faults::default()
    })
    .await;
    let mut merchant = listener(0, (500, ""), (204, "")).await;
    let no = wechat_trade(&s, &merchant.url).await;
    s.wallet("wechatpay", &no, "/approve").await;
    let (_, first) = merchant.next().await;
    let (_, second) = merchant.next().await;
    assert_eq!(first, second);
}
