//! Security headers on every answer, the pages' nonce-based Content-Security-Policy, the
//! language cookie's flags, and the CSRF layer: a browser's cross-site unsafe request is
//! refused and changes nothing; same-origin and non-browser requests are served.
use crate::harness::{Options, TestServer, OWN_URL};
use reqwest::header::{self, HeaderMap};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

const EVIL: &str = "https://shop.evil.example";
const UNKNOWN_ORDER: &str = "ord_AAAAAAAAAAAAAAAAAAAAAA";

fn header_of<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().expect("ASCII header"))
        .unwrap_or_default()
}

/// What every answer carries, whatever it is.
fn assert_security_headers(what: &str, headers: &HeaderMap) {
    assert_eq!(
        header_of(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(
        header_of(headers, "referrer-policy"),
        "no-referrer",
        "{what}"
    );
    assert_eq!(header_of(headers, "x-frame-options"), "DENY", "{what}");
    let csp = header_of(headers, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp:?}");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "{what}: http"
    );
}

async fn fetch(server: &TestServer, path: &str) -> (StatusCode, HeaderMap, String) {
    let response = server
        .client
        .get(server.url(path))
        .send()
        .await
        .expect("GET");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.expect("body"))
}

/// The nonce of a page's policy, after checking that the policy allows no inline script.
fn nonce_of_policy(csp: &str) -> String {
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("no script-src in {csp:?}"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"),
        "{csp}"
    );
    let (_, rest) = script_src.split_once("'nonce-").expect("a nonce");
    rest.split('\'').next().expect("closing quote").to_string()
}

