//! The operator's endpoints: `GET /metrics` (Prometheus text, `metrics.rs`) and `GET /readyz`
//! (readiness with details, `health.rs`). Where they are served is the settings' call
//! (`config::MetricsSettings`): a listener of their own, or the main router in development.
use crate::health::Readiness;
use crate::metrics;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

#[derive(Clone)]
pub struct Operator {
    pub metrics: PrometheusHandle,
    pub readiness: Arc<Readiness>,
}

pub fn router<S: Clone + Send + Sync + 'static>(operator: Operator) -> Router<S> {
    Router::new()
        .route("/metrics", get(render_metrics))
        .route("/readyz", get(readyz))
        .with_state(operator)
}

async fn render_metrics(State(operator): State<Operator>) -> Response {
    metrics::render(&operator.metrics)
}

async fn readyz(State(operator): State<Operator>) -> Response {
    operator.readiness.answer().await.into_response()
}
