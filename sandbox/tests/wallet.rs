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

async fn get(s: &TestSandbox, path_and_query: &str, accept_language: &str) -> common::Answer {
    let request = s
        .http
        .get(format!("{}{path_and_query}", s.base))
        .header("accept-language", accept_language);
    common::answer(request.send().await.unwrap()).await
}

async fn post(s: &TestSandbox, path: &str, form: &str) -> common::Answer {
    let request = s
        .http
        .post(format!("{}{path}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string());
    common::answer(request.send().await.unwrap()).await
}

/// CJK ideographs and full-width forms.
fn has_cjk(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{3400}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}'))
}

/// The page without the merchant's own words (its name, the description), which keep the
/// language the merchant wrote them in.
fn page_words(body: &str) -> String {
    body.lines()
        .filter(|line| !line.contains("data-merchant-words"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_page_speaks_the_language_it_was_opened_in() {
    let s = start(Faults::default()).await;
    let no = wechat_trade(&s, "http://127.0.0.1:9/n").await;
    let path = format!("/sandbox/pay/wechatpay/{no}");
    let zh = s.wallet("wechatpay", &no, "").await;
    assert!(
        zh.body.contains("确认支付") && zh.body.contains("拒绝") && zh.body.contains("测试商户")
    );
    assert!(zh.body.contains(r#"<html lang="zh-CN">"#), "{}", zh.body);
    assert!(zh.body.contains(r#"role="status""#));
    // The phone's preferred supported language, by q-value.
    for (accept, english) in [
        ("en-US,en;q=0.9", true),
        ("fr-FR,en;q=0.8,zh;q=0.5", true),
        ("zh-CN,zh;q=0.9,en;q=0.8", false),
        ("de-DE", false),
    ] {
        let page = get(&s, &path, accept).await;
        assert_eq!(
            page.body.contains(r#"<html lang="en">"#),
            english,
            "{accept}"
        );
    }
    let en = get(&s, &path, "en-US,en;q=0.9").await;
    assert!(
        en.body.contains("Confirm payment") && en.body.contains("Decline"),
        "{}",
        en.body
    );
    assert!(!has_cjk(&page_words(&en.body)), "{}", en.body);
    // `?lang=` wins over the phone, and the buttons carry it along.
    let en_query = get(&s, &format!("{path}?lang=en"), "zh-CN").await;
    assert!(en_query.body.contains(r#"<html lang="en">"#));
    assert!(
        en_query.body.contains(r#"name="lang" value="en""#),
        "the buttons keep the language"
    );
    let zh_query = get(&s, &format!("{path}?lang=zh-CN"), "en-US").await;
    assert!(zh_query.body.contains(r#"name="lang" value="zh-CN""#));
}

#[tokio::test]
async fn after_the_buttons_the_page_says_what_the_buyer_did_and_offers_no_buttons() {
    let s = start(Faults::default()).await;
    for (lang, declined, paid) in [
        ("en", "You declined this payment", "Payment complete"),
        ("zh-CN", "已拒绝", "支付成功"),
    ] {
        let no = wechat_trade(&s, "http://127.0.0.1:9/n").await;
        let path = format!("/sandbox/pay/wechatpay/{no}");
        let answer = post(&s, &format!("{path}/decline"), &format!("lang={lang}")).await;
        assert_eq!(answer.status, 303);
        assert_eq!(answer.headers["location"], format!("{path}?lang={lang}"));
        let after = get(&s, &format!("{path}?lang={lang}"), "").await;
        assert!(after.body.contains(declined), "{}", after.body);
        assert!(
            !after.body.contains("<button") && !after.body.contains("支付失败"),
            "{}",
            after.body
        );
        if lang == "en" {
            assert!(!has_cjk(&page_words(&after.body)), "{}", after.body);
        }

        let no = wechat_trade(&s, "http://127.0.0.1:9/n").await;
        let path = format!("/sandbox/pay/wechatpay/{no}");
        post(&s, &format!("{path}/approve"), &format!("lang={lang}")).await;
        let after = get(&s, &format!("{path}?lang={lang}"), "").await;
        assert!(after.body.contains(paid), "{}", after.body);
        assert!(!after.body.contains("<button"), "{}", after.body);
    }
    // Alipay: a decline leaves the trade payable; the page says so and keeps the buttons.
    let ali = unique("ali");
    let biz = serde_json::json!({ "out_trade_no": ali, "total_amount": "1.00", "subject": "x" });
    s.alipay("alipay.trade.precreate", &biz.to_string(), None)
        .await;
    let path = format!("/sandbox/pay/alipay/{ali}");
    let declined = post(&s, &format!("{path}/decline"), "lang=en").await;
    assert_eq!(
        declined.headers["location"],
        format!("{path}?lang=en&notice=declined")
    );
    let page = get(&s, &format!("{path}?lang=en&notice=declined"), "").await;
    assert!(
        page.body.contains("You declined this payment") && page.body.contains("Confirm payment"),
        "{}",
        page.body
    );
    assert_eq!(s.wallet("wechatpay", "nosuchtrade", "").await.status, 404);
}

#[tokio::test]
async fn the_page_allows_only_its_own_stylesheet_and_icon() {
    let s = start(Faults::default()).await;
    let no = wechat_trade(&s, "http://127.0.0.1:9/n").await;
    let page = s.wallet("wechatpay", &no, "").await;
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'self'; img-src 'self';"),
        "{policy}"
    );
    assert!(
        !page.body.contains("<style")
            && !page.body.contains("style=")
            && !page.body.contains("<script"),
        "{}",
        page.body
    );
    for (path, content_type) in [
        ("/sandbox/wallet.css", "text/css; charset=utf-8"),
        ("/sandbox/wallet-icon.svg", "image/svg+xml"),
    ] {
        assert!(page.body.contains(&format!(r#"href="{path}""#)), "{path}");
        let file = get(&s, path, "").await;
        assert_eq!(file.status, 200, "{path}");
        assert_eq!(file.headers["content-type"], content_type);
    }
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
        format!("/sandbox/pay/alipay/{ali}?lang=zh-CN&notice=bank")
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
