//! Signed provider notifications, Stripe style: header
//! `X-Scanpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`.
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-scanpay-signature";
/// A signature older (or further in the future) than this is refused: replays are short-lived.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing signature header")]
    Missing,
    #[error("malformed signature header")]
    Malformed,
    #[error("signature timestamp outside the {TOLERANCE_SECS} s tolerance")]
    Stale,
    #[error("signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` signed at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Checks a header against the raw body, in constant time, at `now` (unix seconds).
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => {
                timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Malformed)?)
            }
            Some(("v1", v)) => {
                signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, body);
    // `verify_slice` compares in constant time; several v1 entries allow secret rotation.
    signatures
        .iter()
        .any(|s| expected.clone().verify_slice(s).is_ok())
        .then_some(())
        .ok_or(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"eventId":"evt_1"}"#;

    #[test]
    fn a_signed_body_verifies_within_tolerance() {
        let header = sign(SECRET, 1_000, BODY);
        assert!(header.starts_with("t=1000,v1="));
        assert_eq!(verify(SECRET, Some(&header), BODY, 1_000), Ok(()));
        assert_eq!(verify(SECRET, Some(&header), BODY, 1_300), Ok(()));
    }

    #[test]
    fn forged_stale_and_malformed_signatures_are_refused() {
        let header = sign(SECRET, 1_000, BODY);
        assert_eq!(
            verify(b"other", Some(&header), BODY, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&header), b"{}", 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&header), BODY, 1_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, Some(&header), BODY, 699),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, None, BODY, 1_000),
            Err(SignatureError::Missing)
        );
        for bad in ["", "t=x,v1=00", "t=1000", "v1=00", "t=1000,v1=zz"] {
            assert_eq!(
                verify(SECRET, Some(bad), BODY, 1_000),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
