//! The payment service: every interface (server functions, REST, simulator notifications, the
//! expiry sweeper) calls these methods; every status change goes through [`PaymentService::apply`].
use crate::clock::now_ms;
use crate::followers::Followers;
use crate::ids;
use crate::machine::{decide, Decision, PaymentEvent, Snapshot};
use crate::model::{
    Order, OrderDetail, Payment, PaymentEventRecord, PaymentStatusView, PaymentWithEvents,
};
pub use crate::error::{PaymentError, Result, MAX_DESCRIPTION_CHARS};
use crate::money::Amount;
use crate::new_payment_writer::NewPaymentWriter;
use crate::provider::{CreateTrade, Notification, PaymentProvider, ProviderError, TradeStatus};
use crate::status::{EventSource, OrderStatus, PaymentStatus, TradeState};
use crate::store::{queries, Due, Engine, Store};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const DEFAULT_DESCRIPTION: &str = "扫码支付订单";

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub payment_ttl: Duration,
    /// When to ask the provider about a pending payment, counted from its creation (WeChat's
    /// guide: 10 s, 30 s, 60 s), and then how often until the deadline.
    pub reconcile_schedule: Vec<Duration>,
    pub reconcile_every: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            payment_ttl: Duration::from_secs(300),
            reconcile_schedule: [10, 30, 60].map(Duration::from_secs).to_vec(),
            reconcile_every: Duration::from_secs(60),
        }
    }
}

/// How long a worker owns a claimed payment; if it dies, another takes over after this.
const WORKER_LEASE_MS: i64 = 15_000;
/// PostgreSQL channel on which every transaction that changes a payment announces its id.
pub const PAYMENT_CHANGES_CHANNEL: &str = "scanpay_payment_changed";

/// The offset from creation of the `attempt`-th (0-based) provider query. Pure, for tests.
pub fn reconcile_offset(schedule: &[Duration], every: Duration, attempt: usize) -> Duration {
    match schedule.get(attempt) {
        Some(offset) => *offset,
        None => {
            let last = schedule.last().copied().unwrap_or_default();
            last + every * (attempt + 1 - schedule.len()) as u32
        }
    }
}

#[derive(Clone)]
pub struct PaymentService {
    store: Store,
    provider: Arc<dyn PaymentProvider>,
    config: ServiceConfig,
    /// Told of every committed change (and, on PostgreSQL, of other processes' changes through
    /// LISTEN/NOTIFY).
    followers: Followers,
    /// SQLite's group commit of new payments, started by the first one.
    new_payments: Arc<OnceLock<NewPaymentWriter>>,
}

fn check_order_id(id: &str) -> Result<()> {
    ids::is_valid_order_id(id)
        .then_some(())
        .ok_or(PaymentError::MalformedOrderId)
}

fn check_payment_id(id: &str) -> Result<()> {
    ids::is_valid_payment_id(id)
        .then_some(())
        .ok_or(PaymentError::MalformedPaymentId)
}

/// The event a provider's report of a trade means for our payment, if any.
pub fn event_for_trade(status: &TradeStatus) -> Option<PaymentEvent> {
    match status.trade_state {
        TradeState::Success => Some(PaymentEvent::ProviderPaid {
            transaction_id: status.transaction_id.clone().unwrap_or_default(),
            paid_at_ms: status.paid_at_ms.unwrap_or_else(now_ms),
        }),
        TradeState::PayError => Some(PaymentEvent::ProviderFailed {
            reason: status
                .failure_reason
                .clone()
                .unwrap_or_else(|| "支付失败".to_string()),
        }),
        TradeState::NotPay | TradeState::Closed => None,
    }
}

impl PaymentService {
    pub fn new(store: Store, provider: Arc<dyn PaymentProvider>, config: ServiceConfig) -> Self {
        Self {
            store,
            provider,
            config,
            followers: Followers::new(),
            new_payments: Arc::default(),
        }
    }

    /// These payments changed (committed here or elsewhere): forget their cached states and
    /// wake whoever waits for them.
    pub fn changed(&self, payment_ids: &[impl AsRef<str>]) {
        self.followers.changed(payment_ids);
    }

    /// Changes from other processes may have been missed: forget everything, wake everyone.
    pub fn changed_all(&self) {
        self.followers.changed_all();
    }

