//! mailroom's application services. Front-ends (SMTP, IMAP, POP3, web, CLI)
//! call these; business rules live here, storage behind [`mailroom_store::Store`].

pub mod abuse;
pub mod address;
pub mod directory;
pub mod dkim;
pub mod dns;
mod error;
pub mod idna;
pub mod mail;
pub mod password;
pub mod queue;
pub mod sasl;
pub mod security;
pub mod sending;
pub mod size;
pub mod spam;
pub mod srs;
pub mod time;

#[cfg(test)]
mod test_world;

pub use directory::Directory;
pub use error::{CoreError, Result};
pub use mail::Mail;
pub use mailroom_store as store;
