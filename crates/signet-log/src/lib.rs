//! The evidence log service: the stateful half of the ledger, on top of the pure
//! [`signet_ledger`] core.
//!
//! - [`store`] — the two storage seams: a [`store::Journal`] (the sequencing journal and the
//!   log's durable state, in SQL) and a [`store::TileStore`] (tiles, entry bundles and the
//!   checkpoint, as objects);
//! - [`sql`] — the journal on SQLite (embedded default) or PostgreSQL, one SQL dialect;
//! - [`files`] — the embedded tile store: plain files under the log's directory;
//! - [`s3`] — the scale-out tile store: objects in an S3-compatible bucket;
//! - [`tree`] — the right edge of the tree kept in memory, and integration of journal entries
//!   into tiles;
//! - [`log`] — [`log::Log`]: group-committed appends, integration, checkpoint signing at most
//!   once a second, the never-two-inconsistent-checkpoints rule, proofs; one sequencer at a
//!   time among processes sharing a journal (a lease with a fencing epoch);
//! - [`witness_client`] — sending checkpoints to `tlog-witness` witnesses;
//! - [`http`] — the read-only `tlog-tiles` routes (`/checkpoint`, `/tile/…`).
//!
//! The invariants: an append is acknowledged only once its batch is durable in the journal;
//! tiles are derived from the journal and a full tile, once written, never changes; a
//! checkpoint is stored in the journal before anyone sees it, and a new one is signed only if
//! the tree it commits to contains the last signed one (checked against the stored hashes, also
//! after a restart).

pub mod files;
pub mod http;
pub mod log;
pub mod s3;
pub mod sql;
pub mod store;
pub mod tree;
pub mod witness_client;

pub use log::{Log, LogConfig, SequencerStatus, WitnessReport, Witnessing};

/// Everything that can go wrong in the log service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The journal database failed.
    #[error("log database: {0}")]
    Db(#[from] sqlx::Error),
    /// Reading or writing the log's files failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A format or proof error from the ledger core.
    #[error(transparent)]
    Ledger(#[from] signet_ledger::LedgerError),
    /// An entry over 65,535 bytes.
    #[error("an entry is {0} bytes; the most a log entry can hold is 65,535")]
    EntryTooLarge(usize),
    /// The directory holds no log.
    #[error("{0} holds no log; create one with `signet log init --dir DIR --origin ORIGIN`")]
    NoLog(String),
    /// The directory already holds a log.
    #[error("{0} already holds a log; choose an empty directory")]
    AlreadyExists(String),
    /// Stored state that contradicts itself: a tile that differs from what the journal
    /// implies, a checkpoint the tree does not contain. The log stops rather than sign.
    #[error("refusing to continue: {0}")]
    Inconsistent(String),
    /// Another process changed the log's state concurrently; retry.
    #[error("the log's state changed concurrently: {0}")]
    Conflict(String),
    /// This process no longer holds the sequencer lease it acted under: another process took
    /// it over (the lease lapsed while this one was stalled). Nothing was written; the write
    /// belongs to the new holder now.
    #[error("this process ({holder}) no longer holds the log's sequencer lease of epoch {epoch}; another process took over, and nothing was written")]
    LeaseLost {
        /// This process's holder name.
        holder: String,
        /// The epoch it acted under.
        epoch: u64,
    },
    /// The entry asked for is not yet covered by a checkpoint.
    #[error("entry {index} is not covered by the latest checkpoint (size {size}); wait a second for the next checkpoint")]
    NotYetCovered {
        /// The entry.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The object store failed.
    #[error("object store: {0}")]
    Objects(String),
    /// The object storage settings (URL, credentials) cannot be used.
    #[error(transparent)]
    ObjectStorage(#[from] signet_objects::ObjectsError),
    /// The log service has stopped.
    #[error("the log service has stopped")]
    Stopped,
    /// An append's batch could not be made durable (nothing of it was acknowledged).
    #[error("the append was not stored: {0}")]
    AppendFailed(String),
    /// A witness could not be reached or refused the checkpoint.
    #[error("witness {url}: {reason}")]
    Witness {
        /// The witness's URL.
        url: String,
        /// What happened.
        reason: String,
    },
}

impl LogError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        LogError::Io { context: context.into(), source }
    }
}

/// Result alias for this crate.
pub type Result<T, E = LogError> = std::result::Result<T, E>;
