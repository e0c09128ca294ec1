//! The limits against a hostile internet, each with settings small enough to reach quickly:
//! oversized and slow bodies, slow heads, a client that stops reading, floods from one client
//! (and the `X-Forwarded-For` rules), too many live-update streams, more requests in flight than
//! the cap. Raw HTTP where a well-behaved client cannot misbehave enough.
use crate::harness::{Options, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub fn with_env(vars: &[(&str, &str)]) -> Options {
    Options {
        extra_env: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    }
}

pub async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// A request head for `path` (`Connection: close`), with `extra` header lines.
pub fn head(method: &str, path: &str, extra: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra}\r\n")
}

/// Reads the answer until the server closes: (status, JSON body or null).
pub async fn answer(stream: &mut TcpStream, within: Duration) -> (u16, Value) {
    let mut raw = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut raw))
        .await
        .expect("an answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&raw);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_are_read_and_create_nothing() {
    let server = TestServer::start_with(with_env(&[
        ("SCANPAY_API_BODY_LIMIT_BYTES", "1024"),
        ("SCANPAY_CALLBACK_BODY_LIMIT_BYTES", "4096"),
    ]))
    .await;
    let before = server.rows("orders").await;
    // A Content-Length over the limit: answered at once, without a byte of the body sent.
    for path in [
        "/api/orders",
        "/api/create_order",
        "/api/pay/notify/wechatpay",
    ] {
        let mut stream = connect(&server).await;
        let request = head("POST", path, "Content-Length: 10000000\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, body) = answer(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(
            (status, &body["code"]),
            (413, &json!("body_too_large")),
            "{path}"
        );
    }
    // Chunked: cut off at the limit, whatever the chunks say — by the API and by the server
    // functions (which read the body themselves), in the same JSON shape.
    for path in ["/api/orders", "/api/create_order"] {
        let mut stream = connect(&server).await;
        let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
        let request =
            head("POST", path, "Transfer-Encoding: chunked\r\n") + &chunk.repeat(4) + "0\r\n\r\n";
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, body) = answer(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(
            (status, &body["code"]),
            (413, &json!("body_too_large")),
            "{path}: {body}"
        );
    }
    assert_eq!(server.rows("orders").await, before, "nothing created");
    // Honest requests are served; a notification may be larger than an API body.
    let padded = json!({ "totalAmount": 12, "description": "键盘".repeat(100) });
    assert_eq!(server.post("/api/orders", padded).await.0, StatusCode::OK);
    let notification = format!("{{\"padding\":\"{}\"}}", "x".repeat(2000));
    let (status, _) = server
        .post_raw("/api/pay/notify/wechatpay", &notification)
        .await;
    assert!(status.is_client_error() && status != 413, "{status}");
}

