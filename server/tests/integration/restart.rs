//! Restart safety: state and deadlines live in the database, not in timers.
use crate::harness::{Options, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn writes_survive_a_restart() {
    let mut server = TestServer::start().await;
    let order = server.create_order(json!(42)).await;
    let starts = server.rows("server_starts").await;
    server.crash_and_restart().await;
    assert_eq!(server.health().await["status"], "ok");
    let readiness = server.readiness().await;
    assert_eq!(readiness["status"], "ready", "{readiness}");
    let engine = if crate::harness::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(readiness["database"]["engine"], engine);
    assert_eq!(readiness["database"]["serverStarts"], starts + 1);
    assert_eq!(server.rows("server_starts").await, starts + 1);
    assert_eq!(server.order(&order).await["amountFen"], 4200);
}

#[tokio::test]
async fn a_pending_payment_still_completes_after_kill_9() {
    for method in crate::harness::METHODS {
        pending_payment_completes_after_kill_9(method).await;
    }
}

async fn pending_payment_completes_after_kill_9(method: &'static str) {
    let mut server = TestServer::start_with(Options {
        method,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(9.9).await;
    server.crash_and_restart().await;
    assert_eq!(server.payment_status(&id).await["status"], "pending");
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    server
        .wait_status(&id, "paid", Duration::from_secs(5))
        .await;
    assert_eq!(server.order(&order).await["status"], "paid");
}

#[tokio::test]
async fn a_pending_payment_expires_at_its_original_deadline_after_kill_9() {
    // A 6-s deadline and 2 s down: the restart (which may be slow while other tests start
    // servers) has about 4 s to come back before the deadline.
    let mut server = TestServer::start_with(Options {
        ttl_secs: 6,
        ..Options::default()
    })
    .await;
    let order = server.create_order(json!(1)).await;
    let created = server.create_payment(&order).await;
    let id = created["paymentId"].as_str().unwrap().to_string();
    let deadline = created["expiresAt"].as_i64().unwrap();
    server.kill();
    // Down for a while, then back before the deadline.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    server.crash_and_restart().await;
    let status = server.payment_status(&id).await;
    assert_eq!(status["status"], "pending");
    assert_eq!(
        status["expiresAt"].as_i64().unwrap(),
        deadline,
        "deadline moved"
    );
    let started = Instant::now();
    let until_deadline =
        Duration::from_millis((deadline - payments::clock::now_ms()).max(0) as u64);
    server
        .wait_status(&id, "expired", Duration::from_secs(9))
        .await;
    assert!(
        started.elapsed() < until_deadline + Duration::from_secs(3),
        "expired long after its deadline: {:?} after the restart, deadline {until_deadline:?} away",
        started.elapsed()
    );
    let events = server.order(&order).await["payments"][0]["events"].clone();
    let expiry = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["newStatus"] == "expired");
    let expired_at = crate::harness::wait_until(Duration::from_secs(3), || async {
        let events = server.order(&order).await["payments"][0]["events"].clone();
        events
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["newStatus"] == "expired")
            .map(|e| e["atMs"].as_i64().unwrap())
    })
    .await
    .or_else(|| expiry.map(|e| e["atMs"].as_i64().unwrap()))
    .expect("the sweeper recorded the expiry");
    assert!(expired_at >= deadline, "expired before its deadline");
    assert!(
        expired_at < deadline + 2_000,
        "expired {} ms late",
        expired_at - deadline
    );
}

#[tokio::test]
async fn a_payment_that_expired_while_the_server_was_down_is_expired_on_start() {
    let mut server = TestServer::start_with(Options {
        ttl_secs: 2,
        ..Options::default()
    })
    .await;
    let (order, id) = server.pending_payment(1).await;
    server.kill();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.crash_and_restart().await;
    assert_eq!(server.payment_status(&id).await["status"], "expired");
    crate::harness::wait_until(Duration::from_secs(3), || async {
        let o = server.order(&order).await;
        o["payments"][0]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["newStatus"] == "expired" && e["source"] == "expiry")
            .then_some(())
    })
    .await
    .expect("the sweeper expired it after the restart");
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::CONFLICT);
}
