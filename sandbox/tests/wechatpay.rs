//! WeChat Pay v3 Native against the sandbox, over HTTP, with a client written from the spec.
mod common;
use common::{listener, start, unique};
use sandbox::Faults;

const NATIVE: &str = "/v3/pay/transactions/native";

fn query_path(sandbox: &common::TestSandbox, no: &str) -> String {
    format!(
        "/v3/pay/transactions/out-trade-no/{no}?mchid={}",
        sandbox.credentials.wechatpay.mchid
    )
}

#[tokio::test]
async fn a_signed_create_gets_a_signed_code_url_and_repeats_are_checked() {
    let s = start(Faults::default()).await;
    let no = unique("wx");
    let body = s.create_body(&no, 888, "http://127.0.0.1:9/notify");
    let created = s.wechat("POST", NATIVE, &body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(s.wechat_signature_ok(&created.headers, created.body.as_bytes()));
    let code_url = created.json()["code_url"].as_str().unwrap().to_string();
    assert_eq!(code_url, format!("{}/sandbox/pay/wechatpay/{no}", s.base));

    let again = s.wechat("POST", NATIVE, &body).await;
    assert_eq!(
        (again.status.as_u16(), again.json()["code_url"].as_str()),
        (200, Some(code_url.as_str()))
    );
    let changed = s
        .wechat(
            "POST",
            NATIVE,
            &s.create_body(&no, 889, "http://127.0.0.1:9/notify"),
        )
        .await;
    assert_eq!(
        (changed.status.as_u16(), changed.json()["code"].as_str()),
        (403, Some("OUT_TRADE_NO_USED"))
    );

    let queried = s.wechat("GET", &query_path(&s, &no), "").await;
    assert_eq!(queried.status, 200);
    assert!(s.wechat_signature_ok(&queried.headers, queried.body.as_bytes()));
    let t = queried.json();
    assert_eq!(
        (t["trade_state"].as_str(), t["amount"]["total"].as_i64()),
        (Some("NOTPAY"), Some(888))
    );
    assert!(t.get("transaction_id").is_none(), "{t}");

    let unknown = s.wechat("GET", &query_path(&s, "nosuchtrade"), "").await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.json()["code"].as_str()),
        (404, Some("ORDER_NOT_EXIST"))
    );
}

#[tokio::test]
async fn bad_signatures_and_parameters_are_refused_as_wechat_refuses_them() {
    let s = start(Faults::default()).await;
    let body = s.create_body(&unique("wx"), 100, "http://127.0.0.1:9/notify");
    let forged = s
        .wechat_signed_with("POST", NATIVE, &body, Some("AAAA"))
        .await;
    assert_eq!(forged.status, 401);
    let error = forged.json();
    assert_eq!(error["code"], "SIGN_ERROR");
    let info = &error["detail"]["sign_information"];
    assert_eq!(info["url"], "/sandbox/wechatpay/v3/pay/transactions/native");
    assert_eq!(info["method"], "POST");
    assert!(info["truncated_sign_message"]
        .as_str()
        .unwrap()
        .starts_with("POST\n/sandbox/wechatpay/v3/pay/transactions/native\n"));
    assert!(
        s.wechat_signature_ok(&forged.headers, forged.body.as_bytes()),
        "errors are signed too"
    );

    let mut bad = s.create_body("short", 100, "http://127.0.0.1:9/notify");
    let r = s.wechat("POST", NATIVE, &bad).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["code"].as_str()),
        (400, Some("PARAM_ERROR"))
    );
    bad = s.create_body(&unique("wx"), 0, "http://127.0.0.1:9/notify");
    assert_eq!(
        s.wechat("POST", NATIVE, &bad).await.json()["code"],
        "PARAM_ERROR"
    );
    let mut json: serde_json::Value =
        serde_json::from_str(&s.create_body(&unique("wx"), 1, "http://x/n")).unwrap();
    json["time_expire"] = "20221021191948".into();
    assert_eq!(
        s.wechat("POST", NATIVE, &json.to_string()).await.json()["code"],
        "PARAM_ERROR"
    );
    json["time_expire"] = serde_json::Value::Null;
    json["appid"] = "wx0000000000000000".into();
    assert_eq!(
        s.wechat("POST", NATIVE, &json.to_string()).await.json()["code"],
        "APPID_MCHID_NOT_MATCH"
    );
}

