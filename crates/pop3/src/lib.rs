//! mailroom's POP3 front-end. POP3 reads the INBOX that IMAP shows; a
//! DELE moves the message to Trash by default, so a POP3 client never
//! silently takes mail away from the user's other devices.

mod command;
mod locks;
mod maildrop;
mod server;
mod session;

pub use server::{Pop3Server, Pop3Settings};
