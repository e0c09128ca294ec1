//! Every provider call timed and its failures counted, by method and operation, for the
//! operator (see [`crate::metrics`]): [`Providers`](super::Providers) wraps each adapter in this.
use super::{CreateTrade, PaymentProvider, ProviderError, TradeStatus};
use crate::metrics::{self, ProviderOperation};
use crate::status::PaymentMethod;
use async_trait::async_trait;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

pub(super) struct Metered(pub Arc<dyn PaymentProvider>);

impl Metered {
    /// The call's whole time, retries included: what the caller waited.
    async fn timed<T>(
        &self,
        operation: ProviderOperation,
        call: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        let started = Instant::now();
        let result = call.await;
        let error = result.as_ref().err();
        metrics::provider_call(self.method(), operation, started.elapsed(), error);
        result
    }
}

#[async_trait]
impl PaymentProvider for Metered {
    fn method(&self) -> PaymentMethod {
        self.0.method()
    }

    async fn create(&self, trade: CreateTrade) -> Result<String, ProviderError> {
        self.timed(ProviderOperation::Create, self.0.create(trade))
            .await
    }

    async fn query(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        self.timed(ProviderOperation::Query, self.0.query(payment_id))
            .await
    }

    async fn close(&self, payment_id: &str) -> Result<TradeStatus, ProviderError> {
        self.timed(ProviderOperation::Close, self.0.close(payment_id))
            .await
    }
}
