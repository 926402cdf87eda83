//! Listening sockets, accept loops and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::{NetError, Result, Stream, TlsCertificates};

/// Every kind of listener the server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Smtp,
    Submission,
    Submissions,
    Imap,
    Imaps,
    Pop3,
    Pop3s,
    Http,
    Https,
}

impl Service {
    pub const ALL: [Service; 9] = [
        Service::Smtp,
        Service::Submission,
        Service::Submissions,
        Service::Imap,
        Service::Imaps,
        Service::Pop3,
        Service::Pop3s,
        Service::Http,
        Service::Https,
    ];

    /// The name used in the config file and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Service::Smtp => "smtp",
            Service::Submission => "submission",
            Service::Submissions => "submissions",
            Service::Imap => "imap",
            Service::Imaps => "imaps",
            Service::Pop3 => "pop3",
            Service::Pop3s => "pop3s",
            Service::Http => "http",
            Service::Https => "https",
        }
    }

    /// Whether TLS starts before the first byte of the protocol
    /// (RFC 8314 implicit TLS).
    pub fn implicit_tls(self) -> bool {
        matches!(
            self,
            Service::Submissions | Service::Imaps | Service::Pop3s | Service::Https
        )
    }
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Serves one accepted connection of one protocol.
pub trait ConnectionHandler: Send + Sync + 'static {
    fn handle(
        self: Arc<Self>,
        stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> HandlerFuture;
}

/// Tells connections to finish up, and waits until they have.
#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tracker: TaskTracker,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn trigger(&self) {
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown has been asked for.
    pub async fn triggered(&self) {
        self.token.cancelled().await
    }

    /// Spawns a task that shutdown waits for.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tracker.spawn(task);
    }

    /// Waits for every tracked task, at most `limit`; true if all ended.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        self.tracker.close();
        tokio::time::timeout(limit, self.tracker.wait())
            .await
            .is_ok()
    }
}

/// How long a client has to finish the TLS handshake on an implicit-TLS port.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Bound sockets, before their accept loops start.
pub struct Listeners {
    bound: Vec<(Service, TcpListener)>,
}

impl Listeners {
    /// Binds every address; fails on the first one that cannot be bound.
    pub fn bind(plan: &[(Service, Vec<SocketAddr>)]) -> Result<Self> {
        let mut bound = Vec::new();
        for (service, addrs) in plan {
            for addr in addrs {
                let listener = bind_one(*addr).map_err(|source| NetError::Bind {
                    addr: *addr,
                    service: service.name(),
                    source,
                })?;
                bound.push((*service, listener));
            }
        }
        Ok(Self { bound })
    }

    /// The addresses actually bound (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<(Service, SocketAddr)> {
        self.bound
            .iter()
            .filter_map(|(s, l)| l.local_addr().ok().map(|a| (*s, a)))
            .collect()
    }

    /// Starts an accept loop per socket; each stops when shutdown is asked.
    pub fn start(
        self,
        handler_for: impl Fn(Service) -> Arc<dyn ConnectionHandler>,
        tls: &TlsCertificates,
        shutdown: &Shutdown,
    ) {
        for (service, listener) in self.bound {
            let handler = handler_for(service);
            let acceptor = service.implicit_tls().then(|| tls.acceptor());
            let shutdown_for_loop = shutdown.clone();
            shutdown.spawn(accept_loop(
                service,
                listener,
                handler,
                acceptor,
                shutdown_for_loop,
            ));
        }
    }
}

fn bind_one(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        // So that [::]:25 and 0.0.0.0:25 can both be listed.
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

async fn accept_loop(
    service: Service,
    listener: TcpListener,
    handler: Arc<dyn ConnectionHandler>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shutdown: Shutdown,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.triggered() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of descriptors and the like: back off, keep serving.
                tracing::warn!(service = service.name(), %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let handler = handler.clone();
        let acceptor = acceptor.clone();
        let conn_shutdown = shutdown.clone();
        shutdown.spawn(async move {
            let stream = match acceptor {
                None => Stream::Plain(tcp),
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => Stream::Tls(Box::new(tls)),
                        Ok(Err(error)) => {
                            tracing::debug!(service = service.name(), %peer, %error, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    }
                }
            };
            handler.handle(stream, peer, conn_shutdown).await;
        });
    }
}
