//! The Native create request as WeChat Pay validates it, and the Transaction it answers queries
//! (and encrypts into notifications) with; fields appear only once relevant.
use super::auth::WechatError;
use crate::clock::{now_ms, parse_rfc3339, rfc3339};
use crate::merchants::WechatpayMerchant;
use crate::trades::{Trade, TradeState};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A code_url works two hours at most.
pub const MAX_CODE_URL_MS: i64 = 2 * 3600 * 1000;

#[derive(Debug, Deserialize)]
pub struct CreateRequest {
    appid: Option<String>,
    mchid: Option<String>,
    description: Option<String>,
    out_trade_no: Option<String>,
    time_expire: Option<String>,
    attach: Option<String>,
    notify_url: Option<String>,
    amount: Option<Amount>,
}

#[derive(Debug, Deserialize)]
struct Amount {
    total: Option<i64>,
    currency: Option<String>,
}

/// A create request that passed validation.
#[derive(Debug)]
pub struct ValidCreate {
    pub out_trade_no: String,
    pub description: String,
    pub attach: Option<String>,
    pub notify_url: String,
    pub total: i64,
    pub expires_at_ms: i64,
    /// What a repeated create must match to be the same request.
    pub params: String,
}

fn required<T>(value: Option<T>, path: &str, name: &str) -> Result<T, WechatError> {
    value.ok_or_else(|| {
        WechatError::param(format!(
            "输入源“/body/{path}”映射到值字段“{name}”必填性规则校验失败，此字段为必填项"
        ))
    })
}

pub fn valid_out_trade_no(no: &str) -> bool {
    (6..=32).contains(&no.len())
        && no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-*".contains(&b))
}

impl CreateRequest {
    pub fn parse(body: &[u8]) -> Result<Self, WechatError> {
        serde_json::from_slice(body)
            .map_err(|e| WechatError::param(format!("请求体不是有效的JSON或字段类型有误: {e}")))
    }

    pub fn validate(self, merchant: &WechatpayMerchant) -> Result<ValidCreate, WechatError> {
        let appid = required(self.appid, "appid", "应用ID")?;
        let mchid = required(self.mchid, "mchid", "直连商户号")?;
        if mchid != merchant.mchid {
            return Err(WechatError::new(
                StatusCode::BAD_REQUEST,
                "MCH_NOT_EXISTS",
                "商户号不存在",
            ));
        }
        if appid != merchant.appid {
            return Err(WechatError::new(
                StatusCode::BAD_REQUEST,
                "APPID_MCHID_NOT_MATCH",
                "AppID和mch_id不匹配",
            ));
        }
        let description = required(self.description, "description", "商品描述")?;
        let chars = description.chars().count();
        if chars == 0 || chars > 127 {
            return Err(WechatError::param(format!("输入源“/body/description”映射到值字段“商品描述”字符串规则校验失败，字符数 {chars}，应在 1 到 127 之间")));
        }
        let out_trade_no = required(self.out_trade_no, "out_trade_no", "商户订单号")?;
        if !valid_out_trade_no(&out_trade_no) {
            return Err(WechatError::param("输入源“/body/out_trade_no”映射到值字段“商户订单号”字符串规则校验失败，应为 6 到 32 位数字、大小写字母或_-*"));
        }
        let now = now_ms();
        let expires_at_ms = match &self.time_expire {
            None => now + MAX_CODE_URL_MS,
            Some(text) => {
                let at = parse_rfc3339(text).ok_or_else(|| WechatError::param(format!("输入源“/body/time_expire”映射到值字段“交易结束时间”rfc3339格式校验失败: {text:?}")))?;
                if at <= now {
                    return Err(WechatError::param(
                        "输入源“/body/time_expire”映射到值字段“交易结束时间”已过期",
                    ));
                }
                at.min(now + MAX_CODE_URL_MS)
            }
        };
        let notify_url = required(self.notify_url, "notify_url", "通知地址")?;
        // The real service demands https; the sandbox also takes plain http (local merchants).
        let scheme_ok = notify_url.starts_with("https://") || notify_url.starts_with("http://");
        if !scheme_ok || notify_url.contains('?') || notify_url.len() > 255 {
            return Err(WechatError::param("输入源“/body/notify_url”映射到值字段“通知地址”格式校验失败，应为不带参数的 http(s) URL"));
        }
        let amount = required(self.amount, "amount", "订单金额")?;
        let total = required(amount.total, "amount/total", "总金额")?;
        if total <= 0 {
            return Err(WechatError::param(
                "输入源“/body/amount/total”映射到值字段“总金额”数字规则校验失败，值应大于 0",
            ));
        }
        if amount.currency.as_deref().is_some_and(|c| c != "CNY") {
            return Err(WechatError::param(
                "输入源“/body/amount/currency”映射到值字段“货币类型”校验失败，境内商户仅支持 CNY",
            ));
        }
        let params = json!([description, total, self.attach, self.time_expire]).to_string();
        Ok(ValidCreate {
            out_trade_no,
            description,
            attach: self.attach,
            notify_url,
            total,
            expires_at_ms,
            params,
        })
    }
}

/// The Transaction WeChat Pay answers a query with (and encrypts into notifications).
pub fn transaction(merchant: &WechatpayMerchant, trade: &Trade) -> Value {
    let mut fields = Map::new();
    let mut put = |key: &str, value: Value| {
        fields.insert(key.to_string(), value);
    };
    put("appid", json!(merchant.appid));
    put("mchid", json!(merchant.mchid));
    put("out_trade_no", json!(trade.out_trade_no));
    put("trade_type", json!("NATIVE"));
    put("trade_state", json!(trade.state.as_str()));
    let desc = match trade.state {
        TradeState::NotPay => "订单未支付".to_string(),
        TradeState::Closed => "订单已关闭".to_string(),
        _ => trade.state_desc.clone().unwrap_or_default(),
    };
    put("trade_state_desc", json!(desc));
    if let Some(attach) = &trade.attach {
        put("attach", json!(attach));
    }
    let paid = trade.state == TradeState::Success;
    let mut amount = json!({ "total": trade.amount_fen, "currency": "CNY" });
    if paid {
        put("transaction_id", json!(trade.transaction_id));
        put("bank_type", json!("OTHERS"));
        put("success_time", json!(trade.paid_at_ms.map(rfc3339)));
        put("payer", json!({ "openid": trade.payer_id }));
        amount["payer_total"] = json!(trade.amount_fen);
        amount["payer_currency"] = json!("CNY");
    }
    put("amount", amount);
    Value::Object(fields)
}
