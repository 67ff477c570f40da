//! One deployment, several servers: the files that make a deployment (the CA's certificates
//! and sealed keys, the evidence log's sealed key and verifier key, the sealed code pepper)
//! live in the database, written once by the first server to start. Every other server copies
//! them into its data directory, which is then only a cache.
//!
//! Servers starting together take turns under the database's deployment lock, so the CA, the
//! log key and the demo organisation are made exactly once. A deployment made before this
//! module existed (files only under `DATA/`) shares its files on its next start.
//!
//! Nothing secret is stored in the clear: private keys are already sealed by the master key in
//! their files, and the pepper is sealed before it is stored. Every server must therefore hold
//! the same master key; one that does not is stopped at start with what to do.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};
use signet_store::Store;
use signet_vault::Keyring;

use super::config::Config;

/// The file naming the master key the deployment was made with.
const MASTER_ID: &str = "keys/master.id";
/// The pepper, sealed (the data directory holds it in the clear, mode 0600).
const SEALED_PEPPER: &str = "keys/code.pepper.sealed";
/// What the pepper is sealed for.
const PEPPER_CONTEXT: &[u8] = b"signet-platform/code.pepper";
/// The log's files that are shared (its journal and tiles are in the database and bucket,
/// or local to a single server); the sealed key is absent when the key is in a token.
const LOG_FILES: &[&str] = &["log/log.key.sealed", "log/log.vkey"];
/// The one of [`LOG_FILES`] that is not always there.
const OPTIONAL_LOG_FILE: &str = "log/log.key.sealed";

/// What [`share`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Shared {
    /// This server made the deployment's files (or shared those of an older deployment).
    Created,
    /// The files were there; this server copied them into its data directory.
    Joined,
}

/// Under the deployment lock: copies the deployment's files from the database into
/// `cfg.data`, or — when there are none yet — lets `create` make whatever is missing under
/// `cfg.data` and stores the result. `create` runs only in the second case, and only in one
/// server at a time.
pub async fn share(cfg: &Config, store: &Store, keyring: &Keyring, create: impl AsyncFnOnce() -> anyhow::Result<()>) -> anyhow::Result<Shared> {
    let _lock = store.deployment_lock().await.context("taking the deployment lock in the database")?;
    let files = store.deployment_files().await.context("reading the deployment's files from the database")?;
    if files.is_empty() {
        create().await?;
        let files = collect(&cfg.data, keyring)?;
        store.put_deployment_files(&files, super::now_ms()).await.context("storing the deployment's files in the database")?;
        return Ok(Shared::Created);
    }
    materialise(&cfg.data, keyring, &files)?;
    Ok(Shared::Joined)
}

/// What [`reseal`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Deployment files whose secret (a CA key, the log key, the pepper) was sealed again, and
    /// the master key id file when it changed.
    pub files: usize,
}

/// Seals again with the current master key every secret among the deployment's files that an
/// older master key sealed (the CA's and log's keys, the pepper), records the current key as
/// the deployment's, and refreshes the copies under `data`. Under the deployment lock.
pub async fn reseal(data: &Path, store: &Store, keyring: &Keyring) -> anyhow::Result<Resealed> {
    let _lock = store.deployment_lock().await.context("taking the deployment lock in the database")?;
    let mut files = store.deployment_files().await.context("reading the deployment's files from the database")?;
    let mut done = Resealed::default();
    for (name, body) in &mut files {
        let again = if name == MASTER_ID {
            (body.as_slice() != keyring.current_id().as_bytes()).then(|| keyring.current_id().as_bytes().to_vec())
        } else if let Some(context) = sealed_context(name) {
            keyring.reseal_secret(body, &context).with_context(|| format!("opening the deployment file {name} to seal it again"))?
        } else {
            None
        };
        if let Some(again) = again {
            store.replace_deployment_file(name, &again).await.with_context(|| format!("storing the deployment file {name}"))?;
            *body = again;
            done.files += 1;
        }
    }
    materialise(data, keyring, &files)?;
    Ok(done)
}

/// What a sealed deployment file was sealed for, by its name.
fn sealed_context(name: &str) -> Option<Vec<u8>> {
    if name == SEALED_PEPPER {
        return Some(PEPPER_CONTEXT.to_vec());
    }
    if name == OPTIONAL_LOG_FILE {
        return Some(crate::log_cmd::KEY_CONTEXT.to_vec());
    }
    let key = name.strip_prefix("ca/private/")?.strip_suffix(".key.sealed")?;
    Some(crate::ca::sealed_key_context(key))
}

