//! Reconciliation: whatever the callbacks do, asking the provider ends each payment right, on
//! both protocols.
use crate::harness::{transitions, Options, TestServer, METHODS};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn with_every_wechatpay_notification_dropped_reconciliation_ends_each_payment_right() {
    every_callback_dropped("wechatpay").await;
}

#[tokio::test]
async fn with_every_alipay_notification_dropped_reconciliation_ends_each_payment_right() {
    every_callback_dropped("alipay").await;
}

async fn every_callback_dropped(method: &'static str) {
    let server = TestServer::start_with(Options {
        ttl_secs: 6,
        reconcile: "1,2,3",
        reconcile_every_secs: 1,
        faults: r#"{"dropNotifications":true}"#,
        method,
        ..Options::default()
    })
    .await;
    let mut payments = Vec::new();
    for i in 0..9 {
        payments.push(server.pending_payment(30 + i).await);
    }
    for (i, (_, id)) in payments.iter().enumerate() {
        match i % 3 {
            0 => assert_eq!(server.wallet(id, "approve").await, StatusCode::OK),
            1 => assert_eq!(server.wallet(id, "decline").await, StatusCode::OK),
            _ => {}
        }
    }
    for (i, (order, id)) in payments.iter().enumerate() {
        // A declined Alipay trade stays payable: it ends expired, like one never scanned.
        let (want, order_want) = match (i % 3, method) {
            (0, _) => ("paid", "paid"),
            (1, "wechatpay") => ("failed", "pending"),
            _ => ("expired", "pending"),
        };
        server.wait_status(id, want, Duration::from_secs(10)).await;
        // The read path reports a passed deadline at once; the recorded transition follows.
        let source = crate::harness::wait_until(Duration::from_secs(3), || async {
            let events = server.events(order, id).await;
            events
                .iter()
                .find(|e| e["newStatus"] == want)
                .map(|e| e["source"].clone())
        })
        .await;
        let want_source = if want == "expired" {
            "expiry"
        } else {
            "reconcile"
        };
        assert_eq!(source, Some(json!(want_source)), "{method}: payment {i}");
        assert_eq!(server.order(order).await["status"], order_want);
    }
}

#[tokio::test]
async fn a_wechatpay_payment_made_during_the_close_at_the_deadline_is_paid_late_never_lost() {
    pay_during_close("wechatpay").await;
}

#[tokio::test]
async fn an_alipay_payment_made_during_the_close_at_the_deadline_is_paid_late_never_lost() {
    pay_during_close("alipay").await;
}

async fn pay_during_close(method: &'static str) {
    // The close is answered OK while the money lands; the provider's SUCCESS notification is
    // lost, and reconciliation (10 s away, past the deadline) never runs: only the query after
    // the close can find the money.
    let server = TestServer::start_with(Options {
        ttl_secs: 2,
        faults: r#"{"payDuringClose":true,"dropNotifications":true}"#,
        method,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(5).await;
    let paid = crate::harness::wait_until(Duration::from_secs(8), || async {
        let s = server.payment_status(&id).await;
        (s["status"] == "paid").then_some(s)
    })
    .await;
    let Some(paid) = paid else {
        let events = server.events(&order, &id).await;
        panic!("{method}: never paid: {events:#?}");
    };
    // The providers' payment times have whole seconds (truncated): a payment that raced the
    // deadline may read as up to two seconds before it, and as on time.
    let (paid_at, deadline) = (
        paid["paidAt"].as_i64().unwrap(),
        paid["expiresAt"].as_i64().unwrap(),
    );
    assert!(paid_at > deadline - 2000, "{method}: {paid}");
    let o = server.order(&order).await;
    assert_eq!(o["status"], "paid");
    assert_eq!(o["payments"][0]["paidLate"], paid_at >= deadline, "{o:#}");
    assert_eq!(o["payments"][0]["needsRefund"], false);
    let events = server.events(&order, &id).await;
    assert_eq!(
        transitions(&events),
        [
            ("api".to_string(), "pending".to_string()),
            ("expiry".to_string(), "paid".to_string())
        ],
        "{method}: paid by the query after the close, never expired first: {events:?}"
    );
}

#[tokio::test]
async fn provider_query_errors_leave_payments_pending_until_the_provider_answers() {
    for method in METHODS {
        query_errors(method).await;
    }
}

async fn query_errors(method: &'static str) {
    let server = TestServer::start_with(Options {
        reconcile: "1",
        reconcile_every_secs: 1,
        faults: r#"{"dropNotifications":true,"queryErrors":true}"#,
        method,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(2).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    server
        .set_faults(json!({ "dropNotifications": true }))
        .await;
    server
        .wait_status(&id, "paid", Duration::from_secs(5))
        .await;
    assert_eq!(server.order(&order).await["status"], "paid");
    let events = server.events(&order, &id).await;
    assert_eq!(
        transitions(&events)[1],
        ("reconcile".into(), "paid".into()),
        "{method}"
    );
}

#[tokio::test]
async fn a_declining_bank_fails_a_wechatpay_payment_with_its_reason() {
    // PAYERROR is learned by the query 1 s after creation (Native notifies success only).
    let server = TestServer::start_with(Options {
        faults: r#"{"declineAll":true}"#,
        reconcile: "1",
        reconcile_every_secs: 1,
        method: "wechatpay",
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(2).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    let failed = server
        .wait_status(&id, "failed", Duration::from_secs(5))
        .await;
    assert_eq!(failed["failureReason"], "银行卡余额不足");
    assert_eq!(failed["failure"], "insufficient_balance");
    assert_eq!(server.order(&order).await["status"], "pending");
}

#[tokio::test]
async fn a_declining_bank_leaves_an_alipay_payment_payable() {
    let server = TestServer::start_with(Options {
        faults: r#"{"declineAll":true}"#,
        reconcile: "1",
        reconcile_every_secs: 1,
        method: "alipay",
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(2).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    crate::harness::wait_until(Duration::from_secs(5), || async {
        let events = server.events(&order, &id).await;
        events
            .iter()
            .any(|e| e["source"] == "reconcile" && e["detail"] == "provider NOTPAY")
            .then_some(())
    })
    .await
    .expect("a query found the refused trade unpaid");
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    // The bank is back: the same QR pays.
    server.set_faults(json!({})).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    server
        .wait_status(&id, "paid", Duration::from_secs(5))
        .await;
    assert_eq!(server.order(&order).await["status"], "paid");
}

#[tokio::test]
async fn an_unknown_fault_is_refused() {
    let server = TestServer::start().await;
    let r = server
        .client
        .put(server.url("/sandbox/faults"))
        .json(&json!({ "setFire": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
