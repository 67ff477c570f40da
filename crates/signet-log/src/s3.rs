//! The scale-out tile store: tiles, entry bundles and the checkpoint as objects in an
//! S3-compatible bucket (through `object_store`).
//!
//! Full tiles and bundles are written with `PutMode::Create`: two servers can never overwrite
//! each other's objects, and a second write of an existing full tile succeeds only if it holds
//! the same bytes. Partial tiles and the checkpoint are overwritten. S3 acknowledges a put once
//! it is durable, so [`TileStore::sync`] has nothing left to do.

use std::sync::Arc;

use async_trait::async_trait;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};

pub use signet_objects::S3Url;

use crate::store::{Kind, TileStore};
use crate::{LogError, Result};

/// Tiles in a bucket, under an optional prefix.
pub struct S3Tiles {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl S3Tiles {
    /// A store for `url` (see [`S3Url`]), with credentials from `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` (or the files named by `…_FILE`).
    pub fn from_url(url: &str) -> Result<Self> {
        let (store, prefix) = signet_objects::connect_from_env(url)?;
        Ok(S3Tiles { store, prefix })
    }

    /// A store for `url` with the given `(access key id, secret access key)`, or none.
    pub fn with_credentials(url: &str, credentials: Option<(String, String)>) -> Result<Self> {
        let (store, prefix) = signet_objects::connect(url, credentials)?;
        Ok(S3Tiles { store, prefix })
    }

    fn key(&self, path: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(path)
        } else {
            ObjectPath::from(format!("{}/{path}", self.prefix))
        }
    }
}

fn objects_err(e: object_store::Error) -> LogError {
    LogError::Objects(e.to_string())
}

#[async_trait]
impl TileStore for S3Tiles {
    async fn put(&self, path: &str, data: &[u8], kind: Kind) -> Result<()> {
        let key = self.key(path);
        let mode = match kind {
            Kind::Immutable => PutMode::Create,
            Kind::Mutable => PutMode::Overwrite,
        };
        let opts = PutOptions { mode, ..Default::default() };
        match self.store.put_opts(&key, PutPayload::from(data.to_vec()), opts).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. })
                if kind == Kind::Immutable =>
            {
                match self.get(path).await? {
                    Some(existing) if existing == data => Ok(()),
                    _ => Err(LogError::Inconsistent(format!("{path} is a full tile already stored with different contents"))),
                }
            }
            Err(e) => Err(objects_err(e)),
        }
    }

    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.store.get(&self.key(path)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(objects_err)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(objects_err(e)),
        }
    }

    async fn sync(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_refused_with_the_expected_form() {
        assert_eq!(S3Url::parse("s3://evidence/logs").map(|u| u.prefix).ok().as_deref(), Some("logs"));
        for bad in ["http://b", "s3://", "s3://b?color=red"] {
            let err = S3Tiles::with_credentials(bad, None).err().expect("refused");
            assert!(matches!(err, LogError::ObjectStorage(_)), "{bad}: {err:?}");
            assert!(err.to_string().contains(signet_objects::EXPECTED_FORM), "{bad}: {err}");
        }
    }
}
