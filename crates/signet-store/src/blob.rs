//! Blob storage: opaque bytes by key (`org/contract/name`), written once and never overwritten.
//!
//! The platform stores only sealed bytes here (encrypted by `signet-vault` before they arrive);
//! this layer knows nothing about keys or PDFs. [`FileBlobs`] is the embedded default (one file
//! per blob under a root directory, written through a temporary file, `fsync`ed, then linked
//! into place without replacing anything). [`S3Blobs`] keeps them in an S3-compatible bucket
//! for servers that share one store (each blob an object under the URL's prefix, created with
//! a conditional put so that concurrent writers never overwrite each other). Both keep the
//! same contract, which [`suite`] checks.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

mod s3;

pub use s3::S3Blobs;

/// What can go wrong in blob storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// A key that is not `part/part/part` of `[A-Za-z0-9_.-]` (not starting with a dot).
    #[error("invalid blob key {0:?}")]
    InvalidKey(String),
    /// A blob already exists under this key: blobs are never overwritten.
    #[error("a blob named {0:?} already exists")]
    Exists(String),
    /// The underlying storage failed.
    #[error("blob storage ({key}): {source}")]
    Io {
        /// The key concerned.
        key: String,
        /// What failed.
        source: std::io::Error,
    },
    /// Object storage failed or could not be reached.
    #[error("blob storage ({key}): {message}")]
    Remote {
        /// The key (or prefix) concerned.
        key: String,
        /// What was being done and the storage's answer.
        message: String,
    },
    /// The object storage settings (URL, credentials) cannot be used.
    #[error(transparent)]
    Config(#[from] signet_objects::ObjectsError),
}

/// Where sealed documents live.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `data` under `key`, durable when this returns. Fails with [`BlobError::Exists`]
    /// when `key` is taken (two writers never overwrite each other).
    async fn put_new(&self, key: &str, data: &[u8]) -> Result<(), BlobError>;

    /// The blob under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;

    /// Removes the blob under `key`; removing a missing blob is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// Removes every blob whose key starts with `prefix` followed by `/`.
    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError>;

    /// Checks, at start, that the storage can be written and read (a bucket that does not
    /// exist, or credentials that are refused, show here rather than at the first upload).
    async fn check(&self) -> Result<(), BlobError> {
        Ok(())
    }
}

/// Checks a key: one to three `/`-separated parts of `[A-Za-z0-9_.-]`, none empty or starting
/// with a dot (so no key can climb out of its directory or name a hidden file).
pub fn check_key(key: &str) -> Result<(), BlobError> {
    let parts: Vec<&str> = key.split('/').collect();
    let ok = (1..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty() && !p.starts_with('.') && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        });
    if ok { Ok(()) } else { Err(BlobError::InvalidKey(key.to_owned())) }
}

/// Blobs as files under a root directory (mode 0600).
pub struct FileBlobs {
    root: PathBuf,
}

impl FileBlobs {
    /// Blobs under `root` (created when the first blob is written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileBlobs { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io(key: &str) -> impl FnOnce(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io { key: key.to_owned(), source }
}

fn write_new(path: &Path, data: &[u8]) -> std::io::Result<bool> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {}
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e.error),
    }
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(true)
}

#[async_trait]
impl BlobStore for FileBlobs {
    async fn put_new(&self, key: &str, data: &[u8]) -> Result<(), BlobError> {
        let path = self.path(key)?;
        let data = data.to_vec();
        let written = tokio::task::spawn_blocking(move || write_new(&path, &data))
            .await
            .map_err(|e| BlobError::Io { key: key.to_owned(), source: std::io::Error::other(e) })?
            .map_err(io(key))?;
        if written { Ok(()) } else { Err(BlobError::Exists(key.to_owned())) }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(key)(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(key)(e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError> {
        let path = self.path(prefix)?;
        match tokio::fs::remove_dir_all(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(prefix)(e)),
        }
    }
}

/// The behaviour every [`BlobStore`] must have; implementations' tests call this.
pub async fn suite(store: &dyn BlobStore, scope: &str) {
    let k = |n: &str| format!("{scope}/c1/{n}");
    assert!(store.get(&k("a.pdf")).await.expect("get missing").is_none(), "a missing blob reads as None");
    store.put_new(&k("a.pdf"), b"first").await.expect("put");
    assert_eq!(store.get(&k("a.pdf")).await.expect("get").as_deref(), Some(&b"first"[..]));
    match store.put_new(&k("a.pdf"), b"second").await {
        Err(BlobError::Exists(_)) => {}
        other => panic!("overwriting must be refused, got {other:?}"),
    }
    assert_eq!(store.get(&k("a.pdf")).await.expect("get").as_deref(), Some(&b"first"[..]), "the first write stays");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    store.put_new(&k("big.bin"), &big).await.expect("put big");
    assert_eq!(store.get(&k("big.bin")).await.expect("get big").as_deref(), Some(&big[..]));
    store.put_new(&format!("{scope}/c2/x"), b"other contract").await.expect("put c2");
    for bad in ["", "../x", "a/../b", "a/.hidden", "a//b", "a/b/c/d", "a b", "a/b\\c"] {
        assert!(matches!(store.put_new(bad, b"x").await, Err(BlobError::InvalidKey(_))), "{bad:?} must be refused");
        assert!(matches!(store.get(bad).await, Err(BlobError::InvalidKey(_))), "{bad:?} must be refused");
    }
    store.delete(&k("a.pdf")).await.expect("delete");
    store.delete(&k("a.pdf")).await.expect("deleting twice is fine");
    assert!(store.get(&k("a.pdf")).await.expect("get").is_none());
    store.delete_prefix(&format!("{scope}/c1")).await.expect("delete prefix");
    assert!(store.get(&k("big.bin")).await.expect("get").is_none(), "the prefix is gone");
    assert_eq!(store.get(&format!("{scope}/c2/x")).await.expect("get").as_deref(), Some(&b"other contract"[..]), "other prefixes stay");
    store.delete_prefix(&format!("{scope}/c9")).await.expect("deleting a missing prefix is fine");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_blobs_keep_the_contract() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileBlobs::new(dir.path().join("blobs"));
        suite(&store, "org_1").await;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("blobs/org_1/c2/x")).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "blobs are private to the server's user");
        }
    }

    #[tokio::test]
    async fn concurrent_writers_of_one_key_have_one_winner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = std::sync::Arc::new(FileBlobs::new(dir.path()));
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move { s.put_new("o/c/same", &[i; 1000]).await }));
        }
        let mut wins = 0;
        for t in tasks {
            match t.await.expect("join") {
                Ok(()) => wins += 1,
                Err(BlobError::Exists(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(wins, 1);
        let got = store.get("o/c/same").await.expect("get").expect("present");
        assert!(got.iter().all(|&b| b == got[0]), "one writer's bytes, whole");
    }
}
