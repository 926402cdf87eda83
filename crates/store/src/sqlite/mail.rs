//! Mailboxes and messages in SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    BlobId, Delivered, Delivery, Flags, Folder, Mailbox, MessageMeta, Result, SpecialUse,
    StoreError,
};

const MAILBOX_COLUMNS: &str =
    "id, account_id, name, special_use, uidvalidity, uidnext, highestmodseq,
     EXISTS (SELECT 1 FROM subscriptions s
             WHERE s.account_id = mailboxes.account_id AND s.name = mailboxes.name),
     recent_uid";

fn mailbox_from_row(row: &Row<'_>) -> rusqlite::Result<Mailbox> {
    let special: Option<String> = row.get(3)?;
    Ok(Mailbox {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        special_use: special.as_deref().and_then(SpecialUse::parse),
        uidvalidity: row.get(4)?,
        uidnext: row.get(5)?,
        highestmodseq: row.get::<_, i64>(6)? as u64,
        subscribed: row.get(7)?,
        recent_uid: row.get(8)?,
    })
}

pub(crate) fn mailbox_create(
    conn: &Connection,
    account_id: i64,
    name: &str,
    special_use: Option<SpecialUse>,
    now: i64,
) -> Result<i64> {
    // RFC 3501 2.3.1.1: a new incarnation of a name must not reuse an old
    // UIDVALIDITY. The clock, but never one handed out before: a mailbox
    // deleted and created again within a second gets the next value.
    let last: i64 = conn
        .prepare_cached("SELECT value FROM server_settings WHERE name = 'uidvalidity'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let uidvalidity = now.clamp(1, i64::from(u32::MAX)).max(last + 1);
    conn.prepare_cached(
        "INSERT INTO server_settings (name, value) VALUES ('uidvalidity', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![uidvalidity])?;
    conn.execute(
        "INSERT INTO mailboxes (account_id, name, special_use, uidvalidity)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            account_id,
            name,
            special_use.map(SpecialUse::as_str),
            uidvalidity as u32
        ],
    )?;
    let id = conn.last_insert_rowid();
    // New mailboxes start subscribed, so every client shows them.
    conn.prepare_cached("INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)")?
        .execute(params![account_id, name])?;
    Ok(id)
}

pub(crate) fn mailbox_by_name(
    conn: &Connection,
    account_id: i64,
    name: &str,
) -> Result<Option<Mailbox>> {
    // RFC 3501 5.1: INBOX is case-insensitive, other names are not.
    let name = if name.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        name
    };
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {MAILBOX_COLUMNS} FROM mailboxes
             WHERE account_id = ?1 AND name = ?2 AND deleted_at IS NULL"
        ))?
        .query_row(params![account_id, name], mailbox_from_row)
        .optional()?)
}

pub(crate) fn mailbox_by_id(conn: &Connection, id: i64) -> Result<Mailbox> {
    conn.prepare_cached(&format!(
        "SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE id = ?1 AND deleted_at IS NULL"
    ))?
    .query_row([id], mailbox_from_row)
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("mailbox {id}")))
}

