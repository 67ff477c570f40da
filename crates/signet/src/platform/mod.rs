//! `signet serve`: the platform — organisations, contracts, the signing ceremony, encrypted
//! storage, evidence, the Open API — in one process on the embedded store (SQLite + files under
//! the data directory) or on PostgreSQL.
//!
//! - `config.rs` — settings from defaults, TOML, `SIGNET_…` variables and flags;
//! - `init.rs` — first start: master key, CA (root at `DATA/ca/root.pem`), evidence log, demo
//!   organisation and its credentials; `create_org` (also for `signet org create`);
//! - `error.rs` — the one error envelope `{"error":{"code","message"}}` and its statuses;
//! - `api.rs` — the `/api/v1` routes, authentication by API key, and the service calls;
//! - `jobs.rs` — background work (messages, sweeps) as jobs in the database queue, and the
//!   worker every server runs;
//! - `blobs.rs` — documents at rest: each sealed with its own data key under the
//!   organisation's key;
//! - `render.rs` — page images: a page of a contract's PDF drawn as a PNG (`hayro`);
//! - `session.rs` — web sessions: members signing in (password, optional TOTP), signers whose
//!   link becomes a session, CSRF and sign-in limits;
//! - `web/` — the web pages (page shell, languages, assets; the public `/verify` page, the
//!   sender's and administrator's pages behind the sign-in).
//!
//! The domain rules (states, roles, tenant isolation) are `signet-domain`'s; storage is
//! `signet-store`'s; keys are `signet-vault`'s; evidence goes to `signet-log`. This module only
//! wires them to HTTP, files and the clock.

pub mod admin;
pub mod api;
pub mod blobs;
pub mod deployment;
pub mod ceremony;
pub mod config;
pub mod error;
pub mod evidence;
pub mod init;
pub mod jobs;
pub mod mail;
pub mod render;
pub mod session;
pub mod signing;
pub mod web;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use std::path::PathBuf;

use crate::ca::CaDir;

/// `signet serve` flags.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// A TOML configuration file (see docs/signet.example.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The data directory (default ./signet-data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8700).
    #[arg(long)]
    pub listen: Option<String>,
}

/// `signet org create` flags.
#[derive(Args, Debug, Clone)]
pub struct OrgCreateArgs {
    /// A TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The data directory of the deployment.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The organisation's name.
    #[arg(long)]
    pub name: String,
    /// The first administrator's email.
    #[arg(long)]
    pub admin_email: String,
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    /// HTTP requests served.
    pub requests: AtomicU64,
    /// Contracts created.
    pub contracts_created: AtomicU64,
    /// Contracts sent.
    pub contracts_sent: AtomicU64,
    /// Evidence events appended to the log.
    pub evidence_events: AtomicU64,
    /// Signings completed by recipients.
    pub signatures: AtomicU64,
}

/// Everything a request handler needs.
pub struct App {
    /// Settings.
    pub cfg: config::Config,
    /// The database.
    pub store: signet_store::Store,
    /// Master key(s), shared with the store (which seals contract data with the
    /// organisation keys they open).
    pub keyring: Arc<signet_vault::Keyring>,
    /// The evidence log.
    pub log: signet_log::Log,
    /// The platform CA (signer certificates, TSA, OCSP, CRL).
    pub ca: Arc<CaDir>,
    /// Encrypted documents.
    pub blobs: blobs::Blobs,
    /// Counters.
    pub metrics: Metrics,
    /// The secret mixed into one-time-code hashes.
    pub pepper: Vec<u8>,
    /// SMTP, when configured.
    pub mailer: Option<signet_notify::Mailer>,
    /// An SMS gateway, when configured.
    pub sms: Option<Box<dyn signet_notify::SmsProvider>>,
}

/// Milliseconds since 1970.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A random identifier `prefix_` + 20 base32 characters (100 bits).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 13];
    let _ = signet_pki::Rng::fill(&mut signet_pki::SystemRng, &mut bytes);
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut out = String::with_capacity(prefix.len() + 21);
    out.push_str(prefix);
    out.push('_');
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < prefix.len() + 21 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    out
}

/// A secret token: 32 random bytes, base64url without padding.
pub fn new_secret() -> anyhow::Result<String> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    signet_pki::Rng::fill(&mut signet_pki::SystemRng, &mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The hash a secret (API key, link token) is stored and looked up by.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(signet_pki::alg::sha256(secret.as_bytes()))
}

/// `signet serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let flags = config::Overrides { config: args.config, data: args.data, listen: args.listen };
    let cfg = config::Config::load(&flags, &|k| std::env::var(k).ok())?;
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(api::run(cfg))
}

/// `signet org create`: prints the new organisation's credentials as JSON.
pub fn org_create(args: OrgCreateArgs) -> anyhow::Result<()> {
    let flags = config::Overrides { config: args.config, data: args.data, listen: None };
    let cfg = config::Config::load(&flags, &|k| std::env::var(k).ok())?;
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async move {
        let (store, keyring) = init::open_store_and_keys(&cfg).await?;
        let creds = init::create_org(&store, &keyring, &args.name, &args.admin_email).await?;
        println!("{}", serde_json::to_string_pretty(&creds)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_and_secrets_are_unique_and_well_formed() {
        let a = super::new_id("ct");
        let b = super::new_id("ct");
        assert_ne!(a, b);
        assert_eq!(a.len(), 23);
        assert!(a.starts_with("ct_") && a[3..].bytes().all(|c| c.is_ascii_alphanumeric()));
        let s = super::new_secret().unwrap();
        assert_eq!(s.len(), 43);
        assert_eq!(super::secret_hash(&s).len(), 64);
        assert_ne!(super::secret_hash(&s), super::secret_hash(&super::new_secret().unwrap()));
    }
}
