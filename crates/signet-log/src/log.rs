//! [`Log`]: the evidence log service.
//!
//! Appends go through a sequencer task that gathers every append waiting at that moment into
//! one journal batch (group commit): one durable write acknowledges them all. Integration
//! folds committed batches into tiles (under a lock, so one process at a time does it), syncs
//! them, and only then marks them integrated. Signing happens at most once per
//! [`LogConfig::checkpoint_interval`] when the tree grew, and only after checking — against the
//! stored tiles — that the new tree contains the last signed checkpoint; the new checkpoint is
//! stored in the journal before it is published or sent to witnesses.
//!
//! # One sequencer at a time
//!
//! Every process may append (appends only write the journal), but only the holder of the
//! log's *sequencer lease* (a row in the journal, see [`crate::sql`]) integrates and signs. A
//! [`Log::run`] loop takes the lease when it is free or expired, renews it while it works
//! (every fifth of [`LogConfig::lease_duration`]), and gives it up when stopped; a process that
//! cannot take it does nothing and tries again at every tick ([`LEASE_RETRY`]), so when the
//! holder dies or stalls another process takes over once its lease has lapsed (within
//! [`DEFAULT_LEASE_DURATION`] plus a tick). A single [`Log::step`] outside `run` takes the
//! lease for that step and gives it up afterwards.
//!
//! Each acquisition gets a new epoch, the fencing token: the journal refuses
//! `set_integrated`, `save_checkpoint` and `save_cosigned` from anyone but the current holder
//! with its current epoch ([`LogError::LeaseLost`]), in the same transaction as the write. A
//! stalled holder that wakes up after a takeover can therefore neither record integration nor
//! store, publish or cosign a checkpoint (a checkpoint is published only after it is stored).
//! The tiles it may still write are harmless: a tile's path fixes its contents, since the
//! entries behind it sit at fixed indices in the journal, so a full tile it writes is the
//! very tile the new holder writes (and a different one would be refused), and a partial one
//! has the same bytes, or is superseded by the full tile readers are sent to instead. The
//! compare-and-set on the stored checkpoint's size stays as a second line: two checkpoints
//! are never stored from the same predecessor. One window remains: a holder that stalls
//! between storing a checkpoint (while it still held the lease) and publishing it may, on
//! waking, publish that checkpoint over a newer one — an older checkpoint that the newer one
//! is consistent with, never a conflicting one — until the next checkpoint is published.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use signet_ledger::note::{Note, NoteSignature};
use signet_ledger::proof::{consistency_proof, inclusion_proof, tree_root};
use signet_ledger::tile::push_bundle_entry;
use signet_ledger::note::NoteSigner;
use signet_ledger::{Checkpoint, TlogProof, VerifierKey};
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use crate::store::{Fence, Journal, Kind, LeaseRecord, StoredCheckpoint, TileStore};
use crate::tree::{Object, TreeEdge, split_framed, with_tiles};
use crate::witness_client::WitnessClient;
use crate::{LogError, Result};

/// Entries gathered into one group commit at most.
const MAX_BATCH_ENTRIES: usize = 65_536;
/// Bytes gathered into one group commit at most.
const MAX_BATCH_BYTES: usize = 32 << 20;
/// Entries folded into tiles per journal read.
const INTEGRATE_CHUNK: u64 = 262_144;

/// How long a sequencer lease lasts unless renewed ([`LogConfig::lease_duration`]'s
/// default). A holder that dies or stalls is replaced once it has lapsed: within this plus
/// [`LEASE_RETRY`] and one step, well inside 15 seconds.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(10);

/// How often [`Log::run`] looks for new work, and so how often a process that does not hold
/// the lease tries to take it (at most).
pub const LEASE_RETRY: Duration = Duration::from_millis(250);

/// The holder renews its lease once this fraction of it has passed (every 2 s by default).
const RENEW_FRACTION: u32 = 5;

/// How a log runs.
pub struct LogConfig {
    /// The log's signing key (in memory, or held elsewhere such as a PKCS#11 token); its name
    /// is the log's origin.
    pub key: Arc<dyn NoteSigner>,
    /// Witnesses to send checkpoints to.
    pub witnesses: Vec<(String, VerifierKey)>,
    /// Least time between two checkpoints.
    pub checkpoint_interval: Duration,
    /// This process's name in the sequencer lease; must differ between processes (and between
    /// two `Log`s on one journal in one process). Default: host name, process id and a random
    /// number ([`default_holder`]).
    pub holder: String,
    /// How long the sequencer lease lasts unless renewed ([`DEFAULT_LEASE_DURATION`]).
    pub lease_duration: Duration,
    /// Who sends checkpoints to the witnesses.
    pub witnessing: Witnessing,
}