    /// How many payments someone is waiting on (long-polls and streams).
    pub fn watched_payments(&self) -> usize {
        self.followers.watchers.watched()
    }

    /// Long-poll: the payment's status as soon as it differs from `known` (now, if it already
    /// does), or after `wait` with the status unchanged. Without `known`, the status at the
    /// start of the call is what must change.
    pub async fn wait_for_status(
        &self,
        payment_id: &str,
        known: Option<PaymentStatus>,
        wait: Duration,
    ) -> Result<PaymentStatusView> {
        // A plain read (the hot path) registers no watcher.
        if wait.is_zero() {
            return self.payment_status(payment_id).await;
        }
        // Subscribed before the read, so a change between the two is not missed.
        let mut changes = self.followers.watchers.subscribe(payment_id);
        let first = self.payment_status(payment_id).await?;
        if first.status != known.unwrap_or(first.status) {
            return Ok(first);
        }
        let known = first.status;
        let deadline = tokio::time::Instant::now() + wait;
        let expiry = tokio::time::Instant::now() + first.until_deadline();
        loop {
            let woke = tokio::time::timeout_at(deadline.min(expiry), changes.changed()).await;
            let view = self.payment_status(payment_id).await?;
            if view.status != known || woke.is_err() {
                return Ok(view);
            }
        }
    }

    /// The watch channel of one payment, for streams that follow it.
    pub fn watch(&self, payment_id: &str) -> crate::watch::Watch {
        self.followers.watchers.subscribe(payment_id)
    }

