//! WeChat Pay's payment notification: the Transaction encrypted with the APIv3 key
//! (AEAD_AES_256_GCM), POSTed as JSON with signed headers; acknowledged by HTTP 200 or 204.
use super::transaction::transaction;
use crate::clock::{now_ms, rfc3339};
use crate::faults::Faults;
use crate::keys::{aes_gcm_encrypt, random_alphanumeric};
use crate::trades::Trade;
use crate::Sandbox;
use serde_json::json;

/// The notification id and its JSON body (fixed at payment, identical in every resend).
pub fn payload(sandbox: &Sandbox, trade: &Trade) -> (String, String) {
    let merchant = &sandbox.merchants.wechatpay;
    let id = new_event_id();
    let nonce = random_alphanumeric(12);
    let plaintext = transaction(merchant, trade).to_string();
    let ciphertext = aes_gcm_encrypt(
        &merchant.api_v3_key,
        &nonce,
        "transaction",
        plaintext.as_bytes(),
    )
    .expect("the stored APIv3 key is 32 bytes");
    let body = json!({
        "id": id,
        "create_time": rfc3339(now_ms()),
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": "transaction",
            "nonce": nonce,
        }
    });
    (id, body.to_string())
}

fn new_event_id() -> String {
    let n: u128 = rand::random();
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// One delivery; `Ok` when acknowledged (only the HTTP status counts).
pub async fn send(
    sandbox: &Sandbox,
    notify_url: &str,
    body: &str,
    faults: &Faults,
) -> Result<(), String> {
    let mut request = sandbox
        .http
        .post(notify_url)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in sandbox.signed_headers(body.as_bytes(), faults) {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(r) if matches!(r.status().as_u16(), 200 | 204) => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(e) => Err(e.to_string()),
    }
}
