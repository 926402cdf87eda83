//! The caller's own account: 2FA enrolment (secret, otpauth:// URI and
//! QR code), confirmation with a code (recovery codes shown once), and
//! turning it off. An account re-enabled after the 2FA policy may use
//! these and nothing else.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::resources::key_may_write;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /api/v1/me/2fa/setup`
#[utoipa::path(
    post,
    path = "/api/v1/me/2fa/setup",
    tag = "me",
    summary = "Start 2FA enrolment: secret, URI, QR code (SVG)",
    responses((status = 200, description = "enrolment"), (status = 409, description = "2FA already on"))
)]
pub async fn totp_setup(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    key_may_write(&caller)?;
    let enrolment = state
        .directory
        .totp_setup(&caller.0.account.email, &state.hostname)
        .await?;
    Ok(Json(json!({
        "secret": enrolment.secret,
        "uri": enrolment.uri,
        "qr_svg": enrolment.qr_svg,
    })))
}

/// `GET /api/v1/me/2fa/qr.png`: the QR code of the enrolment under way.
#[utoipa::path(
    get,
    path = "/api/v1/me/2fa/qr.png",
    tag = "me",
    summary = "The enrolment's QR code as PNG",
    responses((status = 200, description = "image/png"), (status = 404, description = "no_enrolment"))
)]
pub async fn totp_qr_png(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let Some(enrolment) = state
        .directory
        .totp_pending(&caller.0.account.email, &state.hostname)
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_enrolment",
            "no 2FA setup is under way; start one first",
        ));
    };
    let png = enrolment.qr_png()?;
    Ok(([(CONTENT_TYPE, "image/png")], png).into_response())
}

/// `POST /api/v1/me/2fa/confirm {code}`
#[utoipa::path(
    post,
    path = "/api/v1/me/2fa/confirm",
    tag = "me",
    summary = "Turn 2FA on with a code; recovery codes",
    request_body = CodeBody,
    responses((status = 200, description = "recovery codes"), (status = 400, description = "code does not match"))
)]
pub async fn totp_confirm(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    key_may_write(&caller)?;
    let codes = state
        .directory
        .totp_confirm(&caller.0.account.email, &body.code)
        .await?;
    Ok(Json(json!({ "recovery_codes": codes })))
}

/// `POST /api/v1/me/2fa/disable {code}`
#[utoipa::path(
    post,
    path = "/api/v1/me/2fa/disable",
    tag = "me",
    summary = "Turn 2FA off with a code",
    request_body = CodeBody,
    responses((status = 204, description = "off"), (status = 400, description = "code does not match"))
)]
pub async fn totp_disable(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CodeBody>,
) -> Result<StatusCode, ApiError> {
    key_may_write(&caller)?;
    state
        .directory
        .totp_disable(&caller.0.account.email, &body.code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/me/2fa/recovery-codes",
    tag = "me",
    summary = "New recovery codes in place of the old ones, with a code",
    request_body = CodeBody,
    responses((status = 200, description = "{recovery_codes}, shown this once"), (status = 400, description = "code does not match"))
)]
pub async fn recovery_codes(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    key_may_write(&caller)?;
    let codes = state
        .directory
        .recovery_codes_renew(&caller.0.account.email, &body.code)
        .await?;
    Ok(Json(json!({ "recovery_codes": codes })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current: String,
    new: String,
}

/// `POST /api/v1/me/password {current, new}`: other sessions end.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "me",
    summary = "Change the own password (other sessions end)",
    request_body = PasswordBody,
    responses((status = 204, description = "changed"), (status = 400, description = "wrong current password or policy"))
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Json(body): Json<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    crate::resources::writable(&caller)?;
    let keep = crate::auth::token_from(&headers);
    state
        .directory
        .change_own_password(
            &caller.0.account.email,
            &body.current,
            &body.new,
            keep.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
