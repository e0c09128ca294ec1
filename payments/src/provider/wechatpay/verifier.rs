//! Verifying what WeChat Pay signed (answers and notifications): the `Wechatpay-*` headers over
//! `TIMESTAMP\nNONCE\nBODY\n`, with the key the `Wechatpay-Serial` names.
use crate::provider::keys::{normalize_serial, Certificate, RsaVerifyingKey};
use http::HeaderMap;
use std::collections::HashMap;

/// WeChat Pay and its SDKs refuse timestamps this far from now (replays, skewed clocks).
pub const MAX_SKEW_SECS: i64 = 300;
/// A signature WeChat Pay sends to check that the merchant really verifies: it must fail.
const PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";
const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";

/// The keys WeChat Pay signs with: its public key (id `PUB_KEY_ID_…`) and/or its platform
/// certificates by serial (all of them: certificates rotate with overlap).
pub struct SignatureVerifier {
    public_key: Option<(String, RsaVerifyingKey)>,
    certificates: HashMap<String, RsaVerifyingKey>,
}

impl SignatureVerifier {
    pub fn new(
        public_key: Option<(String, RsaVerifyingKey)>,
        certificates: Vec<Certificate>,
    ) -> Self {
        let certificates = certificates
            .into_iter()
            .map(|c| (c.serial, c.key))
            .collect();
        Self {
            public_key,
            certificates,
        }
    }

    /// The public key's id, which requests name in `Wechatpay-Serial`.
    pub fn public_key_id(&self) -> Option<&str> {
        self.public_key.as_ref().map(|(id, _)| id.as_str())
    }

    /// Ok when the headers carry a fresh, valid signature of `body` by a configured key;
    /// otherwise why not.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now_secs: i64) -> Result<(), String> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("missing header {name}"))
        };
        let (timestamp, nonce) = (header("Wechatpay-Timestamp")?, header("Wechatpay-Nonce")?);
        let (signature, serial) = (header("Wechatpay-Signature")?, header("Wechatpay-Serial")?);
        if let Ok(kind) = header("Wechatpay-Signature-Type") {
            if kind != SIGNATURE_TYPE {
                return Err(format!(
                    "signature type {kind:?}, expected {SIGNATURE_TYPE}"
                ));
            }
        }
        if signature.starts_with(PROBE_PREFIX) {
            return Err("a signature probe (WECHATPAY/SIGNTEST/)".into());
        }
        let signed_at: i64 = timestamp
            .parse()
            .map_err(|_| format!("Wechatpay-Timestamp {timestamp:?} is not unix seconds"))?;
        // abs_diff: a timestamp near i64::MIN cannot overflow the subtraction.
        if now_secs.abs_diff(signed_at) >= MAX_SKEW_SECS.unsigned_abs() {
            return Err(format!(
                "stale Wechatpay-Timestamp {signed_at} (now {now_secs}, limit {MAX_SKEW_SECS} s)"
            ));
        }
        let key = self.key_for(serial)?;
        let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
        for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
            message.extend_from_slice(part);
            message.push(b'\n');
        }
        if key.verify_base64(&message, signature) {
            Ok(())
        } else {
            Err(format!(
                "the signature does not verify with the key of serial {serial}"
            ))
        }
    }

    fn key_for(&self, serial: &str) -> Result<&RsaVerifyingKey, String> {
        if let Some((id, key)) = &self.public_key {
            if id == serial {
                return Ok(key);
            }
        }
        self.certificates
            .get(&normalize_serial(serial))
            .ok_or_else(|| format!("unknown Wechatpay-Serial {serial:?}: neither the public key id nor a configured certificate"))
    }
}
