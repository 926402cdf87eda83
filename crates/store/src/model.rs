//! The data model shared by every back-end.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::BlobId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    pub id: i64,
    /// Lower-case, as every address is compared case-insensitively.
    pub name: String,
    pub suspended: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    MasterAdmin,
    DomainAdmin,
    MailUser,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::MasterAdmin => "master-admin",
            Role::DomainAdmin => "domain-admin",
            Role::MailUser => "mail-user",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "master-admin" => Ok(Role::MasterAdmin),
            "domain-admin" => Ok(Role::DomainAdmin),
            "mail-user" => Ok(Role::MailUser),
            other => Err(format!(
                "unknown role '{other}' (expected mail-user, domain-admin or master-admin)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub domain_id: i64,
    /// Lower-case `local@domain`.
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub enabled: bool,
    pub api_access: bool,
    /// Storage quota in bytes; `None` is unlimited.
    pub quota_bytes: Option<u64>,
    /// Bytes held by live (not expunged) messages.
    pub used_bytes: u64,
    pub created_at: i64,
    pub pop3_delete: Pop3Delete,
    /// When and from where POP3 was last used, so a forgotten POP3 client
    /// that empties the Inbox can be found.
    pub pop3_last_used_at: Option<i64>,
    pub pop3_last_ip: Option<String>,
    /// 2FA (TOTP) is on: mail clients must use device passwords.
    pub two_factor: bool,
    /// Why the account was disabled, when the system did it.
    pub disabled_reason: Option<String>,
    /// Since when 2FA has been off (`None` while it is on).
    pub two_factor_off_since: Option<i64>,
    /// Reminders to turn 2FA on sent since then.
    pub two_factor_notices: u32,
    /// Must set up 2FA (in the portal) before anything else works.
    pub must_enroll: bool,
    /// When the password was last changed (`None`: never since creation).
    pub password_changed_at: Option<i64>,
}

/// What POP3's DELE does to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pop3Delete {
    /// Move it to Trash, where other devices see it and it can be restored.
    Trash,
    /// Expunge it (still recoverable for 30 days).
    Expunge,
    /// Leave it in the Inbox.
    Keep,
}

impl Pop3Delete {
    pub fn as_str(self) -> &'static str {
        match self {
            Pop3Delete::Trash => "trash",
            Pop3Delete::Expunge => "expunge",
            Pop3Delete::Keep => "keep",
        }
    }
}

impl FromStr for Pop3Delete {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "trash" => Ok(Pop3Delete::Trash),
            "expunge" => Ok(Pop3Delete::Expunge),
            "keep" => Ok(Pop3Delete::Keep),
            other => Err(format!(
                "unknown POP3 delete mode '{other}' (expected trash, expunge or keep)"
            )),
        }
    }
}

/// What it takes to create an account; the caller has validated and hashed.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub quota_bytes: Option<u64>,
}

/// A partial update of an account: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub enabled: Option<bool>,
    pub api_access: Option<bool>,
    /// `Some(None)` removes the quota.
    pub quota_bytes: Option<Option<u64>>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub pop3_delete: Option<Pop3Delete>,
    /// `Some(None)` clears it; enabling the account clears it too.
    pub disabled_reason: Option<Option<String>>,
    pub two_factor_notices: Option<u32>,
    pub must_enroll: Option<bool>,
    /// Restarts the 2FA policy's count from this time.
    pub two_factor_off_since: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alias {
    /// `local@domain`, or `@domain` for a catch-all.
    pub source: String,
    pub destinations: Vec<String>,
}

/// An account's TOTP enrolment (RFC 6238).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpState {
    /// Base32, as given to the authenticator app.
    pub secret: String,
    /// False until a code from the app proved it was set up.
    pub confirmed: bool,
    /// The last time step a code was accepted for (no reuse).
    pub last_step: Option<i64>,
}

/// A per-device password for mail clients (the secret is only hashed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DevicePassword {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    #[serde(skip)]
    pub lookup: String,
    #[serde(skip)]
    pub hash: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub last_ip: Option<String>,
    pub last_protocol: Option<String>,
}

