use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

/// `GET /healthz`: 200 when the store answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.directory.store().ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ok" }))),
        Err(error) => {
            tracing::error!(%error, "health check: store unavailable");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the store does not answer",
            ))
        }
    }
}
