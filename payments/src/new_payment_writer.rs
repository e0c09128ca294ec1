//! Group commit of new payments on SQLite. SQLite has one writer, and starting and committing a
//! write transaction (its round trips to the connection's thread) costs more than the few
//! statements a new payment needs, so one task writes every new payment waiting for the writer
//! in one transaction. Each payment's order checks fail that payment alone; a storage error
//! fails the whole batch, so none of it is kept; payments of one order are written in turn, as
//! separate transactions would (the later one closes the earlier). Every write is a ledger
//! operation; this only batches them.
use crate::error::{PaymentError, Result};
use crate::ledger;
use crate::model::Payment;
use crate::store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Payments per transaction, at most; a batch is whatever waited while the previous one wrote.
const MAX_BATCH: usize = 128;
/// Payments waiting for the writer, at most; further callers wait to enqueue.
const QUEUE_CAPACITY: usize = 1024;

struct NewPayment {
    payment: Payment,
    first_reconcile_at_ms: i64,
    /// The ids of the payments it closed, once committed.
    done: oneshot::Sender<Result<Vec<String>>>,
}

pub(crate) struct NewPaymentWriter {
    queue: mpsc::Sender<NewPayment>,
}

impl NewPaymentWriter {
    /// Starts the writer task on the current Tokio runtime; it ends when this is dropped. After
    /// each commit it calls `changed` once with the payments the batch changed, if any.
    pub fn start(store: Store, changed: impl Fn(&[String]) + Send + 'static) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(waiting, store, changed));
        Self { queue }
    }

    /// Writes `payment` (closing its order's pending payments) and returns the closed ids.
    /// A caller that stops waiting does not stop the write.
    pub async fn insert(
        &self,
        payment: Payment,
        first_reconcile_at_ms: i64,
    ) -> Result<Vec<String>> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(NewPayment {
                payment,
                first_reconcile_at_ms,
                done,
            })
            .await
            .map_err(|_| writer_stopped())?;
        committed.await.map_err(|_| writer_stopped())?
    }
}

fn writer_stopped() -> PaymentError {
    PaymentError::Store(StoreError::WriterStopped)
}

async fn write_batches(
    mut waiting: mpsc::Receiver<NewPayment>,
    store: Store,
    changed: impl Fn(&[String]),
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write_batch(&store, &batch).await {
            Ok((results, changed_ids)) => {
                if !changed_ids.is_empty() {
                    changed(&changed_ids);
                }
                for (new, result) in batch.drain(..).zip(results) {
                    let _ = new.done.send(result);
                }
            }
            Err(e) => {
                tracing::error!(payments = batch.len(), "new payments rolled back: {e:?}");
                let why = format!("{e:?}");
                for new in batch.drain(..) {
                    let rolled_back = StoreError::RolledBackWithBatch(why.clone());
                    let _ = new.done.send(Err(rolled_back.into()));
                }
            }
        }
    }
}

/// One ledger transaction for the batch: per payment, its closed ids or why its order refused
/// it; and every payment the batch changed.
async fn write_batch(store: &Store, batch: &[NewPayment]) -> Result<Batched> {
    let mut tx = ledger::Tx::begin(store).await?;
    let mut results = Vec::with_capacity(batch.len());
    for new in batch {
        let written = tx
            .insert_payment(&new.payment, new.first_reconcile_at_ms)
            .await;
        match written {
            // Raised before that payment wrote anything: the rest of the batch stands.
            Err(refused @ (PaymentError::OrderNotFound | PaymentError::OrderNotPayable(_))) => {
                results.push(Err(refused))
            }
            written => results.push(Ok(written?)),
        }
    }
    let changed = tx.commit().await?;
    Ok((results, changed))
}

type Batched = (Vec<Result<Vec<String>>>, Vec<String>);

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
                description: "t".into(),
                status: *status,
                created_at_ms: now_ms(),
                paid_at_ms: None,
                paid_by_payment: None,
            };
            queries::insert_order(w.conn(), &order).await.unwrap();
        }
        w.commit().await.unwrap();
        store
    }

    fn new_payment(id: &str, order_id: &str) -> NewPayment {
        let now = now_ms();
        NewPayment {
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
            done: oneshot::channel().0,
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
        let (results, changed) = write_batch(&store, &batch).await.unwrap();
        assert_eq!(changed, ["p1"]);
        assert!(matches!(&results[0], Ok(closed) if closed.is_empty()));
        assert!(matches!(results[1], Err(PaymentError::OrderNotFound)));
        assert!(matches!(
            results[2],
            Err(PaymentError::OrderNotPayable(OrderStatus::Paid))
        ));
        assert!(matches!(&results[3], Ok(closed) if closed == &["p1"]));
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
        let first = [new_payment("p1", "o-a")];
        write_batch(&store, &first)
            .await
            .unwrap()
            .0
            .remove(0)
            .unwrap();
        // "p1" again: the primary key refuses it after "p2" was written in the same batch.
        let batch = [new_payment("p2", "o-b"), new_payment("p1", "o-b")];
        let result = write_batch(&store, &batch).await;
        assert!(matches!(result, Err(PaymentError::Store(_))), "{result:?}");
        assert!(statuses(&store, "o-b").await.is_empty());
        assert_eq!(
            statuses(&store, "o-a").await,
            [("p1".into(), PaymentStatus::Pending)]
        );
    }
}