    /// In a write transaction on PostgreSQL: tells other processes these payments changed
    /// (delivered when the transaction commits).
    async fn announce_changes(
        &self,
        conn: &mut sqlx::AnyConnection,
        payment_ids: &[&str],
    ) -> Result<()> {
        if self.store.engine() == crate::store::Engine::Postgres {
            for id in payment_ids {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(PAYMENT_CHANGES_CHANNEL)
                    .bind(*id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn create_order(&self, amount: Amount, description: &str) -> Result<Order> {
        let description = description.trim();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(PaymentError::DescriptionTooLong);
        }
        let order = Order {
            id: ids::new_order_id(),
            amount_fen: amount.fen(),
            description: if description.is_empty() {
                DEFAULT_DESCRIPTION.to_string()
            } else {
                description.to_string()
            },
            status: OrderStatus::Pending,
            created_at_ms: now_ms(),
            paid_at_ms: None,
            paid_by_payment: None,
        };
        let mut w = self.store.begin_write().await?;
        queries::insert_order(w.conn(), &order).await?;
        w.commit().await?;
        Ok(order)
    }

    pub async fn order(&self, order_id: &str) -> Result<Order> {
        check_order_id(order_id)?;
        let mut conn = self.store.pool().acquire().await?;
        queries::order(&mut conn, order_id, "")
            .await?
            .ok_or(PaymentError::OrderNotFound)
    }

    pub async fn order_detail(&self, order_id: &str) -> Result<OrderDetail> {
        let order = self.order(order_id).await?;
        let mut conn = self.store.pool().acquire().await?;
        let mut payments = Vec::new();
        for payment in queries::payments_of_order(&mut conn, order_id, false, "").await? {
            let events = queries::events_of_payment(&mut conn, &payment.id).await?;
            payments.push(PaymentWithEvents { payment, events });
        }
        Ok(OrderDetail { order, payments })
    }

    pub async fn payment(&self, payment_id: &str) -> Result<Payment> {
        check_payment_id(payment_id)?;
        let mut conn = self.store.pool().acquire().await?;
        queries::payment(&mut conn, payment_id, "")
            .await?
            .ok_or(PaymentError::PaymentNotFound)
    }

    /// The status as the payment page sees it, with the server's clock for the countdown.
    pub async fn payment_status(&self, payment_id: &str) -> Result<PaymentStatusView> {
        let payment = self
            .followers
            .cached_or(payment_id, || self.payment(payment_id))
            .await?;
        Ok(PaymentStatusView::of(&payment, now_ms()))
    }

    /// What the payment page shows for an order: its pending payment while it has time left,
    /// the payment that paid it, or else a new payment.
    pub async fn current_payment(&self, order_id: &str) -> Result<Payment> {
        let order = self.order(order_id).await?;
        if let Some(paid_by) = &order.paid_by_payment {
            return self.payment(paid_by).await;
        }
        let mut conn = self.store.pool().acquire().await?;
        let pending = queries::payments_of_order(&mut conn, order_id, true, "").await?;
        drop(conn);
        let now = now_ms();
        match pending
            .into_iter()
            .find(|p| p.status_at(now) == PaymentStatus::Pending)
        {
            Some(payment) => Ok(payment),
            None => self.create_payment(order_id).await,
        }
    }

    /// Creates a payment for a pending order. The order's previous pending payment is closed in
    /// the same transaction; the database's unique index backs "one pending payment per order".
    pub async fn create_payment(&self, order_id: &str) -> Result<Payment> {
        let order = self.order(order_id).await?;
        if order.status != OrderStatus::Pending {
            return Err(PaymentError::OrderNotPayable(order.status));
        }
        let now = now_ms();
        let expires_at_ms = now + self.config.payment_ttl.as_millis() as i64;
        let payment_id = ids::new_payment_id();
        // The provider call stays outside the transaction: a slow provider must not hold locks.
        let code_url = self
            .provider
            .create(CreateTrade {
                payment_id: payment_id.clone(),
                amount_fen: order.amount_fen,
                description: order.description.clone(),
                expires_at_ms,
            })
            .await?;
        let payment = Payment {
            id: payment_id,
            order_id: order.id.clone(),
            amount_fen: order.amount_fen,
            status: PaymentStatus::Pending,
            created_at_ms: now,
            expires_at_ms,
            paid_at_ms: None,
            provider_transaction_id: None,
            code_url,
            paid_late: false,
            needs_refund: false,
            failure_reason: None,
        };
        let first_check = reconcile_offset(
            &self.config.reconcile_schedule,
            self.config.reconcile_every,
            0,
        );
        let first_reconcile_at_ms = now + first_check.as_millis() as i64;
        match self
            .insert_payment_closing_previous(&payment, first_reconcile_at_ms)
            .await
        {
            Ok(superseded) => {
                self.close_at_provider(superseded).await;
                Ok(payment)
            }
            Err(e) => {
                self.close_at_provider(vec![payment.id]).await;
                Err(e)
            }
        }
    }

    /// Writes a new payment, closing its order's previous pending one; returns the closed ids.
    async fn insert_payment_closing_previous(
        &self,
        payment: &Payment,
        first_reconcile_at_ms: i64,
    ) -> Result<Vec<String>> {
        match self.store.engine() {
            // One writer: starting and committing a transaction per payment would cap the rate.
            Engine::Sqlite => {
                self.new_payments
                    .get_or_init(|| {
                        NewPaymentWriter::start(self.store.clone(), self.followers.clone())
                    })
                    .insert(payment.clone(), first_reconcile_at_ms)
                    .await
            }
            // Writers run side by side; each payment commits on its own.
            Engine::Postgres => {
                let mut w = self.store.begin_write().await?;
                let superseded =
                    insert_payment_locked(w.conn(), &self.store, payment, first_reconcile_at_ms)
                        .await?;
                let changed: Vec<&str> = superseded.iter().map(String::as_str).collect();
                self.announce_changes(w.conn(), &changed).await?;
                w.commit().await?;
                self.changed(&superseded);
                Ok(superseded)
            }
        }
    }

    /// Closes trades we no longer want at the provider. Money that arrived first is recorded as
    /// paid, which may close further payments: a worklist, not recursion.
    async fn close_at_provider(&self, mut payment_ids: Vec<String>) {
        while let Some(payment_id) = payment_ids.pop() {
            match self.provider.close(&payment_id).await {
                Ok(status) if status.trade_state == TradeState::Success => {
                    match self
                        .apply_trade_inner(&status, EventSource::Reconcile, None)
                        .await
                    {
                        Ok((_, more)) => payment_ids.extend(more),
                        Err(e) => tracing::error!(
                            payment_id,
                            "recording a payment that raced its close: {e}"
                        ),
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(payment_id, "closing at the provider: {e}"),
            }
        }
    }

    /// Applies what the provider reports about a trade (notification or query answer).
    pub async fn apply_trade(&self, status: &TradeStatus, source: EventSource) -> Result<Payment> {
        let (payment, to_close) = self.apply_trade_inner(status, source, None).await?;
        self.close_at_provider(to_close).await;
        Ok(payment)
    }

    /// Applies a verified provider notification exactly once per event id.
    pub async fn apply_notification(&self, notification: &Notification) -> Result<Payment> {
        let (payment, to_close) = self
            .apply_trade_inner(
                &notification.trade,
                EventSource::Provider,
                Some(&notification.event_id),
            )
            .await?;
        self.close_at_provider(to_close).await;
        Ok(payment)
    }

    /// [`Self::apply_trade`] without the provider calls: returns the payments to close there.
    async fn apply_trade_inner(
        &self,
        status: &TradeStatus,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<(Payment, Vec<String>)> {
        let payment = self.payment(&status.payment_id).await?;
        if status.amount_fen != payment.amount_fen {
            self.log_only(
                &payment,
                source,
                format!(
                    "rejected provider {}: amount {} ≠ {}",
                    status.trade_state, status.amount_fen, payment.amount_fen
                ),
            )
            .await?;
            tracing::error!(payment_id = %payment.id, "provider amount mismatch");
            return Err(PaymentError::AmountMismatch);
        }
        match event_for_trade(status) {
            Some(event) => {
                self.apply_inner(&payment.id, &event, source, event_id)
                    .await
            }
            None => {
                self.log_only(&payment, source, format!("provider {}", status.trade_state))
                    .await?;
                Ok((payment, Vec::new()))
            }
        }
    }

    async fn log_only(&self, payment: &Payment, source: EventSource, detail: String) -> Result<()> {
        let mut w = self.store.begin_write().await?;
        let record = PaymentEventRecord {
            at_ms: now_ms(),
            source,
            old_status: Some(payment.status),
            new_status: None,
            detail,
        };
        queries::append_event(w.conn(), &payment.id, &record).await?;
        w.commit().await?;
        Ok(())
    }

    /// The one way a payment's status changes: lock order and payment, decide, write, log.
    pub async fn apply(
        &self,
        payment_id: &str,
        event: &PaymentEvent,
        source: EventSource,
    ) -> Result<Payment> {
        let (payment, to_close) = self.apply_inner(payment_id, event, source, None).await?;
        self.close_at_provider(to_close).await;
        Ok(payment)
    }

    /// [`Self::apply`] without the provider calls: returns the payments to close there.
    /// With `event_id`, a notification already processed changes nothing.
    async fn apply_inner(
        &self,
        payment_id: &str,
        event: &PaymentEvent,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<(Payment, Vec<String>)> {
        let order_id = self.payment(payment_id).await?.order_id;
        let lock = self.store.for_update();
        let mut w = self.store.begin_write().await?;
        // Lock order before payment, everywhere, so two transactions never wait on each other.
        let order = queries::order(w.conn(), &order_id, lock)
            .await?
            .ok_or(PaymentError::OrderNotFound)?;
        let payment = queries::payment(w.conn(), payment_id, lock)
            .await?
            .ok_or(PaymentError::PaymentNotFound)?;
        let now = now_ms();
        if let Some(event_id) = event_id {
            if !queries::mark_notification_processed(w.conn(), event_id, payment_id, now).await? {
                let record = PaymentEventRecord {
                    at_ms: now,
                    source,
                    old_status: Some(payment.status),
                    new_status: None,
                    detail: format!("duplicate notification {event_id} ignored"),
                };
                queries::append_event(w.conn(), payment_id, &record).await?;
                w.commit().await?;
                return Ok((payment, Vec::new()));
            }
        }
        let (payment, paid_order) =
            apply_locked(w.conn(), payment, &order, event, source, now).await?;
        let siblings = if paid_order {
            queries::payments_of_order(w.conn(), &order_id, true, lock).await?
        } else {
            Vec::new()
        };
        // The order is paid: its other pending payments are closed with it.
        let paid_order_now = Order {
            status: OrderStatus::Paid,
            ..order
        };
        for sibling in &siblings {
            let event = PaymentEvent::Close {
                reason: format!("order paid by {}", payment.id),
            };
            apply_locked(
                w.conn(),
                sibling.clone(),
                &paid_order_now,
                &event,
                source,
                now,
            )
            .await?;
        }
        let mut changed = vec![payment.id.as_str()];
        changed.extend(siblings.iter().map(|p| p.id.as_str()));
        self.announce_changes(w.conn(), &changed).await?;
        w.commit().await?;
        self.changed(&changed);
        Ok((payment, siblings.into_iter().map(|p| p.id).collect()))
    }

    async fn claim(&self, due: Due, limit: i64) -> Result<Vec<crate::store::Claimed>> {
        let mut w = self.store.begin_write().await?;
        let claimed = queries::claim_pending(
            w.conn(),
            self.store.engine(),
            due,
            now_ms(),
            WORKER_LEASE_MS,
            limit,
        )
        .await?;
        w.commit().await?;
        Ok(claimed)
    }

    /// Expires pending payments past their deadline. Closes at the provider first and asks once
    /// more afterwards, so money that raced the deadline is recorded as paid (late), never lost.
    /// Returns how many it handled.
    pub async fn expire_due(&self, limit: i64) -> Result<usize> {
        let due = self.claim(Due::Expiry, limit).await?;
        for payment in &due {
            if let Err(e) = self.expire_one(&payment.id).await {
                tracing::warn!(payment_id = payment.id, "expiring: {e}; will retry");
            }
        }
        Ok(due.len())
    }

    async fn expire_one(&self, payment_id: &str) -> Result<Payment> {
        let closed = match self.provider.close(payment_id).await {
            Ok(status) => Some(status),
            Err(ProviderError::UnknownTrade(_)) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(status) = &closed {
            if status.trade_state == TradeState::Success {
                return self.apply_trade(status, EventSource::Expiry).await;
            }
            // A payment can land between the close and its answer: ask again before giving up.
            let after = self.provider.query(payment_id).await?;
            if after.trade_state == TradeState::Success {
                return self.apply_trade(&after, EventSource::Expiry).await;
            }
        }
        self.apply(payment_id, &PaymentEvent::Expire, EventSource::Expiry)
            .await
    }

    /// Asks the provider about pending payments whose callback may have been lost, on the
    /// schedule in [`ServiceConfig`]. Returns how many it asked about.
    pub async fn reconcile_due(&self, limit: i64) -> Result<usize> {
        let due = self.claim(Due::Reconcile, limit).await?;
        for payment in &due {
            if let Err(e) = self
                .reconcile_one(&payment.id, EventSource::Reconcile)
                .await
            {
                tracing::warn!(payment_id = payment.id, "reconciling: {e}");
            }
            let attempts = payment.reconcile_attempts + 1;
            let offset = reconcile_offset(
                &self.config.reconcile_schedule,
                self.config.reconcile_every,
                attempts as usize,
            );
            let next = payment.created_at_ms + offset.as_millis() as i64;
            // Past the deadline the expiry worker takes over.
            let next = (next < payment.expires_at_ms).then_some(next);
            let mut w = self.store.begin_write().await?;
            queries::set_next_reconcile(w.conn(), &payment.id, attempts, next).await?;
            w.commit().await?;
        }
        Ok(due.len())
    }

    /// Asks the provider about one payment and applies the answer.
    pub async fn reconcile_one(&self, payment_id: &str, source: EventSource) -> Result<Payment> {
        check_payment_id(payment_id)?;
        let status = self.provider.query(payment_id).await?;
        self.apply_trade(&status, source).await
    }

    /// Runs expiry and reconciliation forever; a restart picks up where the database says.
    pub async fn run_workers(&self, tick: Duration) {
        loop {
            match self.expire_due(200).await {
                Ok(n) if n > 0 => tracing::info!("expired {n} payment(s)"),
                Ok(_) => {}
                Err(e) => tracing::warn!("expiry sweep: {e}"),
            }
            if let Err(e) = self.reconcile_due(200).await {
                tracing::warn!("reconciliation: {e}");
            }
            tokio::time::sleep(tick).await;
        }
    }
}

/// Inside a write transaction: checks the order (failing before anything is written if it is
/// unknown or not payable), closes its pending payments and inserts `payment`, to be asked
/// about at the provider first at `first_reconcile_at_ms`.
/// Returns the ids of the payments it closed.
pub(crate) async fn insert_payment_locked(
    conn: &mut sqlx::AnyConnection,
    store: &Store,
    payment: &Payment,
    first_reconcile_at_ms: i64,
) -> Result<Vec<String>> {
    let lock = store.for_update();
    let order = queries::order(conn, &payment.order_id, lock)
        .await?
        .ok_or(PaymentError::OrderNotFound)?;
    if order.status != OrderStatus::Pending {
        return Err(PaymentError::OrderNotPayable(order.status));
    }
    let previous = queries::payments_of_order(conn, &order.id, true, lock).await?;
    let now = now_ms();
    for old in &previous {
        let event = PaymentEvent::Close {
            reason: format!("superseded by {}", payment.id),
        };
        apply_locked(conn, old.clone(), &order, &event, EventSource::Api, now).await?;
    }
    queries::insert_payment(conn, payment, now, first_reconcile_at_ms).await?;
    let created = PaymentEventRecord {
        at_ms: now,
        source: EventSource::Api,
        old_status: None,
        new_status: Some(PaymentStatus::Pending),
        detail: format!(
            "created, valid for {} s",
            (payment.expires_at_ms - payment.created_at_ms) / 1000
        ),
    };
    queries::append_event(conn, &payment.id, &created).await?;
    Ok(previous.into_iter().map(|p| p.id).collect())
}

/// Decides and writes one event for a payment whose row (and order) the caller has locked.
/// Returns the payment afterwards and whether this event paid the order.
async fn apply_locked(
    conn: &mut sqlx::AnyConnection,
    mut payment: Payment,
    order: &Order,
    event: &PaymentEvent,
    source: EventSource,
    now: i64,
) -> Result<(Payment, bool)> {
    let before = payment.status;
    let decision = decide(
        Snapshot {
            status: before,
            expires_at_ms: payment.expires_at_ms,
            order_status: order.status,
        },
        event,
    );
    let describe = describe_event(event);
    let transition = match decision {
        Decision::Ignore { why } => {
            let record = PaymentEventRecord {
                at_ms: now,
                source,
                old_status: Some(before),
                new_status: None,
                detail: format!("{describe}; ignored: {why}"),
            };
            queries::append_event(conn, &payment.id, &record).await?;
            return Ok((payment, false));
        }
        Decision::Transition(t) => t,
    };
    payment.status = transition.to;
    payment.paid_late |= transition.paid_late;
    payment.needs_refund |= transition.needs_refund;
    match event {
        PaymentEvent::ProviderPaid {
            transaction_id,
            paid_at_ms,
        } => {
            payment.paid_at_ms = Some(*paid_at_ms);
            payment.provider_transaction_id = Some(transaction_id.clone());
        }
        PaymentEvent::ProviderFailed { reason } => payment.failure_reason = Some(reason.clone()),
        PaymentEvent::Expire | PaymentEvent::Close { .. } => {}
    }
    queries::update_payment(conn, &payment, now).await?;
    let paid_order = transition.pays_order
        && queries::mark_order_paid(
            conn,
            &order.id,
            &payment.id,
            payment.paid_at_ms.unwrap_or(now),
        )
        .await?;
    let mut detail = describe;
    if payment.paid_late {
        detail.push_str("; paid late");
    }
    if payment.needs_refund {
        detail.push_str("; needs refund");
    }
    if paid_order {
        detail.push_str("; order paid");
    }
    let record = PaymentEventRecord {
        at_ms: now,
        source,
        old_status: Some(before),
        new_status: Some(payment.status),
        detail,
    };
    queries::append_event(conn, &payment.id, &record).await?;
    Ok((payment, paid_order))
}

fn describe_event(event: &PaymentEvent) -> String {
    match event {
        PaymentEvent::ProviderPaid { transaction_id, .. } => {
            format!("provider SUCCESS, transaction {transaction_id}")
        }
        PaymentEvent::ProviderFailed { reason } => format!("provider PAYERROR: {reason}"),
        PaymentEvent::Expire => "deadline passed, closed at provider".to_string(),
        PaymentEvent::Close { reason } => format!("closed: {reason}"),
    }
}
