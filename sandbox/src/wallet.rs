//! The wallet page a phone opens from the QR (the trade's code_url / qr_code): merchant, amount,
//! state, and 确认支付 / 拒绝 (Confirm payment / Decline), in the language it was opened in.
use crate::buyer::{Approval, BuyerError};
use crate::trades::{Provider, Trade, TradeState};
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    lang: Option<String>,
}

/// `?lang=en` (or the form's hidden field), else the browser's first Accept-Language.
fn lang(explicit: Option<&str>, headers: &HeaderMap) -> Lang {
    let tag = explicit.map(str::to_string).unwrap_or_else(|| {
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        accept.split(',').next().unwrap_or("").trim().to_string()
    });
    if tag.to_ascii_lowercase().starts_with("en") {
        Lang::En
    } else {
        Lang::Zh
    }
}

fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn state_text(lang: Lang, trade: &Trade) -> &'static str {
    match (trade.state, trade.provider) {
        (TradeState::NotPay, _) => t(lang, "待支付", "Awaiting payment"),
        (TradeState::Success, _) => t(lang, "支付成功", "Paid"),
        (TradeState::Closed, _) => t(lang, "交易已关闭", "Closed"),
        (TradeState::PayError, _) => t(lang, "支付失败", "Payment failed"),
    }
}

