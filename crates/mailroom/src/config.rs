//! The start-up configuration: one TOML file, or development defaults.
//!
//! Only what the process needs to start lives here (hostname, data
//! directory, listeners, TLS). Everything an admin changes at run time
//! lives in the store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mailroom_net::Service;
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Clone)]
pub struct Config {
    pub hostname: String,
    pub data_dir: PathBuf,
    /// Every listener with its addresses; an empty list disables it.
    pub listen: Vec<(Service, Vec<SocketAddr>)>,
    pub tls: Option<TlsConfig>,
    pub smtp: SmtpConfig,
    pub imap: ImapConfig,
    pub outbound: OutboundConfig,
    pub security: SecurityConfig,
    pub dns: DnsConfig,
    pub spam: SpamConfig,
}

/// `[dns]`: the resolver for authentication checks and MX lookups.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// A DNS server (`ip:port`) instead of the system's resolver.
    pub nameserver: Option<SocketAddr>,
}

/// `[spam]`: the parts of the spam filter set at start-up (thresholds,
/// lists and scores are run-time settings in the store).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpamConfig {
    /// How long an unknown sender waits before its retry is accepted.
    pub greylist_delay_secs: i64,
}

impl Default for SpamConfig {
    fn default() -> Self {
        Self {
            greylist_delay_secs: 300,
        }
    }
}

/// `[security]`: lock-outs after failed logins (every protocol).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Failed logins from one address within the window that ban it.
    pub max_failed_logins_per_ip: usize,
    /// Failed logins against one account within the window that slow
    /// down its logins from new addresses.
    pub max_failed_logins_per_account: usize,
    pub failed_login_window_secs: i64,
    /// The first ban; each further one within a day doubles.
    pub ban_secs: i64,
    /// Portal/API sessions end after this long without a request.
    pub session_idle_secs: i64,
    /// API requests per second from one client address.
    pub api_rate_per_ip: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            max_failed_logins_per_ip: 10,
            max_failed_logins_per_account: 20,
            failed_login_window_secs: 600,
            ban_secs: 900,
            session_idle_secs: 12 * 3600,
            api_rate_per_ip: 20,
        }
    }
}

/// `[outbound]`: how mail for other domains leaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    /// A smart host (`host:port`) for all outbound mail instead of MX
    /// delivery; port 465 means TLS from the start, others STARTTLS.
    pub relay: Option<String>,
    /// TLS from the first byte at the smart host (default: when its port
    /// is 465); otherwise STARTTLS when offered.
    pub relay_implicit_tls: Option<bool>,
    /// Login at the smart host (sent only over TLS).
    pub relay_user: Option<String>,
    pub relay_password: Option<Secret>,
    /// The port MX hosts are reached on (25; tests use others).
    pub port: u16,
    /// A DNS server (`ip:port`) for MX lookups, instead of `[dns]`'s.
    pub nameserver: Option<SocketAddr>,
    /// Messages being delivered at once.
    pub max_deliveries: usize,
    /// Connections to one destination (a domain, or the smart host).
    pub max_per_destination: usize,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            relay: None,
            relay_implicit_tls: None,
            relay_user: None,
            relay_password: None,
            port: 25,
            nameserver: None,
            max_deliveries: 100,
            max_per_destination: 20,
        }
    }
}

/// A password from the config file: never shown in debug output or logs.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"********\"")
    }
}

/// `[imap]`: limits of the IMAP listeners.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapConfig {
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Sessions one account may have open at once (all its devices).
    pub max_connections_per_account: usize,
    /// Logged-in sessions; RFC 3501 5.4 asks for at least 30 minutes.
    pub idle_timeout_secs: u64,
    pub login_timeout_secs: u64,
}

impl Default for ImapConfig {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_ip: 100,
            max_connections_per_account: 50,
            idle_timeout_secs: 30 * 60,
            login_timeout_secs: 60,
        }
    }
}

/// `[smtp]`: limits of the SMTP listeners.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Largest message accepted, e.g. "50MiB".
    pub max_message_size: String,
    pub max_recipients: usize,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub max_errors: u32,
    pub command_timeout_secs: u64,
    pub data_timeout_secs: u64,
    pub data_deadline_secs: u64,
    /// Refuse every bare CR or LF, not only those next to a dot.
    pub strict_line_endings: bool,
    /// `user+tag@domain` delivers to `user`; "" turns it off.
    pub recipient_delimiter: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            max_message_size: "50MiB".into(),
            max_recipients: 100,
            max_connections: 1000,
            max_connections_per_ip: 50,
            max_errors: 10,
            command_timeout_secs: 300,
            data_timeout_secs: 180,
            data_deadline_secs: 600,
            strict_line_endings: false,
            recipient_delimiter: "+".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    hostname: Option<Spanned<String>>,
    data_dir: Option<PathBuf>,
    listen: Option<ListenFile>,
    tls: Option<TlsFile>,
    smtp: Option<Spanned<SmtpConfig>>,
    imap: Option<Spanned<ImapConfig>>,
    outbound: Option<OutboundConfig>,
    security: Option<SecurityConfig>,
    dns: Option<DnsConfig>,
    spam: Option<SpamConfig>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListenFile {
    smtp: Option<Vec<Spanned<String>>>,
    submission: Option<Vec<Spanned<String>>>,
    submissions: Option<Vec<Spanned<String>>>,
    imap: Option<Vec<Spanned<String>>>,
    imaps: Option<Vec<Spanned<String>>>,
    pop3: Option<Vec<Spanned<String>>>,
    pop3s: Option<Vec<Spanned<String>>>,
    http: Option<Vec<Spanned<String>>>,
    https: Option<Vec<Spanned<String>>>,
}

