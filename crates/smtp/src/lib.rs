//! mailroom's SMTP front-end. Today: the MX listener (RFC 5321) that
//! receives mail for hosted domains and files it through
//! [`mailroom_core::Mail`]. Business rules (who exists, quotas) live in
//! core; this crate speaks the protocol.

mod command;
mod data;
mod reply;
mod server;
mod session;
mod transfer;

pub use data::BodyLimits;
pub use reply::Reply;
pub use server::{SmtpServer, SmtpSettings};
