//! Storage for mailroom.
//!
//! One [`Store`] trait with the embedded SQLite back-end ([`SqliteStore`]);
//! a PostgreSQL back-end implements the same trait. Message bodies live in
//! the content-addressed [`BlobStore`], metadata in the database.

mod blob;
mod clock;
mod error;
mod model;
mod sqlite;
mod store;

pub use blob::{BlobId, BlobStore};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Result, StoreError};
pub use model::*;
pub use sqlite::{SCHEMA_VERSION, SqliteStore};
pub use store::Store;
