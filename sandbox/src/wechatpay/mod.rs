//! WeChat Pay API v3 Native, direct merchant: create, query and close by out_trade_no, under
//! `/sandbox/wechatpay` (the merchant's base URL), verified and answered as the real service.
use crate::faults::ApiCall;
use crate::trades::{self, NewTrade, Provider, SettleError, Settlement, TradeState};
use crate::Sandbox;
use auth::WechatError;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use transaction::{transaction, valid_out_trade_no, CreateRequest};

pub mod auth;
pub mod notify;
pub mod transaction;

/// The WeChat Pay base URL's path: `{public_url}/sandbox/wechatpay`.
pub const PREFIX: &str = "/sandbox/wechatpay";

fn not_found() -> WechatError {
    WechatError::new(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在")
}

fn store_failure(e: impl std::fmt::Display) -> WechatError {
    tracing::warn!("sandbox store: {e}");
    WechatError::system()
}

impl Sandbox {
    /// Verification first (a bad signature is a 401 whatever else is wrong), then the faults.
    async fn admit(
        &self,
        call: ApiCall,
        method: &Method,
        uri: &OriginalUri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), WechatError> {
        self.verify_request(method, &uri.0, headers, body)?;
        if self.injected_failure(call).await {
            return Err(WechatError::system());
        }
        Ok(())
    }

    fn check_mchid(&self, mchid: Option<&str>) -> Result<(), WechatError> {
        match mchid {
            None => Err(WechatError::param("缺少参数 mchid")),
            Some(m) if m != self.merchants.wechatpay.mchid => Err(WechatError::new(
                StatusCode::BAD_REQUEST,
                "MCH_NOT_EXISTS",
                "商户号不存在",
            )),
            Some(_) => Ok(()),
        }
    }

    async fn wechat_create(&self, body: &[u8]) -> Result<String, WechatError> {
        let create = CreateRequest::parse(body)?.validate(&self.merchants.wechatpay)?;
        let new = NewTrade {
            provider: Provider::Wechatpay,
            out_trade_no: create.out_trade_no.clone(),
            amount_fen: create.total,
            description: create.description,
            attach: create.attach,
            notify_url: Some(create.notify_url),
            create_params: create.params.clone(),
            expires_at_ms: create.expires_at_ms,
            autopay_at_ms: self.autopay_at(crate::clock::now_ms()),
        };
        let trade = trades::create(&self.store, new)
            .await
            .map_err(store_failure)?;
        match trade.state {
            TradeState::Success => Err(WechatError::new(
                StatusCode::BAD_REQUEST,
                "ORDERPAID",
                "该订单已支付",
            )),
            TradeState::Closed => Err(WechatError::new(
                StatusCode::BAD_REQUEST,
                "ORDER_CLOSED",
                "订单已关闭",
            )),
            TradeState::NotPay if trade.create_params == create.params => {
                let code_url = self.wallet_url(Provider::Wechatpay, &trade.out_trade_no);
                Ok(json!({ "code_url": code_url }).to_string())
            }
            TradeState::NotPay | TradeState::PayError => Err(WechatError::new(
                StatusCode::FORBIDDEN,
                "OUT_TRADE_NO_USED",
                "商户订单号重复",
            )),
        }
    }

    async fn wechat_close(&self, out_trade_no: &str, body: &[u8]) -> Result<(), WechatError> {
        #[derive(Deserialize)]
        struct CloseRequest {
            mchid: Option<String>,
        }
        let request: CloseRequest = serde_json::from_slice(body)
            .map_err(|e| WechatError::param(format!("请求体不是有效的JSON: {e}")))?;
        self.check_mchid(request.mchid.as_deref())?;
        let trade = trades::load(&self.store, Provider::Wechatpay, out_trade_no)
            .await
            .map_err(store_failure)?
            .ok_or_else(not_found)?;
        // A close at the deadline finds the trade closed by its time_expire: the stored state is
        // still NOTPAY, and the racing payment landed just before the time ran out.
        if self.faults().pay_during_close
            && matches!(trade.state, TradeState::NotPay | TradeState::Closed)
        {
            // The buyer's payment lands while the close is answered.
            let landed_at = crate::clock::now_ms().min(trade.expires_at_ms - 1);
            return match self.pay_at(trade, landed_at).await {
                Ok(_) | Err(crate::buyer::BuyerError::Final(_)) => Ok(()),
                Err(e) => Err(store_failure(e)),
            };
        }
        match trades::settle(
            &self.store,
            Provider::Wechatpay,
            out_trade_no,
            Settlement::Close,
            |_| None,
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(SettleError::Final(trade)) if trade.state == TradeState::Closed => Err(
                WechatError::new(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "订单已关闭"),
            ),
            // Paid (or failed) first: the close changes nothing; a query tells how it ended.
            Err(SettleError::Final(_)) => Ok(()),
            Err(SettleError::Unknown) => Err(not_found()),
            Err(SettleError::Store(e)) => Err(store_failure(e)),
        }
    }
}

pub async fn create(
    State(sandbox): State<Arc<Sandbox>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = async {
        sandbox
            .admit(ApiCall::Create, &method, &uri, &headers, &body)
            .await?;
        sandbox.wechat_create(&body).await
    };
    match outcome.await {
        Ok(answer) => sandbox.wechat_answer(StatusCode::OK, Some(answer)),
        Err(e) => sandbox.wechat_error(e),
    }
}

pub async fn query(
    State(sandbox): State<Arc<Sandbox>>,
    Path(out_trade_no): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    let outcome = async {
        sandbox
            .admit(ApiCall::Query, &method, &uri, &headers, b"")
            .await?;
        sandbox.check_mchid(params.get("mchid").map(String::as_str))?;
        if !valid_out_trade_no(&out_trade_no) {
            return Err(WechatError::param("商户订单号格式错误"));
        }
        let trade = trades::load(&sandbox.store, Provider::Wechatpay, &out_trade_no)
            .await
            .map_err(store_failure)?
            .ok_or_else(not_found)?;
        Ok(transaction(&sandbox.merchants.wechatpay, &trade).to_string())
    };
    match outcome.await {
        Ok(answer) => sandbox.wechat_answer(StatusCode::OK, Some(answer)),
        Err(e) => sandbox.wechat_error(e),
    }
}

pub async fn close(
    State(sandbox): State<Arc<Sandbox>>,
    Path(out_trade_no): Path<String>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = async {
        sandbox
            .admit(ApiCall::Close, &method, &uri, &headers, &body)
            .await?;
        sandbox.wechat_close(&out_trade_no, &body).await
    };
    match outcome.await {
        Ok(()) => sandbox.wechat_answer(StatusCode::NO_CONTENT, None),
        Err(e) => sandbox.wechat_error(e),
    }
}
