//! mailroom's SMTP front-end: the MX listener (RFC 5321) that receives
//! mail for hosted domains, and the submission listeners (RFC 6409) where
//! users authenticate and send. Business rules (who exists, who owns an
//! address, quotas) live in core; this crate speaks the protocol.

mod auth;
mod command;
mod data;
mod forged;
mod outbound;
mod reply;
mod server;
mod session;
mod submission;
mod transfer;

pub use data::BodyLimits;
pub use outbound::{Credentials, Outbound, RelayHost, Router};
pub use reply::Reply;
pub use server::{SmtpServer, SmtpSettings};
