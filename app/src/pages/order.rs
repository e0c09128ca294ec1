//! `/orders/:id`: the order's status, amount, paid time, and every payment with its history.
use crate::api::get_order;
use crate::components::load_error::LoadError;
use crate::format::beijing_time;
use crate::i18n::{use_texts, Texts};
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
    let t = use_texts();
    view! {
        <section class="card">
            <Suspense fallback=move || view! { <p class="loading">{t.loading_order}</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => order_view(t, d).into_any(),
                        Err(e) => view! { <LoadError error=e refused=t.cannot_show_order/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn order_status_text(t: &Texts, status: OrderStatus) -> &'static str {
    // An order is paid or awaits payment; naming only `Paid` keeps this match right whatever
    // other statuses the domain has or drops.
    match status {
        OrderStatus::Paid => t.order_paid,
        _ => t.order_pending,
    }
}

fn order_view(t: &'static Texts, detail: OrderDetail) -> impl IntoView {
    let order = detail.order;
    let pay_href = format!("/orders/{}/pay", order.id);
    view! {
        <h1>{t.order_details}</h1>
        <dl class="facts" data-status=order.status.as_str()>
            <dt>{t.order_id}</dt><dd><code>{order.id.clone()}</code></dd>
            <dt>{t.description}</dt><dd>{order.description.clone()}</dd>
            <dt>{t.amount}</dt><dd class="amount-inline">{format_yuan(order.amount_fen)}</dd>
            <dt>{t.status}</dt><dd class="order-status">{order_status_text(t, order.status)}</dd>
            <dt>{t.paid_at}</dt><dd>{order.paid_at_ms.map(beijing_time).unwrap_or_else(|| "—".to_string())}</dd>
        </dl>
        <Show when=move || order.status == OrderStatus::Pending>
            <a class="button primary" href=pay_href.clone()>{t.go_pay}</a>
        </Show>
        <h2>{t.payments}</h2>
        <ol class="payments">
            {detail.payments.into_iter().map(|p| payment_view(t, p)).collect_view()}
        </ol>
    }
}

fn payment_view(t: &'static Texts, p: PaymentWithEvents) -> impl IntoView {
    let payment = p.payment;
    view! {
        <li class="payment-record" data-status=payment.status.as_str()>
            <p>
                <code>{payment.id.clone()}</code> " · " <strong>{payment.status.as_str()}</strong>
                {payment.paid_late.then(|| format!(" · {}", t.paid_late))}
                {payment.needs_refund.then(|| format!(" · {}", t.needs_refund))}
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
