//! Domains, accounts, aliases and domain-admin assignments in SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    Account, AccountChange, Alias, DkimKey, Domain, NewAccount, Result, Role, SpecialUse,
    StoreError,
};

fn domain_from_row(row: &Row<'_>) -> rusqlite::Result<Domain> {
    Ok(Domain {
        id: row.get(0)?,
        name: row.get(1)?,
        suspended: row.get(2)?,
        created_at: row.get(3)?,
    })
}

const DOMAIN_COLUMNS: &str = "id, name, suspended, created_at";

pub(crate) fn domain_get(conn: &Connection, name: &str) -> Result<Option<Domain>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {DOMAIN_COLUMNS} FROM domains WHERE name = ?1"
        ))?
        .query_row([name], domain_from_row)
        .optional()?)
}

fn domain_require(conn: &Connection, name: &str) -> Result<Domain> {
    domain_get(conn, name)?.ok_or_else(|| StoreError::NotFound(format!("domain {name}")))
}

pub(crate) fn domain_create(conn: &Connection, name: &str, now: i64) -> Result<Domain> {
    if domain_get(conn, name)?.is_some() {
        return Err(StoreError::AlreadyExists(format!("domain {name}")));
    }
    conn.execute(
        "INSERT INTO domains (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )?;
    domain_require(conn, name)
}

pub(crate) fn domain_list(conn: &Connection) -> Result<Vec<Domain>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DOMAIN_COLUMNS} FROM domains ORDER BY name"
    ))?;
    let rows = stmt.query_map([], domain_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn domain_set_suspended(
    conn: &Connection,
    name: &str,
    suspended: bool,
) -> Result<Domain> {
    let changed = conn.execute(
        "UPDATE domains SET suspended = ?2 WHERE name = ?1",
        params![name, suspended],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("domain {name}")));
    }
    domain_require(conn, name)
}

pub(crate) fn domain_remove(conn: &Connection, name: &str, force: bool) -> Result<()> {
    let domain = domain_require(conn, name)?;
    let (accounts, aliases): (i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM accounts WHERE domain_id = ?1),
                (SELECT count(DISTINCT source) FROM aliases WHERE domain_id = ?1)",
        [domain.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if !force && accounts + aliases > 0 {
        return Err(StoreError::Conflict(format!(
            "domain {name} still has {accounts} account(s) and {aliases} alias(es); \
             remove them first or force the removal"
        )));
    }
    let emails: Vec<String> = {
        let mut stmt = conn.prepare("SELECT email FROM accounts WHERE domain_id = ?1")?;
        let rows = stmt.query_map([domain.id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for email in &emails {
        forget_destination(conn, email)?;
    }
    // Cascades to accounts, mailboxes, messages (blob references follow by
    // trigger), aliases and admin assignments.
    conn.execute("DELETE FROM domains WHERE id = ?1", [domain.id])?;
    Ok(())
}

/// Drops `address` from every alias that forwards to it, and aliases left
/// with no destination, so nothing points at a removed account.
fn forget_destination(conn: &Connection, address: &str) -> Result<()> {
    conn.execute("DELETE FROM aliases WHERE destination = ?1", [address])?;
    Ok(())
}

const ACCOUNT_COLUMNS: &str = "id, domain_id, email, password_hash, role, enabled, api_access, \
                               quota_bytes, used_bytes, created_at, pop3_delete, \
                               pop3_last_used_at, pop3_last_ip, two_factor, disabled_reason, \
                               two_factor_off_since, two_factor_notices, must_enroll, \
                               password_changed_at";

fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    let role: String = row.get(4)?;
    let quota: Option<i64> = row.get(7)?;
    let used: i64 = row.get(8)?;
    Ok(Account {
        id: row.get(0)?,
        domain_id: row.get(1)?,
        email: row.get(2)?,
        password_hash: row.get(3)?,
        role: role.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, e.into())
        })?,
        enabled: row.get(5)?,
        api_access: row.get(6)?,
        quota_bytes: quota.map(|q| q as u64),
        used_bytes: used.max(0) as u64,
        created_at: row.get(9)?,
        pop3_delete: row.get::<_, String>(10)?.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, e.into())
        })?,
        pop3_last_used_at: row.get(11)?,
        pop3_last_ip: row.get(12)?,
        two_factor: row.get(13)?,
        disabled_reason: row.get(14)?,
        two_factor_off_since: row.get(15)?,
        two_factor_notices: row.get(16)?,
        must_enroll: row.get(17)?,
        password_changed_at: row.get(18)?,
    })
}

