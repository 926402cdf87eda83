//! mailroom's HTTP front-end. For now: the health endpoint that load
//! balancers and the operator poll; the JSON API and portal grow here.

mod error;
mod health;
mod server;

use axum::Router;
use mailroom_core::Directory;

pub use server::HttpHandler;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub directory: Directory,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .fallback(error::not_found)
        .with_state(state)
}
