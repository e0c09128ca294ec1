//! The adapters' keys and crypto, parsed once at construction: RSA private keys (PKCS#8 or
//! PKCS#1, PEM or bare base64) for SHA256withRSA signing, RSA public keys (SubjectPublicKeyInfo,
//! PEM or bare base64, as Alipay hands them out) and X.509 certificates (serial + key) for
//! verifying, and AES-GCM for WeChat Pay's encrypted resources. Every private-key operation is
//! ring's (constant time; the `rsa` crate's signing has RUSTSEC-2023-0071).
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use ring::rand::SystemRandom;
use ring::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::SubjectPublicKeyInfoRef;

/// rsaEncryption (RFC 8017): the only key algorithm either provider uses.
const RSA_ENCRYPTION: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Why a key, certificate or ciphertext was refused; the adapters prefix the config field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("neither PEM nor bare base64 ({0})")]
    Encoding(String),
    #[error("a PEM block labelled {found:?} where {expected} was expected")]
    WrongLabel {
        found: String,
        expected: &'static str,
    },
    #[error("not an RSA private key in PKCS#8 or PKCS#1 DER ({0})")]
    PrivateKey(String),
    #[error("not an RSA public key in SubjectPublicKeyInfo DER ({0})")]
    PublicKey(String),
    #[error("not an X.509 certificate with an RSA key ({0})")]
    Certificate(String),
    #[error("AES-GCM: {0}")]
    Aead(&'static str),
}

pub fn base64_encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.trim()).ok()
}

/// The DER inside a PEM block with one of `labels`, or bare base64 DER (whitespace ignored).
fn der_from_text(text: &str, labels: &[&str], expected: &'static str) -> Result<Vec<u8>, KeyError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let block = pem::parse(text).map_err(|e| KeyError::Encoding(e.to_string()))?;
        if !labels.contains(&block.tag()) {
            return Err(KeyError::WrongLabel {
                found: block.tag().to_string(),
                expected,
            });
        }
        return Ok(block.into_contents());
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    BASE64
        .decode(compact)
        .map_err(|e| KeyError::Encoding(format!("base64: {e}")))
}

/// An RSA private key that signs with SHA256withRSA (PKCS#1 v1.5), as both protocols require.
pub struct RsaSigningKey {
    key_pair: RsaKeyPair,
    rng: SystemRandom,
}

impl RsaSigningKey {
    /// PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1 (`BEGIN RSA PRIVATE KEY`), or either as bare base64.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let der = der_from_text(
            text,
            &["PRIVATE KEY", "RSA PRIVATE KEY"],
            "PRIVATE KEY or RSA PRIVATE KEY",
        )?;
        let key_pair = RsaKeyPair::from_pkcs8(&der)
            .or_else(|pkcs8| {
                RsaKeyPair::from_der(&der)
                    .map_err(|pkcs1| format!("PKCS#8: {pkcs8}; PKCS#1: {pkcs1}"))
            })
            .map_err(KeyError::PrivateKey)?;
        Ok(Self {
            key_pair,
            rng: SystemRandom::new(),
        })
    }

    /// The public half (PKCS#1 `RSAPublicKey` DER): the same key in any encoding gives the same.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key_pair.public().as_ref().to_vec()
    }

    /// The base64 SHA256withRSA signature of `message`.
    pub fn sign_base64(&self, message: &[u8]) -> String {
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .expect("RSA signing with a parsed key and a right-sized buffer does not fail");
        base64_encode(&signature)
    }
}

/// An RSA public key (PKCS#1 `RSAPublicKey` DER, what ring verifies with).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaVerifyingKey(Vec<u8>);

impl std::fmt::Debug for RsaVerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaVerifyingKey({} bytes)", self.0.len())
    }
}

