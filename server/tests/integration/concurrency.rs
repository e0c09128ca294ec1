//! Races: many requests at once never leave two pending payments or pay an order twice.
use crate::harness::{Options, TestServer};
use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn concurrent_create_payment_leaves_exactly_one_pending() {
    // 100 creates at once through the sandbox on a loaded machine: no provider timeout here.
    let server = TestServer::start_with(Options {
        extra_env: vec![("SCANPAY_PROVIDER_TIMEOUT_MS".into(), "10000".into())],
        ..Options::default()
    })
    .await;
    let order = server.create_order(json!(20)).await;
    let results: Vec<_> = futures::future::join_all(
        (0..100).map(|_| server.post("/api/pay/create", json!({ "orderId": order }))),
    )
    .await;
    assert!(
        results.iter().all(|(s, _)| *s == StatusCode::OK),
        "{results:?}"
    );
    let o = server.order(&order).await;
    let payments = o["payments"].as_array().unwrap();
    // Requests after the first commit are answered the pending payment; only those racing it
    // created one each (closing the one before).
    assert!((1..=100).contains(&payments.len()), "{}", payments.len());
    let pending: Vec<_> = payments
        .iter()
        .filter(|p| p["status"] == "pending")
        .collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(
        payments.iter().filter(|p| p["status"] == "closed").count(),
        payments.len() - 1
    );
    let answered_pending = results
        .iter()
        .filter(|(_, body)| body["data"]["paymentId"] == pending[0]["paymentId"])
        .count();
    assert!(answered_pending >= 1);
}

#[tokio::test]
async fn a_thousand_concurrent_approvals_lose_nothing_and_pay_no_order_twice() {
    // No reconciliation within the payments' lifetime (first query after 50 minutes, past the
    // 5-minute deadline): a lost or refused callback cannot be repaired by a query here.
    let server = TestServer::start_with(Options {
        reconcile: "3000,3000",
        ..Options::default()
    })
    .await;
    const ORDERS: usize = 1000;
    const SUPERSEDED: usize = 100;
    let orders: Vec<String> = stream::iter(0..ORDERS)
        .map(|i| {
            let server = &server;
            async move { server.create_order(json!(i + 1)).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    // One payment per order; 100 orders get a second one, with the other app, that supersedes
    // (closes) the first.
    let mut payments = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let methods: &[&str] = if i < SUPERSEDED {
            &["wechatpay", "alipay"]
        } else {
            &["wechatpay"]
        };
        for method in methods {
            payments.push(
                server.create_payment_with(order, method).await["paymentId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    assert_eq!(payments.len(), ORDERS + SUPERSEDED);
    // Every payment approved at once, 200 requests in flight.
    let approvals: Vec<StatusCode> = stream::iter(payments)
        .map(|id| {
            let server = &server;
            async move { server.wallet(&id, "approve").await }
        })
        .buffer_unordered(200)
        .collect()
        .await;
    let approved = approvals.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = approvals
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        (approved, refused),
        (ORDERS, SUPERSEDED),
        "a closed payment took money"
    );

    // Every approval is applied: no order stays unpaid, none is paid twice.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut unpaid: Vec<&String> = orders.iter().collect();
    while !unpaid.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} approvals were lost",
            unpaid.len()
        );
        let mut still_unpaid = Vec::new();
        for order in unpaid {
            let o = server.order(order).await;
            if o["status"] != "paid" {
                still_unpaid.push(order);
                continue;
            }
            let paid: Vec<_> = o["payments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["status"] == "paid")
                .collect();
            assert_eq!(paid.len(), 1, "order {order} paid {} times", paid.len());
            assert_eq!(o["paidByPayment"], paid[0]["paymentId"]);
            assert_eq!(paid[0]["needsRefund"], false);
            // Paid by its callback, not by anything else.
            let sources: Vec<_> = paid[0]["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["newStatus"] == "paid")
                .map(|e| e["source"].clone())
                .collect();
            assert_eq!(sources, [json!("provider")], "order {order}");
        }
        unpaid = still_unpaid;
        if !unpaid.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
