//! What an operator sees: `/metrics` (valid Prometheus text whose counters move with what
//! happened), where it is served, `/healthz` and `/readyz`, and the request id and log line of
//! every request.
use crate::harness::{free_port, wait_until, Options, TestServer};
use crate::provider_side::{post_wechat, provider_keys, wechat_body, wechat_transaction};
use prometheus_parse::{LineInfo, Scrape, Value};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

const SOON: Duration = Duration::from_secs(10);

/// `GET <base>/metrics`, after checking that it is Prometheus text: every line a comment or a
/// sample with a number.
async fn scrape(client: &reqwest::Client, base: &str) -> Scrape {
    let response = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("the text");
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Ignored => panic!("not Prometheus text: {line:?}"),
            LineInfo::Sample { value, .. } => {
                assert!(value.parse::<f64>().is_ok(), "not a number: {line:?}")
            }
            _ => {}
        }
    }
    Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).expect("Prometheus text")
}

/// The value of series `name` with these labels (and any others), summed; 0 when absent.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => panic!("{name} is not a number"),
        })
        .sum()
}

fn callbacks(scrape: &Scrape, outcome: &str) -> f64 {
    let labels = [("method", "wechatpay"), ("outcome", outcome)];
    value(scrape, "scanpay_callbacks_total", &labels)
}

#[tokio::test]
async fn a_paid_payment_moves_paid_by_exactly_one_and_each_notification_is_counted() {
    // Every notification arrives three times: one is applied, two are duplicates.
    let server = TestServer::start_with(Options {
        faults: r#"{"duplicateNotifications": 2}"#,
        ..Options::default()
    })
    .await;
    let wechatpay = [("method", "wechatpay")];
    let before = scrape(&server.client, &server.base).await;
    let (_, id) = server.pending_payment(12).await;
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    server.wait_status(&id, "paid", SOON).await;
    // One that cannot be verified (no signature headers) changes nothing, but is counted.
    let keys = provider_keys(&server).await;
    let body = wechat_body(&keys, "EV-unsigned", &wechat_transaction(&keys, &id, 1200));
    let (status, _) = post_wechat(&server, &[], &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let after = wait_until(SOON, || async {
        let after = scrape(&server.client, &server.base).await;
        (callbacks(&after, "duplicate") >= 2.0).then_some(after)
    })
    .await
    .expect("the two copies counted as duplicates");
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(moved("scanpay_payments_created_total", &wechatpay), 1.0);
    assert_eq!(moved("scanpay_payments_paid_total", &wechatpay), 1.0);
    assert_eq!(moved("scanpay_payments_paid_late_total", &wechatpay), 0.0);
    assert_eq!(
        callbacks(&after, "accepted") - callbacks(&before, "accepted"),
        1.0
    );
    assert_eq!(
        callbacks(&after, "unverified") - callbacks(&before, "unverified"),
        1.0
    );
    let alipay = [("method", "alipay")];
    assert_eq!(moved("scanpay_payments_paid_total", &alipay), 0.0);
    // The trade was created at the provider: one call, timed.
    let create = [("method", "wechatpay"), ("operation", "create")];
    let calls = "scanpay_provider_call_duration_seconds_count";
    assert_eq!(moved(calls, &create), 1.0);
    // The status was read while waiting: from the database, then from memory.
    let cache = moved("scanpay_status_cache_hits_total", &[])
        + moved("scanpay_status_cache_misses_total", &[]);
    assert!(cache >= 1.0, "status cache lookups: {cache}");
}

#[tokio::test]
async fn with_a_metrics_address_metrics_and_readiness_are_served_there_and_not_publicly() {
    let operator_port = free_port();
    let server = TestServer::start_with(Options {
        extra_env: vec![(
            "SCANPAY_METRICS_ADDR".to_string(),
            format!("127.0.0.1:{operator_port}"),
        )],
        ..Options::default()
    })
    .await;
    for path in ["/metrics", "/readyz"] {
        let (status, _) = server.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path} on the public port");
    }
    assert_eq!(server.health().await, json!({ "status": "ok" }));
    let operator = format!("http://127.0.0.1:{operator_port}");
    server.pending_payment(12).await;
    let metrics = scrape(&server.client, &operator).await;
    let created = [("method", "wechatpay")];
    assert_eq!(
        value(&metrics, "scanpay_payments_created_total", &created),
        1.0
    );
    let readiness = server.client.get(format!("{operator}/readyz")).send().await;
    let readiness = readiness.expect("GET /readyz");
    assert_eq!(readiness.status(), StatusCode::OK);
    let readiness: serde_json::Value = readiness.json().await.expect("JSON");
    assert_eq!(readiness["status"], "ready", "{readiness}");
}

