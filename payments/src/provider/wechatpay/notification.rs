//! WeChat Pay's payment notification: the signature over the raw body first, then the
//! `resource` decrypted (AEAD_AES_256_GCM with the APIv3 key), then whose it is.
use super::{Transaction, WechatPay};
use crate::clock::now_ms;
use crate::provider::keys::{aes_gcm_decrypt, base64_decode};
use crate::provider::{Notification, NotificationRejected};
use http::HeaderMap;
use serde::Deserialize;

#[derive(Deserialize)]
struct Envelope {
    id: String,
    event_type: String,
    resource: Resource,
}

#[derive(Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

impl WechatPay {
    /// Verifies and opens a notification POSTed to our notify URL (`body` exactly as received).
    pub fn verify_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, NotificationRejected> {
        self.verify_notification_at(headers, body, now_ms() / 1000)
    }

    /// [`Self::verify_notification`] at a given time (unix seconds), for tests.
    pub fn verify_notification_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now_secs: i64,
    ) -> Result<Notification, NotificationRejected> {
        if let Err(reason) = self.verifier.verify(headers, body, now_secs) {
            // Only our APIv3 key opens the resource, but an unverified body may be a replay:
            // the trade's number serves to prompt a query, nothing more.
            let out_trade_no = self
                .open(body)
                .ok()
                .map(|(_, transaction)| transaction.out_trade_no);
            return Err(NotificationRejected::Unverified {
                reason,
                out_trade_no,
            });
        }
        let (envelope, transaction) = self.open(body)?;
        let out_trade_no = Some(transaction.out_trade_no.clone());
        for (field, ours, theirs) in [
            ("mchid", &self.mchid, &transaction.mchid),
            ("appid", &self.appid, &transaction.appid),
        ] {
            if theirs.as_deref() != Some(ours.as_str()) {
                let reason = format!("{field} {theirs:?} is not ours ({ours})");
                return Err(NotificationRejected::NotOurs {
                    reason,
                    out_trade_no,
                });
            }
        }
        if !envelope.event_type.starts_with("TRANSACTION.") {
            let reason = format!("event_type {} is not a payment event", envelope.event_type);
            return Err(NotificationRejected::Malformed {
                reason,
                out_trade_no,
            });
        }
        let trade =
            transaction
                .into_trade_status()
                .map_err(|reason| NotificationRejected::Malformed {
                    reason,
                    out_trade_no,
                })?;
        Ok(Notification {
            event_id: envelope.id,
            trade,
        })
    }

    fn open(&self, body: &[u8]) -> Result<(Envelope, Transaction), NotificationRejected> {
        let malformed = |reason: String| NotificationRejected::Malformed {
            reason,
            out_trade_no: None,
        };
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| malformed(format!("body: {e}")))?;
        let resource = &envelope.resource;
        if resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(malformed(format!(
                "resource algorithm {:?}",
                resource.algorithm
            )));
        }
        let ciphertext = base64_decode(&resource.ciphertext)
            .ok_or_else(|| malformed("resource ciphertext is not base64".into()))?;
        let plaintext = aes_gcm_decrypt(
            self.api_v3_key.expose(),
            resource.nonce.as_bytes(),
            resource.associated_data.as_bytes(),
            &ciphertext,
        )
        .map_err(|e| malformed(format!("resource: {e} (is the APIv3 key right?)")))?;
        let transaction: Transaction = serde_json::from_slice(&plaintext)
            .map_err(|e| malformed(format!("decrypted resource: {e}")))?;
        Ok((envelope, transaction))
    }
}
