//! Documents at rest: every blob sealed with its own data key under its organisation's key
//! (`signet-vault`), bound to its place (`org/contract/name`) so that a blob moved elsewhere
//! does not open. Local files under `DATA/blobs/` (S3 comes with the scale-out issue).

use std::path::PathBuf;

use anyhow::Context as _;
use signet_vault::OrgKey;

/// The blob store.
pub struct Blobs {
    root: PathBuf,
}

fn check_part(part: &str) -> anyhow::Result<&str> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') || part.starts_with('.') {
        anyhow::bail!("invalid blob name part {part:?}");
    }
    Ok(part)
}

impl Blobs {
    /// Blobs under `root`.
    pub fn new(root: PathBuf) -> Self {
        Blobs { root }
    }

    fn path(&self, org: &str, contract: &str, name: &str) -> anyhow::Result<PathBuf> {
        Ok(self.root.join(check_part(org)?).join(check_part(contract)?).join(check_part(name)?))
    }

    /// Seals and stores `data`; durable when this returns.
    pub fn put(&self, key: &OrgKey, org: &str, contract: &str, name: &str, data: &[u8]) -> anyhow::Result<()> {
        let path = self.path(org, contract, name)?;
        let context = format!("{org}/{contract}/{name}");
        let sealed = key.seal(data, context.as_bytes())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        crate::files::write_durable(&path, &sealed, 0o600, true)
    }

    /// Reads and opens a blob; `None` if missing.
    pub fn get(&self, key: &OrgKey, org: &str, contract: &str, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let path = self.path(org, contract, name)?;
        let sealed = match std::fs::read(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let context = format!("{org}/{contract}/{name}");
        Ok(Some(key.open(&sealed, context.as_bytes())?.to_vec()))
    }

    /// Removes a contract's blobs (cleanup after a failed creation).
    pub fn remove_contract(&self, org: &str, contract: &str) {
        if let (Ok(org), Ok(contract)) = (check_part(org), check_part(contract)) {
            let _ = std::fs::remove_dir_all(self.root.join(org).join(contract));
        }
    }
}
