//! `GET /healthz`: 200 with the database's state, 503 when it cannot be read.
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use payments::store::{StoreResult, Table};
use serde_json::{json, Value};

async fn database_state(state: &AppState) -> StoreResult<Value> {
    let store = state.payments.store();
    Ok(json!({
        "engine": store.engine().name(),
        "migrations": store.applied_migrations().await?,
        "orders": store.count(Table::Orders).await?,
        "payments": store.count(Table::Payments).await?,
        "paymentEvents": store.count(Table::PaymentEvents).await?,
        "serverStarts": store.count(Table::ServerStarts).await?,
    }))
}

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match database_state(&state).await {
        Ok(db) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": db })),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "error", "database": { "error": e.to_string() } })),
        ),
    }
}