impl RsaVerifyingKey {
    /// `BEGIN PUBLIC KEY` PEM or bare base64 SubjectPublicKeyInfo DER (`MIIBIjANBg…`).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let der = der_from_text(text, &["PUBLIC KEY"], "PUBLIC KEY")?;
        let spki = SubjectPublicKeyInfoRef::from_der(&der)
            .map_err(|e| KeyError::PublicKey(e.to_string()))?;
        Self::from_spki(spki).map_err(KeyError::PublicKey)
    }

    fn from_spki(spki: SubjectPublicKeyInfoRef<'_>) -> Result<Self, String> {
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(format!(
                "key algorithm {} is not rsaEncryption",
                spki.algorithm.oid
            ));
        }
        let pkcs1 = spki
            .subject_public_key
            .as_bytes()
            .ok_or("the key's bit string has unused bits")?;
        Ok(Self(pkcs1.to_vec()))
    }

    /// Whether `signature_base64` is this key's SHA256withRSA signature of `message`.
    pub fn verify_base64(&self, message: &[u8], signature_base64: &str) -> bool {
        let Some(signature) = base64_decode(signature_base64) else {
            return false;
        };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.0)
            .verify(message, &signature)
            .is_ok()
    }
}

/// An X.509 certificate as a verifier needs it: its serial and its key (the chain is not
/// checked: the merchant configures the certificates it trusts).
#[derive(Debug, Clone)]
pub struct Certificate {
    /// Upper-case hex without leading zeros, as WeChat Pay writes it in `Wechatpay-Serial`.
    pub serial: String,
    pub key: RsaVerifyingKey,
}

impl Certificate {
    /// Every `BEGIN CERTIFICATE` block in `pem_text` (one or several).
    pub fn parse_all(pem_text: &str) -> Result<Vec<Self>, KeyError> {
        let blocks = pem::parse_many(pem_text).map_err(|e| KeyError::Encoding(e.to_string()))?;
        if blocks.is_empty() {
            return Err(KeyError::Encoding("no PEM block".into()));
        }
        blocks
            .iter()
            .map(|block| {
                if block.tag() != "CERTIFICATE" {
                    return Err(KeyError::WrongLabel {
                        found: block.tag().to_string(),
                        expected: "CERTIFICATE",
                    });
                }
                Self::from_der(block.contents())
            })
            .collect()
    }

    fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let certificate = x509_cert::Certificate::from_der(der)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let tbs = &certificate.tbs_certificate;
        let spki_der = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let spki = SubjectPublicKeyInfoRef::from_der(&spki_der)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        Ok(Self {
            serial: normalize_serial(&hex::encode_upper(tbs.serial_number.as_bytes())),
            key: RsaVerifyingKey::from_spki(spki).map_err(KeyError::Certificate)?,
        })
    }
}

/// Serials compare as numbers: upper-case hex without leading zeros (DER adds a 00 byte to a
/// serial whose high bit is set; WeChat Pay's headers never carry one).
pub fn normalize_serial(serial: &str) -> String {
    let upper = serial.trim().to_ascii_uppercase();
    let trimmed = upper.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

fn aes_gcm_key(key: &[u8]) -> Result<LessSafeKey, KeyError> {
    // 32 bytes is AEAD_AES_256_GCM (the APIv3 key); 16 only for wechatpay-go's published vector.
    let algorithm = match key.len() {
        32 => &AES_256_GCM,
        16 => &AES_128_GCM,
        _ => return Err(KeyError::Aead("the key must be 32 bytes (or 16)")),
    };
    Ok(LessSafeKey::new(
        UnboundKey::new(algorithm, key).map_err(|_| KeyError::Aead("unusable key"))?,
    ))
}

fn aes_gcm_nonce(nonce: &[u8]) -> Result<Nonce, KeyError> {
    Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| KeyError::Aead("the nonce must be 12 bytes"))
}

/// Decrypts `ciphertext` (its last 16 bytes the tag) and checks it against `aad`.
pub fn aes_gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let key = aes_gcm_key(key)?;
    let mut in_out = ciphertext.to_vec();
    let plaintext_len = key
        .open_in_place(aes_gcm_nonce(nonce)?, Aad::from(aad), &mut in_out)
        .map_err(|_| {
            KeyError::Aead(
                "the ciphertext does not decrypt with this key, nonce and associated data",
            )
        })?
        .len();
    in_out.truncate(plaintext_len);
    Ok(in_out)
}

/// The ciphertext with the tag appended: what WeChat Pay sends, for tests and fakes.
#[cfg(test)]
pub fn aes_gcm_encrypt(key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = aes_gcm_key(key).expect("a 32- or 16-byte key");
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(
        aes_gcm_nonce(nonce).expect("12 bytes"),
        Aad::from(aad),
        &mut in_out,
    )
    .expect("sealing a short message does not fail");
    in_out
}

#[cfg(test)]
mod tests;