#[tokio::test]
async fn approval_notifies_encrypted_and_signed_until_acknowledged() {
    let s = start(Faults::default()).await;
    let mut merchant = listener(1, (500, r#"{"code":"FAIL","message":"失败"}"#), (204, "")).await;
    let no = unique("wx");
    let created = s
        .wechat("POST", NATIVE, &s.create_body(&no, 1234, &merchant.url))
        .await;
    assert_eq!(created.status, 200);
    let page = s.wallet("wechatpay", &no, "").await;
    assert!(
        page.body.contains("确认支付") && page.body.contains("¥12.34"),
        "{}",
        page.body
    );
    let approved = s.wallet("wechatpay", &no, "/approve").await;
    assert_eq!(approved.status, 303);

    let (headers, first) = merchant.next().await;
    let (_, resent) = merchant.next().await;
    assert_eq!(first, resent, "a resend is the same notification");
    assert!(s.wechat_signature_ok(&headers, &first));
    let note: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(
        (note["event_type"].as_str(), note["resource_type"].as_str()),
        (Some("TRANSACTION.SUCCESS"), Some("encrypt-resource"))
    );
    let resource = &note["resource"];
    let plain = sandbox::keys::aes_gcm_decrypt(
        &s.credentials.wechatpay.api_v3_key,
        resource["nonce"].as_str().unwrap(),
        resource["associated_data"].as_str().unwrap(),
        resource["ciphertext"].as_str().unwrap(),
    )
    .unwrap();
    let t: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(
        (t["trade_state"].as_str(), t["out_trade_no"].as_str()),
        (Some("SUCCESS"), Some(no.as_str()))
    );
    assert!(t["transaction_id"].as_str().unwrap().starts_with("4200"));
    assert_eq!(t["amount"]["payer_total"], 1234);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        merchant.received.try_recv().is_err(),
        "acknowledged: no more resends"
    );

    let queried = s.wechat("GET", &query_path(&s, &no), "").await.json();
    assert_eq!(queried["trade_state"], "SUCCESS");
    let again = s.wallet("wechatpay", &no, "/approve").await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn decline_close_and_faults() {
    let s = start(Faults::default()).await;
    let declined = unique("wx");
    s.wechat(
        "POST",
        NATIVE,
        &s.create_body(&declined, 100, "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(
        s.wallet("wechatpay", &declined, "/decline").await.status,
        303
    );
    let t = s.wechat("GET", &query_path(&s, &declined), "").await.json();
    assert_eq!(
        (t["trade_state"].as_str(), t["trade_state_desc"].as_str()),
        (Some("PAYERROR"), Some("用户拒绝支付"))
    );

    let closed = unique("wx");
    s.wechat(
        "POST",
        NATIVE,
        &s.create_body(&closed, 100, "http://127.0.0.1:9/n"),
    )
    .await;
    let close_path = format!("/v3/pay/transactions/out-trade-no/{closed}/close");
    let close_body = serde_json::json!({ "mchid": s.credentials.wechatpay.mchid }).to_string();
    let r = s.wechat("POST", &close_path, &close_body).await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty() && s.wechat_signature_ok(&r.headers, b""));
    assert_eq!(
        s.wechat("GET", &query_path(&s, &closed), "").await.json()["trade_state"],
        "CLOSED"
    );
    assert_eq!(
        s.wechat("POST", &close_path, &close_body).await.json()["code"],
        "ORDER_CLOSED"
    );

    s.faults(r#"{"failFirstCalls":1}"#).await;
    let first = s.wechat("GET", &query_path(&s, &closed), "").await;
    assert_eq!(
        (first.status.as_u16(), first.json()["code"].as_str()),
        (500, Some("SYSTEM_ERROR"))
    );
    assert_eq!(
        s.wechat("GET", &query_path(&s, &closed), "").await.status,
        200
    );

    s.faults(r#"{"wrongSerial":true}"#).await;
    let r = s.wechat("GET", &query_path(&s, &closed), "").await;
    assert!(!s.wechat_signature_ok(&r.headers, r.body.as_bytes()));
    s.faults(r#"{"signatureProbe":true}"#).await;
    let r = s.wechat("GET", &query_path(&s, &closed), "").await;
    assert!(r.headers["wechatpay-signature"]
        .to_str()
        .unwrap()
        .starts_with("WECHATPAY/SIGNTEST/"));
    s.faults(r#"{"staleTimestamps":true}"#).await;
    let r = s.wechat("GET", &query_path(&s, &closed), "").await;
    assert!(!s.wechat_signature_ok(&r.headers, r.body.as_bytes()));

    s.faults(r#"{"payDuringClose":true}"#).await;
    let raced = unique("wx");
    s.wechat(
        "POST",
        NATIVE,
        &s.create_body(&raced, 100, "http://127.0.0.1:9/n"),
    )
    .await;
    let close_path = format!("/v3/pay/transactions/out-trade-no/{raced}/close");
    assert_eq!(s.wechat("POST", &close_path, &close_body).await.status, 204);
    assert_eq!(
        s.wechat("GET", &query_path(&s, &raced), "").await.json()["trade_state"],
        "SUCCESS"
    );
}
