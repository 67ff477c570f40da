//! [`Log`]: the evidence log service.
//!
//! Appends go through a sequencer task that gathers every append waiting at that moment into
//! one journal batch (group commit): one durable write acknowledges them all. Integration
//! folds committed batches into tiles (under a lock, so one process at a time does it), syncs
//! them, and only then marks them integrated. Signing happens at most once per
//! [`LogConfig::checkpoint_interval`] when the tree grew, and only after checking — against the
//! stored tiles — that the new tree contains the last signed checkpoint; the new checkpoint is
//! stored in the journal before it is published or sent to witnesses.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signet_ledger::note::Note;
use signet_ledger::proof::{consistency_proof, inclusion_proof, tree_root};
use signet_ledger::tile::push_bundle_entry;
use signet_ledger::{Checkpoint, SignerKey, TlogProof, VerifierKey};
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use crate::store::{Journal, Kind, StoredCheckpoint, TileStore};
use crate::tree::{Object, TreeEdge, split_framed, with_tiles};
use crate::witness_client::WitnessClient;
use crate::{LogError, Result};

/// Entries gathered into one group commit at most.
const MAX_BATCH_ENTRIES: usize = 65_536;
/// Bytes gathered into one group commit at most.
const MAX_BATCH_BYTES: usize = 32 << 20;
/// Entries folded into tiles per journal read.
const INTEGRATE_CHUNK: u64 = 262_144;

/// How a log runs.
pub struct LogConfig {
    /// The log's signing key; its name is the log's origin.
    pub key: SignerKey,
    /// Witnesses to send checkpoints to.
    pub witnesses: Vec<(String, VerifierKey)>,
    /// Least time between two checkpoints.
    pub checkpoint_interval: Duration,
}

impl LogConfig {
    /// A log signing with `key`, no witnesses, a checkpoint at most every second.
    pub fn new(key: SignerKey) -> Self {
        LogConfig { key, witnesses: Vec::new(), checkpoint_interval: Duration::from_secs(1) }
    }
}

struct Pending {
    entry: Vec<u8>,
    reply: oneshot::Sender<Result<u64>>,
}

