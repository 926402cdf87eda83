use std::time::Duration;

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    Account, AccountChange, Alias, ApiKey, AttemptResult, Ban, BlobId, Copied, Delivered, Delivery,
    DevicePassword, DkimKey, Domain, Expunged, FlagChange, FlagOutcome, Flags, Forwarding, Mailbox,
    MessageMeta, NewAccount, NewQueued, Queued, Result, SecurityEvent, SendClass, SendLimit,
    SpamListEntry, SpamThresholds, SpecialUse, TotpState, WebSession,
};
use crate::{
    BayesCounts, DayStats, DomainLimits, DomainUsage, Greylisting, SendingBlock, StatKind,
};

/// Everything the application services need from persistent storage.
///
/// Callers see only this trait, so a back-end (embedded SQLite, PostgreSQL)
/// can be chosen at start without changing them. Every write returns only
/// once it is durable. Addresses and domain names are passed lower-case;
/// validating them and enforcing business rules is the caller's job, while
/// the store keeps referential integrity (no orphans, no duplicates).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The store's clock (seconds since the epoch; tests inject one).
    fn now(&self) -> i64;

    /// Cheap check that the store answers (for health endpoints).
    async fn ping(&self) -> Result<()>;

    // --- domains ---
    async fn domain_create(&self, name: &str) -> Result<Domain>;
    async fn domain_get(&self, name: &str) -> Result<Option<Domain>>;
    async fn domain_list(&self) -> Result<Vec<Domain>>;
    async fn domain_set_suspended(&self, name: &str, suspended: bool) -> Result<Domain>;
    /// Removes a domain. Without `force` it is refused while the domain still
    /// has accounts or aliases; with it, everything the domain owns goes too.
    async fn domain_remove(&self, name: &str, force: bool) -> Result<()>;

    // --- accounts ---
    /// Creates the account and its special folders in one transaction.
    async fn account_create(&self, account: NewAccount) -> Result<Account>;
    async fn account_get(&self, email: &str) -> Result<Option<Account>>;
    async fn account_by_id(&self, id: i64) -> Result<Option<Account>>;
    async fn account_list(&self, domain: Option<&str>) -> Result<Vec<Account>>;
    async fn account_update(&self, email: &str, change: AccountChange) -> Result<Account>;
    /// Records a POP3 login (time and client address).
    async fn account_note_pop3_use(&self, account_id: i64, ip: &str) -> Result<()>;
    /// Removes an account. Without `force` it is refused while the account
    /// still holds messages; with it, its mailboxes and messages go too.
    async fn account_remove(&self, email: &str, force: bool) -> Result<()>;

    // --- aliases ---
    /// Adds destinations to an alias, creating it if needed.
    async fn alias_add(&self, source: &str, destinations: &[String]) -> Result<Alias>;
    async fn alias_get(&self, source: &str) -> Result<Option<Alias>>;
    async fn alias_list(&self, domain: Option<&str>) -> Result<Vec<Alias>>;
    async fn alias_remove(&self, source: &str) -> Result<()>;

    // --- domain administrators ---
    async fn domain_admin_grant(&self, email: &str, domain: &str) -> Result<()>;
    async fn domain_admin_revoke(&self, email: &str, domain: &str) -> Result<()>;
    async fn domain_admin_domains(&self, email: &str) -> Result<Vec<String>>;

    // --- mailboxes and messages ---
    async fn mailbox_list(&self, account_id: i64) -> Result<Vec<Mailbox>>;
    async fn blob_get(&self, id: BlobId) -> Result<Vec<u8>>;
    /// Files one message into every target mailbox: the body is written once
    /// as a durable blob, then next UID, new MODSEQ and quota usage of every
    /// target are committed in one transaction.
    async fn deliver(&self, delivery: Delivery) -> Result<Vec<Delivered>>;
    /// Live and expunged messages of a mailbox, in UID order.
    async fn message_list(&self, mailbox_id: i64) -> Result<Vec<MessageMeta>>;
    async fn mailbox_get(&self, account_id: i64, name: &str) -> Result<Option<Mailbox>>;
    async fn mailbox_create(
        &self,
        account_id: i64,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<Mailbox>;
    /// Renames a mailbox and its inferiors (RFC 3501 6.3.5, INBOX included:
    /// its messages move to the new name, and what left INBOX is returned;
    /// nothing for any other mailbox).
    async fn mailbox_rename(&self, account_id: i64, from: &str, to: &str) -> Result<Expunged>;
    /// Deletes a mailbox; its messages stay recoverable as tombstones.
    async fn mailbox_delete(&self, account_id: i64, name: &str) -> Result<()>;
    async fn mailbox_subscribe(&self, account_id: i64, name: &str, subscribed: bool) -> Result<()>;
    /// Claims the \\Recent messages below `up_to` for one session: the
    /// first UID claimed, or None when none was left.
    async fn mailbox_claim_recent(&self, mailbox_id: i64, up_to: u32) -> Result<Option<u32>>;
    /// The names subscribed to, their mailboxes existing or not.
    async fn mailbox_subscriptions(&self, account_id: i64) -> Result<Vec<String>>;
    /// Adds a message to one mailbox (IMAP APPEND, imports).
    async fn append(
        &self,
        mailbox_id: i64,
        body: Arc<Vec<u8>>,
        flags: Flags,
        keywords: Vec<String>,
        internal_date: i64,
    ) -> Result<Delivered>;
    async fn set_flags(&self, mailbox_id: i64, change: FlagChange) -> Result<FlagOutcome>;
    /// Expunges live messages by UID (tombstones, out of the quota).
    async fn expunge(&self, mailbox_id: i64, uids: Vec<u32>) -> Result<Expunged>;
    /// Copies, or moves when `remove_source`, within one account.
    async fn copy_messages(
        &self,
        from: i64,
        uids: Vec<u32>,
        to: i64,
        remove_source: bool,
    ) -> Result<Copied>;
    /// Live messages with a UID of at least `min_uid`, in UID order.
    async fn messages_from_uid(&self, mailbox_id: i64, min_uid: u32) -> Result<Vec<MessageMeta>>;
    /// The message as a client sees it: the delivery prefix, then the blob.
    async fn message_content(&self, mailbox_id: i64, uid: u32) -> Result<Vec<u8>>;
    /// Whole messages of several UIDs in one read, for scans (SEARCH BODY);
    /// UIDs that no longer exist are left out.
    async fn message_contents(
        &self,
        mailbox_id: i64,
        uids: Vec<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>>;
    /// A sending limit stored for an account, or the global one for
    /// account 0; `None` when none is set there.
    async fn send_limit_get(&self, account_id: i64, class: SendClass) -> Result<Option<SendLimit>>;
    /// Sets (or with `None` removes) an account's or the global limit.
    async fn send_limit_set(
        &self,
        account_id: i64,
        class: SendClass,
        limit: Option<SendLimit>,
    ) -> Result<()>;
    /// Messages in an account's bucket now.
    async fn send_level(&self, account_id: i64, class: SendClass, limit: SendLimit) -> Result<f64>;
    /// Counts `count` messages against the bucket if they fit (`None`), or
    /// gives the seconds until they would.
    async fn send_take(
        &self,
        account_id: i64,
        class: SendClass,
        limit: SendLimit,
        count: u32,
    ) -> Result<Option<u64>>;
    /// Queues a message for other domains; durable when this returns.
    async fn queue_add(&self, queued: NewQueued) -> Result<i64>;
    async fn queue_get(&self, id: i64) -> Result<Option<Queued>>;
    async fn queue_list(&self) -> Result<Vec<Queued>>;
    /// Messages with a recipient due now.
    async fn queue_due(&self, skip: Vec<i64>, limit: usize) -> Result<Vec<Queued>>;
    /// When the next pending recipient is due.
    async fn queue_next_due(&self) -> Result<Option<i64>>;
    /// The bytes to send for a queued message (trace prefix and body).
    async fn queue_content(&self, id: i64) -> Result<Vec<u8>>;
    async fn queue_record(&self, results: Vec<AttemptResult>) -> Result<()>;
    async fn queue_remove(&self, id: i64) -> Result<()>;
    /// Remembers that the sender was told the message is delayed.
    async fn queue_mark_delay_notified(&self, id: i64) -> Result<()>;
    /// Makes pending recipients (of one message or all) due now.
    async fn queue_retry(&self, id: Option<i64>) -> Result<usize>;
    /// Relay policy entries of one kind (`tld`, `exempt`, `sender`).
    async fn relay_policy(&self, kind: &str) -> Result<Vec<String>>;
    /// Adds (`true`) or removes an entry; says whether anything changed.
    async fn relay_policy_set(&self, kind: &str, value: &str, present: bool) -> Result<bool>;
    /// Adds DKIM keys to a domain.
    async fn dkim_keys_add(&self, domain: &str, keys: Vec<DkimKey>) -> Result<()>;
    /// A domain's DKIM keys, oldest first.
    async fn dkim_keys(&self, domain: &str) -> Result<Vec<DkimKey>>;
    /// An account's forwards, if it has any.
    async fn forward_get(&self, account_id: i64) -> Result<Option<Forwarding>>;
    /// Replaces an account's forwards; an empty list removes them.
    async fn forward_set(
        &self,
        email: &str,
        destinations: Vec<String>,
        keep_copy: bool,
    ) -> Result<Option<Forwarding>>;
    /// Every account's forwards, or one domain's.
    async fn forward_list(&self, domain: Option<&str>) -> Result<Vec<Forwarding>>;
    /// A named server secret: the stored one, or `fresh` stored now.
    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> Result<Vec<u8>>;
    // --- account security ---
    async fn totp_get(&self, account_id: i64) -> Result<Option<TotpState>>;
    /// Stores (or with `None` removes) the enrolment; the account's
    /// `two_factor` follows `confirmed`. Recovery codes go with a removal.
    async fn totp_set(&self, account_id: i64, state: Option<TotpState>) -> Result<()>;
    /// Records a code's time step unless it (or a later one) was used.
    async fn totp_use_step(&self, account_id: i64, step: i64) -> Result<bool>;
    /// Replaces the recovery codes: (lookup, hash) pairs.
    async fn recovery_codes_set(&self, account_id: i64, codes: Vec<(String, String)>)
    -> Result<()>;
    /// The unused recovery code with this lookup: its hash.
    async fn recovery_code_get(&self, account_id: i64, lookup: &str) -> Result<Option<String>>;
    async fn recovery_code_use(&self, account_id: i64, lookup: &str) -> Result<bool>;
    async fn recovery_codes_left(&self, account_id: i64) -> Result<usize>;
    async fn device_password_add(&self, password: DevicePassword) -> Result<DevicePassword>;
    /// Device passwords (of any account) with this lookup.
    async fn device_password_find(&self, lookup: &str) -> Result<Vec<DevicePassword>>;
    async fn device_password_list(&self, account_id: i64) -> Result<Vec<DevicePassword>>;
    async fn device_password_remove(&self, account_id: i64, name: &str) -> Result<bool>;
    async fn device_password_used(&self, id: i64, ip: &str, protocol: &str) -> Result<()>;
    async fn security_event_add(&self, event: SecurityEvent) -> Result<()>;
    /// Newest first.
    async fn security_events(
        &self,
        account: Option<&str>,
        since: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SecurityEvent>>;
    /// Starts a session, ending the account's others (`replaced`).
    async fn session_start(&self, account_id: i64, digest: &str, ip: &str) -> Result<WebSession>;
    async fn session_get(&self, digest: &str) -> Result<Option<WebSession>>;
    async fn session_touch(&self, id: i64) -> Result<()>;
    async fn session_end(&self, id: i64, why: &str) -> Result<()>;
    /// Ends every live session of the account but `except` (a digest).
    async fn sessions_end_others(
        &self,
        account_id: i64,
        except: Option<&str>,
        why: &str,
    ) -> Result<()>;
    async fn api_key_add(&self, key: ApiKey) -> Result<ApiKey>;
    async fn api_key_get(&self, digest: &str) -> Result<Option<ApiKey>>;
    async fn api_key_list(&self, account_id: i64) -> Result<Vec<ApiKey>>;
    async fn api_key_remove(&self, account_id: i64, name: &str) -> Result<bool>;
    async fn api_key_used(&self, id: i64) -> Result<()>;
    /// Thresholds of a domain (`None`: the global ones), if set.
    async fn spam_thresholds(&self, domain: Option<&str>) -> Result<Option<SpamThresholds>>;
    async fn spam_thresholds_set(
        &self,
        domain: Option<&str>,
        thresholds: Option<SpamThresholds>,
    ) -> Result<()>;
    async fn spam_list(&self, domain: Option<&str>, list: &str) -> Result<Vec<SpamListEntry>>;
    /// Adds (`true`) or removes an entry; says whether anything changed.
    async fn spam_list_set(
        &self,
        domain: Option<&str>,
        entry: SpamListEntry,
        present: bool,
    ) -> Result<bool>;
    async fn domain_limits(&self, domain: &str) -> Result<(DomainLimits, DomainUsage)>;
    async fn domain_limits_set(&self, domain: &str, limits: DomainLimits) -> Result<()>;
    /// The totals of `owner`'s classifier (0: global) and the counts of
    /// `tokens`, in their order.
    async fn bayes_lookup(
        &self,
        owner: i64,
        tokens: Arc<Vec<u64>>,
    ) -> Result<(BayesCounts, Vec<BayesCounts>)>;
    /// Trains a message (by a stable key) for each owner, idempotently:
    /// trained the same way again changes nothing, the other way moves it.
    async fn bayes_train(
        &self,
        owners: Vec<i64>,
        message: String,
        tokens: Arc<Vec<u64>>,
        as_spam: bool,
    ) -> Result<bool>;
    /// How a message was trained for `owner`: `Some(true)` as spam.
    async fn bayes_trained(&self, owner: i64, message: &str) -> Result<Option<bool>>;
    /// Spam score overrides (tag, score).
    async fn spam_scores(&self) -> Result<Vec<(String, f64)>>;
    /// Sets (or with `None` removes) a score override.
    async fn spam_score_set(&self, tag: &str, score: Option<f64>) -> Result<()>;
    /// Greylisting of a (client, sender, recipient) triplet.
    async fn greylist(&self, triplet: &str, delay_secs: i64) -> Result<Greylisting>;
    /// Counts one event for a domain today (kept in memory until the next
    /// write; a domain that is not hosted is ignored).
    fn stats_count(&self, domain: &str, kind: StatKind);
    /// A domain's counts from `from_day` (days since the epoch) on.
    async fn stats_days(&self, domain: &str, from_day: i64) -> Result<Vec<DayStats>>;
    async fn sending_block_get(&self, account_id: i64) -> Result<Option<SendingBlock>>;
    /// Blocks (the first record stays while blocked) or unblocks the
    /// account; says whether anything changed.
    async fn sending_block_set(&self, account_id: i64, block: Option<SendingBlock>)
    -> Result<bool>;
    async fn sending_block_list(&self, domain: Option<&str>) -> Result<Vec<SendingBlock>>;
    async fn ban_get(&self, ip: &str) -> Result<Option<Ban>>;
    async fn ban_set(&self, ban: Ban) -> Result<()>;
    async fn ban_remove(&self, ip: &str) -> Result<bool>;
    async fn ban_list(&self) -> Result<Vec<Ban>>;
    /// A counter that grows whenever a credential is revoked or an
    /// account changes (open sessions re-check theirs when it moves).
    async fn credentials_epoch(&self) -> Result<u64>;
    /// A server-wide setting (integers: flags, counts, seconds).
    async fn setting_get(&self, name: &str) -> Result<Option<i64>>;
    async fn setting_set(&self, name: &str, value: i64) -> Result<()>;
    /// Deletes blob files no message has referred to for at least `grace`.
    async fn gc_blobs(&self, grace: Duration) -> Result<usize>;
}
