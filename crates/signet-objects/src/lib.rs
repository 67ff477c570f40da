//! The connection to S3-compatible object storage, shared by the evidence log's tile store
//! (`signet_log::s3`) and the platform's blob store (`signet_store::blob::S3Blobs`).
//!
//! A bucket is named by one URL, `s3://BUCKET[/PREFIX]?endpoint=…&region=…&path_style=true`
//! ([`S3Url`]); the credentials come from the caller or from the environment
//! (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, or files named by `…_FILE`, so they can be
//! mounted as secrets). [`connect`] turns both into an `object_store` client and the key
//! prefix every object of the user lives under.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

/// The form of an object storage URL, as error messages show it.
pub const EXPECTED_FORM: &str =
    "s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=REGION&path_style=true";

/// The environment variable holding the access key id.
pub const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// The environment variable holding the secret access key.
pub const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";

/// What can go wrong when connecting to object storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectsError {
    /// The URL is not of the form [`EXPECTED_FORM`].
    #[error("{problem} in the object storage URL {url:?}; expected {EXPECTED_FORM}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The object storage client refused the settings the URL gave.
    #[error("the object storage URL {url:?} cannot be used: {message}")]
    Client {
        /// The URL as given.
        url: String,
        /// The client's reason.
        message: String,
    },
    /// The file a `…_FILE` variable names cannot be read.
    #[error(
        "reading {var} ({path}): {source}; point {var} at a readable file holding the credential"
    )]
    CredentialFile {
        /// The variable (`AWS_ACCESS_KEY_ID_FILE`, …).
        var: String,
        /// The file it names.
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The file a `…_FILE` variable names holds nothing but whitespace.
    #[error("{var} names {path}, which is empty; put the credential in it")]
    EmptyCredentialFile {
        /// The variable (`AWS_ACCESS_KEY_ID_FILE`, …).
        var: String,
        /// The file it names.
        path: String,
    },
    /// One half of the key pair is given and the other is not.
    #[error(
        "{given} is set but {missing} is not; set both (directly or through {given}_FILE and {missing}_FILE) or neither"
    )]
    HalfCredentials {
        /// The variable that is set.
        given: &'static str,
        /// The variable that is missing.
        missing: &'static str,
    },
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
    /// Parses the URL. Parameter values are percent-decoded; the `endpoint` value may also be
    /// given unencoded (`endpoint=http://host:port`).
    pub fn parse(url: &str) -> Result<Self, ObjectsError> {
        let bad = |problem: &str| ObjectsError::BadUrl {
            url: url.to_owned(),
            problem: problem.to_owned(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("no s3:// scheme"))?;
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
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| bad(&format!("the parameter {pair:?} has no '='")))?;
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            match k {
                "endpoint" => {
                    if !(v.starts_with("http://") || v.starts_with("https://")) {
                        return Err(bad(&format!(
                            "the endpoint {v:?} does not start with http:// or https://"
                        )));
                    }
                    out.endpoint = Some(v);
                }
                "region" if !v.is_empty() => out.region = v,
                "region" => return Err(bad("an empty region")),
                "path_style" => {
                    out.path_style = match v.as_str() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(bad(&format!("path_style={v:?} is not true or false"))),
                    }
                }
                other => return Err(bad(&format!("the unknown parameter {other:?}"))),
            }
        }
        Ok(out)
    }
}

/// Reads a credential from the variable `name`, else from the file named by `name_FILE`
/// (trailing whitespace, such as the file's last newline, is ignored). `lookup` reads a
/// variable; [`credential`] passes the process environment.
pub fn credential_with(
    name: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, ObjectsError> {
    if let Some(v) = lookup(name) {
        return Ok(Some(v));
    }
    let var = format!("{name}_FILE");
    let Some(path) = lookup(&var) else {
        return Ok(None);
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().is_empty() => Err(ObjectsError::EmptyCredentialFile { var, path }),
        Ok(text) => Ok(Some(text.trim_end().to_owned())),
        Err(source) => Err(ObjectsError::CredentialFile { var, path, source }),
    }
}

/// [`credential_with`] over the process environment.
pub fn credential(name: &str) -> Result<Option<String>, ObjectsError> {
    credential_with(name, &|var| std::env::var(var).ok())
}

/// The `(access key id, secret access key)` pair from `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY` (or their `…_FILE` files) as `lookup` reads them; none when neither
/// is set, an error when only one is.
pub fn credentials_with(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, ObjectsError> {
    let id = credential_with(ACCESS_KEY_ID, lookup)?;
    let secret = credential_with(SECRET_ACCESS_KEY, lookup)?;
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ObjectsError::HalfCredentials {
            given: ACCESS_KEY_ID,
            missing: SECRET_ACCESS_KEY,
        }),
        (None, Some(_)) => Err(ObjectsError::HalfCredentials {
            given: SECRET_ACCESS_KEY,
            missing: ACCESS_KEY_ID,
        }),
    }
}