impl ListenFile {
    fn get(&self, service: Service) -> Option<&Vec<Spanned<String>>> {
        match service {
            Service::Smtp => self.smtp.as_ref(),
            Service::Submission => self.submission.as_ref(),
            Service::Submissions => self.submissions.as_ref(),
            Service::Imap => self.imap.as_ref(),
            Service::Imaps => self.imaps.as_ref(),
            Service::Pop3 => self.pop3.as_ref(),
            Service::Pop3s => self.pop3s.as_ref(),
            Service::Http => self.http.as_ref(),
            Service::Https => self.https.as_ref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert: PathBuf,
    key: PathBuf,
}

/// Development defaults: loopback only, unprivileged ports, no HTTPS.
pub fn default_listen(service: Service) -> Vec<SocketAddr> {
    let port = match service {
        Service::Smtp => 2525,
        Service::Submission => 2587,
        Service::Submissions => 2465,
        Service::Imap => 2143,
        Service::Imaps => 2993,
        Service::Pop3 => 2110,
        Service::Pop3s => 2995,
        Service::Http => 8080,
        Service::Https => return Vec::new(),
    };
    vec![SocketAddr::from(([127, 0, 0, 1], port))]
}

impl Config {
    pub fn defaults() -> Self {
        Self {
            hostname: "localhost".into(),
            data_dir: PathBuf::from("./mailroom-data"),
            listen: Service::ALL
                .iter()
                .map(|s| (*s, default_listen(*s)))
                .collect(),
            tls: None,
            smtp: SmtpConfig::default(),
            imap: ImapConfig::default(),
            outbound: OutboundConfig::default(),
            security: SecurityConfig::default(),
            dns: DnsConfig::default(),
            spam: SpamConfig::default(),
        }
    }

    /// Reads the file, or the defaults when none is named.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::defaults());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses config text; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Self> {
        let file: File = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| position(text, s.start))
                .map(|(l, c)| format!(":{l}:{c}"))
                .unwrap_or_default();
            anyhow::anyhow!("{origin}{at}: {}", e.message())
        })?;
        let fail = |span: std::ops::Range<usize>, key: &str, why: String| -> anyhow::Error {
            let (line, column) = position(text, span.start);
            anyhow::anyhow!("{origin}:{line}:{column}: {key}: {why}")
        };
        let mut config = Self::defaults();
        if let Some(hostname) = file.hostname {
            config.hostname = mailroom_core::address::domain(hostname.get_ref())
                .map_err(|e| fail(hostname.span(), "hostname", e.to_string()))?;
        }
        if let Some(dir) = file.data_dir {
            if dir.as_os_str().is_empty() {
                bail!("{origin}: data_dir: must not be empty");
            }
            config.data_dir = dir;
        }
        let listen = file.listen.unwrap_or_default();
        for (service, addrs) in &mut config.listen {
            let Some(given) = listen.get(*service) else {
                continue;
            };
            let mut parsed = Vec::with_capacity(given.len());
            for addr in given {
                let value: SocketAddr = addr.get_ref().trim().parse().map_err(|_| {
                    fail(
                        addr.span(),
                        &format!("listen.{}", service.name()),
                        format!(
                            "invalid address '{}' (expected IP:PORT, e.g. 0.0.0.0:25 or [::]:25)",
                            addr.get_ref()
                        ),
                    )
                })?;
                parsed.push(value);
            }
            *addrs = parsed;
        }
        if let Some(smtp) = file.smtp {
            let span = smtp.span();
            let smtp = smtp.into_inner();
            mailroom_core::size::parse(&smtp.max_message_size)
                .map_err(|e| fail(span.clone(), "smtp.max_message_size", e.to_string()))?
                .ok_or_else(|| {
                    fail(
                        span.clone(),
                        "smtp.max_message_size",
                        "must be a size, not unlimited".into(),
                    )
                })?;
            if smtp.max_connections == 0
                || smtp.max_connections_per_ip == 0
                || smtp.max_recipients == 0
            {
                return Err(fail(
                    span,
                    "smtp",
                    "connection and recipient limits must be at least 1".into(),
                ));
            }
            config.smtp = smtp;
        }
        if let Some(outbound) = file.outbound {
            config.outbound = outbound;
        }
        if let Some(security) = file.security {
            config.security = security;
        }
        if let Some(dns) = file.dns {
            config.dns = dns;
        }
        if let Some(spam) = file.spam {
            if spam.greylist_delay_secs < 0 {
                bail!("{origin}: spam.greylist_delay_secs: must not be negative");
            }
            config.spam = spam;
        }
        if let Some(imap) = file.imap {
            let span = imap.span();
            let imap = imap.into_inner();
            if imap.max_connections == 0
                || imap.max_connections_per_ip == 0
                || imap.max_connections_per_account == 0
            {
                return Err(fail(
                    span,
                    "imap",
                    "connection limits must be at least 1".into(),
                ));
            }
            if imap.idle_timeout_secs < 30 * 60 {
                return Err(fail(
                    span,
                    "imap.idle_timeout_secs",
                    "must be at least 1800 (RFC 3501 5.4: 30 minutes)".into(),
                ));
            }
            config.imap = imap;
        }
        config.tls = file.tls.map(|t| TlsConfig {
            cert: t.cert,
            key: t.key,
        });
        Ok(config)
    }

    #[cfg(test)]
    pub fn listen_for(&self, service: Service) -> &[SocketAddr] {
        self.listen
            .iter()
            .find(|(s, _)| *s == service)
            .map_or(&[], |(_, a)| a.as_slice())
    }
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_gives_development_defaults() {
        let c = Config::defaults();
        assert_eq!(c.hostname, "localhost");
        assert_eq!(c.data_dir, PathBuf::from("./mailroom-data"));
        assert_eq!(
            c.listen_for(Service::Smtp),
            ["127.0.0.1:2525".parse().unwrap()]
        );
        assert_eq!(
            c.listen_for(Service::Http),
            ["127.0.0.1:8080".parse().unwrap()]
        );
        assert!(c.listen_for(Service::Https).is_empty());
    }

    #[test]
    fn a_full_file_is_read() {
        let c = Config::parse(
            r#"
hostname = "Mail.Example.test"
data_dir = "/var/lib/mailroom"
[listen]
smtp = ["0.0.0.0:25", "[::]:25"]
imap = []
[tls]
cert = "/etc/mailroom/cert.pem"
key = "/etc/mailroom/key.pem"
"#,
            "test.toml",
        )
        .unwrap();
        assert_eq!(c.hostname, "mail.example.test");
        assert_eq!(c.listen_for(Service::Smtp).len(), 2);
        assert!(c.listen_for(Service::Smtp)[1].is_ipv6());
        assert!(c.listen_for(Service::Imap).is_empty());
        // Keys left out keep their defaults.
        assert_eq!(
            c.listen_for(Service::Pop3),
            ["127.0.0.1:2110".parse().unwrap()]
        );
        assert_eq!(c.tls.unwrap().key, PathBuf::from("/etc/mailroom/key.pem"));
    }

    #[test]
    fn errors_name_the_key_and_the_line() {
        let cases = [
            (
                "hostnme = \"x\"\n",
                "test.toml:1:1",
                "unknown field `hostnme`",
            ),
            (
                "[listen]\nsmtp = [\"nonsense\"]\n",
                "test.toml:2:9",
                "listen.smtp: invalid address 'nonsense'",
            ),
            (
                "[listen]\nsmtpp = []\n",
                "test.toml:2:1",
                "unknown field `smtpp`",
            ),
            (
                "hostname = \"bad host\"\n",
                "test.toml:1:12",
                "hostname: invalid domain name",
            ),
            (
                "[tls]\ncert = \"/c.pem\"\n",
                "test.toml",
                "missing field `key`",
            ),
            ("hostname = 5\n", "test.toml:1:12", "invalid type"),
            (
                "[listen]\nimap = [\"1.2.3.4:99999\"]\n",
                "test.toml:2:9",
                "listen.imap",
            ),
            (
                "[imap]\nidle_timeout_secs = 60\n",
                "test.toml:1:1",
                "imap.idle_timeout_secs: must be at least 1800",
            ),
            (
                "[imap]\nmax_connections_per_account = 0\n",
                "test.toml:1:1",
                "imap: connection limits must be at least 1",
            ),
        ];
        for (text, at, what) in cases {
            let err = Config::parse(text, "test.toml").unwrap_err().to_string();
            assert!(err.starts_with(at), "{text:?} gave {err}");
            assert!(err.contains(what), "{text:?} gave {err}");
        }
    }
}

#[cfg(test)]
mod example {
    #[test]
    fn the_example_config_in_the_repository_is_valid() {
        let text = include_str!("../../../mailroom.example.toml");
        let config = super::Config::parse(text, "mailroom.example.toml").unwrap();
        assert_eq!(config.hostname, "mail.example.test");
    }
}
