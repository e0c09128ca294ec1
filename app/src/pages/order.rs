//! `/orders/:id`: the order's status, amount, paid time, and every payment with its history.
use crate::api::get_order;
use crate::format::beijing_time;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use payments::model::{OrderDetail, PaymentWithEvents};
use payments::money::format_yuan;
use payments::status::OrderStatus;

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_order,
    );
    view! {
        <section class="card">
            <Suspense fallback=|| view! { <p class="loading">"正在加载订单..."</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => order_view(d).into_any(),
                        Err(e) => view! {
                            <div class="state state-error" role="alert">
                                <p class="state-title">"无法显示订单"</p>
                                <p>{e.to_string()}</p>
                                <a href="/">"返回首页"</a>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn order_status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "待支付",
        OrderStatus::Paid => "已支付",
        OrderStatus::Closed => "已关闭",
    }
}

fn order_view(detail: OrderDetail) -> impl IntoView {
    let order = detail.order;
    let pay_href = format!("/orders/{}/pay", order.id);
    view! {
        <h1>"订单详情"</h1>
        <dl class="facts" data-status=order.status.as_str()>
            <dt>"订单号"</dt><dd><code>{order.id.clone()}</code></dd>
            <dt>"描述"</dt><dd>{order.description.clone()}</dd>
            <dt>"金额"</dt><dd class="amount-inline">{format_yuan(order.amount_fen)}</dd>
            <dt>"状态"</dt><dd class="order-status">{order_status_text(order.status)}</dd>
            <dt>"支付时间"</dt><dd>{order.paid_at_ms.map(beijing_time).unwrap_or_else(|| "—".to_string())}</dd>
        </dl>
        <Show when=move || order.status == OrderStatus::Pending>
            <a class="button primary" href=pay_href.clone()>"去支付"</a>
        </Show>
        <h2>"支付记录"</h2>
        <ol class="payments">
            {detail.payments.into_iter().map(payment_view).collect_view()}
        </ol>
    }
}

fn payment_view(p: PaymentWithEvents) -> impl IntoView {
    let payment = p.payment;
    view! {
        <li class="payment-record" data-status=payment.status.as_str()>
            <p>
                <code>{payment.id.clone()}</code> " · " <strong>{payment.status.as_str()}</strong>
                {payment.paid_late.then_some(" · 逾期支付")}
                {payment.needs_refund.then_some(" · 需退款")}
            </p>
            <ul class="events">
                {p.events.into_iter().map(|e| view! {
                    <li>
                        <time>{beijing_time(e.at_ms)}</time> " [" {e.source.as_str()} "] "
                        {e.old_status.map(|s| s.as_str()).unwrap_or("—")} " → "
                        {e.new_status.map(|s| s.as_str()).unwrap_or("—")} " " {e.detail}
                    </li>
                }).collect_view()}
            </ul>
        </li>
    }
}