struct Inner {
    journal: Arc<dyn Journal>,
    tiles: Arc<dyn TileStore>,
    key: SignerKey,
    interval: Duration,
    witnesses: Vec<WitnessClient>,
    /// The tree's right edge as of the last integration by this process.
    edge: Mutex<TreeEdge>,
    /// Woken when a batch is committed.
    committed: Notify,
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
        });
        {
            let _lock = inner.journal.lock_integration().await?;
            let state = inner.journal.state().await?;
            let edge = TreeEdge::load(&*inner.tiles, state.integrated).await?;
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

    /// Folds committed entries into tiles; returns the integrated size.
    pub async fn integrate(&self) -> Result<u64> {
        let _lock = self.inner.journal.lock_integration().await?;
        self.inner.integrate_locked().await
    }

    /// Integrates, then signs and publishes a checkpoint if the tree grew and the interval has
    /// passed since the last one (waiting out the rest of it when `wait` is set), then gathers
    /// witness cosignatures. Returns the checkpoint signed, if any.
    pub async fn step(&self, wait: bool) -> Result<Option<StoredCheckpoint>> {
        let signed = {
            let _lock = self.inner.journal.lock_integration().await?;
            let size = self.inner.integrate_locked().await?;
            let state = self.inner.journal.state().await?;
            let last = state.checkpoint;
            if last.as_ref().is_some_and(|cp| cp.size == size) {
                None
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
                Some(self.inner.sign_locked(last.as_ref()).await?)
            }
        };
        let Some(cp) = signed else { return Ok(None) };
        let cosigned = self.inner.gather_cosignatures(&cp).await;
        Ok(Some(StoredCheckpoint { cosigned, ..cp }))
    }

    /// Runs integration and signing until `stop` resolves: after each commit, and at least
    /// every 250 ms (to pick up appends by other processes). Errors are reported to `on_error`
    /// and retried; an inconsistency stops the loop.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>, on_error: impl Fn(&LogError)) -> Result<()> {
        tokio::pin!(stop);
        // A checkpoint signed while no server ran (by `signet log append`) has not been seen
        // by the witnesses yet.
        if !self.inner.witnesses.is_empty() {
            if let Some(cp) = self.checkpoint().await? {
                let have = Note::parse(cp.cosigned.as_bytes()).map(|n| n.signatures().len()).unwrap_or(0);
                if have < 1 + self.inner.witnesses.len() {
                    self.inner.gather_cosignatures(&cp).await;
                }
            }
        }
        loop {
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = self.inner.committed.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            match self.step(false).await {
                Ok(_) => {}
                Err(e @ LogError::Inconsistent(_)) => {
                    on_error(&e);
                    return Err(e);
                }
                Err(e) => on_error(&e),
            }
        }
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
    /// Folds everything committed into tiles. The caller holds the integration lock.
    async fn integrate_locked(&self) -> Result<u64> {
        let mut edge = self.edge.lock().await;
        let state = self.journal.state().await?;
        if edge.size() != state.integrated {
            // Another process integrated since: pick up its edge.
            *edge = TreeEdge::load(&*self.tiles, state.integrated).await?;
        }
        while edge.size() < state.next_index {
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
                for (i, entry) in entries.iter().enumerate() {
                    let index = start + i as u64;
                    if index < work.size() || index >= to {
                        continue;
                    }
                    if index != work.size() {
                        return Err(LogError::Inconsistent(format!("journal gap: expected entry {}, found {index}", work.size())));
                    }
                    work.push(entry, &mut objects)?;
                }
            }
            if work.size() != to {
                return Err(LogError::Inconsistent(format!("journal holds entries up to {}, expected {to}", work.size())));
            }
            work.partial_objects(&mut objects)?;
            for (path, data, kind) in &objects {
                self.tiles.put(path, data, *kind).await?;
            }
            self.tiles.sync().await?;
            self.journal.set_integrated(to).await?;
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
    /// before publishing it. The caller holds the integration lock.
    async fn sign_locked(&self, last: Option<&StoredCheckpoint>) -> Result<StoredCheckpoint> {
        let edge = self.edge.lock().await.clone();
        if let Some(cp) = last {
            self.check_contains(&edge, cp).await?;
        }
        let cp = Checkpoint::new(self.key.name(), edge.size(), edge.root())?;
        let mut note = cp.to_note()?;
        note.sign(&self.key)?;
        let text = String::from_utf8(note.to_bytes()?).map_err(|_| LogError::Inconsistent("note is not UTF-8".into()))?;
        let stored = StoredCheckpoint { size: edge.size(), signed: text.clone(), cosigned: text.clone(), time_ms: now_ms() };
        self.journal.save_checkpoint(last.map(|c| c.size), &stored).await?;
        self.tiles.put("checkpoint", text.as_bytes(), Kind::Mutable).await?;
        Ok(stored)
    }

    /// Sends the checkpoint to every witness in parallel and publishes it with the
    /// cosignatures that came back. Witness failures are reported on stderr and do not stop
    /// the log.
    async fn gather_cosignatures(&self, cp: &StoredCheckpoint) -> String {
        if self.witnesses.is_empty() {
            return cp.signed.clone();
        }
        let Ok(mut note) = Note::parse(cp.signed.as_bytes()) else { return cp.signed.clone() };
        let text = note.text().to_owned();
        let tiles = &*self.tiles;
        let size = cp.size;
        let submissions = self.witnesses.iter().map(|w| {
            let text = &text;
            let bytes = cp.signed.as_bytes();
            async move {
                w.submit(bytes, text, size, |old| async move {
                    with_tiles(tiles, size, |r| consistency_proof(r, old, size)).await
                })
                .await
            }
        });
        let results = futures_join_all(submissions).await;
        for r in results {
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
            let stored = self.journal.save_cosigned(cp.size, &cosigned).await;
            let published = self.tiles.put("checkpoint", cosigned.as_bytes(), Kind::Mutable).await;
            if let Err(e) = stored.and(published) {
                eprintln!("log: publishing the cosigned checkpoint: {e}");
            }
        }
        cosigned
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
