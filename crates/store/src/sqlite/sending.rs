//! Sending limits as leaky buckets, kept in the database so every process
//! (the server, the CLI showing usage) sees the same levels.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Result, SendClass, SendLimit};

/// The limit stored for an account (0: the global value), if any.
pub(crate) fn limit_get(
    conn: &Connection,
    account_id: i64,
    class: SendClass,
) -> Result<Option<SendLimit>> {
    Ok(conn
        .prepare_cached(
            "SELECT capacity, drain_secs FROM send_limits WHERE account_id = ?1 AND class = ?2",
        )?
        .query_row(params![account_id, class.as_str()], |r| {
            Ok(SendLimit {
                capacity: r.get(0)?,
                drain_secs: r.get(1)?,
            })
        })
        .optional()?)
}

pub(crate) fn limit_set(
    conn: &Connection,
    account_id: i64,
    class: SendClass,
    limit: Option<SendLimit>,
) -> Result<()> {
    match limit {
        Some(l) => conn.execute(
            "INSERT INTO send_limits (account_id, class, capacity, drain_secs) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account_id, class) DO UPDATE SET capacity = ?3, drain_secs = ?4",
            params![account_id, class.as_str(), l.capacity, l.drain_secs],
        )?,
        None => conn.execute(
            "DELETE FROM send_limits WHERE account_id = ?1 AND class = ?2",
            params![account_id, class.as_str()],
        )?,
    };
    Ok(())
}

/// The bucket's level now: what was in it, less what drained since.
pub(crate) fn level(
    conn: &Connection,
    account_id: i64,
    class: SendClass,
    limit: SendLimit,
    now: i64,
) -> Result<f64> {
    let row: Option<(f64, i64)> = conn
        .prepare_cached(
            "SELECT level, updated_at FROM send_buckets WHERE account_id = ?1 AND class = ?2",
        )?
        .query_row(params![account_id, class.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(row.map_or(0.0, |(level, at)| {
        let drained = (now - at).max(0) as f64 / f64::from(limit.drain_secs);
        (level - drained).max(0.0)
    }))
}

/// Puts `count` messages in the bucket if they fit; otherwise leaves it as
/// it is and says how many seconds until they would.
pub(crate) fn take(
    conn: &Connection,
    account_id: i64,
    class: SendClass,
    limit: SendLimit,
    count: u32,
    now: i64,
) -> Result<Option<u64>> {
    let level = level(conn, account_id, class, limit, now)?;
    let after = level + f64::from(count);
    let capacity = f64::from(limit.capacity);
    if after > capacity + 1e-9 {
        let wait = ((after - capacity) * f64::from(limit.drain_secs)).ceil();
        return Ok(Some(wait.max(1.0) as u64));
    }
    conn.prepare_cached(
        "INSERT INTO send_buckets (account_id, class, level, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account_id, class) DO UPDATE SET level = ?3, updated_at = ?4",
    )?
    .execute(params![account_id, class.as_str(), after, now])?;
    Ok(None)
}
