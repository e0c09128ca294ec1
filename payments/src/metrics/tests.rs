//! The ledger counts what committed, once, and nothing of what rolled back.
use super::{PAYMENTS_CREATED, PAYMENTS_PAID, PAYMENTS_PAID_LATE};
use crate::clock::now_ms;
use crate::ledger::{self, Ledger, OnPending};
use crate::machine::PaymentEvent;
use crate::model::{Order, Payment};
use crate::status::{EventSource, OrderStatus, PaymentMethod, PaymentStatus};
use crate::store::Store;
use crate::webhooks::WebhookEndpoints;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The counters that moved since the last call: `(name, method label, by how much)`, sorted.
fn moved(snapshotter: &Snapshotter) -> Vec<(String, String, u64)> {
    let mut moved: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| {
            let DebugValue::Counter(by) = value else {
                return None;
            };
            let method = key.key().labels().find(|l| l.key() == "method")?;
            (by > 0).then(|| (key.key().name().to_string(), method.value().to_string(), by))
        })
        .collect();
    moved.sort();
    moved
}

fn counted(name: &str, method: PaymentMethod) -> (String, String, u64) {
    (name.to_string(), method.as_str().to_string(), 1)
}

fn order(id: &str) -> Order {
    Order {
        id: id.into(),
        amount_fen: 100,
        description: Some("t".into()),
        status: OrderStatus::Pending,
        created_at_ms: now_ms(),
        paid_at_ms: None,
        paid_by_payment: None,
        reference: None,
        return_url: None,
        api_key_id: None,
    }
}

fn payment(id: &str, order_id: &str, method: PaymentMethod, expires_at_ms: i64) -> Payment {
    Payment {
        id: id.into(),
        order_id: order_id.into(),
        amount_fen: 100,
        status: PaymentStatus::Pending,
        method,
        created_at_ms: now_ms(),
        expires_at_ms,
        paid_at_ms: None,
        provider_transaction_id: None,
        code_url: format!("test://{id}"),
        paid_late: false,
        needs_refund: false,
        failure_reason: None,
    }
}

fn paid() -> PaymentEvent {
    PaymentEvent::ProviderPaid {
        transaction_id: "4200000001".into(),
        paid_at_ms: now_ms(),
    }
}

async fn ledger_counts_after_commit(snapshotter: &Snapshotter) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/t.db", dir.path().display()))
        .await
        .unwrap();
    let (wechatpay, alipay) = (PaymentMethod::WechatPay, PaymentMethod::Alipay);
    let no_webhooks = WebhookEndpoints::default();
    let ledger = Ledger {
        store: &store,
        webhooks: &no_webhooks,
    };
    ledger.insert_order(&order("o-1")).await.unwrap();
    let p1 = payment("p1", "o-1", wechatpay, now_ms() + 300_000);
    ledger
        .insert_payment(&p1, now_ms(), OnPending::Replace)
        .await
        .unwrap();
    assert_eq!(moved(snapshotter), [counted(PAYMENTS_CREATED, wechatpay)]);

    // Decided and written, then rolled back: nothing happened, nothing is counted.
    let mut tx = ledger::Tx::begin(&store, &no_webhooks).await.unwrap();
    tx.apply("p1", "o-1", &paid(), EventSource::Provider, Some("evt-1"))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(moved(snapshotter), []);

    let source = EventSource::Provider;
    ledger
        .apply(&p1, &paid(), source, Some("evt-1"))
        .await
        .unwrap();
    assert_eq!(moved(snapshotter), [counted(PAYMENTS_PAID, wechatpay)]);
    let again = ledger
        .apply(&p1, &paid(), source, Some("evt-1"))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(moved(snapshotter), [], "a duplicate counts nothing");

    // Money after the deadline: paid, and paid late.
    ledger.insert_order(&order("o-2")).await.unwrap();
    let p2 = payment("p2", "o-2", alipay, now_ms() - 1);
    ledger
        .insert_payment(&p2, now_ms(), OnPending::Replace)
        .await
        .unwrap();
    ledger.apply(&p2, &paid(), source, None).await.unwrap();
    let mut want = [
        counted(PAYMENTS_CREATED, alipay),
        counted(PAYMENTS_PAID, alipay),
        counted(PAYMENTS_PAID_LATE, alipay),
    ];
    want.sort();
    assert_eq!(moved(snapshotter), want);
}

#[test]
fn the_ledger_counts_committed_changes_once_and_rolled_back_ones_never() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // One thread: the recorder is this thread's, and every counted change is polled here.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    ::metrics::with_local_recorder(&recorder, || {
        runtime.block_on(ledger_counts_after_commit(&snapshotter))
    });
}
