//! Mailbox management and message changes (what IMAP, POP3 and webmail do
//! to mail), each in one transaction.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    Copied, Delivered, Expunged, FlagChange, FlagOp, FlagOutcome, FlagUpdate, Flags, Mailbox,
    Result, SpecialUse, StoreError,
};

/// Hierarchy separator of mailbox names.
pub const DELIMITER: char = '/';

fn live_mailbox(conn: &Connection, account_id: i64, name: &str) -> Result<Mailbox> {
    super::mail::mailbox_by_name(conn, account_id, name)?
        .ok_or_else(|| StoreError::NotFound(format!("mailbox {name}")))
}

pub(crate) fn create(
    conn: &Connection,
    account_id: i64,
    name: &str,
    special_use: Option<SpecialUse>,
    now: i64,
) -> Result<Mailbox> {
    if super::mail::mailbox_by_name(conn, account_id, name)?.is_some() {
        return Err(StoreError::AlreadyExists(format!("mailbox {name}")));
    }
    let id = super::mail::mailbox_create(conn, account_id, name, special_use, now)?;
    super::mail::mailbox_by_id(conn, id)
}

/// RFC 3501 6.3.5: inferiors move along; renaming INBOX moves its messages
/// to the new mailbox and leaves INBOX empty.
pub(crate) fn rename(
    conn: &Connection,
    account_id: i64,
    from: &str,
    to: &str,
    now: i64,
) -> Result<Expunged> {
    let source = live_mailbox(conn, account_id, from)?;
    if super::mail::mailbox_by_name(conn, account_id, to)?.is_some() {
        return Err(StoreError::AlreadyExists(format!("mailbox {to}")));
    }
    if source.special_use == Some(SpecialUse::Inbox) {
        let target = create(conn, account_id, to, None, now)?;
        let uids = live_uids(conn, source.id)?;
        return Ok(copy(conn, source.id, &uids, target.id, true, now)?.expunged);
    }
    let prefix = format!("{from}{DELIMITER}");
    let mut stmt = conn.prepare(
        "SELECT id, name FROM mailboxes WHERE account_id = ?1 AND deleted_at IS NULL
         AND (name = ?2 OR substr(name, 1, length(?3)) = ?3)",
    )?;
    let renames: Vec<(i64, String)> = stmt
        .query_map(params![account_id, from, prefix], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, name) in renames {
        let new_name = format!("{to}{}", &name[from.len()..]);
        conn.execute(
            "UPDATE mailboxes SET name = ?2 WHERE id = ?1",
            params![id, new_name],
        )?;
        // The subscription goes with the mailbox.
        let moved = conn.execute(
            "DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2",
            params![account_id, name],
        )?;
        if moved > 0 {
            conn.execute(
                "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)",
                params![account_id, new_name],
            )?;
        }
    }
    Ok(Expunged::default())
}

/// Deletes a mailbox; its messages become tombstones, recoverable with the
/// mailbox row, and stop counting against the quota.
pub(crate) fn delete(conn: &Connection, account_id: i64, name: &str, now: i64) -> Result<()> {
    let mailbox = live_mailbox(conn, account_id, name)?;
    if let Some(use_) = mailbox.special_use.filter(|u| u.is_required()) {
        return Err(StoreError::Conflict(format!(
            "{} is a special folder ({}) and cannot be deleted",
            mailbox.name,
            use_.as_str()
        )));
    }
    let uids = live_uids(conn, mailbox.id)?;
    expunge(conn, mailbox.id, &uids, now)?;
    conn.execute(
        "UPDATE mailboxes SET deleted_at = ?2 WHERE id = ?1",
        params![mailbox.id, now],
    )?;
    Ok(())
}

/// RFC 3501 6.3.6-7: SUBSCRIBE names an existing mailbox; UNSUBSCRIBE
/// takes any name on the list, its mailbox deleted or not.
pub(crate) fn subscribe(conn: &Connection, account_id: i64, name: &str, on: bool) -> Result<()> {
    // RFC 3501 5.1: INBOX in any case.
    let name = if name.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        name
    };
    if on {
        let mailbox = live_mailbox(conn, account_id, name)?;
        conn.execute(
            "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)",
            params![account_id, mailbox.name],
        )?;
        return Ok(());
    }
    let removed = conn.execute(
        "DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2",
        params![account_id, name],
    )?;
    if removed == 0 {
        live_mailbox(conn, account_id, name)?;
    }
    Ok(())
}

