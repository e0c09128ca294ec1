//! Alipay's asynchronous notification: a form whose fields (URL-decoded once, without `sign`,
//! `sign_type` and empty values, sorted) the Alipay public key signed.
use super::gateway::sign_content;
use super::{Alipay, AlipayTrade};
use crate::provider::{Notification, NotificationRejected};
use std::collections::BTreeMap;

impl Alipay {
    /// Verifies and reads a notification POSTed to our notify URL (`form_body` as received).
    pub fn verify_notification(
        &self,
        form_body: &[u8],
    ) -> Result<Notification, NotificationRejected> {
        let fields: BTreeMap<String, String> =
            form_urlencoded::parse(form_body).into_owned().collect();
        let field = |name: &str| fields.get(name).map(String::as_str);
        let out_trade_no = field("out_trade_no").map(str::to_string);
        let signed = sign_content(
            fields
                .iter()
                .filter(|(key, _)| !matches!(key.as_str(), "sign" | "sign_type"))
                .map(|(key, value)| (key.as_str(), value.as_str())),
        );
        let verified = field("sign")
            .is_some_and(|sign| self.alipay_key.verify_base64(signed.as_bytes(), sign));
        if !verified {
            let reason =
                "sign missing or not the Alipay public key's signature of the fields".to_string();
            return Err(NotificationRejected::Unverified {
                reason,
                out_trade_no,
            });
        }
        if field("app_id") != Some(self.app_id.as_str()) {
            let reason = format!("app_id {:?} is not ours ({})", field("app_id"), self.app_id);
            return Err(NotificationRejected::NotOurs {
                reason,
                out_trade_no,
            });
        }
        let malformed = |reason: String| NotificationRejected::Malformed {
            reason,
            out_trade_no: out_trade_no.clone(),
        };
        let event_id = field("notify_id")
            .ok_or_else(|| malformed("no notify_id".into()))?
            .to_string();
        let trade = AlipayTrade {
            out_trade_no: out_trade_no
                .clone()
                .ok_or_else(|| malformed("no out_trade_no".into()))?,
            trade_no: field("trade_no").map(str::to_string),
            trade_status: field("trade_status")
                .ok_or_else(|| malformed("no trade_status".into()))?
                .to_string(),
            total_amount: field("total_amount").map(str::to_string),
            send_pay_date: field("gmt_payment").map(str::to_string),
        };
        let trade = trade.into_trade_status().map_err(malformed)?;
        Ok(Notification { event_id, trade })
    }
}
