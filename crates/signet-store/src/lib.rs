//! The platform's relational storage, on SQLite (the embedded default) or PostgreSQL.
//!
//! One [`Store`] over sqlx's `any` driver; the schema is written once per backend
//! (`migrations/sqlite/`, `migrations/postgres/`, applied in order and recorded in
//! `signet_migrations`), and every statement is plain SQL both servers run. Contracts are
//! stored whole (the domain aggregate as JSON) beside the columns lists and filters need, with a
//! version number that turns a concurrent update into [`StoreError::Conflict`] instead of a
//! lost write. Secrets are stored only as hashes (API keys, signing-link tokens) or wrapped
//! (organisation keys); this crate never sees them in plaintext.
//!
//! Tenant isolation: every read of an organisation's data takes the organisation id, and a row
//! of another organisation is simply not found.

pub mod blob;
mod sealed;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use signet_domain::contract::{Contract, Status};
use signet_domain::event::{ContractEvent, EventKind};
use signet_domain::org::Role;
use sqlx::{AnyPool, Row as _};

use sealed::{MASTER_SEALED, RowKey, SEALED};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored contract body that does not parse.
    #[error("stored contract {id} is unreadable: {reason}")]
    Corrupt {
        /// The contract.
        id: String,
        /// Why.
        reason: String,
    },
    /// The row changed since it was read; read it again and retry.
    #[error("{0} was changed by another request; retry")]
    Conflict(String),
    /// A unique value already taken (an email, a contract number).
    #[error("{0} is already taken")]
    Taken(&'static str),
    /// A database URL this store does not handle.
    #[error(transparent)]
    Url(signet_sqlpool::ConnectError),
    /// An organisation's key could not be used to seal or open its rows.
    #[error("the key of organisation {org} cannot be used: {reason}")]
    Keys {
        /// The organisation.
        org: String,
        /// Why.
        reason: String,
    },
    /// Contract data was to be read or written by a store opened without the keys.
    #[error("the store was opened without the organisation keys (Store::with_keys); contract data is never stored in the clear")]
    NoKeys,
}

impl StoreError {
    /// Whether the database is out of reach (down, restarting, refusing or dropping
    /// connections, or every connection busy for too long) rather than the request being
    /// wrong: worth a 503 and a retry.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Db(e) = self else { return false };
        match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed | sqlx::Error::Tls(_) => true,
            sqlx::Error::Protocol(_) => true,
            // PostgreSQL's connection exceptions (08…) and operator interventions such as a
            // shutdown or a server still starting (57P0…).
            sqlx::Error::Database(d) => d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
            _ => false,
        }
    }
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How long an `Idempotency-Key` claim may stay "in progress" before a retry of the same
/// request takes it over (its server died mid-request). Far longer than any request takes.
pub const IDEMPOTENCY_STALE_MS: u64 = 60_000;

/// How long an `Idempotency-Key`'s answer is kept: a retry within it gets the first answer;
/// after it the key is free again, and [`Store::forget_idempotency_keys`] forgets it.
pub const IDEMPOTENCY_KEEP_MS: u64 = 86_400_000;

pub use signet_sqlpool::Backend;

const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_platform", include_str!("../migrations/sqlite/0001_platform.sql")),
    ("0002_ceremony", include_str!("../migrations/sqlite/0002_ceremony.sql")),
    ("0003_idempotency_expiry", include_str!("../migrations/sqlite/0003_idempotency_expiry.sql")),
    ("0004_unlogged_events", include_str!("../migrations/sqlite/0004_unlogged_events.sql")),
    ("0005_sessions", include_str!("../migrations/sqlite/0005_sessions.sql")),
    ("0006_deployment", include_str!("../migrations/sqlite/0006_deployment.sql")),
    ("0007_jobs", include_str!("../migrations/sqlite/0007_jobs.sql")),
    ("0008_throttles", include_str!("../migrations/sqlite/0008_throttles.sql")),
];
const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_platform", include_str!("../migrations/postgres/0001_platform.sql")),
    ("0002_ceremony", include_str!("../migrations/postgres/0002_ceremony.sql")),
    ("0003_idempotency_expiry", include_str!("../migrations/postgres/0003_idempotency_expiry.sql")),
    ("0004_unlogged_events", include_str!("../migrations/postgres/0004_unlogged_events.sql")),
    ("0005_sessions", include_str!("../migrations/postgres/0005_sessions.sql")),
    ("0006_deployment", include_str!("../migrations/postgres/0006_deployment.sql")),
    ("0007_jobs", include_str!("../migrations/postgres/0007_jobs.sql")),
    ("0008_throttles", include_str!("../migrations/postgres/0008_throttles.sql")),
];

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `usr_…`.
    pub id: String,
    /// Sign-in email (lowercase).
    pub email: String,
    /// Display name.
    pub name: String,
    /// PHC-format password hash.
    pub password_hash: String,
}

/// An API key as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// `key_…`.
    pub id: String,
    /// Its organisation.
    pub org: String,
    /// A label.
    pub name: String,
    /// The role it acts with.
    pub role: Role,
    /// When it was made.
    pub created_at: u64,
    /// When it was revoked.
    pub revoked_at: Option<u64>,
}

/// A stored event with its sequence number and evidence-log index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// 1, 2, … per contract.
    pub seq: u64,
    /// The event.
    pub event: ContractEvent,
    /// Its leaf in the evidence log, once appended.
    pub log_index: Option<u64>,
}

/// A signing link, by the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningLink {
    /// The organisation.
    pub org: String,
    /// The contract.
    pub contract: String,
    /// The recipient.
    pub recipient: String,
    /// Expiry.
    pub expires_at: u64,
}

/// A web session as stored (found by the hash of its cookie's secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `user`, `pending` (password checked, second factor owed) or `signer`.
    pub kind: String,
    /// The member, for `user` and `pending`.
    pub user_id: Option<String>,
    /// The organisation acted in (a signer's: the contract's).
    pub org_id: Option<String>,
    /// The signing link's token hash, for `signer`.
    pub link_hash: Option<String>,
    /// The CSRF token the session's pages send back.
    pub csrf: String,
    /// Creation.
    pub created_at: u64,
    /// Expiry.
    pub expires_at: u64,
}

/// A one-time code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCode {
    /// Keyed hash of the code.
    pub code_hash: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Expiry.
    pub expires_at: u64,
    /// Wrong attempts so far.
    pub attempts: u64,
    /// Start of the current send-rate window.
    pub window_start: u64,
    /// Codes sent in that window.
    pub sends_in_window: u64,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// `msg_…`.
    pub id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Email address or phone number.
    pub address: String,
    /// Subject (empty for SMS).
    pub subject: String,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: u64,
}

/// The state of a job in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its `run_at`.
    Queued,
    /// Claimed by a worker whose lease has not run out.
    Running,
    /// Done.
    Done,
    /// Gave up after its last attempt (kept for administrators).
    Failed,
}

impl JobState {
    /// Every state, in the order lists show them.
    pub const ALL: [JobState; 4] = [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed];

    /// The state's name in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// A state by name.
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|j| j.as_str() == s)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// `job_…`.
    pub id: String,
    /// What to do (the worker's dispatch key).
    pub kind: String,
    /// The organisation it belongs to; `None` for deployment-wide work.
    pub org_id: Option<String>,
    /// JSON text the worker reads.
    pub payload: String,
    /// Enqueued at most once per key (`None`: always).
    pub dedupe_key: Option<String>,
    /// Not before (milliseconds since 1970).
    pub run_at: u64,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// `job_…`.
    pub id: String,
    /// What to do.
    pub kind: String,
    /// Its organisation, if any.
    pub org_id: Option<String>,
    /// JSON text.
    pub payload: String,
    /// Its dedupe key, if any.
    pub dedupe_key: Option<String>,
    /// Where it is.
    pub state: JobState,
    /// Attempts started so far (a claim is an attempt).
    pub attempts: u64,
    /// When it is (or was) due.
    pub run_at: u64,
    /// The worker holding it, while running.
    pub locked_by: Option<String>,
    /// Its lease, while running.
    pub locked_until: Option<u64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Enqueued.
    pub created_at: u64,
    /// Done or failed.
    pub finished_at: Option<u64>,
}

/// How failed jobs are retried: after `base_ms`, then twice as long each time up to `cap_ms`;
/// after `max_attempts` attempts a job is [`JobState::Failed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub base_ms: u64,
    /// The longest delay.
    pub cap_ms: u64,
    /// Attempts before giving up (at least 1).
    pub max_attempts: u64,
}