/// Who sends checkpoints to the witnesses ([`LogConfig::witnessing`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Witnessing {
    /// The sequencer, right after signing each checkpoint (and, when it starts, for a stored
    /// checkpoint that lacks cosignatures).
    #[default]
    Sequencer,
    /// Whoever calls [`Log::witness`] — any process, for example a job of a queue that
    /// retries it. The sequencer then only publishes the cosignatures stored.
    External,
}

/// What one [`Log::witness`] call did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessReport {
    /// The size of the checkpoint sent.
    pub size: u64,
    /// How many of the witnesses have cosigned it now.
    pub cosigned: usize,
    /// The witnesses that did not cosign it, and why.
    pub failed: Vec<String>,
    /// Whether the cosignatures gathered were stored (false: a newer checkpoint was signed
    /// meanwhile, or nothing new was gathered).
    pub stored: bool,
}

impl LogConfig {
    /// A log signing with `key`, no witnesses, a checkpoint at most every second, a lease of
    /// [`DEFAULT_LEASE_DURATION`] under [`default_holder`]'s name.
    pub fn new(key: impl NoteSigner + 'static) -> Self {
        LogConfig {
            key: Arc::new(key),
            witnesses: Vec::new(),
            checkpoint_interval: Duration::from_secs(1),
            holder: default_holder(),
            lease_duration: DEFAULT_LEASE_DURATION,
            witnessing: Witnessing::Sequencer,
        }
    }
}

/// A holder name unique to this process and call: `HOST:PID:RANDOM`.
pub fn default_holder() -> String {
    use std::hash::BuildHasher as _;
    // `RandomState` is seeded from the operating system's randomness.
    let random = std::collections::hash_map::RandomState::new().hash_one(now_ms());
    format!("{}:{}:{random:016x}", host_name(), std::process::id())
}

fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            if end > 0 {
                return String::from_utf8_lossy(&buf[..end]).into_owned();
            }
        }
    }
    std::env::var("HOSTNAME").or_else(|_| std::env::var("COMPUTERNAME")).unwrap_or_else(|_| "host".into())
}

/// Who is the log's sequencer, for a health or admin endpoint ([`Log::sequencer_status`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequencerStatus {
    /// This process's holder name.
    pub holder: String,
    /// Whether this process holds the lease (by its own clock, conservatively).
    pub is_sequencer: bool,
    /// The lease as stored: who holds it, its epoch and how long it has left.
    pub lease: Option<LeaseRecord>,
}

/// This process's view of the lease.
struct LeaseState {
    /// The epoch this process holds the lease under, if it believes it does.
    epoch: Option<u64>,
    /// When the last successful acquisition or renewal was sent (the lease runs from later).
    renewed: Instant,
    /// When an acquisition last failed because another process holds the lease.
    refused: Option<Instant>,
}

struct Pending {
    entry: Vec<u8>,
    reply: oneshot::Sender<Result<u64>>,
}

struct Inner {
    journal: Arc<dyn Journal>,
    tiles: Arc<dyn TileStore>,
    key: Arc<dyn NoteSigner>,
    interval: Duration,
    witnesses: Vec<WitnessClient>,
    /// The tree's right edge as of the last integration by this process.
    edge: Mutex<TreeEdge>,
    /// Woken when a batch is committed.
    committed: Notify,
    holder: String,
    lease_duration: Duration,
    lease: std::sync::Mutex<LeaseState>,
    /// Serialises integration and signing within this process.
    stepping: Mutex<()>,
    /// Number of [`Log::run`] loops active: while one is, the lease is kept between steps.
    running: AtomicUsize,
    witnessing: Witnessing,
    /// The checkpoint text this process published last (the sequencer publishes stored
    /// cosignatures it has not published yet).
    published: std::sync::Mutex<Option<String>>,
}

