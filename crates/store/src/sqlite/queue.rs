//! The outbound queue in SQLite: a message row (body as a blob, so copies
//! cost nothing) and a row per recipient with its own retry state.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    AttemptResult, BlobId, NewQueued, Queued, QueuedRecipient, RecipientStatus, Result, StoreError,
};

pub(crate) fn add(conn: &Connection, queued: &NewQueued, blob: BlobId, now: i64) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO queue (account_id, sender, blob_id, prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        queued.account_id,
        queued.sender,
        blob.to_hex(),
        queued.prefix,
        now
    ])?;
    let id = conn.last_insert_rowid();
    for address in &queued.recipients {
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        conn.prepare_cached(
            "INSERT OR IGNORE INTO queue_recipients (queue_id, address, domain, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, address, domain.to_ascii_lowercase(), now])?;
    }
    Ok(id)
}

fn recipients(conn: &Connection, id: i64) -> Result<Vec<QueuedRecipient>> {
    let mut stmt = conn.prepare_cached(
        "SELECT address, domain, status, attempts, next_attempt_at, last_host, last_reply
         FROM queue_recipients WHERE queue_id = ?1 ORDER BY address",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(QueuedRecipient {
                address: r.get(0)?,
                domain: r.get(1)?,
                status: RecipientStatus::parse(&r.get::<_, String>(2)?),
                attempts: r.get(3)?,
                next_attempt_at: r.get(4)?,
                last_host: r.get(5)?,
                last_reply: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn queued(conn: &Connection, id: i64) -> Result<Option<Queued>> {
    type Row = (Option<i64>, String, i64, i64, bool);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT q.account_id, q.sender, q.created_at, length(q.prefix) + b.size, q.delay_notified
             FROM queue q JOIN blobs b ON b.id = q.blob_id WHERE q.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((account_id, sender, created_at, size, delay_notified)) = row else {
        return Ok(None);
    };
    Ok(Some(Queued {
        id,
        account_id,
        sender,
        created_at,
        delay_notified,
        size: size as u64,
        recipients: recipients(conn, id)?,
    }))
}

pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<Queued>> {
    queued(conn, id)
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<Queued>> {
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM queue ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(q) = queued(conn, id)? {
            out.push(q);
        }
    }
    Ok(out)
}

/// Messages with a recipient due for an attempt at `now`.
pub(crate) fn due(conn: &Connection, now: i64, skip: &[i64], limit: usize) -> Result<Vec<Queued>> {
    // In index order, read lazily: only as many rows as it takes to find
    // `limit` messages (no sort of the whole queue).
    let mut stmt = conn.prepare_cached(
        "SELECT queue_id FROM queue_recipients
         WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at",
    )?;
    let mut rows = stmt.query([now])?;
    let mut ids: Vec<i64> = Vec::new();
    while ids.len() < limit {
        let Some(row) = rows.next()? else { break };
        let id: i64 = row.get(0)?;
        if !skip.contains(&id) && !ids.contains(&id) {
            ids.push(id);
        }
    }
    drop(rows);
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(q) = queued(conn, id)? {
            out.push(q);
        }
    }
    Ok(out)
}

/// The earliest time a pending recipient is due, if any.
pub(crate) fn next_due(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT min(next_attempt_at) FROM queue_recipients WHERE status = 'pending'",
        )?
        .query_row([], |r| r.get(0))?)
}

/// The bytes to send: trace prefix, then the body.
pub(crate) fn content(conn: &Connection, files: &crate::BlobStore, id: i64) -> Result<Vec<u8>> {
    let (blob, mut content): (String, Vec<u8>) = conn
        .prepare_cached("SELECT blob_id, prefix FROM queue WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("queued message {id}")))?;
    content.extend_from_slice(&super::blobs::load(conn, files, blob.parse()?)?);
    Ok(content)
}

/// Records attempts; a message whose recipients are all settled leaves
/// the queue.
pub(crate) fn record(conn: &Connection, results: &[AttemptResult]) -> Result<()> {
    for r in results {
        conn.prepare_cached(
            "UPDATE queue_recipients SET status = ?3, attempts = attempts + 1, next_attempt_at = ?4,
                    last_host = ?5, last_reply = ?6
             WHERE queue_id = ?1 AND address = ?2",
        )?
        .execute(params![
            r.queue_id,
            r.address,
            r.status.as_str(),
            r.next_attempt_at,
            r.host,
            r.reply
        ])?;
        conn.prepare_cached(
            "DELETE FROM queue WHERE id = ?1 AND NOT EXISTS
             (SELECT 1 FROM queue_recipients WHERE queue_id = ?1 AND status = 'pending')",
        )?
        .execute([r.queue_id])?;
    }
    Ok(())
}

pub(crate) fn remove(conn: &Connection, id: i64) -> Result<()> {
    if conn.execute("DELETE FROM queue WHERE id = ?1", [id])? == 0 {
        return Err(StoreError::NotFound(format!("queued message {id}")));
    }
    Ok(())
}

/// Makes every pending recipient (of one message, or all) due at `now`.
pub(crate) fn retry(conn: &Connection, id: Option<i64>, now: i64) -> Result<usize> {
    let changed = match id {
        Some(id) => conn.execute(
            "UPDATE queue_recipients SET next_attempt_at = ?2 WHERE queue_id = ?1 AND status = 'pending'",
            params![id, now],
        )?,
        None => conn.execute(
            "UPDATE queue_recipients SET next_attempt_at = ?1 WHERE status = 'pending'",
            [now],
        )?,
    };
    Ok(changed)
}

pub(crate) fn mark_delay_notified(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("UPDATE queue SET delay_notified = 1 WHERE id = ?1", [id])?;
    Ok(())
}
