//! The merchant's side of webhooks: the list of deliveries (pages, status filter), sending one
//! again, no events at all without endpoints, the settings checked at start; in production, a
//! keyed order paid through the standalone sandbox is announced, and the list needs the key.
use crate::harness::{wait_until, Options, TestServer};
use crate::production::standalone_sandbox;
use crate::webhook_receiver::Receiver;
use crate::webhooks::{
    deliveries, paid_merchant_order, paid_order, server_for, stored, SETTLE, SHORT_RETRIES, SOON,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn the_merchant_lists_deliveries_a_page_at_a_time_and_sends_one_again() {
    let (a, b) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    let server = server_for(
        &format!("{},{}", a.url, b.url),
        SHORT_RETRIES,
        Options::default(),
    )
    .await;
    let (order, payment) = paid_order(&server, 6).await;
    let first = a.wait_for(1, SOON).await[0].clone();
    b.wait_for(1, SOON).await;
    let all = wait_until(SOON, || async {
        let list = deliveries(&server, "?status=delivered").await;
        (list.len() == 2).then_some(list)
    })
    .await
    .expect("both delivered");
    assert!(
        all[0]["id"].as_i64() > all[1]["id"].as_i64(),
        "newest first"
    );
    for d in &all {
        assert_eq!(
            (&d["type"], &d["attempts"], &d["lastStatusCode"]),
            (&json!("order.paid"), &json!(1), &json!(200))
        );
        assert_eq!(
            (d["orderId"].as_str(), d["paymentId"].as_str()),
            (Some(order.as_str()), Some(payment.as_str()))
        );
        assert_eq!(d["eventId"], first.id());
    }
    // Pages of one: the newest, then the other, then none.
    let (status, page) = server.get("/api/webhooks/deliveries?limit=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"]["deliveries"][0]["id"], all[0]["id"]);
    let next = page["data"]["nextBefore"].clone();
    let (_, page) = server
        .get(&format!("/api/webhooks/deliveries?limit=1&before={next}"))
        .await;
    assert_eq!(page["data"]["deliveries"][0]["id"], all[1]["id"]);
    let next = page["data"]["nextBefore"].clone();
    let (_, page) = server
        .get(&format!("/api/webhooks/deliveries?limit=1&before={next}"))
        .await;
    assert_eq!(
        (
            page["data"]["deliveries"].as_array().unwrap().len(),
            &page["data"]["nextBefore"]
        ),
        (0, &Value::Null)
    );
    assert!(deliveries(&server, "?status=failed").await.is_empty());
    for bad in ["?status=lost", "?limit=0", "?limit=x", "?before=x"] {
        let (status, body) = server.get(&format!("/api/webhooks/deliveries{bad}")).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::BAD_REQUEST, &json!("parameter_invalid")),
            "{bad}"
        );
    }

    // Sent again to endpoint a: the same event, the same webhook-id, a fresh signature.
    let to_a = all.iter().find(|d| d["endpointUrl"] == a.url).unwrap();
    let (status, resent) = server
        .post(
            &format!("/api/webhooks/deliveries/{}/resend", to_a["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(
        (&resent["data"]["status"], &resent["data"]["eventId"]),
        (&json!("pending"), &to_a["eventId"])
    );
    let again = a.wait_for(2, SOON).await;
    assert_eq!(again[1].id(), first.id());
    assert_eq!(again[1].verified(), first.verified());
    wait_until(SOON, || async {
        let list = deliveries(&server, "").await;
        let d = list.iter().find(|d| d["id"] == to_a["id"]).cloned()?;
        (d["status"] == "delivered" && d["attempts"] == 2).then_some(())
    })
    .await
    .expect("the resend delivered, two attempts counted");
    tokio::time::sleep(SETTLE).await;
    assert_eq!(
        b.received().len(),
        1,
        "only the delivery asked for is sent again"
    );
    for unknown in ["999999", "abc"] {
        let (status, body) = server
            .post(
                &format!("/api/webhooks/deliveries/{unknown}/resend"),
                json!({}),
            )
            .await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::NOT_FOUND, &json!("webhook_delivery_not_found")),
            "{unknown}"
        );
    }
}