/// A client for the bucket `url` names, and the key prefix (possibly empty, without slashes
/// at either end) the caller's objects go under. `credentials` is `(access key id, secret
/// access key)`; without them the client asks the platform (instance metadata and the like).
/// Nothing is sent yet: a wrong endpoint or bucket shows at the first request.
pub fn connect(
    url: &str,
    credentials: Option<(String, String)>,
) -> Result<(Arc<dyn ObjectStore>, String), ObjectsError> {
    let u = S3Url::parse(url)?;
    // Bounded waits: a request to a store that is down fails within about half a minute
    // (connect 5 s, each try 20 s, retries for at most 15 s) instead of holding the caller
    // for object_store's default of minutes.
    let retry = object_store::RetryConfig {
        max_retries: 3,
        retry_timeout: std::time::Duration::from_secs(15),
        ..Default::default()
    };
    let client = object_store::ClientOptions::new()
        .with_connect_timeout(std::time::Duration::from_secs(5))
        .with_timeout(std::time::Duration::from_secs(20));
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(&u.bucket)
        .with_region(&u.region)
        .with_virtual_hosted_style_request(!u.path_style)
        .with_retry(retry)
        .with_client_options(client);
    if let Some(ep) = &u.endpoint {
        b = b
            .with_endpoint(ep)
            .with_allow_http(ep.starts_with("http://"));
    }
    if let Some((id, secret)) = credentials {
        b = b.with_access_key_id(id).with_secret_access_key(secret);
    }
    let store = b.build().map_err(|e| ObjectsError::Client {
        url: url.to_owned(),
        message: e.to_string(),
    })?;
    Ok((Arc::new(store), u.prefix))
}

/// [`connect`] with the credentials of the environment ([`credentials_with`]).
pub fn connect_from_env(url: &str) -> Result<(Arc<dyn ObjectStore>, String), ObjectsError> {
    // The URL first: a wrong URL is the likelier mistake, and its message the more useful.
    S3Url::parse(url)?;
    connect(url, credentials_with(&|var| std::env::var(var).ok())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn urls_parse_with_unencoded_endpoints() {
        let u = S3Url::parse(
            "s3://evidence/logs/main?endpoint=http://127.0.0.1:5000&region=us-east-1&path_style=true",
        )
        .unwrap();
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
        assert_eq!(e.region, "us-east-1", "the default region");
        assert_eq!(
            S3Url::parse("s3://b//p/").unwrap().prefix,
            "p",
            "slashes around the prefix go"
        );
    }

    #[test]
    fn bad_urls_are_refused_with_the_expected_form() {
        for (bad, why) in [
            ("http://b", "no s3:// scheme"),
            ("s3://", "no bucket"),
            ("s3:///p", "no bucket"),
            ("s3://b?color=red", "unknown parameter \"color\""),
            ("s3://b?endpoint", "has no '='"),
            ("s3://b?endpoint=host:5000", "does not start with http://"),
            ("s3://b?path_style=maybe", "not true or false"),
            ("s3://b?region=", "empty region"),
        ] {
            let err = S3Url::parse(bad).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, ObjectsError::BadUrl { .. }), "{bad}: {err:?}");
            assert!(text.contains(why), "{bad}: {text}");
            assert!(text.contains(EXPECTED_FORM), "{bad}: {text}");
            assert!(connect(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn connect_gives_the_prefix() {
        let (_, prefix) = connect(
            "s3://b/blobs/main/?endpoint=http://127.0.0.1:5000&path_style=true",
            Some(("id".into(), "secret".into())),
        )
        .unwrap();
        assert_eq!(prefix, "blobs/main");
        let (_, prefix) = connect("s3://b", None).unwrap();
        assert_eq!(prefix, "");
    }

    #[test]
    fn credentials_come_from_variables_or_files_without_trailing_whitespace() {
        let dir = tempfile::tempdir().unwrap();
        let id_file = dir.path().join("id");
        let secret_file = dir.path().join("secret");
        std::fs::write(&id_file, "AKIDFROMFILE \n\t\n").unwrap();
        std::fs::write(&secret_file, "s3cr3t with inner space\n").unwrap();
        let path = |p: &std::path::Path| p.display().to_string();

        let env = vars(&[
            ("AWS_ACCESS_KEY_ID_FILE", path(&id_file)),
            ("AWS_SECRET_ACCESS_KEY_FILE", path(&secret_file)),
        ]);
        assert_eq!(
            credentials_with(&env).unwrap(),
            Some(("AKIDFROMFILE".into(), "s3cr3t with inner space".into()))
        );

        // The variable itself wins over its file.
        let env = vars(&[
            ("AWS_ACCESS_KEY_ID", "direct".into()),
            ("AWS_ACCESS_KEY_ID_FILE", path(&id_file)),
            ("AWS_SECRET_ACCESS_KEY", "s".into()),
        ]);
        assert_eq!(
            credentials_with(&env).unwrap(),
            Some(("direct".into(), "s".into()))
        );

        assert_eq!(
            credentials_with(&vars(&[])).unwrap(),
            None,
            "none at all is fine"
        );
    }

    #[test]
    fn unusable_credentials_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope").display().to_string();
        let err = credential_with(
            "AWS_ACCESS_KEY_ID",
            &vars(&[("AWS_ACCESS_KEY_ID_FILE", missing.clone())]),
        )
        .unwrap_err();
        assert!(
            matches!(err, ObjectsError::CredentialFile { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("AWS_ACCESS_KEY_ID_FILE") && text.contains(&missing),
            "{text}"
        );

        let blank = dir.path().join("blank");
        std::fs::write(&blank, " \n").unwrap();
        let err = credential_with(
            "AWS_SECRET_ACCESS_KEY",
            &vars(&[("AWS_SECRET_ACCESS_KEY_FILE", blank.display().to_string())]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");

        let err = credentials_with(&vars(&[("AWS_ACCESS_KEY_ID", "id".into())])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both (directly or through AWS_ACCESS_KEY_ID_FILE and AWS_SECRET_ACCESS_KEY_FILE) or neither"
        );
        let err = credentials_with(&vars(&[("AWS_SECRET_ACCESS_KEY", "s".into())])).unwrap_err();
        assert!(matches!(
            err,
            ObjectsError::HalfCredentials {
                given: "AWS_SECRET_ACCESS_KEY",
                ..
            }
        ));
    }
}
