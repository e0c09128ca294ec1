//! `/orders/:id/pay`: the QR, a live countdown, and the payment followed to paid, expired or
//! failed. The pending state is in the server-rendered HTML; the `PaymentFlow` island hydrates
//! it and starts following the payment.
use crate::api::{get_order, payment_for_page, payment_methods};
use crate::browser_api;
use crate::components::copy_button::CopyButton;
use crate::components::countdown::{display_secs, remaining_ms};
use crate::components::load_error::LoadError;
use crate::error::ApiError;
use crate::format::minutes_seconds;
use crate::i18n::{use_texts, Texts};
use crate::use_hydrated::use_hydrated;
use crate::use_polling::{use_polling, PollCounters, UsePollingOptions};
use crate::use_server_clock::use_server_clock;
use crate::use_server_events::use_server_events;
use crate::use_web_socket::use_web_socket;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use payments::model::PaymentStatusView;
use payments::money::format_yuan;
use payments::status::{PaymentFailure, PaymentMethod, PaymentStatus};
use std::time::Duration;

/// From here the countdown is red and says in words that time is short.
const WARNING_SECS: i64 = 60;
/// From here the QR's frame turns red too (nothing is drawn over the code: it stays scannable).
const URGENT_SECS: i64 = 30;
const REDIRECT_AFTER: Duration = Duration::from_secs(2);
const POLL_INTERVAL: Duration = Duration::from_secs(2);
const POLL_WHILE_STREAMING: Duration = Duration::from_secs(10);
/// A long-poll waits this long on the server (its maximum) before answering "unchanged".
const LONG_POLL_WAIT_SECS: u64 = payments::limits::MAX_LONG_POLL_SECS;

/// How the page hears about changes, chosen with `?transport=` to compare them. Whatever the
/// transport, the answer it acts on is a status read.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Transport {
    /// Server-Sent Events push, with polling as the safety net (the default).
    Events,
    /// `?transport=ws`: WebSocket push, with the same safety net.
    WebSocket,
    /// `?transport=longpoll`: each read waits on the server until the status changes.
    LongPoll,
    /// `?transport=poll`: a read every 2 s.
    Poll,
}

impl Transport {
    fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("poll") => Self::Poll,
            Some("longpoll") => Self::LongPoll,
            Some("ws") => Self::WebSocket,
            _ => Self::Events,
        }
    }

    fn as_query(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::LongPoll => "longpoll",
            Self::Events => "events",
            Self::WebSocket => "ws",
        }
    }
}

/// 重新支付 (a form post, with or without JavaScript) failed in a way that trying again may fix
/// (the provider or the database is down): the server renders the payment page with this error
/// instead of the payment (server/src/page_forms.rs).
#[derive(Clone, Debug)]
pub struct PayAgainFailed(pub ApiError);

