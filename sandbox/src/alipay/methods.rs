//! The three 当面付 methods. No trade exists for the merchant until the buyer scans (opens the
//! wallet page): before that, query and close answer ACQ.TRADE_NOT_EXIST.
use super::{alipay_time, parse_yuan, yuan, Outcome};
use crate::clock::now_ms;
use crate::faults::ApiCall;
use crate::trades::{self, NewTrade, Provider, SettleError, Settlement, Trade, TradeState};
use crate::Sandbox;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// How long a QR or trade lives when the merchant does not say (Alipay's default).
const DEFAULT_TIMEOUT_MS: i64 = 2 * 3600 * 1000;

fn not_exist() -> Outcome {
    Outcome::business("ACQ.TRADE_NOT_EXIST", "交易不存在")
}

fn system_error(e: impl std::fmt::Display) -> Outcome {
    tracing::warn!("sandbox store: {e}");
    Outcome::unavailable()
}

/// `"90m"`, `"2h"`, `"1d"` → milliseconds (Alipay allows 1m ..= 15d).
fn parse_timeout(text: &str) -> Option<i64> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let ms = match unit {
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => return None,
    };
    (ms <= 15 * 86_400_000).then_some(ms)
}

fn text_field(biz: &Value, name: &str) -> Option<String> {
    match biz.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        // Some SDK users send total_amount as a JSON number.
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The trade as a query answers it.
fn query_fields(trade: &Trade) -> Value {
    let status = match trade.state {
        TradeState::NotPay | TradeState::PayError => "WAIT_BUYER_PAY",
        TradeState::Success => "TRADE_SUCCESS",
        TradeState::Closed => "TRADE_CLOSED",
    };
    let paid = trade.state == TradeState::Success;
    let mut fields = json!({
        "trade_no": trade.transaction_id,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": "sbx***@sandbox.example",
        "trade_status": status,
        "total_amount": yuan(trade.amount_fen),
        "buyer_pay_amount": if paid { yuan(trade.amount_fen) } else { "0.00".into() },
        "receipt_amount": if paid { yuan(trade.amount_fen) } else { "0.00".into() },
        "point_amount": "0.00",
        "invoice_amount": if paid { yuan(trade.amount_fen) } else { "0.00".into() },
    });
    if paid {
        fields["send_pay_date"] = json!(trade.paid_at_ms.map(alipay_time));
        fields["buyer_user_id"] = json!(trade.payer_id);
        fields["fund_bill_list"] =
            json!([{ "amount": yuan(trade.amount_fen), "fund_channel": "ALIPAYACCOUNT" }]);
    }
    fields
}

impl Sandbox {
    pub(super) async fn run_method(
        &self,
        call: ApiCall,
        params: &BTreeMap<String, String>,
    ) -> Outcome {
        let biz: Value = match params.get("biz_content").map(|b| serde_json::from_str(b)) {
            None => return Outcome::missing("isv.missing-biz-content", "缺少业务参数biz_content"),
            Some(Err(e)) => {
                return Outcome::invalid(
                    "isv.invalid-biz-content",
                    format!("biz_content不是有效的JSON: {e}"),
                )
            }
            Some(Ok(biz)) => biz,
        };
        let Some(out_trade_no) = text_field(&biz, "out_trade_no").filter(|n| n.len() <= 64) else {
            return Outcome::business(
                "ACQ.INVALID_PARAMETER",
                "参数无效: out_trade_no 必填，最长64位",
            );
        };
        let result = match call {
            ApiCall::Create => {
                self.precreate(&out_trade_no, &biz, params.get("notify_url"))
                    .await
            }
            ApiCall::Query => self.alipay_query(&out_trade_no).await,
            ApiCall::Close => self.alipay_close(&out_trade_no).await,
        };
        result.unwrap_or_else(|refused| refused)
    }

    async fn precreate(
        &self,
        out_trade_no: &str,
        biz: &Value,
        notify_url: Option<&String>,
    ) -> Result<Outcome, Outcome> {
        let amount = text_field(biz, "total_amount").unwrap_or_default();
        let amount_fen = parse_yuan(&amount).ok_or_else(|| {
            Outcome::business(
                "ACQ.INVALID_PARAMETER",
                format!(
                    "参数无效: total_amount {amount:?} 应为0.01到100000000之间、最多两位小数的金额"
                ),
            )
        })?;
        let subject = text_field(biz, "subject")
            .filter(|s| s.chars().count() <= 256)
            .ok_or_else(|| {
                Outcome::business(
                    "ACQ.INVALID_PARAMETER",
                    "参数无效: subject 必填，最长256个字符",
                )
            })?;
        let mut lifetime = DEFAULT_TIMEOUT_MS;
        for name in ["timeout_express", "qr_code_timeout_express"] {
            if let Some(text) = text_field(biz, name) {
                let ms = parse_timeout(&text).ok_or_else(|| {
                    Outcome::business(
                        "ACQ.INVALID_PARAMETER",
                        format!("参数无效: {name} {text:?} 应为1m～15d，如 90m"),
                    )
                })?;
                lifetime = lifetime.min(ms);
            }
        }
        let params = json!([amount_fen, subject]).to_string();
        let now = now_ms();
        let new = NewTrade {
            provider: Provider::Alipay,
            out_trade_no: out_trade_no.to_string(),
            amount_fen,
            description: subject,
            attach: None,
            notify_url: notify_url.filter(|u| !u.is_empty()).cloned(),
            create_params: params.clone(),
            expires_at_ms: now + lifetime,
            autopay_at_ms: self.autopay_at(now),
        };
        let trade = trades::create(&self.store, new)
            .await
            .map_err(system_error)?;
        match trade.state {
            TradeState::Success => Err(Outcome::business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")),
            TradeState::Closed => Err(Outcome::business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")),
            _ if trade.create_params != params => Err(Outcome::business(
                "ACQ.INVALID_PARAMETER",
                "参数无效: 该商户订单号已用于金额或标题不同的交易",
            )),
            _ => Ok(Outcome::success(json!({
                "out_trade_no": trade.out_trade_no,
                "qr_code": self.wallet_url(Provider::Alipay, &trade.out_trade_no),
            }))),
        }
    }

    async fn alipay_query(&self, out_trade_no: &str) -> Result<Outcome, Outcome> {
        let trade = trades::load(&self.store, Provider::Alipay, out_trade_no)
            .await
            .map_err(system_error)?
            .filter(Trade::exists_for_merchant)
            .ok_or_else(not_exist)?;
        Ok(Outcome::success(query_fields(&trade)))
    }

    async fn alipay_close(&self, out_trade_no: &str) -> Result<Outcome, Outcome> {
        let trade = trades::load(&self.store, Provider::Alipay, out_trade_no)
            .await
            .map_err(system_error)?
            .ok_or_else(not_exist)?;
        let closed = |trade: &Trade| {
            Outcome::success(
                json!({ "trade_no": trade.transaction_id, "out_trade_no": trade.out_trade_no }),
            )
        };
        if self.faults().pay_during_close && trade.state == TradeState::NotPay {
            // The buyer scans and pays while the close is answered "closed".
            let scanned = self
                .scan(Provider::Alipay, out_trade_no)
                .await
                .map_err(system_error)?;
            let paid = match self.pay(scanned).await {
                Ok(paid) => paid,
                Err(crate::buyer::BuyerError::Final(trade)) => *trade,
                Err(e) => return Err(system_error(e)),
            };
            return Ok(closed(&paid));
        }
        if !trade.exists_for_merchant() {
            return Err(not_exist());
        }
        match trades::settle(
            &self.store,
            Provider::Alipay,
            out_trade_no,
            Settlement::Close,
            |_| None,
        )
        .await
        {
            Ok((trade, _)) => Ok(closed(&trade)),
            Err(SettleError::Final(trade)) if trade.state == TradeState::Closed => {
                Ok(closed(&trade))
            }
            Err(SettleError::Final(_)) => Err(Outcome::business(
                "ACQ.TRADE_STATUS_ERROR",
                "交易状态不合法",
            )),
            Err(SettleError::Unknown) => Err(not_exist()),
            Err(SettleError::Store(e)) => Err(system_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;

    #[test]
    fn timeouts_are_alipay_durations() {
        assert_eq!(parse_timeout("5m"), Some(300_000));
        assert_eq!(parse_timeout("2h"), Some(7_200_000));
        assert_eq!(parse_timeout("15d"), Some(15 * 86_400_000));
        for bad in ["16d", "0m", "5", "m", "1.5m", "1c", ""] {
            assert_eq!(parse_timeout(bad), None, "{bad}");
        }
    }
}
