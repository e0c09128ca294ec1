//! The sandbox's own endpoints: credentials for merchant integrations, faults for tests.
use crate::{Credentials, Faults, Sandbox};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;

pub async fn credentials(State(sandbox): State<Arc<Sandbox>>) -> Json<Credentials> {
    Json(sandbox.credentials())
}

pub async fn get_faults(State(sandbox): State<Arc<Sandbox>>) -> Json<Faults> {
    Json(sandbox.faults())
}

/// Replaces the faults; fields left out are off.
pub async fn put_faults(State(sandbox): State<Arc<Sandbox>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            tracing::warn!(?faults, "sandbox faults changed");
            sandbox.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "message": format!("未知或错误的故障配置: {e}") })),
        )
            .into_response(),
    }
}
