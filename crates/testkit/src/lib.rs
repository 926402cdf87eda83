//! End-to-end harness: runs the real `mailroom` binary on ephemeral loopback
//! ports with a fresh data directory, drives its CLI, and talks to it with
//! real clients (raw TCP, Python's standard library). Dropping a [`Server`]
//! stops the process and removes its data, also when a test panics.

mod client;
mod dns;
mod log;
mod server;

pub use client::{Line, RawClient};
pub use dns::{DnsServer, empty_dns};
pub use server::{CliOutput, Server, ServerBuilder};

/// A password that satisfies the policy, for test accounts.
pub const PASSWORD: &str = "Correct1HorseBattery";
