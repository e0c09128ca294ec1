//! The wallet page a phone opens from the QR (the trade's code_url / qr_code): merchant, amount,
//! state, and 确认支付 / 拒绝 (Confirm payment / Decline), in the language it was opened in
//! (`?lang=`, else the phone's `Accept-Language`, else Chinese). Its stylesheet and icon are
//! files of its own, so its Content-Security-Policy allows no inline style or script.
use crate::buyer::{Approval, BuyerError, BANK_DECLINE_REASON, BUYER_DECLINE_REASON};
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

impl Lang {
    fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            Some(Lang::Zh)
        } else if tag.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The `lang` attribute, and the value the page's links and forms carry along.
    fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// `?lang=` (or the form's hidden field), else the phone's preferred supported language of
/// `Accept-Language` (by q-value), else Chinese.
fn lang(explicit: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(lang) = explicit.and_then(Lang::parse) {
        return lang;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept_language::parse(accept)
        .iter()
        .find_map(|tag| Lang::parse(tag))
        .unwrap_or(Lang::Zh)
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

/// The trade's state in the buyer's words: what they did, not the protocol's verdict.
fn state_text(lang: Lang, trade: &Trade) -> &'static str {
    match trade.state {
        TradeState::NotPay => t(lang, "待支付", "Awaiting payment"),
        TradeState::Success => t(lang, "支付成功", "Payment complete"),
        TradeState::Closed => t(lang, "交易已关闭", "This payment is closed"),
        TradeState::PayError => match trade.state_desc.as_deref() {
            Some(BUYER_DECLINE_REASON) => t(lang, "已拒绝", "You declined this payment"),
            Some(BANK_DECLINE_REASON) => t(
                lang,
                "付款未成功：银行卡余额不足",
                "Not paid: your bank card's balance is too low",
            ),
            _ => t(lang, "付款未成功", "Not paid"),
        },
    }
}

/// The stylesheet and icon are this page's only resources; forms post only back here.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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
    let html = format!(
        r#"<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · {wallet}</title>
<link rel="stylesheet" href="{STYLESHEET_PATH}"><link rel="icon" href="{ICON_PATH}" type="image/svg+xml"></head>
<body class="{provider}"><main class="wallet"><p class="muted">scanpay · {wallet}</p>{body}</main></body></html>"#,
        html_lang = lang.code(),
        title = escape(title),
        provider = provider.map_or("", Provider::as_str),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(PAGE_POLICY),
    );
    response
}

pub const STYLESHEET_PATH: &str = "/sandbox/wallet.css";
pub const ICON_PATH: &str = "/sandbox/wallet-icon.svg";

/// A file of the page, cacheable (it has no secrets and changes only with the sandbox).
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("wallet.css"))
}

pub async fn icon() -> Response {
    asset("image/svg+xml", include_str!("wallet-icon.svg"))
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
    let lang_field = format!(
        r#"<input type="hidden" name="lang" value="{}">"#,
        lang.code()
    );
    let actions = if trade.state == TradeState::NotPay {
        format!(
            r#"<form method="post" action="{base}/approve">{lang_field}<button class="approve" type="submit">{approve}</button></form>
<form method="post" action="{base}/decline">{lang_field}<button class="decline" type="submit">{decline}</button></form>"#,
            approve = t(lang, "确认支付", "Confirm payment"),
            decline = t(lang, "拒绝", "Decline"),
        )
    } else {
        // Nothing is left to do here: no buttons, and the buyer is told so.
        format!(
            r#"<p class="muted">{}</p>"#,
            t(lang, "可以关闭此页面了", "You can close this page now")
        )
    };
    let notice = match query.notice.as_deref() {
        Some(NOTICE_BANK_REFUSED) => format!(
            r#"<p role="alert">{}</p>"#,
            t(
                lang,
                "银行卡余额不足，付款未成功",
                "Your bank card's balance is too low; the payment did not go through"
            )
        ),
        // Alipay: a declined trade stays payable (see `Sandbox::decline`).
        Some(NOTICE_DECLINED) => format!(
            r#"<p role="alert">{}</p>"#,
            t(
                lang,
                "已拒绝，未付款。二维码有效期内仍可确认支付。",
                "You declined this payment. You can still confirm it while the code is valid."
            )
        ),
        _ => String::new(),
    };
    let body = format!(
        // The merchant's own words, in whatever language it wrote them.
        r#"<p>{payee}: <strong translate="no" data-merchant-words>{merchant}</strong></p>
<p class="muted" translate="no" data-merchant-words>{description}</p>
<p class="amount" data-testid="wallet-amount">¥{amount}</p>
<p class="state" data-trade-state="{state}" role="status">{state_text}</p>{notice}{actions}"#,
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

/// Why the page is shown again after a button that left the trade payable (Alipay).
const NOTICE_BANK_REFUSED: &str = "bank";
const NOTICE_DECLINED: &str = "declined";

/// Post/Redirect/Get: back to the page, in its language, with a notice if the trade is still
/// payable after the button.
fn back_to_page(
    provider: Provider,
    out_trade_no: &str,
    lang: Lang,
    notice: Option<&str>,
) -> Response {
    let notice = notice.map_or(String::new(), |n| format!("&notice={n}"));
    Redirect::to(&format!(
        "/sandbox/pay/{}/{out_trade_no}?lang={}{notice}",
        provider.as_str(),
        lang.code()
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
            back_to_page(provider, &out_trade_no, lang, Some(NOTICE_BANK_REFUSED))
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
            .map(|trade| (provider, trade)),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((provider, trade)) => {
            let notice = (trade.state == TradeState::NotPay).then_some(NOTICE_DECLINED);
            back_to_page(provider, &out_trade_no, lang, notice)
        }
        Err(e) => error_page(lang, Provider::parse(&provider), e),
    }
}
