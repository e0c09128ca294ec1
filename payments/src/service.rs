//! (Over 350 lines by a few: one service's commands, queries and waits; reports and workers live apart.)
//! The payment service: every interface (server functions, REST, provider notifications, the
//! workers in `workers.rs`) calls these commands, queries and waits; provider reports are
//! applied in `trades.rs`. Provider calls happen outside transactions; every committed
//! change goes through [`crate::ledger`].
use crate::changes;
use crate::clock::now_ms;
use crate::error::{PaymentError, Result};
use crate::group_commit::GroupCommit;
use crate::ids;
use crate::ledger::{Applied, Committed, Inserted, Ledger, OnPending};
use crate::limits::{
    DEFAULT_PAYMENT_TTL_SECS, DEFAULT_RECONCILE_EVERY_SECS, DEFAULT_RECONCILE_SCHEDULE_SECS,
    MAX_LONG_POLL_SECS,
};
use crate::machine::PaymentEvent;
use crate::metrics::{LiveTransport, OpenStream};
use crate::model::{Order, OrderDetail, Payment, PaymentStatusView, PaymentWithEvents};
use crate::provider::{CreateTrade, PaymentProvider, Providers, DEFAULT_TRADE_DESCRIPTION};
use crate::status::{EventSource, OrderStatus, PaymentMethod, PaymentStatus};
use crate::status_cache::StatusCache;
use crate::store::{queries, Engine, Lock, Store, Which};
use crate::watch::{PaymentWatchers, Watch};
use crate::webhooks::WebhookEndpoints;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use crate::trades::NotificationApplied;

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub payment_ttl: Duration,
    /// When to ask the provider about a pending payment, counted from its creation (WeChat's
    /// guide: 10 s, 30 s, 60 s), and then how often until the deadline.
    pub reconcile_schedule: Vec<Duration>,
    pub reconcile_every: Duration,
    /// Where the shop hears about paid orders and failed, expired or late payments (none: no
    /// webhook events are written).
    pub webhook_endpoints: WebhookEndpoints,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            payment_ttl: Duration::from_secs(DEFAULT_PAYMENT_TTL_SECS),
            reconcile_schedule: DEFAULT_RECONCILE_SCHEDULE_SECS
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            reconcile_every: Duration::from_secs(DEFAULT_RECONCILE_EVERY_SECS),
            webhook_endpoints: WebhookEndpoints::default(),
        }
    }
}

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

/// What a shopper's page starts from: see [`PaymentService::order_payments`].
enum OrderPayments {
    Paid(Payment),
    Unpaid(Vec<Payment>),
}

#[derive(Clone)]
pub struct PaymentService {
    store: Store,
    providers: Providers,
    config: ServiceConfig,
    /// Forgets a payment after every committed change (here, or elsewhere through LISTEN).
    status_cache: StatusCache,
    /// Long-polls and streams, woken after every committed change.
    watchers: Arc<PaymentWatchers>,
    /// SQLite's group commit (new payments, provider reports), started by the first write.
    group_commit: Arc<OnceLock<GroupCommit>>,
}

fn check_order_id(id: &str) -> Result<()> {
    ids::is_valid_order_id(id)
        .then_some(())
        .ok_or(PaymentError::MalformedOrderId)
}

pub(crate) fn check_payment_id(id: &str) -> Result<()> {
    ids::is_valid_payment_id(id)
        .then_some(())
        .ok_or(PaymentError::MalformedPaymentId)
}

/// This process forgets and wakes: the cache first, so a woken watcher reads the new state.
/// Closes a trade whose payment was never written: its QR was never shown, so nobody can have
/// paid it; a failure is only logged (an unpaid trade expires at the provider anyway).
async fn close_unwritten_trade(provider: &dyn PaymentProvider, payment_id: &str) {
    if let Err(e) = provider.close(payment_id).await {
        tracing::warn!(
            payment_id,
            "closing an unwritten trade at the provider: {e}"
        );
    }
}

fn tell_followers(
    cache: &StatusCache,
    watchers: &PaymentWatchers,
    payment_ids: &[impl AsRef<str>],
) {
    cache.invalidate(payment_ids);
    watchers.changed(payment_ids.iter().map(AsRef::as_ref));
}