/// A portal/API login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebSession {
    pub id: i64,
    pub account_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
    /// Why it ended (`replaced`, `logout`), if it did.
    pub ended: Option<String>,
}

/// A key for scripts (`Authorization: Bearer`), not ended by logins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    #[serde(skip)]
    pub digest: String,
    pub read_only: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// Spam score thresholds (999 turns a step off).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpamThresholds {
    pub greylist: f64,
    pub junk: f64,
    pub reject: f64,
}

/// One allow- or block-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpamListEntry {
    /// `allow` or `block`.
    pub list: String,
    /// `domain`, `email` or `ip` (an address or CIDR).
    pub kind: String,
    pub value: String,
    pub created_at: i64,
}

/// Limits a MasterAdmin sets on a domain (`None`: no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainLimits {
    pub max_accounts: Option<u32>,
    pub max_aliases: Option<u32>,
    /// The most storage the domain's accounts may be given in quotas.
    pub max_storage_bytes: Option<u64>,
}

/// What a domain uses of its limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DomainUsage {
    pub accounts: u32,
    pub aliases: u32,
    /// The sum of the accounts' quotas.
    pub allocated_bytes: u64,
    /// Accounts without a quota.
    pub unlimited_accounts: u32,
    pub used_bytes: u64,
}

/// One entry of the security log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityEvent {
    pub at: i64,
    pub account: Option<String>,
    pub ip: Option<String>,
    pub protocol: Option<String>,
    /// e.g. `login-ok`, `login-failed`, `banned`, `2fa-on`.
    pub event: String,
    pub detail: Option<String>,
}

/// A client address refused for too many failed logins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ban {
    pub ip: String,
    pub until: i64,
    /// How many bans in a row (each one lasts twice as long).
    pub strikes: u32,
    pub reason: String,
    pub created_at: i64,
}

/// Where an account's mail is forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forwarding {
    pub account: String,
    pub destinations: Vec<String>,
    /// Whether the account keeps a copy in its own Inbox.
    pub keep_copy: bool,
}

/// RFC 6154 special-use attributes: the folders every account has, and an
/// archive folder a user may designate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SpecialUse {
    Inbox,
    Sent,
    Drafts,
    Junk,
    Trash,
    Archive,
}

impl SpecialUse {
    /// The folders created with every account, in display order.
    pub const DEFAULT_FOLDERS: [SpecialUse; 5] = [
        SpecialUse::Inbox,
        SpecialUse::Sent,
        SpecialUse::Drafts,
        SpecialUse::Junk,
        SpecialUse::Trash,
    ];

    /// Every attribute we keep.
    pub const ALL: [SpecialUse; 6] = [
        SpecialUse::Inbox,
        SpecialUse::Sent,
        SpecialUse::Drafts,
        SpecialUse::Junk,
        SpecialUse::Trash,
        SpecialUse::Archive,
    ];

    pub fn folder_name(self) -> &'static str {
        match self {
            SpecialUse::Inbox => "INBOX",
            SpecialUse::Sent => "Sent",
            SpecialUse::Drafts => "Drafts",
            SpecialUse::Junk => "Junk",
            SpecialUse::Trash => "Trash",
            SpecialUse::Archive => "Archive",
        }
    }

    /// A folder every account must keep (it cannot be deleted).
    pub fn is_required(self) -> bool {
        self != SpecialUse::Archive
    }

    /// The RFC 6154 attribute (`\Sent`); INBOX has none.
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            SpecialUse::Inbox => None,
            SpecialUse::Sent => Some("\\Sent"),
            SpecialUse::Drafts => Some("\\Drafts"),
            SpecialUse::Junk => Some("\\Junk"),
            SpecialUse::Trash => Some("\\Trash"),
            SpecialUse::Archive => Some("\\Archive"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpecialUse::Inbox => "inbox",
            SpecialUse::Sent => "sent",
            SpecialUse::Drafts => "drafts",
            SpecialUse::Junk => "junk",
            SpecialUse::Trash => "trash",
            SpecialUse::Archive => "archive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub special_use: Option<SpecialUse>,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highestmodseq: u64,
    pub subscribed: bool,
    /// The first UID no session has been told of yet: from here on the
    /// messages are \\Recent (RFC 3501 2.3.2) for the next one to look.
    pub recent_uid: u32,
}

