//! The WebSocket transport (`GET /api/pay/:id/ws`): the status on connect and at each change,
//! closed after a terminal state; refusals before the upgrade; the client may only answer pings;
//! the live-update stream caps; the response timeout does not cut a socket.
use crate::harness::{require_postgres, wait_until, Options, TestServer};
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn ws_url(server: &TestServer, payment_id: &str) -> String {
    server
        .url(&format!("/api/pay/{payment_id}/ws"))
        .replacen("http://", "ws://", 1)
}

/// Opens the payment's socket, with `origin` if given: the socket, or the refusal's status and
/// JSON body.
async fn open(
    server: &TestServer,
    payment_id: &str,
    origin: Option<&str>,
) -> Result<Socket, (StatusCode, Value, Option<String>)> {
    let mut request = ws_url(server, payment_id).into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
            Ok(socket)
        }
        Err(Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            Err((response.status(), body, retry_after))
        }
        Err(e) => panic!("connecting the socket: {e}"),
    }
}

/// Opens a socket that must be refused: the refusal's status, JSON body and `Retry-After`.
async fn refused(
    server: &TestServer,
    payment_id: &str,
    origin: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    match open(server, payment_id, origin).await {
        Ok(_) => panic!("the socket was opened"),
        Err(refusal) => refusal,
    }
}

async fn must_open(server: &TestServer, payment_id: &str) -> Socket {
    match open(server, payment_id, None).await {
        Ok(socket) => socket,
        Err((status, body, _)) => panic!("socket refused: {status} {body}"),
    }
}

/// Opens the socket of a pending payment and reads its first message, the status `pending`.
async fn open_pending(server: &TestServer, payment_id: &str) -> Socket {
    let mut socket = must_open(server, payment_id).await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        status("pending")
    );
    socket
}

/// What the server sends, pings aside (the client library answers them).
#[derive(Debug, PartialEq)]
enum Received {
    Status(String),
    Close(u16, String),
    /// The connection ended without a close frame, or nothing came in time.
    Ended,
    Silent,
}

async fn next(socket: &mut Socket, within: Duration) -> Received {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return Received::Silent,
            Ok(None) | Ok(Some(Err(_))) => return Received::Ended,
            Ok(Some(Ok(Message::Text(text)))) => {
                let view: Value = serde_json::from_str(&text).expect("a status answer");
                return Received::Status(view["status"].as_str().unwrap().to_string());
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                let frame = frame.expect("a close code");
                return Received::Close(u16::from(frame.code), frame.reason.to_string());
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

fn status(s: &str) -> Received {
    Received::Status(s.to_string())
}

#[tokio::test]
async fn the_socket_sends_the_status_then_each_change_and_closes_after_paid() {
    let server = TestServer::start().await;
    let (_, id) = server.pending_payment(5).await;
    let mut socket = open_pending(&server, &id).await;
    // Nothing more until something changes.
    assert_eq!(
        next(&mut socket, Duration::from_millis(300)).await,
        Received::Silent
    );
    let approved_at = Instant::now();
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        status("paid")
    );
    assert!(approved_at.elapsed() < Duration::from_secs(3));
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        Received::Close(1000, "paid".into())
    );
    // The client's close answered, the server hangs up.
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        Received::Ended
    );
    // The text is the status answer in full: what the page's status read answers (and the event
    // stream's data), but for the server's clock.
    let (_, id) = server.pending_payment(6).await;
    let mut socket = must_open(&server, &id).await;
    let Some(Ok(Message::Text(text))) = socket.next().await else {
        panic!("no status");
    };
    let mut pushed: Value = serde_json::from_str(&text).unwrap();
    let (code, mut read) = server
        .get(&format!("/api/get_payment_status?payment_id={id}"))
        .await;
    assert_eq!(code, StatusCode::OK, "{read}");
    for view in [&mut pushed, &mut read] {
        assert!(view["serverNowMs"].as_i64().is_some(), "{view}");
        view.as_object_mut().unwrap().remove("serverNowMs");
    }
    assert_eq!(pushed, read);
}

