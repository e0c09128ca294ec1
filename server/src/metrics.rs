//! `GET /metrics`: what the `metrics` facade recorded (the series are named in
//! `payments::metrics`), rendered in the Prometheus text format by `metrics-exporter-prometheus`.
use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use payments::metrics::{PROVIDER_CALL_BUCKETS, PROVIDER_CALL_DURATION};
use std::time::Duration;

/// The text format's media type (version 0.0.4: what every Prometheus scrapes).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// How often histograms are drained into their buckets when nobody scrapes (memory stays bounded).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs this process's recorder. Call it before anything records: the payment service
/// registers its status-cache counters when it is built.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        // A histogram with buckets (without them the exporter renders a summary).
        .set_buckets_for_metric(
            Matcher::Full(PROVIDER_CALL_DURATION.to_string()),
            PROVIDER_CALL_BUCKETS,
        )?
        .install_recorder()?;
    payments::metrics::describe();
    Ok(handle)
}

/// Runs forever (a supervised worker).
pub async fn upkeep(handle: PrometheusHandle) {
    loop {
        tokio::time::sleep(UPKEEP_EVERY).await;
        handle.run_upkeep();
    }
}

pub fn render(handle: &PrometheusHandle) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], handle.render()).into_response()
}
