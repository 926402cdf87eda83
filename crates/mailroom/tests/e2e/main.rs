//! End-to-end tests: the real binary, real sockets, real clients.
//! One test binary with a module per area keeps link times down.

mod cli;
mod config;
mod crash;
mod imap;
mod mbsync;
mod pop3;
mod serve;
mod smtp;
mod tls;

use mailroom_testkit::{Server, ServerBuilder};

pub fn server() -> Server {
    Server::start(env!("CARGO_BIN_EXE_mailroom"))
}

pub fn builder() -> ServerBuilder {
    Server::builder(env!("CARGO_BIN_EXE_mailroom"))
}

/// Runs the binary without a server (for config errors and the like).
pub fn mailroom(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(args)
        .output()
        .expect("run mailroom")
}
