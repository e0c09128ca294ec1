//! The providers misbehaving at the protocol level (the sandbox's faults), on both protocols:
//! system errors, failures the adapters' retries absorb, answers slower than the timeout, and
//! answers or notifications that cannot be trusted (stale, unknown serial, probe, forged).
use crate::harness::{transitions, wait_until, Options, TestServer, METHODS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SOON: Duration = Duration::from_secs(5);

async fn server_for(method: &'static str) -> TestServer {
    TestServer::start_with(Options {
        method,
        reconcile: "1",
        reconcile_every_secs: 1,
        ..Options::default()
    })
    .await
}

/// Asks for a payment of a new order and expects 503 provider_unavailable with nothing
/// written; returns the order.
async fn create_is_unavailable(server: &TestServer, why: &str) -> String {
    let order = server.create_order(json!(6)).await;
    let (status, body) = server
        .post("/api/pay/create", json!({ "orderId": order }))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{why}: {body}");
    assert_eq!(body["code"], "provider_unavailable", "{why}: {body}");
    assert!(body["message"].is_string(), "{why}: {body}");
    nothing_written(server, &order, why).await;
    order
}

async fn nothing_written(server: &TestServer, order: &str, why: &str) {
    let o = server.order(order).await;
    assert_eq!(o["status"], "pending", "{why}: {o}");
    assert_eq!(o["payments"], json!([]), "{why}: nothing written: {o}");
}

#[tokio::test]
async fn system_errors_make_create_unavailable_and_write_nothing() {
    for method in METHODS {
        let server = server_for(method).await;
        server.set_faults(json!({ "systemErrors": true })).await;
        let order = create_is_unavailable(&server, method).await;
        // The provider recovers: the same order gets its payment.
        server.set_faults(json!({})).await;
        let p = server.create_payment(&order).await;
        assert_eq!(p["method"], method);
    }
}

#[tokio::test]
async fn failed_first_calls_are_retried_with_the_same_parameters() {
    for method in METHODS {
        let server = server_for(method).await;
        // Two failures: the third attempt (same out_trade_no, same body) succeeds.
        server.set_faults(json!({ "failFirstCalls": 2 })).await;
        let (order, id) = server.pending_payment(6).await;
        server.set_faults(json!({})).await;
        assert_eq!(
            server.wallet(&id, "approve").await,
            StatusCode::OK,
            "{method}"
        );
        server.wait_status(&id, "paid", SOON).await;
        assert_eq!(
            server.order(&order).await["payments"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // Three failures use up the attempts.
        server.set_faults(json!({ "failFirstCalls": 3 })).await;
        create_is_unavailable(&server, &format!("{method}: three failures")).await;
    }
}

#[tokio::test]
async fn answers_slower_than_the_timeout_make_create_unavailable() {
    for method in METHODS {
        let server = server_for(method).await;
        // Past SCANPAY_PROVIDER_TIMEOUT_MS=1000.
        server.set_faults(json!({ "slowAnswersMs": 1500 })).await;
        let started = Instant::now();
        create_is_unavailable(&server, method).await;
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1000) && took < Duration::from_secs(8),
            "{method}: answered after {took:?}"
        );
    }
}

/// With `fault` on, the provider's answers and notifications cannot be trusted: create fails
/// with nothing written, and the notification of a payment made meanwhile is refused. Once the
/// fault is gone (its notification retries dropped), reconciliation pays the payment.
async fn untrusted(method: &'static str, fault: &str) {
    let server = server_for(method).await;
    let (order, id) = server.pending_payment(6).await;
    server.set_faults(json!({ fault: true })).await;
    create_is_unavailable(&server, &format!("{method} {fault}")).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    // The notification went out at once, was refused; the queries' answers are refused too.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        server.payment_status(&id).await["status"],
        "pending",
        "{method} {fault}: an untrusted notification or answer was believed"
    );
    server
        .set_faults(json!({ "dropNotifications": true }))
        .await;
    server.wait_status(&id, "paid", SOON).await;
    let events = server.events(&order, &id).await;
    assert_eq!(
        transitions(&events),
        [
            ("api".into(), "pending".into()),
            ("reconcile".into(), "paid".into())
        ],
        "{method} {fault}: {events:?}"
    );
}

#[tokio::test]
async fn stale_wechatpay_answers_and_notifications_are_not_trusted() {
    untrusted("wechatpay", "staleTimestamps").await;
}

#[tokio::test]
async fn wechatpay_answers_and_notifications_with_an_unknown_serial_are_not_trusted() {
    untrusted("wechatpay", "wrongSerial").await;
}

#[tokio::test]
async fn wechatpay_signature_probes_are_not_trusted() {
    untrusted("wechatpay", "signatureProbe").await;
}

#[tokio::test]
async fn forged_wechatpay_answers_and_notifications_are_not_trusted() {
    untrusted("wechatpay", "forgedAnswers").await;
}

#[tokio::test]
async fn forged_alipay_answers_and_notifications_are_not_trusted() {
    untrusted("alipay", "forgedAnswers").await;
}

#[tokio::test]
async fn the_sandboxs_faults_are_listed_and_unknown_ones_refused() {
    let server = TestServer::start().await;
    server
        .set_faults(json!({ "failFirstDeliveries": 2, "wrongSerial": true }))
        .await;
    let (status, faults) = server.get("/sandbox/faults").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(faults["failFirstDeliveries"], 2, "{faults}");
    assert_eq!(faults["wrongSerial"], true, "{faults}");
    assert_eq!(faults["dropNotifications"], false, "{faults}");
    let unknown = wait_until(SOON, || async {
        let r = server
            .client
            .put(server.url("/sandbox/faults"))
            .json(&json!({ "dropNotification": true }))
            .send()
            .await
            .ok()?;
        Some(r.status())
    })
    .await;
    assert_eq!(unknown, Some(StatusCode::UNPROCESSABLE_ENTITY));
    let (_, faults): (_, Value) = server.get("/sandbox/faults").await;
    assert_eq!(
        faults["wrongSerial"], true,
        "a refused change changes nothing"
    );
}
