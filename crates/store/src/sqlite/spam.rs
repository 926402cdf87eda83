//! Per-domain settings in SQLite: antispam thresholds and allow/block
//! lists (domain id 0 for the global ones), and a domain's limits.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{DomainLimits, DomainUsage, Result, SpamListEntry, SpamThresholds, StoreError};

/// 0 for the global settings, else the domain's id.
fn owner(conn: &Connection, domain: Option<&str>) -> Result<i64> {
    match domain {
        None => Ok(0),
        Some(name) => conn
            .prepare_cached("SELECT id FROM domains WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("domain {name}"))),
    }
}

pub(crate) fn thresholds(
    conn: &Connection,
    domain: Option<&str>,
) -> Result<Option<SpamThresholds>> {
    let id = owner(conn, domain)?;
    Ok(conn
        .prepare_cached("SELECT greylist, junk, reject FROM spam_thresholds WHERE domain_id = ?1")?
        .query_row([id], |r| {
            Ok(SpamThresholds {
                greylist: r.get(0)?,
                junk: r.get(1)?,
                reject: r.get(2)?,
            })
        })
        .optional()?)
}

pub(crate) fn thresholds_set(
    conn: &Connection,
    domain: Option<&str>,
    thresholds: Option<SpamThresholds>,
) -> Result<()> {
    let id = owner(conn, domain)?;
    match thresholds {
        Some(t) => conn.execute(
            "INSERT OR REPLACE INTO spam_thresholds (domain_id, greylist, junk, reject)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, t.greylist, t.junk, t.reject],
        )?,
        None => conn.execute("DELETE FROM spam_thresholds WHERE domain_id = ?1", [id])?,
    };
    Ok(())
}

pub(crate) fn list(
    conn: &Connection,
    domain: Option<&str>,
    list: &str,
) -> Result<Vec<SpamListEntry>> {
    let id = owner(conn, domain)?;
    let mut stmt = conn.prepare_cached(
        "SELECT list, kind, value, created_at FROM spam_lists
         WHERE domain_id = ?1 AND list = ?2 ORDER BY kind, value",
    )?;
    let rows = stmt.query_map(params![id, list], |r| {
        Ok(SpamListEntry {
            list: r.get(0)?,
            kind: r.get(1)?,
            value: r.get(2)?,
            created_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn list_set(
    conn: &Connection,
    domain: Option<&str>,
    entry: &SpamListEntry,
    present: bool,
) -> Result<bool> {
    let id = owner(conn, domain)?;
    let changed = if present {
        conn.execute(
            "INSERT OR IGNORE INTO spam_lists (domain_id, list, kind, value, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, entry.list, entry.kind, entry.value, entry.created_at],
        )?
    } else {
        conn.execute(
            "DELETE FROM spam_lists WHERE domain_id = ?1 AND list = ?2 AND kind = ?3 AND value = ?4",
            params![id, entry.list, entry.kind, entry.value],
        )?
    };
    Ok(changed == 1)
}

pub(crate) fn limits(conn: &Connection, domain: &str) -> Result<(DomainLimits, DomainUsage)> {
    let id = owner(conn, Some(domain))?;
    let limits = conn
        .prepare_cached(
            "SELECT max_accounts, max_aliases, max_storage_bytes FROM domain_limits WHERE domain_id = ?1",
        )?
        .query_row([id], |r| {
            Ok(DomainLimits {
                max_accounts: r.get(0)?,
                max_aliases: r.get(1)?,
                max_storage_bytes: r.get::<_, Option<i64>>(2)?.map(|b| b as u64),
            })
        })
        .optional()?
        .unwrap_or_default();
    let usage = conn.query_row(
        // total() sums as a float: a sum past 64 bits saturates here
        // instead of failing every query about the domain.
        "SELECT count(*), CAST(min(total(quota_bytes), 9.2e18) AS INTEGER),
                count(*) - count(quota_bytes),
                CAST(min(total(used_bytes), 9.2e18) AS INTEGER),
                (SELECT count(DISTINCT source) FROM aliases WHERE domain_id = ?1)
         FROM accounts WHERE domain_id = ?1",
        [id],
        |r| {
            Ok(DomainUsage {
                accounts: r.get(0)?,
                allocated_bytes: r.get::<_, i64>(1)?.max(0) as u64,
                unlimited_accounts: r.get(2)?,
                used_bytes: r.get::<_, i64>(3)?.max(0) as u64,
                aliases: r.get(4)?,
            })
        },
    )?;
    Ok((limits, usage))
}

pub(crate) fn limits_set(conn: &Connection, domain: &str, limits: &DomainLimits) -> Result<()> {
    let id = owner(conn, Some(domain))?;
    conn.execute(
        "INSERT OR REPLACE INTO domain_limits (domain_id, max_accounts, max_aliases, max_storage_bytes)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            id,
            limits.max_accounts,
            limits.max_aliases,
            limits.max_storage_bytes.map(|b| b as i64)
        ],
    )?;
    Ok(())
}