#[tokio::test]
async fn healthz_says_only_ok_and_readiness_has_the_details_for_ten_seconds() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/healthz")).send().await;
    let response = response.expect("GET /healthz");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), r#"{"status":"ok"}"#);

    let readiness = server.readiness().await;
    assert_eq!(readiness["status"], "ready", "{readiness}");
    let database = &readiness["database"];
    let engine = if crate::harness::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(database["engine"], engine, "{readiness}");
    assert!(database["migrations"].as_i64().unwrap() >= 1, "{readiness}");
    assert_eq!(database["orders"], 0, "{readiness}");
    assert_eq!(
        readiness["providers"],
        json!({ "methods": ["wechatpay", "alipay"], "default": "wechatpay" })
    );
    let workers = readiness["workers"]["running"].as_array().unwrap();
    assert!(
        workers.contains(&json!("expiry and reconciliation")),
        "{readiness}"
    );
    // Counting rows reads whole tables: the answer stands for a while.
    server.create_order(json!(5)).await;
    assert_eq!(server.readiness().await, readiness);
}

/// Whether `want` event streams are open now.
async fn open_streams(server: &TestServer, want: f64) -> Option<()> {
    let scraped = scrape(&server.client, &server.base).await;
    let open = value(
        &scraped,
        "scanpay_live_streams_open",
        &[("transport", "sse")],
    );
    (open == want).then_some(())
}

fn request_id(response: &reqwest::Response) -> String {
    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id");
    id.to_str().unwrap().to_string()
}

/// The log line of the request with this id.
async fn logged(server: &TestServer, request_id: &str) -> String {
    let needle = format!("request_id={request_id}");
    wait_until(SOON, || async {
        let log = server.log();
        log.lines()
            .find(|line| line.contains(&needle))
            .map(str::to_string)
    })
    .await
    .unwrap_or_else(|| panic!("no log line for {request_id}:\n{}", server.log()))
}

#[tokio::test]
async fn every_request_has_an_id_and_one_log_line_without_its_query_string() {
    let server = TestServer::start_with(Options {
        extra_env: vec![("RUST_LOG".to_string(), "info".to_string())],
        ..Options::default()
    })
    .await;
    let get = |path: &str, id: Option<&str>| {
        let mut request = server.client.get(server.url(path));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let echoed = get("/healthz", Some("shop-req.42_a")).await.unwrap();
    assert_eq!(request_id(&echoed), "shop-req.42_a");
    for unsafe_id in [None, Some("two words"), Some(&*"a".repeat(65))] {
        let made = request_id(&get("/healthz", unsafe_id).await.unwrap());
        assert_ne!(Some(made.as_str()), unsafe_id);
        assert!(made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    let (_, id) = server.pending_payment(12).await;
    let path = format!("/api/pay/{id}/status");
    let with_token = format!("{path}?token=hunter2-secret&wait=0");
    let answer = get(&with_token, Some("read-with-token")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let line = logged(&server, "read-with-token").await;
    assert!(line.contains(&format!("path={path} ")), "{line}");
    assert!(
        line.contains("method=GET") && line.contains("status=200"),
        "{line}"
    );
    assert!(line.contains("latency_ms="), "{line}");

    // An event stream is logged once, when it ends; while open, it is counted.
    let stream = get(&format!("/api/pay/{id}/events"), Some("events-1")).await;
    let stream = stream.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    wait_until(SOON, || open_streams(&server, 1.0))
        .await
        .expect("one open stream");
    assert!(!server.log().contains("request_id=events-1"));
    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    stream.bytes().await.expect("the stream, to its end");
    let line = logged(&server, "events-1").await;
    assert!(line.contains("status=200"), "{line}");
    wait_until(SOON, || open_streams(&server, 0.0))
        .await
        .expect("no open stream");
    let log = server.log();
    assert_eq!(log.matches("request_id=events-1").count(), 1, "{log}");
    assert!(!log.contains("hunter2"), "{log}");
}