pub(crate) fn account_by_id(conn: &Connection, id: i64) -> Result<Option<Account>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
        ))?
        .query_row([id], account_from_row)
        .optional()?)
}

pub(crate) fn account_get(conn: &Connection, email: &str) -> Result<Option<Account>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email = ?1"
        ))?
        .query_row([email], account_from_row)
        .optional()?)
}

fn account_require(conn: &Connection, email: &str) -> Result<Account> {
    account_get(conn, email)?.ok_or_else(|| StoreError::NotFound(format!("account {email}")))
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

fn is_alias_source(conn: &Connection, address: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM aliases WHERE source = ?1 LIMIT 1")?
        .exists([address])?)
}

pub(crate) fn account_create(conn: &Connection, new: &NewAccount, now: i64) -> Result<Account> {
    let domain = domain_require(conn, domain_of(&new.email))?;
    if account_get(conn, &new.email)?.is_some() {
        return Err(StoreError::AlreadyExists(format!("account {}", new.email)));
    }
    if is_alias_source(conn, &new.email)? {
        return Err(StoreError::Conflict(format!(
            "{} is already an alias; remove the alias first",
            new.email
        )));
    }
    conn.execute(
        "INSERT INTO accounts (domain_id, email, password_hash, role, quota_bytes, created_at,
                               two_factor_off_since)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            domain.id,
            new.email,
            new.password_hash,
            new.role.as_str(),
            new.quota_bytes.map(|q| q as i64),
            now
        ],
    )?;
    let account_id = conn.last_insert_rowid();
    for folder in SpecialUse::DEFAULT_FOLDERS {
        super::mail::mailbox_create(conn, account_id, folder.folder_name(), Some(folder), now)?;
    }
    account_require(conn, &new.email)
}

pub(crate) fn account_list(conn: &Connection, domain: Option<&str>) -> Result<Vec<Account>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts
         WHERE ?1 IS NULL OR domain_id = (SELECT id FROM domains WHERE name = ?1)
         ORDER BY email"
    ))?;
    let rows = stmt.query_map([domain], account_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn account_update(
    conn: &Connection,
    email: &str,
    change: &AccountChange,
    now: i64,
) -> Result<Account> {
    let account = account_require(conn, email)?;
    let quota = match change.quota_bytes {
        Some(q) => q,
        None => account.quota_bytes,
    };
    conn.execute(
        "UPDATE accounts SET enabled = ?2, api_access = ?3, quota_bytes = ?4, role = ?5,
                password_hash = ?6, pop3_delete = ?7, disabled_reason = ?8,
                two_factor_notices = ?9, must_enroll = ?10, two_factor_off_since = ?11,
                password_changed_at = CASE WHEN ?12 THEN ?13 ELSE password_changed_at END
         WHERE id = ?1",
        params![
            account.id,
            change.enabled.unwrap_or(account.enabled),
            change.api_access.unwrap_or(account.api_access),
            quota.map(|q| q as i64),
            change.role.unwrap_or(account.role).as_str(),
            change
                .password_hash
                .as_deref()
                .unwrap_or(&account.password_hash),
            change.pop3_delete.unwrap_or(account.pop3_delete).as_str(),
            match &change.disabled_reason {
                Some(reason) => reason.as_deref(),
                // Enabling clears the reason it was disabled for.
                None if change.enabled == Some(true) => None,
                None => account.disabled_reason.as_deref(),
            },
            change
                .two_factor_notices
                .unwrap_or(account.two_factor_notices),
            change.must_enroll.unwrap_or(account.must_enroll),
            change.two_factor_off_since.or(account.two_factor_off_since),
            change.password_hash.is_some(),
            now,
        ],
    )?;
    super::security::bump_credentials(conn)?;
    if change.role.is_some_and(|r| r != Role::DomainAdmin) {
        // Only domain admins hold per-domain assignments.
        conn.execute(
            "DELETE FROM domain_admins WHERE account_id = ?1",
            [account.id],
        )?;
    }
    account_require(conn, email)
}

pub(crate) fn account_remove(conn: &Connection, email: &str, force: bool) -> Result<()> {
    let account = account_require(conn, email)?;
    let messages: i64 = conn.query_row(
        "SELECT count(*) FROM messages m JOIN mailboxes b ON m.mailbox_id = b.id
         WHERE b.account_id = ?1",
        [account.id],
        |r| r.get(0),
    )?;
    if !force && messages > 0 {
        return Err(StoreError::Conflict(format!(
            "account {email} still holds {messages} message(s); force the removal to delete them too"
        )));
    }
    forget_destination(conn, email)?;
    conn.execute("DELETE FROM accounts WHERE id = ?1", [account.id])?;
    super::security::bump_credentials(conn)?;
    Ok(())
}

pub(crate) fn alias_get(conn: &Connection, source: &str) -> Result<Option<Alias>> {
    let mut stmt = conn
        .prepare_cached("SELECT destination FROM aliases WHERE source = ?1 ORDER BY destination")?;
    let destinations: Vec<String> = stmt
        .query_map([source], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((!destinations.is_empty()).then(|| Alias {
        source: source.to_string(),
        destinations,
    }))
}

pub(crate) fn alias_add(conn: &Connection, source: &str, destinations: &[String]) -> Result<Alias> {
    let domain = domain_require(conn, domain_of(source))?;
    if account_get(conn, source)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "{source} is an account; an alias cannot have the same address"
        )));
    }
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO aliases (domain_id, source, destination) VALUES (?1, ?2, ?3)",
    )?;
    for destination in destinations {
        insert.execute(params![domain.id, source, destination])?;
    }
    alias_get(conn, source)?.ok_or_else(|| StoreError::NotFound(format!("alias {source}")))
}

