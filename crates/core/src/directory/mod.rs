//! The directory: domains, accounts, aliases, roles and passwords.
//!
//! It keeps no cache: every lookup reads the store, so a change made by
//! another process (the CLI, another node) is seen by the next lookup.

mod accounts;
mod aliases;
pub mod antispam;
mod auth;
mod domains;
mod forwards;
mod limits;
pub mod stats;

use std::sync::Arc;

use mailroom_store::Store;

use crate::security::{Guard, GuardSettings};

pub use accounts::{AccountSettings, NewAccountRequest, PasswordInput};
pub use limits::DomainLimitsView;

#[derive(Clone)]
pub struct Directory {
    pub(crate) store: Arc<dyn Store>,
    /// Failed-login counting, shared by every front-end of this process.
    pub(crate) guard: Arc<Guard>,
    /// The credentials counter last seen (see `security::access`).
    pub(crate) epoch: Arc<std::sync::atomic::AtomicU64>,
}

impl Directory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_guard(store, GuardSettings::default())
    }

    pub fn with_guard(store: Arc<dyn Store>, settings: GuardSettings) -> Self {
        Self {
            store,
            guard: Arc::new(Guard::new(settings)),
            epoch: Arc::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// Runs CPU-heavy work (password hashing) off the async workers.
/// Runs password hashing off the async threads, at most one per core at a
/// time: each argon2id check takes 19 MiB and a core for tens of
/// milliseconds, so a burst of logins (or a guessing attack) queues here
/// instead of piling up threads and memory.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    let _slot = slots
        .acquire()
        .await
        .map_err(|e| crate::CoreError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| crate::CoreError::Internal(e.to_string()))?
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use mailroom_store::{SqliteStore, SystemClock};

    use super::Directory;

    pub(crate) fn directory() -> (Directory, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Arc::new(SystemClock)).unwrap();
        (Directory::new(Arc::new(store)), dir)
    }
}
