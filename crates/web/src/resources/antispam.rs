//! Antispam settings as data: thresholds and allow/block lists, global
//! (`/api/v1/antispam/...`: MasterAdmins change them, administrators read
//! them) and per domain (`/api/v1/domains/{name}/antispam/...`: the
//! domain's administrators).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mailroom_core::store::SpamThresholds;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scope::{Scope, not_found};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    greylist: f64,
    junk: f64,
    reject: f64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `domain`, `email` or `ip` (address or CIDR).
    kind: String,
    value: String,
}

/// The caller's scope, checked for the domain (or, for the global
/// settings, `write` needs a MasterAdmin and reading an administrator).
async fn allowed(
    state: &AppState,
    caller: &Caller,
    domain: Option<&str>,
    write: bool,
) -> Result<Option<String>, ApiError> {
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    match domain {
        Some(name) => {
            let name = name.to_ascii_lowercase();
            if !scope.admin_of(&name) || state.directory.domain(&name).await.is_err() {
                return Err(not_found("domain"));
            }
            Ok(Some(name))
        }
        None if write => scope.require_master().map(|()| None),
        None => scope.require_admin().map(|()| None),
    }
}

async fn read_thresholds(state: &AppState, domain: Option<&str>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.directory.spam_thresholds(domain).await?)))
}

async fn write_thresholds(
    state: &AppState,
    domain: Option<&str>,
    body: Thresholds,
) -> Result<Json<Value>, ApiError> {
    let t = SpamThresholds {
        greylist: body.greylist,
        junk: body.junk,
        reject: body.reject,
    };
    Ok(Json(json!(
        state.directory.set_spam_thresholds(domain, Some(t)).await?
    )))
}

#[utoipa::path(get, path = "/api/v1/antispam/thresholds", tag = "antispam",
    summary = "Global spam thresholds (greylist, junk, reject; 999 = off)",
    responses((status = 200, description = "thresholds and where they come from")))]
pub async fn global_thresholds(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    allowed(&state, &caller, None, false).await?;
    read_thresholds(&state, None).await
}

#[utoipa::path(put, path = "/api/v1/antispam/thresholds", tag = "antispam",
    summary = "Set the global thresholds (MasterAdmin)", request_body = Thresholds,
    responses((status = 200, description = "thresholds"), (status = 400, description = "out of order or range")))]
pub async fn set_global_thresholds(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Thresholds>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    allowed(&state, &caller, None, true).await?;
    write_thresholds(&state, None, body).await
}

#[utoipa::path(get, path = "/api/v1/domains/{name}/antispam/thresholds", tag = "antispam",
    summary = "A domain's spam thresholds", params(("name" = String, Path)),
    responses((status = 200, description = "thresholds and where they come from")))]
pub async fn domain_thresholds(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let domain = allowed(&state, &caller, Some(&name), false).await?;
    read_thresholds(&state, domain.as_deref()).await
}

#[utoipa::path(put, path = "/api/v1/domains/{name}/antispam/thresholds", tag = "antispam",
    summary = "Set a domain's spam thresholds", params(("name" = String, Path)),
    request_body = Thresholds,
    responses((status = 200, description = "thresholds"), (status = 400, description = "out of order or range")))]
pub async fn set_domain_thresholds(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<Thresholds>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    let domain = allowed(&state, &caller, Some(&name), true).await?;
    write_thresholds(&state, domain.as_deref(), body).await
}

#[utoipa::path(get, path = "/api/v1/antispam/lists/{list}", tag = "antispam",
    summary = "The global allow or block list", params(("list" = String, Path)),
    responses((status = 200, description = "entries")))]
pub async fn global_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(list): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    allowed(&state, &caller, None, false).await?;
    Ok(Json(
        json!({ "items": state.directory.spam_list(None, &list).await? }),
    ))
}

#[utoipa::path(post, path = "/api/v1/antispam/lists/{list}", tag = "antispam",
    summary = "Add to the global allow or block list (MasterAdmin)",
    params(("list" = String, Path)), request_body = Entry,
    responses((status = 201, description = "the entry, with a warning for risky ones")))]
pub async fn add_global(
    State(state): State<AppState>,
    caller: Caller,
    Path(list): Path<String>,
    Json(body): Json<Entry>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    writable(&caller)?;
    allowed(&state, &caller, None, true).await?;
    let change = state
        .directory
        .add_spam_list_entry(None, &list, &body.kind, &body.value)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(change))))
}

#[utoipa::path(delete, path = "/api/v1/antispam/lists/{list}/{kind}/{value}", tag = "antispam",
    summary = "Remove from the global allow or block list (MasterAdmin)",
    params(("list" = String, Path), ("kind" = String, Path), ("value" = String, Path)),
    responses((status = 204, description = "removed")))]
pub async fn remove_global(
    State(state): State<AppState>,
    caller: Caller,
    Path((list, kind, value)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    allowed(&state, &caller, None, true).await?;
    state
        .directory
        .remove_spam_list_entry(None, &list, &kind, &value)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/domains/{name}/antispam/lists/{list}", tag = "antispam",
    summary = "A domain's allow or block list",
    params(("name" = String, Path), ("list" = String, Path)),
    responses((status = 200, description = "entries")))]
pub async fn domain_list(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, list)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let domain = allowed(&state, &caller, Some(&name), false).await?;
    Ok(Json(json!({
        "items": state.directory.spam_list(domain.as_deref(), &list).await?
    })))
}

#[utoipa::path(post, path = "/api/v1/domains/{name}/antispam/lists/{list}", tag = "antispam",
    summary = "Add to a domain's allow or block list",
    params(("name" = String, Path), ("list" = String, Path)), request_body = Entry,
    responses((status = 201, description = "the entry, with a warning for risky ones")))]
pub async fn add_domain_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, list)): Path<(String, String)>,
    Json(body): Json<Entry>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    writable(&caller)?;
    let domain = allowed(&state, &caller, Some(&name), true).await?;
    let change = state
        .directory
        .add_spam_list_entry(domain.as_deref(), &list, &body.kind, &body.value)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(change))))
}

#[utoipa::path(delete, path = "/api/v1/domains/{name}/antispam/lists/{list}/{kind}/{value}",
    tag = "antispam", summary = "Remove from a domain's allow or block list",
    params(("name" = String, Path), ("list" = String, Path), ("kind" = String, Path), ("value" = String, Path)),
    responses((status = 204, description = "removed")))]
pub async fn remove_domain_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, list, kind, value)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    writable(&caller)?;
    let domain = allowed(&state, &caller, Some(&name), true).await?;
    state
        .directory
        .remove_spam_list_entry(domain.as_deref(), &list, &kind, &value)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
