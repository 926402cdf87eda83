//! Account forwards and server secrets in SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::directory::account_get;
use crate::{Forwarding, Result, StoreError};

pub(crate) fn get(conn: &Connection, account_id: i64) -> Result<Option<Forwarding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.email, f.destination, f.keep_copy FROM forwards f
         JOIN accounts a ON a.id = f.account_id
         WHERE f.account_id = ?1 ORDER BY f.destination",
    )?;
    let rows = stmt
        .query_map([account_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(collect(rows).pop())
}

pub(crate) fn set(
    conn: &Connection,
    email: &str,
    destinations: &[String],
    keep_copy: bool,
) -> Result<Option<Forwarding>> {
    let account = account_get(conn, email)?
        .ok_or_else(|| StoreError::NotFound(format!("account {email}")))?;
    conn.execute("DELETE FROM forwards WHERE account_id = ?1", [account.id])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO forwards (account_id, destination, keep_copy) VALUES (?1, ?2, ?3)",
    )?;
    for destination in destinations {
        insert.execute(params![account.id, destination, keep_copy])?;
    }
    get(conn, account.id)
}

pub(crate) fn list(conn: &Connection, domain: Option<&str>) -> Result<Vec<Forwarding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.email, f.destination, f.keep_copy FROM forwards f
         JOIN accounts a ON a.id = f.account_id
         WHERE ?1 IS NULL OR a.domain_id = (SELECT id FROM domains WHERE name = ?1)
         ORDER BY a.email, f.destination",
    )?;
    let rows = stmt
        .query_map([domain], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(collect(rows))
}

/// Groups (account, destination, keep) rows, sorted by account.
fn collect(rows: Vec<(String, String, bool)>) -> Vec<Forwarding> {
    let mut out: Vec<Forwarding> = Vec::new();
    for (account, destination, keep_copy) in rows {
        match out.last_mut() {
            Some(f) if f.account == account => {
                f.destinations.push(destination);
                f.keep_copy &= keep_copy;
            }
            _ => out.push(Forwarding {
                account,
                destinations: vec![destination],
                keep_copy,
            }),
        }
    }
    out
}

pub(crate) fn secret(conn: &Connection, name: &str, fresh: &[u8]) -> Result<Vec<u8>> {
    conn.execute(
        "INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?1, ?2)",
        params![name, fresh],
    )?;
    let value: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM server_secrets WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    value.ok_or_else(|| StoreError::NotFound(format!("secret {name}")))
}
