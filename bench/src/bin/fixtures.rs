//! Test data for the load benchmarks (the load itself comes from wrk): creates orders, or orders
//! each with a pending payment, through the REST API, and prints one id per line.
//!
//! `fixtures <base-url> orders|payments <count>`
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    let response = client.post(&url).json(&body).send().await.expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON answer");
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, kind, count] = args.as_slice() else {
        panic!("usage: fixtures <base-url> orders|payments <count>");
    };
    let count: usize = count.parse().expect("count");
    let with_payment = match kind.as_str() {
        "orders" => false,
        "payments" => true,
        other => panic!("unknown kind {other}: orders or payments"),
    };
    let client = reqwest::Client::new();
    let ids: Vec<String> = stream::iter(0..count)
        .map(|i| {
            let client = &client;
            async move {
                let order = post(
                    client,
                    format!("{base}/api/orders"),
                    json!({ "totalAmount": (i % 500) + 1 }),
                )
                .await;
                let order_id = order["data"]["id"].as_str().expect("order id").to_string();
                if !with_payment {
                    return order_id;
                }
                let payment = post(
                    client,
                    format!("{base}/api/pay/create"),
                    json!({ "orderId": order_id }),
                )
                .await;
                payment["data"]["paymentId"]
                    .as_str()
                    .expect("payment id")
                    .to_string()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    println!("{}", ids.join("\n"));
}
