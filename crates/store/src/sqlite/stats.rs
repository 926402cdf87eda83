//! Message counts per domain and day, and accounts blocked from sending.
//!
//! Counting happens on hot paths (every refused RCPT, every filed message),
//! so counts gather in memory and go into the next batch the writer
//! commits anyway: no write, and no fsync, of their own.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};

use crate::{DayStats, Result, SendingBlock, StatKind};

const SECONDS_PER_DAY: i64 = 86_400;

/// Counts not written yet, by domain name and day.
#[derive(Default)]
pub(crate) struct PendingStats {
    counts: Mutex<HashMap<(String, i64), DayStats>>,
}

impl PendingStats {
    pub(crate) fn add(&self, domain: &str, now: i64, kind: StatKind) {
        let day = now.div_euclid(SECONDS_PER_DAY);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = counts.entry((domain.to_string(), day)).or_default();
        match kind {
            StatKind::Received => entry.received += 1,
            StatKind::Sent => entry.sent += 1,
            StatKind::Rejected => entry.rejected += 1,
        }
    }

    /// Adds what was counted to the table, inside the writer's open
    /// transaction. Counts of a domain that is not hosted are dropped.
    pub(crate) fn write(&self, conn: &Connection) -> Result<()> {
        let counts =
            std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner));
        if counts.is_empty() {
            return Ok(());
        }
        let mut upsert = conn.prepare_cached(
            "INSERT INTO domain_stats (domain_id, day, received, sent, rejected)
             SELECT id, ?2, ?3, ?4, ?5 FROM domains WHERE name = ?1
             ON CONFLICT (domain_id, day) DO UPDATE SET
                received = received + ?3, sent = sent + ?4, rejected = rejected + ?5",
        )?;
        for ((domain, day), c) in counts {
            upsert.execute(params![
                domain,
                day,
                c.received as i64,
                c.sent as i64,
                c.rejected as i64
            ])?;
        }
        Ok(())
    }
}

/// A domain's counts from `from_day` on, oldest first; days without mail
/// are left out.
pub(crate) fn days(conn: &Connection, domain: &str, from_day: i64) -> Result<Vec<DayStats>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, received, sent, rejected FROM domain_stats
         WHERE domain_id = (SELECT id FROM domains WHERE name = ?1) AND day >= ?2
         ORDER BY day",
    )?;
    let rows = stmt.query_map(params![domain, from_day], |r| {
        Ok(DayStats {
            day: r.get(0)?,
            received: r.get::<_, i64>(1)?.max(0) as u64,
            sent: r.get::<_, i64>(2)?.max(0) as u64,
            rejected: r.get::<_, i64>(3)?.max(0) as u64,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn lines(text: String) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

const BLOCK_COLUMNS: &str = "a.email, b.reason, b.evidence, b.message_ids, b.blocked_at \
                             FROM sending_blocks b JOIN accounts a ON a.id = b.account_id";

fn block_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SendingBlock> {
    Ok(SendingBlock {
        email: r.get(0)?,
        reason: r.get(1)?,
        evidence: lines(r.get(2)?),
        message_ids: lines(r.get(3)?),
        blocked_at: r.get(4)?,
    })
}

pub(crate) fn block_get(conn: &Connection, account_id: i64) -> Result<Option<SendingBlock>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {BLOCK_COLUMNS} WHERE b.account_id = ?1"))?
        .query_row([account_id], block_from_row)
        .optional()?)
}

/// Blocks (keeping the first block's record if one is in force) or
/// unblocks; says whether anything changed.
pub(crate) fn block_set(
    conn: &Connection,
    account_id: i64,
    block: Option<&SendingBlock>,
) -> Result<bool> {
    let changed = match block {
        Some(b) => conn.execute(
            "INSERT INTO sending_blocks (account_id, reason, evidence, message_ids, blocked_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (account_id) DO NOTHING",
            params![
                account_id,
                b.reason,
                b.evidence.join("\n"),
                b.message_ids.join("\n"),
                b.blocked_at
            ],
        )?,
        None => conn.execute(
            "DELETE FROM sending_blocks WHERE account_id = ?1",
            [account_id],
        )?,
    };
    Ok(changed > 0)
}

pub(crate) fn block_list(conn: &Connection, domain: Option<&str>) -> Result<Vec<SendingBlock>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {BLOCK_COLUMNS}
         WHERE ?1 IS NULL OR a.domain_id = (SELECT id FROM domains WHERE name = ?1)
         ORDER BY b.blocked_at DESC, a.email"
    ))?;
    let rows = stmt.query_map([domain], block_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
