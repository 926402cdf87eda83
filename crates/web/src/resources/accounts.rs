//! `/api/v1/accounts`

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mailroom_core::address::domain_of;
use mailroom_core::directory::{AccountSettings, NewAccountRequest, PasswordInput};
use mailroom_core::store::{Account, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::page::{ListQuery, page};
use crate::scope::{Scope, forbidden, not_found};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    email: String,
    password: String,
    /// `master-admin`, `domain-admin` or `mail-user` (the default).
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
    quota_bytes: Option<u64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    enabled: Option<bool>,
    api_access: Option<bool>,
    /// `null` removes the quota; absent leaves it.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<u64>)]
    quota_bytes: Option<Option<u64>>,
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
}

fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Force {
    #[serde(default)]
    force: bool,
}

/// The account, if the caller may see it.
pub(super) async fn visible(
    state: &AppState,
    scope: &Scope,
    email: &str,
) -> Result<Account, ApiError> {
    let email = email.to_lowercase();
    if !scope.sees_account(&email) {
        return Err(not_found("account"));
    }
    state
        .directory
        .account(&email)
        .await
        .map_err(|_| not_found("account"))
}

/// Administrators manage accounts in their scope; a DomainAdmin only
/// MailUsers (not other admins, not itself).
fn manages(scope: &Scope, caller: &Account, target: &Account) -> Result<(), ApiError> {
    if !scope.admin_of(domain_of(&target.email)) {
        return Err(forbidden("only an administrator of the domain may do this"));
    }
    if !scope.is_master() && (target.role != Role::MailUser || target.id == caller.id) {
        return Err(forbidden("a DomainAdmin manages MailUsers only"));
    }
    Ok(())
}

/// The account itself, or one the caller manages (a DomainAdmin only
/// MailUsers, never another administrator of its domain).
pub(super) async fn own_or_managed(
    state: &AppState,
    caller: &Caller,
    email: &str,
) -> Result<Account, ApiError> {
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let target = visible(state, &scope, email).await?;
    if target.id != caller.0.account.id {
        manages(&scope, &caller.0.account, &target)?;
    }
    Ok(target)
}

/// A change to an account: the caller's scope and the account, if the
/// caller may make it.
pub(super) async fn managed(
    state: &AppState,
    caller: &Caller,
    email: &str,
) -> Result<(Scope, Account), ApiError> {
    writable(caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let target = visible(state, &scope, email).await?;
    manages(&scope, &caller.0.account, &target)?;
    Ok((scope, target))
}

fn shown(account: &Account) -> Value {
    json!(account)
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    tag = "accounts",
    summary = "Accounts in scope (paginated, ?domain=)",
    responses((status = 200, description = "a page of accounts"))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    scope.may_list(query.domain.as_deref())?;
    let accounts: Vec<Value> = state
        .directory
        .list_accounts(query.domain.as_deref())
        .await?
        .iter()
        .filter(|a| scope.sees_account(&a.email))
        .map(shown)
        .collect();
    Ok(Json(page(accounts, &query)))
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    summary = "Add an account",
    request_body = NewAccount,
    responses((status = 201, description = "created"))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewAccount>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    writable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    scope.require_admin()?;
    let email = body.email.to_lowercase();
    if !scope.admin_of(domain_of(&email)) {
        return Err(not_found("domain"));
    }
    let role = body.role.unwrap_or(Role::MailUser);
    if !scope.is_master() && role != Role::MailUser {
        return Err(forbidden("a DomainAdmin creates MailUsers only"));
    }
    let account = state
        .directory
        .add_account(NewAccountRequest {
            email,
            password: PasswordInput::Plain(body.password),
            role,
            quota_bytes: body.quota_bytes,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(shown(&account))))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/{email}",
    tag = "accounts",
    summary = "One account",
    params(("email" = String, Path)),
    responses((status = 200, description = "the account"), (status = 404, description = "not in scope"))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    Ok(Json(shown(&visible(&state, &scope, &email).await?)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/accounts/{email}",
    tag = "accounts",
    summary = "Change flags, role or quota",
    request_body = Change,
    params(("email" = String, Path)),
    responses((status = 200, description = "the account"))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    Json(change): Json<Change>,
) -> Result<Json<Value>, ApiError> {
    let (scope, target) = managed(&state, &caller, &email).await?;
    if !scope.is_master() && change.role.is_some_and(|r| r != Role::MailUser) {
        return Err(forbidden("only a MasterAdmin may give administrator roles"));
    }
    let updated = state
        .directory
        .update_account(
            &target.email,
            AccountSettings {
                enabled: change.enabled,
                api_access: change.api_access,
                quota_bytes: change.quota_bytes,
                role: change.role,
                pop3_delete: None,
            },
        )
        .await?;
    Ok(Json(shown(&updated)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/accounts/{email}",
    tag = "accounts",
    summary = "Delete an account",
    params(("email" = String, Path)),
    responses((status = 204, description = "deleted"))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    Query(force): Query<Force>,
) -> Result<StatusCode, ApiError> {
    let (_, target) = managed(&state, &caller, &email).await?;
    state
        .directory
        .remove_account(&target.email, force.force)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An administrator sets a new password (the user forgot theirs, or it
/// leaked): the account's sessions end and its API keys and device
/// passwords are revoked, as whoever knew the old password could have made
/// them.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{email}/password",
    tag = "accounts",
    summary = "Set a new password (administrators); ends sessions, revokes API keys and device passwords",
    request_body = NewPassword,
    params(("email" = String, Path)),
    responses((status = 204, description = "set"))
)]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    Json(body): Json<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let (_, target) = managed(&state, &caller, &email).await?;
    state
        .directory
        .set_password(&target.email, PasswordInput::Plain(body.password))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An administrator turns 2FA off for a user who lost the device.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{email}/reset-2fa",
    tag = "accounts",
    summary = "Turn 2FA off (administrators)",
    params(("email" = String, Path)),
    responses((status = 204, description = "reset"))
)]
pub async fn reset_two_factor(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (_, target) = managed(&state, &caller, &email).await?;
    state.directory.totp_reset(&target.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a blocked account send again, once it is safe (see
/// `Directory::unblock_sending`).
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{email}/unblock-sending",
    tag = "accounts",
    summary = "Lift a block on sending (administrators; needs a new password and 2FA)",
    params(("email" = String, Path)),
    responses((status = 204, description = "unblocked"), (status = 409, description = "not blocked, or not safe yet"))
)]
pub async fn unblock_sending(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (_, target) = managed(&state, &caller, &email).await?;
    state
        .directory
        .unblock_sending(&target.email, &caller.0.account.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
