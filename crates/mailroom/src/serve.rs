//! `mailroom serve`: wires the store, the services and every listener, then
//! runs until SIGTERM or SIGINT. SIGHUP reloads the TLS certificate.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mailroom_core::mail::{ChangeBus, MailSettings};
use mailroom_core::queue::Queue;
use mailroom_core::security::GuardSettings;
use mailroom_core::spam::SpamSettings;
use mailroom_core::{Directory, Mail};
use mailroom_imap::{ImapServer, ImapSettings};
use mailroom_net::{ConnectionHandler, Listeners, Service, Shutdown, TlsCertificates, TlsFiles};
use mailroom_pop3::{Pop3Server, Pop3Settings};
use mailroom_smtp::{Credentials, Outbound, RelayHost, Router, SmtpServer, SmtpSettings};
use mailroom_store::{SqliteStore, SystemClock};
use mailroom_web::{AppState, HttpHandler};
use tokio::signal::unix::{SignalKind, signal};

use crate::config::Config;

/// How long in-flight connections get to finish after SIGTERM.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Written once every listener is bound, so tools and tests can find the
/// real addresses (port 0 in the config picks a free one).
pub const LISTENERS_FILE: &str = "listeners.json";

pub async fn run(config: &Config) -> anyhow::Result<()> {
    crate::limits::raise_open_files();
    crate::limits::tune_allocator();
    crate::limits::spawn_memory_trimmer();
    let store = SqliteStore::open(&config.data_dir, Arc::new(SystemClock)).with_context(|| {
        format!(
            "cannot open the data directory {}",
            config.data_dir.display()
        )
    })?;
    let guard = &config.security;
    let directory = Directory::with_guard(
        Arc::new(store.clone()),
        GuardSettings {
            ip_failures: guard.max_failed_logins_per_ip.max(1),
            account_failures: guard.max_failed_logins_per_account.max(1),
            window_secs: guard.failed_login_window_secs.max(1),
            ban_secs: guard.ban_secs.max(1),
            session_idle_secs: guard.session_idle_secs.max(60),
            ..GuardSettings::default()
        },
    );
    if let Some((email, password)) = directory.ensure_master_admin(&config.hostname).await? {
        // On the terminal only: never through the logger.
        println!("Created the MasterAdmin account {email}");
        println!("Its password, shown only this once: {password}");
        println!("Change it with: mailroom account passwd {email} --password-stdin");
    }

    let tls_files = match &config.tls {
        Some(tls) => TlsFiles::configured(tls.cert.clone(), tls.key.clone()),
        None => TlsFiles::self_signed(&config.data_dir.join("tls"), &config.hostname),
    };
    let tls = TlsCertificates::load(tls_files)?;

    let listeners = Listeners::bind(&config.listen)?;
    let bound = listeners.local_addrs();
    let shutdown = Shutdown::new();
    let mail = Mail::new(
        Arc::new(store.clone()),
        Arc::new(SystemClock),
        ChangeBus::default(),
        MailSettings {
            hostname: config.hostname.clone(),
            recipient_delimiter: config.smtp.recipient_delimiter.clone(),
        },
    )
    .with_spam(SpamSettings {
        authenticator: Some(mailroom_core::spam::authenticator(config.dns.nameserver)?),
        greylist_delay_secs: config.spam.greylist_delay_secs,
    });
    let http: Arc<dyn ConnectionHandler> =
        Arc::new(HttpHandler::new(mailroom_web::router(AppState::new(
            directory.clone(),
            mail.clone(),
            config.hostname.clone(),
            config.security.api_rate_per_ip,
        ))));
    let imap: Arc<dyn ConnectionHandler> = Arc::new(ImapServer::new(
        directory.clone(),
        mail.clone(),
        imap_settings(config),
        tls.clone(),
    ));
    let pop3: Arc<dyn ConnectionHandler> = Arc::new(Pop3Server::new(
        directory.clone(),
        mail.clone(),
        Pop3Settings::new(&config.hostname),
        tls.clone(),
    ));
    let queue = Queue::new(Arc::new(store.clone()), mail.clone());
    let outbound = Outbound {
        queue: queue.clone(),
        router: router(config)?,
        hostname: config.hostname.clone(),
        max_deliveries: config.outbound.max_deliveries,
        max_per_destination: config.outbound.max_per_destination,
    };
    tokio::spawn(outbound.run(shutdown.clone()));
    tokio::spawn(directory.clone().follow_credentials({
        let shutdown = shutdown.clone();
        async move { shutdown.triggered().await }
    }));
    tokio::spawn(enforce_two_factor_policy(
        directory.clone(),
        mail.clone(),
        shutdown.clone(),
    ));
    let submission: Arc<dyn ConnectionHandler> = Arc::new(SmtpServer::submission(
        mail.clone(),
        directory.clone(),
        queue.clone(),
        smtp_settings(config)?,
        tls.clone(),
    ));
    let smtp: Arc<dyn ConnectionHandler> = Arc::new(SmtpServer::new(
        mail,
        queue,
        smtp_settings(config)?,
        tls.clone(),
    ));
    listeners.start(
        |service| match service {
            Service::Http | Service::Https => http.clone(),
            Service::Smtp => smtp.clone(),
            Service::Submission | Service::Submissions => submission.clone(),
            Service::Imap | Service::Imaps => imap.clone(),
            Service::Pop3 | Service::Pop3s => pop3.clone(),
        },
        &tls,
        &shutdown,
    );
    // Before announcing readiness: a SIGTERM sent the moment the server
    // looks ready must stop it gracefully, not kill it.
    let signals = StopSignals::install()?;
    write_listeners_file(&config.data_dir, &bound)?;
    print_ready(config, &bound);
    tracing::info!(hostname = %config.hostname, "mailroom is serving");

    signals.wait(&tls).await;
    tracing::info!("shutting down: no new connections, finishing the open ones");
    shutdown.trigger();
    if !shutdown.wait_idle(DRAIN_TIMEOUT).await {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
    }
    store.close();
    let _ = std::fs::remove_file(config.data_dir.join(LISTENERS_FILE));
    tracing::info!("stopped");
    Ok(())
}