pub(crate) fn mailbox_list(conn: &Connection, account_id: i64) -> Result<Vec<Mailbox>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MAILBOX_COLUMNS} FROM mailboxes
         WHERE account_id = ?1 AND deleted_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([account_id], mailbox_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn resolve_folder(conn: &Connection, account_id: i64, folder: &Folder) -> Result<i64> {
    let found = match folder {
        Folder::Special(use_) => conn
            .prepare_cached(
                "SELECT id FROM mailboxes
                 WHERE account_id = ?1 AND special_use = ?2 AND deleted_at IS NULL",
            )?
            .query_row(params![account_id, use_.as_str()], |r| r.get(0))
            .optional()?,
        Folder::Id(id) => conn
            .prepare_cached(
                "SELECT id FROM mailboxes WHERE account_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            )?
            .query_row(params![account_id, id], |r| r.get(0))
            .optional()?,
    };
    found.ok_or_else(|| StoreError::NotFound(format!("mailbox {folder:?} of account {account_id}")))
}

/// Files one delivery; the blob file is already durable.
pub(crate) fn deliver(
    conn: &Connection,
    delivery: &Delivery,
    blob: BlobId,
) -> Result<Vec<Delivered>> {
    let blob_hex = blob.to_hex();
    let mut delivered = Vec::with_capacity(delivery.targets.len());
    for target in &delivery.targets {
        let mailbox_id = resolve_folder(conn, target.account_id, &target.folder)?;
        let (uid, modseq): (u32, i64) = conn
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
                 WHERE id = ?1 RETURNING uidnext - 1, highestmodseq",
            )?
            .query_row([mailbox_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let size = delivery.body.len() as u64 + target.prefix.len() as u64;
        conn.prepare_cached(
            "INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, blob_id, prefix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            mailbox_id,
            uid,
            modseq,
            target.flags.0,
            delivery.internal_date,
            size as i64,
            blob_hex,
            target.prefix
        ])?;
        conn.prepare_cached("UPDATE accounts SET used_bytes = used_bytes + ?2 WHERE id = ?1")?
            .execute(params![target.account_id, size as i64])?;
        delivered.push(Delivered {
            account_id: target.account_id,
            mailbox_id,
            uid,
            modseq: modseq as u64,
            flags: target.flags,
            keywords: Vec::new(),
            internal_date: delivery.internal_date,
            size,
            blob,
        });
    }
    Ok(delivered)
}

const MESSAGE_COLUMNS: &str = "id, mailbox_id, uid, modseq, flags, keywords, internal_date, size, \
                               blob_id, expunged_at";

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<MessageMeta> {
    let keywords: String = r.get(5)?;
    let blob: String = r.get(8)?;
    Ok(MessageMeta {
        id: r.get(0)?,
        mailbox_id: r.get(1)?,
        uid: r.get(2)?,
        modseq: r.get::<_, i64>(3)? as u64,
        flags: Flags(r.get(4)?),
        keywords: keywords.split_whitespace().map(str::to_string).collect(),
        internal_date: r.get(6)?,
        size: r.get::<_, i64>(7)? as u64,
        blob: blob.parse().map_err(|e: StoreError| {
            rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, e.into())
        })?,
        expunged_at: r.get(9)?,
    })
}

pub(crate) fn message_list(conn: &Connection, mailbox_id: i64) -> Result<Vec<MessageMeta>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = ?1 ORDER BY uid"
    ))?;
    let rows = stmt.query_map([mailbox_id], message_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn messages_from_uid(
    conn: &Connection,
    mailbox_id: i64,
    min_uid: u32,
) -> Result<Vec<MessageMeta>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages
         WHERE mailbox_id = ?1 AND uid >= ?2 AND expunged_at IS NULL ORDER BY uid"
    ))?;
    let rows = stmt.query_map(params![mailbox_id, min_uid], message_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The message as a client sees it (prefix, then body) in one query.
pub(crate) fn message_content(
    conn: &Connection,
    files: &crate::BlobStore,
    mailbox_id: i64,
    uid: u32,
) -> Result<Vec<u8>> {
    type Row = (String, Vec<u8>, Option<String>, Option<Vec<u8>>);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT m.blob_id, m.prefix, b.id, b.data FROM messages m
             LEFT JOIN blobs b ON b.id = m.blob_id
             WHERE m.mailbox_id = ?1 AND m.uid = ?2 AND m.expunged_at IS NULL",
        )?
        .query_row(params![mailbox_id, uid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let (blob, mut content, found, data) =
        row.ok_or_else(|| StoreError::NotFound(format!("message {uid} in mailbox {mailbox_id}")))?;
    if found.is_none() {
        // A message whose body is gone is damage, not an expunge.
        return Err(StoreError::CorruptBlob(blob));
    }
    content.extend_from_slice(&super::blobs::body(files, blob.parse()?, data)?);
    Ok(content)
}
