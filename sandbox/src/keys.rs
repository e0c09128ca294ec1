//! The key material: RSA-2048 pairs (generated with `rsa`, used only through `ring`), SHA256withRSA
//! signatures, and AES-256-GCM for WeChat Pay's encrypted resources.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::SystemRandom;
use ring::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("generating an RSA key: {0}")]
    Generate(String),
    #[error("reading a PEM key: {0}")]
    Pem(String),
    #[error("the private key is not usable for RSA signing: {0}")]
    Rejected(String),
}

/// A private key as the store keeps it: both halves as PEM (PKCS#8 and SPKI).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub private_pem: String,
    pub public_pem: String,
}

/// An RSA key pair ready to sign.
pub struct RsaKey {
    pair: RsaKeyPair,
    stored: StoredKey,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaKey(..)")
    }
}

impl RsaKey {
    /// A new RSA-2048 pair (slow: call it off the async threads).
    pub fn generate() -> Result<StoredKey, KeyError> {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let private_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?
            .to_string();
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Ok(StoredKey {
            private_pem,
            public_pem,
        })
    }

    pub fn load(stored: StoredKey) -> Result<Self, KeyError> {
        let (label, der) = pem_rfc7468::decode_vec(stored.private_pem.as_bytes())
            .map_err(|e| KeyError::Pem(e.to_string()))?;
        if label != "PRIVATE KEY" {
            return Err(KeyError::Pem(format!("expected PRIVATE KEY, got {label}")));
        }
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Self { pair, stored })
    }

    pub fn stored(&self) -> &StoredKey {
        &self.stored
    }

    pub fn private_pem(&self) -> &str {
        &self.stored.private_pem
    }

    pub fn public_pem(&self) -> &str {
        &self.stored.public_pem
    }

    /// SHA256withRSA (PKCS#1 v1.5), base64.
    pub fn sign(&self, message: &[u8]) -> String {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("signing with a loaded RSA key cannot fail");
        BASE64.encode(signature)
    }

    /// The public half in PKCS#1 DER, as ring verifies with it.
    pub fn public_pkcs1(&self) -> &[u8] {
        self.pair.public().as_ref()
    }
}

/// Signs with a PKCS#8 "PRIVATE KEY" PEM, as a merchant integration does with the credentials.
pub fn sign_with_pem(private_pem: &str, message: &[u8]) -> Result<String, KeyError> {
    let key = RsaKey::load(StoredKey {
        private_pem: private_pem.to_string(),
        public_pem: String::new(),
    })?;
    Ok(key.sign(message))
}

/// Verifies against an RSA public key in PKCS#1 DER.
pub fn verify_pkcs1(public_pkcs1_der: &[u8], message: &[u8], signature_base64: &str) -> bool {
    let Ok(signature) = BASE64.decode(signature_base64.trim()) else {
        return false;
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_pkcs1_der)
        .verify(message, &signature)
        .is_ok()
}

/// The PKCS#1 key inside an SPKI "PUBLIC KEY" PEM (what a client of the sandbox receives).
pub fn pkcs1_from_spki_pem(pem: &str) -> Result<Vec<u8>, KeyError> {
    let (label, der) =
        pem_rfc7468::decode_vec(pem.as_bytes()).map_err(|e| KeyError::Pem(e.to_string()))?;
    if label != "PUBLIC KEY" {
        return Err(KeyError::Pem(format!("expected PUBLIC KEY, got {label}")));
    }
    let spki = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice())
        .map_err(|e| KeyError::Pem(e.to_string()))?;
    Ok(spki.subject_public_key.raw_bytes().to_vec())
}

#[derive(Debug, thiserror::Error)]
#[error("AEAD_AES_256_GCM: {0}")]
pub struct AeadError(&'static str);

fn aes_key(api_v3_key: &str) -> Result<LessSafeKey, AeadError> {
    let key = UnboundKey::new(&AES_256_GCM, api_v3_key.as_bytes())
        .map_err(|_| AeadError("the APIv3 key must be 32 bytes"))?;
    Ok(LessSafeKey::new(key))
}

fn aes_nonce(nonce: &str) -> Result<Nonce, AeadError> {
    Nonce::try_assume_unique_for_key(nonce.as_bytes())
        .map_err(|_| AeadError("nonce must be 12 bytes"))
}

/// WeChat Pay's resource encryption: base64(ciphertext ‖ tag).
pub fn aes_gcm_encrypt(
    api_v3_key: &str,
    nonce: &str,
    associated_data: &str,
    plaintext: &[u8],
) -> Result<String, AeadError> {
    let mut sealed = plaintext.to_vec();
    aes_key(api_v3_key)?
        .seal_in_place_append_tag(
            aes_nonce(nonce)?,
            Aad::from(associated_data.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| AeadError("sealing failed"))?;
    Ok(BASE64.encode(sealed))
}

/// The merchant's side of [`aes_gcm_encrypt`] (tests and clients).
pub fn aes_gcm_decrypt(
    api_v3_key: &str,
    nonce: &str,
    associated_data: &str,
    ciphertext_base64: &str,
) -> Result<Vec<u8>, AeadError> {
    let mut sealed = BASE64
        .decode(ciphertext_base64)
        .map_err(|_| AeadError("ciphertext is not base64"))?;
    let plain = aes_key(api_v3_key)?
        .open_in_place(
            aes_nonce(nonce)?,
            Aad::from(associated_data.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| AeadError("authentication failed"))?;
    Ok(plain.to_vec())
}

pub fn random_alphanumeric(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

pub fn random_digits(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

pub fn random_upper_hex(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789ABCDEF"[rng.random_range(0..16usize)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wechatpay-java AeadAesCipherTest (Apache-2.0): the published vector.
    #[test]
    fn aes_gcm_matches_the_wechatpay_sdk_vector() {
        let key = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
        let sealed = aes_gcm_encrypt(key, "uluk4a9R25RW", "associatedData", b"message").unwrap();
        assert_eq!(sealed, "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=");
        let plain = aes_gcm_decrypt(key, "uluk4a9R25RW", "associatedData", &sealed).unwrap();
        assert_eq!(plain, b"message");
        assert!(aes_gcm_decrypt(key, "uluk4a9R25RW", "other", &sealed).is_err());
    }

    #[test]
    fn random_ids_have_their_alphabets() {
        assert!(random_digits(10).bytes().all(|b| b.is_ascii_digit()));
        assert!(random_upper_hex(40)
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        assert_eq!(random_alphanumeric(32).len(), 32);
    }
}
