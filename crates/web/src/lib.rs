//! mailroom's HTTP front-end: the health endpoint that load balancers and
//! the operator poll, and the JSON API (`/api/v1`), starting with logins,
//! sessions and API keys; the portal grows here.

mod auth;
mod error;
mod health;
mod me;
mod page;
mod rate;
mod resources;
mod scope;
mod server;

use axum::Router;
use axum::routing::{get, post};
use mailroom_core::Directory;

pub use auth::Peer;
pub use server::HttpHandler;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub directory: Directory,
    /// The server's name (the issuer shown in authenticator apps).
    pub hostname: String,
    /// Requests per second per client address on `/api`.
    pub rate: std::sync::Arc<rate::RateLimit>,
}

impl AppState {
    pub fn new(directory: Directory, hostname: String, api_rate_per_ip: u32) -> Self {
        Self {
            directory,
            hostname,
            rate: std::sync::Arc::new(rate::RateLimit::new(api_rate_per_ip)),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/auth/login", axum::routing::post(auth::login))
        .route("/api/v1/auth/logout", axum::routing::post(auth::logout))
        .route("/api/v1/me", axum::routing::get(auth::me))
        .route("/api/v1/me/password", post(me::change_password))
        .route(
            "/api/v1/domains",
            get(resources::domains::list).post(resources::domains::create),
        )
        .route(
            "/api/v1/domains/{name}",
            get(resources::domains::get).delete(resources::domains::remove),
        )
        .route("/api/v1/domains/{name}/dns", get(resources::domains::dns))
        .route(
            "/api/v1/domains/{name}/{action}",
            post(resources::domains::suspend),
        )
        .route(
            "/api/v1/accounts",
            get(resources::accounts::list).post(resources::accounts::create),
        )
        .route(
            "/api/v1/accounts/{email}",
            get(resources::accounts::get)
                .patch(resources::accounts::update)
                .delete(resources::accounts::remove),
        )
        .route(
            "/api/v1/accounts/{email}/password",
            post(resources::accounts::reset_password),
        )
        .route(
            "/api/v1/accounts/{email}/reset-2fa",
            post(resources::accounts::reset_two_factor),
        )
        .route(
            "/api/v1/accounts/{email}/forwards",
            get(resources::forwards::get).put(resources::forwards::set),
        )
        .route(
            "/api/v1/me/device-passwords",
            get(resources::credentials::devices).post(resources::credentials::add_device),
        )
        .route(
            "/api/v1/me/device-passwords/{name}",
            axum::routing::delete(resources::credentials::revoke_device),
        )
        .route(
            "/api/v1/me/api-keys",
            get(resources::credentials::keys).post(resources::credentials::add_key),
        )
        .route(
            "/api/v1/me/api-keys/{name}",
            axum::routing::delete(resources::credentials::revoke_key),
        )
        .route("/api/v1/queue", get(resources::admin::queue))
        .route(
            "/api/v1/queue/{id}",
            axum::routing::delete(resources::admin::remove),
        )
        .route("/api/v1/queue/{id}/retry", post(resources::admin::retry))
        .route("/api/v1/domain-admins", post(resources::admin::grant))
        .route(
            "/api/v1/domain-admins/{email}",
            get(resources::admin::domains_of),
        )
        .route(
            "/api/v1/domain-admins/{email}/{domain}",
            axum::routing::delete(resources::admin::revoke),
        )
        .route("/api/v1/security/log", get(resources::security::log))
        .route("/api/v1/security/bans", get(resources::security::bans))
        .route(
            "/api/v1/security/bans/{ip}",
            axum::routing::delete(resources::security::unban),
        )
        .route(
            "/api/v1/aliases",
            get(resources::aliases::list).post(resources::aliases::create),
        )
        .route(
            "/api/v1/aliases/{source}",
            axum::routing::delete(resources::aliases::remove),
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
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate::limit,
        ));
    Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .merge(api)
        .fallback(error::not_found)
        .with_state(state)
}
