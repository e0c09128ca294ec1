//! Long-poll and Server-Sent Events: answers as soon as the status changes.
use crate::harness::{require_postgres, Options, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Reads an SSE response until it ends (or `within` passes); returns each event's fields.
async fn read_events(
    mut response: reqwest::Response,
    within: Duration,
) -> Vec<Vec<(String, String)>> {
    let deadline = Instant::now() + within;
    let mut text = String::new();
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline.into(), response.chunk()).await
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty() && !block.starts_with(':'))
        .map(|block| {
            block
                .lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.to_string(), v.trim_start().to_string()))
                .collect()
        })
        .collect()
}

fn field<'a>(event: &'a [(String, String)], name: &str) -> Option<&'a str> {
    event
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn status_of(event: &[(String, String)]) -> String {
    let data: Value = serde_json::from_str(field(event, "data").expect("data")).expect("JSON");
    data["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_the_payment_is_paid() {
    let server = TestServer::start().await;
    let (_, id) = server.pending_payment(5).await;
    let started = Instant::now();
    let path = format!("/api/pay/{id}/status?wait=20&status=pending");
    let poll = server.get(&path);
    let pay = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.wallet(&id, "approve").await
    };
    let ((status, body), approved) = tokio::join!(poll, pay);
    assert_eq!(approved, StatusCode::OK);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["status"], "paid");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_long_poll_ends_with_the_unchanged_status_or_at_once_if_it_already_differs() {
    let server = TestServer::start().await;
    let (_, id) = server.pending_payment(5).await;
    let started = Instant::now();
    let (_, body) = server.get(&format!("/api/pay/{id}/status?wait=1")).await;
    assert_eq!(body["data"]["status"], "pending");
    assert!(started.elapsed() >= Duration::from_secs(1));
    let started = Instant::now();
    let (_, body) = server
        .get(&format!("/api/pay/{id}/status?wait=20&status=paid"))
        .await;
    assert_eq!(body["data"]["status"], "pending");
    assert!(started.elapsed() < Duration::from_millis(500));
    for bad in ["wait=26", "wait=abc", "wait=-1", "status=PAID"] {
        let (status, body) = server.get(&format!("/api/pay/{id}/status?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn a_long_poll_wakes_at_the_deadline() {
    let server = TestServer::start_with(Options {
        ttl_secs: 2,
        ..Options::default()
    })
    .await;
    let (_, id) = server.pending_payment(5).await;
    let started = Instant::now();
    let (_, body) = server.get(&format!("/api/pay/{id}/status?wait=20")).await;
    assert_eq!(body["data"]["status"], "expired");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn the_event_stream_sends_the_status_then_each_change_and_ends_after_paid() {
    let server = TestServer::start().await;
    let (_, id) = server.pending_payment(5).await;
    let response = server.open_events(&id).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let reader = tokio::spawn(read_events(response, Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let approved_at = Instant::now();
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    let events = reader.await.unwrap();
    assert!(
        approved_at.elapsed() < Duration::from_secs(5),
        "the stream did not end"
    );
    let statuses: Vec<String> = events.iter().map(|e| status_of(e)).collect();
    assert_eq!(statuses, ["pending", "paid"]);
    assert_eq!(field(&events[0], "retry"), Some("2000"));
    assert_eq!(field(&events[0], "id"), Some("1"));
    assert_eq!(field(&events[1], "id"), Some("2"));
    assert_eq!(field(&events[1], "event"), Some("status"));
}

#[tokio::test]
async fn the_event_stream_reports_expiry_and_refuses_unknown_payments() {
    let server = TestServer::start_with(Options {
        ttl_secs: 2,
        ..Options::default()
    })
    .await;
    let (_, id) = server.pending_payment(5).await;
    let opened = Instant::now();
    let response = server.open_events(&id).await;
    let events = read_events(response, Duration::from_secs(6)).await;
    let statuses: Vec<String> = events.iter().map(|e| status_of(e)).collect();
    assert_eq!(statuses, ["pending", "expired"]);
    // The stream ends after `expired` (read_events stops at its end, or at 6 s if it never comes).
    assert!(
        opened.elapsed() < Duration::from_secs(4),
        "the stream did not end after expired: {:?}",
        opened.elapsed()
    );
    let (status, body) = server
        .get("/api/pay/pay_AAAAAAAAAAAAAAAAAAAAAA/events")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "支付单不存在");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (SCANPAY_TEST_ENGINE=postgres ... -- --include-ignored)"]
async fn a_stream_on_one_process_sees_a_payment_paid_through_the_other() {
    require_postgres();
    let a = TestServer::start().await;
    let b = a.another_instance().await;
    // B creates the payment, so the provider notifies B (the trade's notify URL): A's stream can
    // only hear of it through the database.
    let (_, id) = b.pending_payment(5).await;
    let response = a.open_events(&id).await;
    let reader = tokio::spawn(read_events(response, Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The shopper pays, and the notification lands on B.
    let approved_at = Instant::now();
    assert_eq!(b.wallet(&id, "approve").await, StatusCode::OK);
    let events = reader.await.unwrap();
    let statuses: Vec<String> = events.iter().map(|e| status_of(e)).collect();
    assert_eq!(statuses, ["pending", "paid"]);
    assert!(
        approved_at.elapsed() < Duration::from_secs(2),
        "{:?}",
        approved_at.elapsed()
    );
}
