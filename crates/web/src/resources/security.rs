//! `/api/v1/security`: the security log and banned addresses
//! (MasterAdmins).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scope::Scope;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LogQuery {
    account: Option<String>,
    /// Seconds since the epoch.
    since: Option<i64>,
    limit: Option<usize>,
}

#[utoipa::path(
    get,
    path = "/api/v1/security/log",
    tag = "security",
    summary = "The security log (MasterAdmin)",
    responses((status = 200, description = "events, newest first"))
)]
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LogQuery>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    let events = state
        .directory
        .security_log(
            query.account.as_deref(),
            query.since,
            query.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?;
    Ok(Json(json!({ "items": events })))
}

#[utoipa::path(
    get,
    path = "/api/v1/security/bans",
    tag = "security",
    summary = "Banned addresses (MasterAdmin)",
    responses((status = 200, description = "bans"))
)]
pub async fn bans(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    Ok(Json(json!({ "items": state.directory.bans().await? })))
}

#[utoipa::path(
    delete,
    path = "/api/v1/security/bans/{ip}",
    tag = "security",
    summary = "Lift a ban (MasterAdmin)",
    params(("ip" = String, Path)),
    responses((status = 204, description = "lifted"))
)]
pub async fn unban(
    State(state): State<AppState>,
    caller: Caller,
    Path(ip): Path<String>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    state.directory.unban(&ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The mandatory-2FA policy for MailUsers.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    mandatory: Option<bool>,
    grace_days: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/security/policy", tag = "security",
    summary = "The mandatory-2FA policy (MasterAdmin)",
    responses((status = 200, description = "mandatory and grace_days")))]
pub async fn policy(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    Ok(Json(json!(state.directory.two_factor_policy().await?)))
}

#[utoipa::path(put, path = "/api/v1/security/policy", tag = "security",
    summary = "Change the mandatory-2FA policy (MasterAdmin)", request_body = Policy,
    responses((status = 200, description = "the policy"), (status = 400, description = "grace days out of range")))]
pub async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Policy>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    let policy = state
        .directory
        .set_two_factor_policy(body.mandatory, body.grace_days)
        .await?;
    Ok(Json(json!(policy)))
}
