//! The pages without JavaScript: the home page's order form and the payment page's 重新支付
//! are real form posts (server/src/page_forms.rs); the pages answer the status of their error.
use crate::harness::{Options, TestServer};
use app::error::ErrorCode;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use std::time::Duration;

/// A browser that does not follow redirects (to see the 303) and posts from the page itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn post_form(
    server: &TestServer,
    path: &str,
    fields: &[(&str, &str)],
    site: &str,
) -> reqwest::Response {
    browser()
        .post(server.url(path))
        .header("sec-fetch-site", site)
        .form(fields)
        .send()
        .await
        .expect("POST")
}

/// The text of the element with this id (a `<p>` with text only).
fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
    let after = html
        .split(&format!(r#"id="{id}""#))
        .nth(1)
        .unwrap_or_else(|| panic!("#{id} in {html}"));
    let start = after.find('>').map_or(0, |i| i + 1);
    let end = after.find("</p>").unwrap_or(start);
    after[start..end]
        .trim_start_matches("<!>")
        .trim_end_matches("<!>")
}

async fn page(server: &TestServer, path: &str) -> (StatusCode, String) {
    let r = browser().get(server.url(path)).send().await.expect("GET");
    (r.status(), r.text().await.expect("HTML"))
}

#[tokio::test]
async fn the_order_form_posted_without_javascript_creates_the_order_and_goes_to_pay() {
    let server = TestServer::start().await;
    let r = post_form(
        &server,
        "/",
        &[("amount", " ￥１，２９９．５ "), ("description", "键盘")],
        "same-origin",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()[LOCATION].to_str().unwrap().to_string();
    let order = location
        .strip_prefix("/orders/")
        .and_then(|rest| rest.strip_suffix("/pay"))
        .unwrap_or_else(|| panic!("the payment page: {location}"));
    let detail = server.order(order).await;
    assert_eq!(detail["amountFen"], 129_950, "{detail}");
    assert_eq!(detail["description"], "键盘");
}

#[tokio::test]
async fn a_refused_order_form_shows_the_home_page_again_with_the_error_and_creates_nothing() {
    let server = TestServer::start().await;
    let r = post_form(
        &server,
        "/?lang=en",
        &[("amount", "1,29"), ("description", "my keyboard")],
        "same-origin",
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    // The shopper's input is kept, the field is marked and described by the error.
    assert!(html.contains(r#"value="1,29""#), "{html}");
    assert!(html.contains(r#"value="my keyboard""#), "{html}");
    assert!(html.contains(r#"aria-invalid="true""#), "{html}");
    assert!(
        html.contains(r#"aria-describedby="amount-error""#),
        "{html}"
    );
    assert_eq!(
        text_of(&html, "amount-error"),
        app::i18n::EN.amount_not_a_number
    );

    let too_long = "长".repeat(payments::limits::MAX_DESCRIPTION_CHARS + 1);
    let r = post_form(
        &server,
        "/",
        &[("amount", "12"), ("description", &too_long)],
        "same-origin",
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert_eq!(
        text_of(&html, "form-error"),
        app::i18n::ZH.error(ErrorCode::DescriptionTooLong)
    );
    assert_eq!(text_of(&html, "amount-error"), "", "the amount was fine");
    assert_eq!(server.rows("orders").await, 0);
}

#[tokio::test]
async fn another_site_cannot_post_the_order_form_and_the_body_limit_applies() {
    let server = TestServer::start().await;
    let r = post_form(
        &server,
        "/",
        &[("amount", "12"), ("description", "x")],
        "cross-site",
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Over the API's body limit (16 KiB by default): refused before it is read.
    let huge = "x".repeat(32 * 1024);
    let r = post_form(
        &server,
        "/",
        &[("amount", "12"), ("description", &huge)],
        "same-origin",
    )
    .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.rows("orders").await, 0);
}

#[tokio::test]
async fn unknown_orders_answer_404_and_malformed_ids_400_with_the_page() {
    let server = TestServer::start().await;
    for path in [
        "/orders/ord_AAAAAAAAAAAAAAAAAAAAAA/pay",
        "/orders/ord_AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (status, html) = page(&server, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            html.contains(r#"data-code="order_not_found""#),
            "{path}: {html}"
        );
        assert!(!html.contains("重试"), "{path}: retrying cannot find it");
    }
    for path in ["/orders/nope/pay", "/orders/nope"] {
        let (status, html) = page(&server, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            html.contains(r#"data-code="order_id_invalid""#),
            "{path}: {html}"
        );
    }
    let r = browser()
        .get(server.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()[LOCATION], "/favicon.svg");
}

/// A reload of an expired payment's page shows it expired with 重新支付; only the shopper's
/// post of 重新支付 writes a new payment, and the page shows that one.
#[tokio::test]
async fn reloading_an_expired_payment_shows_it_expired_and_pay_again_replaces_it() {
    let server = TestServer::start_with(Options {
        ttl_secs: 2,
        ..Options::default()
    })
    .await;
    let order = server.create_order(5.into()).await;
    let path = format!("/orders/{order}/pay");
    let (status, html) = page(&server, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-status="pending""#), "{html}");
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    for _ in 0..2 {
        let (status, html) = page(&server, &path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(r#"data-status="expired""#), "{html}");
        assert!(
            html.contains(r#"method="post""#),
            "重新支付 is a form: {html}"
        );
    }
    assert_eq!(
        server.rows("payments").await,
        1,
        "a reload wrote no payment"
    );

    let r = post_form(
        &server,
        &format!("{path}?lang=zh"),
        &[("method", "wechatpay")],
        "same-origin",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION].to_str().unwrap(),
        format!("{path}?lang=zh")
    );
    assert_eq!(server.rows("payments").await, 2);
    let (_, html) = page(&server, &path).await;
    assert!(html.contains(r#"data-status="pending""#), "{html}");
}

/// 重新支付 posted while the provider fails: the payment page says so with the error's status and
/// offers to try again (a link to the page itself); nothing is written.
#[tokio::test]
async fn pay_again_while_the_provider_fails_shows_a_retryable_error() {
    let server = TestServer::start_with(Options {
        ttl_secs: 2,
        ..Options::default()
    })
    .await;
    let order = server.create_order(5.into()).await;
    let path = format!("/orders/{order}/pay");
    assert_eq!(page(&server, &path).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    server
        .set_faults(serde_json::json!({ "systemErrors": true }))
        .await;
    let r = post_form(&server, &path, &[("method", "wechatpay")], "same-origin").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"data-code="provider_unavailable""#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="" class="button primary">"#),
        "a retry: {html}"
    );
    assert_eq!(server.rows("payments").await, 1);
}
