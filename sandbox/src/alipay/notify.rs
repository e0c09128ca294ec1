//! Alipay's asynchronous notification: a signed form POST (RSA2 over the sorted fields without
//! `sign` and `sign_type`), acknowledged only by a body of exactly `success`.
use super::{alipay_time, yuan};
use crate::clock::now_ms;
use crate::faults::Faults;
use crate::keys::random_alphanumeric;
use crate::trades::Trade;
use crate::Sandbox;
use std::collections::BTreeMap;

/// The notification id and its fields without `notify_time` and `sign` (added at each send);
/// `notify_id` stays the same across resends.
pub fn payload(sandbox: &Sandbox, trade: &Trade) -> (String, String) {
    let merchant = &sandbox.merchants.alipay;
    let notify_id = random_alphanumeric(34).to_lowercase();
    let amount = yuan(trade.amount_fen);
    let paid_at = trade.paid_at_ms.unwrap_or_else(now_ms);
    let fund_bill_list =
        serde_json::json!([{ "amount": amount, "fundChannel": "ALIPAYACCOUNT" }]).to_string();
    let fields: BTreeMap<&str, String> = BTreeMap::from([
        ("notify_type", "trade_status_sync".to_string()),
        ("notify_id", notify_id.clone()),
        ("app_id", merchant.app_id.clone()),
        ("auth_app_id", merchant.app_id.clone()),
        ("charset", "utf-8".to_string()),
        ("version", "1.0".to_string()),
        ("sign_type", "RSA2".to_string()),
        ("trade_no", trade.transaction_id.clone().unwrap_or_default()),
        ("out_trade_no", trade.out_trade_no.clone()),
        ("buyer_id", trade.payer_id.clone().unwrap_or_default()),
        ("seller_id", merchant.seller_id.clone()),
        ("trade_status", "TRADE_SUCCESS".to_string()),
        ("total_amount", amount.clone()),
        ("receipt_amount", amount.clone()),
        ("invoice_amount", amount.clone()),
        ("buyer_pay_amount", amount),
        ("point_amount", "0.00".to_string()),
        ("subject", trade.description.clone()),
        (
            "gmt_create",
            alipay_time(trade.scanned_at_ms.unwrap_or(trade.created_at_ms)),
        ),
        ("gmt_payment", alipay_time(paid_at)),
        ("fund_bill_list", fund_bill_list),
    ]);
    let payload = serde_json::to_string(&fields).expect("string fields serialize");
    (notify_id, payload)
}

/// The form as sent now: `notify_time` set, signed (or forged, as the faults say).
pub fn signed_form(
    sandbox: &Sandbox,
    payload: &str,
    faults: &Faults,
) -> Result<BTreeMap<String, String>, String> {
    let mut fields: BTreeMap<String, String> = serde_json::from_str(payload)
        .map_err(|e| format!("stored notification unreadable: {e}"))?;
    let sent_at = faults.signing_timestamp(now_ms() / 1000) * 1000;
    fields.insert("notify_time".into(), alipay_time(sent_at));
    let content = super::sign::sign_content(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["sign", "sign_type"],
    );
    let key = if faults.forged_answers {
        &sandbox.merchants.forger
    } else {
        &sandbox.merchants.alipay.alipay_key
    };
    fields.insert("sign".into(), key.sign(content.as_bytes()));
    Ok(fields)
}

/// One delivery; `Ok` only when the body answered is exactly `success`.
pub async fn send(
    sandbox: &Sandbox,
    notify_url: &str,
    payload: &str,
    faults: &Faults,
) -> Result<(), String> {
    let form = signed_form(sandbox, payload, faults)?;
    let body = serde_urlencoded::to_string(&form).map_err(|e| e.to_string())?;
    let response = sandbox
        .http
        .post(notify_url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let answer = response.bytes().await.map_err(|e| e.to_string())?;
    if answer.as_ref() == b"success" {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status}, body {:?}",
            String::from_utf8_lossy(&answer)
        ))
    }
}