impl Backoff {
    /// The delay after the `attempts`-th failed attempt (from 1).
    pub fn delay(&self, attempts: u64) -> u64 {
        let doublings = u32::try_from(attempts.saturating_sub(1).min(40)).unwrap_or(40);
        self.base_ms.saturating_mul(1u64 << doublings).min(self.cap_ms)
    }
}

/// A page of jobs, newest first, with the count of each state over all pages.
#[derive(Debug, Clone)]
pub struct JobPage {
    /// The jobs.
    pub items: Vec<Job>,
    /// Pass back to get the next page; `None` at the end.
    pub next_cursor: Option<String>,
    /// How many jobs are in each state (every state present, zeros too).
    pub counts: std::collections::BTreeMap<String, u64>,
}

/// The most blind-index tokens one text filter is matched by in the database (the exact check
/// after opening does the rest).
const SEARCH_TOKENS_MAX: usize = 8;

/// A value bound to a statement of [`Store::rewrite_rows`].
enum BindValue {
    Text(String),
    Int(i64),
}

/// The row a contract's sealed body belongs to.
fn contract_context(org: &str, id: &str) -> String {
    format!("contract:{org}/{id}")
}

/// The row of a contract event's sealed details.
fn event_context(org: &str, contract: &str, seq: u64) -> String {
    format!("event:{org}/{contract}/{seq}")
}

/// The row of a sealed job payload.
fn job_context(org: &str, id: &str) -> String {
    format!("job:{org}/{id}")
}

/// The row of a sealed job error.
fn job_error_context(org: &str, id: &str) -> String {
    format!("job-error:{org}/{id}")
}

/// The row of a sealed outbox field (`address`, `subject`, `body`).
fn outbox_context(org: &str, id: &str, field: &str) -> String {
    format!("outbox:{org}/{id}/{field}")
}

/// The row of a sealed stored answer.
fn answer_context(org: &str, key: &str) -> String {
    format!("answer:{org}/{key}")
}

/// Longest stored error text of a failed attempt, in characters.
const JOB_ERROR_MAX: usize = 1000;

const JOB_COLUMNS: &str = "id, kind, org_id, payload, dedupe_key, state, attempts, run_at, locked_by, locked_until, last_error, created_at, finished_at";

/// Filters of a contract list.
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    /// Only this status.
    pub status: Option<Status>,
    /// Words that must appear in the title, number or a recipient's name or address.
    pub text: Option<String>,
    /// Only contracts sent by this principal (for roles that see only their own).
    pub sender: Option<String>,
}

/// A page of contracts, newest first, and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The contracts.
    pub items: Vec<Contract>,
    /// Pass back to get the next page; `None` at the end.
    pub next_cursor: Option<String>,
    /// The contracts in the page's stretch whose record does not open (changed in the
    /// database, or damaged): left out of `items`, so that one of them does not make the
    /// whole list fail; `signet admin check` finds them all.
    pub unreadable: Vec<String>,
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.code().as_deref() == Some("23505") || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// The text a contract is found by.
fn search_text(c: &Contract) -> String {
    let mut s = format!("{} {}", c.title, c.number);
    for r in &c.recipients {
        s.push(' ');
        s.push_str(&r.name);
        for v in [&r.email, &r.phone].into_iter().flatten() {
            s.push(' ');
            s.push_str(v);
        }
    }
    s.to_lowercase()
}

/// The platform's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Opens the organisation keys that seal contract data ([`Store::with_keys`]).
    keys: Option<Arc<signet_vault::Keyring>>,
    /// Organisation keys opened so far. A key's material never changes (a new master key
    /// re-wraps it), so an entry stays right for the store's life.
    opened: Arc<Mutex<HashMap<String, Arc<RowKey>>>>,
}

/// An organisation's key as the store keeps it open ([`Store::org_key`]); cheap to clone,
/// used as a [`signet_vault::OrgKey`].
#[derive(Clone)]
pub struct OrgKeyRef(Arc<RowKey>);

impl std::ops::Deref for OrgKeyRef {
    type Target = signet_vault::OrgKey;

    fn deref(&self) -> &signet_vault::OrgKey {
        self.0.org_key()
    }
}

/// The deployment lock ([`Store::deployment_lock`]), released when dropped.
pub struct DeploymentLock(Option<sqlx::AnyConnection>);

impl Drop for DeploymentLock {
    fn drop(&mut self) {
        // Closing the connection ends the PostgreSQL session, and its advisory lock with it.
        drop(self.0.take());
    }
}

