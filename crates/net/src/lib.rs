//! Networking shared by every mailroom front-end: TLS with live certificate
//! reload, a stream type that can be upgraded by STARTTLS, listeners with
//! graceful shutdown, and the reply a not-yet-built protocol gives.

mod error;
mod limiter;
mod line_io;
mod listener;
mod stream;
mod tls;

pub use error::{NetError, Result};
pub use limiter::{LimitHit, Limiter, Permit};
pub use line_io::{Line, LineIo};
pub use listener::{ConnectionHandler, HandlerFuture, Listeners, Service, Shutdown};
pub use stream::Stream;
pub use tls::{TlsCertificates, TlsFiles};
