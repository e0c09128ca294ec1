//! Property tests of the parsers that read what the internet sends: none panics on any input,
//! and whatever one accepts holds its type's promise (amounts round-trip exactly, ids and keys
//! have their shape, URLs are http(s) without credentials).
use payments::idempotency::IdempotencyKey;
use payments::ids::{is_valid_order_id, is_valid_payment_id};
use payments::money::{Amount, AmountError};
use payments::orders::{is_displayable, OrderReference, ReturnUrl};
use payments::webhooks::WebhookSecret;
use proptest::prelude::*;

/// Text shaped like what a JSON number or a yuan amount might be, and anything at all.
fn amount_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,12}(\\.[0-9]{0,12})?([eE][-+]?[0-9]{0,12})?",
        any::<String>(),
    ]
}

proptest! {
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
