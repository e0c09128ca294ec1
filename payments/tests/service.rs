//! The service against a scripted provider: the races a real provider produces.
use async_trait::async_trait;
use payments::clock::now_ms;
use payments::error::PaymentError;
use payments::machine::PaymentEvent;
use payments::money::Amount;
use payments::provider::{CreateTrade, PaymentProvider, ProviderError, Providers, TradeStatus};
use payments::service::{reconcile_offset, PaymentService, ServiceConfig};
use payments::status::{EventSource, OrderStatus, PaymentStatus, TradeState};
use payments::store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A provider whose trades the test can pay behind the merchant's back.
#[derive(Default)]
struct ScriptedProvider {
    trades: Mutex<HashMap<String, TradeStatus>>,
    /// The shopper pays while the merchant closes the trade: `close` answers CLOSED, yet the
    /// money lands before the answer, so the next `query` answers SUCCESS.
    pay_during_close: AtomicBool,
    /// When set, every create waits here until that many creates are under way (a race made
    /// certain rather than hoped for).
    creates_meet: Mutex<Option<Arc<tokio::sync::Barrier>>>,
}

impl ScriptedProvider {
    fn pay(&self, payment_id: &str, paid_at_ms: i64) -> TradeStatus {
        let mut trades = self.trades.lock().unwrap();
        let t = trades.get_mut(payment_id).expect("trade");
        t.trade_state = TradeState::Success;
        t.transaction_id = Some(format!("tx-{payment_id}"));
        t.paid_at_ms = Some(paid_at_ms);
        t.clone()
    }
}

#[async_trait]
impl PaymentProvider for ScriptedProvider {
    fn method(&self) -> payments::status::PaymentMethod {
        payments::status::PaymentMethod::WechatPay
    }

    async fn create(&self, trade: CreateTrade) -> Result<String, ProviderError> {
        let meet = self.creates_meet.lock().unwrap().clone();
        if let Some(barrier) = meet {
            barrier.wait().await;
        }
        self.trades.lock().unwrap().insert(
            trade.payment_id.clone(),
            TradeStatus {
                payment_id: trade.payment_id.clone(),
                trade_state: TradeState::NotPay,
                amount_fen: trade.amount_fen,
                transaction_id: None,
                paid_at_ms: None,
                failure_reason: None,
            },
        );
        Ok(format!("test://{}", trade.payment_id))
    }

    async fn query(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        self.trades
            .lock()
            .unwrap()
            .get(payment_id)
            .cloned()
            .ok_or_else(|| ProviderError::UnknownTrade(payment_id.into()))
    }

    async fn close(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        let mut trades = self.trades.lock().unwrap();
        let t = trades
            .get_mut(payment_id)
            .ok_or_else(|| ProviderError::UnknownTrade(payment_id.into()))?;
        if t.trade_state != TradeState::NotPay {
            return Ok(t.clone());
        }
        t.trade_state = TradeState::Closed;
        let answer = t.clone();
        if self.pay_during_close.load(Ordering::SeqCst) {
            t.trade_state = TradeState::Success;
            t.transaction_id = Some(format!("tx-{payment_id}"));
            t.paid_at_ms = Some(now_ms());
        }
        Ok(answer)
    }
}

struct Fixture {
    service: PaymentService,
    provider: Arc<ScriptedProvider>,
    _dir: tempfile::TempDir,
}

async fn fixture(ttl: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = Store::connect(&url).await.unwrap();
    let provider = Arc::new(ScriptedProvider::default());
    let config = ServiceConfig {
        payment_ttl: ttl,
        ..ServiceConfig::default()
    };
    let providers = Providers::new(vec![provider.clone()], None).unwrap();
    let service = PaymentService::new(store, providers, config);
    Fixture {
        service,
        provider,
        _dir: dir,
    }
}