/// System flags of RFC 3501 2.3.2, as a bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Flags(pub u8);

impl Flags {
    pub const SEEN: Flags = Flags(1);
    pub const ANSWERED: Flags = Flags(2);
    pub const FLAGGED: Flags = Flags(4);
    pub const DELETED: Flags = Flags(8);
    pub const DRAFT: Flags = Flags(16);

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// Where a delivery puts a message for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Folder {
    Special(SpecialUse),
    Id(i64),
}

/// One copy of a message for one account.
#[derive(Debug, Clone)]
pub struct DeliveryTarget {
    pub account_id: i64,
    pub folder: Folder,
    /// Headers added for this delivery (Received, Authentication-Results,
    /// spam verdict), stored in front of the shared blob.
    pub prefix: Vec<u8>,
    pub flags: Flags,
}

/// A message stored once and delivered to one or more mailboxes.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The message as received, shared by every target.
    pub body: std::sync::Arc<Vec<u8>>,
    pub internal_date: i64,
    pub targets: Vec<DeliveryTarget>,
}

/// Where one copy of a delivered message landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub account_id: i64,
    pub mailbox_id: i64,
    pub uid: u32,
    pub modseq: u64,
    /// What the new message looks like, so in-memory mailbox state can
    /// take it without reading it back.
    pub flags: Flags,
    pub keywords: Vec<String>,
    pub internal_date: i64,
    pub size: u64,
    pub blob: BlobId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageMeta {
    pub id: i64,
    pub mailbox_id: i64,
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    pub keywords: Vec<String>,
    pub internal_date: i64,
    /// Size as a client sees it: prefix plus blob.
    pub size: u64,
    pub blob: BlobId,
    pub expunged_at: Option<i64>,
}

/// How STORE changes flags (RFC 3501 6.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone)]
pub struct FlagChange {
    pub uids: Vec<u32>,
    pub op: FlagOp,
    pub flags: Flags,
    pub keywords: Vec<String>,
    /// RFC 7162 UNCHANGEDSINCE: leave messages modified after this MODSEQ.
    pub unchanged_since: Option<u64>,
}

/// The new state of one message after a flag change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagUpdate {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagOutcome {
    pub updated: Vec<FlagUpdate>,
    /// UIDs left alone because they changed after UNCHANGEDSINCE.
    pub modified: Vec<u32>,
}

/// Messages removed from a mailbox (kept as tombstones for recovery).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expunged {
    pub uids: Vec<u32>,
    pub modseq: u64,
}

/// The result of COPY or MOVE (RFC 4315 COPYUID data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub uidvalidity: u32,
    /// (source UID, destination UID) in source UID order.
    pub pairs: Vec<(u32, u32)>,
    /// The destination's new messages, for change events.
    pub delivered: Vec<Delivered>,
    /// For a move: what left the source.
    pub expunged: Expunged,
}

/// What a sending limit applies to: an account's mail to hosted domains
/// or elsewhere, or every recipient submitted from one client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendClass {
    Local,
    External,
    PerIp,
}

impl SendClass {
    /// The classes an account has buckets for.
    pub const ACCOUNT: [SendClass; 2] = [SendClass::Local, SendClass::External];
    pub const ALL: [SendClass; 3] = [SendClass::Local, SendClass::External, SendClass::PerIp];

    pub fn as_str(self) -> &'static str {
        match self {
            SendClass::Local => "local",
            SendClass::External => "external",
            SendClass::PerIp => "per-ip",
        }
    }
}

