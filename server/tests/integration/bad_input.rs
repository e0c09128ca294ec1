//! Every bad input gets a clear error and changes nothing.
use crate::harness::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn counts(server: &TestServer) -> (i64, i64) {
    (server.rows("orders").await, server.rows("payments").await)
}

#[tokio::test]
async fn amounts_are_parsed_exactly_in_yuan() {
    let server = TestServer::start().await;
    for (input, fen, yuan) in [
        (json!(1299), 129_900, "1299"),
        (json!(12.99), 1_299, "12.99"),
        (json!(0.01), 1, "0.01"),
        (json!(12.5), 1_250, "12.5"),
    ] {
        let (status, body) = server
            .post("/api/orders", json!({ "totalAmount": input }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["amountFen"], fen);
        assert_eq!(body["data"]["totalAmount"].to_string(), yuan);
        assert_eq!(body["data"]["status"], "pending");
    }
}

#[tokio::test]
async fn bad_amounts_and_bodies_are_rejected_without_a_trace() {
    let server = TestServer::start().await;
    let before = counts(&server).await;
    let cases: &[(&str, StatusCode, &str)] = &[
        (
            r#"{"totalAmount":0}"#,
            StatusCode::BAD_REQUEST,
            "金额必须大于 0",
        ),
        (
            r#"{"totalAmount":-5}"#,
            StatusCode::BAD_REQUEST,
            "金额必须大于 0",
        ),
        (
            r#"{"totalAmount":1.234}"#,
            StatusCode::BAD_REQUEST,
            "金额最多两位小数",
        ),
        (
            r#"{"totalAmount":1e30}"#,
            StatusCode::BAD_REQUEST,
            "金额不能超过",
        ),
        (
            r#"{"totalAmount":1000000.01}"#,
            StatusCode::BAD_REQUEST,
            "金额不能超过",
        ),
        (
            r#"{"totalAmount":"12"}"#,
            StatusCode::BAD_REQUEST,
            "金额必须是数字",
        ),
        (
            r#"{"totalAmount":null}"#,
            StatusCode::BAD_REQUEST,
            "缺少 totalAmount",
        ),
        (
            r#"{"totalAmount":true}"#,
            StatusCode::BAD_REQUEST,
            "金额必须是数字",
        ),
        (r#"{}"#, StatusCode::BAD_REQUEST, "缺少 totalAmount"),
        (
            r#"{"totalAmount":12,"description":5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "请求字段有误",
        ),
        (r#"[1,2]"#, StatusCode::UNPROCESSABLE_ENTITY, "请求字段有误"),
        (
            r#"totalAmount=12"#,
            StatusCode::BAD_REQUEST,
            "不是有效的 JSON",
        ),
        (
            r#"{"totalAmount":12"#,
            StatusCode::BAD_REQUEST,
            "不是有效的 JSON",
        ),
        ("", StatusCode::BAD_REQUEST, "请求体为空"),
    ];
    for (body, want_status, want_message) in cases {
        let (status, answer) = server.post_raw("/api/orders", body).await;
        assert_eq!(status, *want_status, "{body} → {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(want_message), "{body} → {message}");
    }
    let long = "长".repeat(201);
    let (status, answer) = server
        .post(
            "/api/orders",
            json!({ "totalAmount": 1, "description": long }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        counts(&server).await,
        before,
        "a rejected request changed the store"
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_told_apart() {
    let server = TestServer::start().await;
    let unknown_order = "ord_AAAAAAAAAAAAAAAAAAAAAA";
    let unknown_payment = "pay_AAAAAAAAAAAAAAAAAAAAAA";
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            format!("/api/orders/{unknown_order}"),
            StatusCode::NOT_FOUND,
            "订单不存在",
        ),
        (
            "/api/orders/42".into(),
            StatusCode::BAD_REQUEST,
            "订单号格式不正确",
        ),
        (
            format!("/api/pay/{unknown_payment}/status"),
            StatusCode::NOT_FOUND,
            "支付单不存在",
        ),
        (
            "/api/pay/abc/status".into(),
            StatusCode::BAD_REQUEST,
            "支付单号格式不正确",
        ),
        (
            format!("/api/pay/{unknown_payment}/qr.svg"),
            StatusCode::NOT_FOUND,
            "支付单不存在",
        ),
    ];
    for (path, want_status, want_message) in cases {
        let (status, body) = server.get(&path).await;
        assert_eq!(status, want_status, "{path} → {body}");
        assert_eq!(body["message"], want_message, "{path}");
    }
    let before = counts(&server).await;
    for (body, want_status, want_message) in [
        (
            json!({ "orderId": unknown_order }),
            StatusCode::NOT_FOUND,
            "订单不存在",
        ),
        (
            json!({ "orderId": "x" }),
            StatusCode::BAD_REQUEST,
            "订单号格式不正确",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "缺少 orderId"),
        (
            json!({ "orderId": 7 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "orderId 必须是字符串",
        ),
    ] {
        let (status, answer) = server.post("/api/pay/create", body.clone()).await;
        assert_eq!(status, want_status, "{body} → {answer}");
        assert_eq!(answer["message"], want_message);
    }
    let (status, _) = server.post_raw("/api/pay/create", "not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(counts(&server).await, before);
    // The sandbox's wallet for a trade it does not have, on either protocol.
    for method in crate::harness::METHODS {
        let page = server.url(&format!("/sandbox/pay/{method}/{unknown_payment}"));
        let opened = server.client.get(&page).send().await.unwrap().status();
        let approve = server
            .client
            .post(format!("{page}/approve"))
            .send()
            .await
            .unwrap()
            .status();
        // Alipay: opening the page of an out_trade_no never precreated creates nothing.
        assert_eq!(opened, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(approve, StatusCode::NOT_FOUND, "{method}");
    }
}

#[tokio::test]
async fn a_paid_order_cannot_be_paid_again() {
    let server = TestServer::start().await;
    let order = server.create_order(json!(88)).await;
    let payment = server.create_payment(&order).await;
    let id = payment["paymentId"].as_str().unwrap();
    assert_eq!(server.wallet(id, "approve").await, StatusCode::OK);
    server
        .wait_status(id, "paid", std::time::Duration::from_secs(5))
        .await;
    let before = counts(&server).await;
    let (status, body) = server
        .post("/api/pay/create", json!({ "orderId": order }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], Value::from("订单状态不允许支付"));
    assert_eq!(counts(&server).await, before);
}

#[tokio::test]
async fn oversized_request_heads_are_refused_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let response = reqwest::Client::new()
        .get(server.url("/healthz"))
        .header("x-padding", "a".repeat(10_000))
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert_eq!(server.health().await["status"], "ok");
}

#[tokio::test]
async fn errors_carry_a_code_and_speak_the_callers_language() {
    let server = TestServer::start().await;
    let ask = |path: String, lang: Option<&'static str>| {
        let mut request = server.client.get(server.url(&path));
        if let Some(lang) = lang {
            request = request.header("Accept-Language", lang);
        }
        async move {
            let response = request.send().await.expect("GET");
            let status = response.status();
            let body: Value = response.json().await.expect("JSON");
            (status, body)
        }
    };
    let order = "/api/orders/ord_AAAAAAAAAAAAAAAAAAAAAA".to_string();
    let payment = "/api/pay/pay_AAAAAAAAAAAAAAAAAAAAAA/status".to_string();

    let (status, body) = ask(order.clone(), Some("en-US,en;q=0.9")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "order_not_found");
    assert_eq!(body["message"], "This order does not exist");
    let (status, body) = ask(payment.clone(), Some("en")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "payment_not_found");
    assert_eq!(body["message"], "This payment does not exist");
    // Chinese without a preference, as the tutorial's server answers; the code is the same.
    let (_, body) = ask(order, None).await;
    assert_eq!(
        (&body["code"], &body["message"]),
        (&json!("order_not_found"), &json!("订单不存在"))
    );
    let (_, body) = ask(payment, Some("fr")).await;
    assert_eq!(body["message"], "支付单不存在");
}
