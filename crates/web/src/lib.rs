//! mailroom's HTTP front-end: the health endpoint that load balancers and
//! the operator poll, and the JSON API (`/api/v1`), starting with logins,
//! sessions and API keys; the portal grows here.

mod auth;
mod error;
mod health;
mod me;
mod page;
mod portal;
mod rate;
mod resources;
mod scope;
mod server;

use axum::Router;
use axum::routing::get;
use mailroom_core::Directory;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::Peer;
pub use server::HttpHandler;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub directory: Directory,
    /// Mail services (the spam check, training).
    pub mail: mailroom_core::Mail,
    /// The server's name (the issuer shown in authenticator apps).
    pub hostname: String,
    /// Requests per second per client address on `/api`.
    pub rate: std::sync::Arc<rate::RateLimit>,
}

impl AppState {
    pub fn new(
        directory: Directory,
        mail: mailroom_core::Mail,
        hostname: String,
        api_rate_per_ip: u32,
    ) -> Self {
        Self {
            directory,
            mail,
            hostname,
            rate: std::sync::Arc::new(rate::RateLimit::new(api_rate_per_ip)),
        }
    }
}

/// The API's description, completed by the routes registered below.
#[derive(utoipa::OpenApi)]
#[openapi(info(
    title = "mailroom API",
    description = "Everything an administrator or user can do. Errors are {\"error\": {\"code\", \"message\"}}. Authenticate with a session token or API key as a bearer token."
))]
struct ApiDoc;

/// Every API route, each registered with its OpenAPI description, so the
/// document cannot leave one out.
fn api_routes() -> OpenApiRouter<AppState> {
    use resources::{
        accounts, admin, aliases, antispam, credentials, domains, forwards, security, sending,
        spam, stats,
    };
    OpenApiRouter::with_openapi(<ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(me::change_password))
        .routes(routes!(me::totp_setup))
        .routes(routes!(me::totp_qr_png))
        .routes(routes!(me::totp_confirm))
        .routes(routes!(me::totp_disable))
        .routes(routes!(me::recovery_codes))
        .routes(routes!(credentials::devices, credentials::add_device))
        .routes(routes!(credentials::revoke_device))
        .routes(routes!(credentials::keys, credentials::add_key))
        .routes(routes!(credentials::revoke_key))
        .routes(routes!(domains::list, domains::create))
        .routes(routes!(domains::get, domains::remove))
        .routes(routes!(domains::dns))
        .routes(routes!(domains::dkim))
        .routes(routes!(domains::limits, domains::set_limits))
        .routes(routes!(domains::suspend))
        .routes(routes!(accounts::list, accounts::create))
        .routes(routes!(accounts::get, accounts::update, accounts::remove))
        .routes(routes!(accounts::reset_password))
        .routes(routes!(accounts::reset_two_factor))
        .routes(routes!(accounts::unblock_sending))
        .routes(routes!(stats::overview))
        .routes(routes!(stats::domain))
        .routes(routes!(stats::blocked_senders))
        .routes(routes!(stats::abuse_settings, stats::set_abuse_settings))
        .routes(routes!(forwards::get, forwards::set))
        .routes(routes!(aliases::list, aliases::create))
        .routes(routes!(aliases::remove))
        .routes(routes!(admin::queue))
        .routes(routes!(admin::remove))
        .routes(routes!(admin::retry))
        .routes(routes!(admin::grant))
        .routes(routes!(admin::transfer))
        .routes(routes!(admin::domains_of))
        .routes(routes!(admin::revoke))
        .routes(routes!(security::log))
        .routes(routes!(security::bans))
        .routes(routes!(security::unban))
        .routes(routes!(security::policy, security::set_policy))
        .routes(routes!(sending::global, sending::set_global))
        .routes(routes!(sending::account, sending::set_account))
        .routes(routes!(
            antispam::global_thresholds,
            antispam::set_global_thresholds
        ))
        .routes(routes!(
            antispam::domain_thresholds,
            antispam::set_domain_thresholds
        ))
        .routes(routes!(antispam::global_list, antispam::add_global))
        .routes(routes!(antispam::remove_global))
        .routes(routes!(antispam::domain_list, antispam::add_domain_entry))
        .routes(routes!(antispam::remove_domain_entry))
        // The check takes messages up to its own limit, above axum's
        // default of 2 MB for a request body.
        .routes(utoipa_axum::router::UtoipaMethodRouterExt::layer(
            routes!(spam::check),
            axum::extract::DefaultBodyLimit::max(spam::MAX_CHECKED + 64 * 1024),
        ))
        .routes(routes!(spam::train))
        .routes(routes!(spam::scores))
        .routes(routes!(spam::set_score))
}

/// API answers carry secrets (new API keys, device passwords, 2FA
/// secrets) and account data: no cache may keep them, and no browser
/// may read them as anything but JSON.
async fn private(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{CACHE_CONTROL, HeaderValue, X_CONTENT_TYPE_OPTIONS};
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = api_routes().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    let api = api
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate::limit,
        ))
        .layer(axum::middleware::map_response(error::uniform))
        .layer(axum::middleware::map_response(private));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/", get(portal::index))
        .route("/portal/{name}", get(portal::asset))
        .merge(api)
        .fallback(error::not_found)
        .with_state(state)
}