/// A leaky bucket: it holds `capacity` messages and one leaves it every
/// `drain_secs` seconds; a message that does not fit waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SendLimit {
    pub capacity: u32,
    pub drain_secs: u32,
}

impl fmt::Display for SendLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.capacity, self.drain_secs)
    }
}

impl FromStr for SendLimit {
    type Err = String;

    /// `200/60s`, `50/3.6m`, `1000/1h`: capacity, then how long one
    /// message takes to drain.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let bad =
            || format!("invalid sending limit '{text}': expected e.g. 200/60s, 50/3.6m or 20/1h");
        let (capacity, period) = text.trim().split_once('/').ok_or_else(bad)?;
        let capacity: u32 = capacity.trim().parse().map_err(|_| bad())?;
        let period = period.trim();
        let (number, unit) = period.split_at(period.len().saturating_sub(1));
        let scale = match unit {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        let value: f64 = number.parse().map_err(|_| bad())?;
        let drain_secs = (value * scale).round();
        if capacity == 0 || !(1.0..=86_400.0 * 30.0).contains(&drain_secs) {
            return Err(bad());
        }
        Ok(SendLimit {
            capacity,
            drain_secs: drain_secs as u32,
        })
    }
}

/// A domain's DKIM signing key. The private key never leaves the store
/// except to sign; `public_key` is the `p=` value of its DNS record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DkimKey {
    pub selector: String,
    /// `rsa-sha256` or `ed25519-sha256`.
    pub algorithm: String,
    #[serde(skip)]
    pub private_key: String,
    pub public_key: String,
    pub created_at: i64,
}

/// A message for other domains, waiting in the outbound queue.
#[derive(Debug, Clone)]
pub struct NewQueued {
    pub account_id: Option<i64>,
    /// The envelope sender (bounces go back to it).
    pub sender: String,
    pub recipients: Vec<String>,
    /// Trace headers for this hop, sent before the body.
    pub prefix: Vec<u8>,
    pub body: std::sync::Arc<Vec<u8>>,
}

/// Where one recipient of a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientStatus {
    Pending,
    Delivered,
    Failed,
}

impl RecipientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::Delivered => "delivered",
            RecipientStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "delivered" => RecipientStatus::Delivered,
            "failed" => RecipientStatus::Failed,
            _ => RecipientStatus::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedRecipient {
    pub address: String,
    pub domain: String,
    pub status: RecipientStatus,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_host: Option<String>,
    pub last_reply: Option<String>,
}

/// A queued message with its recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queued {
    pub id: i64,
    pub account_id: Option<i64>,
    pub sender: String,
    pub created_at: i64,
    /// The sender was told the message is delayed.
    pub delay_notified: bool,
    pub size: u64,
    pub recipients: Vec<QueuedRecipient>,
}

/// What one delivery attempt to one recipient came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub queue_id: i64,
    pub address: String,
    pub status: RecipientStatus,
    /// When to try again (pending only).
    pub next_attempt_at: i64,
    pub host: Option<String>,
    pub reply: Option<String>,
}

/// What is counted per domain and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatKind {
    /// A message filed into an account of the domain.
    Received,
    /// A message submitted by an account of the domain.
    Sent,
    /// A recipient or message of the domain refused.
    Rejected,
}

/// A domain's counts on one day (days since the Unix epoch, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DayStats {
    pub day: i64,
    pub received: u64,
    pub sent: u64,
    pub rejected: u64,
}

/// An account blocked from sending because it looked abusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendingBlock {
    pub email: String,
    pub reason: String,
    /// The counts that tripped the block, one sentence each.
    pub evidence: Vec<String>,
    /// Sample Message-IDs of the mail involved.
    pub message_ids: Vec<String>,
    pub blocked_at: i64,
}

/// How many spam and ham messages contained a token, or were trained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BayesCounts {
    pub spam: u32,
    pub ham: u32,
}

/// What the greylist says about a triplet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Greylisting {
    /// Known (retried after the delay before): accept.
    Pass,
    /// New or too early: try again in this many seconds.
    Wait(i64),
}
