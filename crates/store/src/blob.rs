//! Content-addressed message bodies on the filesystem.
//!
//! A blob is named by the BLAKE3 hash of its bytes and written with the
//! durable sequence: temporary file, fsync, rename, fsync of the directory.
//! Only a complete, synced file is ever renamed into place, so a crash can
//! leave at most a stray temporary file, which [`BlobStore::open`] removes.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::{Result, StoreError};

/// The BLAKE3 hash of a blob's content.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId([u8; 32]);

impl BlobId {
    pub fn of(data: &[u8]) -> Self {
        BlobId(*blake3::hash(data).as_bytes())
    }
    pub fn to_hex(self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({})", self.to_hex())
    }
}

impl FromStr for BlobId {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        blake3::Hash::from_hex(s)
            .map(|h| BlobId(*h.as_bytes()))
            .map_err(|_| StoreError::CorruptBlob(s.to_string()))
    }
}

impl Serialize for BlobId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    tmp: PathBuf,
    counter: AtomicU64,
}

impl BlobStore {
    /// Opens (creating if needed) the blob directory and removes temporary
    /// files a crash may have left behind.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp)?;
        for entry in fs::read_dir(&tmp)? {
            let entry = entry?;
            // Unfinished writes of a crashed process: never renamed, so
            // never referenced. Another live process (the CLI beside the
            // server) may be writing its own right now; leave those.
            if is_abandoned(&entry) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            root,
            tmp,
            counter: AtomicU64::new(0),
        })
    }

    pub fn path_of(&self, id: BlobId) -> PathBuf {
        let hex = id.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..])
    }

    /// Stores `data` durably and returns its id. Storing the same content
    /// twice writes it once.
    pub fn put(&self, data: &[u8]) -> Result<BlobId> {
        let id = BlobId::of(data);
        let path = self.path_of(id);
        if path.exists() {
            return Ok(id);
        }
        let dir = path.parent().expect("blob path has a parent");
        let new_dir = !dir.exists();
        if new_dir {
            fs::create_dir_all(dir)?;
        }
        let tmp_path = self.tmp.join(format!(
            "{}.{}.{}",
            id.to_hex(),
            std::process::id(),
            self.counter.fetch_add(1, Ordering::Relaxed)
        ));
        let written = write_synced(&tmp_path, data).and_then(|()| fs::rename(&tmp_path, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp_path);
            return Err(e.into());
        }
        sync_dir(dir)?;
        if new_dir {
            sync_dir(&self.root)?;
        }
        Ok(id)
    }

    /// Reads a blob and checks that its content still matches its name.
    pub fn get(&self, id: BlobId) -> Result<Vec<u8>> {
        let data = fs::read(self.path_of(id)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::NotFound(format!("blob {id}")),
            _ => StoreError::Io(e),
        })?;
        if BlobId::of(&data) != id {
            return Err(StoreError::CorruptBlob(id.to_hex()));
        }
        Ok(data)
    }

    pub fn exists(&self, id: BlobId) -> bool {
        self.path_of(id).exists()
    }

    pub fn remove(&self, id: BlobId) -> Result<()> {
        match fs::remove_file(self.path_of(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A temporary file is abandoned when the process that wrote it is gone,
/// or when it is older than any write could take.
fn is_abandoned(entry: &fs::DirEntry) -> bool {
    const MAX_WRITE_AGE: std::time::Duration = std::time::Duration::from_secs(3600);
    let name = entry.file_name();
    let writer_pid = name
        .to_str()
        .and_then(|n| n.split('.').nth(1))
        .and_then(|pid| pid.parse::<u32>().ok());
    let writer_alive = writer_pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
    let too_old = entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > MAX_WRITE_AGE);
    !writer_alive || too_old
}

fn write_synced(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_then_reopen_and_get_verifies_content() {
        let dir = tempfile::tempdir().unwrap();
        let id = BlobStore::open(dir.path())
            .unwrap()
            .put(b"hello blob")
            .unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        assert_eq!(store.get(id).unwrap(), b"hello blob");
        assert_eq!(id, BlobId::of(b"hello blob"));
    }

    #[test]
    fn same_content_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let a = store.put(b"same").unwrap();
        let b = store.put(b"same").unwrap();
        assert_eq!(a, b);
        let files: usize = fs::read_dir(store.path_of(a).parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(files, 1);
    }

    #[test]
    fn torn_temp_file_never_becomes_visible() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"the whole message";
        let id = BlobId::of(content);
        {
            let store = BlobStore::open(dir.path()).unwrap();
            // A crash in the middle of a write leaves half a temp file.
            fs::write(
                store.tmp.join(format!("{}.1.0", id.to_hex())),
                &content[..5],
            )
            .unwrap();
        }
        let store = BlobStore::open(dir.path()).unwrap();
        assert!(!store.exists(id));
        assert!(matches!(store.get(id), Err(StoreError::NotFound(_))));
        assert_eq!(fs::read_dir(&store.tmp).unwrap().count(), 1);
        // Writing it for real afterwards works.
        assert_eq!(store.put(content).unwrap(), id);
        assert_eq!(store.get(id).unwrap(), content);
    }

    #[test]
    fn corrupted_blob_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let id = store.put(b"original").unwrap();
        fs::write(store.path_of(id), b"tampered").unwrap();
        assert!(matches!(store.get(id), Err(StoreError::CorruptBlob(_))));
    }

    #[test]
    fn blob_id_round_trips_through_hex() {
        let id = BlobId::of(b"x");
        assert_eq!(id.to_hex().parse::<BlobId>().unwrap(), id);
        assert!("nothex".parse::<BlobId>().is_err());
    }
}
