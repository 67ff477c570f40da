//! The log service over real stores: SQLite + files (embedded) and PostgreSQL + files.

use std::sync::Arc;
use std::time::Duration;

use signet_ledger::proof::verify_consistency;
use signet_ledger::{CheckpointVerifier, SignatureType, SignerKey, TlogProof};
use signet_log::files::FileTiles;
use signet_log::sql::SqlJournal;
use signet_log::store::{Fence, Journal, TileStore};
use signet_log::{Log, LogConfig, LogError};

const ORIGIN: &str = "example.test/log";

fn key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7u8; 32]).unwrap()
}

fn config() -> LogConfig {
    let mut c = LogConfig::new(key());
    c.checkpoint_interval = Duration::from_millis(50);
    c
}

async fn open_sqlite(dir: &std::path::Path) -> Result<Log, LogError> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("log.db").display());
    let journal: Arc<dyn Journal> = Arc::new(SqlJournal::open(&url, "main", Some(dir.join("integrate.lock"))).await?);
    let tiles: Arc<dyn TileStore> = Arc::new(FileTiles::new(dir));
    Log::open(journal, tiles, config()).await
}

fn verifier() -> CheckpointVerifier {
    CheckpointVerifier::new(ORIGIN, key().verifier()).unwrap()
}

async fn append_concurrently(log: &Log, from: u32, n: u32) -> Vec<(u64, Vec<u8>)> {
    let mut tasks = Vec::new();
    for i in from..from + n {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let entry = format!("event {i}").into_bytes();
            (log.append(entry.clone()).await.unwrap(), entry)
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn check_log(log: &Log, appended: &[(u64, Vec<u8>)]) -> signet_ledger::OpenedCheckpoint {
    let cp = log.step(true).await.unwrap().or(log.checkpoint().await.unwrap()).unwrap();
    let opened = verifier().open(cp.cosigned.as_bytes()).unwrap();
    assert_eq!(opened.checkpoint.size as usize, appended.len());
    let mut indices: Vec<u64> = appended.iter().map(|(i, _)| *i).collect();
    indices.sort();
    indices.dedup();
    assert_eq!(indices.len(), appended.len(), "indices are unique");
    for (index, entry) in appended.iter().step_by(97) {
        let proof = log.proof(*index).await.unwrap();
        let bytes = proof.to_bytes();
        TlogProof::parse(&bytes).unwrap().verify(entry, &verifier()).unwrap();
        assert!(TlogProof::parse(&bytes).unwrap().verify(b"something else", &verifier()).is_err());
        assert_eq!(&log.entry(*index).await.unwrap(), entry);
    }
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_are_sequenced_integrated_signed_and_provable_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_sqlite(dir.path()).await.unwrap();
    let mut appended = append_concurrently(&log, 0, 3000).await;
    let first = check_log(&log, &appended).await;
    // Full tiles and bundles are plain files; the checkpoint too.
    assert!(dir.path().join("tile/0/000").is_file());
    assert!(dir.path().join("tile/entries/000").is_file());
    assert!(dir.path().join("checkpoint").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for published in ["checkpoint", "tile/0/000", "tile/entries/000"] {
            let mode = std::fs::metadata(dir.path().join(published)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "{published} is readable by a static file server");
        }
    }
    drop(log);

    let log = open_sqlite(dir.path()).await.unwrap();
    appended.extend(append_concurrently(&log, 3000, 1234).await);
    let start = log.append_all(&[b"a".as_slice(), b"b"]).await.unwrap();
    assert_eq!(start, 4234);
    appended.push((4234, b"a".to_vec()));
    appended.push((4235, b"b".to_vec()));
    let second = check_log(&log, &appended).await;
    // The new checkpoint is consistent with the first.
    let proof = {
        let tiles = FileTiles::new(dir.path());
        let size = second.checkpoint.size;
        signet_log::tree::with_tiles(&tiles, size, |r| {
            signet_ledger::proof::consistency_proof(r, first.checkpoint.size, size)
        })
        .await
        .unwrap()
    };
    verify_consistency(first.checkpoint.size, second.checkpoint.size, &first.checkpoint.root, &second.checkpoint.root, &proof).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_new_means_no_new_checkpoint_and_oversized_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_sqlite(dir.path()).await.unwrap();
    assert_eq!(log.step(true).await.unwrap().unwrap().size, 0, "an empty log publishes an empty checkpoint");
    assert!(log.step(true).await.unwrap().is_none(), "once");
    log.append(b"one".to_vec()).await.unwrap();
    assert_eq!(log.step(true).await.unwrap().unwrap().size, 1);
    assert!(log.step(true).await.unwrap().is_none(), "no growth, no checkpoint");
    assert!(matches!(log.append(vec![0; 65_536]).await, Err(LogError::EntryTooLarge(65_536))));
    log.append(vec![0; 65_535]).await.unwrap();
    assert!(matches!(log.proof(1).await, Err(LogError::NotYetCovered { index: 1, size: 1 })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_at_least_the_interval_apart() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_sqlite(dir.path()).await.unwrap();
    log.append(b"1".to_vec()).await.unwrap();
    let a = log.step(false).await.unwrap().unwrap();
    log.append(b"2".to_vec()).await.unwrap();
    // Without waiting, the second checkpoint is not due yet (or, on a slow machine, is).
    let b = match log.step(false).await.unwrap() {
        Some(b) => b,
        None => log.step(true).await.unwrap().unwrap(),
    };
    assert!(b.time_ms >= a.time_ms + 50, "{} then {}", a.time_ms, b.time_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewritten_history_under_a_signed_checkpoint_is_refused_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_sqlite(dir.path()).await.unwrap();
    append_concurrently(&log, 0, 600).await;
    log.step(true).await.unwrap().unwrap();
    drop(log);
    // Someone with access to the files rewrites the hash of the first 512 leaves (level-1 tile).
    let path = dir.path().join("tile/1/000.p/2");
    let mut data = std::fs::read(&path).unwrap();
    data[5] ^= 1;
    std::fs::write(&path, &data).unwrap();
    let err = open_sqlite(dir.path()).await.err().unwrap();
    assert!(matches!(err, LogError::Inconsistent(_)), "{err}");
    assert!(err.to_string().contains("will not sign"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_partial_tile_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_sqlite(dir.path()).await.unwrap();
    append_concurrently(&log, 0, 300).await;
    log.step(true).await.unwrap().unwrap();
    drop(log);
    let path = dir.path().join("tile/0/001.p/44");
    let mut data = std::fs::read(&path).unwrap();
    data[0] ^= 1;
    std::fs::write(&path, &data).unwrap();
    let err = open_sqlite(dir.path()).await.err().unwrap();
    assert!(matches!(err, LogError::Inconsistent(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_signer_cannot_overwrite_a_newer_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
    let journal = SqlJournal::open(&url, "main", Some(dir.path().join("l"))).await.unwrap();
    let cp = |size: u64| signet_log::store::StoredCheckpoint { size, signed: format!("cp {size}"), cosigned: String::new(), time_ms: 1 };
    let epoch = journal.acquire_lease("me", Duration::from_secs(10)).await.unwrap().unwrap();
    let fence = Fence { holder: "me".into(), epoch };
    journal.save_checkpoint(None, &cp(5), &fence).await.unwrap();
    assert!(matches!(journal.save_checkpoint(None, &cp(6), &fence).await, Err(LogError::Conflict(_))));
    journal.save_checkpoint(Some(5), &cp(7), &fence).await.unwrap();
    assert!(matches!(journal.save_checkpoint(Some(5), &cp(8), &fence).await, Err(LogError::Conflict(_))));
    assert_eq!(journal.state().await.unwrap().checkpoint.unwrap().size, 7);

    // Cosignatures gathered by any process (no lease) are stored for the checkpoint they
    // cosign only: not for an older one, nor for another text of the same size.
    assert!(!journal.store_cosignatures(5, "cp 5", "cp 5 cosigned").await.unwrap(), "an older checkpoint");
    assert!(!journal.store_cosignatures(7, "cp 7 forged", "cp 7 cosigned").await.unwrap(), "another text");
    assert_eq!(journal.state().await.unwrap().checkpoint.unwrap().cosigned, "", "nothing stored");
    assert!(journal.store_cosignatures(7, "cp 7", "cp 7 cosigned").await.unwrap());
    let stored = journal.state().await.unwrap().checkpoint.unwrap();
    assert_eq!((stored.size, stored.signed.as_str(), stored.cosigned.as_str()), (7, "cp 7", "cp 7 cosigned"));
}

/// On SQLite the lease is taken under the `flock`, unconditionally, but fences the same way:
/// once another holder took it, the old epoch writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lease_epochs_fence_the_sequencer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
    let journal = SqlJournal::open(&url, "main", Some(dir.path().join("l"))).await.unwrap();
    assert_eq!(journal.lease().await.unwrap(), None, "nobody held it yet");
    let a = Fence { holder: "a".into(), epoch: journal.acquire_lease("a", Duration::from_secs(10)).await.unwrap().unwrap() };
    assert_eq!(journal.acquire_lease("a", Duration::from_secs(10)).await.unwrap(), Some(a.epoch), "a renewal keeps the epoch");
    let cp = |size: u64| signet_log::store::StoredCheckpoint { size, signed: format!("cp {size}"), cosigned: String::new(), time_ms: 1 };
    journal.save_checkpoint(None, &cp(0), &a).await.unwrap();
    let b = Fence { holder: "b".into(), epoch: journal.acquire_lease("b", Duration::from_secs(10)).await.unwrap().unwrap() };
    assert_eq!(b.epoch, a.epoch + 1);
    let lease = journal.lease().await.unwrap().unwrap();
    assert_eq!((lease.holder.as_str(), lease.epoch), ("b", b.epoch));
    assert!(lease.remaining_ms > 8_000 && lease.remaining_ms <= 10_000, "{}", lease.remaining_ms);
    let before = journal.state().await.unwrap();
    assert!(matches!(journal.save_checkpoint(Some(0), &cp(1), &a).await, Err(LogError::LeaseLost { epoch, .. }) if epoch == a.epoch));
    assert!(matches!(journal.set_integrated(1, &a).await, Err(LogError::LeaseLost { .. })));
    assert!(matches!(journal.save_cosigned(0, "cosigned", &a).await, Err(LogError::LeaseLost { .. })));
    assert_eq!(journal.state().await.unwrap(), before, "a refused write changes nothing");
    // Releasing with a stale fence does nothing; the holder's release ends the lease now.
    journal.release_lease(&a).await.unwrap();
    assert!(journal.lease().await.unwrap().unwrap().remaining_ms > 0);
    journal.release_lease(&b).await.unwrap();
    assert!(journal.lease().await.unwrap().unwrap().remaining_ms <= 0);
    journal.save_checkpoint(Some(0), &cp(1), &b).await.unwrap();
}

/// An embedded log outside `run` takes the lease for a step and gives it up after it, so the
/// next process (a CLI command) does not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_step_gives_the_lease_up_and_run_keeps_it_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_sqlite(dir.path()).await.unwrap();
    log.append(b"x".to_vec()).await.unwrap();
    log.step(true).await.unwrap().unwrap();
    assert!(!log.is_sequencer(), "released after the step");
    let status = log.sequencer_status().await.unwrap();
    assert_eq!(status.lease.as_ref().unwrap().holder, log.holder());
    assert!(status.lease.unwrap().remaining_ms <= 0);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let log = log.clone();
        tokio::spawn(async move { log.run(async { let _ = stop_rx.await; }, |e| panic!("log: {e}")).await })
    };
    log.append(b"y".to_vec()).await.unwrap();
    wait_for(Duration::from_secs(10), || async { log.checkpoint().await.unwrap().is_some_and(|c| c.size == 2) }).await;
    assert!(log.is_sequencer());
    let status = log.sequencer_status().await.unwrap();
    assert!(status.is_sequencer && status.lease.unwrap().remaining_ms > 0);
    stop_tx.send(()).unwrap();
    runner.await.unwrap().unwrap();
    assert!(!log.is_sequencer(), "given up when stopped");
}

/// A stale holder may complete a tile and remove its partial versions while another process
/// loads the edge of a smaller tree: the load reads the full tile's prefix instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_loads_from_a_full_tile_when_its_partials_were_removed() {
    use signet_log::tree::TreeEdge;
    let dir = tempfile::tempdir().unwrap();
    let tiles = FileTiles::new(dir.path());
    let (mut small, mut objects) = (TreeEdge::new(), Vec::new());
    for i in 0..300u32 {
        small.push(&i.to_be_bytes(), &mut objects).unwrap();
    }
    small.partial_objects(&mut objects).unwrap();
    let mut large = small.clone();
    for i in 300..600u32 {
        large.push(&i.to_be_bytes(), &mut objects).unwrap();
    }
    for (path, data, kind) in &objects {
        tiles.put(path, data, *kind).await.unwrap();
    }
    // Tile 1 of level 0 (entries 256..512) is full now; its partials go.
    tiles.remove_partials("tile/0/001").await.unwrap();
    tiles.remove_partials("tile/entries/001").await.unwrap();
    assert!(tiles.get("tile/0/001.p/44").await.unwrap().is_none());
    let loaded = TreeEdge::load(&tiles, 300).await.unwrap();
    assert_eq!(loaded.root(), small.root());
    // The loaded edge continues like the original.
    let (mut a, mut b, mut out) = (loaded, small, Vec::new());
    a.push(b"next", &mut out).unwrap();
    b.push(b"next", &mut out).unwrap();
    assert_eq!(a.root(), b.root());
    // Without the full tile either, it is missing.
    std::fs::remove_file(dir.path().join("tile/0/001")).unwrap();
    let err = TreeEdge::load(&tiles, 300).await.unwrap_err();
    assert!(matches!(err, LogError::Inconsistent(_)) && err.to_string().contains("missing"), "{err}");
}

async fn wait_for<F: std::future::Future<Output = bool>>(limit: Duration, mut cond: impl FnMut() -> F) -> Duration {
    let t = std::time::Instant::now();
    while !cond().await {
        assert!(t.elapsed() < limit, "condition not met within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t.elapsed()
}

/// The same service over PostgreSQL (the server CI starts on 127.0.0.1:5432).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_journal_sequences_and_signs() {
    let url = std::env::var("SIGNET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let dir = tempfile::tempdir().unwrap();
    let name = format!("test-{}-{}", std::process::id(), dir.path().file_name().unwrap().to_string_lossy());
    let journal: Arc<dyn Journal> = Arc::new(SqlJournal::open(&url, &name, None).await.expect("PostgreSQL on 127.0.0.1:5432"));
    let tiles: Arc<dyn TileStore> = Arc::new(FileTiles::new(dir.path()));
    let log = Log::open(journal.clone(), tiles.clone(), config()).await.unwrap();
    let appended = append_concurrently(&log, 0, 700).await;
    check_log(&log, &appended).await;
    // A second service on the same journal (another server) takes the sequencer lease (the
    // first gave it up after its step) and continues.
    let other = Log::open(journal, tiles, config()).await.unwrap();
    let more = other.append(b"from the other server".to_vec()).await.unwrap();
    assert_eq!(more, 700);
    let cp = other.step(true).await.unwrap().unwrap();
    assert_eq!(cp.size, 701);
    let proof = other.proof(700).await.unwrap();
    proof.verify(b"from the other server", &verifier()).unwrap();
}

/// PostgreSQL journal + tiles in an S3-compatible bucket (the `moto_server` CI starts; its
/// endpoint in `SIGNET_TEST_S3_ENDPOINT`, default `http://127.0.0.1:5000`; set to the empty
/// string, the test is skipped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_s3_store_a_log_and_full_tiles_cannot_be_overwritten() {
    use signet_log::s3::S3Tiles;
    use signet_log::store::Kind;
    let db = std::env::var("SIGNET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let endpoint = std::env::var("SIGNET_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".into());
    if endpoint.trim().is_empty() {
        println!("note: SIGNET_TEST_S3_ENDPOINT is empty, so the PostgreSQL + S3 log test is skipped");
        return;
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let bucket = format!("signet-test-{}-{nanos}", std::process::id());
    let created = ureq::put(&format!("{endpoint}/{bucket}")).send_empty();
    assert!(
        created.is_ok(),
        "creating bucket {bucket} at {endpoint} (is moto_server running? .ci/run starts it; SIGNET_TEST_S3_ENDPOINT names another endpoint, or skips this test when empty): {created:?}"
    );
    let url = format!("s3://{bucket}/logs/main?endpoint={endpoint}&region=us-east-1&path_style=true");
    let creds = Some(("test".to_string(), "test".to_string()));
    let tiles: Arc<dyn TileStore> = Arc::new(S3Tiles::with_credentials(&url, creds.clone()).unwrap());
    let journal: Arc<dyn Journal> = Arc::new(SqlJournal::open(&db, &bucket, None).await.unwrap());
    let log = Log::open(journal.clone(), tiles.clone(), config()).await.unwrap();
    let appended = append_concurrently(&log, 0, 600).await;
    check_log(&log, &appended).await;
    drop(log);
    // A restarted server finds the edge in the bucket and continues.
    let log = Log::open(journal, tiles.clone(), config()).await.unwrap();
    let i = log.append(b"after restart".to_vec()).await.unwrap();
    assert_eq!(i, 600);
    log.step(true).await.unwrap().unwrap();
    log.proof(600).await.unwrap().verify(b"after restart", &verifier()).unwrap();
    // Full tiles are created once: the same bytes again are fine, other bytes are refused.
    let full = tiles.get("tile/0/000").await.unwrap().unwrap();
    tiles.put("tile/0/000", &full, Kind::Immutable).await.unwrap();
    let mut other = full.clone();
    other[0] ^= 1;
    let err = tiles.put("tile/0/000", &other, Kind::Immutable).await.unwrap_err();
    assert!(matches!(err, LogError::Inconsistent(_)), "{err}");
    assert_eq!(tiles.get("tile/0/000").await.unwrap().unwrap(), full, "the stored tile is untouched");
    // Under the prefix, at the tlog-tiles path.
    let raw = S3Tiles::with_credentials(&format!("s3://{bucket}?endpoint={endpoint}&path_style=true"), creds).unwrap();
    assert!(raw.get("logs/main/checkpoint").await.unwrap().is_some());
    assert!(raw.get("checkpoint").await.unwrap().is_none());
}

// ---------------------------------------------------------------------------------------------
// Several servers on one journal: the sequencer lease (PostgreSQL).

fn database_url() -> String {
    std::env::var("SIGNET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A log name (and bucket name) no other test or run uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Tiles every server of a test sees: a fresh bucket at the S3 test endpoint if one answers,
/// else a directory they share.
fn shared_tiles(name: &str) -> (Arc<dyn TileStore>, Option<tempfile::TempDir>) {
    let endpoint = std::env::var("SIGNET_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".into());
    if !endpoint.trim().is_empty() && ureq::put(&format!("{endpoint}/{name}")).send_empty().is_ok() {
        let url = format!("s3://{name}/log?endpoint={endpoint}&region=us-east-1&path_style=true");
        let tiles = signet_log::s3::S3Tiles::with_credentials(&url, Some(("test".into(), "test".into()))).unwrap();
        return (Arc::new(tiles), None);
    }
    println!("note: no S3 endpoint answers at {endpoint:?}; the servers share a tile directory");
    let dir = tempfile::tempdir().unwrap();
    (Arc::new(FileTiles::new(dir.path())), Some(dir))
}

/// One "server": its own journal connection pool and `Log`, running until stopped.
struct Server {
    log: Log,
    journal: Arc<SqlJournal>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), LogError>>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    async fn start(db: &str, name: &str, tiles: &Arc<dyn TileStore>, holder: &str, lease: Duration) -> Server {
        let journal = Arc::new(SqlJournal::open(db, name, None).await.expect("PostgreSQL on 127.0.0.1:5432"));
        let mut config = config();
        config.holder = holder.to_string();
        config.lease_duration = lease;
        let log = Log::open(journal.clone(), tiles.clone(), config).await.unwrap();
        let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = {
            let (log, errors) = (log.clone(), errors.clone());
            tokio::spawn(async move {
                log.run(async { let _ = stop_rx.await; }, move |e| errors.lock().unwrap().push(e.to_string())).await
            })
        };
        Server { log, journal, stop: Some(stop), task, errors }
    }

    /// Stops `run` as a server shutting down does (the lease is given up).
    async fn stop(&mut self) -> Vec<String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
        self.errors.lock().unwrap().clone()
    }

    fn errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }
}

/// Checks that every checkpoint in `seen` (in the order they were stored) is signed by the log
/// and that each later tree contains the earlier one, by consistency proofs over the tiles.
async fn check_consistent_sequence(tiles: &dyn TileStore, seen: &[String]) {
    let opened: Vec<_> = seen.iter().map(|s| verifier().open(s.as_bytes()).unwrap().checkpoint).collect();
    for pair in opened.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        assert!(old.size <= new.size, "checkpoint sizes went back from {} to {}", old.size, new.size);
        if old.size == new.size {
            assert_eq!(old.root, new.root, "two checkpoints of size {} with different roots", old.size);
            continue;
        }
        let proof = signet_log::tree::with_tiles(tiles, new.size, |r| signet_ledger::proof::consistency_proof(r, old.size, new.size))
            .await
            .unwrap();
        verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
            .unwrap_or_else(|e| panic!("checkpoint {} is not consistent with {}: {e}", new.size, old.size));
    }
}

/// Two servers (holders A and B) on one journal and one tile store: both append concurrently,
/// only one is the sequencer at any moment, every checkpoint stored is consistent with the one
/// before, and every entry ends up integrated — also after the sequencer shuts down and the
/// other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_journal_with_one_sequencer_and_consistent_checkpoints() {
    let db = database_url();
    let name = unique("signet-pair");
    let (tiles, _dir) = shared_tiles(&name);
    let mut a = Server::start(&db, &name, &tiles, "A", Duration::from_secs(2)).await;
    let mut b = Server::start(&db, &name, &tiles, "B", Duration::from_secs(2)).await;

    // A watcher records every checkpoint stored and whether both ever claim to sequence.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let observer = SqlJournal::open(&db, &name, None).await.unwrap();
        let (la, lb, done) = (a.log.clone(), b.log.clone(), done.clone());
        tokio::spawn(async move {
            let (mut seen, mut both, mut holders) = (Vec::<String>::new(), 0u32, std::collections::BTreeSet::new());
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(cp) = observer.state().await.unwrap().checkpoint
                    && seen.last() != Some(&cp.signed)
                {
                    seen.push(cp.signed);
                }
                if let Some(lease) = observer.lease().await.unwrap() {
                    holders.insert(lease.holder);
                }
                if la.is_sequencer() && lb.is_sequencer() {
                    both += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (seen, both, holders)
        })
    };

    let (from_a, from_b) = tokio::join!(append_concurrently(&a.log, 0, 400), append_concurrently(&b.log, 10_000, 400));
    // A checkpoint covers the first appends before the sequencer changes (so at least two are
    // signed, whatever the machine's speed).
    let first = (from_a.len() + from_b.len()) as u64;
    wait_for(Duration::from_secs(20), || async { a.log.checkpoint().await.unwrap().is_some_and(|c| c.size >= first) }).await;
    let first_signed = a.log.checkpoint().await.unwrap().expect("a checkpoint").signed;
    // A shuts down (giving the lease up); its process still appends; B takes over.
    let errors_a = a.stop().await;
    let (more_a, more_b) = tokio::join!(append_concurrently(&a.log, 20_000, 200), append_concurrently(&b.log, 30_000, 200));
    let mut appended: Vec<(u64, Vec<u8>)> = [from_a, from_b, more_a, more_b].concat();
    appended.sort();
    let total = appended.len() as u64;
    assert!(appended.iter().enumerate().all(|(i, (index, _))| *index == i as u64), "indices 0..{total}, each once");
    let took = wait_for(Duration::from_secs(20), || async { b.log.checkpoint().await.unwrap().is_some_and(|c| c.size == total) }).await;
    println!("all {total} entries signed {took:?} after the last append");
    assert!(b.log.is_sequencer() && !a.log.is_sequencer());
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let last_signed = b.log.checkpoint().await.unwrap().expect("the last checkpoint").signed;
    let (mut seen, both, holders) = watcher.await.unwrap();
    // A watcher slowed down by a loaded machine may miss checkpoints: the two read here (one
    // before the sequencer changed, the last one after) were certainly signed, so they are
    // counted in, in their place by size.
    for cp in [first_signed, last_signed] {
        if !seen.contains(&cp) {
            let size = |cp: &String| verifier().open(cp.as_bytes()).unwrap().checkpoint.size;
            let at = seen.iter().position(|s| size(s) > size(&cp)).unwrap_or(seen.len());
            seen.insert(at, cp);
        }
    }
    let errors_b = b.stop().await;
    assert!(errors_a.is_empty() && errors_b.is_empty(), "A: {errors_a:?}, B: {errors_b:?}");
    assert_eq!(both, 0, "A and B never both held the lease");
    assert!(holders.contains("B"), "B held the lease at some point: {holders:?}");
    assert!(seen.len() >= 2, "several checkpoints were signed: {}", seen.len());
    check_consistent_sequence(&*tiles, &seen).await;
    // Every entry is in the final tree, with a proof from either server.
    let reader = Log::open(b.journal.clone(), tiles.clone(), config()).await.unwrap();
    for (index, entry) in appended.iter().step_by(61) {
        reader.proof(*index).await.unwrap().verify(entry, &verifier()).unwrap();
        assert_eq!(&reader.entry(*index).await.unwrap(), entry);
    }
}

/// A sequencer that hangs (stops renewing without giving the lease up) is replaced within 15
/// seconds with the default lease; when it wakes up, its old epoch writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_sequencer_is_replaced_within_15_s_and_its_old_epoch_writes_nothing() {
    let db = database_url();
    let name = unique("signet-takeover");
    let (tiles, _dir) = shared_tiles(&name);
    let lease = signet_log::log::DEFAULT_LEASE_DURATION;
    let a = Server::start(&db, &name, &tiles, "A", lease).await;
    wait_for(Duration::from_secs(5), || async { a.log.is_sequencer() }).await;
    let mut b = Server::start(&db, &name, &tiles, "B", lease).await;
    let first = append_concurrently(&b.log, 0, 100).await;
    wait_for(Duration::from_secs(5), || async { b.log.checkpoint().await.unwrap().is_some_and(|c| c.size == 100) }).await;
    assert!(!b.log.is_sequencer(), "A signs while it holds the lease");
    let before = b.log.sequencer_status().await.unwrap().lease.unwrap();
    assert_eq!(before.holder, "A");

    // A hangs: its loop neither renews nor releases.
    let stale = a.log.fence().unwrap();
    a.task.abort();
    let hung_at = std::time::Instant::now();
    let second = append_concurrently(&b.log, 100, 50).await;
    let took = wait_for(Duration::from_secs(15), || async {
        b.log.is_sequencer() && b.log.checkpoint().await.unwrap().is_some_and(|c| c.size == 150)
    })
    .await;
    println!("B took over and signed {:?} after A hung", hung_at.elapsed());
    assert!(took >= Duration::from_secs(5), "the lease of a holder that renewed 2 s ago at most was respected ({took:?})");
    let after = b.log.sequencer_status().await.unwrap().lease.unwrap();
    assert_eq!(after.holder, "B");
    assert!(after.epoch > stale.epoch, "the takeover is a new epoch: {} then {}", stale.epoch, after.epoch);
    assert!(b.errors().is_empty(), "{:?}", b.errors());

    // A wakes up and carries on with what it had: every sequencer write is refused.
    let state = a.journal.state().await.unwrap();
    let cp = state.checkpoint.clone().unwrap();
    let forged = signet_log::store::StoredCheckpoint { size: cp.size + 1, signed: "forged".into(), cosigned: "forged".into(), time_ms: 1 };
    let lost = |r: Result<(), LogError>| matches!(r, Err(LogError::LeaseLost { ref holder, epoch }) if holder == "A" && epoch == stale.epoch);
    assert!(lost(a.journal.save_checkpoint(Some(cp.size), &forged, &stale).await));
    assert!(lost(a.journal.set_integrated(state.next_index + 7, &stale).await));
    assert!(lost(a.journal.save_cosigned(cp.size, "forged", &stale).await));
    let err = a.journal.save_checkpoint(Some(cp.size), &forged, &stale).await.unwrap_err();
    assert!(err.to_string().contains("no longer holds the log's sequencer lease"), "{err}");
    assert_eq!(a.journal.state().await.unwrap(), state, "nothing stored changed");
    assert_eq!(tiles.get("checkpoint").await.unwrap().unwrap(), cp.cosigned.as_bytes(), "nothing published");
    // Its `Log` knows it is no longer the sequencer and does not wait for the lease.
    assert!(!a.log.is_sequencer());
    let t = std::time::Instant::now();
    assert!(a.log.step(false).await.unwrap().is_none());
    assert!(t.elapsed() < Duration::from_secs(1), "a step without the lease returns at once: {:?}", t.elapsed());
    // Appends from A still work, and B integrates them.
    let third = append_concurrently(&a.log, 150, 10).await;
    wait_for(Duration::from_secs(5), || async { b.log.checkpoint().await.unwrap().is_some_and(|c| c.size == 160) }).await;
    let seen = [cp.signed, b.log.checkpoint().await.unwrap().unwrap().signed];
    check_consistent_sequence(&*tiles, &seen).await;
    for (index, entry) in first.iter().chain(&second).chain(&third).step_by(13) {
        b.log.proof(*index).await.unwrap().verify(entry, &verifier()).unwrap();
    }
    assert!(b.stop().await.is_empty());
}

/// A TCP proxy in front of PostgreSQL that can be taken down (every connection cut, the port
/// closed) and brought back on the same port: a database restart as servers see it.
struct Proxy {
    port: u16,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy { port: listener.local_addr().unwrap().port(), tasks: Arc::default() };
        proxy.serve(listener, target);
        proxy
    }

    fn serve(&self, listener: tokio::net::TcpListener, target: std::net::SocketAddr) {
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Cuts every connection and closes the port.
    fn down(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same port.
    async fn up(&self, target: std::net::SocketAddr) {
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.serve(listener, target);
    }
}

/// The database goes away under a running sequencer and comes back: `run` reports the errors,
/// keeps running, and integrates and signs again once the database answers, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_survives_a_database_restart_and_recovers_without_a_restart() {
    let db = database_url();
    let rest = db.split_once("://").map(|(_, r)| r).unwrap_or(&db);
    let (auth, hostpath) = rest.rsplit_once('@').map(|(a, h)| (format!("{a}@"), h)).unwrap_or((String::new(), rest));
    let (hostport, path) = hostpath.split_once('/').unwrap_or((hostpath, "test"));
    let target: std::net::SocketAddr = tokio::net::lookup_host(if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:5432") })
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(target).await;
    let proxied = format!("postgres://{auth}127.0.0.1:{}/{path}", proxy.port);
    let name = unique("signet-restart");
    let (tiles, _dir) = shared_tiles(&name);
    let mut server = Server::start(&proxied, &name, &tiles, "A", Duration::from_secs(2)).await;
    append_concurrently(&server.log, 0, 50).await;
    wait_for(Duration::from_secs(10), || async { server.log.checkpoint().await.unwrap().is_some_and(|c| c.size == 50) }).await;
    let epoch = server.log.fence().unwrap().epoch;

    proxy.down();
    let down_for = wait_for(Duration::from_secs(45), || async { !server.errors().is_empty() }).await;
    println!("first error reported {down_for:?} into the outage: {:?}", server.errors());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!server.task.is_finished(), "run keeps going while the database is away");
    proxy.up(target).await;

    // Appends work again (the first may still meet a connection cut by the outage).
    let mut appended = 50;
    for attempt in 0.. {
        match server.log.append_all(&[b"after".as_slice(), b"the restart"]).await {
            Ok(start) => {
                assert_eq!(start, 50);
                appended += 2;
                break;
            }
            Err(e) => assert!(attempt < 3, "appends fail after the database is back: {e}"),
        }
    }
    let took = wait_for(Duration::from_secs(45), || async {
        server.log.checkpoint().await.is_ok_and(|c| c.is_some_and(|c| c.size == appended))
    })
    .await;
    println!("signed again {took:?} after the database came back");
    assert!(server.log.is_sequencer());
    assert!(server.log.fence().unwrap().epoch > epoch, "the lease lapsed during the outage and was taken again");
    server.log.proof(51).await.unwrap().verify(b"the restart", &verifier()).unwrap();
    let errors = server.stop().await;
    assert!(errors.iter().all(|e| !e.contains("refusing to continue")), "{errors:?}");
}