#[tokio::test]
async fn without_endpoints_no_event_is_written() {
    let server = TestServer::start().await;
    let (_, payment) = paid_order(&server, 2).await;
    let events = stored(
        &server,
        "SELECT CAST(COUNT(*) AS TEXT) FROM webhook_events WHERE payment_id = $1",
        &payment,
    )
    .await;
    assert_eq!(events.as_deref(), Some("0"));
    assert!(deliveries(&server, "").await.is_empty());
}

#[tokio::test]
async fn webhook_settings_are_checked_at_start_without_showing_the_secret() {
    let refused = |env: &[(&str, &str)]| {
        let extra_env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TestServer::fails_to_start(Options {
            extra_env,
            ..Options::default()
        })
    };
    let (status, stderr) = refused(&[("SCANPAY_WEBHOOK_URLS", "https://shop.example/hooks")]).await;
    assert!(!status.success());
    assert!(
        stderr.contains("SCANPAY_WEBHOOK_SECRET=\"\": required with SCANPAY_WEBHOOK_URLS"),
        "{stderr}"
    );
    let (status, stderr) = refused(&[
        (
            "SCANPAY_WEBHOOK_URLS",
            "http://shop.example/hooks,https://shop.example/ok",
        ),
        ("SCANPAY_WEBHOOK_SECRET", "whsec_hunter2hunter2"),
    ])
    .await;
    assert!(!status.success());
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("configuration"))
        .collect();
    assert_eq!(lines.len(), 2, "one line per problem: {stderr}");
    assert!(
        lines[0]
            .contains("SCANPAY_WEBHOOK_URLS=\"http://shop.example/hooks\": an absolute https URL"),
        "{stderr}"
    );
    assert!(lines[1].contains("SCANPAY_WEBHOOK_SECRET"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_production_a_keyed_order_is_announced_with_its_reference_and_the_list_needs_the_key() {
    let standalone = standalone_sandbox().await;
    let receiver = Receiver::start(&[]).await;
    let options = Options {
        production: true,
        extra_env: standalone.provider_env().await,
        ..Options::default()
    };
    let server = server_for(&receiver.url, SHORT_RETRIES, options).await;
    let created = json!({ "totalAmount": 12.5, "reference": "SO-2001" });
    let (order, _) = paid_merchant_order(&server, created).await;
    let event = receiver.wait_for(1, SOON).await[0].verified();
    assert_eq!(event["type"], "order.paid");
    let data = &event["data"];
    assert_eq!(
        (&data["reference"], &data["amountFen"]),
        (&json!("SO-2001"), &json!(1250))
    );
    let detail = server.order(&order).await;
    let transaction = &detail["payments"][0]["providerTransactionId"];
    assert!(transaction.is_string(), "{detail}");
    assert_eq!(&data["providerTransactionId"], transaction);

    // The merchant's list and resend: with the harness's key, and not without one.
    let delivered = wait_until(SOON, || async {
        let list = deliveries(&server, "?status=delivered").await;
        (list.len() == 1).then(|| list[0].clone())
    })
    .await
    .expect("delivered");
    let anonymous = reqwest::Client::new();
    let list = anonymous.get(server.url("/api/webhooks/deliveries"));
    let resend = anonymous.post(server.url(&format!(
        "/api/webhooks/deliveries/{}/resend",
        delivered["id"]
    )));
    for request in [list, resend] {
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "api_key_required");
    }
    // Another key of the shop sees none of this key's deliveries and cannot resend them.
    let (ok, other, stderr) = server.keys(&["create", "another shop"]);
    assert!(ok, "{stderr}");
    let other = other.trim();
    let answer = anonymous
        .get(server.url("/api/webhooks/deliveries"))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["data"]["deliveries"], json!([]), "{body}");
    let answer = anonymous
        .post(server.url(&format!(
            "/api/webhooks/deliveries/{}/resend",
            delivered["id"]
        )))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    tokio::time::sleep(SETTLE).await;
    assert_eq!(receiver.received().len(), 1, "nothing was sent again");
}
