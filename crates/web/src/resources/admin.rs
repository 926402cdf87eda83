//! MasterAdmin-only resources: the outbound queue and DomainAdmin
//! assignments.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scope::{Scope, not_found};

async fn master(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()
}

fn store_error(error: mailroom_core::store::StoreError) -> ApiError {
    ApiError::from(mailroom_core::CoreError::from(error))
}

/// `GET /api/v1/queue`
#[utoipa::path(
    get,
    path = "/api/v1/queue",
    tag = "queue",
    summary = "The outbound queue (MasterAdmin)",
    responses((status = 200, description = "queued messages"))
)]
pub async fn queue(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    master(&state, &caller).await?;
    let queued = state
        .directory
        .store()
        .queue_list()
        .await
        .map_err(store_error)?;
    Ok(Json(json!({ "items": queued })))
}

/// `POST /api/v1/queue/{id}/retry`: try the message's pending
/// recipients now.
#[utoipa::path(
    post,
    path = "/api/v1/queue/{id}/retry",
    tag = "queue",
    summary = "Retry a queued message now",
    params(("id" = String, Path)),
    responses((status = 204, description = "due now"))
)]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    master(&state, &caller).await?;
    let store = state.directory.store();
    if store.queue_get(id).await.map_err(store_error)?.is_none() {
        return Err(not_found("queued message"));
    }
    store.queue_retry(Some(id)).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/queue/{id}`: give the message up (no bounce).
#[utoipa::path(
    delete,
    path = "/api/v1/queue/{id}",
    tag = "queue",
    summary = "Give a queued message up",
    params(("id" = String, Path)),
    responses((status = 204, description = "removed"))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    master(&state, &caller).await?;
    let store = state.directory.store();
    if store.queue_get(id).await.map_err(store_error)?.is_none() {
        return Err(not_found("queued message"));
    }
    store.queue_remove(id).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    email: String,
    domain: String,
}

/// `POST /api/v1/domain-admins {email, domain}`
#[utoipa::path(
    post,
    path = "/api/v1/domain-admins",
    tag = "domain-admins",
    summary = "Make a DomainAdmin administer a domain",
    request_body = Assignment,
    responses((status = 204, description = "granted"))
)]
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Assignment>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    master(&state, &caller).await?;
    state
        .directory
        .grant_domain_admin(&body.email, &body.domain)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/domain-admins/{email}/{domain}`
#[utoipa::path(
    delete,
    path = "/api/v1/domain-admins/{email}/{domain}",
    tag = "domain-admins",
    summary = "Take a domain from a DomainAdmin",
    params(("email" = String, Path), ("domain" = String, Path)),
    responses((status = 204, description = "revoked"))
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((email, domain)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    master(&state, &caller).await?;
    state.directory.revoke_domain_admin(&email, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/domain-admins/{email}`: the domains it administers.
#[utoipa::path(
    get,
    path = "/api/v1/domain-admins/{email}",
    tag = "domain-admins",
    summary = "The domains a DomainAdmin administers",
    params(("email" = String, Path)),
    responses((status = 200, description = "domains"))
)]
pub async fn domains_of(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    master(&state, &caller).await?;
    let domains = state.directory.administered_domains(&email).await?;
    Ok(Json(
        json!({ "email": email.to_lowercase(), "domains": domains }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    from: String,
    to: String,
}

#[utoipa::path(post, path = "/api/v1/domain-admins/transfer", tag = "domain-admins",
    summary = "Hand all domains of one DomainAdmin to another (MasterAdmin)",
    request_body = Transfer, responses((status = 200, description = "the domains moved")))]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Transfer>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    master(&state, &caller).await?;
    let moved = state
        .directory
        .transfer_domains(&body.from, &body.to)
        .await?;
    Ok(Json(json!({ "domains": moved })))
}
