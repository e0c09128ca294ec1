//! Signed provider callbacks: forged, stale, wrong, unknown, duplicated and reordered ones.
use crate::harness::{TestServer, NOTIFY_SECRET};
use payments::signature;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const SOON: Duration = Duration::from_secs(5);

fn now_secs() -> i64 {
    payments::clock::now_ms() / 1000
}

/// A notification as the provider would send it.
fn success_body(payment_id: &str, amount_fen: i64, event_id: &str) -> String {
    json!({
        "eventId": event_id,
        "paymentId": payment_id,
        "tradeState": "SUCCESS",
        "amountFen": amount_fen,
        "transactionId": "4200000000000000001",
        "paidAtMs": payments::clock::now_ms(),
        "failureReason": null,
    })
    .to_string()
}

async fn post_notify(
    server: &TestServer,
    body: &str,
    header: Option<String>,
) -> (StatusCode, Value) {
    let mut request = server
        .client
        .post(server.url("/api/pay/notify"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(header) = header {
        request = request.header(signature::HEADER, header);
    }
    let r = request.send().await.expect("notify");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn transitions(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| !e["newStatus"].is_null())
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_string(),
                e["newStatus"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn untrusted_or_wrong_callbacks_change_nothing() {
    let server = TestServer::start().await;
    let (order, id) = server.pending_payment(12).await;
    let body = success_body(&id, 1200, "evt_forged");
    let now = now_secs();
    let cases = [
        ("no signature", None, StatusCode::UNAUTHORIZED),
        (
            "forged",
            Some(signature::sign(b"not-the-secret", now, body.as_bytes())),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "stale",
            Some(signature::sign(
                NOTIFY_SECRET.as_bytes(),
                now - 301,
                body.as_bytes(),
            )),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "future",
            Some(signature::sign(
                NOTIFY_SECRET.as_bytes(),
                now + 301,
                body.as_bytes(),
            )),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "garbage header",
            Some("t=abc,v1=zz".to_string()),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (what, header, want) in cases {
        let (status, answer) = post_notify(&server, &body, header).await;
        assert_eq!(status, want, "{what}: {answer}");
        assert_eq!(answer["code"], "FAIL", "{what}");
    }
    // Signed by the real secret but for a different amount: refused and logged.
    let wrong_amount = success_body(&id, 1, "evt_wrong_amount");
    let header = signature::sign(NOTIFY_SECRET.as_bytes(), now, wrong_amount.as_bytes());
    let (status, answer) = post_notify(&server, &wrong_amount, Some(header)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // An unknown payment.
    let unknown = success_body("pay_AAAAAAAAAAAAAAAAAAAAAA", 1200, "evt_unknown");
    let header = signature::sign(NOTIFY_SECRET.as_bytes(), now, unknown.as_bytes());
    let (status, _) = post_notify(&server, &unknown, Some(header)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not JSON, correctly signed.
    let header = signature::sign(NOTIFY_SECRET.as_bytes(), now, b"nope");
    let (status, _) = post_notify(&server, "nope", Some(header)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The unverified callbacks made the server ask the provider, which says NOTPAY.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    assert_eq!(server.order(&order).await["status"], "pending");
    let events = server.events(&order, &id).await;
    assert_eq!(transitions(&events), [("api".into(), "pending".into())]);
    assert!(
        events
            .iter()
            .any(|e| e["detail"].as_str().unwrap().contains("amount")),
        "the amount mismatch is logged: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["source"] == "reconcile" && e["detail"] == "provider NOTPAY"),
        "an unverified callback triggers a query: {events:?}"
    );
}

#[tokio::test]
async fn an_unverified_callback_about_a_real_payment_is_confirmed_by_a_query() {
    let server = TestServer::start().await;
    let (order, id) = server.pending_payment(3).await;
    // The provider really has the money, but its callback is lost...
    server
        .set_faults(json!({ "dropNotifications": true }))
        .await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    // ...and a callback arrives that cannot be verified: the query finds the payment.
    let body = success_body(&id, 300, "evt_unsigned");
    let (status, _) = post_notify(&server, &body, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.wait_status(&id, "paid", SOON).await;
    let events = server.events(&order, &id).await;
    assert_eq!(transitions(&events)[1], ("reconcile".into(), "paid".into()));
}

#[tokio::test]
async fn the_same_callback_ten_times_is_one_transition() {
    let server = TestServer::start().await;
    let (order, id) = server.pending_payment(8).await;
    let body = success_body(&id, 800, "evt_repeated");
    let header = signature::sign(NOTIFY_SECRET.as_bytes(), now_secs(), body.as_bytes());
    let answers = futures::future::join_all(
        (0..10).map(|_| post_notify(&server, &body, Some(header.clone()))),
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::OK),
        "{answers:?}"
    );
    let events = server.events(&order, &id).await;
    assert_eq!(
        transitions(&events),
        [
            ("api".into(), "pending".into()),
            ("provider".into(), "paid".into())
        ]
    );
    let duplicates = events
        .iter()
        .filter(|e| {
            e["detail"]
                .as_str()
                .unwrap()
                .starts_with("duplicate notification")
        })
        .count();
    assert_eq!(duplicates, 9);
}

#[tokio::test]
async fn the_simulator_duplicating_every_callback_still_pays_once() {
    let server = TestServer::start().await;
    server
        .set_faults(json!({ "duplicateNotifications": 4 }))
        .await;
    let (order, id) = server.pending_payment(8).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    server.wait_status(&id, "paid", SOON).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = server.events(&order, &id).await;
    assert_eq!(transitions(&events).len(), 2, "{events:?}");
}

#[tokio::test]
async fn failed_arriving_after_paid_stays_paid() {
    let server = TestServer::start().await;
    let (order, id) = server.pending_payment(6).await;
    let now = now_secs();
    let paid = success_body(&id, 600, "evt_paid");
    let mut failed: Value = serde_json::from_str(&success_body(&id, 600, "evt_failed")).unwrap();
    failed["tradeState"] = json!("PAYERROR");
    failed["failureReason"] = json!("bank said no");
    let failed = failed.to_string();
    for body in [&paid, &failed] {
        let header = signature::sign(NOTIFY_SECRET.as_bytes(), now, body.as_bytes());
        let (status, answer) = post_notify(&server, body, Some(header)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    assert_eq!(server.payment_status(&id).await["status"], "paid");
    assert_eq!(server.order(&order).await["status"], "paid");
}

#[tokio::test]
async fn reordered_and_delayed_callbacks_end_right() {
    let server = TestServer::start().await;
    server
        .set_faults(json!({ "reorderNotifications": true, "delayNotificationsMs": 300 }))
        .await;
    let mut payments = Vec::new();
    for i in 0..6 {
        payments.push(server.pending_payment(10 + i).await);
    }
    for (i, (_, id)) in payments.iter().enumerate() {
        let action = if i % 2 == 0 { "approve" } else { "decline" };
        assert_eq!(server.wallet(id, action).await, StatusCode::OK);
    }
    for (i, (order, id)) in payments.iter().enumerate() {
        let want = if i % 2 == 0 { "paid" } else { "failed" };
        server.wait_status(id, want, SOON).await;
        let order_status = server.order(order).await["status"].clone();
        assert_eq!(order_status, if i % 2 == 0 { "paid" } else { "pending" });
    }
}

#[tokio::test]
async fn a_callback_that_fails_is_retried_until_acknowledged() {
    let server = TestServer::start().await;
    server.set_faults(json!({ "failFirstDeliveries": 3 })).await;
    let (order, id) = server.pending_payment(4).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    // Retries after 0.2 s, 0.2 s and 0.5 s (the test schedule); reconciliation is 10 s away.
    server.wait_status(&id, "paid", SOON).await;
    let events = server.events(&order, &id).await;
    assert_eq!(transitions(&events)[1], ("provider".into(), "paid".into()));
}

#[tokio::test]
async fn approvals_in_flight_survive_kill_9() {
    // A callback the dead process had claimed waits out its delivery lease; reconciliation
    // (every second here) finds the payment first.
    let mut server = TestServer::start_with(crate::harness::Options {
        reconcile: "1,1,1,1",
        ..Default::default()
    })
    .await;
    let mut payments = Vec::new();
    for i in 0..20 {
        payments.push(server.pending_payment(20 + i).await);
    }
    // Approve half, and crash the merchant without waiting for the callbacks.
    let approvals = futures::future::join_all(
        payments
            .iter()
            .take(10)
            .map(|(_, id)| server.wallet(id, "approve")),
    )
    .await;
    assert!(approvals.iter().all(|s| *s == StatusCode::OK));
    server.crash_and_restart().await;
    for (i, (order, id)) in payments.iter().enumerate() {
        if i < 10 {
            server.wait_status(id, "paid", SOON).await;
            assert_eq!(server.order(order).await["status"], "paid");
        } else {
            assert_eq!(server.payment_status(id).await["status"], "pending");
        }
    }
}
