//! `/api/v1/stats`: per-domain counts and blocked senders for the
//! domains' administrators, and the abuse settings (MasterAdmins).

use axum::Json;
use axum::extract::{Path, Query, State};
use mailroom_core::abuse::AbuseSettings;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::page::{ListQuery, page};
use crate::scope::{Scope, not_found};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Period {
    /// Days back from today, today included (default 7, at most 366).
    days: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/stats", tag = "stats",
    summary = "Totals per domain in the caller's scope over a period (paginated)",
    params(Period), responses((status = 200, description = "a page of domain totals")))]
pub async fn overview(
    State(state): State<AppState>,
    caller: Caller,
    Query(period): Query<Period>,
    Query(list): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    scope.may_list(list.domain.as_deref())?;
    let days = period.days.unwrap_or(7);
    let mut rows = Vec::new();
    for domain in state.directory.list_domains().await? {
        let wanted = list
            .domain
            .as_deref()
            .is_none_or(|d| d.eq_ignore_ascii_case(&domain.name));
        if scope.admin_of(&domain.name) && wanted {
            let mut stats = state.directory.domain_stats(&domain.name, days).await?;
            stats.days.clear();
            rows.push(json!({
                "domain": stats.domain, "accounts": stats.accounts, "aliases": stats.aliases,
                "storage_bytes": stats.storage_bytes, "blocked_senders": stats.blocked_senders,
                "received": stats.received, "sent": stats.sent, "rejected": stats.rejected,
            }));
        }
    }
    Ok(Json(page(rows, &list)))
}

#[utoipa::path(get, path = "/api/v1/domains/{name}/stats", tag = "stats",
    summary = "A domain's counts per day", params(("name" = String, Path), Period),
    responses((status = 200, description = "accounts, storage and mail per day")))]
pub async fn domain(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(period): Query<Period>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    let name = name.to_ascii_lowercase();
    if !scope.admin_of(&name) {
        return Err(not_found("domain"));
    }
    let stats = state
        .directory
        .domain_stats(&name, period.days.unwrap_or(7))
        .await
        .map_err(|_| not_found("domain"))?;
    Ok(Json(json!(stats)))
}

#[utoipa::path(get, path = "/api/v1/stats/blocked-senders", tag = "stats",
    summary = "Accounts blocked from sending, with reason and evidence (paginated, ?domain=)",
    responses((status = 200, description = "a page of blocks")))]
pub async fn blocked_senders(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    let scope = Scope::of(&state.directory, &caller.0.account).await?;
    scope.may_list(query.domain.as_deref())?;
    let domain = query.domain.as_deref().map(str::to_ascii_lowercase);
    let blocks: Vec<_> = state
        .directory
        .sending_blocks(domain.as_deref())
        .await?
        .into_iter()
        .filter(|b| scope.admin_of(mailroom_core::address::domain_of(&b.email)))
        .collect();
    Ok(Json(page(blocks, &query)))
}

/// When accounts get blocked from sending.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbuseLimits {
    /// Outbound messages refused as spam within an hour (default 3).
    spam_refusals_per_hour: u32,
    /// More submissions than this refused by the sending limit within an
    /// hour (default 100).
    limit_refusals_per_hour: u32,
    /// More hard bounces than this percentage of a day's recipients
    /// (default 30) ...
    bounce_percent: u32,
    /// ... once the day has this many recipients (default 20).
    bounce_min_recipients: u32,
}

#[utoipa::path(get, path = "/api/v1/abuse/settings", tag = "stats",
    summary = "When accounts are blocked from sending (MasterAdmin)",
    responses((status = 200, description = "the settings", body = AbuseLimits)))]
pub async fn abuse_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    Ok(Json(json!(state.directory.abuse_settings().await?)))
}

#[utoipa::path(put, path = "/api/v1/abuse/settings", tag = "stats",
    summary = "Change when accounts are blocked from sending (MasterAdmin)",
    request_body = AbuseLimits, responses((status = 200, description = "the settings")))]
pub async fn set_abuse_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<AbuseLimits>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    let settings = AbuseSettings {
        spam_refusals_per_hour: body.spam_refusals_per_hour,
        limit_refusals_per_hour: body.limit_refusals_per_hour,
        bounce_percent: body.bounce_percent,
        bounce_min_recipients: body.bounce_min_recipients,
    };
    state.directory.set_abuse_settings(settings).await?;
    Ok(Json(json!(settings)))
}
