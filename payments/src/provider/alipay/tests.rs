//! The Alipay adapter: alipay-sdk-nodejs-all's published vectors (test/alipay.test.ts, MIT,
//! © alipay and other contributors; see tests/fixtures/README.md), and a scripted gateway
//! with keys of our own (tests/fixtures/own).
use super::gateway::{raw_object_value, sign_content};
use super::*;
use crate::provider::keys::RsaVerifyingKey;
use crate::provider::NotificationRejected;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
    };
}

// test/alipay.test.ts `getSignStr()`: the answer of the three cases and what is signed.
const IMAGE_RESPONSE: &str = r#"{"code":"10000","msg":"Success","image_id":"Zp1Nm6FDTZaEuSSniGd5awAAACMAAQED","image_url":"http:\/\/oalipay-dl-django.alicdn.com\/rest\/1.0\/image?fileIds=Zp1Nm6FDTZaEuSSniGd5awAAACMAAQED&zoom=original"}"#;
const IMAGE_SIGN: &str = "P8xrBWqZCUv11UrEBjhQ4Sk3hyj4607qehO2VbKIS0hWa4U+NeLlOftqTyhGv+x1lzfqN590Y/8CaNIzEEg06FiNWJlUFM/uEFJLzSKGse4MjHbblpiSzI3eCV5RzxH26wZbEd9wyVYYi0pHFBf35UrBva47g7b5EuKCHfoVA95/zin9fAyb3xhhiHhmfGaWIDV/1LmE2vtqtOHQnISbY/deC71U614ySZ3YB97ws8npCcCJ+tgZvhHPkMRGvmyYPCRDB/aIN/sKDSLtfPp0u8DxE8pHLvCHm3wR84MQxqNbKgpd8NTKNvH+obELsbCrqPhjW7qI48634qx6enDupw==";
// test/alipay.test.ts `checkResponseSign should work`: a real answer, signed by the key in
// test/fixtures/alipay-public-key.pem.
const FILE_UPLOAD_ANSWER: &str = r#"{"alipay_open_file_upload_response":{"code":"10000","msg":"Success","file_id":"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr"},"sign":"F+LDzpTNiavn7xVZPGuPCSSVRSmWzJGgtuji6tVELGEaqMaNj0jRKXUEr5nloZJBBmwEnddOyCjjepMmrTKTvoOqQ0Efxpr/R1iEeHTHVbb/Q8TTh6Up5gHJDkILdaWS2q1cWeQ6VT+HQY9P3WRXS7uhILHuDODIhpAyCu5KhWGt0rMCIG+Im6NODJP2oohtSCtmTFXg58HH587Z2y2bdbjzOxLvzD9IrU1imghXQ2S/Q+wMIvRk9on6cWnBLkrNvJKapA2ReNGWOwyuASvB9zDVzhMPbR+3mfRGkVDxsq5HYLjBKGskJMXHw0HuugZij6ScRuaLPODhmHwr/pJ9yw=="}"#;
// test/alipay.test.ts `checkNotifySign … verify sign should delete sign_type`: the Alipay
// public key of a real 2019 production notification, and that notification's fields.
const NOTIFY_PUBLIC_KEY_V1: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqObrdC7hrgAVM98tK0nv3hSQRGGKT4lBsQjHiGjeYZjOPIPHR5knm2jnnz/YGIXIofVHkA/tAlBAd5DrY7YpvI4tP5EONLtZKC2ghBMx7McI2wRD0xiqzxOQr1FuhZGJ8/AUokBzJrzY+aGX2xcOrxFYRlFilvVLTXg4LWjR1tdPkO6+i7wQZAIVMClPkwVRZEbaERRHlKqTzv2gGv5rDU8gRoe1LeaN+6BlbTqHWkQcNCUNrA8C6l17XAXGKDsm/9TFWwO8EPHHHCaQdjtV5/FdcWIt+L8SR1ss7EXTjYDFtxcKVv9rEoY1lX8T4mX+GbXfZHraG5NCF1+XioL5JwIDAQAB";
const NOTIFICATION_2019: &[(&str, &str)] = &[
    ("gmt_create", "2019-08-15 15:56:22"),
    ("charset", "utf-8"),
    ("seller_email", "z97-yuquerevenue@service.aliyun.com"),
    ("subject", "语雀空间 500人规模"),
    ("sign", "QfTb8tqE1BMhS5qAnXtvsF3/jBkEvu9q9en0pdbBUDDjvKycZhQb7h8GDs4FKfi049PynaNuatxSgLb/nLWZpXyyh0LEWdK2S6Ri7nPwrVgOs08zugLO20vOQz44y3ti2Ncm8/wZts1Fr2gZ7pShnVX3d1B50hbsXnObT1r/U8ONNQjWXd0HIul4TG+Q3fm3svmSvFEy0WnzuhcyHPX5Gm4ELNctL6Qd5YniGJFNcc7kopHYtI/XD9YCKCH6Ct02rzUs9i11C9CsadtZn+WhxF26Dqt9sGEFajkJ8cxUTLi8+VCpLHsgPE8P0y095uQcDdK0YjCh4x7wVSov+lrmOQ=="),
    ("buyer_id", "2088102534368455"),
    ("invoice_amount", "0.10"),
    ("notify_id", "2019081500222155624068450559358070"),
    // An array in the test's object; the SDK signs its JSON.stringify, as the form carries it.
    ("fund_bill_list", r#"[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]"#),
    ("notify_type", "trade_status_sync"),
    ("trade_status", "TRADE_SUCCESS"),
    ("receipt_amount", "0.10"),
    ("buyer_pay_amount", "0.10"),
    ("sign_type", "RSA2"),
    ("app_id", "2019073166072302"),
    ("seller_id", "2088531891668739"),
    ("gmt_payment", "2019-08-15 15:56:24"),
    ("notify_time", "2019-08-15 15:56:25"),
    ("version", "1.0"),
    ("out_trade_no", "20190815155618536-564-57"),
    ("total_amount", "0.10"),
    ("trade_no", "2019081522001468450512505578"),
    ("auth_app_id", "2019073166072302"),
    ("buyer_logon_id", "xud***@126.com"),
    ("point_amount", "0.00"),
];

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
        .into_bytes()
}

