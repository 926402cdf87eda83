//! Serves HTTP/1.1 and HTTP/2 on connections accepted by the shared
//! listeners (plain or TLS alike), finishing in-flight requests on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use mailroom_net::{ConnectionHandler, Shutdown, Stream};

pub struct HttpHandler {
    router: Router,
}

impl HttpHandler {
    pub fn new(router: Router) -> Self {
        Self { router }
    }
}

impl ConnectionHandler for HttpHandler {
    fn handle(
        self: Arc<Self>,
        stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> mailroom_net::HandlerFuture {
        Box::pin(async move {
            // Handlers learn the client's address (logins, bans).
            let router = self
                .router
                .clone()
                .layer(axum::Extension(crate::auth::Peer(peer)));
            let service = TowerToHyperService::new(router);
            let builder = Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shutdown.triggered() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "http connection ended with an error");
            }
        })
    }
}
