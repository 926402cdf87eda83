//! Serves HTTP/1.1 and HTTP/2 on connections accepted by the shared
//! listeners (plain or TLS alike), finishing in-flight requests on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use mailroom_net::{ConnectionHandler, Shutdown, Stream};

/// Time a client has to send a request's headers, also the next one on
/// a kept-alive connection.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a connection stays open; browsers simply open another.
const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(600);

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
            let mut builder = Builder::new(TokioExecutor::new());
            // A client that sends its request headers slowly, or keeps an
            // idle connection, does not hold it (and a file handle) for
            // ever.
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(Some(HEADER_READ_TIMEOUT));
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let lifetime = tokio::time::sleep(MAX_CONNECTION_LIFETIME);
            tokio::pin!(lifetime);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shutdown.triggered() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
                // Also a request body sent a byte a minute ends here.
                _ = lifetime.as_mut() => {
                    conn.as_mut().graceful_shutdown();
                    match tokio::time::timeout(HEADER_READ_TIMEOUT, conn.as_mut()).await {
                        Ok(result) => result,
                        Err(_) => Ok(()),
                    }
                }
            };
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "http connection ended with an error");
            }
        })
    }
}
