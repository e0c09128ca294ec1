//! Production mode and the merchant's API: a server that refuses to start on what production
//! must not run with, API keys from `server keys`, orders with the shop's reference and return
//! URL, `Idempotency-Key`, and nothing anonymous that creates, reads the history or moves money.
use crate::harness::{Options, TestServer};
use crate::production::standalone_sandbox;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fixture(path: &str) -> String {
    format!(
        "{}/../payments/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn production_refuses_to_start_and_names_each_problem() {
    let (status, stderr) = TestServer::fails_to_start(Options {
        extra_env: env(&[
            ("SCANPAY_MODE", "production"),
            ("SCANPAY_PUBLIC_URL", "http://pay.shop.example"),
            ("SCANPAY_AUTOPAY", "5..15"),
            ("SCANPAY_SANDBOX", "on"),
        ]),
        ..Options::default()
    })
    .await;
    assert!(!status.success(), "{stderr}");
    for named in [
        "SCANPAY_WECHATPAY_MCHID / SCANPAY_ALIPAY_APP_ID",
        "SCANPAY_PUBLIC_URL=\"http://pay.shop.example\"",
        "SCANPAY_AUTOPAY=\"5..15\"",
        "SCANPAY_SANDBOX=\"on\"",
    ] {
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(named)).collect();
        assert_eq!(lines.len(), 1, "one line naming {named}:\n{stderr}");
    }

    let (status, stderr) = TestServer::fails_to_start(Options {
        extra_env: env(&[("SCANPAY_MODE", "staging")]),
        ..Options::default()
    })
    .await;
    assert!(!status.success());
    assert!(
        stderr.contains("SCANPAY_MODE=\"staging\": development or production"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_keys_published_with_the_tests() {
    let standalone = standalone_sandbox().await;
    let mut extra = standalone.provider_env().await;
    extra.push(("SCANPAY_MODE".into(), "production".into()));
    extra.push((
        "SCANPAY_WEBHOOK_URLS".into(),
        "https://shop.example/scanpay".into(),
    ));
    extra.push((
        "SCANPAY_WEBHOOK_SECRET".into(),
        // The Standard Webhooks specification's example secret.
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
    ));
    for (key, value) in extra.iter_mut() {
        if key == "SCANPAY_ALIPAY_APP_PRIVATE_KEY_FILE" {
            *value = fixture("alipay-sdk-nodejs-all/app-private-key-pkcs8.pem");
        }
        if key == "SCANPAY_WECHATPAY_APIV3_KEY" {
            *value = "0123456789abcdef0123456789abcdef".into();
        }
    }
    let (status, stderr) = TestServer::fails_to_start(Options {
        extra_env: extra,
        ..Options::default()
    })
    .await;
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("SCANPAY_ALIPAY_APP_PRIVATE_KEY_FILE"),
        "{stderr}"
    );
    assert!(stderr.contains("SCANPAY_WECHATPAY_APIV3_KEY"), "{stderr}");
    assert!(stderr.contains("SCANPAY_WEBHOOK_SECRET"), "{stderr}");
    assert!(
        !stderr.contains("0123456789abcdef") && !stderr.contains("MfKQ9r8GKYqrTwjUPD8"),
        "a secret was printed: {stderr}"
    );
}

/// A production server paid through a standalone sandbox.
async fn production_server() -> (crate::production::Standalone, TestServer) {
    let standalone = standalone_sandbox().await;
    let server = TestServer::start_with(Options {
        production: true,
        extra_env: standalone.provider_env().await,
        ..Options::default()
    })
    .await;
    (standalone, server)
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let r = request.send().await.expect("request");
    let (status, headers) = (r.status(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_production_nothing_anonymous_creates_reads_the_history_or_moves_money() {
    let (_standalone, server) = production_server().await;
    let key = server.api_key.clone().expect("the harness's key");
    let order = server.create_order(json!(5)).await;
    let anonymous = &server.client;

    // Creating, reading the full order and creating payments need the key.
    for (request, what) in [
        (
            anonymous
                .post(server.url("/api/orders"))
                .json(&json!({ "totalAmount": 1 })),
            "POST /api/orders",
        ),
        (
            anonymous.get(server.url(&format!("/api/orders/{order}"))),
            "GET order",
        ),
        (
            anonymous
                .post(server.url("/api/pay/create"))
                .json(&json!({ "orderId": order })),
            "POST /api/pay/create",
        ),
    ] {
        let (status, body, _) = send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["code"], "api_key_required", "{what}");
    }
    let (status, body, _) = send(
        anonymous
            .post(server.url("/api/orders"))
            .bearer_auth(format!("{key}x"))
            .json(&json!({ "totalAmount": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "api_key_invalid");

    // The demo shop's server function and the sandbox are not there.
    let r = anonymous
        .post(server.url("/api/create_order"))
        .form(&[("amount_fen", "100"), ("description", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("not_in_production"));
    // Nor its form posted without JavaScript: the home page says so and nothing is created.
    let orders = server.rows("orders").await;
    let r = anonymous
        .post(server.url("/"))
        .form(&[("amount", "1"), ("description", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("form-error"));
    assert_eq!(server.rows("orders").await, orders);
    for path in ["/sandbox/credentials", "/sandbox/faults"] {
        let r = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = anonymous
        .put(server.url("/sandbox/faults"))
        .json(&json!({ "declineAll": true }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    // The shopper's answers carry no history; nothing written anonymously.
    assert_eq!(server.order(&order).await["payments"], json!([]));
    let r = anonymous
        .post(server.url("/api/get_order"))
        .form(&[("order_id", order.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Another key does not see this key's order; a revoked key is refused.
    let (ok, other, stderr) = server.keys(&["create", "another shop"]);
    assert!(ok, "{stderr}");
    let (status, body, _) = send(
        anonymous
            .get(server.url(&format!("/api/orders/{order}")))
            .bearer_auth(other.trim()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (ok, listed, _) = server.keys(&["list"]);
    assert!(ok);
    let harness_key_id = listed
        .lines()
        .find(|l| l.contains("\tharness\t"))
        .and_then(|l| l.split('\t').next())
        .expect("the harness's key listed")
        .to_string();
    assert!(
        !listed.contains(&key),
        "a listed key shows its secret: {listed}"
    );
    let (ok, _, stderr) = server.keys(&["revoke", &harness_key_id]);
    assert!(ok, "{stderr}");
    let (status, body, _) = send(
        anonymous
            .get(server.url(&format!("/api/orders/{order}")))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "api_key_revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_production_a_keyed_order_is_paid_and_the_shopper_returns_to_the_shop() {
    let (_standalone, server) = production_server().await;
    let return_url = "https://shop.example/orders/SO-1001?paid=1";
    let (status, body) = server
        .post(
            "/api/orders",
            json!({
                "totalAmount": "12.50",
                "description": "机械键盘",
                "reference": "SO-1001",
                "returnUrl": return_url,
            }),
        )
        .await;
    // String amounts are refused (exact numbers only), as the README says.
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let create = json!({
        "totalAmount": 12.5,
        "description": "机械键盘",
        "reference": "SO-1001",
        "returnUrl": return_url,
    });
    let (status, body) = server.post("/api/orders", create.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["reference"], "SO-1001");
    assert_eq!(body["data"]["returnUrl"], return_url);
    let pay_url = body["data"]["payUrl"].as_str().unwrap().to_string();
    assert_eq!(pay_url, server.url(&format!("/orders/{order}/pay")));

    // The same reference is the same order; with another amount it is a conflict.
    let (status, again) = server.post("/api/orders", create).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["data"]["id"], order.as_str());
    let (status, body) = server
        .post(
            "/api/orders",
            json!({ "totalAmount": 13, "reference": "SO-1001" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "reference_conflict");
    let (status, body) = server
        .post(
            "/api/orders",
            json!({ "totalAmount": 1, "returnUrl": "http://shop.example/plain" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "return_url_invalid");

    // The shopper opens the pay page (no key): a QR, and the way back is the shop's.
    let page = server.client.get(&pay_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("qr.svg"), "the pay page shows a QR");
    assert!(
        html.contains("shop.example"),
        "the return URL travels with the page"
    );
    let detail = server.order(&order).await;
    let payment = detail["payments"][0]["paymentId"]
        .as_str()
        .unwrap()
        .to_string();
    // Asking for a payment again answers the shopper's pending one: nothing closes their QR.
    let p = server.create_payment(&order).await;
    assert_eq!(p["paymentId"], payment.as_str());

    assert_eq!(server.wallet(&payment, "approve").await, StatusCode::OK);
    server
        .wait_status(&payment, "paid", Duration::from_secs(5))
        .await;
    let status = server.payment_status(&payment).await;
    for internal in ["events", "providerTransactionId", "codeUrl"] {
        assert!(status.get(internal).is_none(), "{internal} in {status}");
    }
    let detail = server.order(&order).await;
    assert_eq!(detail["status"], "paid");
    assert!(detail["payments"][0]["providerTransactionId"].is_string());
    assert!(!detail["payments"][0]["events"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_other_parameters_and_refuse_while_in_flight() {
    let server = TestServer::start().await;
    let post = |key: &str, body: Value| {
        server
            .client
            .post(server.url("/api/orders"))
            .header("idempotency-key", key)
            .json(&body)
    };
    let (status, first, headers) = send(post("k-1", json!({ "totalAmount": 3 }))).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    let (status, again, headers) = send(post("k-1", json!({ "totalAmount": 3 }))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first, "the first answer, replayed");
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, body, _) = send(post("k-1", json!({ "totalAmount": 4 }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "idempotency_key_reused");
    let (status, body, _) = send(post("a key with spaces", json!({ "totalAmount": 4 }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A refused request is replayed as refused (Stripe's rule), not run again.
    let (status, bad, _) = send(post("k-2", json!({ "totalAmount": 0 }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, bad_again, headers) = send(post("k-2", json!({ "totalAmount": 0 }))).await;
    assert_eq!((status, &bad_again), (StatusCode::BAD_REQUEST, &bad));
    assert_eq!(headers["idempotent-replayed"], "true");

    // One payment per key even when the provider is slow: the second request while the first
    // is in flight is told so, and the first one's payment is the only one.
    let order = server.create_order(json!(6)).await;
    server.set_faults(json!({ "slowAnswersMs": 600 })).await;
    let create = || {
        server
            .client
            .post(server.url("/api/pay/create"))
            .header("idempotency-key", "pay-once")
            .json(&json!({ "orderId": order }))
            .send()
    };
    let first = tokio::spawn(create());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body, _) = send(
        server
            .client
            .post(server.url("/api/pay/create"))
            .header("idempotency-key", "pay-once")
            .json(&json!({ "orderId": order })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "idempotency_key_in_flight");
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    server.set_faults(json!({})).await;
    let (status, replayed, _) = send(
        server
            .client
            .post(server.url("/api/pay/create"))
            .header("idempotency-key", "pay-once")
            .json(&json!({ "orderId": order })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server.order(&order).await["payments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        replayed["data"]["paymentId"],
        first.json::<Value>().await.unwrap()["data"]["paymentId"]
    );
}