/// The evidence log. Cheap to clone.
#[derive(Clone)]
pub struct Log {
    inner: Arc<Inner>,
    queue: mpsc::Sender<Pending>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Log {
    /// Opens the log on its stores and starts its sequencer. Checks that the stored tiles still
    /// contain the last signed checkpoint; refuses to open otherwise.
    pub async fn open(journal: Arc<dyn Journal>, tiles: Arc<dyn TileStore>, config: LogConfig) -> Result<Log> {
        let witnesses = config.witnesses.into_iter().map(|(url, key)| WitnessClient::new(&url, key)).collect();
        let inner = Arc::new(Inner {
            journal,
            tiles,
            key: config.key,
            interval: config.checkpoint_interval,
            witnesses,
            edge: Mutex::new(TreeEdge::new()),
            committed: Notify::new(),
            holder: config.holder,
            lease_duration: config.lease_duration,
            lease: std::sync::Mutex::new(LeaseState { epoch: None, renewed: Instant::now(), refused: None }),
            stepping: Mutex::new(()),
            running: AtomicUsize::new(0),
            witnessing: config.witnessing,
            published: std::sync::Mutex::new(None),
        });
        {
            let _lock = inner.journal.lock_integration().await?;
            let (state, edge) = inner.load_edge().await?;
            if let Some(cp) = &state.checkpoint {
                inner.check_contains(&edge, cp).await?;
            }
            *inner.edge.lock().await = edge;
        }
        let (queue, rx) = mpsc::channel(MAX_BATCH_ENTRIES);
        tokio::spawn(sequencer(inner.clone(), rx));
        Ok(Log { inner, queue })
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.inner.key.name()
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> VerifierKey {
        self.inner.key.verifier()
    }

    /// The tile store (for serving).
    pub fn tiles(&self) -> Arc<dyn TileStore> {
        self.inner.tiles.clone()
    }

    /// Appends one entry; returns its index once it is durable. Concurrent appends share one
    /// durable write.
    pub async fn append(&self, entry: Vec<u8>) -> Result<u64> {
        if entry.len() > signet_ledger::tile::MAX_ENTRY_SIZE {
            return Err(LogError::EntryTooLarge(entry.len()));
        }
        let (reply, rx) = oneshot::channel();
        self.queue.send(Pending { entry, reply }).await.map_err(|_| LogError::Stopped)?;
        rx.await.map_err(|_| LogError::Stopped)?
    }

    /// Appends an evidence event in its canonical encoding.
    pub async fn append_event(&self, event: &signet_ledger::event::EvidenceEvent) -> Result<u64> {
        self.append(event.encode()?).await
    }

    /// Appends entries as one durable batch, in order; returns the first index.
    pub async fn append_all<E: AsRef<[u8]>>(&self, entries: &[E]) -> Result<u64> {
        let mut framed = Vec::new();
        for e in entries {
            let e = e.as_ref();
            if e.len() > signet_ledger::tile::MAX_ENTRY_SIZE {
                return Err(LogError::EntryTooLarge(e.len()));
            }
            push_bundle_entry(&mut framed, e)?;
        }
        let start = self.inner.journal.append_batch(entries.len() as u64, &framed).await?;
        self.inner.committed.notify_one();
        Ok(start)
    }

    /// Folds committed entries into tiles, if this process holds (or can take, waiting up to
    /// a lease's length) the sequencer lease; returns the integrated size (another process's
    /// progress, if it holds the lease).
    pub async fn integrate(&self) -> Result<u64> {
        let keep = self.inner.running.load(Ordering::SeqCst) > 0;
        let result = async {
            let _serial = self.inner.stepping.lock().await;
            let _lock = self.inner.journal.lock_integration().await?;
            match self.inner.obtain_lease(true).await? {
                Some(fence) => self.inner.integrate_locked(&fence).await,
                None => Ok(self.inner.journal.state().await?.integrated),
            }
        }
        .await;
        if !keep {
            self.inner.release_quietly().await;
        }
        result
    }

    /// Integrates, then signs and publishes a checkpoint if the tree grew and the interval has
    /// passed since the last one (waiting out the rest of it when `wait` is set), then gathers
    /// witness cosignatures. Returns the checkpoint signed, if any.
    ///
    /// Only the holder of the sequencer lease integrates and signs. Without `wait`, a process
    /// that cannot take the lease at once returns `Ok(None)` without waiting; with `wait` it
    /// waits for the lease up to a lease's length (a holder that stopped renewing has lapsed
    /// by then) and returns `Ok(None)` if a live holder keeps it (that one signs). Outside
    /// [`Log::run`] the lease is given up again when the step ends.
    pub async fn step(&self, wait: bool) -> Result<Option<StoredCheckpoint>> {
        let keep = self.inner.running.load(Ordering::SeqCst) > 0;
        let result = self.step_held(wait).await;
        if !keep {
            self.inner.release_quietly().await;
        }
        result
    }

    async fn step_held(&self, wait: bool) -> Result<Option<StoredCheckpoint>> {
        let (signed, fence) = {
            let _serial = self.inner.stepping.lock().await;
            let _lock = self.inner.journal.lock_integration().await?;
            let Some(fence) = self.inner.obtain_lease(wait).await? else { return Ok(None) };
            let size = self.inner.integrate_locked(&fence).await?;
            let state = self.inner.journal.state().await?;
            let last = state.checkpoint;
            if last.as_ref().is_some_and(|cp| cp.size == size) {
                (None, fence)
            } else {
                if let Some(cp) = &last {
                    let due = cp.time_ms + self.inner.interval.as_millis() as u64;
                    let now = now_ms();
                    if now < due {
                        if !wait {
                            return Ok(None);
                        }
                        tokio::time::sleep(Duration::from_millis(due - now)).await;
                    }
                }
                // Renewed if due (the wait may have been long); refused if it was lost.
                let fence = self.inner.keep_lease(&fence).await?;
                (Some(self.inner.sign_locked(last.as_ref(), &fence).await?), fence)
            }
        };
        let Some(cp) = signed else { return Ok(None) };
        if self.inner.witnessing == Witnessing::External {
            return Ok(Some(cp));
        }
        let cosigned = self.inner.gather_cosignatures(&cp, &fence).await;
        Ok(Some(StoredCheckpoint { cosigned, ..cp }))
    }

    /// Runs integration and signing until `stop` resolves: after each commit, and at least
    /// every [`LEASE_RETRY`] (to pick up appends by other processes). Only while this process
    /// holds the sequencer lease does it integrate and sign; otherwise it tries to take the
    /// lease at every tick, so it takes over when the holder dies or stalls. The lease is kept
    /// (renewed) between steps and given up when `stop` resolves.
    ///
    /// Errors — a database that is down or restarting, a lost lease — are reported to
    /// `on_error` and retried at the next tick (the lease lapses meanwhile and is taken again
    /// when the database is back); only an inconsistency of the stored state stops the loop.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>, on_error: impl Fn(&LogError)) -> Result<()> {
        let _running = Running::enter(&self.inner.running);
        tokio::pin!(stop);
        // A checkpoint signed while no server ran (by `signet log append`) has not been seen
        // by the witnesses yet; the sequencer catches up once it holds the lease.
        let mut witnesses_current = self.inner.witnesses.is_empty() || self.inner.witnessing == Witnessing::External;
        let result = loop {
            tokio::select! {
                _ = &mut stop => break Ok(()),
                _ = self.inner.committed.notified() => {}
                _ = tokio::time::sleep(LEASE_RETRY) => {}
            }
            match self.step_held(false).await {
                Ok(signed) => {
                    if self.inner.witnessing == Witnessing::External
                        && !self.inner.witnesses.is_empty()
                        && self.is_sequencer()
                        && let Err(e) = self.publish_stored().await
                    {
                        on_error(&e);
                    }
                    if signed.is_some() {
                        witnesses_current = true;
                    } else if !witnesses_current && self.is_sequencer() {
                        match self.catch_up_witnesses().await {
                            Ok(()) => witnesses_current = true,
                            Err(e) => on_error(&e),
                        }
                    }
                }
                Err(e @ LogError::Inconsistent(_)) => {
                    on_error(&e);
                    break Err(e);
                }
                Err(e) => on_error(&e),
            }
        };
        if let Err(e) = self.inner.release().await {
            // It lapses by itself within a lease's length.
            on_error(&e);
        }
        result
    }

    /// Publishes the stored checkpoint (with the cosignatures stored by [`Log::witness`]) if
    /// this process has not published that text yet. Sequencer only.
    async fn publish_stored(&self) -> Result<()> {
        let Some(cp) = self.checkpoint().await? else { return Ok(()) };
        let current = self.inner.published.lock().map(|p| p.as_deref() == Some(cp.cosigned.as_str())).unwrap_or(false);
        if current || self.inner.held_fence().is_none() {
            return Ok(());
        }
        self.inner.tiles.put("checkpoint", cp.cosigned.as_bytes(), Kind::Mutable).await?;
        if let Ok(mut p) = self.inner.published.lock() {
            *p = Some(cp.cosigned);
        }
        Ok(())
    }

    /// The size of the stored checkpoint if one of the witnesses has not cosigned it; `None`
    /// without witnesses, without a checkpoint, or when every witness has.
    pub async fn uncosigned_checkpoint(&self) -> Result<Option<u64>> {
        if self.inner.witnesses.is_empty() {
            return Ok(None);
        }
        let Some(cp) = self.checkpoint().await? else { return Ok(None) };
        Ok(self.inner.lacks_cosignatures(&cp)?.then_some(cp.size))
    }

    /// Sends the stored checkpoint to the witnesses that have not cosigned it yet, in
    /// parallel, and stores the cosignatures that come back (if the checkpoint is still the
    /// newest); the sequencer publishes them. Any process may call it (see
    /// [`Witnessing::External`]); `None` without witnesses or without a checkpoint. A
    /// witness that fails is named in the report, so the caller can try again later.
    pub async fn witness(&self) -> Result<Option<WitnessReport>> {
        if self.inner.witnesses.is_empty() {
            return Ok(None);
        }
        let Some(cp) = self.checkpoint().await? else { return Ok(None) };
        let mut note = Note::parse(cp.cosigned.as_bytes())?;
        let size = cp.size;
        let missing = self.inner.witnesses.iter().filter(|w| !w.has_cosigned(&note));
        let results = self.inner.submit(missing, &cp, note.text()).await;
        let mut failed = Vec::new();
        let mut added = 0;
        for r in results {
            match r {
                Ok(sig) => {
                    if note.add_signature(sig).is_ok() {
                        added += 1;
                    }
                }
                Err(e) => failed.push(e.to_string()),
            }
        }
        let cosigned = self.inner.witnesses.iter().filter(|w| w.has_cosigned(&note)).count();
        let mut stored = false;
        if added > 0 {
            let text = String::from_utf8(note.to_bytes()?).map_err(|_| LogError::Inconsistent("note is not UTF-8".into()))?;
            stored = self.inner.journal.store_cosignatures(size, &cp.signed, &text).await?;
        }
        Ok(Some(WitnessReport { size, cosigned, failed, stored }))
    }

    /// Sends the stored checkpoint to the witnesses if it lacks some of their cosignatures.
    async fn catch_up_witnesses(&self) -> Result<()> {
        let Some(cp) = self.checkpoint().await? else { return Ok(()) };
        if self.inner.lacks_cosignatures(&cp).unwrap_or(true) {
            let fence = self.inner.held_fence().ok_or_else(|| self.inner.lost(None))?;
            self.inner.gather_cosignatures(&cp, &fence).await;
        }
        Ok(())
    }

    /// This process's name in the sequencer lease ([`LogConfig::holder`]).
    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    /// Whether this process holds the sequencer lease, by its own (conservative) clock: it
    /// acquired or renewed the lease less than a lease's length ago. Asks no database.
    pub fn is_sequencer(&self) -> bool {
        self.inner.held_fence().is_some()
    }

    /// Who holds the sequencer lease, as stored, and whether it is this process.
    pub async fn sequencer_status(&self) -> Result<SequencerStatus> {
        Ok(SequencerStatus {
            holder: self.inner.holder.clone(),
            is_sequencer: self.is_sequencer(),
            lease: self.inner.journal.lease().await?,
        })
    }

    /// The fence this process acts under while it holds the lease (for checks and tests).
    pub fn fence(&self) -> Option<Fence> {
        self.inner.held_fence()
    }

    /// The last signed checkpoint with the cosignatures gathered, if any.
    pub async fn checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        Ok(self.inner.journal.state().await?.checkpoint)
    }

