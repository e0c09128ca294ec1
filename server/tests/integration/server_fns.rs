//! Server functions over HTTP, as the payment page calls them: the status read (dispatched by
//! `server/src/server_fns.rs`) and the others (dispatched by leptos_axum).
use crate::harness::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

async fn status_read(server: &TestServer, query: &str) -> (StatusCode, Value) {
    server.get(&format!("/api/get_payment_status{query}")).await
}

#[tokio::test]
async fn the_status_read_answers_what_the_rest_read_answers_and_follows_the_payment() {
    let server = TestServer::start().await;
    let (order, id) = server.pending_payment(12.34).await;

    let (status, view) = status_read(&server, &format!("?payment_id={id}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["paymentId"], id.as_str());
    assert_eq!(view["orderId"], order.as_str());
    assert_eq!(view["status"], "pending");
    assert_eq!(view["amountFen"], 1234);
    assert_eq!(
        view["expiresAtMs"],
        server.payment_status(&id).await["expiresAt"]
    );

    assert_eq!(server.wallet(&id, "approve").await, StatusCode::OK);
    server
        .wait_status(&id, "paid", std::time::Duration::from_secs(5))
        .await;
    let (status, view) = status_read(&server, &format!("?payment_id={id}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "paid");
    assert!(view["paidAtMs"].is_i64(), "{view}");
}

/// A read served from memory (`server/src/status_reads.rs`, before the Router) answers what the
/// first read, which went through the route and the database, answered: same status, headers
/// and body (but for the server's clock), for the REST read and the server function alike.
#[tokio::test]
async fn a_read_from_memory_answers_as_the_routed_read_does() {
    let server = TestServer::start().await;
    let answer = |path: String| {
        let request = server.client.get(server.url(&path));
        async move {
            let response = request.send().await.expect("GET");
            let status = response.status();
            let mut headers: Vec<_> = response
                .headers()
                .iter()
                .filter(|(name, _)| {
                    !["date", "x-request-id", "content-length"].contains(&name.as_str())
                })
                .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
                .collect();
            headers.sort();
            let mut body: Value = response.json().await.expect("JSON");
            // The server's clock, `serverNow` (REST, in `data`) or `serverNowMs`, differs.
            let view = if body.get("data").is_some() {
                &mut body["data"]
            } else {
                &mut body
            };
            let view = view.as_object_mut().expect("an object");
            let clock = [view.remove("serverNow"), view.remove("serverNowMs")];
            assert!(clock.iter().any(Option::is_some), "{body}");
            (status, headers, body)
        }
    };
    for path in [
        "/api/pay/{id}/status",
        "/api/get_payment_status?payment_id={id}",
    ] {
        // A new payment is not in memory yet: its first read is the route's.
        let (_, id) = server.pending_payment(9.5).await;
        let path = path.replace("{id}", &id);
        let routed = answer(path.clone()).await;
        assert_eq!(routed.0, StatusCode::OK, "{path}: {routed:?}");
        for _ in 0..2 {
            assert_eq!(answer(path.clone()).await, routed, "{path}");
        }
    }
}

#[tokio::test]
async fn the_status_read_refuses_bad_requests_with_a_message() {
    let server = TestServer::start().await;
    let unknown = "pay_AAAAAAAAAAAAAAAAAAAAAA";
    let (status, error) = status_read(&server, &format!("?payment_id={unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], "payment_not_found", "{error}");

    let (status, error) = status_read(&server, "?payment_id=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "payment_id_invalid", "{error}");

    let (status, error) = status_read(&server, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "parameter_invalid", "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("payment_id"), "{error}");

    // A read is a GET; anything else is refused and changes nothing.
    let response = server
        .client
        .post(server.url("/api/get_payment_status"))
        .form(&[("payment_id", unknown)])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_other_server_functions_are_still_served() {
    let server = TestServer::start().await;
    let order = server.create_order(3.into()).await;
    let response = server
        .client
        .post(server.url("/api/current_or_new_payment"))
        .form(&[("order_id", order.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::OK);
    let view: Value = response.json().await.expect("JSON");
    assert_eq!(view["orderId"], order.as_str());
    assert_eq!(view["status"], "pending");

    // Their errors carry the status of their kind too, and create nothing.
    let response = server
        .client
        .post(server.url("/api/current_or_new_payment"))
        .form(&[("order_id", "ord_AAAAAAAAAAAAAAAAAAAAAA")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = server
        .client
        .post(server.url("/api/create_order"))
        .form(&[("amount_fen", "-5"), ("description", "x")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["code"], "amount_invalid", "{error}");
    assert_eq!(server.rows("orders").await, 1);
}
