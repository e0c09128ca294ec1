//! Group commit on SQLite. SQLite has one writer, and starting and committing a write
//! transaction (its round trips to the connection's thread) costs more than the few statements
//! a change needs, so one task writes every change waiting for the writer in one transaction:
//! new payments, and provider reports applied to payments (notifications, query answers). A
//! change refused before it wrote anything (its order unknown or not payable, its payment gone)
//! fails alone; a storage error fails the whole batch, so none of it is kept; changes to one
//! order are written in turn, as separate transactions would. Every write is a ledger
//! operation; this only batches them.
use crate::error::{PaymentError, Result};
use crate::ledger::{self, Applied, Inserted, OnPending};
use crate::machine::PaymentEvent;
use crate::model::Payment;
use crate::status::EventSource;
use crate::store::{Store, StoreError};
use crate::webhooks::WebhookEndpoints;
use tokio::sync::{mpsc, oneshot};

/// Changes per transaction, at most; a batch is whatever waited while the previous one wrote.
const MAX_BATCH: usize = 128;
/// Changes waiting for the writer, at most; further callers wait to enqueue.
const QUEUE_CAPACITY: usize = 1024;

/// One change the writer commits with others.
enum Write {
    /// A new payment (replacing or keeping its order's pending one).
    NewPayment {
        payment: Payment,
        first_reconcile_at_ms: i64,
        on_pending: OnPending,
    },
    /// An event applied to a payment (see [`ledger::Tx::apply`]).
    Apply {
        payment_id: String,
        order_id: String,
        event: PaymentEvent,
        source: EventSource,
        event_id: Option<String>,
    },
}

/// What a committed change returns.
#[derive(Debug)]
enum Written {
    NewPayment(Inserted),
    Applied(Applied),
}

struct Queued {
    write: Write,
    done: oneshot::Sender<Result<Written>>,
}

pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Queued>,
}

impl GroupCommit {
    /// Starts the writer task on the current Tokio runtime; it ends when this is dropped. After
    /// each commit it calls `changed` once with the payments the batch changed, if any. The
    /// changes' webhook events go to `webhooks`, in the batch's transaction.
    pub fn start(
        store: Store,
        webhooks: WebhookEndpoints,
        changed: impl Fn(&[String]) + Send + 'static,
    ) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(waiting, store, webhooks, changed));
        Self { queue }
    }

    /// Writes `payment` or keeps its order's pending one (see [`ledger::Tx::insert_payment`]).
    /// A caller that stops waiting does not stop the write.
    pub async fn insert(
        &self,
        payment: Payment,
        first_reconcile_at_ms: i64,
        on_pending: OnPending,
    ) -> Result<Inserted> {
        let write = Write::NewPayment {
            payment,
            first_reconcile_at_ms,
            on_pending,
        };
        match self.write(write).await? {
            Written::NewPayment(inserted) => Ok(inserted),
            Written::Applied(_) => Err(writer_stopped()),
        }
    }

    /// Applies `event` to `payment` (once per `event_id`, if given).
    pub async fn apply(
        &self,
        payment: &Payment,
        event: &PaymentEvent,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<Applied> {
        let write = Write::Apply {
            payment_id: payment.id.clone(),
            order_id: payment.order_id.clone(),
            event: event.clone(),
            source,
            event_id: event_id.map(str::to_string),
        };
        match self.write(write).await? {
            Written::Applied(applied) => Ok(applied),
            Written::NewPayment(_) => Err(writer_stopped()),
        }
    }

    async fn write(&self, write: Write) -> Result<Written> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Queued { write, done })
            .await
            .map_err(|_| writer_stopped())?;
        committed.await.map_err(|_| writer_stopped())?
    }
}

fn writer_stopped() -> PaymentError {
    PaymentError::Store(StoreError::WriterStopped)
}

async fn write_batches(
    mut waiting: mpsc::Receiver<Queued>,
    store: Store,
    webhooks: WebhookEndpoints,
    changed: impl Fn(&[String]),
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let writes: Vec<&Write> = batch.iter().map(|q: &Queued| &q.write).collect();
        match write_batch(&store, &webhooks, &writes).await {
            Ok((results, changed_ids)) => {
                if !changed_ids.is_empty() {
                    changed(&changed_ids);
                }
                for (queued, result) in batch.drain(..).zip(results) {
                    let _ = queued.done.send(result);
                }
            }
            Err(e) => {
                tracing::error!(changes = batch.len(), "batch rolled back: {e:?}");
                let why = format!("{e:?}");
                for queued in batch.drain(..) {
                    let rolled_back = StoreError::RolledBackWithBatch(why.clone());
                    let _ = queued.done.send(Err(rolled_back.into()));
                }
            }
        }
    }
}

