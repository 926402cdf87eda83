//! The SMTP listener's connection handler: admission, then a session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_core::queue::Queue;
use mailroom_core::{Directory, Mail};
use mailroom_net::{
    ConnectionHandler, HandlerFuture, LimitHit, Limiter, Shutdown, Stream, TlsCertificates,
};
use tokio::io::AsyncWriteExt;

use crate::data::BodyLimits;
use crate::reply::Reply;
use crate::session::Session;

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub hostname: String,
    pub body: BodyLimits,
    pub max_recipients: usize,
    /// Error replies a client may cause before it is disconnected.
    pub max_errors: u32,
    /// RFC 5321 4.5.3.2.7: at least 5 minutes waiting for a command.
    pub command_timeout: Duration,
    /// RFC 5321 4.5.3.2.5: 3 minutes for each block of data.
    pub data_timeout: Duration,
    /// The whole DATA or BDAT phase, against clients that trickle bytes.
    pub data_deadline: Duration,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Pause after a failed AUTH, against password guessing.
    pub auth_failure_delay: Duration,
}

impl SmtpSettings {
    pub fn new(hostname: &str) -> Self {
        Self {
            hostname: hostname.to_string(),
            body: BodyLimits::default(),
            max_recipients: 100,
            max_errors: 10,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(180),
            data_deadline: Duration::from_secs(600),
            max_connections: 1000,
            max_connections_per_ip: 50,
            auth_failure_delay: Duration::from_millis(500),
        }
    }
}

pub struct SmtpServer {
    pub(crate) mail: Mail,
    /// Set on submission listeners (RFC 6409): AUTH is offered and required.
    pub(crate) directory: Option<Directory>,
    /// Accepted mail goes through it: local delivery, forwards, and
    /// submitted mail for other domains.
    pub(crate) queue: Queue,
    pub(crate) settings: SmtpSettings,
    pub(crate) tls: TlsCertificates,
    limiter: Limiter,
}

impl SmtpServer {
    /// The MX listener: mail for hosted domains, no AUTH.
    pub fn new(mail: Mail, queue: Queue, settings: SmtpSettings, tls: TlsCertificates) -> Self {
        let limiter = Limiter::new(settings.max_connections, settings.max_connections_per_ip);
        Self {
            mail,
            directory: None,
            queue,
            settings,
            tls,
            limiter,
        }
    }

    /// A submission listener (RFC 6409): users authenticate, then send as
    /// addresses they own.
    pub fn submission(
        mail: Mail,
        directory: Directory,
        queue: Queue,
        settings: SmtpSettings,
        tls: TlsCertificates,
    ) -> Self {
        Self {
            directory: Some(directory),
            ..Self::new(mail, queue, settings, tls)
        }
    }

    pub(crate) fn is_submission(&self) -> bool {
        self.directory.is_some()
    }
}

impl ConnectionHandler for SmtpServer {
    fn handle(
        self: Arc<Self>,
        mut stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> HandlerFuture {
        Box::pin(async move {
            let permit = match self.limiter.try_acquire(peer.ip()) {
                Ok(permit) => permit,
                Err(hit) => {
                    // Refuse at once rather than keep the client waiting.
                    let host = &self.settings.hostname;
                    let reply = match hit {
                        LimitHit::Total => Reply::new(
                            421,
                            "4.3.2",
                            format!("{host} Service busy, too many connections; try again later"),
                        ),
                        LimitHit::PerIp => Reply::new(
                            421,
                            "4.7.0",
                            format!(
                                "{host} Too many connections from your address; try again later"
                            ),
                        ),
                    };
                    tracing::info!(%peer, ?hit, "smtp connection refused: limit reached");
                    let _ = stream.write_all(reply.to_wire().as_bytes()).await;
                    let _ = stream.shutdown().await;
                    return;
                }
            };
            Session::new(self, stream, peer, shutdown).run().await;
            drop(permit);
        })
    }
}