pub(crate) fn alias_list(conn: &Connection, domain: Option<&str>) -> Result<Vec<Alias>> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, destination FROM aliases
         WHERE ?1 IS NULL OR domain_id = (SELECT id FROM domains WHERE name = ?1)
         ORDER BY source, destination",
    )?;
    let mut aliases: Vec<Alias> = Vec::new();
    let rows = stmt.query_map([domain], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
    for row in rows {
        let (source, destination) = row?;
        match aliases.last_mut() {
            Some(last) if last.source == source => last.destinations.push(destination),
            _ => aliases.push(Alias {
                source,
                destinations: vec![destination],
            }),
        }
    }
    Ok(aliases)
}

pub(crate) fn alias_remove(conn: &Connection, source: &str) -> Result<()> {
    if conn.execute("DELETE FROM aliases WHERE source = ?1", [source])? == 0 {
        return Err(StoreError::NotFound(format!("alias {source}")));
    }
    Ok(())
}

pub(crate) fn domain_admin_grant(conn: &Connection, email: &str, domain: &str) -> Result<()> {
    let account = account_require(conn, email)?;
    let domain = domain_require(conn, domain)?;
    conn.execute(
        "INSERT OR IGNORE INTO domain_admins (account_id, domain_id) VALUES (?1, ?2)",
        params![account.id, domain.id],
    )?;
    Ok(())
}

pub(crate) fn domain_admin_revoke(conn: &Connection, email: &str, domain: &str) -> Result<()> {
    let account = account_require(conn, email)?;
    let domain = domain_require(conn, domain)?;
    let removed = conn.execute(
        "DELETE FROM domain_admins WHERE account_id = ?1 AND domain_id = ?2",
        params![account.id, domain.id],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound(format!(
            "assignment of {email} to {}",
            domain.name
        )));
    }
    Ok(())
}

pub(crate) fn domain_admin_domains(conn: &Connection, email: &str) -> Result<Vec<String>> {
    let account = account_require(conn, email)?;
    let mut stmt = conn.prepare_cached(
        "SELECT d.name FROM domain_admins a JOIN domains d ON d.id = a.domain_id
         WHERE a.account_id = ?1 ORDER BY d.name",
    )?;
    let rows = stmt.query_map([account.id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn note_pop3_use(conn: &Connection, account_id: i64, ip: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE accounts SET pop3_last_used_at = ?2, pop3_last_ip = ?3 WHERE id = ?1",
        params![account_id, now, ip],
    )?;
    Ok(())
}

pub(crate) fn dkim_keys_add(conn: &Connection, domain: &str, keys: &[DkimKey]) -> Result<()> {
    let domain = domain_require(conn, domain)?;
    for key in keys {
        conn.execute(
            "INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, public_key, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                domain.id,
                key.selector,
                key.algorithm,
                key.private_key,
                key.public_key,
                key.created_at
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn dkim_keys(conn: &Connection, domain: &str) -> Result<Vec<DkimKey>> {
    let domain = domain_require(conn, domain)?;
    let mut stmt = conn.prepare(
        "SELECT selector, algorithm, private_key, public_key, created_at FROM dkim_keys
         WHERE domain_id = ?1 ORDER BY created_at, selector DESC",
    )?;
    let keys = stmt
        .query_map([domain.id], |r| {
            Ok(DkimKey {
                selector: r.get(0)?,
                algorithm: r.get(1)?,
                private_key: r.get(2)?,
                public_key: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(keys)
}