/// Checks the page's policy and that every `<script>` in it carries the policy's nonce.
fn assert_scripts_use_the_nonce(what: &str, headers: &HeaderMap, html: &str) -> String {
    let nonce = nonce_of_policy(header_of(headers, "content-security-policy"));
    let tags: Vec<&str> = html
        .match_indices("<script")
        .map(|(at, _)| &html[at..at + html[at..].find('>').expect("tag end")])
        .collect();
    assert!(!tags.is_empty(), "{what}: no scripts");
    for tag in tags {
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{what}: {tag}");
    }
    nonce
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_payment_answers_are_not_stored() {
    let site = tempfile::tempdir().expect("site dir");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
    std::fs::write(site.path().join("pkg/scanpay.css"), "main{}").expect("css");
    let site_root = site.path().display().to_string();
    let server = TestServer::start_with(Options {
        extra_env: vec![("LEPTOS_SITE_ROOT".to_string(), site_root)],
        ..Options::default()
    })
    .await;
    let (order, payment) = server.pending_payment(5).await;
    let not_stored = [
        "/".to_string(),
        format!("/orders/{order}"),
        format!("/orders/{order}/pay"),
        format!("/api/orders/{order}"),
        format!("/api/pay/{payment}/status"),
        format!("/api/get_payment_status?payment_id={payment}"),
        format!("/api/pay/{payment}/qr.svg"),
        format!("/api/orders/{UNKNOWN_ORDER}"),
        "/no/such/page".to_string(),
    ];
    for path in &not_stored {
        let (status, headers, _) = fetch(&server, path).await;
        assert!(
            status.is_success() || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
        assert_security_headers(path, &headers);
        assert_eq!(
            header_of(&headers, "cache-control"),
            "private, no-store",
            "{path}"
        );
    }
    // A static file keeps its own caching (a release build's hashed names: a year, see
    // static_files and the Playwright suite; these plain names: revalidated).
    let (status, headers, _) = fetch(&server, "/pkg/scanpay.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_security_headers("/pkg/scanpay.css", &headers);
    assert_eq!(header_of(&headers, "cache-control"), "no-cache");
    // The live stream is about the payment too.
    let events = server.open_events(&payment).await;
    assert_security_headers("events", events.headers());
    assert_eq!(
        header_of(events.headers(), "cache-control"),
        "private, no-store"
    );
}

#[tokio::test]
async fn pages_allow_only_scripts_with_a_fresh_nonce_of_each_render() {
    let server = TestServer::start().await;
    let (order, _) = server.pending_payment(5).await;
    let mut nonces = Vec::new();
    for path in ["/", "/", &format!("/orders/{order}/pay"), "/no/such/page"] {
        let (_, headers, html) = fetch(&server, path).await;
        nonces.push(assert_scripts_use_the_nonce(path, &headers, &html));
    }
    let distinct: std::collections::HashSet<_> = nonces.iter().collect();
    assert_eq!(distinct.len(), nonces.len(), "{nonces:?}");
    assert!(nonces.iter().all(|n| n.len() >= 22), "{nonces:?}");
}

#[tokio::test]
async fn the_language_cookie_is_http_only_and_secure_with_hsts_behind_https() {
    let server = TestServer::start().await;
    let (_, headers, _) = fetch(&server, "/?lang=en").await;
    let cookie = header_of(&headers, "set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");

    let https = TestServer::start_with(Options {
        extra_env: vec![(
            "SCANPAY_PUBLIC_URL".to_string(),
            "https://pay.scanpay.test".to_string(),
        )],
        ..Options::default()
    })
    .await;
    let (_, headers, _) = fetch(&https, "/?lang=en").await;
    let cookie = header_of(&headers, "set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    for path in ["/", "/healthz", "/api/get_payment_status"] {
        let (_, headers, _) = fetch(&https, path).await;
        let hsts = header_of(&headers, "strict-transport-security");
        assert_eq!(hsts, "max-age=63072000; includeSubDomains", "{path}");
    }
}

/// A form post of `form` as a browser sends it from another site.
fn from_another_site(request: RequestBuilder, form: &[(&str, &str)]) -> RequestBuilder {
    request
        .header("sec-fetch-site", "cross-site")
        .header(header::ORIGIN, EVIL)
        .form(form)
}

async fn assert_refused(what: &str, request: RequestBuilder) {
    let response = request.send().await.expect(what);
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    assert_security_headers(what, response.headers());
    let error: Value = response.json().await.expect("a JSON error");
    assert_eq!(error["code"], "cross_site_request", "{what}: {error}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{error}"
    );
}

#[tokio::test]
async fn cross_site_unsafe_requests_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let post = |path: &str| server.client.post(server.url(path));
    let form = [("amount_fen", "100"), ("description", "x")];
    assert_refused(
        "server fn",
        from_another_site(post("/api/create_order"), &form),
    )
    .await;
    // Older browsers send only Origin.
    let json_body = r#"{"totalAmount": 1}"#;
    let old_browser = post("/api/orders")
        .header(header::ORIGIN, EVIL)
        .body(json_body);
    assert_refused(
        "REST",
        old_browser.header("content-type", "application/json"),
    )
    .await;
    assert_eq!(server.rows("orders").await, 0);

    let (order, payment) = server.pending_payment(5).await;
    let pay = [("order_id", order.as_str()), ("method", "alipay")];
    let pay = from_another_site(post("/api/current_or_new_payment"), &pay);
    assert_refused("a new payment", pay).await;
    let approve = format!("{}/approve", server.code_url(&payment).await);
    let wallet = server
        .client
        .post(&approve)
        .header("sec-fetch-site", "cross-site");
    assert_refused("the wallet's approve button", wallet).await;
    assert_eq!(
        (server.rows("orders").await, server.rows("payments").await),
        (1, 1)
    );
    assert_eq!(server.payment_status(&payment).await["status"], "pending");

    // A merchant key is the auth layer's to judge, not this one's.
    let keyed = post("/api/orders")
        .header("sec-fetch-site", "cross-site")
        .bearer_auth("sk_not_a_key")
        .header("content-type", "application/json")
        .body(json_body);
    let answer: Value = keyed
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["code"], "api_key_invalid", "{answer}");
    assert_eq!(server.rows("orders").await, 1);
}

#[tokio::test]
async fn same_origin_and_non_browser_requests_are_served_and_callbacks_are_not_checked() {
    let server = TestServer::start_with(Options {
        extra_env: vec![("SCANPAY_PUBLIC_URL".to_string(), OWN_URL.to_string())],
        ..Options::default()
    })
    .await;
    let post = |path: &str| server.client.post(server.url(path));
    let form = [("amount_fen", "100"), ("description", "x")];
    let same_origin = post("/api/create_order")
        .header("sec-fetch-site", "same-origin")
        .header(header::ORIGIN, &server.base)
        .form(&form);
    assert_eq!(
        same_origin.send().await.expect("POST").status(),
        StatusCode::OK
    );
    let old_browser = post("/api/create_order").header(header::ORIGIN, &server.base);
    let answer = old_browser.form(&form).send().await.expect("POST");
    assert_eq!(answer.status(), StatusCode::OK);
    // curl and the shop's backend send neither header.
    let (_, payment) = server.pending_payment(5).await;
    assert_eq!(server.rows("orders").await, 3);

    // The wallet page posts its buttons to itself.
    let code_url = server.code_url(&payment).await;
    let scan = server
        .client
        .get(&code_url)
        .send()
        .await
        .expect("wallet page");
    assert_eq!(scan.status(), StatusCode::OK);
    let approve = format!("{code_url}/approve");
    let wallet = server
        .client
        .post(&approve)
        .header("sec-fetch-site", "same-origin");
    assert_eq!(wallet.send().await.expect("POST").status(), StatusCode::OK);
    let paid = std::time::Duration::from_secs(5);
    server.wait_status(&payment, "paid", paid).await;

    // A provider's callback reaches its handler (which refuses this unsigned one itself).
    for method in crate::harness::METHODS {
        let callback = from_another_site(post(&format!("/api/pay/notify/{method}")), &form);
        let answer = callback.send().await.expect("POST");
        let status = answer.status();
        let body = answer.text().await.expect("body");
        assert_ne!(status, StatusCode::FORBIDDEN, "{method}: {body}");
        assert!(status.is_client_error(), "{method}: {status} {body}");
        assert!(!body.contains("cross_site_request"), "{method}: {body}");
    }
}