/// A smart host when one is configured, else MX delivery.
fn router(config: &Config) -> anyhow::Result<Router> {
    let c = &config.outbound;
    match &c.relay {
        Some(relay) => {
            let addr = std::net::ToSocketAddrs::to_socket_addrs(relay.as_str())
                .with_context(|| format!("outbound.relay: cannot resolve {relay}"))?
                .next()
                .with_context(|| format!("outbound.relay: no address for {relay}"))?;
            let name = relay.rsplit_once(':').map_or(relay.as_str(), |(h, _)| h);
            let credentials = match (&c.relay_user, &c.relay_password) {
                (Some(user), Some(password)) => Some(Credentials {
                    user: user.clone(),
                    password: password.0.clone(),
                }),
                (None, None) => None,
                _ => anyhow::bail!("outbound: relay_user and relay_password go together"),
            };
            Ok(Router::Relay(RelayHost {
                name: name.to_string(),
                addr,
                implicit_tls: c.relay_implicit_tls.unwrap_or(addr.port() == 465),
                credentials,
            }))
        }
        None => Ok(Router::mx(c.nameserver.or(config.dns.nameserver), c.port)?),
    }
}

/// The mandatory-2FA policy, at start and then every hour.
async fn enforce_two_factor_policy(directory: Directory, mail: Mail, shutdown: Shutdown) {
    loop {
        match directory.enforce_two_factor_policy(&mail).await {
            Ok(run) if !run.reminded.is_empty() || !run.disabled.is_empty() => {
                tracing::info!(reminded = ?run.reminded, disabled = ?run.disabled, "2FA policy applied");
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "the 2FA policy could not run"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.triggered() => return,
        }
    }
}

fn imap_settings(config: &Config) -> ImapSettings {
    let c = &config.imap;
    let mut settings = ImapSettings::new(&config.hostname);
    settings.max_connections = c.max_connections;
    settings.max_connections_per_ip = c.max_connections_per_ip;
    settings.max_connections_per_account = c.max_connections_per_account;
    settings.idle_timeout = Duration::from_secs(c.idle_timeout_secs);
    settings.login_timeout = Duration::from_secs(c.login_timeout_secs);
    settings
}

fn smtp_settings(config: &Config) -> anyhow::Result<SmtpSettings> {
    let c = &config.smtp;
    let mut settings = SmtpSettings::new(&config.hostname);
    settings.body.max_size = mailroom_core::size::parse(&c.max_message_size)?
        .unwrap_or(u64::MAX)
        .try_into()
        .unwrap_or(usize::MAX);
    settings.body.strict_line_endings = c.strict_line_endings;
    settings.max_recipients = c.max_recipients;
    settings.max_connections = c.max_connections;
    settings.max_connections_per_ip = c.max_connections_per_ip;
    settings.max_errors = c.max_errors;
    settings.command_timeout = Duration::from_secs(c.command_timeout_secs);
    settings.data_timeout = Duration::from_secs(c.data_timeout_secs);
    settings.data_deadline = Duration::from_secs(c.data_deadline_secs);
    Ok(settings)
}

/// Waits for SIGTERM or SIGINT, reloading certificates on every SIGHUP.
/// SIGHUP reloads the certificate; SIGTERM or SIGINT stop the server.
struct StopSignals {
    hangup: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        Ok(Self {
            hangup: signal(SignalKind::hangup())?,
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self, tls: &TlsCertificates) {
        loop {
            tokio::select! {
                _ = self.hangup.recv() => match tls.reload() {
                    Ok(()) => tracing::info!("TLS certificate reloaded"),
                    Err(error) => tracing::error!(%error, "TLS reload failed; keeping the current certificate"),
                },
                _ = self.terminate.recv() => return,
                _ = self.interrupt.recv() => return,
            }
        }
    }
}

fn write_listeners_file(data_dir: &Path, bound: &[(Service, SocketAddr)]) -> anyhow::Result<()> {
    let mut by_service: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (service, addr) in bound {
        by_service
            .entry(service.name())
            .or_default()
            .push(addr.to_string());
    }
    let path = data_dir.join(LISTENERS_FILE);
    let tmp = data_dir.join(format!("{LISTENERS_FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&by_service)?)?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn print_ready(config: &Config, bound: &[(Service, SocketAddr)]) {
    println!(
        "mailroom is serving {} from {}",
        config.hostname,
        config.data_dir.display()
    );
    for (service, addr) in bound {
        println!("  {:<12} {addr}", service.name());
    }
    if let Some((_, addr)) = bound.iter().find(|(s, _)| *s == Service::Http) {
        println!("  health:      curl http://{addr}/healthz");
    }
    println!(
        "Log in as admin@{} with the password shown at first start \
         (reset it with: mailroom account passwd admin@{} --password-stdin)",
        config.hostname, config.hostname
    );
}