#[tokio::test]
async fn the_socket_reports_expiry_and_closes_even_past_the_response_timeout() {
    let server = TestServer::start_with(Options {
        ttl_secs: 3,
        extra_env: vec![("SCANPAY_RESPONSE_TIMEOUT_SECS".into(), "1".into())],
        ..Options::default()
    })
    .await;
    let (_, id) = server.pending_payment(5).await;
    let opened = Instant::now();
    let mut socket = open_pending(&server, &id).await;
    // Open well past the 1-s response timeout: sockets are not cut by it.
    assert_eq!(
        next(&mut socket, Duration::from_secs(8)).await,
        status("expired")
    );
    assert_eq!(
        next(&mut socket, Duration::from_secs(2)).await,
        Received::Close(1000, "expired".into())
    );
    let took = opened.elapsed();
    assert!(
        took > Duration::from_millis(1500) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

#[tokio::test]
async fn unknown_malformed_and_cross_site_sockets_are_refused_before_the_upgrade() {
    let server = TestServer::start().await;
    let (_, id) = server.pending_payment(5).await;
    let (code, body, _) = refused(&server, "pay_AAAAAAAAAAAAAAAAAAAAAA", None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "payment_not_found", "{body}");
    assert_eq!(body["message"], "支付单不存在");
    let (code, body, _) = refused(&server, "not-an-id", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "payment_id_invalid", "{body}");
    // Cross-site WebSocket hijacking: another origin's page is refused, this one's is not.
    for foreign in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let (code, body, _) = refused(&server, &id, Some(foreign)).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{foreign}");
        assert_eq!(body["code"], "cross_site_request", "{body}");
    }
    let own = server.base.clone();
    let mut socket = open(&server, &id, Some(&own)).await.expect("same origin");
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        status("pending")
    );
    // A plain GET (no handshake) is not a socket.
    let (code, _) = server.get(&format!("/api/pay/{id}/ws")).await;
    assert!(code.is_client_error(), "{code}");
}

#[tokio::test]
async fn the_server_pings_an_idle_socket_to_keep_it_open() {
    let server = TestServer::start().await;
    let (_, id) = server.pending_payment(5).await;
    let mut socket = open_pending(&server, &id).await;
    let opened = Instant::now();
    // Proxies drop idle connections: a ping every 15 s (the client library answers it).
    let first = tokio::time::timeout(Duration::from_secs(20), socket.next())
        .await
        .expect("a ping within 20 s");
    assert!(matches!(first, Some(Ok(Message::Ping(_)))), "{first:?}");
    let ping = opened.elapsed();
    assert!(ping > Duration::from_secs(13), "{ping:?}");
    // Still open: the payment is still followed.
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        status("paid")
    );
}

#[tokio::test]
async fn a_client_that_sends_data_is_closed_with_policy_violation() {
    let server = TestServer::start().await;
    let (_, id) = server.pending_payment(5).await;
    for message in [Message::text("hello"), Message::binary(vec![1u8, 2, 3])] {
        let mut socket = open_pending(&server, &id).await;
        // A ping is fine (the server answers it and stays open).
        socket.send(Message::Ping(vec![7u8].into())).await.unwrap();
        assert_eq!(
            next(&mut socket, Duration::from_millis(500)).await,
            Received::Silent
        );
        socket.send(message).await.unwrap();
        assert_eq!(
            next(&mut socket, Duration::from_secs(5)).await,
            Received::Close(1008, "only pongs are read".into())
        );
    }
    // Too large to read at all: the same.
    let mut socket = open_pending(&server, &id).await;
    socket
        .send(Message::text("x".repeat(10_000)))
        .await
        .unwrap();
    match next(&mut socket, Duration::from_secs(5)).await {
        Received::Close(code, _) => assert_eq!(code, u16::from(CloseCode::Policy)),
        other => assert_eq!(other, Received::Ended),
    }
}

#[tokio::test]
async fn sockets_count_against_the_stream_caps_until_they_end() {
    let server = TestServer::start_with(Options {
        extra_env: vec![("SCANPAY_STREAMS_PER_CLIENT".into(), "2".into())],
        ..Options::default()
    })
    .await;
    let (_, id) = server.pending_payment(5).await;
    let mut first = open_pending(&server, &id).await;
    let events = server.open_events(&id).await;
    assert_eq!(events.status(), StatusCode::OK);
    // The socket still holds its slot after its 101: a third stream of either kind is refused.
    let (code, body, retry_after) = refused(&server, &id, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "streams_full", "{body}");
    assert!(retry_after.is_some());
    assert_eq!(
        server.open_events(&id).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // A socket that ends gives its slot back.
    first.close(None).await.unwrap();
    drop(first);
    let reopened = wait_until(Duration::from_secs(10), || async {
        open(&server, &id, None).await.ok()
    })
    .await;
    assert!(reopened.is_some(), "the slot was never given back");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (SCANPAY_TEST_ENGINE=postgres ... -- --include-ignored)"]
async fn a_socket_on_one_process_sees_a_payment_paid_through_the_other() {
    require_postgres();
    let a = TestServer::start().await;
    let b = a.another_instance().await;
    // B creates the payment, so the provider notifies B: A's socket can only hear of it through
    // the database.
    let (_, id) = b.pending_payment(5).await;
    let mut socket = open_pending(&a, &id).await;
    let approved_at = Instant::now();
    assert_eq!(b.wallet(&id, "approve").await, StatusCode::OK);
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        status("paid")
    );
    assert!(
        approved_at.elapsed() < Duration::from_secs(2),
        "{:?}",
        approved_at.elapsed()
    );
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        Received::Close(1000, "paid".into())
    );
}
