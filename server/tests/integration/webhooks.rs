//! Webhooks to the shop, end to end: the real server delivers to a receiver on loopback
//! (`webhook_receiver`), which the tests check as a shop would: signature verified with the
//! Standard Webhooks library, one event per change, the same `webhook-id` on every attempt.
use crate::harness::{require_postgres, wait_until, Options, TestServer, METHODS};
use crate::webhook_receiver::{closed_port, url_on, Receiver, SECRET};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

pub const SOON: Duration = Duration::from_secs(10);
/// Worker ticks are 200 ms: anything more that was coming has arrived by then.
pub const SETTLE: Duration = Duration::from_millis(1500);
/// Four attempts in all, over under a second.
pub const SHORT_RETRIES: &str = "0.2,0.2,0.5";

/// A server delivering to `urls` (comma-separated), retrying after `retries`.
pub async fn server_for(urls: &str, retries: &str, options: Options) -> TestServer {
    let mut extra_env = vec![
        ("SCANPAY_WEBHOOK_URLS".to_string(), urls.to_string()),
        ("SCANPAY_WEBHOOK_SECRET".to_string(), SECRET.clone()),
        (
            "SCANPAY_WEBHOOK_RETRY_SECS".to_string(),
            retries.to_string(),
        ),
    ];
    extra_env.extend(options.extra_env);
    TestServer::start_with(Options {
        extra_env,
        ..options
    })
    .await
}

