//! Sending limits over the API: the global ones (MasterAdmins change
//! them) and an account's, with what it has used (its administrators
//! change them; the user may read its own).

use axum::Json;
use axum::extract::{Path, State};
use mailroom_core::store::{SendClass, SendLimit};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scope::Scope;

/// Each limit as text (`200/60s`, `50/3.6m`), or `"default"` to fall back
/// to the global value (for an account) or the built-in one.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    local: Option<String>,
    external: Option<String>,
    per_ip: Option<String>,
}

fn changes(body: Limits) -> Result<Vec<(SendClass, Option<SendLimit>)>, ApiError> {
    let mut out = Vec::new();
    for (class, text) in [
        (SendClass::Local, body.local),
        (SendClass::External, body.external),
        (SendClass::PerIp, body.per_ip),
    ] {
        let Some(text) = text else { continue };
        let limit = if text.eq_ignore_ascii_case("default") {
            None
        } else {
            Some(
                text.parse()
                    .map_err(|e: String| ApiError::from(mailroom_core::CoreError::Invalid(e)))?,
            )
        };
        out.push((class, limit));
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/sending-limits", tag = "sending",
    summary = "Global sending limits", responses((status = 200, description = "limits")))]
pub async fn global(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_admin()?;
    Ok(Json(
        json!({ "items": state.directory.global_sending_limits().await? }),
    ))
}

#[utoipa::path(put, path = "/api/v1/sending-limits", tag = "sending",
    summary = "Change global sending limits (MasterAdmin)", request_body = Limits,
    responses((status = 200, description = "limits")))]
pub async fn set_global(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Limits>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    for (class, limit) in changes(body)? {
        state
            .directory
            .set_sending_limit(None, class, limit)
            .await?;
    }
    Ok(Json(
        json!({ "items": state.directory.global_sending_limits().await? }),
    ))
}

#[utoipa::path(get, path = "/api/v1/accounts/{email}/sending", tag = "sending",
    summary = "An account's sending limits and use", params(("email" = String, Path)),
    responses((status = 200, description = "limits and use")))]
pub async fn account(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let email = super::accounts::visible(&state, &scope, &email)
        .await?
        .email;
    let limits = state.directory.sending_limits(&email).await?;
    Ok(Json(json!({ "items": limits })))
}

#[utoipa::path(put, path = "/api/v1/accounts/{email}/sending", tag = "sending",
    summary = "Change an account's sending limits (its administrators)",
    params(("email" = String, Path)), request_body = Limits,
    responses((status = 200, description = "limits and use")))]
pub async fn set_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    Json(body): Json<Limits>,
) -> Result<Json<Value>, ApiError> {
    // A DomainAdmin sets the limits of its MailUsers, not its own nor
    // another administrator's.
    let (_, account) = super::accounts::managed(&state, &caller, &email).await?;
    let email = account.email;
    for (class, limit) in changes(body)? {
        if class == SendClass::PerIp {
            return Err(ApiError::from(mailroom_core::CoreError::Invalid(
                "per_ip: the per-address limit is global only".into(),
            )));
        }
        state
            .directory
            .set_sending_limit(Some(&email), class, limit)
            .await?;
    }
    Ok(Json(
        json!({ "items": state.directory.sending_limits(&email).await? }),
    ))
}
