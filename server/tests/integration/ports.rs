//! The harness itself: a port another process took between the harness choosing it and the
//! server binding it costs a retry on a fresh port, never a test talking to a stranger.
use crate::harness::{Options, TestServer};
use serde_json::json;
use std::net::TcpListener;

#[tokio::test]
async fn a_server_whose_port_is_held_by_a_silent_socket_starts_on_another() {
    let squatter = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = squatter.local_addr().unwrap().port();
    let server = TestServer::start_with(Options {
        port: Some(taken),
        ..Options::default()
    })
    .await;
    assert_ne!(server.base, format!("http://127.0.0.1:{taken}"));
    assert_eq!(server.health().await["status"], "ok");
}

#[tokio::test]
async fn a_server_whose_port_another_server_answers_on_starts_on_another() {
    // The stranger answers /healthz with 200 on the port: the harness must not take it for ours.
    let stranger = TestServer::start().await;
    let taken: u16 = stranger.base.rsplit_once(':').unwrap().1.parse().unwrap();
    let ours = TestServer::start_with(Options {
        port: Some(taken),
        ..Options::default()
    })
    .await;
    assert_ne!(ours.base, stranger.base);
    assert_ne!(ours.pid(), stranger.pid());
    // Each has its own database: an order made on one is unknown to the other.
    let order = ours.create_order(json!(3)).await;
    let (status, _) = stranger.get(&format!("/api/orders/{order}")).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}
