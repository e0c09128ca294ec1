//! Notifications as WeChat Pay sends them (own keys): verified, then decrypted, then checked.
use super::*;
use crate::provider::keys::{aes_gcm_encrypt, base64_encode};
use http::{HeaderMap, HeaderValue};

/// A TRANSACTION.SUCCESS notification as WeChat Pay sends it, and its signed headers.
fn notification(
    transaction: &str,
    key: &str,
    serial: &str,
    timestamp: i64,
) -> (HeaderMap, Vec<u8>) {
    let ciphertext = aes_gcm_encrypt(
        API_V3_KEY.as_bytes(),
        b"fXn3jC3QJm4b",
        b"transaction",
        transaction.as_bytes(),
    );
    let body = serde_json::json!({
        "id": "EV-2026113008530001", "create_time": "2026-11-30T08:53:00+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64_encode(&ciphertext), "associated_data": "transaction", "nonce": "fXn3jC3QJm4b"}
    })
    .to_string()
    .into_bytes();
    let mut headers = HeaderMap::new();
    for (name, value) in signed_headers(key, serial, timestamp, &body) {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    (headers, body)
}

#[test]
fn notifications_are_verified_then_decrypted_then_checked_as_ours() {
    let provider = WechatPay::new(config("https://api.mch.weixin.qq.com")).unwrap();
    let paid = r#"{"appid":"wx8888888888888888","mchid":"1900000001","out_trade_no":"pay_0001","transaction_id":"4200000001","trade_state":"SUCCESS","success_time":"2026-11-30T08:50:00+08:00","amount":{"total":1299}}"#;
    let (platform, other) = (
        fixture!("own/platform.key.pem"),
        fixture!("own/other.key.pem"),
    );
    let now = 1_796_000_000;

    let (headers, body) = notification(paid, platform, PUBLIC_KEY_ID, now);
    let accepted = provider
        .verify_notification_at(&headers, &body, now + 10)
        .unwrap();
    assert_eq!(accepted.event_id, "EV-2026113008530001");
    assert_eq!(
        (accepted.trade.trade_state, accepted.trade.amount_fen),
        (TradeState::Success, 1299)
    );
    assert_eq!(accepted.trade.paid_at_ms, Some(1_795_999_800_000));
    let (headers, body) = notification(paid, other, CERT_SERIAL, now);
    assert!(
        provider
            .verify_notification_at(&headers, &body, now)
            .is_ok(),
        "a platform certificate's signature"
    );

    let unverified = |headers: &HeaderMap, body: &[u8], at: i64| match provider
        .verify_notification_at(headers, body, at)
    {
        Err(rejected @ NotificationRejected::Unverified { .. }) => rejected,
        other => panic!("expected Unverified, got {other:?}"),
    };
    let (headers, body) = notification(paid, platform, PUBLIC_KEY_ID, now);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        unverified(&headers, &tampered, now).out_trade_no(),
        Some("pay_0001"),
        "a hint to query, no more"
    );
    assert!(unverified(&headers, &body, now + 300)
        .to_string()
        .contains("stale"));
    // Timestamps at the ends of i64 are stale, not an overflow.
    for extreme in [i64::MIN, i64::MAX] {
        let (headers, body) = notification(paid, platform, PUBLIC_KEY_ID, extreme);
        assert!(unverified(&headers, &body, now)
            .to_string()
            .contains("stale"));
    }
    let (headers, body) = notification(paid, other, PUBLIC_KEY_ID, now);
    unverified(&headers, &body, now);
    let (headers, body) = notification(paid, platform, "7132D72A03E93CDDF8C03BBD1F37EEDF", now);
    assert!(unverified(&headers, &body, now)
        .to_string()
        .contains("unknown Wechatpay-Serial"));
    let (mut headers, body) = notification(paid, platform, PUBLIC_KEY_ID, now);
    let probe = format!(
        "WECHATPAY/SIGNTEST/{}",
        headers["Wechatpay-Signature"].to_str().unwrap()
    );
    headers.insert(
        "Wechatpay-Signature",
        HeaderValue::from_str(&probe).unwrap(),
    );
    assert!(unverified(&headers, &body, now)
        .to_string()
        .contains("probe"));

    let theirs = paid.replace("1900000001", "1900000002");
    let (headers, body) = notification(&theirs, platform, PUBLIC_KEY_ID, now);
    let rejected = provider
        .verify_notification_at(&headers, &body, now)
        .unwrap_err();
    assert!(
        matches!(rejected, NotificationRejected::NotOurs { .. }),
        "{rejected}"
    );
}
