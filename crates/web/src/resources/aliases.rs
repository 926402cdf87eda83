//! `/api/v1/aliases`

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mailroom_core::address::domain_of;
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
pub struct NewAlias {
    source: String,
    destinations: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/aliases",
    tag = "aliases",
    summary = "Aliases in scope (paginated, ?domain=)",
    responses((status = 200, description = "a page of aliases"))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    scope.may_list(query.domain.as_deref())?;
    let aliases: Vec<_> = state
        .directory
        .list_aliases(query.domain.as_deref())
        .await?
        .into_iter()
        .filter(|a| scope.admin_of(domain_of(&a.source)))
        .collect();
    Ok(Json(page(aliases, &query)))
}

#[utoipa::path(
    post,
    path = "/api/v1/aliases",
    tag = "aliases",
    summary = "Add an alias (or destinations to one)",
    request_body = NewAlias,
    responses((status = 201, description = "the alias"))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewAlias>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    writable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    scope.require_admin()?;
    if !scope.admin_of(&domain_of(&body.source).to_ascii_lowercase()) {
        return Err(not_found("domain"));
    }
    let alias = state
        .directory
        .add_alias(&body.source, &body.destinations)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(alias))))
}

#[utoipa::path(
    delete,
    path = "/api/v1/aliases/{source}",
    tag = "aliases",
    summary = "Delete an alias",
    params(("source" = String, Path)),
    responses((status = 204, description = "deleted"))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(source): Path<String>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let source = source.to_lowercase();
    if !scope.admin_of(domain_of(&source)) {
        return Err(not_found("alias"));
    }
    state
        .directory
        .alias(&source)
        .await
        .map_err(|_| not_found("alias"))?;
    state.directory.remove_alias(&source).await?;
    Ok(StatusCode::NO_CONTENT)
}
