//! The embedded back-end: SQLite in WAL mode plus the filesystem blob store.

mod bayes;
mod blobs;
mod directory;
mod forwards;
mod mail;
mod mailbox_ops;
mod queue;
mod readers;
mod schema;
mod security;
mod sending;
mod spam;
mod stats;
mod web_sessions;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::Connection;

use crate::{
    Account, AccountChange, Alias, ApiKey, AttemptResult, Ban, BayesCounts, BlobId, BlobStore,
    Clock, Copied, DayStats, Delivered, Delivery, DevicePassword, DkimKey, Domain, Expunged,
    FlagChange, FlagOutcome, Flags, Forwarding, Greylisting, Mailbox, MessageMeta, NewAccount,
    NewQueued, Queued, Result, SecurityEvent, SendClass, SendLimit, SendingBlock, SpamListEntry,
    SpamThresholds, SpecialUse, StatKind, Store, StoreError, TotpState, WebSession,
};
use crate::{DomainLimits, DomainUsage};
use readers::Readers;
use writer::Writer;

pub use schema::SCHEMA_VERSION;

/// SQLite store rooted in a data directory: `mailroom.db` and `blobs/`.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    readers: Readers,
    writer: Writer,
    blobs: Arc<BlobStore>,
    clock: Arc<dyn Clock>,
    stats: Arc<stats::PendingStats>,
}

