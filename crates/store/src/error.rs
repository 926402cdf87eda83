use std::io;

/// Everything that can go wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The operation would break a rule the store enforces (e.g. removing a
    /// domain that still owns accounts without `force`).
    #[error("{0}")]
    Conflict(String),
    #[error(
        "the data directory uses schema version {found}, newer than this mailroom knows \
         ({known}); run a newer mailroom or restore a backup"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("blob {0} is corrupt: its content does not match its hash")]
    CorruptBlob(String),
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("the transaction could not be committed: {0}")]
    CommitFailed(String),
    #[error("the store is shut down")]
    Closed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