/// Creates an order through the merchant API (`body`: amount, reference…) and pays it through
/// the sandbox wallet: `(order id, payment id)`.
pub async fn paid_merchant_order(server: &TestServer, body: Value) -> (String, String) {
    let (status, created) = server.post("/api/orders", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let order = created["data"]["id"].as_str().unwrap().to_string();
    let payment = server.create_payment(&order).await["paymentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.wallet(&payment, "approve").await, StatusCode::OK);
    server.wait_status(&payment, "paid", SOON).await;
    (order, payment)
}

/// Pays a new order of `yuan` through the sandbox wallet: `(order id, payment id)`.
pub async fn paid_order(server: &TestServer, yuan: u32) -> (String, String) {
    let (order, payment) = server.pending_payment(yuan).await;
    assert_eq!(server.wallet(&payment, "approve").await, StatusCode::OK);
    server.wait_status(&payment, "paid", SOON).await;
    (order, payment)
}

/// What the merchant's list says (`query`: e.g. `?status=failed`).
pub async fn deliveries(server: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = server
        .get(&format!("/api/webhooks/deliveries{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["deliveries"]
        .as_array()
        .expect("deliveries")
        .clone()
}

/// Waits until the only delivery is `status` with at least `attempts` attempts.
async fn delivery_becomes(server: &TestServer, status: &str, attempts: i64) -> Value {
    wait_until(SOON, || async {
        let list = deliveries(server, "").await;
        (list.len() == 1
            && list[0]["status"] == status
            && list[0]["attempts"].as_i64() >= Some(attempts))
        .then(|| list[0].clone())
    })
    .await
    .unwrap_or_else(|| panic!("the delivery never became {status} after {attempts} attempts"))
}

/// A column of the merchant's database, read as the tests' own client.
pub async fn stored(server: &TestServer, sql: &str, id: &str) -> Option<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&server.database_url)
        .await
        .expect("the merchant's database");
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .expect(sql)
}

#[tokio::test]
async fn a_paid_order_is_announced_once_signed_with_its_payment() {
    for method in METHODS {
        let receiver = Receiver::start(&[]).await;
        let options = Options {
            method,
            ..Options::default()
        };
        let server = server_for(&receiver.url, SHORT_RETRIES, options).await;
        // The shop's own reference for the order travels in the event.
        let reference = format!("SO-{method}-88");
        let created = json!({ "totalAmount": 88, "reference": reference });
        let (order, payment) = paid_merchant_order(&server, created).await;
        receiver.wait_for(1, SOON).await;
        tokio::time::sleep(SETTLE).await;
        let received = receiver.received();
        assert_eq!(received.len(), 1, "{method}: {received:?}");
        let id = received[0].id();
        assert!(id.starts_with("msg_") && id.len() == 26, "{id}");
        let event = received[0].verified();
        assert_eq!(event["type"], "order.paid", "{event}");
        let data = &event["data"];
        assert_eq!(data["orderId"], order.as_str());
        assert_eq!(data["paymentId"], payment.as_str());
        assert_eq!(data["method"], method);
        assert_eq!(data["amountFen"], 8800);
        assert_eq!(data["status"], "paid");
        assert_eq!(data["reference"], reference.as_str());
        let transaction = stored(
            &server,
            "SELECT provider_transaction_id FROM payments WHERE id = $1",
            &payment,
        )
        .await;
        assert!(transaction.is_some());
        assert_eq!(
            data["providerTransactionId"].as_str(),
            transaction.as_deref()
        );
        assert!(
            data["paidAt"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{data}"
        );
        assert!(event["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
    }
}

#[tokio::test]
async fn an_endpoint_down_then_up_gets_the_same_event_later() {
    let port = closed_port();
    let server = server_for(&url_on(port), "0.2,0.2,0.5,0.5,1,1,1,1", Options::default()).await;
    paid_order(&server, 5).await;
    // Connections refused: the attempts are counted, the delivery waits for its next one.
    let down = wait_until(SOON, || async {
        let list = deliveries(&server, "").await;
        (list.len() == 1 && list[0]["attempts"].as_i64() >= Some(2)).then(|| list[0].clone())
    })
    .await
    .expect("two refused attempts");
    assert_eq!(down["status"], "pending", "{down}");
    assert!(down["lastStatusCode"].is_null(), "{down}");
    assert!(
        down["lastError"]
            .as_str()
            .is_some_and(|e| e.starts_with("could not connect")),
        "{down}"
    );
    assert!(down["nextAttemptAt"].is_i64(), "{down}");

    let receiver = Receiver::start_on(port, &[]).await;
    let received = receiver.wait_for(1, SOON).await;
    assert_eq!(received[0].id(), down["eventId"].as_str().unwrap());
    assert_eq!(received[0].verified()["type"], "order.paid");
    let delivered = delivery_becomes(&server, "delivered", 3).await;
    assert_eq!(delivered["lastStatusCode"], 200);
    assert!(delivered["lastError"].is_null() && delivered["nextAttemptAt"].is_null());
    assert!(delivered["deliveredAt"].is_i64(), "{delivered}");
    tokio::time::sleep(SETTLE).await;
    assert_eq!(receiver.received().len(), 1, "a 2xx stops the retries");
}

#[tokio::test]
async fn non_2xx_answers_bring_the_same_event_again_until_a_2xx_or_the_schedules_end() {
    // One endpoint refuses three times, then takes it; the other refuses every time.
    let recovers = Receiver::start(&[500, 503, 404]).await;
    let refuses = Receiver::start(&[500; 10]).await;
    let urls = format!("{},{}", recovers.url, refuses.url);
    let server = server_for(&urls, SHORT_RETRIES, Options::default()).await;
    paid_order(&server, 7).await;
    let got = recovers.wait_for(4, SOON).await;
    let refused = refuses.wait_for(4, SOON).await;
    tokio::time::sleep(SETTLE).await;
    for (received, endpoint) in [
        (recovers.received(), "recovers"),
        (refuses.received(), "refuses"),
    ] {
        assert_eq!(received.len(), 4, "{endpoint}: four attempts, then no more");
        for copy in &received {
            assert_eq!(copy.id(), got[0].id(), "one event, one webhook-id");
            assert_eq!(copy.verified(), got[0].json(), "each attempt signed anew");
        }
    }
    assert_eq!(refused[0].id(), got[0].id());
    let list = deliveries(&server, "").await;
    let of = |url: &str| {
        list.iter()
            .find(|d| d["endpointUrl"] == url)
            .cloned()
            .unwrap()
    };
    let done = of(&recovers.url);
    assert_eq!(
        (&done["status"], &done["attempts"], &done["lastStatusCode"]),
        (&json!("delivered"), &json!(4), &json!(200))
    );
    let failed = of(&refuses.url);
    assert_eq!(
        (
            &failed["status"],
            &failed["attempts"],
            &failed["lastStatusCode"]
        ),
        (&json!("failed"), &json!(4), &json!(500))
    );
    assert_eq!(failed["lastError"], "HTTP 500");
    assert!(failed["nextAttemptAt"].is_null(), "{failed}");
    // The operator counts the attempts by outcome (GET /metrics, on the main router here).
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    let metrics = metrics.text().await.unwrap();
    for (outcome, count) in [("delivered", 1), ("retrying", 6), ("gave_up", 1)] {
        let series = format!("scanpay_webhook_deliveries_total{{outcome=\"{outcome}\"}} {count}");
        assert!(
            metrics.lines().any(|l| l == series),
            "{series} in\n{metrics}"
        );
    }
}

#[tokio::test]
async fn expiry_and_decline_are_announced() {
    // WeChat Pay: a decline is learned by the query 1 s on; the other payment expires at 3 s.
    let receiver = Receiver::start(&[]).await;
    let options = Options {
        ttl_secs: 3,
        reconcile: "1",
        reconcile_every_secs: 1,
        ..Options::default()
    };
    let server = server_for(&receiver.url, SHORT_RETRIES, options).await;
    let (declined_order, declined) = server.pending_payment(3).await;
    let (expired_order, expired) = server.pending_payment(4).await;
    assert_eq!(server.wallet(&declined, "decline").await, StatusCode::OK);
    server.wait_status(&declined, "failed", SOON).await;
    server.wait_status(&expired, "expired", SOON).await;
    receiver.wait_for(2, SOON).await;
    tokio::time::sleep(SETTLE).await;
    let mut events: Vec<Value> = receiver.received().iter().map(|r| r.verified()).collect();
    events.sort_by_key(|e| e["type"].as_str().unwrap().to_string());
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["type"], "payment.expired");
    assert_eq!(events[0]["data"]["paymentId"], expired.as_str());
    assert_eq!(events[0]["data"]["orderId"], expired_order.as_str());
    assert_eq!(events[0]["data"]["amountFen"], 400);
    assert!(
        events[0]["data"]["reference"].is_null(),
        "an order without one"
    );
    assert_eq!(events[1]["type"], "payment.failed");
    assert_eq!(events[1]["data"]["paymentId"], declined.as_str());
    assert_eq!(events[1]["data"]["orderId"], declined_order.as_str());
    assert_eq!(events[1]["data"]["failureReason"], "用户拒绝支付");
    assert_eq!(events[1]["data"]["failure"], "declined_by_payer");
    assert!(events[1]["data"]["providerTransactionId"].is_null());
}

#[tokio::test]
async fn money_for_an_order_paid_by_another_payment_is_announced_paid_late() {
    // WeChat Pay: the first payment's decline is learned by the query 1 s on.
    let receiver = Receiver::start(&[]).await;
    let options = Options {
        reconcile: "1",
        reconcile_every_secs: 1,
        ..Options::default()
    };
    let server = server_for(&receiver.url, SHORT_RETRIES, options).await;
    let order = server.create_order(json!(9)).await;
    let payment_id = |p: Value| p["paymentId"].as_str().unwrap().to_string();
    let first = payment_id(server.create_payment(&order).await);
    assert_eq!(server.wallet(&first, "decline").await, StatusCode::OK);
    server.wait_status(&first, "failed", SOON).await;
    let second = payment_id(server.create_payment(&order).await);
    assert_eq!(server.wallet(&second, "approve").await, StatusCode::OK);
    server.wait_status(&second, "paid", SOON).await;
    // The first payment's money arrives after all (the order is paid: to be refunded).
    let keys = crate::provider_side::provider_keys(&server).await;
    let (status, acknowledged) = crate::provider_side::post_genuine_paid(
        &server,
        &keys,
        "wechatpay",
        &first,
        900,
        "EV-twice",
    )
    .await;
    assert!(acknowledged, "{status}");
    receiver.wait_for(3, SOON).await;
    tokio::time::sleep(SETTLE).await;
    let mut events: Vec<Value> = receiver.received().iter().map(|r| r.verified()).collect();
    events.sort_by_key(|e| e["type"].as_str().unwrap().to_string());
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let want = ["order.paid", "payment.failed", "payment.paid_late"];
    assert_eq!(types, want, "{events:?}");
    assert_eq!(events[0]["data"]["paymentId"], second.as_str());
    assert_eq!(events[1]["data"]["paymentId"], first.as_str());
    let late = &events[2]["data"];
    assert_eq!(late["paymentId"], first.as_str());
    assert_eq!(
        (&late["needsRefund"], &late["amountFen"], &late["status"]),
        (&json!(true), &json!(900), &json!("paid"))
    );
    assert_eq!(
        late["providerTransactionId"],
        "4200000000000000000000000001"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (SCANPAY_TEST_ENGINE=postgres ... -- --include-ignored)"]
async fn two_processes_deliver_each_event_once() {
    require_postgres();
    let receiver = Receiver::start(&[]).await;
    let a = server_for(&receiver.url, SHORT_RETRIES, Options::default()).await;
    // The same settings: its worker claims from the same outbox.
    let b = a.another_instance().await;
    const N: usize = 30;
    let servers = [&a, &b];
    let paid = futures::future::join_all((0..N).map(|i| paid_order(servers[i % 2], 1))).await;
    let received = receiver.wait_for(N, Duration::from_secs(30)).await;
    tokio::time::sleep(SETTLE).await;
    let mut ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.id().to_string())
        .collect();
    assert_eq!(ids.len(), N, "{} sent twice", ids.len() - N);
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len(), received.len()), (N, paid.len()));
    assert!(deliveries(&a, "?status=delivered&limit=200")
        .await
        .iter()
        .all(|d| d["attempts"] == 1));
}