async fn order(f: &Fixture) -> String {
    f.service
        .create_order(Amount::from_fen(1000).unwrap(), "t")
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_long_poll_for_a_malformed_id_is_refused_before_it_watches_anything() {
    let f = fixture(Duration::from_secs(300)).await;
    let id = "x".repeat(8_000);
    let refused = f
        .service
        .wait_for_status(&id, None, Duration::from_secs(1))
        .await;
    assert!(
        matches!(refused, Err(PaymentError::MalformedPaymentId)),
        "{refused:?}"
    );
    assert_eq!(f.service.remembered_watches(), 0);
}

#[tokio::test]
async fn money_for_a_superseded_payment_pays_an_unpaid_order_and_closes_the_new_one() {
    let f = fixture(Duration::from_secs(300)).await;
    let o = order(&f).await;
    let first = f.service.create_payment(&o, None).await.unwrap();
    // The shopper pays the first QR just as the page creates a second payment.
    f.provider.pay(&first.id, now_ms());
    let second = f.service.create_payment(&o, None).await.unwrap();
    let first = f.service.payment(&first.id).await.unwrap();
    assert_eq!(
        first.status,
        PaymentStatus::Paid,
        "the raced close found the money"
    );
    assert!(!first.needs_refund);
    let order = f.service.order(&o).await.unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.paid_by_payment.as_deref(), Some(first.id.as_str()));
    let second = f.service.payment(&second.id).await.unwrap();
    assert_eq!(second.status, PaymentStatus::Closed);
}

/// Pages asking for a new order's QR at once agree on one payment: none of them closes the QR
/// another was shown, and the trades created for the others are closed at the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_asking_for_the_qr_at_once_agree_on_one_payment() {
    let f = fixture(Duration::from_secs(300)).await;
    let o = order(&f).await;
    // All eight have found no payment and are creating a trade before any is written.
    *f.provider.creates_meet.lock().unwrap() = Some(Arc::new(tokio::sync::Barrier::new(8)));
    let results =
        futures::future::join_all((0..8).map(|_| f.service.payment_for_page(&o, None))).await;
    let shown: std::collections::HashSet<String> = results
        .into_iter()
        .map(|r| r.expect("a payment").id)
        .collect();
    assert_eq!(shown.len(), 1, "every page shows the same QR: {shown:?}");
    let kept = shown.into_iter().next().unwrap();
    let detail = f.service.order_detail(&o).await.unwrap();
    assert_eq!(detail.payments.len(), 1, "only the kept payment is written");
    assert_eq!(detail.payments[0].payment.status, PaymentStatus::Pending);
    let trades = f.provider.trades.lock().unwrap().clone();
    assert_eq!(trades.len(), 8, "the requests raced (each created a trade)");
    for (id, trade) in &trades {
        let want = if *id == kept {
            TradeState::NotPay
        } else {
            TradeState::Closed
        };
        assert_eq!(trade.trade_state, want, "{id}");
    }
}

/// The page's load writes a payment only when the order has none: a reload of an expired QR
/// shows it expired (with 重新支付), however often the page reloads.
#[tokio::test]
async fn a_page_load_shows_the_expired_payment_instead_of_replacing_it() {
    let f = fixture(Duration::from_millis(100)).await;
    let o = order(&f).await;
    let first = f.service.payment_for_page(&o, None).await.unwrap();
    assert_eq!(first.status_at(now_ms()), PaymentStatus::Pending);
    let again = f.service.payment_for_page(&o, None).await.unwrap();
    assert_eq!(again.id, first.id, "a reload keeps the live QR");
    tokio::time::sleep(Duration::from_millis(150)).await;
    for _ in 0..3 {
        let shown = f.service.payment_for_page(&o, None).await.unwrap();
        assert_eq!(shown.id, first.id);
        assert_eq!(shown.status_at(now_ms()), PaymentStatus::Expired);
    }
    // Written down by the sweeper: still the one shown.
    f.service.expire_due(100).await.unwrap();
    let shown = f.service.payment_for_page(&o, None).await.unwrap();
    assert_eq!(
        (shown.id.as_str(), shown.status),
        (first.id.as_str(), PaymentStatus::Expired)
    );
    let detail = f.service.order_detail(&o).await.unwrap();
    assert_eq!(
        detail.payments.len(),
        1,
        "no payment was written by a reload"
    );
}

