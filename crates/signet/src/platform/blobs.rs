//! Documents at rest: every blob sealed with its own data key under its organisation's key
//! (`signet-vault`), bound to its place (`org/contract/name`) so that a blob moved elsewhere
//! does not open, then handed to a [`BlobStore`] (local files under `DATA/blobs/` by default;
//! the store only ever sees ciphertext).

use std::sync::Arc;

use signet_store::blob::BlobStore;
use signet_vault::OrgKey;

/// Sealed documents over a blob store.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn BlobStore>,
}

fn key_of(org: &str, contract: &str, name: &str) -> String {
    format!("{org}/{contract}/{name}")
}

impl Blobs {
    /// Sealed blobs in `store`.
    pub fn new(store: Arc<dyn BlobStore>) -> Self {
        Blobs { store }
    }

    /// Seals and stores `data` under a name not used before; durable when this returns.
    pub async fn put(&self, key: &OrgKey, org: &str, contract: &str, name: &str, data: &[u8]) -> anyhow::Result<()> {
        let place = key_of(org, contract, name);
        signet_store::blob::check_key(&place)?;
        let sealed = tokio::task::block_in_place(|| key.seal(data, place.as_bytes()))?;
        Ok(self.store.put_new(&place, &sealed).await?)
    }

    /// Reads and opens a blob; `None` if missing.
    pub async fn get(&self, key: &OrgKey, org: &str, contract: &str, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let place = key_of(org, contract, name);
        let Some(sealed) = self.store.get(&place).await? else {
            return Ok(None);
        };
        let plain = tokio::task::block_in_place(|| key.open(&sealed, place.as_bytes()))?;
        Ok(Some(plain.to_vec()))
    }

    /// Removes one blob (a version that was written but never committed).
    pub async fn remove(&self, org: &str, contract: &str, name: &str) {
        if let Err(e) = self.store.delete(&key_of(org, contract, name)).await {
            eprintln!("blobs: an orphan was not removed: {e}");
        }
    }

    /// Removes a contract's blobs (cleanup after a failed creation).
    pub async fn remove_contract(&self, org: &str, contract: &str) {
        if let Err(e) = self.store.delete_prefix(&format!("{org}/{contract}")).await {
            eprintln!("blobs: orphans of a failed creation were not removed: {e}");
        }
    }
}
