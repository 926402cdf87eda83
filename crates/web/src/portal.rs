//! The portal's files, embedded in the binary: one page, its JavaScript
//! modules and one style sheet; no framework and no build step. Served
//! with a strict Content-Security-Policy (no inline script) and no
//! framing.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_FRAME_OPTIONS};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

use axum::extract::Path;

use crate::error::ApiError;

const INDEX: &str = include_str!("../portal/index.html");

const JS: &str = "text/javascript; charset=utf-8";

/// Every file under `/portal/`, with its type.
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", include_str!("../portal/app.js"), JS),
    ("ui.js", include_str!("../portal/ui.js"), JS),
    ("mail.js", include_str!("../portal/mail.js"), JS),
    ("domain.js", include_str!("../portal/domain.js"), JS),
    ("settings.js", include_str!("../portal/settings.js"), JS),
    ("stats.js", include_str!("../portal/stats.js"), JS),
    ("server.js", include_str!("../portal/server.js"), JS),
    ("me.js", include_str!("../portal/me.js"), JS),
    ("spam.js", include_str!("../portal/spam.js"), JS),
    (
        "style.css",
        include_str!("../portal/style.css"),
        "text/css; charset=utf-8",
    ),
];

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn file(body: &'static str, kind: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub async fn index() -> Response {
    file(INDEX, "text/html; charset=utf-8")
}

pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    FILES
        .iter()
        .find(|(file_name, _, _)| *file_name == name)
        .map(|(_, body, kind)| file(body, kind))
        .ok_or_else(|| crate::scope::not_found("file"))
}
