//! `/api/v1/spam`: the spam check tool (a raw message in, the score and
//! every rule out, nothing delivered), training from a stored message,
//! and the rules' scores (MasterAdmins change them).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mailroom_core::spam::ScoreTable;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{usable, writable};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scope::{Scope, not_found};

/// Messages larger than this are not checked (the API is not a mail
/// transport).
pub const MAX_CHECKED: usize = 10 * 1024 * 1024;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CheckQuery {
    /// Judge with this domain's thresholds (one the caller administers).
    domain: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/spam/check", tag = "spam",
    summary = "Score a raw message (RFC 5322) without delivering it",
    params(CheckQuery), request_body(content = String, content_type = "message/rfc822"),
    responses((status = 200, description = "score, verdict, every rule that fired and the classifier's strongest clues each way")))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<CheckQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    if body.is_empty() || body.len() > MAX_CHECKED {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "send the raw message (at most 10 MB) as the request body",
        ));
    }
    let domain = match query.domain.as_deref().map(str::to_ascii_lowercase) {
        Some(d) => {
            let scope = Scope::of(&state.directory, &caller.0.account).await?;
            if !scope.admin_of(&d) {
                return Err(not_found("domain"));
            }
            Some(d)
        }
        None => None,
    };
    let checked = state.mail.check_message(&body, domain.as_deref()).await?;
    let t = checked.thresholds;
    let tests: Vec<Value> = checked
        .report
        .tests
        .iter()
        .map(|(tag, score)| json!({ "tag": tag, "score": score, "description": mailroom_spam::scores::describe(tag) }))
        .collect();
    Ok(Json(json!({
        "score": checked.report.score,
        "verdict": checked.verdict.as_str(),
        "thresholds": { "greylist": t.greylist, "junk": t.junk, "reject": t.reject },
        "bayes": checked.report.bayes,
        "tests": tests,
        "clues": { "spam": checked.spam_clues, "ham": checked.ham_clues },
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// `spam` or `ham`.
    #[serde(rename = "as")]
    class: String,
}

#[utoipa::path(post, path = "/api/v1/accounts/{email}/mailboxes/{mailbox}/messages/{uid}/train",
    tag = "spam", summary = "Train the classifier with a stored message as spam or ham",
    params(("email" = String, Path), ("mailbox" = String, Path), ("uid" = u32, Path)),
    request_body = Training, responses((status = 200, description = "{trained: bool}")))]
pub async fn train(
    State(state): State<AppState>,
    caller: Caller,
    Path((email, mailbox, uid)): Path<(String, String, u32)>,
    Json(body): Json<Training>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    let as_spam = match body.class.as_str() {
        "spam" => true,
        "ham" => false,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                "as: spam or ham",
            ));
        }
    };
    let account = super::accounts::own_or_managed(&state, &caller, &email).await?;
    let trained = state
        .mail
        .train_stored(&account, &mailbox, uid, as_spam)
        .await
        .map_err(|_| not_found("message"))?;
    Ok(Json(json!({ "trained": trained })))
}

#[utoipa::path(get, path = "/api/v1/spam/scores", tag = "spam",
    summary = "Every rule with its score, default and meaning (administrators)",
    responses((status = 200, description = "rules")))]
pub async fn scores(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    usable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_admin()?;
    let table = ScoreTable::new(state.mail.score_overrides().await?);
    let items: Vec<Value> = mailroom_spam::scores::DEFAULTS
        .iter()
        .map(|(tag, default, about)| {
            json!({ "tag": tag, "score": table.score(tag), "default": default, "description": about })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScore {
    /// The new score, or `null` for the default.
    score: Option<f64>,
}

#[utoipa::path(put, path = "/api/v1/spam/scores/{tag}", tag = "spam",
    summary = "Change a rule's score (MasterAdmin; null restores the default)",
    params(("tag" = String, Path)), request_body = NewScore,
    responses((status = 200, description = "the rule")))]
pub async fn set_score(
    State(state): State<AppState>,
    caller: Caller,
    Path(tag): Path<String>,
    Json(body): Json<NewScore>,
) -> Result<Json<Value>, ApiError> {
    writable(&caller)?;
    Scope::of(&state.directory, &caller.0.account)
        .await?
        .require_master()?;
    let tag = tag.to_ascii_uppercase();
    if !ScoreTable::is_known(&tag) {
        return Err(not_found("rule"));
    }
    if body
        .score
        .is_some_and(|s| !s.is_finite() || s.abs() > 100.0)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "score: a number between -100 and 100, or null for the default",
        ));
    }
    state.mail.set_score_override(&tag, body.score).await?;
    let table = ScoreTable::new(state.mail.score_overrides().await?);
    Ok(Json(
        json!({ "tag": tag, "score": table.score(&tag), "description": mailroom_spam::scores::describe(&tag) }),
    ))
}
