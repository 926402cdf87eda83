//! Portal/API sessions and API keys in SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{ApiKey, Result, StoreError, WebSession};

const SESSION_COLUMNS: &str = "id, account_id, created_at, last_seen_at, ip, ended";

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<WebSession> {
    Ok(WebSession {
        id: r.get(0)?,
        account_id: r.get(1)?,
        created_at: r.get(2)?,
        last_seen_at: r.get(3)?,
        ip: r.get(4)?,
        ended: r.get(5)?,
    })
}

pub(crate) fn start(
    conn: &Connection,
    account_id: i64,
    digest: &str,
    ip: &str,
    now: i64,
) -> Result<WebSession> {
    // One live session per account: a new login ends the others.
    conn.execute(
        "UPDATE sessions SET ended = 'replaced' WHERE account_id = ?1 AND ended IS NULL",
        [account_id],
    )?;
    // Ended sessions are kept a day, so their holders learn why.
    conn.execute(
        "DELETE FROM sessions WHERE ended IS NOT NULL AND last_seen_at < ?1",
        [now - 86_400],
    )?;
    conn.execute(
        "INSERT INTO sessions (account_id, digest, created_at, last_seen_at, ip)
         VALUES (?1, ?2, ?3, ?3, ?4)",
        params![account_id, digest, now, ip],
    )?;
    let id = conn.last_insert_rowid();
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"
        ))?
        .query_row([id], session_from_row)?)
}

pub(crate) fn get(conn: &Connection, digest: &str) -> Result<Option<WebSession>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE digest = ?1"
        ))?
        .query_row([digest], session_from_row)
        .optional()?)
}

pub(crate) fn touch(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

pub(crate) fn end(conn: &Connection, id: i64, why: &str) -> Result<()> {
    conn.execute(
        "UPDATE sessions SET ended = ?2 WHERE id = ?1 AND ended IS NULL",
        params![id, why],
    )?;
    Ok(())
}

pub(crate) fn end_others(
    conn: &Connection,
    account_id: i64,
    except: Option<&str>,
    why: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE sessions SET ended = ?3
         WHERE account_id = ?1 AND ended IS NULL AND (?2 IS NULL OR digest != ?2)",
        params![account_id, except, why],
    )?;
    Ok(())
}

const KEY_COLUMNS: &str =
    "id, account_id, name, digest, read_only, created_at, expires_at, last_used_at";

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        digest: r.get(3)?,
        read_only: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        last_used_at: r.get(7)?,
    })
}

pub(crate) fn key_add(conn: &Connection, key: &ApiKey) -> Result<ApiKey> {
    conn.execute(
        "INSERT INTO api_keys (account_id, name, digest, read_only, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.account_id,
            key.name,
            key.digest,
            key.read_only,
            key.created_at,
            key.expires_at
        ],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(format!("an API key named {:?} exists", key.name))
        }
        other => other.into(),
    })?;
    let id = conn.last_insert_rowid();
    Ok(conn
        .prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"))?
        .query_row([id], key_from_row)?)
}

pub(crate) fn key_get(conn: &Connection, digest: &str) -> Result<Option<ApiKey>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE digest = ?1"
        ))?
        .query_row([digest], key_from_row)
        .optional()?)
}

pub(crate) fn key_list(conn: &Connection, account_id: i64) -> Result<Vec<ApiKey>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = ?1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([account_id], key_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn key_remove(conn: &Connection, account_id: i64, name: &str) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM api_keys WHERE account_id = ?1 AND name = ?2",
        params![account_id, name],
    )? == 1)
}

pub(crate) fn key_used(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}
