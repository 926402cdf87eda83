//! The IMAP listeners' connection handler: admission, then a session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_core::{Directory, Mail};
use mailroom_net::{ConnectionHandler, HandlerFuture, Limiter, Shutdown, Stream, TlsCertificates};
use tokio::io::AsyncWriteExt;

use crate::parsed::ParsedCache;
use crate::session::Session;

#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub hostname: String,
    /// Largest literal (APPEND message) accepted.
    pub max_literal: u32,
    /// RFC 3501 5.4: at least 30 minutes once logged in.
    pub idle_timeout: Duration,
    /// Before login a client gets much less.
    pub login_timeout: Duration,
    /// Pause after a failed login, against password guessing.
    pub auth_failure_delay: Duration,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Sessions one account may have open at once (all its devices).
    pub max_connections_per_account: usize,
    /// Malformed commands tolerated before the connection is closed.
    pub max_bad_commands: u32,
    /// Memory for parsed message structure shared by all sessions.
    pub parsed_cache_bytes: usize,
}

impl ImapSettings {
    pub fn new(hostname: &str) -> Self {
        Self {
            hostname: hostname.to_string(),
            max_literal: 50 << 20,
            idle_timeout: Duration::from_secs(30 * 60),
            login_timeout: Duration::from_secs(60),
            auth_failure_delay: Duration::from_millis(500),
            max_connections: 10_000,
            max_connections_per_ip: 100,
            max_connections_per_account: 50,
            max_bad_commands: 20,
            parsed_cache_bytes: 256 << 20,
        }
    }
}

pub struct ImapServer {
    pub(crate) directory: Directory,
    pub(crate) mail: Mail,
    pub(crate) settings: ImapSettings,
    pub(crate) tls: TlsCertificates,
    limiter: Limiter,
    /// Sessions per account id.
    pub(crate) per_account: Limiter<i64>,
    pub(crate) parsed: ParsedCache,
}

impl ImapServer {
    pub fn new(
        directory: Directory,
        mail: Mail,
        settings: ImapSettings,
        tls: TlsCertificates,
    ) -> Self {
        let limiter = Limiter::new(settings.max_connections, settings.max_connections_per_ip);
        let per_account = Limiter::new(usize::MAX, settings.max_connections_per_account);
        Self {
            parsed: ParsedCache::new(settings.parsed_cache_bytes),
            directory,
            mail,
            settings,
            tls,
            limiter,
            per_account,
        }
    }
}

impl ConnectionHandler for ImapServer {
    fn handle(
        self: Arc<Self>,
        mut stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> HandlerFuture {
        Box::pin(async move {
            let Ok(permit) = self.limiter.try_acquire(peer.ip()) else {
                let _ = stream
                    .write_all(b"* BYE [UNAVAILABLE] Too many connections, try again later\r\n")
                    .await;
                let _ = stream.shutdown().await;
                return;
            };
            Session::new(self, stream, peer, shutdown).run().await;
            drop(permit);
        })
    }
}