/// 重新支付 (the shopper's action) replaces an expired payment; the page then shows the new one.
#[tokio::test]
async fn pay_again_creates_a_new_payment_that_the_page_then_shows() {
    let f = fixture(Duration::from_millis(100)).await;
    let o = order(&f).await;
    let first = f.service.payment_for_page(&o, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let retried = f.service.current_or_new_payment(&o, None).await.unwrap();
    assert_ne!(retried.id, first.id);
    assert_eq!(retried.status, PaymentStatus::Pending);
    let shown = f.service.payment_for_page(&o, None).await.unwrap();
    assert_eq!(shown.id, retried.id);
}

/// A paid order's page shows the paying payment, even after a later payment of it expired.
#[tokio::test]
async fn a_paid_order_page_shows_the_payment_that_paid_it() {
    let f = fixture(Duration::from_secs(300)).await;
    let o = order(&f).await;
    let first = f.service.payment_for_page(&o, None).await.unwrap();
    f.provider.pay(&first.id, now_ms());
    // The money raced a replacement: the close finds it, the order is paid by the first.
    f.service.create_payment(&o, None).await.unwrap();
    let shown = f.service.payment_for_page(&o, None).await.unwrap();
    assert_eq!(
        (shown.id.as_str(), shown.status),
        (first.id.as_str(), PaymentStatus::Paid)
    );
}

/// Payments created at once (written together on SQLite): the refused ones among them fail
/// alone, and each order keeps exactly one pending payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_created_at_once_fail_alone_and_leave_one_pending_per_order() {
    let f = fixture(Duration::from_secs(300)).await;
    let paid = order(&f).await;
    let first = f.service.create_payment(&paid, None).await.unwrap();
    let money = f.provider.pay(&first.id, now_ms());
    f.service
        .apply_trade(&money, EventSource::Provider)
        .await
        .unwrap();
    let unknown = payments::ids::new_order_id();
    let mut payable = Vec::new();
    for _ in 0..40 {
        payable.push(order(&f).await);
    }
    let requests: Vec<&String> = payable
        .iter()
        .chain(&payable)
        .chain(&payable)
        .chain([&paid, &unknown].repeat(5))
        .collect();
    let results = futures::future::join_all(
        requests
            .iter()
            .map(|order_id| f.service.create_payment(order_id, None)),
    )
    .await;
    for (order_id, result) in requests.iter().zip(&results) {
        match result {
            Ok(payment) => assert_eq!(&payment.order_id, *order_id),
            Err(PaymentError::OrderNotPayable(OrderStatus::Paid)) => assert_eq!(*order_id, &paid),
            Err(PaymentError::OrderNotFound) => assert_eq!(*order_id, &unknown),
            Err(e) => panic!("{order_id}: {e:?}"),
        }
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 120);
    for order_id in &payable {
        let detail = f.service.order_detail(order_id).await.unwrap();
        let statuses: Vec<_> = detail.payments.iter().map(|p| p.payment.status).collect();
        assert_eq!(statuses.len(), 3, "{order_id}");
        let pending = statuses
            .iter()
            .filter(|s| **s == PaymentStatus::Pending)
            .count();
        assert_eq!(pending, 1, "{order_id}: {statuses:?}");
        for p in &detail.payments {
            assert!(!p.events.is_empty(), "every payment's creation is logged");
        }
    }
    let detail = f.service.order_detail(&paid).await.unwrap();
    assert_eq!(detail.payments.len(), 1, "a paid order gets no new payment");
}