    /// Number of entries sequenced (acknowledged) so far.
    pub async fn next_index(&self) -> Result<u64> {
        Ok(self.inner.journal.state().await?.next_index)
    }

    /// An offline proof (c2sp.org/tlog-proof) that entry `index` is in the log, against the
    /// latest (cosigned) checkpoint.
    pub async fn proof(&self, index: u64) -> Result<TlogProof> {
        let cp = self.checkpoint().await?.ok_or(LogError::NotYetCovered { index, size: 0 })?;
        if index >= cp.size {
            return Err(LogError::NotYetCovered { index, size: cp.size });
        }
        let proof = with_tiles(&*self.inner.tiles, cp.size, |r| inclusion_proof(r, index, cp.size)).await?;
        Ok(TlogProof { extra: None, index, proof, checkpoint: cp.cosigned.into_bytes() })
    }

    /// The entry at `index`, read from its entry bundle (it must be integrated).
    pub async fn entry(&self, index: u64) -> Result<Vec<u8>> {
        let state = self.inner.journal.state().await?;
        if index >= state.integrated {
            return Err(LogError::NotYetCovered { index, size: state.integrated });
        }
        let tile_index = index / 256;
        let width = (state.integrated - tile_index * 256).min(256) as u16;
        let path = signet_ledger::tile::entries_path(tile_index, width);
        let mut data = self.inner.tiles.get(&path).await?;
        if data.is_none() && width < 256 {
            data = self.inner.tiles.get(&signet_ledger::tile::entries_path(tile_index, 256)).await?;
        }
        let data = data.ok_or_else(|| LogError::Inconsistent(format!("{path} is missing")))?;
        let entries = split_framed(&data)?;
        entries
            .get((index % 256) as usize)
            .map(|e| e.to_vec())
            .ok_or_else(|| LogError::Inconsistent(format!("{path} is shorter than the tree says")))
    }
}

