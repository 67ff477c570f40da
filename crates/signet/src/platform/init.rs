//! First start and organisations: everything a deployment needs is created once, under the
//! data directory, and found again on later starts.
//!
//! ```text
//! DATA/keys/master.key        the master key (mode 0600); wraps organisation keys and seals
//!                             the CA's, TSA's and log's private keys
//! DATA/ca/                    the platform CA (root.pem, issuing, TSA, OCSP; private/ 0700,
//!                             keys as NAME.key.sealed)
//! DATA/log/                   the evidence log (log.key.sealed, journal, tiles, checkpoint)
//! DATA/signet.db              the database (unless SIGNET_DATABASE_URL names another)
//! DATA/blobs/                 sealed documents (unless SIGNET_BLOB_URL names a bucket)
//! DATA/demo-credentials.json  the demo organisation's admin and API key (mode 0600)
//! ```

use std::sync::Arc;

use anyhow::Context as _;
use serde::Serialize;
use signet_store::{ApiKey, Store, User};
use signet_vault::{FileMasterKey, Keyring, WrappedOrgKey};

use super::config::Config;
use super::{App, Metrics, new_id, new_secret, now_ms, secret_hash};
use crate::ca::CaDir;

/// What `signet org create` prints and the demo credentials file holds.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Credentials {
    /// The administrator's sign-in email.
    pub admin_email: String,
    /// Their password (shown once).
    pub admin_password: String,
    /// An API key of the organisation (shown once).
    pub api_key: String,
    /// The organisation's id.
    pub org_id: String,
}

/// The master key: `SIGNET_MASTER_KEY_FILE` or `DATA/keys/master.key`, made on first use. Two
/// servers making a shared file at once both end up with the one that was linked first.
fn master_key(cfg: &Config) -> anyhow::Result<FileMasterKey> {
    let path = cfg.master_key_file.clone().unwrap_or_else(|| cfg.data.join("keys").join("master.key"));
    let read = |path: &std::path::Path| -> anyhow::Result<Option<FileMasterKey>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(FileMasterKey::parse(&text).with_context(|| format!("{} is not a Signet master key", path.display()))?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    };
    if let Some(key) = read(&path)? {
        return Ok(key);
    }
    let key = FileMasterKey::generate()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    match crate::files::write_durable(&path, key.to_file_text().as_bytes(), 0o600, false) {
        Ok(()) => Ok(key),
        // Another server made it first: use theirs.
        Err(e) => read(&path)?.ok_or(e),
    }
}

