//! The caller's own device passwords and API keys
//! (`/api/v1/me/device-passwords`, `/api/v1/me/api-keys`): created with
//! the secret shown once, listed, revoked.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Deserialize)]
pub struct Named {
    name: String,
}

#[derive(Deserialize)]
pub struct NewKey {
    name: String,
    #[serde(default)]
    read_only: bool,
    expires_in_secs: Option<i64>,
}

pub async fn devices(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let list = state
        .directory
        .device_passwords(&caller.0.account.email)
        .await?;
    Ok(Json(json!({ "items": list })))
}

pub async fn add_device(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Named>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    writable(&caller)?;
    let created = state
        .directory
        .add_device_password(&caller.0.account.email, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

pub async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    state
        .directory
        .revoke_device_password(&caller.0.account.email, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn keys(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let list = state.directory.api_keys(&caller.0.account.email).await?;
    Ok(Json(json!({ "items": list })))
}

pub async fn add_key(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    writable(&caller)?;
    let (key, secret) = state
        .directory
        .add_api_key(
            &caller.0.account.email,
            &body.name,
            body.read_only,
            body.expires_in_secs,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "name": key.name, "key": secret, "read_only": key.read_only, "expires_at": key.expires_at }),
        ),
    ))
}

pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    state
        .directory
        .revoke_api_key(&caller.0.account.email, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
