//! The practical limit for the status-read benchmark: an Axum handler that answers a constant
//! of the same size as a status answer, at the status read's path, on the same runtime (tokio,
//! hyper HTTP/1, Axum) with `axum::serve`'s defaults (scanpay's own accept loop adds a
//! header-read timeout per request).
//!
//! `bare_server <port>`
use axum::routing::get;
use axum::Router;

/// A pending payment's status answer, as the REST API gives it (same length, fixed content).
const STATUS_ANSWER: &str = r#"{"data":{"paymentId":"pay_AAAAAAAAAAAAAAAAAAAAAA","status":"pending","amount":12.99,"orderId":"ord_AAAAAAAAAAAAAAAAAAAAAA","expiresAt":1790000000000,"serverNow":1790000000000,"paidAt":null,"failureReason":null}}"#;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: bare_server <port>");
    // The status read's path, so the router matches what it matches in scanpay.
    let app = Router::new().route(
        "/api/pay/{payment_id}/status",
        get(|| async { ([("content-type", "application/json")], STATUS_ANSWER) }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app.into_make_service())
        .await
        .expect("serve");
}
