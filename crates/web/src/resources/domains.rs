//! `/api/v1/domains`

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::page::{ListQuery, page};
use crate::scope::{Scope, not_found};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Force {
    #[serde(default)]
    force: bool,
}

/// The domain, if the caller may see it.
async fn visible(state: &AppState, scope: &Scope, name: &str) -> Result<String, ApiError> {
    let name = name.to_ascii_lowercase();
    if !scope.admin_of(&name) {
        return Err(not_found("domain"));
    }
    state
        .directory
        .domain(&name)
        .await
        .map_err(|_| not_found("domain"))?;
    Ok(name)
}

#[utoipa::path(
    get,
    path = "/api/v1/domains",
    tag = "domains",
    summary = "Domains in the caller's scope (paginated)",
    responses((status = 200, description = "a page of domains"))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    scope.require_admin()?;
    let domains: Vec<_> = state
        .directory
        .list_domains()
        .await?
        .into_iter()
        .filter(|d| scope.admin_of(&d.name))
        .collect();
    Ok(Json(page(domains, &query)))
}

#[utoipa::path(
    post,
    path = "/api/v1/domains",
    tag = "domains",
    summary = "Add a domain (MasterAdmin)",
    request_body = NewDomain,
    responses((status = 201, description = "created"), (status = 403, description = "forbidden"))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewDomain>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    writable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    let domain = state.directory.add_domain(&body.name).await?;
    Ok((StatusCode::CREATED, Json(json!(domain))))
}

#[utoipa::path(
    get,
    path = "/api/v1/domains/{name}",
    tag = "domains",
    summary = "One domain",
    params(("name" = String, Path)),
    responses((status = 200, description = "the domain"), (status = 404, description = "not in scope"))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = visible(&state, &scope, &name).await?;
    Ok(Json(json!(state.directory.domain(&name).await?)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/domains/{name}",
    tag = "domains",
    summary = "Delete a domain (MasterAdmin; force to delete its contents)",
    params(("name" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 409, description = "still has accounts"))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(force): Query<Force>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = visible(&state, &scope, &name).await?;
    scope.require_master()?;
    state.directory.remove_domain(&name, force.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/domains/{name}/{action}",
    tag = "domains",
    summary = "Suspend or resume a domain (action: suspend|resume)",
    params(("name" = String, Path), ("action" = String, Path)),
    responses((status = 200, description = "the domain"))
)]
pub async fn suspend(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, action)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = visible(&state, &scope, &name).await?;
    scope.require_master()?;
    let suspended = match action.as_str() {
        "suspend" => true,
        "resume" => false,
        _ => return Err(not_found("action")),
    };
    let domain = state
        .directory
        .set_domain_suspended(&name, suspended)
        .await?;
    Ok(Json(json!(domain)))
}

/// The records the domain's owner publishes (MX, SPF, DKIM, DMARC, SRV).
#[utoipa::path(
    get,
    path = "/api/v1/domains/{name}/dns",
    tag = "domains",
    summary = "The DNS records to publish",
    params(("name" = String, Path)),
    responses((status = 200, description = "records"))
)]
pub async fn dns(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = visible(&state, &scope, &name).await?;
    let records = state.directory.dns_records(&name, &state.hostname).await?;
    Ok(Json(json!({ "records": records })))
}

/// The domain's DKIM keys (public parts): what outgoing mail is signed
/// with, one signature per key.
#[utoipa::path(get, path = "/api/v1/domains/{name}/dkim", tag = "domains",
    summary = "The domain's DKIM keys (selector, algorithm, public key)",
    params(("name" = String, Path)), responses((status = 200, description = "keys")))]
pub async fn dkim(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = visible(&state, &scope, &name).await?;
    let keys = state.directory.dkim_keys(&name).await?;
    Ok(Json(json!({ "items": keys })))
}

/// A domain's limits (`null`: none).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    max_accounts: Option<u32>,
    max_aliases: Option<u32>,
    max_storage_bytes: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/domains/{name}/limits", tag = "domains",
    summary = "A domain's limits and what it uses of them", params(("name" = String, Path)),
    responses((status = 200, description = "limits and usage")))]
pub async fn limits(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = visible(&state, &scope, &name).await?;
    Ok(Json(json!(state.directory.domain_limits(&name).await?)))
}

#[utoipa::path(put, path = "/api/v1/domains/{name}/limits", tag = "domains",
    summary = "Set a domain's limits (MasterAdmin)", params(("name" = String, Path)),
    request_body = Limits, responses((status = 200, description = "limits and usage")))]
pub async fn set_limits(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<Limits>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = visible(&state, &scope, &name).await?;
    scope.require_master()?;
    let view = state
        .directory
        .set_domain_limits(
            &name,
            mailroom_core::store::DomainLimits {
                max_accounts: body.max_accounts,
                max_aliases: body.max_aliases,
                max_storage_bytes: body.max_storage_bytes,
            },
        )
        .await?;
    Ok(Json(json!(view)))
}
