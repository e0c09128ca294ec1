//! Liveness and readiness. `GET /healthz` is public and says only whether the server and its
//! database answer: `{"status":"ok"}` after a `SELECT 1`, else 503 `{"status":"unavailable"}`.
//! Readiness (`GET /readyz`, an operator's endpoint: see `operator.rs`) has the details: the
//! database's engine, migrations and row counts, the payment methods, the workers; it is
//! checked at most once per [`READINESS_FOR`], since counting rows reads whole tables. Neither
//! answer carries error text: that goes to the log.
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use payments::clock::now_ms;
use payments::service::PaymentService;
use payments::store::{StoreResult, Table};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A database that has not answered by then counts as unavailable.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// How long a readiness check is answered again before the next one.
const READINESS_FOR: Duration = Duration::from_secs(10);

type Answer = (StatusCode, Json<Value>);

pub async fn healthz(State(state): State<AppState>) -> Answer {
    let ping = tokio::time::timeout(ANSWER_WITHIN, state.payments.store().ping()).await;
    match ping {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Ok(Err(e)) => unavailable(&format!("{e}")),
        Err(_) => unavailable("no answer within 2 s"),
    }
}

fn unavailable(why: &str) -> Answer {
    tracing::warn!("health check: the database: {why}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable" })),
    )
}

/// The readiness check and its last answer.
pub struct Readiness {
    payments: PaymentService,
    /// The supervised background workers: all of them run while the server answers (one that
    /// stops stops the server).
    workers: Vec<&'static str>,
    /// Held while a check runs, so that callers arriving meanwhile wait for it instead of
    /// starting their own.
    last: Mutex<Option<(Instant, StatusCode, Value)>>,
}

impl Readiness {
    pub fn new(payments: PaymentService, workers: Vec<&'static str>) -> Self {
        Self {
            payments,
            workers,
            last: Mutex::new(None),
        }
    }

    /// The last answer if it is recent enough, else a new one.
    pub async fn answer(&self) -> Answer {
        let mut last = self.last.lock().await;
        if let Some((at, status, body)) = &*last {
            if at.elapsed() < READINESS_FOR {
                return (*status, Json(body.clone()));
            }
        }
        let (status, body) = self.check().await;
        *last = Some((Instant::now(), status, body.clone()));
        (status, Json(body))
    }

    async fn check(&self) -> (StatusCode, Value) {
        let read = tokio::time::timeout(ANSWER_WITHIN, self.database_state()).await;
        let database = match read {
            Ok(Ok(state)) => Some(state),
            Ok(Err(e)) => {
                tracing::warn!("readiness check: the database: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("readiness check: the database: no answer within 2 s");
                None
            }
        };
        let (methods, default_method) = self.payments.methods();
        let status = match database {
            Some(_) => StatusCode::OK,
            None => StatusCode::SERVICE_UNAVAILABLE,
        };
        let body = json!({
            "status": if database.is_some() { "ready" } else { "unavailable" },
            "checkedAtMs": now_ms(),
            "version": env!("CARGO_PKG_VERSION"),
            "database": database.unwrap_or_else(|| json!({ "status": "unavailable" })),
            "providers": { "methods": methods, "default": default_method },
            "workers": { "running": self.workers },
        });
        (status, body)
    }

    async fn database_state(&self) -> StoreResult<Value> {
        let store = self.payments.store();
        Ok(json!({
            "status": "ok",
            "engine": store.engine().name(),
            "migrations": store.applied_migrations().await?,
            "orders": store.count(Table::Orders).await?,
            "payments": store.count(Table::Payments).await?,
            "paymentEvents": store.count(Table::PaymentEvents).await?,
            "serverStarts": store.count(Table::ServerStarts).await?,
        }))
    }
}