impl PaymentService {
    pub fn new(store: Store, providers: Providers, config: ServiceConfig) -> Self {
        Self {
            store,
            providers,
            config,
            status_cache: StatusCache::new(),
            watchers: Arc::default(),
            group_commit: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The enabled payment methods, in their configured order, and the one a payment gets when
    /// the shopper has not chosen.
    pub fn methods(&self) -> (Vec<PaymentMethod>, PaymentMethod) {
        (
            self.providers.methods().collect(),
            self.providers.default_method(),
        )
    }

    pub(crate) fn provider_for(&self, method: PaymentMethod) -> Result<&dyn PaymentProvider> {
        self.providers
            .get(method)
            .ok_or(PaymentError::MethodUnavailable(method))
    }

    /// The provider that holds this payment's trade.
    pub(crate) async fn provider_of(&self, payment_id: &str) -> Result<&dyn PaymentProvider> {
        let payment = self
            .status_cache
            .cached_or(payment_id, || self.payment(payment_id))
            .await?;
        self.provider_for(payment.method)
    }

    pub(crate) fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// Where the events of this service's changes go (the ledger writes them).
    pub(crate) fn webhooks(&self) -> &WebhookEndpoints {
        &self.config.webhook_endpoints
    }

    /// Every committed change goes through here.
    pub(crate) fn ledger(&self) -> Ledger<'_> {
        Ledger {
            store: &self.store,
            webhooks: self.webhooks(),
        }
    }

    /// These payments changed (committed here or elsewhere): forget their cached states and
    /// wake whoever waits for them.
    pub fn changed(&self, payment_ids: &[impl AsRef<str>]) {
        tell_followers(&self.status_cache, &self.watchers, payment_ids);
    }

    /// Changes from other processes may have been missed: forget everything, wake everyone.
    pub fn changed_all(&self) {
        self.status_cache.invalidate_all();
        self.watchers.changed_all();
    }

    /// PostgreSQL: follows other processes' changes forever (LISTEN on
    /// [`changes::PAYMENT_CHANGES_CHANNEL`]), so this process's cache and watchers see them.
    /// On every (re)connect everything is forgotten, as a change may have been missed; a
    /// dropped listener reconnects after 1 s.
    pub async fn listen_for_changes(&self, database_url: &str) {
        changes::listen(
            database_url,
            |id| self.changed(&[id]),
            || self.changed_all(),
        )
        .await
    }

    /// After a commit: tells this process once what changed, and returns what to close.
    pub(crate) fn committed(&self, committed: Committed) -> Applied {
        if !committed.changed.is_empty() {
            self.changed(&committed.changed);
        }
        Applied {
            payment: committed.payment,
            closed: committed.to_close,
            duplicate: committed.duplicate,
        }
    }

    /// Long-poll: the payment's status as soon as it differs from `known` (now, if it already
    /// does), or after `wait` (at most [`MAX_LONG_POLL_SECS`]) with the status unchanged.
    /// Without `known`, the status at the start of the call is what must change.
    pub async fn wait_for_status(
        &self,
        payment_id: &str,
        known: Option<PaymentStatus>,
        wait: Duration,
    ) -> Result<PaymentStatusView> {
        let wait = wait.min(Duration::from_secs(MAX_LONG_POLL_SECS));
        // A plain read (the hot path) registers no watcher.
        if wait.is_zero() {
            return self.payment_status(payment_id).await;
        }
        // A watcher only for a well-formed id (the key is the caller's string).
        check_payment_id(payment_id)?;
        let _open = OpenStream::open(LiveTransport::LongPoll);
        // Subscribed before the read, so a change between the two is not missed.
        let mut changes = self.watchers.subscribe(payment_id);
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

    /// How many payments the watchers' map holds (watched now or not yet forgotten): what
    /// long-polls and event streams cost in memory.
    pub fn remembered_watches(&self) -> usize {
        self.watchers.remembered()
    }

    /// The watch of one payment, for streams that follow it: call it after the payment was read
    /// (the id is then known to be well-formed and to exist).
    pub fn watch(&self, payment_id: &str) -> Watch {
        self.watchers.subscribe(payment_id)
    }

    pub async fn order(&self, order_id: &str) -> Result<Order> {
        check_order_id(order_id)?;
        let mut conn = self.store.pool().acquire().await?;
        queries::order(&mut conn, order_id, Lock::None)
            .await?
            .ok_or(PaymentError::OrderNotFound)
    }

    pub async fn order_detail(&self, order_id: &str) -> Result<OrderDetail> {
        let order = self.order(order_id).await?;
        let mut conn = self.store.pool().acquire().await?;
        let mut payments = Vec::new();
        for payment in
            queries::payments_of_order(&mut conn, order_id, Which::All, Lock::None).await?
        {
            let events = queries::events_of_payment(&mut conn, &payment.id).await?;
            payments.push(PaymentWithEvents { payment, events });
        }
        Ok(OrderDetail { order, payments })
    }

    pub async fn payment(&self, payment_id: &str) -> Result<Payment> {
        check_payment_id(payment_id)?;
        let mut conn = self.store.pool().acquire().await?;
        queries::payment(&mut conn, payment_id, Lock::None)
            .await?
            .ok_or(PaymentError::PaymentNotFound)
    }

    /// The status as [`Self::payment_status`] has it, if it is in memory: never a database read
    /// (the server's fast path for status reads; a miss goes the usual way and fills the cache).
    pub fn cached_status(&self, payment_id: &str) -> Option<PaymentStatusView> {
        let payment = self.status_cache.cached(payment_id)?;
        Some(PaymentStatusView::of(&payment, now_ms()))
    }

    /// The status as the payment page sees it, with the server's clock for the countdown.
    pub async fn payment_status(&self, payment_id: &str) -> Result<PaymentStatusView> {
        let payment = self
            .status_cache
            .cached_or(payment_id, || self.payment(payment_id))
            .await?;
        Ok(PaymentStatusView::of(&payment, now_ms()))
    }

    /// What the payment page shows when it loads: the payment that paid the order, else its
    /// latest payment as it is now (an expired or failed one too: the page offers 重新支付,
    /// a reload never replaces it), else a first payment (written now). Only the shopper's own
    /// choice of another app (`method` other than the latest payment's) writes a new payment
    /// over an existing one.
    pub async fn payment_for_page(
        &self,
        order_id: &str,
        method: Option<PaymentMethod>,
    ) -> Result<Payment> {
        let latest = match self.order_payments(order_id, Which::All).await? {
            OrderPayments::Paid(payment) => return Ok(payment),
            OrderPayments::Unpaid(payments) => payments.into_iter().next(),
        };
        match latest {
            Some(payment) if method.is_none_or(|m| m == payment.method) => Ok(payment),
            _ => self.current_or_new_payment(order_id, method).await,
        }
    }

    /// The shopper asked to pay (重新支付, or another app): the order's pending payment while
    /// it has time left, the payment that paid it, or else a new payment (written now). A
    /// `method` other than the pending payment's replaces it with one of that method.
    pub async fn current_or_new_payment(
        &self,
        order_id: &str,
        method: Option<PaymentMethod>,
    ) -> Result<Payment> {
        let pending = match self.order_payments(order_id, Which::OnlyPending).await? {
            OrderPayments::Paid(payment) => return Ok(payment),
            OrderPayments::Unpaid(pending) => pending,
        };
        let now = now_ms();
        match pending
            .into_iter()
            .find(|p| p.status_at(now) == PaymentStatus::Pending)
        {
            Some(payment) if method.is_none_or(|m| m == payment.method) => Ok(payment),
            // Another request may be creating one at this moment: if it commits first, its
            // payment is kept and ours is closed at the provider.
            _ => {
                self.new_payment(order_id, method, OnPending::KeepSameMethod)
                    .await
            }
        }
    }

    /// The payment that paid the order, or else the order's payments of `which` (newest
    /// first): what a shopper's page starts from.
    async fn order_payments(&self, order_id: &str, which: Which) -> Result<OrderPayments> {
        let order = self.order(order_id).await?;
        if let Some(paid_by) = &order.paid_by_payment {
            return Ok(OrderPayments::Paid(self.payment(paid_by).await?));
        }
        let mut conn = self.store.pool().acquire().await?;
        let payments = queries::payments_of_order(&mut conn, order_id, which, Lock::None).await?;
        Ok(OrderPayments::Unpaid(payments))
    }

    /// Creates a payment for a pending order, with `method`'s provider (the default one if
    /// `None`), replacing the order's pending payment (closed in the same transaction; the
    /// database's unique index backs "one pending payment per order").
    pub async fn create_payment(
        &self,
        order_id: &str,
        method: Option<PaymentMethod>,
    ) -> Result<Payment> {
        self.new_payment(order_id, method, OnPending::Replace).await
    }

    /// A trade at the provider, then the payment written as `on_pending` says; a trade whose
    /// payment was not written is closed at the provider.
    async fn new_payment(
        &self,
        order_id: &str,
        method: Option<PaymentMethod>,
        on_pending: OnPending,
    ) -> Result<Payment> {
        let method = method.unwrap_or(self.providers.default_method());
        let provider = self.provider_for(method)?;
        let order = self.order(order_id).await?;
        if order.status != OrderStatus::Pending {
            return Err(PaymentError::OrderNotPayable(order.status));
        }
        let now = now_ms();
        let expires_at_ms = now + self.config.payment_ttl.as_millis() as i64;
        let payment_id = ids::new_payment_id();
        // The provider call stays outside the transaction: a slow provider must not hold locks.
        let code_url = provider
            .create(CreateTrade {
                payment_id: payment_id.clone(),
                amount_fen: order.amount_fen,
                description: order
                    .description
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TRADE_DESCRIPTION.to_string()),
                expires_at_ms,
            })
            .await?;
        let payment = Payment {
            id: payment_id,
            order_id: order.id.clone(),
            amount_fen: order.amount_fen,
            status: PaymentStatus::Pending,
            method,
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
            .insert_payment(&payment, first_reconcile_at_ms, on_pending)
            .await
        {
            Ok(inserted) => {
                if inserted.payment.id != payment.id {
                    close_unwritten_trade(provider, &payment.id).await;
                }
                self.close_at_provider(inserted.closed).await;
                Ok(inserted.payment)
            }
            Err(e) => {
                close_unwritten_trade(provider, &payment.id).await;
                Err(e)
            }
        }
    }

    /// SQLite's single writer, started by the first write. It tells this process what changed,
    /// once per batch.
    fn group_commit(&self) -> &GroupCommit {
        self.group_commit.get_or_init(|| {
            let (cache, watchers) = (self.status_cache.clone(), self.watchers.clone());
            GroupCommit::start(
                self.store.clone(),
                self.webhooks().clone(),
                move |changed| tell_followers(&cache, &watchers, changed),
            )
        })
    }

    /// Applies `event` to `payment` (once per `event_id`); the payments it closed are to be
    /// closed at the provider. On SQLite through the group commit (one writer: a transaction
    /// per report would cap the rate), on PostgreSQL in its own.
    pub(crate) async fn apply_event(
        &self,
        payment: &Payment,
        event: &PaymentEvent,
        source: EventSource,
        event_id: Option<&str>,
    ) -> Result<Applied> {
        match self.store.engine() {
            Engine::Sqlite => {
                self.group_commit()
                    .apply(payment, event, source, event_id)
                    .await
            }
            Engine::Postgres => {
                let committed = self
                    .ledger()
                    .apply(payment, event, source, event_id)
                    .await?;
                Ok(self.committed(committed))
            }
        }
    }

    /// Writes a new payment, or keeps the order's pending one, as `on_pending` says.
    async fn insert_payment(
        &self,
        payment: &Payment,
        first_reconcile_at_ms: i64,
        on_pending: OnPending,
    ) -> Result<Inserted> {
        match self.store.engine() {
            // One writer: starting and committing a transaction per payment would cap the rate.
            // The writer tells this process what changed, once per batch.
            Engine::Sqlite => {
                self.group_commit()
                    .insert(payment.clone(), first_reconcile_at_ms, on_pending)
                    .await
            }
            // Writers run side by side; each payment commits on its own.
            Engine::Postgres => {
                let inserted = self
                    .ledger()
                    .insert_payment(payment, first_reconcile_at_ms, on_pending)
                    .await?;
                self.changed(&inserted.closed);
                Ok(inserted)
            }
        }
    }

    /// The one way a payment's status changes: the ledger locks order and payment, decides,
    /// writes and logs; then the payments it closed are closed at the provider.
    pub async fn apply(
        &self,
        payment_id: &str,
        event: &PaymentEvent,
        source: EventSource,
    ) -> Result<Payment> {
        let payment = self.payment(payment_id).await?;
        let committed = self.ledger().apply(&payment, event, source, None).await?;
        let applied = self.committed(committed);
        self.close_at_provider(applied.closed).await;
        Ok(applied.payment)
    }
}