#[tokio::test]
async fn a_flood_from_one_client_gets_429_and_forwarded_for_is_not_believed_from_strangers() {
    let server = TestServer::start_with(with_env(&[
        ("SCANPAY_RATE_LIMIT", "on"),
        ("SCANPAY_RATE_LIMIT_BURST", "5"),
        ("SCANPAY_RATE_LIMIT_PER_SEC", "1"),
    ]))
    .await;
    let refused = loop {
        let r = server.client.get(server.url("/healthz")).send().await;
        let r = r.expect("GET");
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            break r;
        }
        assert_eq!(r.status(), StatusCode::OK);
    };
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited", "{body}");
    // Another X-Forwarded-For from a peer that is not a trusted proxy: still the same client.
    let r = server.client.get(server.url("/healthz"));
    let r = r.header("x-forwarded-for", "198.51.100.7").send().await;
    assert_eq!(r.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    // The providers' notifications are not counted per address.
    let (status, _) = server.post_raw("/api/pay/notify/alipay", "x=1").await;
    assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
    // The bucket refills: one request a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(server.get("/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let server = TestServer::start_with(with_env(&[
        ("SCANPAY_RATE_LIMIT", "on"),
        ("SCANPAY_RATE_LIMIT_BURST", "3"),
        ("SCANPAY_RATE_LIMIT_PER_SEC", "1"),
        ("SCANPAY_TRUSTED_PROXIES", "127.0.0.1"),
    ]))
    .await;
    let from = |client: &'static str| {
        let request = server.client.get(server.url("/healthz"));
        async move { request.header("x-forwarded-for", client).send().await }
    };
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(from("198.51.100.1").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(from("198.51.100.2").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn live_update_streams_are_capped_per_client_and_the_status_read_still_answers() {
    let server = TestServer::start_with(with_env(&[("SCANPAY_STREAMS_PER_CLIENT", "2")])).await;
    let (_, payment_id) = server.pending_payment(12).await;
    let first = server.open_events(&payment_id).await;
    let _second = server.open_events(&payment_id).await;
    assert_eq!(first.status(), StatusCode::OK);
    let third = server.open_events(&payment_id).await;
    assert_eq!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(third.headers().contains_key("retry-after"));
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["code"], "streams_full", "{body}");
    // A long-poll is a stream too; a plain read is not.
    let wait = format!("/api/pay/{payment_id}/status?wait=5");
    assert_eq!(server.get(&wait).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let read = format!("/api/pay/{payment_id}/status");
    assert_eq!(server.get(&read).await.0, StatusCode::OK);
    // A stream that ends gives its slot back.
    drop(first);
    let reopened = crate::harness::wait_until(Duration::from_secs(20), || async {
        let r = server.open_events(&payment_id).await;
        (r.status() == StatusCode::OK).then_some(r)
    })
    .await;
    assert!(reopened.is_some(), "the slot was never given back");
}

#[tokio::test]
async fn slow_bodies_and_slow_heads_are_cut_off() {
    let server = TestServer::start_with(with_env(&[
        ("SCANPAY_BODY_READ_TIMEOUT_SECS", "1"),
        ("SCANPAY_RESPONSE_TIMEOUT_SECS", "3"),
        ("SCANPAY_HEADER_READ_TIMEOUT_SECS", "1"),
    ]))
    .await;
    let before = server.rows("orders").await;
    // Part of the body, then nothing: 408 after the body-read timeout (API and server function).
    for path in ["/api/orders", "/api/create_order"] {
        let mut stream = connect(&server).await;
        let request = head("POST", path, "Content-Length: 100\r\n") + "{\"totalAm";
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, body) = answer(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(
            (status, &body["code"]),
            (408, &json!("body_timeout")),
            "{path}: {body}"
        );
    }
    // A byte every 300 ms never pauses long enough for that: the response timeout ends it.
    let mut stream = connect(&server).await;
    let request = head("POST", "/api/orders", "Content-Length: 100\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        if stream.write_all(b" ").await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (status, body) = answer(&mut stream, Duration::from_secs(5)).await;
    assert_eq!((status, &body["code"]), (503, &json!("processing_timeout")));
    assert!(started.elapsed() < Duration::from_secs(7));
    // Half a request head: the connection is closed after the header-read timeout.
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let _ = answer(&mut stream, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(server.rows("orders").await, before, "nothing created");
}

/// Pipelines requests for as long as the server takes them and never reads an answer: once the
/// socket buffers (MBs) are full the server's writes stall, and after its write timeout it must
/// drop the connection — which our next write then finds reset. A server without the timeout
/// would wait for us forever, its own reads stalled too, so our writes would only ever block.
/// How long until the drop, or `None` if still connected after `give_up_after`.
pub async fn pipeline_without_reading(
    server: &TestServer,
    give_up_after: Duration,
) -> Option<Duration> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    let requests = request.repeat(1000);
    // Where in `request` the next byte is: every write continues the stream of whole requests.
    let mut offset = 0;
    let started = Instant::now();
    while started.elapsed() < give_up_after {
        let write = stream.write(&requests.as_bytes()[offset..]);
        match tokio::time::timeout(Duration::from_secs(1), write).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(n)) => offset = (offset + n) % request.len(),
            Err(_blocked) => {}
        }
    }
    None
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_after_the_write_timeout() {
    let server = TestServer::start_with(with_env(&[
        ("SCANPAY_WRITE_TIMEOUT_SECS", "1"),
        ("SCANPAY_RATE_LIMIT", "off"),
    ]))
    .await;
    let dropped = pipeline_without_reading(&server, Duration::from_secs(40)).await;
    let dropped = dropped.expect("still connected after 40 s without reading");
    eprintln!("dropped after {dropped:?}");
    // Others are served meanwhile and after.
    assert_eq!(server.get("/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn past_the_in_flight_cap_requests_are_shed_but_streams_still_open() {
    let server = TestServer::start_with(with_env(&[("SCANPAY_MAX_IN_FLIGHT", "1")])).await;
    let (_, payment_id) = server.pending_payment(12).await;
    // A request whose body never comes holds the one place (until the body-read timeout).
    let mut holder = connect(&server).await;
    let request = head("POST", "/api/orders", "Content-Length: 100\r\n") + "{";
    holder.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shed = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()["retry-after"], "1");
    let body: Value = shed.json().await.unwrap();
    assert_eq!(body["code"], "server_busy", "{body}");
    // Live updates are not in the cap: they have their own.
    assert_eq!(
        server.open_events(&payment_id).await.status(),
        StatusCode::OK
    );
    drop(holder);
    let served = crate::harness::wait_until(Duration::from_secs(5), || async {
        (server.get("/healthz").await.0 == StatusCode::OK).then_some(())
    })
    .await;
    assert!(served.is_some(), "the place was never given back");
}

#[tokio::test]
async fn production_keeps_the_rate_limit_and_malformed_limits_are_refused() {
    let production = [
        ("SCANPAY_MODE", "production"),
        ("SCANPAY_RATE_LIMIT", "off"),
    ];
    let (status, stderr) = TestServer::fails_to_start(with_env(&production)).await;
    assert!(!status.success(), "{status}: {stderr}");
    assert!(stderr.contains("SCANPAY_RATE_LIMIT=\"off\""), "{stderr}");
    let proxies = [("SCANPAY_TRUSTED_PROXIES", "10.0.0.1,proxy.example")];
    let (status, stderr) = TestServer::fails_to_start(with_env(&proxies)).await;
    assert!(!status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("SCANPAY_TRUSTED_PROXIES=\"proxy.example\""),
        "{stderr}"
    );
}
