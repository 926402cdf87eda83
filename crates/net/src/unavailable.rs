//! What a listener answers while its protocol is not built yet: the
//! protocol's own "temporarily unavailable" reply, then the connection is
//! closed. Clients treat these as temporary and retry later.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use crate::listener::HandlerFuture;
use crate::{ConnectionHandler, Service, Shutdown, Stream};

pub struct Unavailable {
    greeting: String,
}

impl Unavailable {
    pub fn new(service: Service, hostname: &str) -> Self {
        Self {
            greeting: greeting(service, hostname),
        }
    }
}

/// The reply for each protocol.
pub fn greeting(service: Service, hostname: &str) -> String {
    match service {
        // RFC 5321 4.2.3 / 3.8: 421, the service is closing the channel.
        Service::Smtp | Service::Submission | Service::Submissions => {
            format!("421 4.3.2 {hostname} Service not available, closing transmission channel\r\n")
        }
        // RFC 3501 7.1.5 BYE with RFC 5530's UNAVAILABLE response code.
        Service::Imap | Service::Imaps => {
            "* BYE [UNAVAILABLE] IMAP service temporarily unavailable\r\n".to_string()
        }
        // RFC 3206 SYS/TEMP: a temporary system problem.
        Service::Pop3 | Service::Pop3s => {
            "-ERR [SYS/TEMP] POP3 service temporarily unavailable\r\n".to_string()
        }
        Service::Http | Service::Https => "HTTP/1.1 503 Service Unavailable\r\n\
             Content-Length: 0\r\nConnection: close\r\nRetry-After: 60\r\n\r\n"
            .to_string(),
    }
}

impl ConnectionHandler for Unavailable {
    fn handle(self: Arc<Self>, mut stream: Stream, _: SocketAddr, _: Shutdown) -> HandlerFuture {
        Box::pin(async move {
            let _ = stream.write_all(self.greeting.as_bytes()).await;
            let _ = stream.shutdown().await;
        })
    }
}
