//! The embedded tile store: tiles, entry bundles and the checkpoint as plain files under the
//! log's directory, at their `tlog-tiles` paths — a static file server could serve them as is.
//!
//! Every write goes to a temporary file in the same directory and is renamed into place, so a
//! reader (the HTTP server, another process) sees the old or the new object, never a torn one.
//! [`TileStore::sync`] then makes the batch durable with one `syncfs` (Linux) instead of an
//! `fsync` per file; elsewhere it fsyncs each file written since the last sync.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::store::{Kind, TileStore};
use crate::{LogError, Result};

/// Tiles as files under a root directory.
pub struct FileTiles {
    root: PathBuf,
    /// Files written since the last sync (used where `syncfs` is not available).
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    unsynced: Mutex<Vec<PathBuf>>,
}

impl FileTiles {
    /// A store rooted at `root` (which must exist).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileTiles { root: root.into(), unsynced: Mutex::new(Vec::new()) }
    }

    fn path_of(&self, path: &str) -> Result<PathBuf> {
        let ok = !path.is_empty()
            && !path.starts_with('/')
            && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
            && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"./_-".contains(&b));
        if !ok {
            return Err(LogError::Inconsistent(format!("refusing object path {path:?}")));
        }
        Ok(self.root.join(path))
    }
}

#[async_trait]
impl TileStore for FileTiles {
    async fn put(&self, path: &str, data: &[u8], kind: Kind) -> Result<()> {
        let file = self.path_of(path)?;
        if kind == Kind::Immutable {
            match fs::read(&file) {
                Ok(existing) if existing == data => return Ok(()),
                Ok(_) => {
                    return Err(LogError::Inconsistent(format!(
                        "{path} is a full tile already written with different contents"
                    )));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(LogError::io(format!("reading {}", file.display()), e)),
            }
        }
        let dir = file.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| LogError::io(format!("creating {}", dir.display()), e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| LogError::io(format!("creating a file in {}", dir.display()), e))?;
        tmp.write_all(data).map_err(|e| LogError::io(format!("writing {path}"), e))?;
        // Published objects: readable by any user (a static file server, a backup agent).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))
                .map_err(|e| LogError::io(format!("setting the mode of {path}"), e))?;
        }
        tmp.persist(&file).map_err(|e| LogError::io(format!("writing {}", file.display()), e.error))?;
        #[cfg(not(target_os = "linux"))]
        if let Ok(mut list) = self.unsynced.lock() {
            list.push(file);
        }
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let file = self.path_of(path)?;
        match fs::read(&file) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LogError::io(format!("reading {}", file.display()), e)),
        }
    }

    async fn remove_partials(&self, full_path: &str) -> Result<()> {
        let dir = self.path_of(&format!("{full_path}.p"))?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(LogError::io(format!("removing {}", dir.display()), e)),
        }
    }

    async fn sync(&self) -> Result<()> {
        let root = self.root.clone();
        #[cfg(target_os = "linux")]
        {
            tokio::task::spawn_blocking(move || syncfs(&root))
                .await
                .map_err(|e| LogError::Inconsistent(format!("sync task failed: {e}")))?
        }
        #[cfg(not(target_os = "linux"))]
        {
            let files = self.unsynced.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
            tokio::task::spawn_blocking(move || {
                for f in files {
                    File::open(&f).and_then(|f| f.sync_all()).map_err(|e| LogError::io(format!("syncing {}", f.display()), e))?;
                }
                File::open(&root).and_then(|d| d.sync_all()).map_err(|e| LogError::io("syncing the log directory", e))
            })
            .await
            .map_err(|e| LogError::Inconsistent(format!("sync task failed: {e}")))?
        }
    }
}

#[cfg(target_os = "linux")]
fn syncfs(root: &Path) -> Result<()> {
    use std::os::fd::AsRawFd as _;
    let dir = File::open(root).map_err(|e| LogError::io(format!("opening {}", root.display()), e))?;
    // SAFETY: the descriptor is open for the duration of the call.
    let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
    if rc != 0 {
        return Err(LogError::io("syncing the log's file system", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Opens (creating) `path` and waits for an exclusive `flock` on it; the lock lasts as long as
/// the returned file is open.
pub fn lock_exclusive(path: &Path) -> Result<File> {
    let file = open_lock_file(path)?;
    flock(&file, false, false)?;
    Ok(file)
}

/// Takes an exclusive lock without waiting; `None` if another process holds the lock.
pub fn try_lock_exclusive(path: &Path) -> Result<Option<File>> {
    let file = open_lock_file(path)?;
    Ok(flock(&file, false, true)?.then_some(file))
}

/// Takes a shared lock without waiting; `None` if another process holds it exclusively.
pub fn try_lock_shared(path: &Path) -> Result<Option<File>> {
    let file = open_lock_file(path)?;
    Ok(flock(&file, true, true)?.then_some(file))
}

fn open_lock_file(path: &Path) -> Result<File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| LogError::io(format!("opening {}", path.display()), e))
}

#[cfg(unix)]
fn flock(file: &File, shared: bool, nonblocking: bool) -> Result<bool> {
    use std::os::fd::AsRawFd as _;
    let mut op = if shared { libc::LOCK_SH } else { libc::LOCK_EX };
    if nonblocking {
        op |= libc::LOCK_NB;
    }
    loop {
        // SAFETY: the descriptor is open for the duration of the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) if nonblocking => return Ok(false),
            _ => return Err(LogError::io("locking the log directory", err)),
        }
    }
}

#[cfg(not(unix))]
fn flock(_file: &File, _shared: bool, _nonblocking: bool) -> Result<bool> {
    Ok(true)
}