/// The files to share, read from `data` (the pepper sealed).
fn collect(data: &Path, keyring: &Keyring) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let ca = data.join("ca");
    for path in walk(&ca)? {
        let rel = path.strip_prefix(data).context("a CA file outside the data directory")?;
        let name = name_of(rel)?;
        // Private keys leave the data directory only sealed.
        if name.contains("/private/") && !name.ends_with(".sealed") {
            bail!("{} is a private key in the clear; it must be sealed before the deployment is shared", path.display());
        }
        files.push((name, std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?));
    }
    for name in LOG_FILES {
        let path = data.join(name);
        if *name == OPTIONAL_LOG_FILE && !path.exists() {
            continue;
        }
        files.push((name.to_string(), std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?));
    }
    let pepper = std::fs::read(data.join("keys/code.pepper")).context("reading the code pepper")?;
    files.push((SEALED_PEPPER.into(), keyring.seal_secret(&pepper, PEPPER_CONTEXT)?));
    files.push((MASTER_ID.into(), keyring.current_id().as_bytes().to_vec()));
    Ok(files)
}

/// Every file under `dir`, recursively, in a stable order.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let kind = e.file_type().with_context(|| format!("reading {}", path.display()))?;
        if kind.is_dir() {
            out.extend(walk(&path)?);
        } else if kind.is_file() && !e.file_name().to_string_lossy().starts_with('.') {
            out.push(path);
        }
    }
    Ok(out)
}

/// A relative path as a stored name (`/`-separated).
fn name_of(rel: &Path) -> anyhow::Result<String> {
    let parts: Option<Vec<&str>> = rel.components().map(|c| if let Component::Normal(p) = c { p.to_str() } else { None }).collect();
    match parts {
        Some(p) if !p.is_empty() => Ok(p.join("/")),
        _ => bail!("{} cannot be stored as a deployment file", rel.display()),
    }
}

/// Where a stored name goes under `data`; names that could leave it are refused.
fn path_of(data: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let ok = !name.is_empty()
        && name.split('/').all(|p| !p.is_empty() && p != "." && p != ".." && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')));
    if !ok {
        bail!("the database holds a deployment file named {name:?}, which is not a plain relative path; the deployment_files table was changed by hand");
    }
    Ok(name.split('/').fold(data.to_path_buf(), |p, part| p.join(part)))
}

/// Writes the stored files under `data` (private files 0600), after checking that this
/// server's master key is the deployment's.
fn materialise(data: &Path, keyring: &Keyring, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    if let Some((_, id)) = files.iter().find(|(n, _)| n == MASTER_ID) {
        let id = String::from_utf8_lossy(id);
        if !keyring.ids().any(|k| k == id) {
            bail!(
                "this server's master key ({}) is not the one this deployment was made with ({id}): every server on one database \
                 must use the same master key — copy that key file and point SIGNET_MASTER_KEY_FILE at it (or use the same PKCS#11 token)",
                keyring.current_id()
            );
        }
    }
    // A cache already holding a file's bytes keeps it (no rewrite at every start).
    let unchanged = |path: &Path, body: &[u8]| std::fs::read(path).is_ok_and(|held| held == body);
    for (name, body) in files {
        if name == MASTER_ID {
            continue;
        }
        if name == SEALED_PEPPER {
            let pepper = keyring.open_secret(body, PEPPER_CONTEXT).context("opening the deployment's code pepper with the master key")?;
            let path = data.join("keys/code.pepper");
            if !unchanged(&path, &pepper) {
                write_private(&path, &pepper)?;
            }
            continue;
        }
        let path = path_of(data, name)?;
        if unchanged(&path, body) {
            continue;
        }
        if name.contains("/private/") || name.ends_with(".sealed") {
            write_private(&path, body)?;
        } else {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            crate::ca::write_atomic(&path, body)?;
        }
    }
    Ok(())
}

fn write_private(path: &Path, body: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            if dir.ends_with("private") || dir.ends_with("keys") {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).with_context(|| format!("restricting {}", dir.display()))?;
            }
        }
    }
    crate::ca::write_secret(path, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_stay_inside_the_data_directory() {
        let data = Path::new("/srv/signet");
        assert_eq!(path_of(data, "ca/private/root.key.sealed").unwrap(), data.join("ca").join("private").join("root.key.sealed"));
        for bad in ["", "/etc/passwd", "../x", "ca/../../x", "ca//x", "ca/./x", "ca/x y", "ca\\x"] {
            assert!(path_of(data, bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(name_of(Path::new("ca/issued/01.pem")).unwrap(), "ca/issued/01.pem");
        assert!(name_of(Path::new("../x")).is_err());
    }

    #[test]
    fn each_sealed_file_is_opened_for_what_it_was_sealed_for() {
        assert_eq!(sealed_context("ca/private/root.key.sealed").as_deref(), Some(&b"signet-ca/root"[..]));
        assert_eq!(sealed_context("ca/private/tsa.key.sealed").as_deref(), Some(&b"signet-ca/tsa"[..]));
        assert_eq!(sealed_context("log/log.key.sealed").as_deref(), Some(crate::log_cmd::KEY_CONTEXT));
        assert_eq!(sealed_context("keys/code.pepper.sealed").as_deref(), Some(PEPPER_CONTEXT));
        for plain in ["ca/root.pem", "ca/ca.json", "log/log.vkey", "keys/master.id", "ca/private/root.key"] {
            assert_eq!(sealed_context(plain), None, "{plain}");
        }
    }
}