/// The one-time-code pepper (`DATA/keys/code.pepper`, 32 random bytes, mode 0600).
fn pepper(cfg: &Config) -> anyhow::Result<Vec<u8>> {
    let path = cfg.data.join("keys").join("code.pepper");
    match std::fs::read(&path) {
        Ok(p) if p.len() == 32 => Ok(p),
        Ok(_) => anyhow::bail!("{} is damaged (not 32 bytes); restore it from a backup", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut p = vec![0u8; 32];
            signet_pki::Rng::fill(&mut signet_pki::SystemRng, &mut p)?;
            std::fs::create_dir_all(cfg.data.join("keys")).context("creating the keys directory")?;
            crate::ca::write_secret(&path, &p)?;
            Ok(p)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The label of the master key in a PKCS#11 token.
const TOKEN_MASTER_KEY: &str = "signet-master";

/// The keyring and, when the keys are in a PKCS#11 token, the token. With a token the master
/// key is the token's; a master key file found beside it (from before the token) stays in the
/// keyring as the previous key, so what it sealed still opens. A missing token master key is
/// made only when `store` is given (a server starting), under the deployment's lock, so that
/// servers starting together on a new token make one; otherwise it is an error, and nothing
/// is made in a token that may not be the deployment's.
pub async fn open_keys(cfg: &Config, store: Option<&Store>) -> anyhow::Result<(Keyring, Option<signet_hsm::Token>)> {
    let Some(hsm) = cfg.pkcs11.hsm_config().context("the PKCS#11 settings (SIGNET_KEYS_PKCS11_MODULE, _TOKEN, _PIN_FILE)")? else {
        return Ok((Keyring::new(Box::new(master_key(cfg)?))?, None));
    };
    let token = signet_hsm::Token::open(&hsm).context("opening the PKCS#11 token (SIGNET_KEYS_PKCS11_MODULE, _TOKEN, _PIN_FILE)")?;
    let found = token.find_master_key(TOKEN_MASTER_KEY).context("the master key in the PKCS#11 token")?;
    let master = match (found, store) {
        (Some(key), _) => key,
        (None, Some(store)) => {
            let _lock = store.deployment_lock().await.context("taking the deployment lock to make the master key")?;
            token.master_key(TOKEN_MASTER_KEY).context("making the master key in the PKCS#11 token")?
        }
        (None, None) => anyhow::bail!(
            "the PKCS#11 token {:?} holds no master key {TOKEN_MASTER_KEY:?}: check SIGNET_KEYS_PKCS11_TOKEN names the deployment's token; a server makes the key when it first starts on a new one",
            token.label()
        ),
    };
    let mut keyring = Keyring::new(Box::new(master))?;
    let path = cfg.master_key_file.clone().unwrap_or_else(|| cfg.data.join("keys").join("master.key"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        let old = FileMasterKey::parse(&text).with_context(|| format!("{} is not a Signet master key", path.display()))?;
        keyring = keyring.with_previous(Box::new(old))?;
    }
    Ok((keyring, Some(token)))
}

/// Opens (creating on first use) the database and the keyring.
pub async fn open_store_and_keys(cfg: &Config) -> anyhow::Result<(Store, Arc<Keyring>)> {
    let (store, keyring, _) = open_store_keys_and_token(cfg).await?;
    Ok((store, keyring))
}

/// [`open_store_and_keys`], and the PKCS#11 token when the keys are in one. The store seals
/// contract data with the organisation keys the keyring opens. A token's master key must
/// exist already ([`open_keys`]).
pub async fn open_store_keys_and_token(cfg: &Config) -> anyhow::Result<(Store, Arc<Keyring>, Option<signet_hsm::Token>)> {
    open_store_keys_and_token_with(cfg, false).await
}

/// [`open_store_keys_and_token`]; with `make`, a token's missing master key is made (a server
/// starting on a new token).
async fn open_store_keys_and_token_with(cfg: &Config, make: bool) -> anyhow::Result<(Store, Arc<Keyring>, Option<signet_hsm::Token>)> {
    std::fs::create_dir_all(&cfg.data).with_context(|| format!("creating the data directory {}", cfg.data.display()))?;
    let store = Store::open(&cfg.database_url).await.context("opening the database")?;
    let (keyring, token) = open_keys(cfg, make.then_some(&store)).await?;
    let keyring = Arc::new(keyring);
    Ok((store.with_keys(keyring.clone()), keyring, token))
}

/// Moves every organisation key wrapped by an older master key to the current one (after a
/// rotation, e.g. to a PKCS#11 token). Documents are not touched: they are sealed by the
/// organisation keys, which do not change. Returns how many were re-wrapped.
pub async fn rewrap_org_keys(store: &Store, keyring: &Keyring) -> anyhow::Result<usize> {
    let mut n = 0;
    for (org, bytes) in store.org_keys().await? {
        let wrapped = WrappedOrgKey::from_bytes(&bytes).with_context(|| format!("the stored key of organisation {org}"))?;
        if keyring.needs_rewrap(&wrapped) {
            let fresh = keyring.rewrap(&wrapped).with_context(|| format!("re-wrapping the key of organisation {org}"))?;
            store.set_org_key(&org, &fresh.to_bytes()).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// The log's origin: the public URL without its scheme, plus `/log`.
fn log_origin(cfg: &Config) -> String {
    let host = cfg.public_url.split_once("://").map(|(_, h)| h).unwrap_or(&cfg.public_url);
    format!("{}/log", host.trim_end_matches('/'))
}

/// Opens the deployment, creating whatever is missing; returns the application and, on the
/// very first start, the demo credentials' path.
pub async fn open_app(cfg: Config) -> anyhow::Result<App> {
    // The blob storage first: a URL that cannot be used stops the start before anything is
    // created.
    let store_of_blobs = open_blob_store(&cfg)?;
    store_of_blobs
        .check()
        .await
        .context("the blob storage (blob_url in the configuration, SIGNET_BLOB_URL) cannot be written; create the bucket or fix the URL or credentials")?;
    let blobs = super::blobs::Blobs::new(store_of_blobs);
    let (store, keyring, token) = open_store_keys_and_token_with(&cfg, true).await?;
    let ca_dir = cfg.data.join("ca");
    let log_dir = cfg.data.join("log");
    // The CA's and TSA's private keys: in the PKCS#11 token when there is one (and the CA was
    // made there), else sealed by the master key in files.
    let made_with_files = ca_dir.join("private").join("root.key.sealed").exists() || ca_dir.join("private").join("root.key").exists();
    let ca_keys = match &token {
        Some(t) if !made_with_files => crate::ca::KeyFiles::Token(t),
        _ => crate::ca::KeyFiles::Sealed(&keyring),
    };
    // Made once per deployment (by the first server, under the database's deployment lock),
    // then copied from the database by every other server.
    super::deployment::share(&cfg, &store, &keyring, async || {
        if ca_dir.join("ca.json").exists() {
            // Seals private keys found in the clear (an older data directory) before sharing.
            CaDir::load_with(&ca_dir, ca_keys)?;
        } else {
            CaDir::init_with(
                &ca_dir,
                signet_pki::KeyAlgorithm::from_name("p256")?,
                &format!("{}/ca", cfg.public_url),
                "Signet Platform",
                std::time::SystemTime::now(),
                ca_keys,
            )?;
        }
        if crate::log_cmd::exists(&log_dir) {
            crate::log_cmd::seal_key_file(&log_dir, &keyring)?;
        } else if let Some(t) = &token {
            crate::log_cmd::create_in_token(&log_dir, &log_origin(&cfg), t)?;
        } else {
            crate::log_cmd::create_with(&log_dir, &log_origin(&cfg), None, None, Some(&keyring))?;
        }
        pepper(&cfg)?;
        let creds_path = cfg.data.join("demo-credentials.json");
        if !creds_path.exists() {
            let creds = create_org(&store, &keyring, "Demo Organisation 演示机构", "admin@demo.signet.invalid").await?;
            crate::ca::write_secret(&creds_path, format!("{}\n", serde_json::to_string_pretty(&creds)?).as_bytes())?;
        }
        Ok(())
    })
    .await?;
    // After the files of a CA made elsewhere arrived: its keys are where its files say.
    let made_with_files = ca_dir.join("private").join("root.key.sealed").exists();
    let ca_keys = match &token {
        Some(t) if !made_with_files => crate::ca::KeyFiles::Token(t),
        _ => crate::ca::KeyFiles::Sealed(&keyring),
    };
    let ca = CaDir::load_with(&ca_dir, ca_keys)?;
    let rewrapped = rewrap_org_keys(&store, &keyring).await?;
    if rewrapped > 0 {
        eprintln!("master key: {rewrapped} organisation key(s) re-wrapped by the current master key ({})", keyring.current_id());
    }
    let sealed = store.seal_plaintext_rows_once().await.context("sealing contract data an earlier release stored in the clear")?;
    if sealed > 0 {
        eprintln!("at rest: {sealed} row(s) of contract data an earlier release stored in the clear are now sealed");
    }
    let log = open_log(&cfg, &store, &keyring, token.as_ref()).await?;
    let pepper = pepper(&cfg)?;
    let mailer = super::mail::mailer(&cfg)?;
    let sms = super::mail::sms(&cfg)?;
    Ok(App { cfg, store, keyring, log, ca: Arc::new(ca), blobs, metrics: Metrics::default(), pepper, mailer, sms })
}

/// The blob storage the configuration names (`blob_url`, else files under `DATA/blobs`);
/// nothing is read or written yet.
pub fn open_blob_store(cfg: &Config) -> anyhow::Result<Arc<dyn signet_store::blob::BlobStore>> {
    Ok(match &cfg.blob_url {
        Some(url) => Arc::new(
            signet_store::blob::S3Blobs::from_url(url)
                .context("the blob storage URL (blob_url in the configuration, SIGNET_BLOB_URL) cannot be used; fix it, or remove it to keep documents under DATA/blobs")?,
        ),
        None => Arc::new(signet_store::blob::FileBlobs::new(cfg.data.join("blobs"))),
    })
}

/// Opens the deployment's evidence log (its files must be under `DATA/log` already). On
/// PostgreSQL the log's journal is in the same database, and its tiles beside the documents
/// (`log/` in the bucket), so that every server sees one log; on the embedded default both
/// stay under `DATA/log`. Opening checks that the stored tiles contain the last checkpoint;
/// it does not sequence or sign anything by itself.
pub async fn open_log(cfg: &Config, store: &Store, keyring: &Keyring, token: Option<&signet_hsm::Token>) -> anyhow::Result<signet_log::Log> {
    let log_dir = cfg.data.join("log");
    let (journal_url, tiles) = match store.backend() {
        signet_store::Backend::Postgres => (cfg.database_url.clone(), cfg.blob_url.as_deref().map(|u| with_prefix(u, "log"))),
        signet_store::Backend::Sqlite => (super::config::sqlite_url(&log_dir.join("log.db"))?, None),
    };
    // Its witnesses: every checkpoint goes to them through the job queue (a `witness` job any
    // server may run, retried until each has cosigned); the sequencer publishes what they sign.
    let mut witnesses = Vec::new();
    for (url, key) in &cfg.log_witnesses {
        witnesses.push((url.clone(), crate::keyarg::read_vkey(key).with_context(|| format!("the verifier key of the log witness {url} (SIGNET_LOG_WITNESSES)"))?));
    }
    let witnessing = signet_log::Witnessing::External;
    // The log's key: in the token when the log was made there (no key file), else sealed.
    Ok(match token {
        Some(t) if !crate::log_cmd::exists(&log_dir) => {
            let signer = crate::log_cmd::token_signer(t, &crate::log_cmd::origin_of(&log_dir)?)?;
            crate::log_cmd::open_signing_with(&log_dir, &journal_url, tiles.as_deref(), witnesses, witnessing, signer).await?
        }
        _ => crate::log_cmd::open_on(&log_dir, &journal_url, tiles.as_deref(), witnesses, witnessing, Some(keyring)).await?,
    })
}

/// `s3://BUCKET[/PREFIX]?…` with `/NAME` added to its prefix.
fn with_prefix(url: &str, name: &str) -> String {
    let (location, query) = url.split_once('?').map_or((url, None), |(l, q)| (l, Some(q)));
    let location = format!("{}/{name}", location.trim_end_matches('/'));
    match query {
        Some(q) => format!("{location}?{q}"),
        None => location,
    }
}

/// Hashes a password (Argon2id, PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::PasswordHasher as _;
    let mut salt = [0u8; 16];
    signet_pki::Rng::fill(&mut signet_pki::SystemRng, &mut salt)?;
    let hash = argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    Ok(hash.to_string())
}

/// Creates an organisation with its own key, an owner with a fresh password and an API key.
pub async fn create_org(store: &Store, keyring: &Keyring, name: &str, admin_email: &str) -> anyhow::Result<Credentials> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        anyhow::bail!("give the organisation a name of 1 to 200 characters");
    }
    let email = admin_email.trim().to_lowercase();
    if !email.contains('@') || email.contains(char::is_whitespace) {
        anyhow::bail!("{admin_email:?} is not an email address");
    }
    let (_key, wrapped) = keyring.new_org_key()?;
    let org_id = new_id("org");
    let password = new_secret()?;
    let user = User { id: new_id("usr"), email: email.clone(), name: email.clone(), password_hash: hash_password(&password)? };
    let now = now_ms();
    store.create_org(&org_id, name, &wrapped.to_bytes(), &user, now).await?;
    let secret = format!("sk_{}", new_secret()?);
    let key = ApiKey { id: new_id("key"), org: org_id.clone(), name: "default".into(), role: signet_domain::org::Role::Admin, created_at: now, revoked_at: None };
    store.create_api_key(&key, &secret_hash(&secret)).await?;
    Ok(Credentials { admin_email: email, admin_password: password, api_key: secret, org_id })
}
