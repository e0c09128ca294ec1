//! The provider simulator's web side, under `/sim`: the wallet page a shopper's phone opens from
//! the QR code, with Approve / Decline. (Its logic lives in `payments::simulator`.)
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use payments::money::format_yuan;
use payments::simulator::{Faults, SimError, Simulator};
use payments::status::TradeState;
use std::sync::Arc;

/// The simulator's routes, with the simulator as their own state: the merchant's side never
/// sees it.
pub fn router<S>(simulator: Arc<Simulator>, fault_endpoint: bool) -> Router<S> {
    let router = Router::new()
        .route("/sim/pay/{payment_id}", get(wallet_page))
        .route("/sim/pay/{payment_id}/approve", post(approve))
        .route("/sim/pay/{payment_id}/decline", post(decline));
    let router = if fault_endpoint {
        router.route("/sim/faults", get(get_faults).put(put_faults))
    } else {
        router
    };
    router.with_state(simulator)
}

/// Test-only (SCANPAY_SIM_FAULT_ENDPOINT=on): the simulator's current faults.
async fn get_faults(State(simulator): State<Arc<Simulator>>) -> Json<Faults> {
    Json(simulator.faults())
}

/// Test-only: replaces the simulator's faults; fields left out are off.
async fn put_faults(State(simulator): State<Arc<Simulator>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            tracing::warn!(?faults, "simulator faults changed");
            simulator.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "message": format!("未知或错误的故障配置: {e}") })),
        )
            .into_response(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · 模拟钱包</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem;color:#1f2933}}
.wallet{{border:1px solid #d9e2ec;border-radius:12px;padding:1.25rem}}.amount{{font-size:2rem;font-weight:700;margin:.25rem 0}}
.muted{{color:#627d98}}form{{display:inline}}button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:8px;border:0;margin:.5rem .5rem 0 0;cursor:pointer}}
.approve{{background:#07c160;color:#fff}}.decline{{background:#e4e7eb;color:#1f2933}}.state{{font-weight:600}}
button:focus-visible{{outline:3px solid #2680c2;outline-offset:2px}}</style></head>
<body><div class="wallet"><p class="muted">scanpay 模拟钱包 · 支付渠道模拟器</p>{body}</div></body></html>"#,
        title = escape(title),
    );
    (status, Html(html)).into_response()
}

fn error_page(e: SimError) -> Response {
    let status = match e {
        SimError::UnknownTrade => StatusCode::NOT_FOUND,
        SimError::Closed | SimError::AlreadyPaid | SimError::AlreadyFailed => StatusCode::CONFLICT,
        SimError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    page(
        status,
        "无法完成",
        &format!(
            r#"<p class="state" role="alert">{}</p>"#,
            escape(&e.to_string())
        ),
    )
}

fn state_text(state: TradeState) -> &'static str {
    match state {
        TradeState::NotPay => "待支付",
        TradeState::Success => "支付成功",
        TradeState::Closed => "交易已关闭",
        TradeState::PayError => "支付失败",
    }
}

async fn wallet_page(
    State(simulator): State<Arc<Simulator>>,
    Path(payment_id): Path<String>,
) -> Response {
    let trade = match simulator.wallet_trade(&payment_id).await {
        Ok(trade) => trade,
        Err(e) => return error_page(e),
    };
    let id = escape(&payment_id);
    let actions = if trade.status.trade_state == TradeState::NotPay {
        format!(
            r#"<form method="post" action="/sim/pay/{id}/approve"><button class="approve" type="submit">确认支付</button></form>
<form method="post" action="/sim/pay/{id}/decline"><button class="decline" type="submit">拒绝</button></form>"#
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<p>收款方:<strong>{merchant}</strong></p><p class="muted">{description}</p>
<p class="amount" data-testid="wallet-amount">{amount}</p>
<p class="state" data-trade-state="{trade_state}" role="status">{state_text}</p>{actions}"#,
        merchant = escape(&trade.merchant_name),
        description = escape(&trade.description),
        amount = format_yuan(trade.status.amount_fen),
        trade_state = trade.status.trade_state,
        state_text = state_text(trade.status.trade_state),
    );
    let mut response = page(StatusCode::OK, "付款", &body);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("valid header"),
    );
    response
}

fn after_action(payment_id: &str, outcome: Result<(), SimError>) -> Response {
    match outcome {
        // Post/Redirect/Get: the wallet page shows the new state.
        Ok(()) => Redirect::to(&format!("/sim/pay/{payment_id}")).into_response(),
        Err(e) => error_page(e),
    }
}

async fn approve(
    State(simulator): State<Arc<Simulator>>,
    Path(payment_id): Path<String>,
) -> Response {
    let outcome = simulator.approve(&payment_id).await.map(drop);
    after_action(&payment_id, outcome)
}

async fn decline(
    State(simulator): State<Arc<Simulator>>,
    Path(payment_id): Path<String>,
) -> Response {
    let outcome = simulator
        .decline(&payment_id, "用户拒绝支付")
        .await
        .map(drop);
    after_action(&payment_id, outcome)
}
