//! The `mailroom` binary: `serve` runs the mail service; the other
//! subcommands administer it, also while it runs.

mod cli;
mod commands;
mod config;
mod limits;
mod output;
mod serve;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command, LogFormat};
use config::Config;
use output::Output;

fn init_logging(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_env("MAILROOM_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve);
    init_logging(cli.log_format, if serving { "info" } else { "warn" });
    let result = async {
        let config = Config::load(cli.config.as_deref())?;
        if serving {
            serve::run(&config).await
        } else {
            commands::run(cli.command, &config, &Output { json: cli.json }).await
        }
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