/// Several processes (the server and the CLI) share the database; a writer
/// waits this long for another one before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer. FULL: every commit is fsynced,
    // so an acknowledged write survives a crash or power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Reads map the file instead of copying every page through read():
    // large scans (SEARCH BODY, many bodies) read each page once, from the
    // page cache. Writes still go through the WAL as before.
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens the store in `data_dir`, creating and migrating it as needed.
    pub fn open(data_dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Result<Self> {
        let data_dir = data_dir.into();
        std::fs::create_dir_all(&data_dir)?;
        let db_path = data_dir.join("mailroom.db");
        let mut conn = open_connection(&db_path)?;
        schema::migrate(&mut conn)?;
        let blobs = Arc::new(BlobStore::open(data_dir.join("blobs"))?);
        let pending = Arc::new(stats::PendingStats::default());
        Ok(Self {
            inner: Arc::new(Inner {
                readers: Readers::new(db_path),
                writer: Writer::start(conn, pending.clone()),
                blobs,
                clock,
                stats: pending,
            }),
        })
    }

    /// The schema version found in a data directory, without migrating it.
    pub fn schema_version(data_dir: &Path) -> Result<i64> {
        schema::version(&open_connection(&data_dir.join("mailroom.db"))?)
    }

    /// Finishes queued writes and stops the writer; later calls fail.
    pub fn close(&self) {
        self.inner.writer.close();
    }

    async fn read<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.readers.with(read))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner.writer.write(work).await
    }

    /// Writes a body durably on a blocking thread.
    async fn put_blob(&self, body: Arc<Vec<u8>>) -> Result<BlobId> {
        if body.len() <= blobs::INLINE_MAX {
            return Ok(BlobId::of(&body));
        }
        let files = self.inner.blobs.clone();
        tokio::task::spawn_blocking(move || blobs::prepare(&files, &body))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    async fn ping(&self) -> Result<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn domain_create(&self, name: &str) -> Result<Domain> {
        let (name, now) = (name.to_string(), self.now());
        self.write(move |c| directory::domain_create(c, &name, now))
            .await
    }

    async fn domain_get(&self, name: &str) -> Result<Option<Domain>> {
        let name = name.to_string();
        self.read(move |c| directory::domain_get(c, &name)).await
    }

    async fn domain_list(&self) -> Result<Vec<Domain>> {
        self.read(directory::domain_list).await
    }

    async fn domain_set_suspended(&self, name: &str, suspended: bool) -> Result<Domain> {
        let name = name.to_string();
        self.write(move |c| directory::domain_set_suspended(c, &name, suspended))
            .await
    }

    async fn domain_remove(&self, name: &str, force: bool) -> Result<()> {
        let name = name.to_string();
        self.write(move |c| directory::domain_remove(c, &name, force))
            .await
    }

    async fn account_create(&self, account: NewAccount) -> Result<Account> {
        let now = self.now();
        self.write(move |c| directory::account_create(c, &account, now))
            .await
    }

    async fn account_get(&self, email: &str) -> Result<Option<Account>> {
        let email = email.to_string();
        self.read(move |c| directory::account_get(c, &email)).await
    }

    async fn account_by_id(&self, id: i64) -> Result<Option<Account>> {
        self.read(move |c| directory::account_by_id(c, id)).await
    }

    async fn account_list(&self, domain: Option<&str>) -> Result<Vec<Account>> {
        let domain = domain.map(str::to_string);
        self.read(move |c| directory::account_list(c, domain.as_deref()))
            .await
    }

    async fn account_update(&self, email: &str, change: AccountChange) -> Result<Account> {
        let email = email.to_string();
        let now = self.now();
        self.write(move |c| directory::account_update(c, &email, &change, now))
            .await
    }

    async fn account_note_pop3_use(&self, account_id: i64, ip: &str) -> Result<()> {
        let (ip, now) = (ip.to_string(), self.now());
        self.write(move |c| directory::note_pop3_use(c, account_id, &ip, now))
            .await
    }

    async fn account_remove(&self, email: &str, force: bool) -> Result<()> {
        let email = email.to_string();
        self.write(move |c| directory::account_remove(c, &email, force))
            .await
    }

    async fn alias_add(&self, source: &str, destinations: &[String]) -> Result<Alias> {
        let (source, destinations) = (source.to_string(), destinations.to_vec());
        self.write(move |c| directory::alias_add(c, &source, &destinations))
            .await
    }

    async fn alias_get(&self, source: &str) -> Result<Option<Alias>> {
        let source = source.to_string();
        self.read(move |c| directory::alias_get(c, &source)).await
    }

    async fn alias_list(&self, domain: Option<&str>) -> Result<Vec<Alias>> {
        let domain = domain.map(str::to_string);
        self.read(move |c| directory::alias_list(c, domain.as_deref()))
            .await
    }

    async fn alias_remove(&self, source: &str) -> Result<()> {
        let source = source.to_string();
        self.write(move |c| directory::alias_remove(c, &source))
            .await
    }

    async fn domain_admin_grant(&self, email: &str, domain: &str) -> Result<()> {
        let (email, domain) = (email.to_string(), domain.to_string());
        self.write(move |c| directory::domain_admin_grant(c, &email, &domain))
            .await
    }

    async fn domain_admin_revoke(&self, email: &str, domain: &str) -> Result<()> {
        let (email, domain) = (email.to_string(), domain.to_string());
        self.write(move |c| directory::domain_admin_revoke(c, &email, &domain))
            .await
    }

    async fn domain_admin_domains(&self, email: &str) -> Result<Vec<String>> {
        let email = email.to_string();
        self.read(move |c| directory::domain_admin_domains(c, &email))
            .await
    }

    async fn mailbox_list(&self, account_id: i64) -> Result<Vec<Mailbox>> {
        self.read(move |c| mail::mailbox_list(c, account_id)).await
    }

    async fn blob_get(&self, id: BlobId) -> Result<Vec<u8>> {
        let files = self.inner.blobs.clone();
        self.read(move |c| blobs::load(c, &files, id)).await
    }

    async fn deliver(&self, delivery: Delivery) -> Result<Vec<Delivered>> {
        let blob = self.put_blob(delivery.body.clone()).await?;
        let files = self.inner.blobs.clone();
        self.write(move |c| {
            blobs::record(c, &files, blob, &delivery.body)?;
            mail::deliver(c, &delivery, blob)
        })
        .await
    }

    async fn message_list(&self, mailbox_id: i64) -> Result<Vec<MessageMeta>> {
        self.read(move |c| mail::message_list(c, mailbox_id)).await
    }

    async fn mailbox_get(&self, account_id: i64, name: &str) -> Result<Option<Mailbox>> {
        let name = name.to_string();
        self.read(move |c| mail::mailbox_by_name(c, account_id, &name))
            .await
    }

    async fn mailbox_create(
        &self,
        account_id: i64,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<Mailbox> {
        let (name, now) = (name.to_string(), self.now());
        self.write(move |c| mailbox_ops::create(c, account_id, &name, special_use, now))
            .await
    }

    async fn mailbox_rename(&self, account_id: i64, from: &str, to: &str) -> Result<Expunged> {
        let (from, to, now) = (from.to_string(), to.to_string(), self.now());
        self.write(move |c| mailbox_ops::rename(c, account_id, &from, &to, now))
            .await
    }

    async fn mailbox_delete(&self, account_id: i64, name: &str) -> Result<()> {
        let (name, now) = (name.to_string(), self.now());
        self.write(move |c| mailbox_ops::delete(c, account_id, &name, now))
            .await
    }

    async fn mailbox_subscribe(&self, account_id: i64, name: &str, subscribed: bool) -> Result<()> {
        let name = name.to_string();
        self.write(move |c| mailbox_ops::subscribe(c, account_id, &name, subscribed))
            .await
    }

    async fn mailbox_claim_recent(&self, mailbox_id: i64, up_to: u32) -> Result<Option<u32>> {
        self.write(move |c| mailbox_ops::claim_recent(c, mailbox_id, up_to))
            .await
    }

    async fn mailbox_subscriptions(&self, account_id: i64) -> Result<Vec<String>> {
        self.read(move |c| mailbox_ops::subscriptions(c, account_id))
            .await
    }

    async fn append(
        &self,
        mailbox_id: i64,
        body: Arc<Vec<u8>>,
        flags: Flags,
        keywords: Vec<String>,
        internal_date: i64,
    ) -> Result<Delivered> {
        let blob = self.put_blob(body.clone()).await?;
        let files = self.inner.blobs.clone();
        self.write(move |c| {
            blobs::record(c, &files, blob, &body)?;
            let size = body.len() as u64;
            mailbox_ops::append(c, mailbox_id, blob, size, flags, &keywords, internal_date)
        })
        .await
    }

    async fn set_flags(&self, mailbox_id: i64, change: FlagChange) -> Result<FlagOutcome> {
        self.write(move |c| mailbox_ops::set_flags(c, mailbox_id, &change))
            .await
    }

    async fn expunge(&self, mailbox_id: i64, uids: Vec<u32>) -> Result<Expunged> {
        let now = self.now();
        self.write(move |c| mailbox_ops::expunge(c, mailbox_id, &uids, now))
            .await
    }

    async fn copy_messages(
        &self,
        from: i64,
        uids: Vec<u32>,
        to: i64,
        remove_source: bool,
    ) -> Result<Copied> {
        let now = self.now();
        self.write(move |c| mailbox_ops::copy(c, from, &uids, to, remove_source, now))
            .await
    }

    async fn messages_from_uid(&self, mailbox_id: i64, min_uid: u32) -> Result<Vec<MessageMeta>> {
        self.read(move |c| mail::messages_from_uid(c, mailbox_id, min_uid))
            .await
    }

    async fn message_content(&self, mailbox_id: i64, uid: u32) -> Result<Vec<u8>> {
        let files = self.inner.blobs.clone();
        self.read(move |c| mail::message_content(c, &files, mailbox_id, uid))
            .await
    }

    async fn message_contents(
        &self,
        mailbox_id: i64,
        uids: Vec<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>> {
        let files = self.inner.blobs.clone();
        self.read(move |c| {
            // One read transaction for the batch: one snapshot, one lock.
            let _snapshot = c.unchecked_transaction()?;
            let mut found = Vec::with_capacity(uids.len());
            for uid in uids {
                match mail::message_content(c, &files, mailbox_id, uid) {
                    Ok(content) => found.push((uid, content)),
                    Err(StoreError::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        })
        .await
    }

    async fn send_limit_get(&self, account_id: i64, class: SendClass) -> Result<Option<SendLimit>> {
        self.read(move |c| sending::limit_get(c, account_id, class))
            .await
    }

    async fn send_limit_set(
        &self,
        account_id: i64,
        class: SendClass,
        limit: Option<SendLimit>,
    ) -> Result<()> {
        self.write(move |c| sending::limit_set(c, account_id, class, limit))
            .await
    }

    async fn send_level(&self, account_id: i64, class: SendClass, limit: SendLimit) -> Result<f64> {
        let now = self.now();
        self.read(move |c| sending::level(c, account_id, class, limit, now))
            .await
    }

    async fn send_take(
        &self,
        account_id: i64,
        class: SendClass,
        limit: SendLimit,
        count: u32,
    ) -> Result<Option<u64>> {
        let now = self.now();
        // On the writer, so two sessions cannot both take the last room.
        self.write(move |c| sending::take(c, account_id, class, limit, count, now))
            .await
    }

    async fn queue_add(&self, queued: NewQueued) -> Result<i64> {
        let blob = self.put_blob(queued.body.clone()).await?;
        let files = self.inner.blobs.clone();
        let now = self.now();
        self.write(move |c| {
            blobs::record(c, &files, blob, &queued.body)?;
            queue::add(c, &queued, blob, now)
        })
        .await
    }

    async fn queue_get(&self, id: i64) -> Result<Option<Queued>> {
        self.read(move |c| queue::get(c, id)).await
    }

    async fn queue_list(&self) -> Result<Vec<Queued>> {
        self.read(queue::list).await
    }

    async fn queue_due(&self, skip: Vec<i64>, limit: usize) -> Result<Vec<Queued>> {
        let now = self.now();
        self.read(move |c| queue::due(c, now, &skip, limit)).await
    }

    async fn queue_next_due(&self) -> Result<Option<i64>> {
        self.read(queue::next_due).await
    }

    async fn queue_content(&self, id: i64) -> Result<Vec<u8>> {
        let files = self.inner.blobs.clone();
        self.read(move |c| queue::content(c, &files, id)).await
    }

    async fn queue_record(&self, results: Vec<AttemptResult>) -> Result<()> {
        self.write(move |c| queue::record(c, &results)).await
    }

    async fn queue_remove(&self, id: i64) -> Result<()> {
        self.write(move |c| queue::remove(c, id)).await
    }

    async fn queue_mark_delay_notified(&self, id: i64) -> Result<()> {
        self.write(move |c| queue::mark_delay_notified(c, id)).await
    }

    async fn queue_retry(&self, id: Option<i64>) -> Result<usize> {
        let now = self.now();
        self.write(move |c| queue::retry(c, id, now)).await
    }

    async fn relay_policy(&self, kind: &str) -> Result<Vec<String>> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT value FROM relay_policy WHERE kind = ?1 ORDER BY value")?;
            let values = stmt
                .query_map([kind], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(values)
        })
        .await
    }

    async fn relay_policy_set(&self, kind: &str, value: &str, present: bool) -> Result<bool> {
        let (kind, value) = (kind.to_string(), value.to_string());
        self.write(move |c| {
            let changed = if present {
                c.execute(
                    "INSERT OR IGNORE INTO relay_policy (kind, value) VALUES (?1, ?2)",
                    [&kind, &value],
                )?
            } else {
                c.execute(
                    "DELETE FROM relay_policy WHERE kind = ?1 AND value = ?2",
                    [&kind, &value],
                )?
            };
            Ok(changed > 0)
        })
        .await
    }

    async fn dkim_keys_add(&self, domain: &str, keys: Vec<DkimKey>) -> Result<()> {
        let domain = domain.to_string();
        self.write(move |c| directory::dkim_keys_add(c, &domain, &keys))
            .await
    }

    async fn dkim_keys(&self, domain: &str) -> Result<Vec<DkimKey>> {
        let domain = domain.to_string();
        self.read(move |c| directory::dkim_keys(c, &domain)).await
    }

    async fn forward_get(&self, account_id: i64) -> Result<Option<Forwarding>> {
        self.read(move |c| forwards::get(c, account_id)).await
    }

    async fn forward_set(
        &self,
        email: &str,
        destinations: Vec<String>,
        keep_copy: bool,
    ) -> Result<Option<Forwarding>> {
        let email = email.to_string();
        self.write(move |c| forwards::set(c, &email, &destinations, keep_copy))
            .await
    }

    async fn forward_list(&self, domain: Option<&str>) -> Result<Vec<Forwarding>> {
        let domain = domain.map(str::to_string);
        self.read(move |c| forwards::list(c, domain.as_deref()))
            .await
    }

    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> Result<Vec<u8>> {
        let name = name.to_string();
        self.write(move |c| forwards::secret(c, &name, &fresh))
            .await
    }

    async fn totp_get(&self, account_id: i64) -> Result<Option<TotpState>> {
        self.read(move |c| security::totp_get(c, account_id)).await
    }

    async fn totp_set(&self, account_id: i64, state: Option<TotpState>) -> Result<()> {
        let now = self.now();
        self.write(move |c| security::totp_set(c, account_id, state.as_ref(), now))
            .await
    }

    async fn totp_use_step(&self, account_id: i64, step: i64) -> Result<bool> {
        self.write(move |c| security::totp_use_step(c, account_id, step))
            .await
    }

    async fn recovery_codes_set(
        &self,
        account_id: i64,
        codes: Vec<(String, String)>,
    ) -> Result<()> {
        self.write(move |c| security::recovery_codes_set(c, account_id, &codes))
            .await
    }

    async fn recovery_code_get(&self, account_id: i64, lookup: &str) -> Result<Option<String>> {
        let lookup = lookup.to_string();
        self.read(move |c| security::recovery_code_get(c, account_id, &lookup))
            .await
    }

    async fn recovery_code_use(&self, account_id: i64, lookup: &str) -> Result<bool> {
        let (lookup, now) = (lookup.to_string(), self.now());
        self.write(move |c| security::recovery_code_use(c, account_id, &lookup, now))
            .await
    }

    async fn recovery_codes_left(&self, account_id: i64) -> Result<usize> {
        self.read(move |c| security::recovery_codes_left(c, account_id))
            .await
    }

    async fn device_password_add(&self, password: DevicePassword) -> Result<DevicePassword> {
        self.write(move |c| security::device_add(c, &password))
            .await
    }

    async fn device_password_find(&self, lookup: &str) -> Result<Vec<DevicePassword>> {
        let lookup = lookup.to_string();
        self.read(move |c| security::device_find(c, &lookup)).await
    }

    async fn device_password_list(&self, account_id: i64) -> Result<Vec<DevicePassword>> {
        self.read(move |c| security::device_list(c, account_id))
            .await
    }

    async fn device_password_remove(&self, account_id: i64, name: &str) -> Result<bool> {
        let name = name.to_string();
        self.write(move |c| security::device_remove(c, account_id, &name))
            .await
    }

    async fn device_password_used(&self, id: i64, ip: &str, protocol: &str) -> Result<()> {
        let (ip, protocol, now) = (ip.to_string(), protocol.to_string(), self.now());
        self.write(move |c| security::device_used(c, id, &ip, &protocol, now))
            .await
    }

    async fn security_event_add(&self, event: SecurityEvent) -> Result<()> {
        self.write(move |c| security::event_add(c, &event)).await
    }

    async fn security_events(
        &self,
        account: Option<&str>,
        since: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SecurityEvent>> {
        let account = account.map(str::to_string);
        self.read(move |c| security::events(c, account.as_deref(), since, limit))
            .await
    }

    async fn session_start(&self, account_id: i64, digest: &str, ip: &str) -> Result<WebSession> {
        let (digest, ip, now) = (digest.to_string(), ip.to_string(), self.now());
        self.write(move |c| web_sessions::start(c, account_id, &digest, &ip, now))
            .await
    }

    async fn session_get(&self, digest: &str) -> Result<Option<WebSession>> {
        let digest = digest.to_string();
        self.read(move |c| web_sessions::get(c, &digest)).await
    }

    async fn session_touch(&self, id: i64) -> Result<()> {
        let now = self.now();
        self.write(move |c| web_sessions::touch(c, id, now)).await
    }

    async fn session_end(&self, id: i64, why: &str) -> Result<()> {
        let why = why.to_string();
        self.write(move |c| web_sessions::end(c, id, &why)).await
    }

    async fn sessions_end_others(
        &self,
        account_id: i64,
        except: Option<&str>,
        why: &str,
    ) -> Result<()> {
        let (except, why) = (except.map(str::to_string), why.to_string());
        self.write(move |c| web_sessions::end_others(c, account_id, except.as_deref(), &why))
            .await
    }

    async fn api_key_add(&self, key: ApiKey) -> Result<ApiKey> {
        self.write(move |c| web_sessions::key_add(c, &key)).await
    }

    async fn api_key_get(&self, digest: &str) -> Result<Option<ApiKey>> {
        let digest = digest.to_string();
        self.read(move |c| web_sessions::key_get(c, &digest)).await
    }

    async fn api_key_list(&self, account_id: i64) -> Result<Vec<ApiKey>> {
        self.read(move |c| web_sessions::key_list(c, account_id))
            .await
    }

    async fn api_key_remove(&self, account_id: i64, name: &str) -> Result<bool> {
        let name = name.to_string();
        self.write(move |c| web_sessions::key_remove(c, account_id, &name))
            .await
    }

    async fn api_key_used(&self, id: i64) -> Result<()> {
        let now = self.now();
        self.write(move |c| web_sessions::key_used(c, id, now))
            .await
    }

    async fn spam_thresholds(&self, domain: Option<&str>) -> Result<Option<SpamThresholds>> {
        let domain = domain.map(str::to_string);
        self.read(move |c| spam::thresholds(c, domain.as_deref()))
            .await
    }

    async fn spam_thresholds_set(
        &self,
        domain: Option<&str>,
        thresholds: Option<SpamThresholds>,
    ) -> Result<()> {
        let domain = domain.map(str::to_string);
        self.write(move |c| spam::thresholds_set(c, domain.as_deref(), thresholds))
            .await
    }

    async fn spam_list(&self, domain: Option<&str>, list: &str) -> Result<Vec<SpamListEntry>> {
        let (domain, list) = (domain.map(str::to_string), list.to_string());
        self.read(move |c| spam::list(c, domain.as_deref(), &list))
            .await
    }

    async fn spam_list_set(
        &self,
        domain: Option<&str>,
        entry: SpamListEntry,
        present: bool,
    ) -> Result<bool> {
        let domain = domain.map(str::to_string);
        self.write(move |c| spam::list_set(c, domain.as_deref(), &entry, present))
            .await
    }

    async fn domain_limits(&self, domain: &str) -> Result<(DomainLimits, DomainUsage)> {
        let domain = domain.to_string();
        self.read(move |c| spam::limits(c, &domain)).await
    }

    async fn domain_limits_set(&self, domain: &str, limits: DomainLimits) -> Result<()> {
        let domain = domain.to_string();
        self.write(move |c| spam::limits_set(c, &domain, &limits))
            .await
    }

    async fn bayes_lookup(
        &self,
        owner: i64,
        tokens: Arc<Vec<u64>>,
    ) -> Result<(BayesCounts, Vec<BayesCounts>)> {
        self.read(move |c| bayes::lookup(c, owner, &tokens)).await
    }

    async fn bayes_train(
        &self,
        owners: Vec<i64>,
        message: String,
        tokens: Arc<Vec<u64>>,
        as_spam: bool,
    ) -> Result<bool> {
        self.write(move |c| bayes::train(c, &owners, &message, &tokens, as_spam))
            .await
    }

    async fn bayes_trained(&self, owner: i64, message: &str) -> Result<Option<bool>> {
        let message = message.to_string();
        self.read(move |c| bayes::trained(c, owner, &message)).await
    }

    async fn spam_scores(&self) -> Result<Vec<(String, f64)>> {
        self.read(bayes::scores).await
    }

    async fn spam_score_set(&self, tag: &str, score: Option<f64>) -> Result<()> {
        let tag = tag.to_string();
        self.write(move |c| bayes::score_set(c, &tag, score)).await
    }

    async fn greylist(&self, triplet: &str, delay_secs: i64) -> Result<Greylisting> {
        let (triplet, now) = (triplet.to_string(), self.now());
        self.write(move |c| bayes::greylist(c, &triplet, now, delay_secs))
            .await
    }

    fn stats_count(&self, domain: &str, kind: StatKind) {
        self.inner.stats.add(domain, self.now(), kind);
    }

    async fn stats_days(&self, domain: &str, from_day: i64) -> Result<Vec<DayStats>> {
        let domain = domain.to_string();
        // Through the writer: the counts still in memory are written first.
        self.write(move |c| stats::days(c, &domain, from_day)).await
    }

    async fn sending_block_get(&self, account_id: i64) -> Result<Option<SendingBlock>> {
        self.read(move |c| stats::block_get(c, account_id)).await
    }

    async fn sending_block_set(
        &self,
        account_id: i64,
        block: Option<SendingBlock>,
    ) -> Result<bool> {
        self.write(move |c| stats::block_set(c, account_id, block.as_ref()))
            .await
    }

    async fn sending_block_list(&self, domain: Option<&str>) -> Result<Vec<SendingBlock>> {
        let domain = domain.map(str::to_string);
        self.read(move |c| stats::block_list(c, domain.as_deref()))
            .await
    }

    async fn ban_get(&self, ip: &str) -> Result<Option<Ban>> {
        let ip = ip.to_string();
        self.read(move |c| security::ban_get(c, &ip)).await
    }

    async fn ban_set(&self, ban: Ban) -> Result<()> {
        self.write(move |c| security::ban_set(c, &ban)).await
    }

    async fn ban_remove(&self, ip: &str) -> Result<bool> {
        let ip = ip.to_string();
        self.write(move |c| security::ban_remove(c, &ip)).await
    }

    async fn ban_list(&self) -> Result<Vec<Ban>> {
        self.read(security::ban_list).await
    }

    async fn credentials_epoch(&self) -> Result<u64> {
        self.read(security::credentials_epoch).await
    }

    async fn setting_get(&self, name: &str) -> Result<Option<i64>> {
        let name = name.to_string();
        self.read(move |c| security::setting_get(c, &name)).await
    }

    async fn setting_set(&self, name: &str, value: i64) -> Result<()> {
        let name = name.to_string();
        self.write(move |c| security::setting_set(c, &name, value))
            .await
    }

    async fn gc_blobs(&self, grace: Duration) -> Result<usize> {
        let cutoff = self.now() - grace.as_secs() as i64;
        let files = self.inner.blobs.clone();
        // On the writer thread, so no delivery can slip in between the
        // decision and the unlink.
        self.write(move |c| blobs::collect(c, &files, cutoff)).await
    }
}