#[test]
fn the_signed_text_is_the_raw_response_object_as_in_get_sign_str() {
    let sign = format!(r#""sign":"{IMAGE_SIGN}""#);
    let key = "alipay_offline_material_image_upload_response";
    let normal = format!(r#"{{"{key}":{IMAGE_RESPONSE},{sign}}}"#);
    let spaced = format!("{{\"{key}\"\n        :\n        {IMAGE_RESPONSE},\n\n          \"sign\"  :  \"{IMAGE_SIGN}\"}}");
    let inner_sign = IMAGE_RESPONSE.replacen(r#""msg""#, r#""sign":"xxx","msg""#, 1);
    let with_inner_sign =
        format!("{{\"{key}\"\n        :\n        {inner_sign},\n\n          {sign}}}");
    assert_eq!(raw_object_value(&normal, key), Some(IMAGE_RESPONSE));
    assert_eq!(raw_object_value(&spaced, key), Some(IMAGE_RESPONSE));
    assert_eq!(
        raw_object_value(&with_inner_sign, key),
        Some(inner_sign.as_str())
    );
    // Braces and the key's name inside strings, and nested objects, do not confuse it.
    let tricky = r#"{"note":"alipay_x_response","alipay_x_response":{"a":"}{\"","b":{"c":[1,{"d":"}"}]}},"sign":"s"}"#;
    assert_eq!(
        raw_object_value(tricky, "alipay_x_response"),
        Some(r#"{"a":"}{\"","b":{"c":[1,{"d":"}"}]}}"#)
    );
    assert_eq!(
        raw_object_value(
            r#"{"error_response":{"code":"40002"}}"#,
            "alipay_x_response"
        ),
        None
    );
}

#[test]
fn check_response_sign_vector_verifies_over_the_raw_text() {
    let alipay =
        RsaVerifyingKey::parse(fixture!("alipay-sdk-nodejs-all/alipay-public-key.pem")).unwrap();
    let bare = RsaVerifyingKey::parse(fixture!(
        "alipay-sdk-nodejs-all/alipay-public-key-no-wrapper.pem"
    ))
    .unwrap();
    assert_eq!(alipay, bare);
    let signed = raw_object_value(FILE_UPLOAD_ANSWER, "alipay_open_file_upload_response").unwrap();
    assert_eq!(
        signed,
        r#"{"code":"10000","msg":"Success","file_id":"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr"}"#
    );
    let answer: serde_json::Value = serde_json::from_str(FILE_UPLOAD_ANSWER).unwrap();
    let sign = answer["sign"].as_str().unwrap();
    assert!(alipay.verify_base64(signed.as_bytes(), sign));
    assert!(!alipay.verify_base64(signed.as_bytes(), "wrong-sing"));
    // Re-serialized (here: spaced) text is not what Alipay signed.
    assert!(!alipay.verify_base64(signed.replace(',', ", ").as_bytes(), sign));
}

fn sdk_app(app_id: &str, alipay_public_key: &str) -> Alipay {
    Alipay::new(AlipayConfig {
        app_private_key: Secret::new(fixture!("alipay-sdk-nodejs-all/app-private-key.pem").into()),
        alipay_public_key: alipay_public_key.into(),
        notify_url: "https://shop.example/api/pay/notify/alipay".into(),
        ..AlipayConfig::new(app_id)
    })
    .unwrap()
}

#[test]
fn check_notify_sign_vector_verifies_without_sign_and_sign_type() {
    let alipay = sdk_app("2019073166072302", NOTIFY_PUBLIC_KEY_V1);
    let notification = alipay
        .verify_notification(&form(NOTIFICATION_2019))
        .unwrap();
    assert_eq!(notification.event_id, "2019081500222155624068450559358070");
    assert_eq!(
        notification.trade,
        TradeStatus {
            payment_id: "20190815155618536-564-57".into(),
            trade_state: TradeState::Success,
            amount_fen: 10,
            transaction_id: Some("2019081522001468450512505578".into()),
            paid_at_ms: Some(1_565_855_784_000),
            failure_reason: None,
        }
    );
    // One changed field, and it no longer verifies; the claimed trade is only a hint.
    let tampered: Vec<_> = NOTIFICATION_2019
        .iter()
        .map(|&(k, v)| {
            if k == "total_amount" {
                (k, "0.01")
            } else {
                (k, v)
            }
        })
        .collect();
    let rejected = alipay.verify_notification(&form(&tampered)).unwrap_err();
    assert!(matches!(rejected, NotificationRejected::Unverified { .. }));
    assert_eq!(rejected.out_trade_no(), Some("20190815155618536-564-57"));
    // Verified, but for another app.
    let other_app = sdk_app("2021000000000000", NOTIFY_PUBLIC_KEY_V1);
    let rejected = other_app
        .verify_notification(&form(NOTIFICATION_2019))
        .unwrap_err();
    assert!(
        matches!(rejected, NotificationRejected::NotOurs { .. }),
        "{rejected}"
    );
    // The app's own public key in the Alipay key's slot verifies nothing.
    let mixed_up = sdk_app(
        "2019073166072302",
        fixture!("alipay-sdk-nodejs-all/app-public-key.pem"),
    );
    assert!(matches!(
        mixed_up.verify_notification(&form(NOTIFICATION_2019)),
        Err(NotificationRejected::Unverified { .. })
    ));
}

#[test]
fn sign_content_sorts_and_drops_empty_values() {
    let content = sign_content([
        ("b", "2"),
        ("a", "x=y&z"),
        ("empty", ""),
        ("biz_content", r#"{"k":"支付"}"#),
    ]);
    assert_eq!(content, r#"a=x=y&z&b=2&biz_content={"k":"支付"}"#);
}