impl Store {
    /// Connects to `url` and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Store> {
        let settings = signet_sqlpool::PoolSettings {
            max_sqlite: 4,
            max_postgres: 16,
            // Bounded: with the database down a request fails (503) in seconds rather than hanging.
            acquire_timeout: Duration::from_secs(5),
            sqlite_pragmas: &["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=30000", "PRAGMA foreign_keys=ON"],
        };
        let (pool, backend) = signet_sqlpool::connect(url, &settings).await.map_err(|e| match e {
            e @ signet_sqlpool::ConnectError::Url(_) => StoreError::Url(e),
            signet_sqlpool::ConnectError::Db(e) => StoreError::Db(e),
        })?;
        let store = Store { pool, backend, keys: None, opened: Arc::default() };
        store.migrate().await?;
        Ok(store)
    }

    /// This store with the keyring that opens the organisation keys: contract bodies, event
    /// details, outbox messages, job payloads and stored answers are sealed with them, and
    /// the contracts' search text is kept only as a blind index. Without it those reads and
    /// writes fail with [`StoreError::NoKeys`].
    pub fn with_keys(mut self, keys: Arc<signet_vault::Keyring>) -> Store {
        self.keys = Some(keys);
        self.opened = Arc::default();
        self
    }

    /// The key that seals `org`'s rows.
    async fn row_key(&self, org: &str) -> Result<Arc<RowKey>> {
        self.row_key_if_org(org)
            .await?
            .ok_or_else(|| StoreError::Keys { org: org.to_owned(), reason: "there is no such organisation".into() })
    }

    /// An organisation's key, opened once per store (the one that seals its rows), for
    /// sealing what is kept elsewhere (documents).
    pub async fn org_key(&self, org: &str) -> Result<OrgKeyRef> {
        Ok(OrgKeyRef(self.row_key(org).await?))
    }

    /// [`Store::row_key`], or `None` when `org` names no organisation.
    async fn row_key_if_org(&self, org: &str) -> Result<Option<Arc<RowKey>>> {
        if let Some(k) = self.opened.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(org) {
            return Ok(Some(k.clone()));
        }
        let keys = self.keys.as_ref().ok_or(StoreError::NoKeys)?;
        let Some((_, wrapped)) = self.org(org).await? else {
            return Ok(None);
        };
        let key = signet_vault::WrappedOrgKey::from_bytes(&wrapped)
            .and_then(|w| keys.open_org_key(&w))
            .map_err(|e| StoreError::Keys { org: org.to_owned(), reason: e.to_string() })?;
        let key = Arc::new(RowKey::new(org, key));
        self.opened.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(org.to_owned(), key.clone());
        Ok(Some(key))
    }

    /// Seals a value of a scope that is an organisation with its key, and of any other scope
    /// (the signers' public requests) with the master key ([`signet_vault::Keyring::seal_secret`]).
    async fn seal_scoped(&self, scope: &str, context: &str, plain: &str) -> Result<String> {
        if let Some(key) = self.row_key_if_org(scope).await? {
            return key.seal(context, plain);
        }
        let keys = self.keys.as_ref().ok_or(StoreError::NoKeys)?;
        let sealed = keys
            .seal_secret(plain.as_bytes(), context.as_bytes())
            .map_err(|e| StoreError::Keys { org: scope.to_owned(), reason: format!("sealing {context}: {e}") })?;
        Ok(sealed::stored(MASTER_SEALED, &sealed))
    }

    /// Opens what [`Store::seal_scoped`] sealed (a value stored unsealed is returned as it is).
    async fn open_scoped(&self, scope: &str, context: &str, stored: &str) -> Result<String> {
        let Some(sealed) = sealed::envelope(MASTER_SEALED, context, stored) else {
            return match self.row_key_if_org(scope).await? {
                Some(key) => key.open(context, stored),
                None if !stored.starts_with(SEALED) => Ok(stored.to_owned()),
                None => Err(StoreError::Keys { org: scope.to_owned(), reason: "there is no such organisation".into() }),
            };
        };
        let keys = self.keys.as_ref().ok_or(StoreError::NoKeys)?;
        let plain = keys
            .open_secret(&sealed?, context.as_bytes())
            .map_err(|e| StoreError::Corrupt { id: context.to_owned(), reason: format!("it does not open ({e})") })?;
        sealed::text(context, &plain)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<()> {
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // Servers starting together: one migrates, the others wait for it.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('signet-migrations'))").execute(&mut *tx).await?;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS signet_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        for (name, sql) in migrations {
            let done = sqlx::query("SELECT 1 FROM signet_migrations WHERE name = $1").bind(*name).fetch_optional(&mut *tx).await?;
            if done.is_some() {
                continue;
            }
            // Comment lines go first (they may hold semicolons); then one statement per `;`.
            let code: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
            for statement in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO signet_migrations (name, applied_at) VALUES ($1, 0)").bind(*name).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // --- organisations, users, memberships -------------------------------------------------

    /// Creates an organisation with its wrapped key and its first member (an owner), creating
    /// the user if the email is new. Returns the user id used.
    pub async fn create_org(&self, org_id: &str, name: &str, wrapped_key: &[u8], owner: &User, now: u64) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO organisations (id, name, org_key, next_contract_no, created_at) VALUES ($1, $2, $3, 1, $4)")
            .bind(org_id)
            .bind(name)
            .bind(wrapped_key.to_vec())
            .bind(i64_of(now))
            .execute(&mut *tx)
            .await?;
        let user_id = Self::put_member(&mut tx, org_id, owner, Role::Owner, now).await?;
        tx.commit().await?;
        Ok(user_id)
    }

    /// An organisation's name and wrapped key.
    pub async fn org(&self, org_id: &str) -> Result<Option<(String, Vec<u8>)>> {
        let row = sqlx::query("SELECT name, org_key FROM organisations WHERE id = $1").bind(org_id).fetch_optional(&self.pool).await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Every organisation's id and wrapped key (for a master key rotation).
    pub async fn org_keys(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = sqlx::query("SELECT id, org_key FROM organisations ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// Replaces an organisation's wrapped key (master key rotation).
    pub async fn set_org_key(&self, org_id: &str, wrapped_key: &[u8]) -> Result<()> {
        sqlx::query("UPDATE organisations SET org_key = $1 WHERE id = $2").bind(wrapped_key.to_vec()).bind(org_id).execute(&self.pool).await?;
        Ok(())
    }

    /// A user by sign-in email.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, email, name, password_hash FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(User { id: r.try_get(0)?, email: r.try_get(1)?, name: r.try_get(2)?, password_hash: r.try_get(3)? })).transpose()
    }

    /// A user's role in an organisation, if a member.
    pub async fn role(&self, org_id: &str, user_id: &str) -> Result<Option<Role>> {
        let row = sqlx::query("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?.and_then(|s| Role::parse(&s).ok()))
    }

    /// Adds a member (creating the user if the email is new) or changes their role.
    pub async fn set_member(&self, org_id: &str, user: &User, role: Role, now: u64) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let user_id = Self::put_member(&mut tx, org_id, user, role, now).await?;
        tx.commit().await?;
        Ok(user_id)
    }

    /// In `tx`: the user (created if the email is new; the existing account otherwise) and
    /// their membership of `org_id` with `role`. Returns the user id used.
    async fn put_member(tx: &mut sqlx::Transaction<'_, sqlx::Any>, org_id: &str, user: &User, role: Role, now: u64) -> Result<String> {
        // A write first: on SQLite a transaction that reads and then writes fails at once
        // ("database is locked") if another connection wrote in between; one that starts by
        // writing waits for the lock instead.
        sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING")
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(i64_of(now))
            .execute(&mut **tx)
            .await?;
        let user_id: String = sqlx::query("SELECT id FROM users WHERE email = $1").bind(&user.email).fetch_one(&mut **tx).await?.try_get(0)?;
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(org_id)
        .bind(&user_id)
        .bind(role.as_str())
        .bind(i64_of(now))
        .execute(&mut **tx)
        .await?;
        Ok(user_id)
    }

    /// Members of an organisation: (user, role), by email.
    pub async fn members(&self, org_id: &str) -> Result<Vec<(User, Role)>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name, u.password_hash, m.role FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1 ORDER BY u.email",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let role: String = r.try_get(4)?;
                Ok((
                    User { id: r.try_get(0)?, email: r.try_get(1)?, name: r.try_get(2)?, password_hash: r.try_get(3)? },
                    Role::parse(&role).unwrap_or(Role::Member),
                ))
            })
            .collect()
    }

    /// Removes a member from an organisation (the user stays, they may belong elsewhere);
    /// `false` if they were not a member of it.
    pub async fn remove_member(&self, org_id: &str, user_id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2").bind(org_id).bind(user_id).execute(&self.pool).await?;
        Ok(r.rows_affected() > 0)
    }

    // --- API keys ----------------------------------------------------------------------------

    /// Stores a new API key by the hash of its secret.
    pub async fn create_api_key(&self, key: &ApiKey, secret_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO api_keys (id, org_id, name, secret_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&key.id)
            .bind(&key.org)
            .bind(&key.name)
            .bind(secret_hash)
            .bind(key.role.as_str())
            .bind(i64_of(key.created_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn api_key_of(r: &sqlx::any::AnyRow) -> Result<ApiKey> {
        let role: String = r.try_get(3)?;
        Ok(ApiKey {
            id: r.try_get(0)?,
            org: r.try_get(1)?,
            name: r.try_get(2)?,
            role: Role::parse(&role).unwrap_or(Role::Member),
            created_at: u64_of(r.try_get(4)?),
            revoked_at: r.try_get::<Option<i64>, _>(5)?.map(u64_of),
        })
    }

    /// The live (not revoked) API key whose secret hashes to `secret_hash`.
    pub async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, org_id, name, role, created_at, revoked_at FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Self::api_key_of(&r)).transpose()
    }

    /// An organisation's API keys, newest first.
    pub async fn api_keys(&self, org_id: &str) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query("SELECT id, org_id, name, role, created_at, revoked_at FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, id DESC")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::api_key_of).collect()
    }

    /// Revokes an organisation's key; false if it has no such live key.
    pub async fn revoke_api_key(&self, org_id: &str, key_id: &str, now: u64) -> Result<bool> {
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL")
            .bind(i64_of(now))
            .bind(key_id)
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    // --- contracts and events ------------------------------------------------------------------

    /// The next contract number of an organisation (`prefix` + zero-padded counter), taken
    /// atomically.
    pub async fn next_contract_number(&self, org_id: &str, prefix: &str) -> Result<String> {
        let row = sqlx::query("UPDATE organisations SET next_contract_no = next_contract_no + 1 WHERE id = $1 RETURNING next_contract_no - 1")
            .bind(org_id)
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get(0)?;
        Ok(format!("{prefix}{n:06}"))
    }

    async fn insert_events(tx: &mut sqlx::Transaction<'_, sqlx::Any>, key: &RowKey, c: &Contract, first_seq: u64, events: &[ContractEvent]) -> Result<Vec<u64>> {
        let mut seqs = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let seq = first_seq + i as u64;
            let data = serde_json::to_string(&e.data).map_err(|e| StoreError::Corrupt { id: c.id.clone(), reason: e.to_string() })?;
            let data = key.seal(&event_context(&c.org, &c.id, seq), &data)?;
            sqlx::query(
                "INSERT INTO contract_events (contract_id, seq, org_id, kind, at, actor, recipient, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&c.id)
            .bind(i64_of(seq))
            .bind(&c.org)
            .bind(e.kind.as_str())
            .bind(i64_of(e.at))
            .bind(&e.actor)
            .bind(e.recipient.clone())
            .bind(data)
            .execute(&mut **tx)
            .await?;
            seqs.push(seq);
        }
        Ok(seqs)
    }

    /// Stores a new contract and its first events, atomically. Returns the events' sequence
    /// numbers.
    pub async fn insert_contract(&self, c: &Contract, events: &[ContractEvent]) -> Result<Vec<u64>> {
        self.insert_contract_with_jobs(c, events, &[], 0).await
    }

    /// As [`Store::insert_contract`], with `jobs` enqueued in the same transaction (the
    /// messages the events call for): the contract is stored with its jobs or not at all.
    /// `now` is the jobs' creation time.
    pub async fn insert_contract_with_jobs(&self, c: &Contract, events: &[ContractEvent], jobs: &[NewJob], now: u64) -> Result<Vec<u64>> {
        let key = self.row_key(&c.org).await?;
        let body = serde_json::to_string(c).map_err(|e| StoreError::Corrupt { id: c.id.clone(), reason: e.to_string() })?;
        let body = key.seal(&contract_context(&c.org, &c.id), &body)?;
        let jobs = self.sealed_jobs(jobs).await?;
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO contracts (id, org_id, sender, status, title, number, search, created_at, updated_at, version, body, deadline)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, $9, $10)",
        )
        .bind(&c.id)
        .bind(&c.org)
        .bind(&c.sender)
        .bind(c.status.as_str())
        // The title is in the sealed body only; the column stays for the schema's sake.
        .bind("")
        .bind(&c.number)
        .bind(key.index(&search_text(c)))
        .bind(i64_of(c.created_at))
        .bind(body)
        .bind(c.deadline.map(i64_of))
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Taken("the contract id or number")),
            other => {
                other?;
            }
        }
        let seqs = Self::insert_events(&mut tx, &key, c, 1, events).await?;
        for job in &jobs {
            Self::insert_job(&mut tx, job, now).await?;
        }
        tx.commit().await?;
        Ok(seqs)
    }

    /// A contract of `org_id` and its version; `None` if it does not exist in that
    /// organisation.
    pub async fn contract(&self, org_id: &str, id: &str) -> Result<Option<(Contract, u64)>> {
        let row = sqlx::query("SELECT body, version FROM contracts WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let body: String = row.try_get(0)?;
        let body = self.row_key(org_id).await?.open(&contract_context(org_id, id), &body)?;
        let c: Contract = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt { id: id.to_owned(), reason: e.to_string() })?;
        Ok(Some((c, u64_of(row.try_get(1)?))))
    }

    /// Saves a changed contract with the events the change produced, only if it is still at
    /// `version`; otherwise [`StoreError::Conflict`] and nothing is written.
    pub async fn update_contract(&self, c: &Contract, version: u64, events: &[ContractEvent], now: u64) -> Result<Vec<u64>> {
        self.update_contract_with_jobs(c, version, events, now, &[]).await
    }

    /// As [`Store::update_contract`], with `jobs` enqueued in the same transaction: a committed
    /// change always has its jobs, and a refused one (a conflict) enqueues nothing.
    pub async fn update_contract_with_jobs(&self, c: &Contract, version: u64, events: &[ContractEvent], now: u64, jobs: &[NewJob]) -> Result<Vec<u64>> {
        let key = self.row_key(&c.org).await?;
        let body = serde_json::to_string(c).map_err(|e| StoreError::Corrupt { id: c.id.clone(), reason: e.to_string() })?;
        let body = key.seal(&contract_context(&c.org, &c.id), &body)?;
        let jobs = self.sealed_jobs(jobs).await?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE contracts SET status = $1, title = $2, search = $3, updated_at = $4, version = version + 1, body = $5, deadline = $9
             WHERE id = $6 AND org_id = $7 AND version = $8",
        )
        .bind(c.status.as_str())
        .bind("")
        .bind(key.index(&search_text(c)))
        .bind(i64_of(now))
        .bind(body)
        .bind(&c.id)
        .bind(&c.org)
        .bind(i64_of(version))
        .bind(c.deadline.map(i64_of))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!("contract {}", c.id)));
        }
        let last = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM contract_events WHERE contract_id = $1")
            .bind(&c.id)
            .fetch_one(&mut *tx)
            .await?;
        let first = u64_of(last.try_get(0)?) + 1;
        let seqs = Self::insert_events(&mut tx, &key, c, first, events).await?;
        for job in &jobs {
            Self::insert_job(&mut tx, job, now).await?;
        }
        tx.commit().await?;
        Ok(seqs)
    }

    /// Seals what an earlier release stored in the clear: contract bodies (and their search
    /// text, turned into the blind index), event details, outbox messages, organisations' job
    /// payloads and stored answers. Safe to run on several servers at once (each row is
    /// rewritten only if it is still as read). Returns how many rows were sealed.
    pub async fn seal_plaintext_rows(&self) -> Result<u64> {
        use BindValue::{Int, Text};
        let mut sealed = self
            .rewrite_rows(
                format!("SELECT org_id, id, body, version FROM contracts WHERE body NOT LIKE '{SEALED}%'"),
                "UPDATE contracts SET body = $1, search = $2, title = '' WHERE id = $3 AND org_id = $4 AND version = $5",
                async |r| {
                    let (org, id, body): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    let c: Contract = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt { id: id.clone(), reason: e.to_string() })?;
                    let key = self.row_key(&org).await?;
                    Ok(vec![Text(key.seal(&contract_context(&org, &id), &body)?), Text(key.index(&search_text(&c))), Text(id), Text(org), Int(r.try_get(3)?)])
                },
            )
            .await?;
        sealed += self
            .rewrite_rows(
                format!("SELECT org_id, contract_id, seq, data FROM contract_events WHERE data NOT LIKE '{SEALED}%'"),
                "UPDATE contract_events SET data = $1 WHERE contract_id = $2 AND seq = $3 AND data = $4",
                async |r| {
                    let (org, contract, seq, data): (String, String, i64, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                    let value = self.row_key(&org).await?.seal(&event_context(&org, &contract, u64_of(seq)), &data)?;
                    Ok(vec![Text(value), Text(contract), Int(seq), Text(data)])
                },
            )
            .await?;
        sealed += self
            .rewrite_rows(
                format!("SELECT org_id, id, address, subject, body FROM outbox WHERE body NOT LIKE '{SEALED}%'"),
                "UPDATE outbox SET address = $1, subject = $2, body = $3 WHERE id = $4 AND body = $5",
                async |r| {
                    let (org, id): (String, String) = (r.try_get(0)?, r.try_get(1)?);
                    let key = self.row_key(&org).await?;
                    let field = |name: &str, at: usize| -> Result<BindValue> { Ok(Text(key.seal(&outbox_context(&org, &id, name), &r.try_get::<String, _>(at)?)?)) };
                    Ok(vec![field("address", 2)?, field("subject", 3)?, field("body", 4)?, Text(id.clone()), Text(r.try_get(4)?)])
                },
            )
            .await?;
        sealed += self
            .rewrite_rows(
                format!("SELECT org_id, id, payload FROM jobs WHERE org_id IS NOT NULL AND payload NOT LIKE '{SEALED}%'"),
                "UPDATE jobs SET payload = $1 WHERE id = $2 AND payload = $3",
                async |r| {
                    let (org, id, payload): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    let value = self.row_key(&org).await?.seal(&job_context(&org, &id), &payload)?;
                    Ok(vec![Text(value), Text(id), Text(payload)])
                },
            )
            .await?;
        sealed += self
            .rewrite_rows(
                format!("SELECT org_id, key, body FROM idempotency_keys WHERE status <> 0 AND body <> '' AND body NOT LIKE '{SEALED}%' AND body NOT LIKE '{MASTER_SEALED}%'"),
                "UPDATE idempotency_keys SET body = $1 WHERE org_id = $2 AND key = $3 AND body = $4",
                async |r| {
                    let (org, key, body): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    let value = self.seal_scoped(&org, &answer_context(&org, &key), &body).await?;
                    Ok(vec![Text(value), Text(org), Text(key), Text(body)])
                },
            )
            .await?;
        Ok(sealed)
    }

    /// [`Store::seal_plaintext_rows`] once per database: a complete pass is recorded (in
    /// `signet_migrations`), so later starts do not scan the tables again. Returns how many
    /// rows were sealed (0 when the pass was done before).
    pub async fn seal_plaintext_rows_once(&self) -> Result<u64> {
        const PASS: &str = "seal-rows-at-rest-v1";
        if sqlx::query("SELECT 1 FROM signet_migrations WHERE name = $1").bind(PASS).fetch_optional(&self.pool).await?.is_some() {
            return Ok(0);
        }
        let sealed = self.seal_plaintext_rows().await?;
        sqlx::query("INSERT INTO signet_migrations (name, applied_at) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING").bind(PASS).execute(&self.pool).await?;
        Ok(sealed)
    }

    /// Rewrites, batch by batch, the rows `select` finds: `update` runs with the values
    /// `values` gives for each (its `WHERE` should hold only if the row is still as read).
    /// Ends when a batch is short or changed nothing. Returns how many rows changed.
    async fn rewrite_rows(&self, select: String, update: &'static str, mut values: impl AsyncFnMut(&sqlx::any::AnyRow) -> Result<Vec<BindValue>>) -> Result<u64> {
        const BATCH: usize = 500;
        let select = format!("{select} LIMIT {BATCH}");
        let mut total = 0;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(select.clone())).fetch_all(&self.pool).await?;
            let mut changed = 0;
            for r in &rows {
                let mut query = sqlx::query(update);
                for v in values(r).await? {
                    query = match v {
                        BindValue::Text(t) => query.bind(t),
                        BindValue::Int(i) => query.bind(i),
                    };
                }
                changed += query.execute(&self.pool).await?.rows_affected();
            }
            total += changed;
            if rows.len() < BATCH || changed == 0 {
                return Ok(total);
            }
        }
    }

    /// A page of an organisation's contracts, newest first. `cursor` is the `next_cursor` of
    /// the previous page; `limit` is capped at 100.
    ///
    /// A text filter is matched in two steps: the database picks the rows whose blind index
    /// has every token of the text's pieces, then each candidate is opened and kept only if
    /// its search text really contains the filter text. Batches are read until the page is
    /// full or the rows run out. A record that does not open is named in
    /// [`Page::unreadable`] rather than failing the page.
    pub async fn list_contracts(&self, org_id: &str, filter: &ContractFilter, cursor: Option<&str>, limit: u32) -> Result<Page> {
        let limit = limit.clamp(1, 100) as usize;
        let (mut before_at, mut before_id) = match cursor.and_then(|c| c.split_once('.')) {
            Some((at, id)) => (at.parse::<i64>().unwrap_or(i64::MAX), id.to_owned()),
            None => (i64::MAX, String::new()),
        };
        let key = self.row_key(org_id).await?;
        let text = filter.text.as_deref().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty());
        let tokens = text.as_deref().map(|t| key.query(t, SEARCH_TOKENS_MAX)).unwrap_or_default();
        let mut sql = String::from(
            "SELECT body, created_at, id FROM contracts
             WHERE org_id = $1
               AND ($2 = '' OR status = $2)
               AND ($3 = '' OR sender = $3)
               AND (created_at < $4 OR (created_at = $4 AND ($5 = '' OR id < $5)))",
        );
        for i in 0..tokens.len() {
            sql.push_str(&format!(" AND search LIKE ${}", 7 + i));
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $6");
        // Without a text filter every row is a match, so one batch fills the page.
        let batch = if text.is_some() { (limit + 1).max(50) } else { limit + 1 };
        let mut items: Vec<(Contract, i64)> = Vec::new();
        let mut unreadable = Vec::new();
        loop {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(org_id)
                .bind(filter.status.map(Status::as_str).unwrap_or(""))
                .bind(filter.sender.clone().unwrap_or_default())
                .bind(before_at)
                .bind(before_id.clone())
                .bind(i64::try_from(batch).unwrap_or(i64::MAX));
            for t in &tokens {
                query = query.bind(format!("% {t} %"));
            }
            let rows = query.fetch_all(&self.pool).await?;
            for r in &rows {
                let id: String = r.try_get(2)?;
                let at: i64 = r.try_get(1)?;
                let body: String = r.try_get(0)?;
                let opened = key.open(&contract_context(org_id, &id), &body);
                let Some(c) = opened.ok().and_then(|body| serde_json::from_str::<Contract>(&body).ok()) else {
                    (before_at, before_id) = (at, id.clone());
                    unreadable.push((at, id));
                    continue;
                };
                (before_at, before_id) = (at, id);
                if text.as_deref().is_none_or(|t| search_text(&c).contains(t)) {
                    items.push((c, at));
                    if items.len() > limit {
                        break;
                    }
                }
            }
            if items.len() > limit || rows.len() < batch {
                break;
            }
        }
        let next_cursor = (items.len() > limit).then(|| {
            let (c, at) = &items[limit - 1];
            // The unreadable ones past the page's last contract come with the next page.
            unreadable.retain(|(u_at, u_id)| (*u_at, u_id.as_str()) > (*at, c.id.as_str()));
            format!("{at}.{}", c.id)
        });
        items.truncate(limit);
        let unreadable = unreadable.into_iter().map(|(_, id)| id).collect();
        Ok(Page { items: items.into_iter().map(|(c, _)| c).collect(), next_cursor, unreadable })
    }

    /// The ids of an organisation's contracts after `after` (in id order), at most `limit`
    /// (≤ 1000): for going through every contract one by one, each opened on its own.
    pub async fn contract_ids(&self, org_id: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM contracts WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(org_id)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// A contract's events in order (the organisation must match).
    pub async fn events(&self, org_id: &str, contract_id: &str) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT seq, kind, at, actor, recipient, data, log_index FROM contract_events WHERE contract_id = $1 AND org_id = $2 ORDER BY seq",
        )
        .bind(contract_id)
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.row_key(org_id).await?;
        rows.into_iter()
            .map(|r| {
                let kind: String = r.try_get(1)?;
                let seq = u64_of(r.try_get(0)?);
                let data: String = r.try_get(5)?;
                let data = key.open(&event_context(org_id, contract_id, seq), &data)?;
                let corrupt = |reason: String| StoreError::Corrupt { id: contract_id.to_owned(), reason };
                Ok(StoredEvent {
                    seq,
                    event: ContractEvent {
                        kind: EventKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown event kind {kind:?}")))?,
                        at: u64_of(r.try_get(2)?),
                        actor: r.try_get(3)?,
                        recipient: r.try_get(4)?,
                        data: serde_json::from_str(&data).map_err(|e| corrupt(e.to_string()))?,
                    },
                    log_index: r.try_get::<Option<i64>, _>(6)?.map(u64_of),
                })
            })
            .collect()
    }

    /// Records the evidence-log index of an event.
    pub async fn set_log_index(&self, contract_id: &str, seq: u64, index: u64) -> Result<()> {
        sqlx::query("UPDATE contract_events SET log_index = $1 WHERE contract_id = $2 AND seq = $3")
            .bind(i64_of(index))
            .bind(contract_id)
            .bind(i64_of(seq))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // --- signing links -----------------------------------------------------------------------

    /// Stores a signing link by the hash of its token.
    pub async fn put_link(&self, token_hash: &str, link: &SigningLink, now: u64) -> Result<()> {
        sqlx::query("INSERT INTO signing_links (token_hash, org_id, contract_id, recipient, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(token_hash)
            .bind(&link.org)
            .bind(&link.contract)
            .bind(&link.recipient)
            .bind(i64_of(link.expires_at))
            .bind(i64_of(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The link whose token hashes to `token_hash` (expired ones too: the caller says which).
    pub async fn link(&self, token_hash: &str) -> Result<Option<SigningLink>> {
        let row = sqlx::query("SELECT org_id, contract_id, recipient, expires_at FROM signing_links WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(SigningLink { org: r.try_get(0)?, contract: r.try_get(1)?, recipient: r.try_get(2)?, expires_at: u64_of(r.try_get(3)?) })
        })
        .transpose()
    }

    // --- the deployment --------------------------------------------------------------------------

    /// Holds the deployment lock until the guard is dropped: on PostgreSQL a session advisory
    /// lock on a connection of its own (servers starting together set the deployment up one
    /// after the other; a server that dies releases it with its connection); on SQLite, whose
    /// file one server owns, nothing.
    pub async fn deployment_lock(&self) -> Result<DeploymentLock> {
        match self.backend {
            Backend::Sqlite => Ok(DeploymentLock(None)),
            Backend::Postgres => {
                let mut conn = self.pool.acquire().await?.detach();
                sqlx::query("SELECT pg_advisory_lock(hashtext('signet-deployment'))").execute(&mut conn).await?;
                Ok(DeploymentLock(Some(conn)))
            }
        }
    }

    /// The deployment's files (`name`, bytes), in name order; empty before the first start.
    pub async fn deployment_files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = sqlx::query("SELECT name, body FROM deployment_files ORDER BY name").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// Stores the deployment's files, all or none; a name already stored is
    /// [`StoreError::Taken`] (the files are written once).
    pub async fn put_deployment_files(&self, files: &[(String, Vec<u8>)], now: u64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (name, body) in files {
            let done = sqlx::query("INSERT INTO deployment_files (name, body, created_at) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(body.as_slice())
                .bind(i64_of(now))
                .execute(&mut *tx)
                .await;
            match done {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::Taken("a deployment file")),
                other => {
                    other?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the body of a deployment file (a secret sealed again by a new master key).
    /// Returns whether the file exists.
    pub async fn replace_deployment_file(&self, name: &str, body: &[u8]) -> Result<bool> {
        let done = sqlx::query("UPDATE deployment_files SET body = $1 WHERE name = $2").bind(body).bind(name).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Seals again with the current master key the stored answers of requests that had no
    /// organisation (the signers'), so that an older master key can be retired. Returns how
    /// many were sealed again.
    pub async fn reseal_master_sealed_answers(&self) -> Result<u64> {
        let keys = self.keys.as_ref().ok_or(StoreError::NoKeys)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT org_id, key, body FROM idempotency_keys WHERE body LIKE '{MASTER_SEALED}%'")))
            .fetch_all(&self.pool)
            .await?;
        let mut n = 0;
        for r in &rows {
            let (org, key, body): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let context = answer_context(&org, &key);
            let Some(sealed) = sealed::envelope(MASTER_SEALED, &context, &body) else { continue };
            let again = keys
                .reseal_secret(&sealed?, context.as_bytes())
                .map_err(|e| StoreError::Corrupt { id: context.clone(), reason: format!("it does not open ({e})") })?;
            let Some(again) = again else { continue };
            let value = sealed::stored(MASTER_SEALED, &again);
            n += sqlx::query("UPDATE idempotency_keys SET body = $1 WHERE org_id = $2 AND key = $3 AND body = $4")
                .bind(value)
                .bind(&org)
                .bind(&key)
                .bind(&body)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(n)
    }

    /// Records a certificate the platform CA issued (serial: upper-case hex, no leading zeros).
    pub async fn record_cert(&self, serial: &str, pem: &str, now: u64) -> Result<()> {
        sqlx::query("INSERT INTO ca_certs (serial, pem, issued_at) VALUES ($1, $2, $3) ON CONFLICT (serial) DO NOTHING")
            .bind(serial)
            .bind(pem)
            .bind(i64_of(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the platform CA issued the certificate with this serial (as [`Store::record_cert`]
    /// spells it).
    pub async fn cert_issued(&self, serial: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM ca_certs WHERE serial = $1").bind(serial).fetch_optional(&self.pool).await?.is_some())
    }

    // --- throttles and one-time steps -------------------------------------------------------------

    /// How many failures `key` has in the window that is open at `now` (`window` ms long).
    pub async fn throttle_count(&self, key: &str, now: u64, window: u64) -> Result<u64> {
        let row = sqlx::query("SELECT count, window_start FROM throttles WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(0) };
        let (count, start): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        Ok(if now < u64_of(start).saturating_add(window) { u64_of(count) } else { 0 })
    }

    /// Counts one more failure for `key`: in the open window, or as the first of a new one.
    /// Atomic, whichever server counts. Returns the count.
    pub async fn throttle_fail(&self, key: &str, now: u64, window: u64) -> Result<u64> {
        let row = sqlx::query(
            "INSERT INTO throttles (key, count, window_start) VALUES ($1, 1, $2)
             ON CONFLICT (key) DO UPDATE SET
               count = CASE WHEN throttles.window_start + $3 <= $2 THEN 1 ELSE throttles.count + 1 END,
               window_start = CASE WHEN throttles.window_start + $3 <= $2 THEN $2 ELSE throttles.window_start END
             RETURNING count",
        )
        .bind(key)
        .bind(i64_of(now))
        .bind(i64_of(window))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64_of(row.try_get(0)?))
    }

    /// Forgets the failure counts whose window of `window` ms had closed by `now` (they count
    /// for nothing any more); returns how many.
    pub async fn forget_closed_throttles(&self, now: u64, window: u64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM throttles WHERE window_start + $2 <= $1").bind(i64_of(now)).bind(i64_of(window)).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }

    /// Forgets `key`'s failures (after a success).
    pub async fn throttle_clear(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM throttles WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    /// Accepts TOTP time step `step` for `user_id` only if it is later than every step
    /// accepted before (so each code is good once, on any server). Returns whether accepted.
    pub async fn use_totp_step(&self, user_id: &str, step: u64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO totp_steps (user_id, step) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET step = $2 WHERE totp_steps.step < $2",
        )
        .bind(user_id)
        .bind(i64_of(step))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // --- web sessions ----------------------------------------------------------------------------

    /// Stores a new session under the hash of its secret.
    pub async fn put_session(&self, id_hash: &str, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, kind, user_id, org_id, link_hash, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id_hash)
        .bind(&s.kind)
        .bind(&s.user_id)
        .bind(&s.org_id)
        .bind(&s.link_hash)
        .bind(&s.csrf)
        .bind(i64_of(s.created_at))
        .bind(i64_of(s.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session with this hash, if it exists and has not expired at `now`.
    pub async fn session(&self, id_hash: &str, now: u64) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT kind, user_id, org_id, link_hash, csrf, created_at, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2")
            .bind(id_hash)
            .bind(i64_of(now))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Session {
                kind: r.try_get(0)?,
                user_id: r.try_get(1)?,
                org_id: r.try_get(2)?,
                link_hash: r.try_get(3)?,
                csrf: r.try_get(4)?,
                created_at: u64_of(r.try_get(5)?),
                expires_at: u64_of(r.try_get(6)?),
            })
        })
        .transpose()
    }

    /// Ends a session (sign-out, or a pending session promoted to a new one).
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }

    /// Ends every session of a member (their second factor changed, or they were removed).
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }

    /// Forgets sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: u64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(i64_of(now)).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }

    /// A member by id.
    pub async fn user(&self, user_id: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, email, name, password_hash FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?;
        row.map(|r| Ok(User { id: r.try_get(0)?, email: r.try_get(1)?, name: r.try_get(2)?, password_hash: r.try_get(3)? })).transpose()
    }

    /// The organisations a member belongs to, with their role, oldest membership first.
    pub async fn memberships(&self, user_id: &str) -> Result<Vec<(String, Role)>> {
        let rows = sqlx::query("SELECT org_id, role FROM memberships WHERE user_id = $1 ORDER BY created_at, org_id").bind(user_id).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                let role: String = r.try_get(1)?;
                Ok((r.try_get(0)?, Role::parse(&role).unwrap_or(Role::Member)))
            })
            .collect()
    }

    /// A member's sealed TOTP secrets: (active, being set up).
    pub async fn totp(&self, user_id: &str) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>)> {
        let row = sqlx::query("SELECT totp_secret, totp_pending FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?;
        match row {
            Some(r) => Ok((r.try_get(0)?, r.try_get(1)?)),
            None => Ok((None, None)),
        }
    }

    /// Every member with a TOTP secret (active or being set up): `(user, active, pending)`.
    pub async fn users_with_totp(&self) -> Result<Vec<(String, Option<Vec<u8>>, Option<Vec<u8>>)>> {
        let rows = sqlx::query("SELECT id, totp_secret, totp_pending FROM users WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }

    /// Sets a member's sealed TOTP secrets (active, being set up); `None` clears one.
    pub async fn set_totp(&self, user_id: &str, active: Option<&[u8]>, pending: Option<&[u8]>) -> Result<()> {
        sqlx::query("UPDATE users SET totp_secret = $1, totp_pending = $2 WHERE id = $3")
            .bind(active)
            .bind(pending)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets a member's password hash.
    pub async fn set_password(&self, user_id: &str, password_hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(user_id).execute(&self.pool).await?;
        Ok(())
    }

    // --- one-time codes ------------------------------------------------------------------------

    /// The current code of a recipient, if any.
    pub async fn otp(&self, contract_id: &str, recipient: &str) -> Result<Option<OtpCode>> {
        let row = sqlx::query(
            "SELECT code_hash, channel, expires_at, attempts, window_start, sends_in_window FROM otp_codes WHERE contract_id = $1 AND recipient = $2",
        )
        .bind(contract_id)
        .bind(recipient)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(OtpCode {
                code_hash: r.try_get(0)?,
                channel: r.try_get(1)?,
                expires_at: u64_of(r.try_get(2)?),
                attempts: u64_of(r.try_get(3)?),
                window_start: u64_of(r.try_get(4)?),
                sends_in_window: u64_of(r.try_get(5)?),
            })
        })
        .transpose()
    }

    /// Stores (replacing) a recipient's code.
    pub async fn put_otp(&self, contract_id: &str, recipient: &str, otp: &OtpCode) -> Result<()> {
        sqlx::query(
            "INSERT INTO otp_codes (contract_id, recipient, code_hash, channel, expires_at, attempts, window_start, sends_in_window)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (contract_id, recipient) DO UPDATE SET code_hash = excluded.code_hash, channel = excluded.channel,
               expires_at = excluded.expires_at, attempts = excluded.attempts, window_start = excluded.window_start,
               sends_in_window = excluded.sends_in_window",
        )
        .bind(contract_id)
        .bind(recipient)
        .bind(&otp.code_hash)
        .bind(&otp.channel)
        .bind(i64_of(otp.expires_at))
        .bind(i64_of(otp.attempts))
        .bind(i64_of(otp.window_start))
        .bind(i64_of(otp.sends_in_window))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts a wrong attempt; returns the new count.
    pub async fn otp_failed(&self, contract_id: &str, recipient: &str) -> Result<u64> {
        let row = sqlx::query("UPDATE otp_codes SET attempts = attempts + 1 WHERE contract_id = $1 AND recipient = $2 RETURNING attempts")
            .bind(contract_id)
            .bind(recipient)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?.map(u64_of).unwrap_or(0))
    }

    /// Uses up a code (it cannot be used twice): true if it was still there with this hash.
    pub async fn consume_otp(&self, contract_id: &str, recipient: &str, code_hash: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE otp_codes SET code_hash = '', expires_at = 0 WHERE contract_id = $1 AND recipient = $2 AND code_hash = $3")
            .bind(contract_id)
            .bind(recipient)
            .bind(code_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    // --- outbox ----------------------------------------------------------------------------------

    /// Keeps a message for an administrator to read; a message already kept under the same id
    /// (a retried job's) is kept once, the first time.
    pub async fn put_outbox(&self, org_id: &str, m: &OutboxMessage) -> Result<()> {
        let key = self.row_key(org_id).await?;
        let sealed = |field: &str, value: &str| key.seal(&outbox_context(org_id, &m.id, field), value);
        let (address, subject, body) = (sealed("address", &m.address)?, sealed("subject", &m.subject)?, sealed("body", &m.body)?);
        sqlx::query("INSERT INTO outbox (id, org_id, channel, address, subject, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING")
            .bind(&m.id)
            .bind(org_id)
            .bind(&m.channel)
            .bind(address)
            .bind(subject)
            .bind(body)
            .bind(i64_of(m.created_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An organisation's outbox, newest first, optionally one channel, at most `limit` (≤ 200).
    pub async fn outbox(&self, org_id: &str, channel: Option<&str>, limit: u32) -> Result<Vec<OutboxMessage>> {
        let rows = sqlx::query(
            "SELECT id, channel, address, subject, body, created_at FROM outbox WHERE org_id = $1 AND ($2 = '' OR channel = $2)
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(org_id)
        .bind(channel.unwrap_or(""))
        .bind(i64::from(limit.clamp(1, 200)))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.row_key(org_id).await?;
        rows.into_iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let opened = |field: &str, at: usize| -> Result<String> { key.open(&outbox_context(org_id, &id, field), &r.try_get::<String, _>(at)?) };
                Ok(OutboxMessage {
                    channel: r.try_get(1)?,
                    address: opened("address", 2)?,
                    subject: opened("subject", 3)?,
                    body: opened("body", 4)?,
                    created_at: u64_of(r.try_get(5)?),
                    id,
                })
            })
            .collect()
    }

    // --- expiry ------------------------------------------------------------------------------------

    /// Open contracts (sent or in progress) whose deadline has passed: `(org, id)`, at most
    /// `limit`.
    pub async fn due_for_expiry(&self, now: u64, limit: u32) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT org_id, id FROM contracts WHERE status IN ('sent', 'in_progress') AND deadline IS NOT NULL AND deadline <= $1
             ORDER BY deadline LIMIT $2",
        )
        .bind(i64_of(now))
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    // --- idempotency ---------------------------------------------------------------------------------

    /// Claims `key` for a request with `request_hash`. Returns what happened before: `None`
    /// (claimed now: process the request, then [`Store::finish_idempotent`]), or the earlier
    /// request's hash, status (0 while it is still being processed) and body.
    pub async fn claim_idempotency(&self, org_id: &str, key: &str, request_hash: &str, now: u64) -> Result<Option<(String, u16, String)>> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (org_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, 0, '', $4)
             ON CONFLICT (org_id, key) DO NOTHING",
        )
        .bind(org_id)
        .bind(key)
        .bind(request_hash)
        .bind(i64_of(now))
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(None);
        }
        // A claim still "in progress" long after it was made belongs to a server that died
        // mid-request (nothing it did was committed with the key's answer): the same request
        // takes it over. A key whose answer is older than it is kept for is free again.
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET request_hash = $3, status = 0, body = '', created_at = $4
             WHERE org_id = $1 AND key = $2 AND ((request_hash = $3 AND status = 0 AND created_at < $5) OR created_at < $6)",
        )
        .bind(org_id)
        .bind(key)
        .bind(request_hash)
        .bind(i64_of(now))
        .bind(i64_of(now.saturating_sub(IDEMPOTENCY_STALE_MS)))
        .bind(i64_of(now.saturating_sub(IDEMPOTENCY_KEEP_MS)))
        .execute(&self.pool)
        .await?;
        if taken.rows_affected() == 1 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT request_hash, status, body FROM idempotency_keys WHERE org_id = $1 AND key = $2")
            .bind(org_id)
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        let status: i64 = row.try_get(1)?;
        let body: String = row.try_get(2)?;
        let body = if body.is_empty() { body } else { self.open_scoped(org_id, &answer_context(org_id, key), &body).await? };
        Ok(Some((row.try_get(0)?, u16::try_from(status).unwrap_or(0), body)))
    }

    /// Forgets the `Idempotency-Key`s claimed more than [`IDEMPOTENCY_KEEP_MS`] before `now`
    /// (their answers are no longer replayed); returns how many.
    pub async fn forget_idempotency_keys(&self, now: u64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(i64_of(now.saturating_sub(IDEMPOTENCY_KEEP_MS)))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Records the answer of a claimed request (or forgets the claim when `status` is 0, so a
    /// retry runs again).
    pub async fn finish_idempotent(&self, org_id: &str, key: &str, status: u16, body: &str) -> Result<()> {
        if status == 0 {
            sqlx::query("DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2").bind(org_id).bind(key).execute(&self.pool).await?;
        } else {
            let body = self.seal_scoped(org_id, &answer_context(org_id, key), body).await?;
            sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE org_id = $3 AND key = $4")
                .bind(i64::from(status))
                .bind(body)
                .bind(org_id)
                .bind(key)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Events not yet in the evidence log that happened before `before` (a crash between the
    /// commit and the append): `(org, contract, event)`, oldest first, at most `limit`.
    pub async fn events_missing_from_log(&self, before: u64, limit: u32) -> Result<Vec<(String, String, StoredEvent)>> {
        let rows = sqlx::query(
            "SELECT org_id, contract_id, seq, kind, at, actor, recipient, data FROM contract_events
             WHERE log_index IS NULL AND at < $1 ORDER BY at, contract_id, seq LIMIT $2",
        )
        .bind(i64_of(before))
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let org: String = r.try_get(0)?;
            let contract: String = r.try_get(1)?;
            let seq = u64_of(r.try_get(2)?);
            let kind: String = r.try_get(3)?;
            let data: String = r.try_get(7)?;
            let data = self.row_key(&org).await?.open(&event_context(&org, &contract, seq), &data)?;
            let corrupt = |reason: String| StoreError::Corrupt { id: contract.clone(), reason };
            let event = ContractEvent {
                kind: EventKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown event kind {kind:?}")))?,
                at: u64_of(r.try_get(4)?),
                actor: r.try_get(5)?,
                recipient: r.try_get(6)?,
                data: serde_json::from_str(&data).map_err(|e| corrupt(e.to_string()))?,
            };
            out.push((org, contract, StoredEvent { seq, event, log_index: None }));
        }
        Ok(out)
    }

    /// Open contracts (sent or in progress) untouched since `before` (no event, no signature):
    /// `(org, id)`, oldest first, at most `limit` — the candidates for an automatic reminder.
    pub async fn idle_open_contracts(&self, before: u64, limit: u32) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT org_id, id FROM contracts WHERE status IN ('sent', 'in_progress') AND updated_at < $1 ORDER BY updated_at LIMIT $2",
        )
        .bind(i64_of(before))
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
    // --- jobs --------------------------------------------------------------------------------------

    fn job_of(r: &sqlx::any::AnyRow) -> Result<Job> {
        let id: String = r.try_get(0)?;
        let state: String = r.try_get(5)?;
        let state = JobState::parse(&state).ok_or_else(|| StoreError::Corrupt { id: id.clone(), reason: format!("unknown job state {state:?}") })?;
        Ok(Job {
            id,
            kind: r.try_get(1)?,
            org_id: r.try_get(2)?,
            payload: r.try_get(3)?,
            dedupe_key: r.try_get(4)?,
            state,
            attempts: u64_of(r.try_get(6)?),
            run_at: u64_of(r.try_get(7)?),
            locked_by: r.try_get(8)?,
            locked_until: r.try_get::<Option<i64>, _>(9)?.map(u64_of),
            last_error: r.try_get(10)?,
            created_at: u64_of(r.try_get(11)?),
            finished_at: r.try_get::<Option<i64>, _>(12)?.map(u64_of),
        })
    }

    /// `jobs` with the payloads of organisations' jobs sealed by their keys.
    async fn sealed_jobs(&self, jobs: &[NewJob]) -> Result<Vec<NewJob>> {
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut job = job.clone();
            if let Some(org) = &job.org_id {
                job.payload = self.row_key(org).await?.seal(&job_context(org, &job.id), &job.payload)?;
            }
            out.push(job);
        }
        Ok(out)
    }

    /// `value` as a field of the stored job `id` is kept: sealed by its organisation's key
    /// (for the row `context(org, id)`), as it is for a deployment-wide job; `None` when there
    /// is no such job.
    async fn sealed_for_job(&self, id: &str, context: fn(&str, &str) -> String, value: &str) -> Result<Option<String>> {
        let Some(row) = sqlx::query("SELECT org_id FROM jobs WHERE id = $1").bind(id).fetch_optional(&self.pool).await? else { return Ok(None) };
        Ok(Some(match row.try_get::<Option<String>, _>(0)? {
            Some(org) => self.row_key(&org).await?.seal(&context(&org, id), value)?,
            None => value.to_owned(),
        }))
    }

    /// `jobs` with their payloads opened.
    async fn opened_jobs(&self, mut jobs: Vec<Job>) -> Result<Vec<Job>> {
        for job in &mut jobs {
            if let Some(org) = &job.org_id {
                let key = self.row_key(org).await?;
                job.payload = key.open(&job_context(org, &job.id), &job.payload)?;
                if let Some(error) = &job.last_error {
                    job.last_error = Some(key.open(&job_error_context(org, &job.id), error)?);
                }
            }
        }
        Ok(jobs)
    }

    async fn insert_job(conn: &mut sqlx::AnyConnection, job: &NewJob, now: u64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO jobs (id, kind, org_id, payload, dedupe_key, state, attempts, run_at, created_at)
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(&job.id)
        .bind(&job.kind)
        .bind(job.org_id.clone())
        .bind(&job.payload)
        .bind(job.dedupe_key.clone())
        .bind(i64_of(job.run_at))
        .bind(i64_of(now))
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Enqueues a job; `false` when a job with its dedupe key exists already (nothing is
    /// written then).
    pub async fn enqueue_job(&self, job: &NewJob, now: u64) -> Result<bool> {
        let sealed = self.sealed_jobs(std::slice::from_ref(job)).await?;
        let mut conn = self.pool.acquire().await?;
        Self::insert_job(&mut conn, &sealed[0], now).await
    }

    /// Claims up to `limit` (≤ 100) due jobs for `worker`, oldest due first, each with a lease
    /// until `now + lease_ms`, and counts the attempt. Due: queued with `run_at <= now`, or
    /// running with a lease that ran out (its worker died). On PostgreSQL the rows are picked
    /// with `FOR UPDATE SKIP LOCKED`, so workers claiming at once get disjoint jobs; SQLite
    /// runs the one statement alone.
    pub async fn claim_jobs(&self, worker: &str, limit: u32, lease_ms: u64, now: u64) -> Result<Vec<Job>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1
             WHERE id IN (SELECT id FROM jobs
                          WHERE (state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until <= $3)
                          ORDER BY run_at, id LIMIT $4{lock})
             RETURNING {JOB_COLUMNS}"
        );
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(i64_of(now.saturating_add(lease_ms)))
            .bind(i64_of(now))
            .bind(i64::from(limit.clamp(1, 100)))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut jobs = rows.iter().map(Self::job_of).collect::<Result<Vec<_>>>()?;
        jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
        self.opened_jobs(jobs).await
    }

    /// Extends the lease of every job `worker` is running to `until`; returns how many.
    pub async fn renew_job_leases(&self, worker: &str, until: u64) -> Result<u64> {
        let done = sqlx::query("UPDATE jobs SET locked_until = $1 WHERE locked_by = $2 AND state = 'running'")
            .bind(i64_of(until))
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Replaces the payload of a job `worker` runs (progress a retry resumes from); `false`
    /// when the worker no longer holds it.
    pub async fn set_job_payload(&self, id: &str, worker: &str, payload: &str) -> Result<bool> {
        let Some(payload) = self.sealed_for_job(id, job_context, payload).await? else { return Ok(false) };
        let done = sqlx::query("UPDATE jobs SET payload = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'")
            .bind(payload)
            .bind(id)
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a job `worker` runs as done; `false` when the worker no longer holds it (its
    /// lease ran out and another worker claimed it).
    pub async fn complete_job(&self, id: &str, worker: &str, now: u64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $1, locked_by = NULL, locked_until = NULL
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(i64_of(now))
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt of a job `worker` runs: queued again after the backoff's delay,
    /// or [`JobState::Failed`] after its last attempt. Returns the new state, or `None` when the
    /// worker no longer holds the job.
    pub async fn fail_job(&self, id: &str, worker: &str, error: &str, now: u64, backoff: &Backoff) -> Result<Option<JobState>> {
        let error: String = error.chars().take(JOB_ERROR_MAX).collect();
        // An organisation's job's error may quote its data (an address an SMTP server
        // refused): sealed like its payload.
        let Some(error) = self.sealed_for_job(id, job_error_context, &error).await? else { return Ok(None) };
        let mut tx = self.pool.begin().await?;
        // A write first (see `set_member`): takes the row (and, on SQLite, the write lock).
        let held = sqlx::query("UPDATE jobs SET locked_until = locked_until WHERE id = $1 AND locked_by = $2 AND state = 'running'")
            .bind(id)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
        if held.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT attempts FROM jobs WHERE id = $1 AND locked_by = $2 AND state = 'running'")
            .bind(id)
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let attempts = u64_of(row.try_get(0)?);
        let (state, run_at, finished) = if attempts >= backoff.max_attempts.max(1) {
            (JobState::Failed, now, Some(i64_of(now)))
        } else {
            (JobState::Queued, now.saturating_add(backoff.delay(attempts)), None)
        };
        sqlx::query(
            "UPDATE jobs SET state = $1, run_at = $2, finished_at = $3, last_error = $4, locked_by = NULL, locked_until = NULL
             WHERE id = $5 AND locked_by = $6 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(i64_of(run_at))
        .bind(finished)
        .bind(error)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(state))
    }

    /// Gives back every job `worker` is running (a graceful shutdown): queued again, due at
    /// once, the interrupted attempt not counted. Returns how many.
    pub async fn release_jobs(&self, worker: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', locked_by = NULL, locked_until = NULL,
               attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
             WHERE locked_by = $1 AND state = 'running'",
        )
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// A job by id.
    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))).bind(id).fetch_optional(&self.pool).await?;
        let Some(job) = row.as_ref().map(Self::job_of).transpose()? else { return Ok(None) };
        Ok(self.opened_jobs(vec![job]).await?.pop())
    }

    /// The jobs an organisation's administrators see — its own and the deployment-wide ones
    /// (no organisation) —, newest first, optionally in one state; `cursor` is the previous
    /// page's `next_cursor`, `limit` is capped at 100. The counts per state cover all of them.
    pub async fn list_jobs(&self, org_id: &str, state: Option<JobState>, cursor: Option<&str>, limit: u32) -> Result<JobPage> {
        let limit = limit.clamp(1, 100);
        let (before_at, before_id) = match cursor.and_then(|c| c.split_once('.')) {
            Some((at, id)) => (at.parse::<i64>().unwrap_or(i64::MAX), id.to_owned()),
            None => (i64::MAX, String::new()),
        };
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs
             WHERE (org_id = $1 OR org_id IS NULL)
               AND ($2 = '' OR state = $2)
               AND (created_at < $3 OR (created_at = $3 AND ($4 = '' OR id < $4)))
             ORDER BY created_at DESC, id DESC
             LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(state.map(JobState::as_str).unwrap_or(""))
            .bind(before_at)
            .bind(before_id)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let mut items = Vec::new();
        let mut next_cursor = None;
        for (i, r) in rows.iter().enumerate() {
            if i == limit as usize {
                break;
            }
            let job = Self::job_of(r)?;
            if i + 1 == limit as usize && rows.len() > limit as usize {
                next_cursor = Some(format!("{}.{}", job.created_at, job.id));
            }
            items.push(job);
        }
        let items = self.opened_jobs(items).await?;
        let mut counts: std::collections::BTreeMap<String, u64> = JobState::ALL.iter().map(|s| (s.as_str().to_owned(), 0)).collect();
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs WHERE org_id = $1 OR org_id IS NULL GROUP BY state").bind(org_id).fetch_all(&self.pool).await?;
        for r in rows {
            let state: String = r.try_get(0)?;
            counts.insert(state, u64_of(r.try_get(1)?));
        }
        Ok(JobPage { items, next_cursor, counts })
    }

    /// Forgets the jobs of `kind` in one of `states` that were created before the job `keep`
    /// (kept, as are newer ones and every other kind), so a kind that repeats keeps its newest
    /// outcome rather than a row per run. Returns how many were forgotten.
    pub async fn forget_older_jobs_of_kind(&self, kind: &str, states: &[JobState], keep: &str) -> Result<u64> {
        if states.is_empty() {
            return Ok(0);
        }
        let states = states.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "DELETE FROM jobs WHERE kind = $1 AND id <> $2 AND state IN ({states})
               AND created_at <= (SELECT created_at FROM jobs WHERE id = $2)"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind).bind(keep).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Forgets done jobs that finished before `before` (failed ones stay for administrators);
    /// returns how many.
    pub async fn prune_jobs(&self, before: u64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1").bind(i64_of(before)).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