/// Counts a running [`Log::run`] for as long as it lives (also if its future is dropped).
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Running(count)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn sequencer(inner: Arc<Inner>, mut rx: mpsc::Receiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let mut bytes = batch[0].entry.len();
        while batch.len() < MAX_BATCH_ENTRIES && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(p) => {
                    bytes += p.entry.len() + 2;
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let mut framed = Vec::with_capacity(bytes + 2 * batch.len());
        for p in &batch {
            // Sizes were checked in `append`.
            let _ = push_bundle_entry(&mut framed, &p.entry);
        }
        match inner.journal.append_batch(batch.len() as u64, &framed).await {
            Ok(start) => {
                inner.committed.notify_one();
                for (i, p) in batch.into_iter().enumerate() {
                    let _ = p.reply.send(Ok(start + i as u64));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for p in batch {
                    let _ = p.reply.send(Err(LogError::AppendFailed(msg.clone())));
                }
            }
        }
    }
}

impl Inner {
    /// The fence of the lease this process holds, if it acquired or renewed it less than a
    /// lease's length ago.
    fn held_fence(&self) -> Option<Fence> {
        let st = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        let epoch = st.epoch?;
        (st.renewed.elapsed() < self.lease_duration).then(|| Fence { holder: self.holder.clone(), epoch })
    }

    fn lost(&self, epoch: Option<u64>) -> LogError {
        let epoch = epoch.or_else(|| self.lease.lock().unwrap_or_else(|p| p.into_inner()).epoch).unwrap_or(0);
        LogError::LeaseLost { holder: self.holder.clone(), epoch }
    }

    /// Acquires the lease, or renews it when a fifth of it has passed; returns the fence, or
    /// `None` if another process holds it. With `rate_limited`, a process that was refused
    /// less than [`LEASE_RETRY`] ago does not ask again yet.
    async fn try_lease(&self, rate_limited: bool) -> Result<Option<Fence>> {
        {
            let st = self.lease.lock().unwrap_or_else(|p| p.into_inner());
            match st.epoch {
                Some(epoch) if st.renewed.elapsed() < self.lease_duration / RENEW_FRACTION => {
                    return Ok(Some(Fence { holder: self.holder.clone(), epoch }));
                }
                None if rate_limited && st.refused.is_some_and(|t| t.elapsed() < LEASE_RETRY) => return Ok(None),
                _ => {}
            }
        }
        let sent = Instant::now();
        let got = self.journal.acquire_lease(&self.holder, self.lease_duration).await;
        let mut st = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        match got {
            Ok(Some(epoch)) => {
                st.epoch = Some(epoch);
                st.renewed = sent;
                st.refused = None;
                Ok(Some(Fence { holder: self.holder.clone(), epoch }))
            }
            Ok(None) => {
                st.epoch = None;
                st.refused = Some(Instant::now());
                Ok(None)
            }
            // Unknown whether it was renewed: the old epoch stays until its time is up, and
            // the fenced writes decide.
            Err(e) => Err(e),
        }
    }

    /// The lease for one step: asked once (`wait` unset) or until a live holder's lease would
    /// have lapsed (`wait` set).
    async fn obtain_lease(&self, wait: bool) -> Result<Option<Fence>> {
        let deadline = Instant::now() + self.lease_duration + LEASE_RETRY * 4;
        loop {
            if let Some(fence) = self.try_lease(!wait).await? {
                return Ok(Some(fence));
            }
            if !wait || Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(LEASE_RETRY).await;
        }
    }

    /// Renews the lease if due during a long step; fails with [`LogError::LeaseLost`] if it is
    /// no longer held under `fence`'s epoch.
    async fn keep_lease(&self, fence: &Fence) -> Result<Fence> {
        match self.try_lease(false).await? {
            Some(now) if now.epoch == fence.epoch => Ok(now),
            _ => Err(self.lost(Some(fence.epoch))),
        }
    }

    /// Gives the lease up, if this process holds it.
    async fn release(&self) -> Result<()> {
        let epoch = self.lease.lock().unwrap_or_else(|p| p.into_inner()).epoch.take();
        match epoch {
            Some(epoch) => self.journal.release_lease(&Fence { holder: self.holder.clone(), epoch }).await,
            None => Ok(()),
        }
    }

    /// [`Inner::release`] where a failure does not matter: the lease lapses by itself.
    async fn release_quietly(&self) {
        let _ = self.release().await;
    }

    /// Reads the state and the tree edge at its integrated size. A concurrent integrator (a
    /// stale holder finishing its step) may move on between the two reads; then it reads
    /// again.
    async fn load_edge(&self) -> Result<(crate::store::JournalState, TreeEdge)> {
        let mut attempts = 0;
        loop {
            let state = self.journal.state().await?;
            match TreeEdge::load(&*self.tiles, state.integrated).await {
                Ok(edge) => return Ok((state, edge)),
                Err(e) => {
                    attempts += 1;
                    if attempts >= 3 || self.journal.state().await?.integrated == state.integrated {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Folds everything committed into tiles. The caller holds the integration lock and the
    /// lease under `fence`.
    async fn integrate_locked(&self, fence: &Fence) -> Result<u64> {
        let mut edge = self.edge.lock().await;
        let mut state = self.journal.state().await?;
        if edge.size() != state.integrated {
            // Another process integrated since: pick up its edge.
            let (now, loaded) = self.load_edge().await?;
            state = now;
            *edge = loaded;
        }
        let mut fence = fence.clone();
        while edge.size() < state.next_index {
            fence = self.keep_lease(&fence).await?;
            let from = edge.size();
            let to = state.next_index.min(from + INTEGRATE_CHUNK);
            let batches = self.journal.read_batches(from, to).await?;
            let mut objects: Vec<Object> = Vec::new();
            let mut work = edge.clone();
            for (start, count, framed) in &batches {
                let entries = split_framed(framed)?;
                if entries.len() as u64 != *count {
                    return Err(LogError::Inconsistent(format!("journal batch at {start} holds {} entries, not {count}", entries.len())));
                }
                if *start > work.size() && *start < to {
                    return Err(self.gap(from, format!("journal gap: expected entry {}, found {start}", work.size())).await);
                }
                for (i, entry) in entries.iter().enumerate() {
                    let index = start + i as u64;
                    if index < work.size() || index >= to {
                        continue;
                    }
                    if index != work.size() {
                        return Err(self.gap(from, format!("journal gap: expected entry {}, found {index}", work.size())).await);
                    }
                    work.push(entry, &mut objects)?;
                }
            }
            if work.size() != to {
                return Err(self.gap(from, format!("journal holds entries up to {}, expected {to}", work.size())).await);
            }
            work.partial_objects(&mut objects)?;
            for (path, data, kind) in &objects {
                self.tiles.put(path, data, *kind).await?;
            }
            self.tiles.sync().await?;
            self.journal.set_integrated(to, &fence).await?;
            *edge = work;
            // Partial versions of what is now full are garbage (readers get the full object).
            for (path, _, kind) in &objects {
                if *kind == Kind::Immutable {
                    self.tiles.remove_partials(path).await?;
                }
            }
        }
        Ok(edge.size())
    }

    /// Batches missing from the journal: forgotten because another process (a stale holder
    /// finishing its step) integrated past `from` meanwhile — a conflict to retry — or else
    /// an inconsistency.
    async fn gap(&self, from: u64, what: String) -> LogError {
        match self.journal.state().await {
            Ok(state) if state.integrated > from => {
                LogError::Conflict(format!("another process integrated past entry {from} meanwhile ({what})"))
            }
            Ok(_) => LogError::Inconsistent(what),
            Err(e) => e,
        }
    }

    /// Checks that the tree behind `edge` contains checkpoint `cp`.
    async fn check_contains(&self, edge: &TreeEdge, cp: &StoredCheckpoint) -> Result<()> {
        let note = Note::parse(cp.signed.as_bytes())?;
        let stored = Checkpoint::parse(note.text())?;
        if stored.size > edge.size() {
            return Err(LogError::Inconsistent(format!(
                "the last signed checkpoint has size {} but the tiles hold only {} entries",
                stored.size,
                edge.size()
            )));
        }
        let root = if stored.size == edge.size() {
            edge.root()
        } else {
            with_tiles(&*self.tiles, edge.size(), |r| tree_root(r, stored.size)).await?
        };
        if root != stored.root {
            return Err(LogError::Inconsistent(format!(
                "the stored tiles do not contain the last signed checkpoint (size {}): its root is {}, the tiles give {}; \
                 the log will not sign a checkpoint that disagrees with one it published",
                stored.size, stored.root, root
            )));
        }
        Ok(())
    }

    /// Signs a checkpoint for the integrated tree, after the containment check, and stores it
    /// before publishing it (refused unless `fence` still holds the lease). The caller holds the
    /// integration lock.
    async fn sign_locked(&self, last: Option<&StoredCheckpoint>, fence: &Fence) -> Result<StoredCheckpoint> {
        let edge = self.edge.lock().await.clone();
        if let Some(cp) = last {
            self.check_contains(&edge, cp).await?;
        }
        let cp = Checkpoint::new(self.key.name(), edge.size(), edge.root())?;
        let mut note = cp.to_note()?;
        note.sign(&*self.key)?;
        let text = String::from_utf8(note.to_bytes()?).map_err(|_| LogError::Inconsistent("note is not UTF-8".into()))?;
        let stored = StoredCheckpoint { size: edge.size(), signed: text.clone(), cosigned: text.clone(), time_ms: now_ms() };
        self.journal.save_checkpoint(last.map(|c| c.size), &stored, fence).await?;
        self.tiles.put("checkpoint", text.as_bytes(), Kind::Mutable).await?;
        if let Ok(mut p) = self.published.lock() {
            *p = Some(text);
        }
        Ok(stored)
    }

    /// Sends the checkpoint to every witness in parallel and publishes it with the
    /// cosignatures that came back. Witness failures are reported on stderr and do not stop
    /// the log. The cosigned form is stored and published only while `fence` holds the lease.
    async fn gather_cosignatures(&self, cp: &StoredCheckpoint, fence: &Fence) -> String {
        if self.witnesses.is_empty() {
            return cp.signed.clone();
        }
        let Ok(mut note) = Note::parse(cp.signed.as_bytes()) else { return cp.signed.clone() };
        for r in self.submit(self.witnesses.iter(), cp, note.text()).await {
            match r {
                Ok(sig) => {
                    let _ = note.add_signature(sig);
                }
                Err(e) => eprintln!("log: {e}"),
            }
        }
        let cosigned = match note.to_bytes().ok().and_then(|b| String::from_utf8(b).ok()) {
            Some(t) => t,
            None => return cp.signed.clone(),
        };
        if cosigned != cp.signed {
            // Published only once stored: a stale holder publishes nothing.
            let stored = self.journal.save_cosigned(cp.size, &cosigned, fence).await;
            let published = match stored {
                Ok(()) => self.tiles.put("checkpoint", cosigned.as_bytes(), Kind::Mutable).await,
                Err(e) => Err(e),
            };
            if let Err(e) = published {
                eprintln!("log: publishing the cosigned checkpoint: {e}");
            }
        }
        cosigned
    }
}

impl Inner {
    /// Sends `cp` (its note's text is `text`) to `witnesses` in parallel, each with the
    /// consistency proof it asks for; their verified cosignatures, or why not, in order.
    async fn submit(&self, witnesses: impl Iterator<Item = &WitnessClient>, cp: &StoredCheckpoint, text: &str) -> Vec<Result<NoteSignature>> {
        let tiles = &*self.tiles;
        let size = cp.size;
        let submissions = witnesses.map(|w| {
            let bytes = cp.signed.as_bytes();
            async move {
                w.submit(bytes, text, size, |old| async move { with_tiles(tiles, size, |r| consistency_proof(r, old, size)).await }).await
            }
        });
        futures_join_all(submissions).await
    }

    /// Whether `cp` lacks the cosignature of one of the witnesses.
    fn lacks_cosignatures(&self, cp: &StoredCheckpoint) -> Result<bool> {
        let note = Note::parse(cp.cosigned.as_bytes())?;
        Ok(self.witnesses.iter().any(|w| !w.has_cosigned(&note)))
    }
}

/// Polls futures concurrently and returns their outputs in order (a small `join_all`).
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().flatten().collect()
}