#[component]
pub fn PayPage() -> impl IntoView {
    let t = use_texts();
    if let Some(PayAgainFailed(error)) = use_context::<PayAgainFailed>() {
        return view! {
            <section class="card pay">
                <h1>{t.scan_to_pay}</h1>
                <LoadError error refused=t.cannot_pay/>
            </section>
        }
        .into_any();
    }
    let params = use_params_map();
    let order_id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let query = use_query_map();
    let transport = query.with_untracked(|q| Transport::from_query(q.get("transport").as_deref()));
    // `?method=` is the shopper's choice of app; switching closes the other attempt.
    let chosen = query.with_untracked(|q| q.get("method").and_then(|m| PaymentMethod::parse(&m)));
    // A reload shows the payment as it is: a new one only on a first visit or another app.
    let first = Resource::new(
        move || order_id.get(),
        move |id| payment_for_page(id, chosen),
    );
    let methods = Resource::new(|| (), |_| payment_methods());
    // What is paid and to whom, as the wallets' cashier pages show it; the shop's return URL.
    let order = Resource::new(move || order_id.get(), get_order);
    view! {
        <section class="card pay">
            <h1>{t.scan_to_pay}</h1>
            <Suspense fallback=move || view! { <p class="loading" role="status">{t.creating_payment}</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok(view) => {
                            // A paid order has nothing left to choose.
                            let enabled = if view.status == PaymentStatus::Paid {
                                Vec::new()
                            } else {
                                methods.await.unwrap_or_default()
                            };
                            let order = order.await.ok();
                            let return_to = order.as_ref().and_then(|o| o.order.return_url.clone());
                            view! {
                                {order.map(|o| view! {
                                    <p class="purchase">
                                        <span class="merchant">{o.merchant_name}</span>
                                        <span class="item">{o.order.description.unwrap_or_else(|| t.untitled_order.to_string())}</span>
                                    </p>
                                })}
                                <NoScriptRefresh status=view.status order_id=view.order_id.clone() return_to=return_to.clone()/>
                                <MethodChoice enabled current=view.method/>
                                <PaymentFlowWithStart first=view transport return_to/>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <LoadError error=e refused=t.cannot_pay/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// Where a paid payment's page goes: the shop's return URL, else the order's page.
fn paid_destination(order_id: &str, return_to: Option<String>) -> String {
    return_to.unwrap_or_else(|| order_path(order_id))
}

/// `/orders/<id>`. (No `format!` in the island's code: its formatting machinery would ship in
/// the WASM.)
fn order_path(order_id: &str) -> String {
    ["/orders/", order_id].concat()
}

/// Without JavaScript the page follows the payment by reloading: every few seconds while it is
/// pending, and once paid it goes on to where the island's redirect would. Server-rendered
/// outside the island, so a page with JavaScript never holds a live refresh (the island's own
/// views are also built in the browser, where a `<meta>` in `<noscript>` would take effect).
#[component]
fn NoScriptRefresh(
    status: PaymentStatus,
    order_id: String,
    return_to: Option<String>,
) -> impl IntoView {
    let content = match status {
        PaymentStatus::Pending => Some("5".to_string()),
        PaymentStatus::Paid => Some(format!(
            "{};url={}",
            REDIRECT_AFTER.as_secs(),
            paid_destination(&order_id, return_to)
        )),
        _ => None,
    };
    content
        .map(|content| view! { <noscript><meta http-equiv="refresh" content=content/></noscript> })
}

/// The enabled apps as plain links (`?method=`): server-rendered, no WASM, works without
/// JavaScript. Hidden when only one is enabled (or none is offered: a paid order).
#[component]
fn MethodChoice(enabled: Vec<PaymentMethod>, current: PaymentMethod) -> impl IntoView {
    let t = use_texts();
    let lang = t.lang;
    (enabled.len() > 1).then(|| {
        view! {
            <nav class="methods" aria-label=t.choose_method>
                {enabled
                    .into_iter()
                    .map(|method| {
                        let href = format!("?method={}&lang={}", method.as_str(), lang.code());
                        view! {
                            <a
                                href=href
                                class="method"
                                class:current=method == current
                                aria-current=(method == current).then_some("page")
                                data-method=method.as_str()
                            >
                                {(t.method_name)(method)}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
        }
    })
}

/// What the payment page's island starts from: the page's first status answer, the transport,
/// the shop's return URL.
#[derive(Clone)]
struct FlowStart {
    first: PaymentStatusView,
    transport: Transport,
    return_to: Option<String>,
}

/// The element that carries [`FlowStart`] to the browser, as JSON.
const FLOW_START_ID: &str = "payment-flow-start";

impl FlowStart {
    /// The server's: provided by [`PaymentFlowWithStart`].
    #[cfg(feature = "ssr")]
    fn of_page() -> Self {
        use_context().expect("PaymentFlowWithStart provides the island's start")
    }

    /// The browser's: read from the page's data block with the status answer's own decoder.
    #[cfg(not(feature = "ssr"))]
    fn of_page() -> Self {
        use browser_api::{decode_status, JsonObject};
        let data = crate::island_data::read(FLOW_START_ID);
        Self {
            first: decode_status(&data.member("first")).expect("the payment page's start"),
            transport: Transport::from_query(data.text("transport").as_deref()),
            return_to: data.text("returnTo"),
        }
    }
}

/// The island with its start: provided to it on the server, and written into the page as a data
/// block for the browser (`island_data`). Server-rendered only.
#[component]
fn PaymentFlowWithStart(
    first: PaymentStatusView,
    transport: Transport,
    return_to: Option<String>,
) -> impl IntoView {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Json<'a> {
        first: &'a PaymentStatusView,
        transport: &'static str,
        return_to: Option<&'a str>,
    }
    let data = crate::island_data::json(&Json {
        first: &first,
        transport: transport.as_query(),
        return_to: return_to.as_deref(),
    });
    provide_context(FlowStart {
        first,
        transport,
        return_to,
    });
    view! {
        {crate::island_data::block(FLOW_START_ID, data)}
        <PaymentFlow/>
    }
}

/// The page's island: the payment followed from [`FlowStart`]. 重新支付 is a plain form post
/// (the server makes the payment and sends the page back), so the island never replaces its
/// watcher in place: the WASM has only the hydrating path of the watcher's views, not a second,
/// building one.
#[island]
fn PaymentFlow() -> impl IntoView {
    let FlowStart {
        first,
        transport,
        return_to,
    } = FlowStart::of_page();
    let hydrated = use_hydrated();
    view! {
        <div class="payment-flow" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <PaymentWatch initial=first transport return_to/>
        </div>
    }
}

#[component]
fn PaymentWatch(
    initial: PaymentStatusView,
    transport: Transport,
    /// Where paid goes: the shop's return URL, else the order's page.
    return_to: Option<String>,
) -> impl IntoView {
    let payment_id = initial.payment_id.clone();
    let order_id = initial.order_id.clone();
    let amount = format_yuan(initial.amount_fen);
    let qr_src = ["/api/pay/", &initial.payment_id, "/qr.svg"].concat();
    let t = use_texts();
    // While the event stream (or socket) is connected, polling is only a safety net; without it
    // (failed, blocked, or another transport chosen), polling carries the page. Written by
    // `use_server_events` / `use_web_socket` only.
    let stream_connected = RwSignal::new(false);
    let interval = move || match transport {
        // The wait happens on the server: ask again as soon as an answer arrives.
        Transport::LongPoll => Duration::ZERO,
        _ if stream_connected.get_untracked() => POLL_WHILE_STREAMING,
        _ => POLL_INTERVAL,
    };
    let initial_status = initial.status;
    let method = initial.method;
    let polling = use_polling(
        move |last: Option<&PaymentStatusView>| {
            let payment_id = payment_id.clone();
            let known = last.map_or(initial_status, |v| v.status);
            async move {
                match transport {
                    Transport::LongPoll => {
                        browser_api::wait_status(&payment_id, known, LONG_POLL_WAIT_SECS).await
                    }
                    Transport::Events | Transport::WebSocket | Transport::Poll => {
                        browser_api::read_status(&payment_id).await
                    }
                }
            }
        },
        UsePollingOptions::default()
            .interval(interval)
            .should_stop(|v: &PaymentStatusView| v.status.is_terminal())
            .unreachable_when(ApiError::is_network),
    );
    // Each pushed event makes the poller read at once: the status read stays the truth.
    match transport {
        Transport::Events => use_server_events(
            ["/api/pay/", &initial.payment_id, "/events"].concat(),
            "status",
            polling.is_polling,
            polling.heard_from_server.clone(),
            stream_connected,
        ),
        Transport::WebSocket => use_web_socket(
            ["/api/pay/", &initial.payment_id, "/ws"].concat(),
            polling.is_polling,
            polling.heard_from_server.clone(),
            stream_connected,
        ),
        Transport::LongPoll | Transport::Poll => {}
    }
    let connection = Connection {
        transport,
        stream_connected,
        counters: polling.counters,
    };
    let retry_now = polling.refetch.clone();
    // The latest answer: the server's first until a poll brings another.
    let first_heard = Heard::of(&initial);
    let polled = polling.data;
    let latest = move || polled.with(|p| p.as_ref().map_or(first_heard, Heard::of));
    // Each answer re-measures the server's clock.
    let server_now = use_server_clock(Memo::new(move |_| latest().server_now_ms)).now_ms;
    let remaining = Memo::new(move |_| remaining_ms(latest().expires_at_ms, server_now.get()));
    // At zero the page shows expired even while the network is down; the server's answer wins
    // when it comes (a payment made at the last second still shows paid).
    let status = Memo::new(move |_| {
        let status = latest().status;
        if status == PaymentStatus::Pending && remaining.get() == 0 {
            PaymentStatus::Expired
        } else {
            status
        }
    });
    let stop = polling.stop.clone();
    let order_href = order_path(&order_id);
    let paid_href = paid_destination(&order_id, return_to.clone());
    let paid_link = if return_to.is_some() {
        t.back_to_shop
    } else {
        t.view_order
    };
    // One effect for both (each `Effect` is code in the WASM). `latest` is read, so tracked,
    // only while expired.
    Effect::new({
        let paid_href = paid_href.clone();
        move || {
            let status = status.get();
            // Keep polling past a locally seen deadline only until the server confirms it.
            if status == PaymentStatus::Expired && latest().status.is_terminal() {
                stop();
            }
            if status == PaymentStatus::Paid {
                let target = paid_href.clone();
                let redirect = set_timeout_with_handle(
                    move || {
                        let _ = window().location().set_href(&target);
                    },
                    REDIRECT_AFTER,
                );
                // Unmounted first (the page left): no redirect.
                on_cleanup(move || {
                    if let Ok(redirect) = redirect {
                        redirect.clear();
                    }
                });
            }
        }
    });
    let announce = move || match status.get() {
        PaymentStatus::Pending => t.announce_pending,
        PaymentStatus::Paid => t.announce_paid,
        PaymentStatus::Expired => t.announce_expired,
        PaymentStatus::Failed => t.announce_failed,
        PaymentStatus::Closed => t.announce_closed,
    };
    // Which ended state, for the ended part's title and detail (closed's words while the
    // payment is pending or paid: that part is hidden then).
    let ended = move || match status.get() {
        PaymentStatus::Expired => ("⏰ ", t.expired_title, t.expired_detail),
        PaymentStatus::Failed => (
            "❌ ",
            t.failed_title,
            (t.failure)(latest().failure.unwrap_or(PaymentFailure::Other)),
        ),
        _ => ("🔒 ", t.closed_title, t.closed_detail),
    };
    // One view for every state: the container's `data-status` shows the part that matches it
    // (style/main.css), so nothing is built in the browser when the status changes, only texts
    // and attributes move (each view type in a reactive branch would be code in the WASM).
    view! {
        <p class="amount" aria-label=t.amount_aria>{amount}</p>
        <p class="sr-only" aria-live="polite" data-testid="announce">{announce}</p>
        <div class="payment" data-status=move || status.get().as_str()>
            {pending_view(
                t,
                PendingPayment { qr_src, code_url: initial.code_url, method },
                remaining,
                connection,
                retry_now,
            )}
            <div class="state state-paid">
                <p class="state-title">"✅ " {t.paid_title}</p>
                <p>{t.redirecting}</p>
                <div class="actions">
                    <a class="button primary" href=paid_href>{paid_link}</a>
                </div>
            </div>
            <div class="state state-ended">
                <p class="state-title">{move || ended().0} {move || ended().1}</p>
                <p>{move || ended().2}</p>
                // Posted to this page's own URL (query kept), with or without JavaScript: the
                // server makes the payment and sends the page back (303).
                <form class="actions" method="post">
                    <input type="hidden" name="method" value=method.as_str()/>
                    <button type="submit" class="primary">{t.pay_again}</button>
                    <a href=order_href>{t.back_to_order}</a>
                </form>
            </div>
        </div>
    }
}

/// What the pending view says about the connection.
#[derive(Clone, Copy)]
struct Connection {
    transport: Transport,
    /// The event stream or socket is open (written by its hook).
    stream_connected: RwSignal<bool>,
    /// Reads made, and reads failed in a row: with any, the page cannot reach the server (0
    /// after any read succeeds or the server is heard from on the stream).
    counters: PollCounters,
}

impl Connection {
    /// Whether a change would show at once: the stream is open, or a long-poll is waiting.
    /// (A method, not a `Memo`: read in one place only.)
    fn connected(self) -> bool {
        match self.transport {
            Transport::Events | Transport::WebSocket => self.stream_connected.get(),
            Transport::LongPoll => self.counters.attempts() > 0,
            Transport::Poll => false,
        }
    }
}

/// What a watcher reads of each status answer: `Copy` fields, read from the poller's signal
/// through a closure rather than kept in a `Memo` of the whole answer (less WASM).
#[derive(Clone, Copy)]
struct Heard {
    status: PaymentStatus,
    failure: Option<PaymentFailure>,
    expires_at_ms: i64,
    server_now_ms: i64,
}

impl Heard {
    fn of(answer: &PaymentStatusView) -> Self {
        Self {
            status: answer.status,
            failure: answer.failure,
            expires_at_ms: answer.expires_at_ms,
            server_now_ms: answer.server_now_ms,
        }
    }
}

/// What the pending view shows of the payment: the same in every answer about it.
struct PendingPayment {
    qr_src: String,
    code_url: String,
    method: PaymentMethod,
}

fn pending_view(
    t: &'static Texts,
    PendingPayment {
        qr_src,
        code_url,
        method,
    }: PendingPayment,
    remaining: Memo<i64>,
    connection: Connection,
    retry_now: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let secs = move || display_secs(remaining.get());
    let warning = move || secs() <= WARNING_SECS;
    let unreachable = move || connection.counters.consecutive_errors() > 0;
    view! {
        <div class="state state-pending">
            <div class="qr" class:urgent=move || secs() <= URGENT_SECS>
                <img
                    src=qr_src
                    width="200"
                    height="200"
                    alt=(t.qr_alt)(method)
                />
            </div>
            <p class="countdown" class:warning=warning role="timer">
                {t.time_left} " " <span class="time">{move || minutes_seconds(secs())}</span>
            </p>
            // Its line is always there, so the warning appears without moving anything.
            <p class="expiry-warning">{move || warning().then_some(t.expiring_soon)}</p>
            <p class="hint">{(t.scan_hint)(method)}</p>
            <p class="connection-line">
                <span class="connection" class:lost=unreachable>
                    {move || {
                        if unreachable() {
                            t.reconnecting.to_string()
                        } else if connection.connected() {
                            t.connected_waiting.to_string()
                        } else {
                            (t.checked)(connection.counters.attempts())
                        }
                    }}
                </span>
                " "
                // Always in the markup, hidden while the server answers (an element the
                // browser had to build would ship a building path in the WASM: ~1.5 KB).
                <button type="button" class="link-button" hidden=move || !unreachable() on:click=move |_| retry_now()>
                    {t.retry_now}
                </button>
            </p>
            <p class="links">
                <a href=code_url.clone() target="_blank" rel="noopener">{(t.open_in_app)(method)}</a>
                <CopyButton text=code_url label=t.copy_link/>
            </p>
        </div>
    }
}
