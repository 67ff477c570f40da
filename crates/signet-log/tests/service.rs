//! The log service over real stores: SQLite + files (embedded) and PostgreSQL + files.

use std::sync::Arc;
use std::time::Duration;

use signet_ledger::proof::verify_consistency;
use signet_ledger::{CheckpointVerifier, SignatureType, SignerKey, TlogProof};
use signet_log::files::FileTiles;
use signet_log::sql::SqlJournal;
use signet_log::store::{Journal, TileStore};
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
    journal.save_checkpoint(None, &cp(5)).await.unwrap();
    assert!(matches!(journal.save_checkpoint(None, &cp(6)).await, Err(LogError::Conflict(_))));
    journal.save_checkpoint(Some(5), &cp(7)).await.unwrap();
    assert!(matches!(journal.save_checkpoint(Some(5), &cp(8)).await, Err(LogError::Conflict(_))));
    assert_eq!(journal.state().await.unwrap().checkpoint.unwrap().size, 7);
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
    // A second service on the same journal (another server) waits for the lock and continues.
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
