//! Property tests of the parsers that read what the internet sends: none panics on any input,
//! and whatever one accepts holds its type's promise (amounts round-trip exactly, ids and keys
//! have their shape, URLs are http(s) without credentials), and no notification that a
//! provider's key did not sign is ever accepted, whatever its headers and body say.
use payments::idempotency::IdempotencyKey;
use payments::ids::{is_valid_order_id, is_valid_payment_id};
use payments::money::{Amount, AmountError};
use payments::orders::{is_displayable, OrderReference, ReturnUrl};
use payments::provider::alipay::{Alipay, AlipayConfig};
use payments::provider::wechatpay::{WechatPay, WechatPayConfig, WechatPayPublicKey};
use payments::secret::Secret;
use payments::webhooks::WebhookSecret;
use proptest::prelude::*;

/// Text shaped like what a JSON number or a yuan amount might be, and anything at all.
fn amount_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,12}(\\.[0-9]{0,12})?([eE][-+]?[0-9]{0,12})?",
        any::<String>(),
    ]
}

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/own/",
            $path
        ))
    };
}

/// The WeChat Pay adapter with this repository's own test keys.
fn wechatpay() -> WechatPay {
    WechatPay::new(WechatPayConfig {
        base_url: "https://api.mch.weixin.qq.com".into(),
        merchant_serial_no: "5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into(),
        merchant_private_key_pem: Secret::new(fixture!("merchant.key.pem").into()),
        api_v3_key: Secret::new("0123456789abcdef0123456789abcdef".into()),
        public_key: Some(WechatPayPublicKey {
            id: "PUB_KEY_ID_0119000000012026".into(),
            pem: fixture!("platform.pub.pem").into(),
        }),
        notify_url: "https://shop.example/api/pay/notify/wechatpay".into(),
        ..WechatPayConfig::new("1900000001", "wx8888888888888888")
    })
    .unwrap()
}

fn alipay() -> Alipay {
    Alipay::new(AlipayConfig {
        app_private_key: Secret::new(fixture!("alipay_app.key.pem").into()),
        alipay_public_key: fixture!("alipay_gateway.pub.pem").into(),
        notify_url: "https://shop.example/api/pay/notify/alipay".into(),
        ..AlipayConfig::new("2021000000000001")
    })
    .unwrap()
}

/// Header values as an attacker might send them: numbers of any size and sign, base64-ish text,
/// the real serial, anything.
fn header_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{1,30}",
        "[A-Za-z0-9+/=]{0,400}",
        Just("PUB_KEY_ID_0119000000012026".to_string()),
        "[ -~]{0,60}",
    ]
}

/// A form as Alipay posts it, with any values (and a `sign` that is not the gateway's).
fn alipay_form() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just("out_trade_no"),
        Just("total_amount"),
        Just("trade_status"),
        Just("app_id"),
        Just("notify_id"),
        Just("sign"),
        Just("sign_type"),
        Just("gmt_payment"),
        Just("charset"),
    ];
    prop_oneof![
        proptest::collection::vec((field, "[ -~]{0,40}"), 0..12).prop_map(|pairs| {
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes()
        }),
        any::<Vec<u8>>(),
    ]
}

proptest! {
    #[test]
    fn wechatpay_notifications_not_signed_by_its_key_are_refused(
        timestamp in header_like(),
        serial in header_like(),
        nonce in header_like(),
        signature in header_like(),
        body in prop_oneof![any::<Vec<u8>>(), "\\{\"id\":\"[ -~]{0,20}\"\\}".prop_map(String::into_bytes)],
    ) {
        let mut headers = http::HeaderMap::new();
        for (name, value) in [
            ("wechatpay-timestamp", &timestamp),
            ("wechatpay-serial", &serial),
            ("wechatpay-nonce", &nonce),
            ("wechatpay-signature", &signature),
        ] {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        let now = 1_796_000_000;
        prop_assert!(wechatpay().verify_notification_at(&headers, &body, now).is_err());
    }

    #[test]
    fn alipay_notifications_not_signed_by_its_key_are_refused(body in alipay_form()) {
        prop_assert!(alipay().verify_notification(&body).is_err());
    }

    #[test]
    fn typed_amounts_parse_exactly_or_say_why(text in prop_oneof![
        "[¥￥]?[ ]?[0-9０-９]{1,3}([,，][0-9]{3}){0,3}([.．][0-9０-９]{0,3})?",
        amount_like(),
    ]) {
        if let Ok(amount) = Amount::parse_typed_yuan(&text) {
            prop_assert!((1..=Amount::MAX_FEN).contains(&amount.fen()));
            prop_assert_eq!(Amount::parse_yuan(&amount.yuan_decimal_text()), Ok(amount));
        }
    }

    #[test]
    fn amounts_parse_exactly_or_say_why(text in amount_like()) {
        match Amount::parse_yuan(&text) {
            Ok(amount) => {
                prop_assert!((1..=Amount::MAX_FEN).contains(&amount.fen()));
                let again = Amount::parse_yuan(&amount.yuan_decimal_text());
                prop_assert_eq!(again, Ok(amount));
            }
            Err(
                AmountError::NotANumber
                | AmountError::NotPositive
                | AmountError::TooLarge
                | AmountError::TooPrecise,
            ) => {}
        }
    }

    #[test]
    fn every_amount_in_range_round_trips(fen in 1..=Amount::MAX_FEN) {
        let amount = Amount::from_fen(fen).unwrap();
        prop_assert_eq!(Amount::parse_yuan(&amount.yuan_decimal_text()), Ok(amount));
        prop_assert_eq!(Amount::parse_yuan(&amount.yuan_json_text()), Ok(amount));
    }

    #[test]
    fn ids_are_a_prefix_and_22_url_safe_characters(text in "(pay_|ord_)?.{0,30}") {
        for valid in [is_valid_payment_id(&text), is_valid_order_id(&text)] {
            if valid {
                prop_assert_eq!(text.len(), 26);
                prop_assert!(text[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            }
        }
    }

    #[test]
    fn references_and_idempotency_keys_are_visible_ascii(text in any::<String>()) {
        if let Some(reference) = OrderReference::parse(&text) {
            prop_assert!(reference.as_str().bytes().all(|b| b.is_ascii_graphic()));
            prop_assert!((1..=64).contains(&reference.as_str().len()));
        }
        if let Some(key) = IdempotencyKey::parse(&text) {
            prop_assert!(key.as_str().bytes().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn return_urls_are_http_without_credentials(text in prop_oneof![
        "(https?|ftp|javascript|data)://([a-z]+(:[a-z]*)?@)?[a-z0-9.\\[\\]:]{0,20}(/.{0,10})?",
        any::<String>(),
    ]) {
        if let Some(url) = ReturnUrl::parse(&text) {
            let parsed = reqwest::Url::parse(url.as_str()).unwrap();
            prop_assert!(matches!(parsed.scheme(), "http" | "https"));
            prop_assert!(parsed.username().is_empty() && parsed.password().is_none());
        }
    }

    #[test]
    fn displayable_text_has_no_control_or_direction_characters(text in any::<String>()) {
        if is_displayable(&text) {
            let direction = |c: char| ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            let refused = text.chars().any(|c| c.is_control() || direction(c));
            prop_assert!(!refused, "accepted {:?}", text);
        }
    }

    #[test]
    fn webhook_secrets_parse_or_refuse(text in prop_oneof!["whsec_[A-Za-z0-9+/=]{0,60}", any::<String>()]) {
        let _ = WebhookSecret::parse(&text);
    }
}
