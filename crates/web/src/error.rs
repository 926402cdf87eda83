//! Errors as the API shows them: `{"error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for a `Retry-After` header (429, 503).
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            let (name, value) = crate::auth::retry_after(seconds);
            response.headers_mut().insert(name, value);
        }
        response
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

impl From<mailroom_core::CoreError> for ApiError {
    fn from(error: mailroom_core::CoreError) -> Self {
        use mailroom_core::CoreError as E;
        let (status, code) = match &error {
            E::Invalid(_) | E::PasswordPolicy(_) => (StatusCode::BAD_REQUEST, "invalid"),
            E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::AlreadyExists(_) | E::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            E::OverQuota(_) => (StatusCode::INSUFFICIENT_STORAGE, "over_quota"),
            E::Store(_) | E::Internal(_) => {
                tracing::error!(%error, "request failed");
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on the server; try again",
                );
            }
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Gives every error the API's shape, also those axum itself answers
/// (a body that is not the JSON expected, a bad path parameter, a method
/// the route does not take): their text becomes the message.
pub async fn uniform(response: axum::response::Response) -> axum::response::Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ if status.is_client_error() => "invalid_request",
        _ => "internal",
    };
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    ApiError::new(status, code, message).into_response()
}