fn html_page(
    status: StatusCode,
    lang: Lang,
    provider: Option<Provider>,
    title: &str,
    body: &str,
) -> Response {
    let wallet = match provider {
        Some(Provider::Alipay) => t(lang, "支付宝沙箱钱包", "Alipay sandbox wallet"),
        _ => t(lang, "微信支付沙箱钱包", "WeChat Pay sandbox wallet"),
    };
    let accent = if provider == Some(Provider::Alipay) {
        "#1677ff"
    } else {
        "#07c160"
    };
    let html = format!(
        r#"<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · {wallet}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem;color:#1f2933}}
.wallet{{border:1px solid #d9e2ec;border-radius:12px;padding:1.25rem}}.amount{{font-size:2rem;font-weight:700;margin:.25rem 0}}
.muted{{color:#627d98}}form{{display:inline}}button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:8px;border:0;margin:.5rem .5rem 0 0;cursor:pointer}}
.approve{{background:{accent};color:#fff}}.decline{{background:#e4e7eb;color:#1f2933}}.state{{font-weight:600}}
button:focus-visible{{outline:3px solid #2680c2;outline-offset:2px}}</style></head>
<body><main class="wallet"><p class="muted">scanpay · {wallet}</p>{body}</main></body></html>"#,
        html_lang = t(lang, "zh-CN", "en"),
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn error_page(lang: Lang, provider: Option<Provider>, e: BuyerError) -> Response {
    let (status, message) = match &e {
        BuyerError::Unknown => (
            StatusCode::NOT_FOUND,
            t(lang, "交易不存在", "No such trade").to_string(),
        ),
        BuyerError::Final(trade) => (
            StatusCode::CONFLICT,
            format!(
                "{}: {}",
                t(lang, "无法支付", "Cannot pay"),
                state_text(lang, trade)
            ),
        ),
        BuyerError::Store(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            t(
                lang,
                "服务暂不可用，请稍后重试",
                "Service unavailable, try again later",
            )
            .to_string(),
        ),
    };
    let body = format!(r#"<p class="state" role="alert">{}</p>"#, escape(&message));
    html_page(
        status,
        lang,
        provider,
        t(lang, "无法完成", "Not possible"),
        &body,
    )
}

fn provider_of(name: &str) -> Result<Provider, BuyerError> {
    Provider::parse(name).ok_or(BuyerError::Unknown)
}

async fn render_page(
    sandbox: &Sandbox,
    provider: &str,
    out_trade_no: &str,
    query: PageQuery,
    headers: &HeaderMap,
) -> Response {
    let lang = lang(query.lang.as_deref(), headers);
    let provider = match provider_of(provider) {
        Ok(p) => p,
        Err(e) => return error_page(lang, None, e),
    };
    // Opening the page is the scan: an Alipay trade comes into existence.
    let trade = match sandbox.scan(provider, out_trade_no).await {
        Ok(trade) => trade,
        Err(e) => return error_page(lang, Some(provider), e),
    };
    let base = escape(&format!(
        "/sandbox/pay/{}/{out_trade_no}",
        provider.as_str()
    ));
    let lang_field = if lang == Lang::En {
        r#"<input type="hidden" name="lang" value="en">"#
    } else {
        ""
    };
    let actions = if trade.state == TradeState::NotPay {
        format!(
            r#"<form method="post" action="{base}/approve">{lang_field}<button class="approve" type="submit">{approve}</button></form>
<form method="post" action="{base}/decline">{lang_field}<button class="decline" type="submit">{decline}</button></form>"#,
            approve = t(lang, "确认支付", "Confirm payment"),
            decline = t(lang, "拒绝", "Decline"),
        )
    } else {
        String::new()
    };
    let notice = match query.notice.as_deref() {
        Some("bank") => format!(
            r#"<p role="alert">{}</p>"#,
            t(
                lang,
                "银行卡余额不足，付款未成功",
                "Your bank declined the payment"
            )
        ),
        _ => String::new(),
    };
    let reason = match (trade.state, &trade.state_desc) {
        (TradeState::PayError, Some(desc)) => format!(r#"<p class="muted">{}</p>"#, escape(desc)),
        _ => String::new(),
    };
    let body = format!(
        r#"<p>{payee}: <strong>{merchant}</strong></p><p class="muted">{description}</p>
<p class="amount" data-testid="wallet-amount">¥{amount}</p>
<p class="state" data-trade-state="{state}" role="status">{state_text}</p>{reason}{notice}{actions}"#,
        payee = t(lang, "收款方", "Payee"),
        merchant = escape(&sandbox.config.merchant_name),
        description = escape(&trade.description),
        amount = crate::alipay::yuan(trade.amount_fen),
        state = trade.state.as_str(),
        state_text = state_text(lang, &trade),
    );
    html_page(
        StatusCode::OK,
        lang,
        Some(provider),
        t(lang, "付款", "Pay"),
        &body,
    )
}

pub async fn page(
    State(sandbox): State<Arc<Sandbox>>,
    Path((provider, out_trade_no)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    render_page(&sandbox, &provider, &out_trade_no, query, &headers).await
}

/// Post/Redirect/Get: back to the page, in its language, with a notice if the bank refused.
fn back_to_page(
    provider: Provider,
    out_trade_no: &str,
    lang: Lang,
    notice: Option<&str>,
) -> Response {
    let mut query = Vec::new();
    if lang == Lang::En {
        query.push("lang=en".to_string());
    }
    if let Some(notice) = notice {
        query.push(format!("notice={notice}"));
    }
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    Redirect::to(&format!(
        "/sandbox/pay/{}/{out_trade_no}{query}",
        provider.as_str()
    ))
    .into_response()
}

pub async fn approve(
    State(sandbox): State<Arc<Sandbox>>,
    Path((provider, out_trade_no)): Path<(String, String)>,
    headers: HeaderMap,
    form: Bytes,
) -> Response {
    let form: ActionForm = serde_urlencoded::from_bytes(&form).unwrap_or_default();
    let lang = lang(form.lang.as_deref(), &headers);
    let outcome = match provider_of(&provider) {
        Ok(provider) => sandbox
            .approve(provider, &out_trade_no)
            .await
            .map(|a| (provider, a)),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((provider, Approval::Paid)) => back_to_page(provider, &out_trade_no, lang, None),
        Ok((provider, Approval::Refused)) => {
            back_to_page(provider, &out_trade_no, lang, Some("bank"))
        }
        Err(e) => error_page(lang, Provider::parse(&provider), e),
    }
}

pub async fn decline(
    State(sandbox): State<Arc<Sandbox>>,
    Path((provider, out_trade_no)): Path<(String, String)>,
    headers: HeaderMap,
    form: Bytes,
) -> Response {
    let form: ActionForm = serde_urlencoded::from_bytes(&form).unwrap_or_default();
    let lang = lang(form.lang.as_deref(), &headers);
    let outcome = match provider_of(&provider) {
        Ok(provider) => sandbox
            .decline(provider, &out_trade_no)
            .await
            .map(|_| provider),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(provider) => back_to_page(provider, &out_trade_no, lang, None),
        Err(e) => error_page(lang, Provider::parse(&provider), e),
    }
}
