//! The attacker's suite: one pass over everything a hostile client can send, each case checked
//! for its answer, each group checked for what it changed in the store (nothing, or exactly
//! what an honest request of the same kind would). It runs with the rest of the integration
//! suite, and the test command runs it once more against the release build
//! (`SCANPAY_TEST_SERVER_BIN=target/release/server … hostile:: --nocapture`), printing its tally
//! — cases tried, refused as expected, state changes observed — for BENCHMARKS.md.
//!
//! The cases themselves are the ones the other modules test one by one (limits.rs,
//! security_headers.rs, callbacks.rs, bad_input.rs, concurrency.rs); here they run together
//! with the limits on, against a server an honest client is using at the same time.
use crate::callbacks::{
    payment_of_the_other_protocol, wrong_alipay_notifications, wrong_wechat_notifications,
};
use crate::harness::{Options, TestServer, METHODS};
use crate::limits::{answer, connect, head, pipeline_without_reading, with_env};
use crate::provider_side::{post_genuine_paid, provider_keys};
use futures::stream::{self, StreamExt};
use reqwest::header::{HeaderMap, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// A server for the suite: `vars` on top of the harness's, with reconciliation pushed past
/// the run (its provider queries log lines, which are not the attacker's doing).
fn quiet(vars: &[(&str, &str)]) -> Options {
    let mut options = with_env(vars);
    options.reconcile = "3000";
    options
}

/// What the store holds, counted: a change in any of these is a state change.
const STATE: [&str; 10] = [
    "orders",
    "payments",
    "payments WHERE status = 'pending'",
    "payments WHERE status = 'paid'",
    "payment_events",
    "processed_notifications",
    "idempotency_keys",
    "webhook_events",
    "webhook_deliveries",
    "orders WHERE status = 'paid'",
];

async fn snapshot(server: &TestServer) -> Vec<i64> {
    let mut counts = Vec::new();
    for what in STATE {
        counts.push(server.rows(what).await);
    }
    counts
}

/// One group of cases.
struct Group {
    name: &'static str,
    tried: usize,
    as_expected: usize,
    failures: Vec<String>,
    /// Counts that moved other than the group allows.
    state_changes: usize,
}

impl Group {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            tried: 0,
            as_expected: 0,
            failures: Vec::new(),
            state_changes: 0,
        }
    }

    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.tried += 1;
        if ok {
            self.as_expected += 1;
        } else {
            self.failures.push(what());
        }
    }

    /// Counts as tried and refused `n` cases that a helper has already asserted one by one.
    fn asserted(&mut self, n: usize) {
        self.tried += n;
        self.as_expected += n;
    }

    /// Compares the store with `before`: every count must be the same, except those in
    /// `allowed` (the `STATE` entry and by how much it may grow).
    fn compare(&mut self, before: &[i64], after: &[i64], allowed: &[(&str, i64)]) {
        for ((what, was), now) in STATE.iter().zip(before).zip(after) {
            let may = allowed
                .iter()
                .find(|(name, _)| name == what)
                .map_or(0, |(_, n)| *n);
            if now - was != may {
                self.state_changes += 1;
                self.failures
                    .push(format!("{what}: {was} → {now} (expected +{may})"));
            }
        }
    }
}

/// A group's start: the group, its server (the harness's settings and `vars`), the store's
/// counts before anything is sent, and a pending payment (order, payment) to aim at.
async fn start(
    name: &'static str,
    vars: &[(&str, &str)],
) -> (Group, TestServer, Vec<i64>, (String, String)) {
    let server = TestServer::start_with(quiet(vars)).await;
    let target = server.pending_payment(9).await;
    let before = snapshot(&server).await;
    (Group::new(name), server, before, target)
}

/// A group's end: the store must be as it was at its start.
async fn end(mut group: Group, server: &TestServer, before: &[i64]) -> Group {
    group.compare(before, &snapshot(server).await, &[]);
    group
}

/// An error answer's code, if the body is the API's JSON error.
async fn code_of(response: reqwest::Response) -> (StatusCode, HeaderMap, String) {
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or_default().to_string();
    (status, headers, code)
}

fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers.get("retry-after")?.to_str().ok()?.parse().ok()
}

/// Bodies too large or too slow, request heads that never finish, a client that stops reading:
/// each refused with its status (or its connection closed), while an honest client is served.
async fn bodies_and_connections() -> Group {
    let (mut group, server, before, (order, _)) = start(
        "bodies, slow heads, a client that stops reading",
        &[
            ("SCANPAY_BODY_READ_TIMEOUT_SECS", "1"),
            ("SCANPAY_HEADER_READ_TIMEOUT_SECS", "1"),
            ("SCANPAY_WRITE_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let pay_again = format!("/orders/{order}/pay");
    let posts = [
        "/api/orders",
        "/api/create_order",
        "/api/pay/create",
        "/",
        pay_again.as_str(),
        "/api/pay/notify/wechatpay",
        "/api/pay/notify/alipay",
    ];
    for path in posts {
        // The pages' forms answer with the page (HTML) and its status; the rest in JSON.
        let page = !path.starts_with("/api/");
        let content_type = if page || path.ends_with("alipay") || path.contains("create_order") {
            "Content-Type: application/x-www-form-urlencoded\r\n"
        } else {
            "Content-Type: application/json\r\n"
        };
        let refused = |status: u16, body: &Value, want: u16, code: &str| {
            status == want && (page || body["code"] == code)
        };
        // Announced too large: refused before a byte of it is read.
        let mut stream = connect(&server).await;
        let extra = format!("{content_type}Content-Length: 100000000\r\n");
        let request = head("POST", path, &extra);
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, body) = answer(&mut stream, Duration::from_secs(5)).await;
        group.check(refused(status, &body, 413, "body_too_large"), || {
            format!("{path}: Content-Length 100 MB → {status} {body}")
        });
        // Chunked past the limit (the callbacks' 64 KiB is the larger one).
        let mut stream = connect(&server).await;
        let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
        let extra = format!("{content_type}Transfer-Encoding: chunked\r\n");
        let request = head("POST", path, &extra) + &chunk.repeat(5) + "0\r\n\r\n";
        let _ = stream.write_all(request.as_bytes()).await;
        let (status, body) = answer(&mut stream, Duration::from_secs(5)).await;
        group.check(refused(status, &body, 413, "body_too_large"), || {
            format!("{path}: chunked 80 KiB → {status} {body}")
        });
        // Part of a body, then silence.
        let mut stream = connect(&server).await;
        let extra = format!("{content_type}Content-Length: 100\r\n");
        let request = head("POST", path, &extra) + "{\"total";
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, body) = answer(&mut stream, Duration::from_secs(5)).await;
        group.check(refused(status, &body, 408, "body_timeout"), || {
            format!("{path}: a stalled body → {status} {body}")
        });
    }
    // Slowloris: 200 connections that never finish their request head, next to an honest one.
    let started = Instant::now();
    let mut heads = Vec::new();
    for _ in 0..200 {
        let mut stream = connect(&server).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
            .await
            .unwrap();
        heads.push(stream);
    }
    let honest = server.get("/healthz").await.0;
    group.check(honest == StatusCode::OK, || {
        format!("an honest request beside 200 slow heads → {honest}")
    });
    let closed = futures::future::join_all(heads.iter_mut().map(|stream| async move {
        let (status, _) = answer(stream, Duration::from_secs(5)).await;
        // Closed without an answer (or with 408): nothing was served to a head never finished.
        status == 0 || status == 408
    }))
    .await;
    for (i, closed) in closed.into_iter().enumerate() {
        group.check(closed && started.elapsed() < Duration::from_secs(5), || {
            format!("slow head {i} still open after {:?}", started.elapsed())
        });
    }
    // A client that pipelines requests and never reads the answers is dropped.
    let dropped = pipeline_without_reading(&server, Duration::from_secs(30)).await;
    group.check(dropped.is_some(), || {
        "a client that never reads was not dropped".into()
    });
    end(group, &server, &before).await
}

/// One client floods a read while an honest one (another address) uses the page; a proxy in
/// front (127.0.0.1, trusted) names each.
async fn flood_beside_an_honest_client() -> Group {
    let (mut group, server, before, (_, id)) = start(
        "a flood from one client beside an honest one",
        &[
            ("SCANPAY_RATE_LIMIT", "on"),
            ("SCANPAY_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let status_path = format!("/api/pay/{id}/status");
    let read = |client: &'static str| {
        server
            .client
            .get(server.url(&status_path))
            .header("x-forwarded-for", client)
    };
    const FLOOD: usize = 1000;
    let started = Instant::now();
    let flood = stream::iter(0..FLOOD)
        .map(|_| async { code_of(read("203.0.113.66").send().await.unwrap()).await })
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    let honest = async {
        let mut answers = Vec::new();
        for _ in 0..20 {
            answers.push(read("198.51.100.7").send().await.unwrap().status());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        answers
    };
    let (flood, honest) = futures::join!(flood, honest);
    // The default allowance: a burst of 60, then 10 a second.
    let allowance = 60 + (started.elapsed().as_secs_f64() * 10.0).ceil() as usize + 1;
    let served = flood.iter().filter(|(s, ..)| *s == StatusCode::OK).count();
    for (status, headers, code) in &flood {
        let ok = match *status {
            StatusCode::OK => served <= allowance,
            StatusCode::TOO_MANY_REQUESTS => {
                code == "rate_limited" && retry_after(headers).is_some_and(|s| s >= 1)
            }
            _ => false,
        };
        group.check(ok, || {
            format!("flood: {status} {code} ({served} served, allowance {allowance})")
        });
    }
    for (i, status) in honest.iter().enumerate() {
        group.check(*status == StatusCode::OK, || {
            format!("honest read {i} during the flood → {status}")
        });
    }
    end(group, &server, &before).await
}

/// One client opens thousands of event streams: it gets its share (16), the rest 503, and an
/// honest client still gets one; when the attacker lets go, the slots come back.
async fn thousands_of_streams_from_one_client() -> Group {
    let (mut group, server, before, (_, id)) = start(
        "thousands of streams from one client",
        &[
            ("SCANPAY_RATE_LIMIT", "on"),
            // The stream cap is under test here, not the request rate.
            ("SCANPAY_RATE_LIMIT_BURST", "100000"),
            ("SCANPAY_RATE_LIMIT_PER_SEC", "100000"),
            ("SCANPAY_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let events = server.url(&format!("/api/pay/{id}/events"));
    let open = |client: &'static str| {
        server
            .client
            .get(&events)
            .header("x-forwarded-for", client)
            .send()
    };
    const ATTEMPTS: usize = 2000;
    let answers: Vec<reqwest::Response> = stream::iter(0..ATTEMPTS)
        .map(|_| async { open("203.0.113.77").await.unwrap() })
        .buffer_unordered(64)
        .collect()
        .await;
    let (held, refused): (Vec<_>, Vec<_>) = answers
        .into_iter()
        .partition(|r| r.status() == StatusCode::OK);
    group.check(held.len() == 16, || {
        format!("{} streams held by one client (cap 16)", held.len())
    });
    for response in refused {
        let (status, headers, code) = code_of(response).await;
        let ok = status == StatusCode::SERVICE_UNAVAILABLE
            && code == "streams_full"
            && retry_after(&headers).is_some();
        group.check(ok, || format!("stream attempt → {status} {code}"));
    }
    let honest = open("198.51.100.8").await.unwrap();
    group.check(honest.status() == StatusCode::OK, || {
        format!(
            "an honest stream beside the attacker's → {}",
            honest.status()
        )
    });
    drop(held);
    let back = crate::harness::wait_until(Duration::from_secs(5), || async {
        (open("203.0.113.77").await.ok()?.status() == StatusCode::OK).then_some(())
    })
    .await;
    group.check(back.is_some(), || "slots were never given back".into());
    end(group, &server, &before).await
}

/// Another site's forms and scripts, and framing.
async fn cross_site_and_framing() -> Group {
    let (mut group, server, before, (order, payment)) =
        start("cross-site posts and framing", &[]).await;
    let approve = format!("{}/approve", server.code_url(&payment).await);
    let pay_again = server.url(&format!("/orders/{order}/pay"));
    let home = server.url("/");
    let create_order = server.url("/api/create_order");
    let new_payment = server.url("/api/current_or_new_payment");
    let rest_order = server.url("/api/orders");
    let rest_payment = server.url("/api/pay/create");
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (&home, vec![("amount", "12"), ("description", "x")]),
        (&pay_again, vec![("method", "alipay")]),
        (
            &create_order,
            vec![("amount_fen", "100"), ("description", "x")],
        ),
        (
            &new_payment,
            vec![("order_id", &order), ("method", "alipay")],
        ),
        (&approve, vec![]),
    ];
    for (url, form) in &forms {
        // A modern browser says cross-site; an older one only sends Origin.
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ] {
            let request = server.client.post(*url).header(name, value).form(form);
            let (status, _, code) = code_of(request.send().await.unwrap()).await;
            group.check(
                status == StatusCode::FORBIDDEN && code == "cross_site_request",
                || format!("{url} with {name}: {value} → {status} {code}"),
            );
        }
    }
    for url in [&rest_order, &rest_payment] {
        let body = json!({ "totalAmount": 1, "orderId": order });
        let request = server
            .client
            .post(url)
            .header(ORIGIN, "https://evil.example")
            .json(&body);
        let (status, _, code) = code_of(request.send().await.unwrap()).await;
        group.check(
            status == StatusCode::FORBIDDEN && code == "cross_site_request",
            || format!("{url} from another origin → {status} {code}"),
        );
    }
    // Framing: every page says it may not be framed, by CSP and by X-Frame-Options.
    let wallet = server.code_url(&payment).await;
    for url in [
        home.clone(),
        pay_again.clone(),
        server.url(&format!("/orders/{order}")),
        wallet,
        server.url("/no/such/page"),
    ] {
        let response = server.client.get(&url).send().await.unwrap();
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let frame_options = headers
            .get("x-frame-options")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        group.check(
            csp.contains("frame-ancestors 'none'") && frame_options == "DENY",
            || format!("{url} may be framed: CSP {csp:?}, X-Frame-Options {frame_options:?}"),
        );
    }
    group.compare(&before, &snapshot(&server).await, &[]);
    let status = server.payment_status(&payment).await["status"].clone();
    group.check(status == "pending", || format!("the payment is {status}"));
    group
}

/// Forged, stale, probing, tampered, misdirected and malformed notifications for both
/// protocols (callbacks.rs's lists), then a genuine one replayed: one transition in all.
async fn callbacks() -> Group {
    let mut group = Group::new("forged, stale, tampered, replayed callbacks (both providers)");
    for method in METHODS {
        let server = TestServer::start_with(Options {
            method,
            ..quiet(&[])
        })
        .await;
        let (_, id) = server.pending_payment(12).await;
        let (_, other) = payment_of_the_other_protocol(&server, method).await;
        let before = snapshot(&server).await;
        let refused = match method {
            "wechatpay" => wrong_wechat_notifications(&server, &id, &other).await,
            _ => wrong_alipay_notifications(&server, &id, &other).await,
        };
        group.asserted(refused.cases);
        // The verified one with the wrong amount is logged on the payment (one line).
        group.compare(&before, &snapshot(&server).await, &[("payment_events", 1)]);
        // A genuine notification pays (expected), its replays change nothing.
        let keys = provider_keys(&server).await;
        let (_, pay_id) = server.pending_payment(3).await;
        let (_, ok) = post_genuine_paid(&server, &keys, method, &pay_id, 300, "EV-genuine").await;
        assert!(ok, "{method}: the genuine notification was refused");
        let before = snapshot(&server).await;
        for _ in 0..20 {
            let (status, ok) =
                post_genuine_paid(&server, &keys, method, &pay_id, 300, "EV-genuine").await;
            group.check(ok, || format!("{method}: a replay → {status}"));
        }
        group.compare(&before, &snapshot(&server).await, &[]);
    }
    group
}

/// Ids and amounts of every shape, on every route that takes one.
async fn malformed_ids_and_amounts() -> Group {
    let (mut group, server, before, (order, payment)) =
        start("malformed ids, amounts and descriptions", &[]).await;
    let long = format!("pay_{}", "A".repeat(4000));
    let bad_ids = [
        "x",
        "pay_",
        "pay_AAAAAAAAAAAAAAAAAAAAA",
        "pay_AAAAAAAAAAAAAAAAAAAAAAA",
        "pay_AAAAAAAAAAAAAAAAAAAA%2F",
        "pay_AAAAAAAAAAAAAAAAAAAA%00",
        "pay_%E4%BD%A0AAAAAAAAAAAAAAAAAAA",
        "pay_'%20OR%201=1--AAAAAAAAAA",
        "..%2F..%2Fetc%2Fpasswd",
        long.as_str(),
    ];
    for bad in bad_ids {
        let order_like = bad.replacen("pay_", "ord_", 1);
        for path in [
            format!("/api/pay/{bad}/status"),
            format!("/api/pay/{bad}/status?wait=5"),
            format!("/api/pay/{bad}/events"),
            format!("/api/pay/{bad}/qr.svg"),
            format!("/api/orders/{order_like}"),
            format!("/orders/{order_like}"),
            format!("/orders/{order_like}/pay"),
        ] {
            let status = server
                .client
                .get(server.url(&path))
                .send()
                .await
                .unwrap()
                .status();
            group.check(status == StatusCode::BAD_REQUEST, || {
                format!("{path} → {status}")
            });
        }
    }
    // Well-formed but unknown, and a payment id where an order id goes: 404, no detail.
    for path in [
        "/api/pay/pay_AAAAAAAAAAAAAAAAAAAAAA/status".to_string(),
        "/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/pay".to_string(),
        format!("/api/orders/{}", payment.replacen("pay_", "ord_", 1)),
    ] {
        let status = server
            .client
            .get(server.url(&path))
            .send()
            .await
            .unwrap()
            .status();
        group.check(status == StatusCode::NOT_FOUND, || {
            format!("{path} → {status}")
        });
    }
    // Amounts: the REST API's JSON numbers, the page form's typed text, the server function's fen.
    let json_amounts = [
        "0",
        "-1",
        "0.001",
        "1.234",
        "1e30",
        "1e400",
        "-0",
        "1000000.01",
        "\"12\"",
        "null",
        "true",
        "[]",
        "{}",
        "\"１２\"",
        "9007199254740993",
    ];
    for amount in json_amounts {
        let body = format!("{{\"totalAmount\":{amount}}}");
        let (status, answer) = server.post_raw("/api/orders", &body).await;
        group.check(
            status.is_client_error() && answer["code"].is_string(),
            || format!("REST amount {amount} → {status} {answer}"),
        );
    }
    let typed_amounts = [
        "",
        "0",
        "-5",
        "abc",
        "1,29",
        "1.234",
        "¥¥1",
        "1e3",
        "12..5",
        "NaN",
        "Infinity",
        "1000001",
        "１２．３４５",
        "12 34",
        "0x10",
    ];
    let fen_amounts = [
        "-1",
        "0",
        "abc",
        "1e3",
        "99999999999999999999",
        "100000001",
        "",
    ];
    // The page form takes amounts as typed, the server function in fen.
    let forms = typed_amounts
        .iter()
        .map(|amount| ("/", "amount", amount))
        .chain(
            fen_amounts
                .iter()
                .map(|fen| ("/api/create_order", "amount_fen", fen)),
        );
    for (path, field, amount) in forms {
        let form = [(field, *amount), ("description", "x")];
        let request = server.client.post(server.url(path)).form(&form);
        let status = request.send().await.unwrap().status();
        group.check(status == StatusCode::BAD_REQUEST, || {
            format!("{path} {field}={amount:?} → {status}")
        });
    }
    // Descriptions a shopper would be misled by: control and direction-override characters.
    for description in [
        "a\u{202e}gnp.exe",
        "a\u{0}b",
        "line\nbreak",
        "\u{2066}x\u{2069}",
    ] {
        let body = json!({ "totalAmount": 1, "description": description });
        let (status, answer) = server.post("/api/orders", body).await;
        group.check(status.is_client_error(), || {
            format!("description {description:?} → {status} {answer}")
        });
    }
    group.compare(&before, &snapshot(&server).await, &[]);
    let status = server.payment_status(&payment).await["status"].clone();
    group.check(status == "pending", || format!("{order}: payment {status}"));
    group
}

/// The same create sent 50 times at once: one order, one payment.
async fn concurrent_duplicate_creates() -> Group {
    let mut group = Group::new("concurrent duplicate creates");
    let server = TestServer::start_with(quiet(&[])).await;
    let before = snapshot(&server).await;
    let body = json!({ "totalAmount": 21, "description": "dup" });
    let answers: Vec<(StatusCode, Value)> = stream::iter(0..50)
        .map(|_| async {
            let response = server
                .client
                .post(server.url("/api/orders"))
                .header("idempotency-key", "hostile-duplicate-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        })
        .buffer_unordered(50)
        .collect()
        .await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .filter_map(|(_, body)| body["data"]["id"].as_str().map(str::to_string))
        .collect();
    for (status, answer) in &answers {
        // The first answer, replayed; or "the same key is still being answered" (409).
        let ok = (*status == StatusCode::OK && ids.len() == 1)
            || (*status == StatusCode::CONFLICT && answer["code"].is_string());
        group.check(ok, || format!("duplicate create → {status} {answer}"));
    }
    let order = ids.into_iter().next().expect("one order created");
    let answers: Vec<(StatusCode, Value)> = stream::iter(0..50)
        .map(|_| async {
            let response = server
                .client
                .post(server.url("/api/payment_for_page"))
                .form(&[("order_id", order.as_str())])
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        })
        .buffer_unordered(50)
        .collect()
        .await;
    let payments: std::collections::HashSet<String> = answers
        .iter()
        .filter_map(|(_, body)| body["paymentId"].as_str().map(str::to_string))
        .collect();
    for (status, answer) in &answers {
        group.check(*status == StatusCode::OK && payments.len() == 1, || {
            format!(
                "first visits at once → {status} {answer} ({} payments)",
                payments.len()
            )
        });
    }
    group.compare(
        &before,
        &snapshot(&server).await,
        &[
            ("orders", 1),
            ("payments", 1),
            ("payments WHERE status = 'pending'", 1),
            ("payment_events", 1),
            ("idempotency_keys", 1),
        ],
    );
    group
}

#[tokio::test]
async fn the_attackers_suite_is_refused_and_changes_nothing() {
    let groups = [
        bodies_and_connections().await,
        flood_beside_an_honest_client().await,
        thousands_of_streams_from_one_client().await,
        cross_site_and_framing().await,
        callbacks().await,
        malformed_ids_and_amounts().await,
        concurrent_duplicate_creates().await,
    ];

    let mut table = String::from(
        "| group | cases tried | refused as expected | state changes observed |\n|---|---:|---:|---:|\n",
    );
    let (mut tried, mut as_expected, mut changes) = (0, 0, 0);
    for g in &groups {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} |",
            g.name, g.tried, g.as_expected, g.state_changes
        );
        tried += g.tried;
        as_expected += g.as_expected;
        changes += g.state_changes;
    }
    let _ = writeln!(
        table,
        "| **all** | **{tried}** | **{as_expected}** | **{changes}** |"
    );
    println!("hostile-input suite:\n{table}");
    let failures: Vec<&String> = groups.iter().flat_map(|g| &g.failures).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!((as_expected, changes), (tried, 0));
}
