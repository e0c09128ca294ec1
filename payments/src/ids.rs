//! Identifiers: a prefix and 128 random bits, URL-safe base64 (22 characters).
pub const PAYMENT_PREFIX: &str = "pay_";
pub const ORDER_PREFIX: &str = "ord_";
/// A webhook event's id (`webhook-id`), as Standard Webhooks' examples name them.
pub const WEBHOOK_EVENT_PREFIX: &str = "msg_";
const RANDOM_CHARS: usize = 22;

fn is_valid(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == RANDOM_CHARS
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

pub fn is_valid_payment_id(id: &str) -> bool {
    is_valid(id, PAYMENT_PREFIX)
}

pub fn is_valid_order_id(id: &str) -> bool {
    is_valid(id, ORDER_PREFIX)
}

#[cfg(feature = "server")]
fn new_id(prefix: &str) -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

#[cfg(feature = "server")]
pub fn new_payment_id() -> String {
    new_id(PAYMENT_PREFIX)
}

#[cfg(feature = "server")]
pub fn new_order_id() -> String {
    new_id(ORDER_PREFIX)
}

#[cfg(feature = "server")]
pub fn new_webhook_event_id() -> String {
    new_id(WEBHOOK_EVENT_PREFIX)
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_valid_and_distinct() {
        let a = new_payment_id();
        assert!(is_valid_payment_id(&a), "{a}");
        assert!(is_valid_order_id(&new_order_id()));
        assert_ne!(a, new_payment_id());
        assert!(!is_valid_order_id(&a));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "pay_",
            "pay_short",
            "pay_aaaaaaaaaaaaaaaaaaaaa!",
            "xyz_aaaaaaaaaaaaaaaaaaaaaa",
            "pay_aaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(!is_valid_payment_id(bad), "{bad}");
        }
    }
}