/// Claims the messages below `up_to` no session was told of yet (RFC 3501
/// 2.3.2 \\Recent): returns the first UID of the claimed run, or None when
/// another session had them all.
pub(crate) fn claim_recent(conn: &Connection, mailbox_id: i64, up_to: u32) -> Result<Option<u32>> {
    let from: u32 = conn
        .prepare_cached("SELECT recent_uid FROM mailboxes WHERE id = ?1")?
        .query_row(params![mailbox_id], |r| r.get(0))
        .optional()?
        .unwrap_or(up_to);
    if from >= up_to {
        return Ok(None);
    }
    conn.prepare_cached("UPDATE mailboxes SET recent_uid = ?2 WHERE id = ?1")?
        .execute(params![mailbox_id, up_to])?;
    Ok(Some(from))
}

/// The names an account subscribed to, existing mailboxes or not.
pub(crate) fn subscriptions(conn: &Connection, account_id: i64) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT name FROM subscriptions WHERE account_id = ?1 ORDER BY name")?;
    let names = stmt
        .query_map(params![account_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

fn live_uids(conn: &Connection, mailbox_id: i64) -> Result<Vec<u32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT uid FROM messages WHERE mailbox_id = ?1 AND expunged_at IS NULL ORDER BY uid",
    )?;
    let uids = stmt
        .query_map([mailbox_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(uids)
}

/// Takes the next MODSEQ of a mailbox.
fn next_modseq(conn: &Connection, mailbox_id: i64) -> Result<u64> {
    let modseq: i64 = conn
        .prepare_cached(
            "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1
             RETURNING highestmodseq",
        )?
        .query_row([mailbox_id], |r| r.get(0))?;
    Ok(modseq as u64)
}

fn keywords_text(keywords: &[String]) -> String {
    keywords.join(" ")
}

pub(crate) fn set_flags(
    conn: &Connection,
    mailbox_id: i64,
    change: &FlagChange,
) -> Result<FlagOutcome> {
    let mut outcome = FlagOutcome::default();
    let mut read = conn.prepare_cached(
        "SELECT modseq, flags, keywords FROM messages
         WHERE mailbox_id = ?1 AND uid = ?2 AND expunged_at IS NULL",
    )?;
    let mut write = conn.prepare_cached(
        "UPDATE messages SET modseq = ?3, flags = ?4, keywords = ?5
         WHERE mailbox_id = ?1 AND uid = ?2",
    )?;
    for &uid in &change.uids {
        let Some((modseq, flags, keywords)) = read
            .query_row(params![mailbox_id, uid], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    Flags(r.get(1)?),
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?
        else {
            continue;
        };
        if change.unchanged_since.is_some_and(|since| modseq > since) {
            outcome.modified.push(uid);
            continue;
        }
        let keywords: Vec<String> = keywords.split_whitespace().map(str::to_string).collect();
        let (new_flags, new_keywords) = apply(change, flags, &keywords);
        if new_flags == flags && new_keywords == keywords {
            continue;
        }
        let modseq = next_modseq(conn, mailbox_id)?;
        write.execute(params![
            mailbox_id,
            uid,
            modseq as i64,
            new_flags.0,
            keywords_text(&new_keywords)
        ])?;
        outcome.updated.push(FlagUpdate {
            uid,
            modseq,
            flags: new_flags,
            keywords: new_keywords,
        });
    }
    Ok(outcome)
}

fn apply(change: &FlagChange, flags: Flags, keywords: &[String]) -> (Flags, Vec<String>) {
    match change.op {
        FlagOp::Replace => {
            let mut k = change.keywords.clone();
            k.sort();
            k.dedup();
            (change.flags, k)
        }
        FlagOp::Add => {
            let mut k = keywords.to_vec();
            for kw in &change.keywords {
                if !k.iter().any(|x| x.eq_ignore_ascii_case(kw)) {
                    k.push(kw.clone());
                }
            }
            k.sort();
            (flags.union(change.flags), k)
        }
        FlagOp::Remove => {
            let k = keywords
                .iter()
                .filter(|x| !change.keywords.iter().any(|kw| kw.eq_ignore_ascii_case(x)))
                .cloned()
                .collect();
            (Flags(flags.0 & !change.flags.0), k)
        }
    }
}

/// Expunges messages: tombstones with a new MODSEQ (for QRESYNC VANISHED and
/// 30-day recovery), no longer counted against the quota.
pub(crate) fn expunge(
    conn: &Connection,
    mailbox_id: i64,
    uids: &[u32],
    now: i64,
) -> Result<Expunged> {
    let mut result = Expunged::default();
    if uids.is_empty() {
        return Ok(result);
    }
    let modseq = next_modseq(conn, mailbox_id)?;
    let mut stmt = conn.prepare_cached(
        "UPDATE messages SET expunged_at = ?3, modseq = ?4
         WHERE mailbox_id = ?1 AND uid = ?2 AND expunged_at IS NULL RETURNING size",
    )?;
    let mut freed: i64 = 0;
    for &uid in uids {
        if let Some(size) = stmt
            .query_row(params![mailbox_id, uid, now, modseq as i64], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
        {
            freed += size;
            result.uids.push(uid);
        }
    }
    conn.prepare_cached(
        "UPDATE accounts SET used_bytes = max(0, used_bytes - ?2)
         WHERE id = (SELECT account_id FROM mailboxes WHERE id = ?1)",
    )?
    .execute(params![mailbox_id, freed])?;
    result.modseq = modseq;
    Ok(result)
}

/// Copies (or moves) live messages to another mailbox of the same account.
pub(crate) fn copy(
    conn: &Connection,
    from: i64,
    uids: &[u32],
    to: i64,
    remove_source: bool,
    now: i64,
) -> Result<Copied> {
    let source = super::mail::mailbox_by_id(conn, from)?;
    let target = super::mail::mailbox_by_id(conn, to)?;
    if source.account_id != target.account_id {
        return Err(StoreError::Conflict(
            "messages move only within one account".into(),
        ));
    }
    let mut result = Copied {
        uidvalidity: target.uidvalidity,
        ..Copied::default()
    };
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut read = conn.prepare_cached(
        "SELECT flags, keywords, internal_date, size, blob_id, prefix FROM messages
         WHERE mailbox_id = ?1 AND uid = ?2 AND expunged_at IS NULL",
    )?;
    let mut added: i64 = 0;
    let mut moved = Vec::new();
    for uid in sorted {
        type Row = (u8, String, i64, i64, String, Vec<u8>);
        let Some(row): Option<Row> = read
            .query_row(params![from, uid], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?
        else {
            continue;
        };
        let (new_uid, modseq): (u32, i64) = conn
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
                 WHERE id = ?1 RETURNING uidnext - 1, highestmodseq",
            )?
            .query_row([to], |r| Ok((r.get(0)?, r.get(1)?)))?;
        conn.prepare_cached(
            "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, prefix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![to, new_uid, modseq, row.0, row.1, row.2, row.3, row.4, row.5])?;
        added += row.3;
        result.pairs.push((uid, new_uid));
        result.delivered.push(Delivered {
            account_id: target.account_id,
            mailbox_id: to,
            uid: new_uid,
            modseq: modseq as u64,
            flags: Flags(row.0),
            keywords: row.1.split_whitespace().map(str::to_string).collect(),
            internal_date: row.2,
            size: row.3 as u64,
            blob: row.4.parse()?,
        });
        moved.push(uid);
    }
    conn.prepare_cached("UPDATE accounts SET used_bytes = used_bytes + ?2 WHERE id = ?1")?
        .execute(params![target.account_id, added])?;
    if remove_source {
        result.expunged = expunge(conn, from, &moved, now)?;
    }
    Ok(result)
}

/// Appends a message whose blob is already durable (IMAP APPEND, imports).
pub(crate) fn append(
    conn: &Connection,
    mailbox_id: i64,
    blob: crate::BlobId,
    size: u64,
    flags: Flags,
    keywords: &[String],
    internal_date: i64,
) -> Result<Delivered> {
    let mailbox = super::mail::mailbox_by_id(conn, mailbox_id)?;
    let (uid, modseq): (u32, i64) = conn
        .prepare_cached(
            "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
             WHERE id = ?1 RETURNING uidnext - 1, highestmodseq",
        )?
        .query_row([mailbox_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    conn.prepare_cached(
        "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        mailbox_id,
        uid,
        modseq,
        flags.0,
        keywords_text(keywords),
        internal_date,
        size as i64,
        blob.to_hex()
    ])?;
    conn.prepare_cached("UPDATE accounts SET used_bytes = used_bytes + ?2 WHERE id = ?1")?
        .execute(params![mailbox.account_id, size as i64])?;
    Ok(Delivered {
        account_id: mailbox.account_id,
        mailbox_id,
        uid,
        modseq: modseq as u64,
        flags,
        keywords: keywords.to_vec(),
        internal_date,
        size,
        blob,
    })
}
