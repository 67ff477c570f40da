//! Blobs as objects in an S3-compatible bucket, for servers that share their documents.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};

use super::{BlobError, BlobStore, check_key};

/// Blobs in a bucket, each an object at `PREFIX/KEY` (see [`signet_objects::S3Url`] for the
/// URL). Writes use a conditional create (`If-None-Match: *`), so two servers writing the same
/// key never overwrite each other: one wins, the other gets [`BlobError::Exists`].
pub struct S3Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl S3Blobs {
    /// Blobs in the bucket `url` names, with credentials from `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` (or the files named by `AWS_ACCESS_KEY_ID_FILE` /
    /// `AWS_SECRET_ACCESS_KEY_FILE`). Nothing is sent before the first request.
    pub fn from_url(url: &str) -> Result<Self, BlobError> {
        let (store, prefix) = signet_objects::connect_from_env(url)?;
        Ok(S3Blobs { store, prefix })
    }

    /// Blobs in the bucket `url` names, with the given `(access key id, secret access key)`,
    /// or none (then the platform's own credentials, such as instance metadata, are used).
    pub fn with_credentials(
        url: &str,
        credentials: Option<(String, String)>,
    ) -> Result<Self, BlobError> {
        let (store, prefix) = signet_objects::connect(url, credentials)?;
        Ok(S3Blobs { store, prefix })
    }

    fn location(&self, key: &str) -> Result<ObjectPath, BlobError> {
        check_key(key)?;
        Ok(if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        })
    }
}

fn remote(key: &str, what: &str, e: object_store::Error) -> BlobError {
    BlobError::Remote {
        key: key.to_owned(),
        message: format!("{what} failed: {e}"),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put_new(&self, key: &str, data: &[u8]) -> Result<(), BlobError> {
        let location = self.location(key)?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&location, PutPayload::from(data.to_vec()), opts)
            .await
        {
            Ok(_) => Ok(()),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Err(BlobError::Exists(key.to_owned())),
            Err(e) => Err(remote(key, "storing the blob", e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let location = self.location(key)?;
        let read = match self.store.get(&location).await {
            Ok(r) => r.bytes().await,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => Err(e),
        };
        read.map(|b| Some(b.to_vec()))
            .map_err(|e| remote(key, "reading the blob", e))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let location = self.location(key)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote(key, "deleting the blob", e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError> {
        // Listing is per path segment: `o/c1` lists `o/c1/…`, never `o/c10/…`.
        let location = self.location(prefix)?;
        let listed = self
            .store
            .list(Some(&location))
            .map_ok(|meta| meta.location)
            .boxed();
        let mut deleted = self.store.delete_stream(listed);
        while let Some(done) = deleted.next().await {
            match done {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(remote(prefix, "listing and deleting the blobs under it", e)),
            }
        }
        Ok(())
    }

    /// Writes, reads back and removes a probe object (`signet-probe/…`, outside the
    /// organisations' keys): a missing bucket or refused credentials fail here.
    async fn check(&self) -> Result<(), BlobError> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let key = format!("signet-probe/p{}-{nanos}", std::process::id());
        let location = self.location(&key)?;
        self.store
            .put(&location, PutPayload::from_static(b"probe"))
            .await
            .map_err(|e| remote(&key, "writing a probe object (does the bucket exist, and may these credentials write to it?)", e))?;
        let back = self.store.get(&location).await.map_err(|e| remote(&key, "reading the probe object back", e))?;
        back.bytes().await.map_err(|e| remote(&key, "reading the probe object back", e))?;
        self.store.delete(&location).await.map_err(|e| remote(&key, "removing the probe object", e))?;
        Ok(())
    }
}
