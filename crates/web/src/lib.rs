//! mailroom's HTTP front-end: the health endpoint that load balancers and
//! the operator poll, and the JSON API (`/api/v1`), starting with logins,
//! sessions and API keys; the portal grows here.

mod auth;
mod error;
mod health;
mod me;
mod server;

use axum::Router;
use mailroom_core::Directory;

pub use auth::Peer;
pub use server::HttpHandler;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub directory: Directory,
    /// The server's name (the issuer shown in authenticator apps).
    pub hostname: String,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/api/v1/auth/login", axum::routing::post(auth::login))
        .route("/api/v1/auth/logout", axum::routing::post(auth::logout))
        .route("/api/v1/me", axum::routing::get(auth::me))
        .route(
            "/api/v1/me/password",
            axum::routing::post(me::change_password),
        )
        .route("/api/v1/me/2fa/setup", axum::routing::post(me::totp_setup))
        .route("/api/v1/me/2fa/qr.png", axum::routing::get(me::totp_qr_png))
        .route(
            "/api/v1/me/2fa/confirm",
            axum::routing::post(me::totp_confirm),
        )
        .route(
            "/api/v1/me/2fa/disable",
            axum::routing::post(me::totp_disable),
        )
        .fallback(error::not_found)
        .with_state(state)
}