#[tokio::test]
async fn a_second_successful_payment_is_kept_and_flagged_for_refund() {
    let f = fixture(Duration::from_secs(300)).await;
    let o = order(&f).await;
    let a = f.service.create_payment(&o, None).await.unwrap();
    let b = f.service.create_payment(&o, None).await.unwrap();
    let paid_b = f.provider.pay(&b.id, now_ms());
    f.service
        .apply_trade(&paid_b, EventSource::Provider)
        .await
        .unwrap();
    // The provider later reports money for the closed payment `a` too (it raced the close).
    let mut paid_a = paid_b.clone();
    paid_a.payment_id = a.id.clone();
    paid_a.transaction_id = Some("tx-late".into());
    let a = f
        .service
        .apply_trade(&paid_a, EventSource::Provider)
        .await
        .unwrap();
    assert_eq!(a.status, PaymentStatus::Paid);
    assert!(a.needs_refund, "never dropped, never counted twice");
    let order = f.service.order(&o).await.unwrap();
    assert_eq!(order.paid_by_payment.as_deref(), Some(b.id.as_str()));
}

#[tokio::test]
async fn duplicates_and_late_failures_change_nothing_but_are_logged() {
    let f = fixture(Duration::from_secs(300)).await;
    let o = order(&f).await;
    let p = f.service.create_payment(&o, None).await.unwrap();
    let paid = f.provider.pay(&p.id, now_ms());
    for _ in 0..10 {
        f.service
            .apply_trade(&paid, EventSource::Provider)
            .await
            .unwrap();
    }
    let failed = PaymentEvent::ProviderFailed {
        reason: Some("late".into()),
    };
    let after = f
        .service
        .apply(&p.id, &failed, EventSource::Provider)
        .await
        .unwrap();
    assert_eq!(after.status, PaymentStatus::Paid);
    let detail = f.service.order_detail(&o).await.unwrap();
    let events = &detail.payments[0].events;
    let transitions = events.iter().filter(|e| e.new_status.is_some()).count();
    assert_eq!(transitions, 2, "created + one paid: {events:#?}");
    assert_eq!(events.len(), 2 + 9 + 1, "every provider result is logged");
}

#[tokio::test]
async fn notification_ids_are_remembered_past_the_resend_horizon_then_forgotten() {
    use payments::provider::Notification;
    use payments::retention::{forget_notification_ids, NOTIFICATION_IDS_KEPT_FOR};
    let f = fixture(Duration::from_secs(300)).await;
    let o = order(&f).await;
    let p = f.service.create_payment(&o, None).await.unwrap();
    let notification = Notification {
        event_id: "evt-1".into(),
        trade: f.provider.pay(&p.id, now_ms()),
    };
    let method = payments::status::PaymentMethod::WechatPay;
    let first = f.service.apply_notification(method, &notification).await;
    assert!(!first.unwrap().duplicate);
    let kept = NOTIFICATION_IDS_KEPT_FOR.as_millis() as i64;
    let store = f.service.store();
    // A day later (the providers' resend horizon) the id is still known: the resend is a duplicate.
    assert_eq!(
        forget_notification_ids(store, now_ms() + kept / 2)
            .await
            .unwrap(),
        0
    );
    let resent = f.service.apply_notification(method, &notification).await;
    assert!(resent.unwrap().duplicate);
    // Past the horizon it is forgotten; a replay then meets a paid payment and changes nothing.
    assert_eq!(
        forget_notification_ids(store, now_ms() + kept + 1)
            .await
            .unwrap(),
        1
    );
    let replayed = f.service.apply_notification(method, &notification).await;
    let replayed = replayed.unwrap();
    assert!(!replayed.duplicate);
    assert_eq!(replayed.payment.status, PaymentStatus::Paid);
    let detail = f.service.order_detail(&o).await.unwrap();
    let transitions = detail.payments[0]
        .events
        .iter()
        .filter(|e| e.new_status.is_some())
        .count();
    assert_eq!(transitions, 2, "created + one paid");
}

