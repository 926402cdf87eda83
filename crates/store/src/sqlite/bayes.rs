//! The spam filter's memory in SQLite: Bayes token counts per owner
//! (0: global), trained messages, score overrides and the greylist.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{BayesCounts, Greylisting, Result};

fn as_json(tokens: &[u64]) -> String {
    let items: Vec<String> = tokens.iter().map(|t| (*t as i64).to_string()).collect();
    format!("[{}]", items.join(","))
}

fn totals(conn: &Connection, owner: i64) -> Result<BayesCounts> {
    Ok(conn
        .prepare_cached("SELECT spam, ham FROM bayes_totals WHERE owner = ?1")?
        .query_row([owner], |r| {
            Ok(BayesCounts {
                spam: r.get(0)?,
                ham: r.get(1)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// The owner's totals and the counts of `tokens`, in the same order.
pub(crate) fn lookup(
    conn: &Connection,
    owner: i64,
    tokens: &[u64],
) -> Result<(BayesCounts, Vec<BayesCounts>)> {
    let totals = totals(conn, owner)?;
    let mut found = std::collections::HashMap::with_capacity(tokens.len());
    if totals.spam + totals.ham > 0 {
        let mut stmt = conn.prepare_cached(
            "SELECT token, spam, ham FROM bayes_tokens
             WHERE owner = ?1 AND token IN (SELECT value FROM json_each(?2))",
        )?;
        let rows = stmt.query_map(params![owner, as_json(tokens)], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                BayesCounts {
                    spam: r.get(1)?,
                    ham: r.get(2)?,
                },
            ))
        })?;
        for row in rows {
            let (token, counts) = row?;
            found.insert(token, counts);
        }
    }
    let counts = tokens
        .iter()
        .map(|t| found.get(t).copied().unwrap_or_default())
        .collect();
    Ok((totals, counts))
}

/// Adds (`step` 1) or takes back (`step` -1) one message of a class.
fn apply(conn: &Connection, owner: i64, tokens: &[u64], as_spam: bool, step: i64) -> Result<()> {
    let (spam, ham) = if as_spam { (step, 0) } else { (0, step) };
    conn.prepare_cached(
        "INSERT INTO bayes_totals (owner, spam, ham) VALUES (?1, max(?2, 0), max(?3, 0))
         ON CONFLICT (owner) DO UPDATE SET spam = max(spam + ?2, 0), ham = max(ham + ?3, 0)",
    )?
    .execute(params![owner, spam, ham])?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO bayes_tokens (owner, token, spam, ham) VALUES (?1, ?2, max(?3, 0), max(?4, 0))
         ON CONFLICT (owner, token) DO UPDATE SET spam = max(spam + ?3, 0), ham = max(ham + ?4, 0)",
    )?;
    for token in tokens {
        upsert.execute(params![owner, *token as i64, spam, ham])?;
    }
    if step < 0 {
        conn.prepare_cached("DELETE FROM bayes_tokens WHERE owner = ?1 AND spam = 0 AND ham = 0")?
            .execute([owner])?;
    }
    Ok(())
}

/// Trains `message` as spam or ham for each owner; a message trained the
/// same way before changes nothing, one trained the other way is moved.
/// Says whether anything changed.
pub(crate) fn train(
    conn: &Connection,
    owners: &[i64],
    message: &str,
    tokens: &[u64],
    as_spam: bool,
) -> Result<bool> {
    let mut changed = false;
    for &owner in owners {
        let before: Option<bool> = conn
            .prepare_cached("SELECT as_spam FROM bayes_trained WHERE owner = ?1 AND message = ?2")?
            .query_row(params![owner, message], |r| r.get(0))
            .optional()?;
        match before {
            Some(was) if was == as_spam => continue,
            Some(was) => apply(conn, owner, tokens, was, -1)?,
            None => {}
        }
        apply(conn, owner, tokens, as_spam, 1)?;
        conn.prepare_cached(
            "INSERT INTO bayes_trained (owner, message, as_spam) VALUES (?1, ?2, ?3)
             ON CONFLICT (owner, message) DO UPDATE SET as_spam = ?3",
        )?
        .execute(params![owner, message, as_spam])?;
        changed = true;
    }
    Ok(changed)
}

pub(crate) fn trained(conn: &Connection, owner: i64, message: &str) -> Result<Option<bool>> {
    Ok(conn
        .prepare_cached("SELECT as_spam FROM bayes_trained WHERE owner = ?1 AND message = ?2")?
        .query_row(params![owner, message], |r| r.get(0))
        .optional()?)
}

pub(crate) fn scores(conn: &Connection) -> Result<Vec<(String, f64)>> {
    let mut stmt = conn.prepare_cached("SELECT tag, score FROM spam_scores ORDER BY tag")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn score_set(conn: &Connection, tag: &str, score: Option<f64>) -> Result<()> {
    match score {
        Some(s) => conn.execute(
            "INSERT INTO spam_scores (tag, score) VALUES (?1, ?2)
             ON CONFLICT (tag) DO UPDATE SET score = ?2",
            params![tag, s],
        )?,
        None => conn.execute("DELETE FROM spam_scores WHERE tag = ?1", [tag])?,
    };
    Ok(())
}

/// Triplets not retried within this long are forgotten.
const UNCONFIRMED_KEPT: i64 = 2 * 86_400;
/// Confirmed triplets are remembered this long after their last use.
const CONFIRMED_KEPT: i64 = 36 * 86_400;

/// Greylisting (the first attempt of an unknown triplet is deferred;
/// a retry after `delay` passes and is remembered).
pub(crate) fn greylist(
    conn: &Connection,
    triplet: &str,
    now: i64,
    delay: i64,
) -> Result<Greylisting> {
    let row: Option<(i64, Option<i64>)> = conn
        .prepare_cached("SELECT first_seen, passed_at FROM greylist WHERE triplet = ?1")?
        .query_row([triplet], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let outcome = match row {
        Some((_, Some(_))) => {
            conn.execute(
                "UPDATE greylist SET passed_at = ?2 WHERE triplet = ?1",
                params![triplet, now],
            )?;
            Greylisting::Pass
        }
        Some((first, None)) if now - first >= delay && now - first < UNCONFIRMED_KEPT => {
            conn.execute(
                "UPDATE greylist SET passed_at = ?2 WHERE triplet = ?1",
                params![triplet, now],
            )?;
            Greylisting::Pass
        }
        Some((first, None)) if now - first < delay => Greylisting::Wait(delay - (now - first)),
        _ => {
            conn.execute(
                "INSERT INTO greylist (triplet, first_seen) VALUES (?1, ?2)
                 ON CONFLICT (triplet) DO UPDATE SET first_seen = ?2, passed_at = NULL",
                params![triplet, now],
            )?;
            Greylisting::Wait(delay)
        }
    };
    conn.prepare_cached(
        "DELETE FROM greylist WHERE (passed_at IS NULL AND first_seen < ?1) OR passed_at < ?2",
    )?
    .execute(params![now - UNCONFIRMED_KEPT, now - CONFIRMED_KEPT])?;
    Ok(outcome)
}
