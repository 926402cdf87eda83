//! Where a message body lives: in the database when small (durable with
//! the same group commit as its metadata), as a content-addressed file when
//! large. Either way it is named by its BLAKE3 hash and verified on read.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{BlobId, BlobStore, Result, StoreError};

/// Bodies up to this size are stored inline.
pub(crate) const INLINE_MAX: usize = 256 * 1024;

/// Makes a body durable before its metadata refers to it. Large bodies are
/// written as files here, outside the writer thread; small ones only need
/// their hash.
pub(crate) fn prepare(files: &BlobStore, body: &[u8]) -> Result<BlobId> {
    if body.len() <= INLINE_MAX {
        Ok(BlobId::of(body))
    } else {
        files.put(body)
    }
}

/// Records a body inside the write transaction (writer thread).
pub(crate) fn record(conn: &Connection, files: &BlobStore, id: BlobId, body: &[u8]) -> Result<()> {
    if body.len() <= INLINE_MAX {
        conn.prepare_cached(
            "INSERT INTO blobs (id, size, data) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
        )?
        .execute(params![id.to_hex(), body.len() as i64, body])?;
    } else {
        // The collector runs on this thread too: if it removed an identical
        // unreferenced file since `prepare`, write it again.
        if !files.exists(id) {
            files.put(body)?;
        }
        conn.prepare_cached("INSERT OR IGNORE INTO blobs (id, size) VALUES (?1, ?2)")?
            .execute(params![id.to_hex(), body.len() as i64])?;
    }
    Ok(())
}

/// Reads a body and checks it still matches its hash.
pub(crate) fn load(conn: &Connection, files: &BlobStore, id: BlobId) -> Result<Vec<u8>> {
    let row: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT data FROM blobs WHERE id = ?1")?
        .query_row([id.to_hex()], |r| r.get(0))
        .optional()?;
    match row {
        None => Err(StoreError::NotFound(format!("blob {id}"))),
        Some(data) => body(files, id, data),
    }
}

/// A body from its row: inline data or, when there is none, the blob file
/// (which `BlobStore::get` checks against its hash; inline bodies live in
/// the database's own pages, and hashing each on every read cost more
/// than reading it).
pub(crate) fn body(files: &BlobStore, id: BlobId, data: Option<Vec<u8>>) -> Result<Vec<u8>> {
    match data {
        None => files.get(id),
        Some(data) => Ok(data),
    }
}

/// Deletes blobs unreferenced since before `cutoff`, rows and files.
pub(crate) fn collect(conn: &Connection, files: &BlobStore, cutoff: i64) -> Result<usize> {
    let mut stmt = conn.prepare(
        "DELETE FROM blobs WHERE refcount <= 0 AND unreferenced_since <= ?1
         RETURNING id, data IS NULL",
    )?;
    let gone: Vec<(String, bool)> = stmt
        .query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, is_file) in &gone {
        if *is_file {
            files.remove(id.parse()?)?;
        }
    }
    Ok(gone.len())
}
