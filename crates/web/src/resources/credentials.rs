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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Named {
    name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    #[serde(default)]
    read_only: bool,
    expires_in_secs: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/me/device-passwords",
    tag = "me",
    summary = "Own device passwords",
    responses((status = 200, description = "list"))
)]
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

#[utoipa::path(
    post,
    path = "/api/v1/me/device-passwords",
    tag = "me",
    summary = "Create a device password (shown once)",
    request_body = Named,
    responses((status = 201, description = "name and password"))
)]
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

#[utoipa::path(
    delete,
    path = "/api/v1/me/device-passwords/{name}",
    tag = "me",
    summary = "Revoke a device password",
    params(("name" = String, Path)),
    responses((status = 204, description = "revoked"))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/me/api-keys",
    tag = "me",
    summary = "Own API keys",
    responses((status = 200, description = "list"))
)]
pub async fn keys(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let list = state.directory.api_keys(&caller.0.account.email).await?;
    Ok(Json(json!({ "items": list })))
}

#[utoipa::path(
    post,
    path = "/api/v1/me/api-keys",
    tag = "me",
    summary = "Create an API key (shown once)",
    request_body = NewKey,
    responses((status = 201, description = "name and key"))
)]
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

#[utoipa::path(
    delete,
    path = "/api/v1/me/api-keys/{name}",
    tag = "me",
    summary = "Revoke an API key",
    params(("name" = String, Path)),
    responses((status = 204, description = "revoked"))
)]
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
