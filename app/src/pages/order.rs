//! `/orders/:id`: the order as its shopper sees it: what, from whom, how much, its status and
//! when it was paid, and the way on (pay it, or back to the shop / a new order once paid).
use crate::api::{get_order, ShopperOrder};
use crate::components::load_error::LoadError;
use crate::format::beijing_time;
use crate::i18n::{use_texts, Texts};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
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

fn order_view(t: &'static Texts, shopper_order: ShopperOrder) -> impl IntoView {
    let ShopperOrder {
        order,
        merchant_name,
    } = shopper_order;
    let paid = order.status == OrderStatus::Paid;
    let pay_href = format!("/orders/{}/pay", order.id);
    view! {
        <h1>{t.order_details}</h1>
        <p class="order-status" class:paid=paid data-status=order.status.as_str()>
            {paid.then_some("✅ ")}{order_status_text(t, order.status)}
        </p>
        <dl class="facts">
            <dt>{t.merchant}</dt><dd>{merchant_name}</dd>
            <dt>{t.description}</dt><dd>{order.description.clone().unwrap_or_else(|| t.untitled_order.to_string())}</dd>
            <dt>{t.amount}</dt><dd class="amount-inline">{format_yuan(order.amount_fen)}</dd>
            <dt>{t.order_id}</dt><dd><code>{order.id.clone()}</code></dd>
            {order.paid_at_ms.map(|at| view! { <dt>{t.paid_at}</dt><dd>{beijing_time(at)}</dd> })}
        </dl>
        <div class="actions">
            {if paid {
                // The shop's own page first, when it gave one; a new order always.
                view! {
                    {order.return_url.clone().map(|url| view! { <a class="button primary" href=url>{t.back_to_shop}</a> })}
                    <a class="button" class:primary=order.return_url.is_none() href="/">{t.order_again}</a>
                }
                .into_any()
            } else {
                view! { <a class="button primary" href=pay_href>{t.go_pay}</a> }.into_any()
            }}
        </div>
    }
}
