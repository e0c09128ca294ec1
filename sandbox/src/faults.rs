//! Misbehaviour on demand, at the protocol level, for testing a merchant integration:
//! `SCANPAY_SANDBOX_FAULTS` (JSON) at start, `GET`/`PUT /sandbox/faults` when enabled.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Notifications are lost: the sandbox believes it delivered them.
    pub drop_notifications: bool,
    /// The first N delivery attempts of every notification fail (as if the merchant were down).
    pub fail_first_deliveries: u32,
    /// Every delivery waits this long first.
    pub delay_notifications_ms: u64,
    /// Extra copies of every delivery.
    pub duplicate_notifications: u32,
    /// Each batch of deliveries goes out in reverse order.
    pub reorder_notifications: bool,
    /// Queries answer 500 SYSTEM_ERROR (WeChat) / 20000 (Alipay).
    pub query_errors: bool,
    /// The bank refuses every approval: WeChat PAYERROR "银行卡余额不足"; Alipay stays unpaid.
    pub decline_all: bool,
    /// The shopper pays while the merchant closes: the close is answered OK, yet the trade ends
    /// paid.
    pub pay_during_close: bool,
    /// Every create/query/close answers 500 SYSTEM_ERROR / 20000.
    pub system_errors: bool,
    /// The first N API calls (after the faults were set) answer 500 SYSTEM_ERROR / 20000.
    pub fail_first_calls: u32,
    /// Every API answer waits this long first (past the merchant's timeout, say).
    pub slow_answers_ms: u64,
    /// Answers and notifications are signed with a timestamp 10 minutes old.
    pub stale_timestamps: bool,
    /// Answers and notifications carry a Wechatpay-Serial the merchant does not know.
    pub wrong_serial: bool,
    /// Answers' Wechatpay-Signature is a `WECHATPAY/SIGNTEST/` probe.
    pub signature_probe: bool,
    /// Answers (and notifications) are signed with a key that is not WeChat Pay's / Alipay's.
    pub forged_answers: bool,
}

/// How old a stale timestamp is: past both providers' five-minute window.
pub const STALE_BY_SECS: i64 = 600;

impl Faults {
    /// The unix seconds an answer or notification is signed with.
    pub fn signing_timestamp(&self, now_secs: i64) -> i64 {
        if self.stale_timestamps {
            now_secs - STALE_BY_SECS
        } else {
            now_secs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Faults;

    #[test]
    fn faults_are_camel_case_and_strict() {
        let faults: Faults =
            serde_json::from_str(r#"{"failFirstCalls":2,"signatureProbe":true}"#).unwrap();
        assert_eq!(faults.fail_first_calls, 2);
        assert!(faults.signature_probe);
        assert!(serde_json::from_str::<Faults>(r#"{"dropNotification":true}"#).is_err());
    }
}

/// The API calls faults can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCall {
    Create,
    Query,
    Close,
}

impl crate::Sandbox {
    /// Called by each API call once its request is verified: waits as `slowAnswersMs` asks, and
    /// says whether this call must answer a system error (SYSTEM_ERROR / 20000).
    pub(crate) async fn injected_failure(&self, call: ApiCall) -> bool {
        use std::sync::atomic::Ordering;
        let faults = self.faults();
        if faults.slow_answers_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(faults.slow_answers_ms)).await;
        }
        let counted = self
            .calls_failed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |failed| {
                (failed < faults.fail_first_calls).then_some(failed + 1)
            })
            .is_ok();
        counted || faults.system_errors || (faults.query_errors && call == ApiCall::Query)
    }
}