#[tokio::test]
async fn an_amount_mismatch_is_rejected_and_logged() {
    let f = fixture(Duration::from_secs(300)).await;
    let o = order(&f).await;
    let p = f.service.create_payment(&o, None).await.unwrap();
    let mut paid = f.provider.pay(&p.id, now_ms());
    paid.amount_fen += 1;
    let refused = f.service.apply_trade(&paid, EventSource::Provider).await;
    assert!(
        matches!(refused, Err(PaymentError::AmountMismatch)),
        "{refused:?}"
    );
    assert_eq!(
        f.service.payment(&p.id).await.unwrap().status,
        PaymentStatus::Pending
    );
    let detail = f.service.order_detail(&o).await.unwrap();
    let last = detail.payments[0].events.last().unwrap();
    assert!(last.detail.contains("amount"), "{last:?}");
    assert_eq!(last.new_status, None);
}

#[tokio::test]
async fn expiry_finds_money_that_raced_the_deadline() {
    let f = fixture(Duration::from_millis(200)).await;
    let (o1, o2) = (order(&f).await, order(&f).await);
    let in_time = f.service.create_payment(&o1, None).await.unwrap();
    let late = f.service.create_payment(&o2, None).await.unwrap();
    f.provider.pay(&in_time.id, in_time.expires_at_ms - 1);
    f.provider.pay(&late.id, late.expires_at_ms + 50);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.service.expire_due(100).await.unwrap(), 2);
    let in_time = f.service.payment(&in_time.id).await.unwrap();
    assert_eq!(
        (in_time.status, in_time.paid_late),
        (PaymentStatus::Paid, false)
    );
    let late = f.service.payment(&late.id).await.unwrap();
    assert_eq!((late.status, late.paid_late), (PaymentStatus::Paid, true));
    assert_eq!(
        f.service.order(&o2).await.unwrap().status,
        OrderStatus::Paid
    );
    // Nothing is left to expire.
    assert_eq!(f.service.expire_due(100).await.unwrap(), 0);
}

/// The close answers CLOSED, but the money landed before that answer: only asking once more
/// finds it, so the payment is paid (late) by the expiry worker, not expired.
#[tokio::test]
async fn expiry_asks_again_after_a_close_that_raced_the_money() {
    let f = fixture(Duration::from_millis(100)).await;
    let o = order(&f).await;
    let p = f.service.create_payment(&o, None).await.unwrap();
    f.provider.pay_during_close.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(f.service.expire_due(100).await.unwrap(), 1);
    let p = f.service.payment(&p.id).await.unwrap();
    assert_eq!((p.status, p.paid_late), (PaymentStatus::Paid, true));
    assert_eq!(f.service.order(&o).await.unwrap().status, OrderStatus::Paid);
    let detail = f.service.order_detail(&o).await.unwrap();
    let transitions: Vec<_> = detail.payments[0]
        .events
        .iter()
        .filter_map(|e| e.new_status.map(|s| (e.source, s)))
        .collect();
    assert_eq!(
        transitions,
        [
            (EventSource::Api, PaymentStatus::Pending),
            (EventSource::Expiry, PaymentStatus::Paid)
        ]
    );
}

#[tokio::test]
async fn an_unpaid_payment_expires_and_is_closed_at_the_provider() {
    let f = fixture(Duration::from_millis(100)).await;
    let o = order(&f).await;
    let p = f.service.create_payment(&o, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    f.service.expire_due(100).await.unwrap();
    assert_eq!(
        f.service.payment(&p.id).await.unwrap().status,
        PaymentStatus::Expired
    );
    assert_eq!(
        f.provider.query(&p.id).await.unwrap().trade_state,
        TradeState::Closed
    );
}

#[test]
fn reconciliation_asks_at_10_30_60_seconds_then_every_minute() {
    let c = ServiceConfig::default();
    let offsets: Vec<u64> = (0..6)
        .map(|i| reconcile_offset(&c.reconcile_schedule, c.reconcile_every, i).as_secs())
        .collect();
    assert_eq!(offsets, [10, 30, 60, 120, 180, 240]);
}
