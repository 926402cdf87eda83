//! mailroom's IMAP front-end: imap-codec parses, the server logic is ours.
//! Mailbox state of a selected mailbox lives in memory ([`view`]) and is
//! kept current by the core change bus.

mod cmd;
mod ext;
mod io;
mod mime;
#[cfg(test)]
mod mime_cases;
mod parsed;
mod response;
mod search_depth;
mod searchres;
mod server;
mod session;
mod utf7;
mod view;

pub use server::{ImapServer, ImapSettings};
