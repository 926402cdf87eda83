//! Versioned schema migrations, tracked in SQLite's `user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::{Result, StoreError};

/// Each entry moves the schema one version up; never edit a released one.
const MIGRATIONS: &[&str] = &[
    // 1: directory, mailboxes, messages, blobs.
    r#"
    CREATE TABLE domains (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        suspended INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        email TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        api_access INTEGER NOT NULL DEFAULT 1,
        quota_bytes INTEGER,
        used_bytes INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        -- What a POP3 DELE does: trash | expunge | keep.
        pop3_delete TEXT NOT NULL DEFAULT 'trash',
        pop3_last_used_at INTEGER,
        pop3_last_ip TEXT
    );
    CREATE INDEX accounts_domain ON accounts(domain_id);
    CREATE TABLE aliases (
        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        destination TEXT NOT NULL,
        PRIMARY KEY (source, destination)
    );
    CREATE INDEX aliases_domain ON aliases(domain_id);
    CREATE INDEX aliases_destination ON aliases(destination);
    CREATE TABLE domain_admins (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        PRIMARY KEY (account_id, domain_id)
    );
    CREATE TABLE mailboxes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        special_use TEXT,
        uidvalidity INTEGER NOT NULL,
        uidnext INTEGER NOT NULL DEFAULT 1,
        highestmodseq INTEGER NOT NULL DEFAULT 1,
        subscribed INTEGER NOT NULL DEFAULT 1,
        -- A deleted mailbox keeps its row (and its messages' tombstones)
        -- for recovery; only live names must be unique.
        deleted_at INTEGER
    );
    CREATE UNIQUE INDEX mailboxes_live_name ON mailboxes(account_id, name)
        WHERE deleted_at IS NULL;
    -- Small bodies are kept in `data`, so a delivery costs no fsync of its
    -- own beyond the group commit; large ones are files (`data` is NULL).
    CREATE TABLE blobs (
        id TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        refcount INTEGER NOT NULL DEFAULT 0,
        unreferenced_since INTEGER,
        data BLOB
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid INTEGER NOT NULL,
        modseq INTEGER NOT NULL,
        flags INTEGER NOT NULL DEFAULT 0,
        keywords TEXT NOT NULL DEFAULT '',
        internal_date INTEGER NOT NULL,
        size INTEGER NOT NULL,
        blob_id TEXT NOT NULL REFERENCES blobs(id),
        prefix BLOB NOT NULL DEFAULT x'',
        expunged_at INTEGER,
        UNIQUE (mailbox_id, uid)
    );
    CREATE INDEX messages_blob ON messages(blob_id);
    -- CONDSTORE/QRESYNC ask for changes since a MODSEQ.
    CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
    -- Reference counts follow message rows, including rows removed by a
    -- cascade, so no code path can forget them.
    CREATE TRIGGER messages_blob_ref AFTER INSERT ON messages BEGIN
        UPDATE blobs SET refcount = refcount + 1, unreferenced_since = NULL
        WHERE id = NEW.blob_id;
    END;
    CREATE TRIGGER messages_blob_unref AFTER DELETE ON messages BEGIN
        UPDATE blobs SET refcount = refcount - 1,
            unreferenced_since = CASE WHEN refcount = 1
                THEN CAST(strftime('%s', 'now') AS INTEGER) ELSE unreferenced_since END
        WHERE id = OLD.blob_id;
    END;
    "#,
    // 2: sending limits (leaky buckets): overrides per account and class
    // (account 0 holds the global values), each bucket's level; the
    // outbound queue; DKIM keys.
    r#"
    CREATE TABLE send_limits (
        account_id INTEGER NOT NULL,
        class TEXT NOT NULL,
        capacity INTEGER NOT NULL,
        drain_secs INTEGER NOT NULL,
        PRIMARY KEY (account_id, class)
    );
    CREATE TABLE send_buckets (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        class TEXT NOT NULL,
        level REAL NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, class)
    );
    CREATE TRIGGER accounts_send_limits AFTER DELETE ON accounts BEGIN
        DELETE FROM send_limits WHERE account_id = OLD.id;
    END;
    -- The outbound queue: one row per submitted message (its body a blob,
    -- its trace headers a prefix) and one per recipient still to deliver.
    CREATE TABLE queue (
        id INTEGER PRIMARY KEY,
        account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        sender TEXT NOT NULL,
        blob_id TEXT NOT NULL REFERENCES blobs(id),
        prefix BLOB NOT NULL DEFAULT x'',
        created_at INTEGER NOT NULL,
        -- Set once the sender was told the message is delayed.
        delay_notified INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE queue_recipients (
        queue_id INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        domain TEXT NOT NULL,
        -- pending | delivered | failed
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_host TEXT,
        last_reply TEXT,
        PRIMARY KEY (queue_id, address)
    );
    CREATE INDEX queue_due ON queue_recipients(status, next_attempt_at);
    CREATE TRIGGER queue_blob_ref AFTER INSERT ON queue BEGIN
        UPDATE blobs SET refcount = refcount + 1, unreferenced_since = NULL
        WHERE id = NEW.blob_id;
    END;
    CREATE TRIGGER queue_blob_unref AFTER DELETE ON queue BEGIN
        UPDATE blobs SET refcount = refcount - 1,
            unreferenced_since = CASE WHEN refcount = 1
                THEN CAST(strftime('%s', 'now') AS INTEGER) ELSE unreferenced_since END
        WHERE id = OLD.blob_id;
    END;
    -- Relay policy kept by MasterAdmins: blocked TLDs (`tld`), domains
    -- exempt from the TLD list (`exempt`), blocked senders (`sender`: an
    -- address or a domain).
    CREATE TABLE relay_policy (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    );
    INSERT INTO relay_policy (kind, value) VALUES ('tld', 'icu');
    -- DKIM signing keys of each domain (RFC 6376, RFC 8463).
    CREATE TABLE dkim_keys (
        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        selector TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        private_key TEXT NOT NULL,
        public_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (domain_id, selector)
    );
    "#,
    // 3: forwards (per account, with or without a local copy) and the
    // server's secrets (the SRS key), shared by every node.
    r#"
    CREATE TABLE forwards (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        destination TEXT NOT NULL,
        keep_copy INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (account_id, destination)
    );
    CREATE TABLE server_secrets (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    "#,
    // 4: account security: 2FA (TOTP secret, the last step used, hashed
    // recovery codes), device passwords, why an account was disabled, the
    // security log and banned client addresses.
    r#"
    ALTER TABLE accounts ADD COLUMN two_factor INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE accounts ADD COLUMN disabled_reason TEXT;
    -- Since when 2FA has been off (the mandatory-2FA policy counts from
    -- it), how many reminders went out, and whether the account must set
    -- up 2FA before anything else works.
    ALTER TABLE accounts ADD COLUMN two_factor_off_since INTEGER;
    ALTER TABLE accounts ADD COLUMN two_factor_notices INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE accounts ADD COLUMN must_enroll INTEGER NOT NULL DEFAULT 0;
    -- Existing accounts get the whole grace period from the upgrade on.
    UPDATE accounts SET two_factor_off_since = CAST(strftime('%s', 'now') AS INTEGER);
    -- Server-wide values: settings a MasterAdmin changes (the 2FA
    -- policy) and `credentials`, bumped whenever a credential is revoked or
    -- an account changes, so open sessions know to check theirs again.
    CREATE TABLE server_settings (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO server_settings (name, value) VALUES ('credentials', 0);
    CREATE TABLE totp (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        confirmed INTEGER NOT NULL DEFAULT 0,
        last_step INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE recovery_codes (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        lookup TEXT NOT NULL,
        hash TEXT NOT NULL,
        used_at INTEGER,
        PRIMARY KEY (account_id, lookup)
    );
    CREATE TABLE device_passwords (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        lookup TEXT NOT NULL,
        hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        last_ip TEXT,
        last_protocol TEXT,
        UNIQUE (account_id, name)
    );
    CREATE INDEX device_passwords_lookup ON device_passwords(lookup);
    CREATE TABLE security_events (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        account TEXT,
        ip TEXT,
        protocol TEXT,
        event TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX security_events_account ON security_events(account, at);
    CREATE INDEX security_events_at ON security_events(at);
    -- Portal/API sessions and API keys: random tokens, stored as their
    -- BLAKE3 digest only.
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        digest TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        ip TEXT,
        ended TEXT
    );
    CREATE INDEX sessions_account ON sessions(account_id);
    CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        read_only INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER,
        UNIQUE (account_id, name)
    );
    -- Antispam settings as data (the filter enforces them): thresholds
    -- and allow/block lists per domain, domain_id 0 holding the global
    -- ones.
    CREATE TABLE spam_thresholds (
        domain_id INTEGER PRIMARY KEY,
        greylist REAL NOT NULL,
        junk REAL NOT NULL,
        reject REAL NOT NULL
    );
    CREATE TABLE spam_lists (
        domain_id INTEGER NOT NULL,
        list TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (domain_id, list, kind, value)
    );
    CREATE TRIGGER domains_spam_settings AFTER DELETE ON domains BEGIN
        DELETE FROM spam_thresholds WHERE domain_id = OLD.id;
        DELETE FROM spam_lists WHERE domain_id = OLD.id;
    END;
    -- What a MasterAdmin allows a customer's domain (NULL: no limit).
    CREATE TABLE domain_limits (
        domain_id INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
        max_accounts INTEGER,
        max_aliases INTEGER,
        max_storage_bytes INTEGER
    );
    CREATE TABLE ip_bans (
        ip TEXT PRIMARY KEY,
        until INTEGER NOT NULL,
        strikes INTEGER NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    "#,
    // v5: message counts per domain and day (Stats), accounts blocked from
    // sending for abuse, and when a password last changed (an unblock
    // needs a new one).
    r#"
    CREATE TABLE domain_stats (
        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        day INTEGER NOT NULL,
        received INTEGER NOT NULL DEFAULT 0,
        sent INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (domain_id, day)
    );
    CREATE TABLE sending_blocks (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        -- Newline-separated: the counts that tripped it, sample Message-IDs.
        evidence TEXT NOT NULL,
        message_ids TEXT NOT NULL,
        blocked_at INTEGER NOT NULL
    );
    ALTER TABLE accounts ADD COLUMN password_changed_at INTEGER;
    "#,
    // v6: the spam filter's memory: Bayes token counts per owner (0: the
    // global classifier, else an account), which messages each owner was
    // trained with (so training is idempotent), score overrides, and the
    // greylist of (client, sender, recipient) triplets.
    r#"
    CREATE TABLE bayes_tokens (
        owner INTEGER NOT NULL,
        token INTEGER NOT NULL,
        spam INTEGER NOT NULL DEFAULT 0,
        ham INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (owner, token)
    ) WITHOUT ROWID;
    CREATE TABLE bayes_totals (
        owner INTEGER PRIMARY KEY,
        spam INTEGER NOT NULL DEFAULT 0,
        ham INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE bayes_trained (
        owner INTEGER NOT NULL,
        message TEXT NOT NULL,
        as_spam INTEGER NOT NULL,
        PRIMARY KEY (owner, message)
    ) WITHOUT ROWID;
    CREATE TRIGGER accounts_bayes AFTER DELETE ON accounts BEGIN
        DELETE FROM bayes_tokens WHERE owner = OLD.id;
        DELETE FROM bayes_totals WHERE owner = OLD.id;
        DELETE FROM bayes_trained WHERE owner = OLD.id;
    END;
    CREATE TABLE spam_scores (
        tag TEXT PRIMARY KEY,
        score REAL NOT NULL
    );
    CREATE TABLE greylist (
        triplet TEXT PRIMARY KEY,
        first_seen INTEGER NOT NULL,
        passed_at INTEGER
    );
    "#,
    // v7: subscriptions are names, kept when their mailbox is deleted
    // (RFC 3501 6.3.6: a server must not drop them on its own); the first
    // UID still \Recent for the next session (RFC 3501 2.3.2).
    r#"
    CREATE TABLE subscriptions (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        PRIMARY KEY (account_id, name)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO subscriptions (account_id, name)
        SELECT account_id, name FROM mailboxes WHERE subscribed = 1 AND deleted_at IS NULL;
    ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;
    UPDATE mailboxes SET recent_uid = uidnext;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Brings the database up to [`SCHEMA_VERSION`]; refuses a newer one.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    loop {
        // Immediate: two processes starting together migrate one at a time,
        // and the second re-reads the version the first left.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = version(&tx)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        tx.execute_batch(MIGRATIONS[found as usize])?;
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
        tracing::info!(version = found + 1, "applied schema migration");
    }
}
