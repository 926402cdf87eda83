//! Logging in to the portal and the API: `POST /api/v1/auth/login` gives
//! a session (a bearer token, and the same token as an HttpOnly cookie
//! for the portal), `POST /api/v1/auth/logout` ends it, and [`Caller`]
//! authorises every other request from a session or an API key.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use mailroom_core::security::{Authorized, Denial, LoginRequest, Protocol, Unauthorized};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;

const COOKIE_NAME: &str = "mailroom_session";
/// Cookie-authenticated writes must carry this header (CSRF defence).
const CSRF_HEADER: &str = "x-mailroom-csrf";

/// The client's address, set for each connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
    totp: Option<String>,
}

/// `POST /api/v1/auth/login`
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    summary = "Log in: a session token (and cookie)",
    request_body = LoginBody,
    responses((status = 200, description = "logged in: token and account"), (status = 401, description = "authentication_error, totp_required or totp_invalid"), (status = 403, description = "api_access_disabled"), (status = 429, description = "too_many_failures"))
)]
pub async fn login(
    State(state): State<AppState>,
    axum::Extension(Peer(peer)): axum::Extension<Peer>,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let request = LoginRequest {
        email: &body.username,
        secret: &body.password,
        code: body.totp.as_deref(),
        protocol: Protocol::Portal,
        ip: peer.ip(),
    };
    let login = match state.directory.login(request).await? {
        Ok(login) => login,
        Err(denial) => return Err(refusal(&denial, state.directory.store().now())),
    };
    let token = state
        .directory
        .start_session(&login, &peer.ip().to_string())
        .await?;
    let account = &login.account;
    let enrol_only = account.must_enroll && !account.two_factor;
    let mut response = Json(json!({
        "token": token,
        "account": {
            "email": account.email,
            "role": account.role,
            "two_factor": account.two_factor,
            "enrol_only": enrol_only,
        },
    }))
    .into_response();
    let cookie = format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; Secure; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

/// At login and for an open session alike.
fn api_access_disabled() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "api_access_disabled",
        "API access is disabled for this account (mail programs still work); ask an administrator to turn it on",
    )
}

/// The answer to a refused login: one message for every wrong
/// credential; the specific ones only after a right password.
fn refusal(denial: &Denial, now: i64) -> ApiError {
    match denial {
        Denial::ApiAccessDisabled => api_access_disabled(),
        Denial::CodeRequired { given: false } => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "totp_required",
            "Enter the 6-digit code from your authenticator app (or a recovery code)",
        ),
        Denial::CodeRequired { given: true } => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "totp_invalid",
            "That code is not valid: codes change every 30 seconds and each works only once",
        ),
        Denial::Banned { until } => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                "Too many failed logins from your address; try again later",
            );
            e.retry_after = Some((until - now).max(1));
            e
        }
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "Authentication error",
        ),
    }
}

/// `POST /api/v1/auth/logout`
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    summary = "End the session",
    responses((status = 204, description = "logged out"))
)]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = token_from(&headers)
        && let Err(error) = state.directory.end_session(&token).await
    {
        tracing::error!(%error, "logout failed");
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let clear = format!("{COOKIE_NAME}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// A bearer token, or the session cookie.
pub(crate) fn token_from(headers: &HeaderMap) -> Option<String> {
    bearer(headers).or_else(|| cookie(headers))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    Some(value.strip_prefix("Bearer ")?.trim().to_string())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE_NAME && !value.is_empty()).then(|| value.to_string())
        })
}

/// The authorised caller of a request.
pub struct Caller(pub Authorized);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A browser sends the cookie on any site's request; a custom
        // header it sends only for our own pages' scripts (no CORS here).
        if bearer(&parts.headers).is_none()
            && cookie(&parts.headers).is_some()
            && !matches!(parts.method, Method::GET | Method::HEAD)
            && !parts.headers.contains_key(CSRF_HEADER)
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "this request needs the X-Mailroom-CSRF header (cross-site requests are refused)",
            ));
        }
        let Some(token) = token_from(&parts.headers) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_authorization",
                "Invalid authorization: please log in",
            ));
        };
        match state.directory.authorize(&token).await? {
            Ok(authorized) => Ok(Caller(authorized)),
            Err(Unauthorized::Invalid(message)) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_authorization",
                message,
            )),
            Err(Unauthorized::ApiAccessDisabled) => Err(api_access_disabled()),
        }
    }
}

/// `GET /api/v1/me`
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    summary = "The caller's account",
    responses((status = 200, description = "the account"), (status = 401, description = "invalid_authorization"))
)]
pub async fn me(Caller(caller): Caller) -> Json<serde_json::Value> {
    let a = &caller.account;
    Json(json!({
        "email": a.email,
        "role": a.role,
        "enabled": a.enabled,
        "api_access": a.api_access,
        "two_factor": a.two_factor,
        "enrol_only": caller.enrol_only,
        "read_only": caller.read_only,
        "quota_bytes": a.quota_bytes,
        "used_bytes": a.used_bytes,
    }))
}

pub(crate) fn retry_after(seconds: i64) -> (axum::http::HeaderName, HeaderValue) {
    (
        RETRY_AFTER,
        HeaderValue::from_str(&seconds.to_string()).unwrap_or(HeaderValue::from_static("60")),
    )
}
