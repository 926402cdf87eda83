//! End-to-end tests: the real binary, real sockets, real clients.
//! One test binary with a module per area keeps link times down.

mod abuse;
mod api_auth;
mod api_resources;
mod cli;
mod config;
mod crash;
mod imap;
mod imap_ext;
mod imap_search;
mod mbsync;
mod pop3;
mod portal;
mod security;
mod serve;
mod smtp;
mod spam;
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

/// Runs a Python client script after a prelude of helpers, with the test
/// password in `PW`; fails the test with the script's output if it fails.
pub fn run_python(server: &Server, prelude: &str, script: &str) -> String {
    let password = mailroom_testkit::PASSWORD;
    let full = format!("import os\nos.environ['PW'] = {password:?}\n{prelude}\n{script}");
    let out = server.python(&full);
    assert!(
        out.status.success(),
        "python failed:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    out.stdout
}

/// A server with the mail user bob@example.test.
pub fn bob() -> Server {
    let server = server();
    server.add_user("bob@example.test");
    server
}
