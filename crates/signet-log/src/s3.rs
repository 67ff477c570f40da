//! The scale-out tile store: tiles, entry bundles and the checkpoint as objects in an
//! S3-compatible bucket (through `object_store`).
//!
//! Full tiles and bundles are written with `PutMode::Create`: two servers can never overwrite
//! each other's objects, and a second write of an existing full tile succeeds only if it holds
//! the same bytes. Partial tiles and the checkpoint are overwritten. S3 acknowledges a put once
//! it is durable, so [`TileStore::sync`] has nothing left to do.

use std::sync::Arc;

use async_trait::async_trait;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};

use crate::store::{Kind, TileStore};
use crate::{LogError, Result};

/// Tiles in a bucket, under an optional prefix.
pub struct S3Tiles {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

/// The parts of `s3://BUCKET[/PREFIX]?endpoint=…&region=…&path_style=true`.
#[derive(Debug, PartialEq, Eq)]
pub struct S3Url {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix (no leading or trailing `/`), possibly empty.
    pub prefix: String,
    /// Endpoint URL (`http://127.0.0.1:5000`); AWS when absent.
    pub endpoint: Option<String>,
    /// Region (default `us-east-1`).
    pub region: String,
    /// Path-style requests (`endpoint/bucket/key`) instead of virtual-hosted style.
    pub path_style: bool,
}

impl S3Url {
    /// Parses the URL. The `endpoint` value may be given unencoded (`endpoint=http://host:port`).
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| LogError::BadUrl(format!("{why} in the object storage URL {url:?}; expected s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=REGION&path_style=true"));
        let rest = url.strip_prefix("s3://").ok_or_else(|| bad("no s3:// scheme"))?;
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket"));
        }
        let mut out = S3Url {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            endpoint: None,
            region: "us-east-1".into(),
            path_style: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| bad("a parameter without '='"))?;
            let v = percent_decode(v);
            match k {
                "endpoint" => out.endpoint = Some(v),
                "region" => out.region = v,
                "path_style" => out.path_style = matches!(v.as_str(), "true" | "1" | "yes"),
                other => return Err(bad(&format!("unknown parameter {other:?}"))),
            }
        }
        Ok(out)
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            if let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(|&c| hex(c)), bytes.get(i + 2).and_then(|&c| hex(c))) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a credential from `NAME` or from the file named by `NAME_FILE` (trailing whitespace
/// ignored).
fn credential(name: &str) -> Result<Option<String>> {
    if let Ok(v) = std::env::var(name) {
        return Ok(Some(v));
    }
    match std::env::var(format!("{name}_FILE")) {
        Ok(path) => std::fs::read_to_string(&path)
            .map(|s| Some(s.trim_end().to_owned()))
            .map_err(|e| LogError::io(format!("reading {name}_FILE ({path})"), e)),
        Err(_) => Ok(None),
    }
}

impl S3Tiles {
    /// A store for `url`, with credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
    /// (or the files named by `…_FILE`).
    pub fn from_url(url: &str) -> Result<Self> {
        let id = credential("AWS_ACCESS_KEY_ID")?;
        let secret = credential("AWS_SECRET_ACCESS_KEY")?;
        Self::with_credentials(url, id.zip(secret))
    }

    /// A store for `url` with the given `(access key id, secret access key)`, or none.
    pub fn with_credentials(url: &str, credentials: Option<(String, String)>) -> Result<Self> {
        let u = S3Url::parse(url)?;
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&u.bucket)
            .with_region(&u.region)
            .with_virtual_hosted_style_request(!u.path_style);
        if let Some(ep) = &u.endpoint {
            b = b.with_endpoint(ep).with_allow_http(ep.starts_with("http://"));
        }
        if let Some((id, secret)) = credentials {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store = b.build().map_err(|e| LogError::BadUrl(format!("object storage {url:?}: {e}")))?;
        Ok(S3Tiles { store: Arc::new(store), prefix: u.prefix })
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
    fn urls_parse_with_unencoded_endpoints() {
        let u = S3Url::parse("s3://evidence/logs/main?endpoint=http://127.0.0.1:5000&region=us-east-1&path_style=true").unwrap();
        assert_eq!(
            u,
            S3Url {
                bucket: "evidence".into(),
                prefix: "logs/main".into(),
                endpoint: Some("http://127.0.0.1:5000".into()),
                region: "us-east-1".into(),
                path_style: true
            }
        );
        let e = S3Url::parse("s3://b?endpoint=http%3A%2F%2Fhost%3A9000").unwrap();
        assert_eq!(e.endpoint.as_deref(), Some("http://host:9000"));
        assert!(!e.path_style);
        for bad in ["http://b", "s3://", "s3://b?color=red", "s3://b?endpoint"] {
            assert!(S3Url::parse(bad).is_err(), "{bad}");
        }
    }
}
