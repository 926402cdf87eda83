//! The administrative subcommands. They open the same store as the server
//! (SQLite in WAL mode takes several processes), and the server keeps no
//! directory cache, so a change is live in a running server at once.

mod account;
mod alias;
mod domain;
mod domain_admin;
mod forward;
mod queue;
mod relay_policy;
mod security;
mod sending;
mod spam;

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, bail};
use mailroom_core::Directory;
use mailroom_core::directory::PasswordInput;
use mailroom_store::{SqliteStore, SystemClock};

use crate::cli::{Command, PasswordSource};
use crate::config::Config;
use crate::output::Output;

pub async fn run(command: Command, config: &Config, out: &Output) -> anyhow::Result<()> {
    let store = SqliteStore::open(&config.data_dir, Arc::new(SystemClock)).with_context(|| {
        format!(
            "cannot open the data directory {}",
            config.data_dir.display()
        )
    })?;
    let directory = Directory::new(Arc::new(store.clone()));
    let result = match command {
        Command::Domain(c) => domain::run(c, &directory, &config.hostname, out).await,
        Command::Account(c) => account::run(c, &directory, out).await,
        Command::Alias(c) => alias::run(c, &directory, out).await,
        Command::Forward(c) => forward::run(c, &directory, out).await,
        Command::DevicePassword(c) => security::device_passwords(c, &directory, out).await,
        Command::ApiKey(c) => security::api_keys(c, &directory, out).await,
        Command::TwoFactor(c) => security::two_factor(c, &directory, &config.hostname, out).await,
        Command::Security(c) => security::run(c, &directory, out).await,
        Command::DomainAdmin(c) => domain_admin::run(c, &directory, out).await,
        Command::SendingLimits(c) => sending::run(c, &directory, out).await,
        Command::Queue(c) => queue::run(c, Arc::new(store.clone()), out).await,
        Command::RelayPolicy(c) => relay_policy::run(c, &store, out).await,
        Command::Spam(c) => spam::run(c, Arc::new(store.clone()), config, out).await,
        Command::Serve => unreachable!("serve is not an admin command"),
    };
    store.close();
    result
}

/// The password given on the command line, never as an argument in clear.
fn read_password(source: PasswordSource) -> anyhow::Result<PasswordInput> {
    if let Some(hash) = source.password_hash {
        return Ok(PasswordInput::Hash(hash));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(PasswordInput::Plain(password))
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_string()
}

/// `12.0 of 200/60s (default)`: a bucket's use, its limit and where it is set.
fn sending_text(limit: &mailroom_core::sending::SendingLimit) -> String {
    let used = limit.used.map(|u| format!("{u} of ")).unwrap_or_default();
    format!("{used}{} ({})", limit.limit, limit.source)
}

/// `--send-local 200/60s` style options: `default` clears the setting.
type LimitChange = (mailroom_store::SendClass, Option<mailroom_store::SendLimit>);

fn parse_limits(
    given: Vec<(mailroom_store::SendClass, Option<String>)>,
) -> anyhow::Result<Vec<LimitChange>> {
    let mut changes = Vec::new();
    for (class, text) in given {
        let Some(text) = text else { continue };
        let limit = if text.eq_ignore_ascii_case("default") {
            None
        } else {
            Some(text.parse().map_err(anyhow::Error::msg)?)
        };
        changes.push((class, limit));
    }
    Ok(changes)
}
