//! Every transition, through the interfaces a shopper and the provider use, on both protocols.
use crate::harness::{transitions, Options, TestServer, METHODS};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

const SOON: Duration = Duration::from_secs(5);

/// A server whose payments speak `method` unless asked otherwise.
async fn server_for(method: &'static str) -> TestServer {
    TestServer::start_with(Options {
        method,
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn create_payment_answers_like_the_tutorial_and_serves_its_qr() {
    for method in METHODS {
        create_payment_answers_like_the_tutorial(method).await;
    }
}

async fn create_payment_answers_like_the_tutorial(method: &'static str) {
    let server = server_for(method).await;
    let order = server.create_order(json!(1299)).await;
    let p = server.create_payment(&order).await;
    let id = p["paymentId"].as_str().unwrap();
    assert!(id.starts_with("pay_") && id.len() == 26, "{id}");
    assert_eq!(p["amount"], 1299);
    assert_eq!(p["expiresIn"], 300);
    assert_eq!(p["method"], method);
    assert_eq!(p["qrCodeUrl"], format!("/api/pay/{id}/qr.svg"));
    let wallet_url = server.url(&format!("/sandbox/pay/{method}/{id}"));
    assert_eq!(p["codeUrl"], wallet_url.as_str());
    let status = server.payment_status(id).await;
    assert_eq!(status["status"], "pending");
    assert_eq!(status["orderId"], order.as_str());
    assert_eq!(status["amount"], 1299);
    assert_eq!(status["method"], method);
    let o = server.order(&order).await;
    assert_eq!(o["payments"][0]["method"], method);
    assert_eq!(o["payments"][0]["codeUrl"], wallet_url.as_str());
    let qr = server
        .client
        .get(server.url(&format!("/api/pay/{id}/qr.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));
    let wallet = server.client.get(&wallet_url).send().await.unwrap();
    assert_eq!(wallet.status(), StatusCode::OK);
    let html = wallet.text().await.unwrap();
    assert!(
        html.contains("1299.00") && html.contains("确认支付"),
        "{html}"
    );
}

#[tokio::test]
async fn approve_pays_the_payment_and_the_order_once() {
    for method in METHODS {
        approve_pays_once(method).await;
    }
}

async fn approve_pays_once(method: &'static str) {
    let server = server_for(method).await;
    let (order, id) = server.pending_payment(12.99).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    let paid = server.wait_status(&id, "paid", SOON).await;
    assert!(paid["paidAt"].is_i64());
    let o = server.order(&order).await;
    assert_eq!(o["status"], "paid");
    assert_eq!(o["paidByPayment"], id.as_str());
    assert!(o["paidAt"].is_i64());
    // Declining or approving a paid trade is refused, and nothing changes.
    assert_eq!(server.wallet(&id, "decline").await, StatusCode::CONFLICT);
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::CONFLICT);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.payment_status(&id).await["status"], "paid");
    let o = server.order(&order).await;
    assert_eq!(o["payments"][0]["method"], method);
    let events = &o["payments"][0]["events"];
    assert_eq!(
        transitions(events.as_array().unwrap()),
        [
            ("api".to_string(), "pending".to_string()),
            ("provider".to_string(), "paid".to_string())
        ]
    );
}

#[tokio::test]
async fn wechatpay_decline_fails_the_payment_by_query_and_a_retry_can_still_pay() {
    // Native notifies only success: the decline (PAYERROR) is learned by the query 1 s on.
    let server = TestServer::start_with(Options {
        method: "wechatpay",
        reconcile: "1",
        reconcile_every_secs: 1,
        ..Options::default()
    })
    .await;
    let order = server.create_order(json!(5)).await;
    let first = server.create_payment(&order).await["paymentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.wallet(&first, "decline").await, StatusCode::OK);
    let failed = server.wait_status(&first, "failed", SOON).await;
    assert_eq!(failed["failureReason"], "用户拒绝支付");
    assert_eq!(failed["failure"], "declined_by_payer");
    assert_eq!(server.order(&order).await["status"], "pending");
    let events = server.events(&order, &first).await;
    assert_eq!(
        transitions(&events),
        [
            ("api".to_string(), "pending".to_string()),
            ("reconcile".to_string(), "failed".to_string())
        ]
    );
    let second = server.create_payment(&order).await["paymentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.wallet(&second, "approve").await, StatusCode::OK);
    server.wait_status(&second, "paid", SOON).await;
    assert_eq!(server.payment_status(&first).await["status"], "failed");
}

#[tokio::test]
async fn alipay_decline_changes_nothing_and_the_payment_can_still_be_paid() {
    // A wallet's cancel does not fail an Alipay trade: it stays payable until it expires.
    let server = TestServer::start_with(Options {
        method: "alipay",
        reconcile: "1",
        reconcile_every_secs: 1,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(5).await;
    assert_eq!(server.wallet(&id, "decline").await, StatusCode::OK);
    // Past two queries, which find the trade unpaid (WAIT_BUYER_PAY).
    crate::harness::wait_until(SOON, || async {
        let events = server.events(&order, &id).await;
        (events
            .iter()
            .filter(|e| e["source"] == "reconcile" && e["detail"] == "provider NOTPAY")
            .count()
            >= 2)
            .then_some(())
    })
    .await
    .expect("reconciliation queried the declined trade twice");
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    assert_eq!(
        transitions(&server.events(&order, &id).await),
        [("api".to_string(), "pending".to_string())]
    );
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    server.wait_status(&id, "paid", SOON).await;
    assert_eq!(server.order(&order).await["status"], "paid");
}

#[tokio::test]
async fn a_payment_with_the_other_app_closes_the_previous_one_everywhere() {
    for method in METHODS {
        a_new_payment_closes_the_previous_one(method).await;
    }
}

async fn a_new_payment_closes_the_previous_one(method: &'static str) {
    let server = server_for(method).await;
    let order = server.create_order(json!(10)).await;
    let first = server.create_payment(&order).await["paymentId"]
        .as_str()
        .unwrap()
        .to_string();
    // Scanned, so that an Alipay trade exists to be closed (an unscanned QR is bounded by its
    // qr_code_timeout_express instead).
    assert_eq!(server.scan(&first).await, StatusCode::OK);
    // Asked again for the same app, the order's pending payment is the answer: a second
    // request never closes the QR a shopper may be scanning.
    assert_eq!(
        server.create_payment(&order).await["paymentId"],
        first.as_str()
    );
    // The other app (the shopper switched) replaces it.
    let other = if method == "wechatpay" {
        "alipay"
    } else {
        "wechatpay"
    };
    let second = server.create_payment_with(&order, other).await["paymentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.payment_status(&first).await["status"], "closed");
    assert_eq!(server.payment_status(&second).await["status"], "pending");
    // Closed at the provider too: the old QR can no longer take money.
    assert_eq!(server.wallet(&first, "approve").await, StatusCode::CONFLICT);
    assert_eq!(server.wallet(&second, "approve").await, StatusCode::OK);
    server.wait_status(&second, "paid", SOON).await;
    assert_eq!(server.payment_status(&first).await["status"], "closed");
}

#[tokio::test]
async fn expiry_is_enforced_by_the_server_and_closes_the_trade() {
    for method in METHODS {
        expiry_closes_the_trade(method).await;
    }
}

async fn expiry_closes_the_trade(method: &'static str) {
    let server = TestServer::start_with(Options {
        ttl_secs: 2,
        method,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(3).await;
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    // Scanned: the trade exists at the provider (Alipay), so the close has something to close.
    assert_eq!(server.scan(&id).await, StatusCode::OK);
    server.wait_status(&id, "expired", SOON).await;
    // The sweeper closes the trade at the provider: approving now is refused.
    crate::harness::wait_until(SOON, || async {
        let o = server.order(&order).await;
        let sources: Vec<_> = o["payments"][0]["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["newStatus"] == "expired")
            .map(|e| e["source"].clone())
            .collect();
        (sources == [json!("expiry")]).then_some(())
    })
    .await
    .expect("expiry recorded by the sweeper");
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::CONFLICT);
    assert_eq!(server.payment_status(&id).await["status"], "expired");
    assert_eq!(server.order(&order).await["status"], "pending");
}

#[tokio::test]
async fn money_after_the_deadline_is_recorded_as_paid_late_never_lost() {
    for method in METHODS {
        paid_late(method).await;
    }
}

async fn paid_late(method: &'static str) {
    // A slow sweeper leaves the trade open past the deadline, as a provider race would.
    let server = TestServer::start_with(Options {
        ttl_secs: 2,
        sweep_ms: 60_000,
        method,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(7).await;
    // Read-path check: past the deadline the status reads expired before any sweep.
    server.wait_status(&id, "expired", SOON).await;
    match method {
        // WeChat Pay closes the trade at time_expire itself: money that landed at the last
        // moment is reported by a notification arriving after the deadline.
        "wechatpay" => {
            let keys = crate::provider_side::provider_keys(&server).await;
            let (status, acknowledged) = crate::provider_side::post_genuine_paid(
                &server, &keys, method, &id, 700, "EV-late",
            )
            .await;
            assert!(acknowledged, "{status}");
        }
        // An Alipay QR lives whole minutes (qr_code_timeout_express): the shopper still pays,
        // here a second after the deadline (gmt_payment has whole seconds).
        _ => {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK)
        }
    }
    server.wait_status(&id, "paid", SOON).await;
    let o = server.order(&order).await;
    assert_eq!(o["status"], "paid");
    assert_eq!(o["payments"][0]["paidLate"], true, "{o:#}");
    assert_eq!(o["payments"][0]["needsRefund"], false, "{o:#}");
}

#[tokio::test]
async fn demo_autopay_pays_by_itself() {
    for method in METHODS {
        autopay(method).await;
    }
}

async fn autopay(method: &'static str) {
    let server = TestServer::start_with(Options {
        autopay: "1..2",
        method,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(1).await;
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    server
        .wait_status(&id, "paid", Duration::from_secs(8))
        .await;
    assert_eq!(server.order(&order).await["status"], "paid");
}

#[tokio::test]
async fn an_order_without_a_description_is_worded_by_each_reader() {
    let server = server_for("wechatpay").await;
    let (status, body) = server
        .post("/api/orders", json!({ "totalAmount": 3 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The merchant's API says what the merchant gave: nothing.
    assert_eq!(
        body["data"]["description"],
        serde_json::Value::Null,
        "{body}"
    );
    let order = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        server.order(&order).await["description"],
        serde_json::Value::Null
    );
    // The page words it in the shopper's language.
    for (accept, default) in [("en-US", "Scan-to-pay order"), ("zh-CN", "扫码支付订单")] {
        let page = server
            .client
            .get(server.url(&format!("/orders/{order}")))
            .header("accept-language", accept)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(default), "{accept}: {page}");
    }
    // The provider requires a subject: the adapter's default is what its wallet shows.
    let payment = server.create_payment(&order).await;
    let wallet = server
        .client
        .get(
            server
                .code_url(payment["paymentId"].as_str().unwrap())
                .await,
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        wallet.contains(payments::provider::DEFAULT_TRADE_DESCRIPTION),
        "{wallet}"
    );
}