/// One ledger transaction for the batch: per change, what it wrote or why it was refused; and
/// every payment the batch changed.
async fn write_batch(
    store: &Store,
    webhooks: &WebhookEndpoints,
    batch: &[&Write],
) -> Result<Batched> {
    let mut tx = ledger::Tx::begin(store, webhooks).await?;
    let mut results = Vec::with_capacity(batch.len());
    for write in batch {
        let written = match write {
            Write::NewPayment {
                payment,
                first_reconcile_at_ms,
                on_pending,
            } => tx
                .insert_payment(payment, *first_reconcile_at_ms, *on_pending)
                .await
                .map(Written::NewPayment),
            Write::Apply {
                payment_id,
                order_id,
                event,
                source,
                event_id,
            } => tx
                .apply(payment_id, order_id, event, *source, event_id.as_deref())
                .await
                .map(Written::Applied),
        };
        match written {
            // Raised before that change wrote anything: the rest of the batch stands.
            Err(
                refused @ (PaymentError::OrderNotFound
                | PaymentError::OrderNotPayable(_)
                | PaymentError::PaymentNotFound),
            ) => results.push(Err(refused)),
            written => results.push(Ok(written?)),
        }
    }
    let changed = tx.commit().await?;
    Ok((results, changed))
}

type Batched = (Vec<Result<Written>>, Vec<String>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_ms;
    use crate::model::Order;
    use crate::status::{OrderStatus, PaymentStatus};
    use crate::store::{queries, Lock, Which};

    async fn store_with_orders(dir: &tempfile::TempDir, orders: &[(&str, OrderStatus)]) -> Store {
        let store = Store::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let mut w = store.begin_write().await.unwrap();
        for (id, status) in orders {
            let order = Order {
                id: id.to_string(),
                amount_fen: 100,
                description: Some("t".into()),
                status: *status,
                created_at_ms: now_ms(),
                paid_at_ms: None,
                paid_by_payment: None,
                reference: None,
                return_url: None,
                api_key_id: None,
            };
            queries::insert_order(w.conn(), &order).await.unwrap();
        }
        w.commit().await.unwrap();
        store
    }

    /// No webhook endpoints: no events.
    fn none() -> WebhookEndpoints {
        WebhookEndpoints::default()
    }

    fn new_payment(id: &str, order_id: &str) -> Write {
        let now = now_ms();
        Write::NewPayment {
            payment: Payment {
                id: id.into(),
                order_id: order_id.into(),
                amount_fen: 100,
                status: PaymentStatus::Pending,
                method: crate::status::PaymentMethod::WechatPay,
                created_at_ms: now,
                expires_at_ms: now + 300_000,
                paid_at_ms: None,
                provider_transaction_id: None,
                code_url: format!("test://{id}"),
                paid_late: false,
                needs_refund: false,
                failure_reason: None,
            },
            first_reconcile_at_ms: now + 10_000,
            on_pending: OnPending::Replace,
        }
    }

    fn closed_ids(result: &Result<Written>) -> Option<&Vec<String>> {
        match result {
            Ok(Written::NewPayment(inserted)) => Some(&inserted.closed),
            _ => None,
        }
    }

    async fn statuses(store: &Store, order_id: &str) -> Vec<(String, PaymentStatus)> {
        let mut conn = store.pool().acquire().await.unwrap();
        let mut payments = queries::payments_of_order(&mut conn, order_id, Which::All, Lock::None)
            .await
            .unwrap();
        payments.sort_by(|a, b| a.id.cmp(&b.id));
        payments.into_iter().map(|p| (p.id, p.status)).collect()
    }

    #[tokio::test]
    async fn a_refused_order_fails_its_payment_alone_and_one_order_is_written_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_orders(
            &dir,
            &[
                ("o-pending", OrderStatus::Pending),
                ("o-paid", OrderStatus::Paid),
            ],
        )
        .await;
        let batch = [
            new_payment("p1", "o-pending"),
            new_payment("p2", "o-unknown"),
            new_payment("p3", "o-paid"),
            new_payment("p4", "o-pending"),
        ];
        let batch: Vec<&Write> = batch.iter().collect();
        let (results, changed) = write_batch(&store, &none(), &batch).await.unwrap();
        assert_eq!(changed, ["p1"]);
        assert!(closed_ids(&results[0]).is_some_and(|closed| closed.is_empty()));
        assert!(matches!(results[1], Err(PaymentError::OrderNotFound)));
        assert!(matches!(
            results[2],
            Err(PaymentError::OrderNotPayable(OrderStatus::Paid))
        ));
        assert!(closed_ids(&results[3]).is_some_and(|closed| closed == &["p1"]));
        assert_eq!(
            statuses(&store, "o-pending").await,
            [
                ("p1".into(), PaymentStatus::Closed),
                ("p4".into(), PaymentStatus::Pending)
            ]
        );
        assert!(statuses(&store, "o-paid").await.is_empty());
    }

    #[tokio::test]
    async fn a_storage_error_keeps_nothing_of_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_orders(
            &dir,
            &[("o-a", OrderStatus::Pending), ("o-b", OrderStatus::Pending)],
        )
        .await;
        let first = new_payment("p1", "o-a");
        write_batch(&store, &none(), &[&first])
            .await
            .unwrap()
            .0
            .remove(0)
            .unwrap();
        // "p1" again: the primary key refuses it after "p2" was written in the same batch.
        let (p2, p1) = (new_payment("p2", "o-b"), new_payment("p1", "o-b"));
        let result = write_batch(&store, &none(), &[&p2, &p1]).await;
        assert!(matches!(result, Err(PaymentError::Store(_))), "{result:?}");
        assert!(statuses(&store, "o-b").await.is_empty());
        assert_eq!(
            statuses(&store, "o-a").await,
            [("p1".into(), PaymentStatus::Pending)]
        );
    }

    fn paid(payment_id: &str, order_id: &str, event_id: &str) -> Write {
        Write::Apply {
            payment_id: payment_id.into(),
            order_id: order_id.into(),
            event: PaymentEvent::ProviderPaid {
                transaction_id: "4200000001".into(),
                paid_at_ms: now_ms(),
            },
            source: EventSource::Provider,
            event_id: Some(event_id.into()),
        }
    }

    #[tokio::test]
    async fn reports_in_one_batch_apply_once_each_and_an_unknown_payment_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_orders(&dir, &[("o-a", OrderStatus::Pending)]).await;
        let created = new_payment("p1", "o-a");
        write_batch(&store, &none(), &[&created]).await.unwrap();
        let (first, again, unknown) = (
            paid("p1", "o-a", "evt-1"),
            paid("p1", "o-a", "evt-1"),
            paid("p-unknown", "o-a", "evt-2"),
        );
        let (results, changed) = write_batch(&store, &none(), &[&first, &again, &unknown])
            .await
            .unwrap();
        assert_eq!(changed, ["p1"], "the duplicate changed nothing");
        for (result, duplicate) in results[..2].iter().zip([false, true]) {
            let Ok(Written::Applied(applied)) = result else {
                panic!("{result:?}")
            };
            assert_eq!(applied.payment.status, PaymentStatus::Paid);
            assert_eq!(applied.duplicate, duplicate);
        }
        assert!(matches!(results[2], Err(PaymentError::PaymentNotFound)));
        assert_eq!(
            statuses(&store, "o-a").await,
            [("p1".into(), PaymentStatus::Paid)]
        );
        let mut conn = store.pool().acquire().await.unwrap();
        let events = queries::events_of_payment(&mut conn, "p1").await.unwrap();
        let paid_lines = events
            .iter()
            .filter(|e| e.new_status == Some(PaymentStatus::Paid))
            .count();
        assert_eq!(paid_lines, 1, "{events:?}");
        assert_eq!(
            events.len(),
            2,
            "created and paid; the duplicate wrote nothing: {events:?}"
        );
    }

    async fn webhook_events(store: &Store) -> Vec<(String, String)> {
        use sqlx::Row;
        let rows =
            sqlx::query("SELECT type, payment_id FROM webhook_events ORDER BY created_at_ms")
                .fetch_all(store.pool())
                .await
                .unwrap();
        rows.iter()
            .map(|r| (r.get("type"), r.get("payment_id")))
            .collect()
    }

    #[tokio::test]
    async fn a_webhook_event_is_written_and_rolled_back_with_its_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_orders(
            &dir,
            &[
                ("o-a", OrderStatus::Pending),
                ("o-b", OrderStatus::Pending),
                ("o-c", OrderStatus::Pending),
            ],
        )
        .await;
        let endpoints =
            WebhookEndpoints::parse(["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]).unwrap();
        let (p1, p2) = (new_payment("p1", "o-a"), new_payment("p2", "o-b"));
        write_batch(&store, &endpoints, &[&p1, &p2]).await.unwrap();
        // A storage error (p1 again) after p2 was paid: its event goes with the batch.
        let (pay_p2, dup) = (paid("p2", "o-b", "evt-9"), new_payment("p1", "o-c"));
        let result = write_batch(&store, &endpoints, &[&pay_p2, &dup]).await;
        assert!(matches!(result, Err(PaymentError::Store(_))), "{result:?}");
        assert!(webhook_events(&store).await.is_empty());
        let pay_p1 = paid("p1", "o-a", "evt-1");
        write_batch(&store, &endpoints, &[&pay_p1]).await.unwrap();
        assert_eq!(
            webhook_events(&store).await,
            [("order.paid".to_string(), "p1".to_string())]
        );
        let deliveries: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(deliveries, 2, "one per endpoint");
        // Without endpoints, nothing is written at all.
        let pay_p2 = paid("p2", "o-b", "evt-2");
        write_batch(&store, &none(), &[&pay_p2]).await.unwrap();
        assert_eq!(webhook_events(&store).await.len(), 1);
    }
}
