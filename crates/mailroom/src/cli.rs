//! Command-line definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "mailroom",
    version,
    about = "The whole hosted mail service in one binary"
)]
pub struct Cli {
    /// Configuration file (TOML); without it, development defaults apply.
    #[arg(long, global = true, env = "MAILROOM_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Print results as JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start every configured listener and serve until SIGTERM or SIGINT.
    Serve,
    /// Manage hosted domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage aliases (one address to many, or a catch-all `@domain`).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Forward an account's mail to other addresses (sent on with SRS, so
    /// it passes SPF at the destination).
    #[command(subcommand)]
    Forward(ForwardCommand),
    /// Device passwords: one per mail client, required for IMAP, POP3 and
    /// SMTP once 2FA is on.
    #[command(subcommand, name = "device-password")]
    DevicePassword(DevicePasswordCommand),
    /// API keys for scripts (`Authorization: Bearer KEY`).
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Two-factor authentication (TOTP) of an account.
    #[command(subcommand, name = "2fa")]
    TwoFactor(TwoFactorCommand),
    /// The security log and banned client addresses.
    #[command(subcommand)]
    Security(SecurityCommand),
    /// Assign domains to DomainAdmin accounts.
    #[command(subcommand, name = "domain-admin")]
    DomainAdmin(DomainAdminCommand),
    /// The outbound queue: mail waiting for other domains.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Relay policy: blocked TLDs (default: icu), exempt domains, blocked
    /// senders. Their mail is accepted, then bounced with the reason.
    #[command(subcommand, name = "relay-policy")]
    RelayPolicy(RelayPolicyCommand),
    /// Global sending limits (per-account ones: `account set`).
    #[command(subcommand, name = "sending-limits")]
    SendingLimits(SendingLimitsCommand),
    /// The spam filter: check a message, train the classifier, scores.
    #[command(subcommand)]
    Spam(SpamCommand),
}

