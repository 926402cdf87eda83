//! The POP3 listeners' connection handler: admission, then a session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_core::{Directory, Mail};
use mailroom_net::{ConnectionHandler, HandlerFuture, Limiter, Shutdown, Stream, TlsCertificates};
use tokio::io::AsyncWriteExt;

use crate::locks::MaildropLocks;
use crate::session::Session;

#[derive(Debug, Clone)]
pub struct Pop3Settings {
    pub hostname: String,
    /// RFC 1939 3: an inactivity timer of at least 10 minutes.
    pub idle_timeout: Duration,
    pub auth_failure_delay: Duration,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Bad commands tolerated before the connection is closed.
    pub max_errors: u32,
}

impl Pop3Settings {
    pub fn new(hostname: &str) -> Self {
        Self {
            hostname: hostname.to_string(),
            idle_timeout: Duration::from_secs(600),
            auth_failure_delay: Duration::from_millis(500),
            max_connections: 5000,
            max_connections_per_ip: 50,
            max_errors: 10,
        }
    }
}

pub struct Pop3Server {
    pub(crate) directory: Directory,
    pub(crate) mail: Mail,
    pub(crate) settings: Pop3Settings,
    pub(crate) tls: TlsCertificates,
    pub(crate) locks: MaildropLocks,
    limiter: Limiter,
}

impl Pop3Server {
    pub fn new(
        directory: Directory,
        mail: Mail,
        settings: Pop3Settings,
        tls: TlsCertificates,
    ) -> Self {
        let limiter = Limiter::new(settings.max_connections, settings.max_connections_per_ip);
        Self {
            directory,
            mail,
            settings,
            tls,
            locks: MaildropLocks::default(),
            limiter,
        }
    }
}

impl ConnectionHandler for Pop3Server {
    fn handle(
        self: Arc<Self>,
        mut stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> HandlerFuture {
        Box::pin(async move {
            let Ok(permit) = self.limiter.try_acquire(peer.ip()) else {
                let _ = stream
                    .write_all(b"-ERR [SYS/TEMP] Too many connections, try again later\r\n")
                    .await;
                let _ = stream.shutdown().await;
                return;
            };
            Session::new(self, stream, peer, shutdown).run().await;
            drop(permit);
        })
    }
}
