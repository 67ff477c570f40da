//! The storage seams of the log service.
//!
//! A log keeps two kinds of state. The [`Journal`] is transactional: the entries appended but
//! not yet folded into tiles (a batch per group commit), the next free index, how far the tiles
//! reach, and the last signed checkpoint. The [`TileStore`] holds what readers fetch: tiles,
//! entry bundles and the published checkpoint, by their `tlog-tiles` paths.
//!
//! Embedded: the journal is SQLite in the log directory and tiles are plain files beside it.
//! Scale-out: the journal is PostgreSQL and tiles are objects in an S3-compatible bucket.

use async_trait::async_trait;

use crate::Result;

/// The last checkpoint the log signed, as stored in the journal before it is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// The signed note, with only the log's signature.
    pub signed: String,
    /// The same note with the witnesses' cosignatures gathered so far.
    pub cosigned: String,
    /// When it was signed, in milliseconds since 1970.
    pub time_ms: u64,
}

/// The journal's view of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalState {
    /// The index the next appended entry gets (= number of entries sequenced).
    pub next_index: u64,
    /// Number of entries folded into tiles (durably).
    pub integrated: u64,
    /// The last signed checkpoint, if any.
    pub checkpoint: Option<StoredCheckpoint>,
}

/// Held while a process integrates and signs; dropping it releases the lock.
pub type IntegrationGuard = Box<dyn Send>;

/// Proof that a process holds the sequencer lease: its holder name and the epoch (fencing
/// token) its acquisition was given. Every write only the sequencer may make carries one, and
/// the journal refuses it with [`crate::LogError::LeaseLost`] unless the lease still names this
/// holder with this epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fence {
    /// Who holds the lease (unique per process: [`crate::LogConfig::holder`]).
    pub holder: String,
    /// The lease's epoch at acquisition; every acquisition by a new holder (or after the lease
    /// lapsed) increments it.
    pub epoch: u64,
}

/// The sequencer lease as stored in the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    /// The last process to acquire the lease.
    pub holder: String,
    /// Its epoch.
    pub epoch: u64,
    /// Milliseconds until it expires by the database's clock; zero or negative when it has
    /// expired or was released.
    pub remaining_ms: i64,
}

/// The sequencing journal and durable state of a log.
#[async_trait]
pub trait Journal: Send + Sync {
    /// Appends `entries` (already framed as an entry bundle: each with its 2-byte big-endian
    /// length) as one durable batch after the last entry; returns the first index. Atomic: after
    /// a crash either the whole batch is there or none of it.
    async fn append_batch(&self, count: u64, framed: &[u8]) -> Result<u64>;

    /// The current state.
    async fn state(&self) -> Result<JournalState>;

    /// The framed batches covering the entries `[from, to)`, as `(first index, count, framed)`,
    /// in order. Batches may start before `from`.
    async fn read_batches(&self, from: u64, to: u64) -> Result<Vec<(u64, u64, Vec<u8>)>>;

    /// Records that tiles now durably cover `[0, size)` and forgets the batches they hold.
    /// Fenced: fails with [`crate::LogError::LeaseLost`] (changing nothing) unless `fence`
    /// still holds the sequencer lease.
    async fn set_integrated(&self, size: u64, fence: &Fence) -> Result<()>;

    /// Stores a newly signed checkpoint, only if the stored one still has size `previous`
    /// (`None`: no checkpoint yet); otherwise fails with [`crate::LogError::Conflict`].
    /// Fenced like [`Journal::set_integrated`].
    async fn save_checkpoint(&self, previous: Option<u64>, cp: &StoredCheckpoint, fence: &Fence) -> Result<()>;

    /// Replaces the cosigned form of the stored checkpoint of `size` (no-op if a newer one
    /// has been stored since). Fenced like [`Journal::set_integrated`].
    async fn save_cosigned(&self, size: u64, cosigned: &str, fence: &Fence) -> Result<()>;

    /// Stores witness cosignatures gathered by any process (not only the sequencer): replaces
    /// the cosigned form of the stored checkpoint only if it is still the one of `size` signed
    /// as `signed`. Returns whether it was. Only the sequencer publishes what is stored.
    async fn store_cosignatures(&self, size: u64, signed: &str, cosigned: &str) -> Result<bool>;

    /// Serialises integration between processes where the backend has a local lock (SQLite: a
    /// `flock`, waited for); elsewhere a no-op, the sequencer lease being what excludes.
    async fn lock_integration(&self) -> Result<IntegrationGuard>;

    /// Acquires the sequencer lease for `holder` for `duration`, or renews it if `holder`
    /// already holds it; returns the epoch, or `None` if another holder's lease is still
    /// live. The database's clock decides expiry. A new acquisition (another holder before,
    /// or the lease had lapsed) increments the epoch; a renewal keeps it.
    async fn acquire_lease(&self, holder: &str, duration: std::time::Duration) -> Result<Option<u64>>;

    /// Gives the lease up at once (it expires now) if `fence` still holds it; otherwise does
    /// nothing.
    async fn release_lease(&self, fence: &Fence) -> Result<()>;

    /// The stored lease, if any process ever acquired it.
    async fn lease(&self) -> Result<Option<LeaseRecord>>;
}

/// Where a stored object's lifetime is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A full tile or full entry bundle: written once, never changed.
    Immutable,
    /// A partial tile or bundle (same content for the same path, but superseded) or the
    /// checkpoint (replaced as the log grows).
    Mutable,
}

/// Tiles, entry bundles and the checkpoint, by `tlog-tiles` path (`checkpoint`,
/// `tile/0/x001/234`, `tile/entries/000.p/5`, …).
#[async_trait]
pub trait TileStore: Send + Sync {
    /// Stores `data` at `path`. An [`Kind::Immutable`] object that already exists must hold
    /// the same bytes, or this fails with [`crate::LogError::Inconsistent`].
    async fn put(&self, path: &str, data: &[u8], kind: Kind) -> Result<()>;

    /// The object at `path`, if any.
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>>;

    /// Makes everything put so far durable.
    async fn sync(&self) -> Result<()>;

    /// Forgets the partial versions (`<path>.p/<W>`) of the full tile or bundle at `path`,
    /// which now exists. Readers asking for one get the full object instead (see
    /// [`crate::http`]). Optional: the default keeps them.
    async fn remove_partials(&self, _full_path: &str) -> Result<()> {
        Ok(())
    }
}
