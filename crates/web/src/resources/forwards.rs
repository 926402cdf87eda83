//! `/api/v1/accounts/{email}/forwards`: a user's own, or those of the
//! accounts an administrator manages.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Forwards {
    destinations: Vec<String>,
    #[serde(default = "yes")]
    keep_copy: bool,
}

fn yes() -> bool {
    true
}

async fn allowed(state: &AppState, caller: &Caller, email: &str) -> Result<String, ApiError> {
    Ok(super::accounts::own_or_managed(state, caller, email)
        .await?
        .email)
}

fn shown(email: &str, forwarding: Option<mailroom_core::store::Forwarding>) -> Value {
    match forwarding {
        Some(f) => json!(f),
        None => json!({ "account": email, "destinations": [], "keep_copy": true }),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/{email}/forwards",
    tag = "forwards",
    summary = "An account's forwards",
    params(("email" = String, Path)),
    responses((status = 200, description = "forwards"))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let email = allowed(&state, &caller, &email).await?;
    let forwarding = state.directory.forwards(&email).await?;
    Ok(Json(shown(&email, forwarding)))
}

#[utoipa::path(
    put,
    path = "/api/v1/accounts/{email}/forwards",
    tag = "forwards",
    summary = "Replace an account's forwards",
    request_body = Forwards,
    params(("email" = String, Path)),
    responses((status = 200, description = "forwards"))
)]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    Json(body): Json<Forwards>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    let email = allowed(&state, &caller, &email).await?;
    let forwarding = state
        .directory
        .set_forwards(&email, &body.destinations, body.keep_copy)
        .await?;
    Ok(Json(shown(&email, forwarding)))
}
