//! Signed provider callbacks: forged, stale, wrong, unknown, duplicated and reordered ones.
use crate::harness::{transitions, TestServer, NOTIFY_SECRET};
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
    crate::harness::wait_until(SOON, || async {
        let events = server.events(&order, &id).await;
        events
            .iter()
            .any(|e| e["source"] == "reconcile" && e["detail"] == "provider NOTPAY")
            .then_some(())
    })
    .await
    .expect("an unverified callback triggers a query");
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
    // The four extra copies really arrive, and event-id dedup (not the state machine) drops them.
    let events = crate::harness::wait_until(SOON, || async {
        let events = server.events(&order, &id).await;
        (duplicates_ignored(&events) >= 4).then_some(events)
    })
    .await
    .expect("the 4 extra copies arrive and are ignored by event id");
    assert_eq!(duplicates_ignored(&events), 4, "{events:?}");
    assert_eq!(transitions(&events).len(), 2, "{events:?}");
    assert_eq!(transitions(&events)[1], ("provider".into(), "paid".into()));
}

/// Events that say a notification with an already-processed event id was ignored.
fn duplicates_ignored(events: &[Value]) -> usize {
    events
        .iter()
        .filter(|e| {
            let detail = e["detail"].as_str().unwrap_or_default();
            detail.starts_with("duplicate notification") && detail.ends_with("ignored")
        })
        .count()
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

/// A signed notification of `trade_state` for the payment.
fn notification(payment_id: &str, amount_fen: i64, event_id: &str, trade_state: &str) -> String {
    let mut body: Value =
        serde_json::from_str(&success_body(payment_id, amount_fen, event_id)).expect("JSON");
    if trade_state != "SUCCESS" {
        body["tradeState"] = json!(trade_state);
        body["transactionId"] = Value::Null;
        body["paidAtMs"] = Value::Null;
        body["failureReason"] = json!("bank said no");
    }
    body.to_string()
}

#[tokio::test]
async fn one_payments_callbacks_in_either_order_end_paid() {
    let server = TestServer::start().await;
    let now = now_secs();
    // Each payment hears PAYERROR and SUCCESS, in one order or the other: money received wins.
    for (first, second) in [("PAYERROR", "SUCCESS"), ("SUCCESS", "PAYERROR")] {
        let (order, id) = server.pending_payment(7).await;
        for (n, state) in [first, second].into_iter().enumerate() {
            let body = notification(&id, 700, &format!("evt_{state}_{n}"), state);
            let header = signature::sign(NOTIFY_SECRET.as_bytes(), now, body.as_bytes());
            let (status, answer) = post_notify(&server, &body, Some(header)).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{first} then {second}: {state}: {answer}"
            );
        }
        let case = format!("{first} then {second}");
        assert_eq!(server.payment_status(&id).await["status"], "paid", "{case}");
        let o = server.order(&order).await;
        assert_eq!(o["status"], "paid", "{case}");
        assert_eq!(o["paidByPayment"], id.as_str(), "{case}");
        let events = server.events(&order, &id).await;
        let want: Vec<(String, String)> = if first == "PAYERROR" {
            vec![
                ("api".into(), "pending".into()),
                ("provider".into(), "failed".into()),
                ("provider".into(), "paid".into()),
            ]
        } else {
            vec![
                ("api".into(), "pending".into()),
                ("provider".into(), "paid".into()),
            ]
        };
        assert_eq!(transitions(&events), want, "{case}: {events:?}");
    }
}

#[tokio::test]
async fn a_callback_that_fails_is_retried_until_acknowledged() {
    let server = TestServer::start().await;
    server.set_faults(json!({ "failFirstDeliveries": 3 })).await;
    let (order, id) = server.pending_payment(4).await;
    let approved_at = std::time::Instant::now();
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    // Retries after 0.2 s, 0.2 s and 0.5 s (the test schedule); reconciliation is 10 s away.
    server.wait_status(&id, "paid", SOON).await;
    let took = approved_at.elapsed();
    // Paid only by the fourth attempt: three refused deliveries and their waits came first.
    assert!(
        took >= Duration::from_millis(900),
        "paid {took:?} after the approval: the failed deliveries were not retried"
    );
    let events = server.events(&order, &id).await;
    assert_eq!(transitions(&events)[1], ("provider".into(), "paid".into()));
}

#[tokio::test]
async fn approvals_in_flight_survive_kill_9() {
    // Every delivery waits 3 s (in both processes: the fault is in the environment), so the
    // approvals' callbacks are still in flight at the SIGKILL. A callback the dead process had
    // claimed waits out its 30-s delivery lease; one it had not claimed goes out 3 s after the
    // restart. Reconciliation (2 s after creation, then every second) finds each payment first.
    // The first query comes after the kill, so no payment is leased by the dead process's
    // reconciler either.
    let mut server = TestServer::start_with(crate::harness::Options {
        reconcile: "2,3,4,5,6,7,8,9",
        faults: r#"{"delayNotificationsMs":3000}"#,
        ..Default::default()
    })
    .await;
    // The ten that stay unpaid first, so the ten approved are as young as can be at the kill.
    let mut payments = Vec::new();
    for i in 0..20 {
        payments.push(server.pending_payment(20 + i).await);
    }
    payments.rotate_left(10);
    // Approve half, and crash the merchant without waiting for the callbacks.
    let approvals = futures::future::join_all(
        payments
            .iter()
            .take(10)
            .map(|(_, id)| server.wallet(id, "approve")),
    )
    .await;
    assert!(approvals.iter().all(|s| *s == StatusCode::OK));
    let approved_at = std::time::Instant::now();
    server.crash_and_restart().await;
    for (i, (order, id)) in payments.iter().enumerate() {
        if i < 10 {
            server.wait_status(id, "paid", SOON).await;
            assert_eq!(server.order(order).await["status"], "paid");
        } else {
            assert_eq!(server.payment_status(id).await["status"], "pending");
        }
    }
    // No callback had landed: each payment was paid once, by a provider query, not a callback.
    let all_paid_after = approved_at.elapsed();
    for (i, (order, id)) in payments.iter().take(10).enumerate() {
        let events = server.events(order, id).await;
        let paid: Vec<_> = transitions(&events)
            .into_iter()
            .filter(|(_, to)| to == "paid")
            .collect();
        eprintln!("payment {i}: {:?}", transitions(&events));
        assert_eq!(
            paid,
            [("reconcile".to_string(), "paid".to_string())],
            "payment {i} (all paid {all_paid_after:?} after the approvals): {events:?}"
        );
    }
}