#[derive(Subcommand)]
pub enum SpamCommand {
    /// Score messages (files, directories of files, or standard input)
    /// without delivering them: the score, the verdict and every rule
    /// that fired.
    Check {
        /// Judge with this domain's thresholds (default: the global ones).
        #[arg(long)]
        domain: Option<String>,
        files: Vec<std::path::PathBuf>,
    },
    /// Train the global classifier with messages (files or directories);
    /// training the same message again changes nothing.
    Train {
        /// The messages are spam (else `--ham`).
        #[arg(long, conflicts_with = "ham", required_unless_present = "ham")]
        spam: bool,
        #[arg(long)]
        ham: bool,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Every rule's tag, its score and what it means.
    Scores,
    /// Change a rule's score (`default` restores the built-in one).
    Score { tag: String, score: String },
}

#[derive(Subcommand)]
pub enum RelayPolicyCommand {
    /// Every entry.
    List,
    /// Block a top-level domain, e.g. `icu`.
    BlockTld {
        tld: String,
    },
    UnblockTld {
        tld: String,
    },
    /// Let a domain send although its TLD is blocked.
    Exempt {
        domain: String,
    },
    Unexempt {
        domain: String,
    },
    /// Block a sender address or a whole domain (and its subdomains).
    BlockSender {
        sender: String,
    },
    UnblockSender {
        sender: String,
    },
}

#[derive(Subcommand)]
pub enum QueueCommand {
    /// Every queued message with its recipients' state.
    List,
    /// One message: its recipients, attempts and the last replies.
    Show { id: i64 },
    /// Try one message's pending recipients again now.
    Retry { id: i64 },
    /// Drop a message from the queue (its sender is not told).
    Delete { id: i64 },
    /// Try every pending recipient again now.
    Flush,
}

#[derive(Subcommand)]
pub enum SendingLimitsCommand {
    /// The global limits (defaults where none is set).
    Show,
    /// Set the global limits: capacity/drain time, e.g. 200/60s or 50/3.6m;
    /// `default` returns to the built-in value.
    Set {
        /// Mail to hosted domains (default 200/60s).
        #[arg(long)]
        local: Option<String>,
        /// Mail to other domains (default 50/216s).
        #[arg(long)]
        external: Option<String>,
        /// Recipients submitted from one client address (default 500/7s).
        #[arg(long)]
        per_ip: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DomainCommand {
    Add {
        name: String,
    },
    List,
    /// Remove a domain; refused while it has accounts or aliases unless forced.
    Remove {
        name: String,
        /// Also delete its accounts, aliases and all their mail.
        #[arg(long)]
        force: bool,
    },
    /// Stop service for a domain without losing any data.
    Suspend {
        name: String,
    },
    Resume {
        name: String,
    },
    /// The DNS records to publish for a domain: MX, SPF, DKIM (both keys),
    /// DMARC and the SRV records clients use to find the service.
    Dns {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum AccountCommand {
    Add {
        email: String,
        #[arg(long, default_value = "mail-user")]
        role: String,
        /// Storage quota, e.g. 2GiB, 500MB or unlimited.
        #[arg(long)]
        quota: Option<String>,
        #[command(flatten)]
        password: PasswordSource,
    },
    List {
        #[arg(long)]
        domain: Option<String>,
    },
    Show {
        email: String,
    },
    Set {
        email: String,
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        api_access: Option<bool>,
        #[arg(long)]
        quota: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// What a POP3 DELE does: trash (default; recoverable, visible to
        /// IMAP devices), expunge, or keep.
        #[arg(long)]
        pop3_delete: Option<String>,
        /// Sending limit for mail to hosted domains, e.g. 200/60s, or
        /// `default` for the global one.
        #[arg(long)]
        send_local: Option<String>,
        /// Sending limit for mail to other domains, e.g. 50/3.6m, or
        /// `default`.
        #[arg(long)]
        send_external: Option<String>,
    },
    /// Set a new password.
    Passwd {
        email: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Remove an account; refused while it holds mail unless forced.
    Remove {
        email: String,
        /// Also delete all its mail.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Import an existing hash ({SHA512-CRYPT}, {BLF-CRYPT}, {ARGON2ID} or
    /// argon2id); it is re-hashed on the next successful login.
    #[arg(long)]
    pub password_hash: Option<String>,
}

#[derive(Subcommand)]
pub enum AliasCommand {
    Add {
        source: String,
        #[arg(required = true)]
        destinations: Vec<String>,
    },
    List {
        #[arg(long)]
        domain: Option<String>,
    },
    Remove {
        source: String,
    },
}

#[derive(Subcommand)]
pub enum ForwardCommand {
    /// Forward ACCOUNT's mail to DESTINATIONS too (added to any it has).
    Add {
        account: String,
        #[arg(required = true)]
        destinations: Vec<String>,
        /// Whether the account keeps a copy in its own Inbox.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        keep_copy: bool,
    },
    List {
        #[arg(long)]
        domain: Option<String>,
    },
    /// Stop forwarding to DESTINATIONS, or to all when none are given.
    Remove {
        account: String,
        destinations: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum DevicePasswordCommand {
    /// Create one; the password is shown this once.
    Add {
        email: String,
        name: String,
    },
    List {
        email: String,
    },
    /// Revoke one: mail clients using it can no longer log in.
    Revoke {
        email: String,
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create one; the key is shown this once.
    Add {
        email: String,
        name: String,
        /// Only GET requests.
        #[arg(long)]
        read_only: bool,
        /// Expire after e.g. 30d or 12h (default: never).
        #[arg(long)]
        expires: Option<String>,
    },
    List {
        email: String,
    },
    Revoke {
        email: String,
        name: String,
    },
}

#[derive(Subcommand)]
pub enum TwoFactorCommand {
    /// Start enrolment: prints the secret and the otpauth:// URI.
    Setup {
        email: String,
        /// Also write the QR code to this PNG file.
        #[arg(long)]
        qr_png: Option<std::path::PathBuf>,
    },
    /// Finish enrolment with a code from the app; prints recovery codes.
    Confirm {
        email: String,
        code: String,
    },
    /// Turn 2FA off with a current code (or a recovery code).
    Disable {
        email: String,
        code: String,
    },
    /// Turn 2FA off without a code (the user lost the device).
    Reset {
        email: String,
    },
    Status {
        email: String,
    },
}

#[derive(Subcommand)]
pub enum SecurityCommand {
    /// Logins, failures, bans and changes to accounts' protection.
    Log {
        #[arg(long)]
        account: Option<String>,
        /// How far back: e.g. 30m, 24h, 7d.
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Client addresses banned for failed logins.
    Bans,
    /// Lift a ban.
    Unban { ip: String },
    /// The mandatory-2FA policy for MailUsers: show it, or change it.
    Policy {
        /// Whether MailUsers must turn 2FA on.
        #[arg(long, action = clap::ArgAction::Set)]
        mandatory_2fa: Option<bool>,
        /// Days a MailUser may stay without 2FA before being disabled.
        #[arg(long)]
        grace_days: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum DomainAdminCommand {
    Grant {
        email: String,
        domain: String,
    },
    Revoke {
        email: String,
        domain: String,
    },
    /// The domains an account administers.
    List {
        email: String,
    },
}
