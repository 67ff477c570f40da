//! `signet log init|key|append|proof|serve`: the evidence ledger.
//!
//! A log directory holds the log's signing key (`log.key`, mode 0600; or `log.key.sealed`,
//! sealed by the master key, in a `signet serve` data directory) and verifier key
//! (`log.vkey`), its tiles, entry bundles and `checkpoint` as plain files at their
//! `tlog-tiles` paths, and — on the embedded store — its journal `log.db` (SQLite). With
//! `--database-url postgres://…` at `init`, the journal lives in PostgreSQL instead; the URL is
//! remembered in `log.json`. `serve.lock` tells other commands that a server sequences the log:
//! `append` then leaves integration and signing to it.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use signet_ledger::{SignatureType, SignerKey};
use signet_log::files::{FileTiles, try_lock_exclusive, try_lock_shared};
use signet_log::sql::SqlJournal;
use signet_log::store::{Journal, TileStore};
use signet_log::{Log, LogConfig};

use crate::keyarg::read_vkey;

#[derive(Args)]
pub struct InitArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// The log's origin (its name in checkpoints and its key name), e.g. `example.org/log`.
    #[arg(long)]
    pub origin: String,
    /// Keep the journal in this database instead of `DIR/log.db` (e.g. `postgres://…`).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Keep tiles, bundles and the checkpoint in an S3-compatible bucket instead of files under
    /// DIR: `s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=REGION&path_style=true`
    /// (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or their `_FILE` forms).
    #[arg(long)]
    pub blob_url: Option<String>,
}

#[derive(Args)]
pub struct DirArgs {
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct AppendArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// Append the whole input (any bytes) as one entry instead of one entry per line.
    #[arg(long)]
    pub whole: bool,
    /// Input file, or `-` (the default) for standard input.
    #[arg(default_value = "-")]
    pub file: String,
}

#[derive(Args)]
pub struct ProofArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long)]
    pub index: u64,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8788")]
    pub addr: String,
    /// A witness's base URL (repeatable); checkpoints are sent to URL/add-checkpoint.
    #[arg(long = "witness-url", value_name = "URL")]
    pub witness_url: Vec<String>,
    /// The verifier key of the witness at the same position in --witness-url (repeatable).
    #[arg(long = "witness-key", value_name = "VKEY|FILE")]
    pub witness_key: Vec<String>,
}


#[derive(Args)]
pub struct LoadArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// Number of entries to append.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// Number of concurrent appenders.
    #[arg(long, default_value_t = 1024)]
    pub concurrency: usize,
    /// Size of each entry in bytes (at least the label's length).
    #[arg(long, default_value_t = 64)]
    pub entry_size: usize,
    /// Print `INDEX<TAB>ENTRY` for every acknowledged append, as soon as it is acknowledged.
    #[arg(long)]
    pub acks: bool,
    /// Integrate and sign checkpoints during the load, as a server does.
    #[arg(long)]
    pub sign: bool,
    /// After the load, time this many inclusion proofs of random entries.
    #[arg(long, default_value_t = 0)]
    pub proofs: u64,
}

const KEY_FILE: &str = "log.key";
const SEALED_KEY_FILE: &str = "log.key.sealed";
pub(crate) const KEY_CONTEXT: &[u8] = b"signet-log/key";

/// Whether `dir` holds a log (its key, plain or sealed).
pub fn exists(dir: &Path) -> bool {
    dir.join(KEY_FILE).exists() || dir.join(SEALED_KEY_FILE).exists()
}
const VKEY_FILE: &str = "log.vkey";
const SETTINGS_FILE: &str = "log.json";

fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(f)
}

/// A setting remembered in `DIR/log.json` at `init`.
fn setting(dir: &Path, name: &str) -> anyhow::Result<Option<String>> {
    let settings = dir.join(SETTINGS_FILE);
    let Ok(text) = std::fs::read_to_string(&settings) else { return Ok(None) };
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", settings.display()))?;
    Ok(v.get(name).and_then(|u| u.as_str()).map(str::to_owned))
}

fn database_url(dir: &Path) -> anyhow::Result<String> {
    if let Some(url) = setting(dir, "database_url")? {
        return Ok(url);
    }
    let abs = std::path::absolute(dir.join("log.db")).context("resolving the log directory")?;
    Ok(format!("sqlite://{}?mode=rwc", abs.display()))
}

fn read_key(dir: &Path) -> anyhow::Result<SignerKey> {
    read_key_with(dir, None)
}

/// The log's signing key: sealed by the master key when `keyring` is given (a plain key file
/// found then is sealed and removed), else from the plain file.
fn read_key_with(dir: &Path, keyring: Option<&signet_vault::Keyring>) -> anyhow::Result<SignerKey> {
    let sealed = dir.join(SEALED_KEY_FILE);
    if sealed.exists() {
        let Some(keyring) = keyring else {
            bail!("{} is sealed by a Signet platform's master key; only `signet serve` (with that data directory) signs this log", sealed.display());
        };
        let bytes = std::fs::read(&sealed).with_context(|| format!("reading {}", sealed.display()))?;
        let text = keyring.open_secret(&bytes, KEY_CONTEXT).with_context(|| format!("opening {} with the master key", sealed.display()))?;
        let text = std::str::from_utf8(&text).map_err(|_| anyhow::anyhow!("{} does not hold a log signing key", sealed.display()))?;
        return SignerKey::parse(text.trim()).with_context(|| format!("{} does not hold a log signing key", sealed.display()));
    }
    let key = read_plain_key(dir)?;
    if let Some(keyring) = keyring {
        seal_key(dir, keyring, &key)?;
        std::fs::remove_file(dir.join(KEY_FILE)).with_context(|| format!("removing {}", dir.join(KEY_FILE).display()))?;
    }
    Ok(key)
}

/// Seals the log's key file with the master key if it is in the clear (and removes the plain
/// file); a sealed key is only checked to open.
pub fn seal_key_file(dir: &Path, keyring: &signet_vault::Keyring) -> anyhow::Result<()> {
    read_key_with(dir, Some(keyring)).map(drop)
}

fn seal_key(dir: &Path, keyring: &signet_vault::Keyring, key: &SignerKey) -> anyhow::Result<()> {
    let text = signet_vault::Zeroizing::new(key.to_private_string());
    let sealed = keyring.seal_secret(text.as_bytes(), KEY_CONTEXT)?;
    crate::ca::write_secret(&dir.join(SEALED_KEY_FILE), &sealed)
}

fn read_plain_key(dir: &Path) -> anyhow::Result<SignerKey> {
    let path = dir.join(KEY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{} holds no log; create one with `signet log init --dir {} --origin ORIGIN`", dir.display(), dir.display())
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    SignerKey::parse(text.trim()).with_context(|| format!("{} is not a log signing key", path.display()))
}

pub async fn open(dir: &Path, witnesses: Vec<(String, signet_ledger::VerifierKey)>) -> anyhow::Result<Log> {
    open_with(dir, witnesses, None).await
}

/// [`open`], the key sealed by the master key (see [`read_key_with`]).
pub async fn open_with(dir: &Path, witnesses: Vec<(String, signet_ledger::VerifierKey)>, keyring: Option<&signet_vault::Keyring>) -> anyhow::Result<Log> {
    let journal_url = database_url(dir)?;
    let tiles_url = setting(dir, "blob_url")?;
    open_on(dir, &journal_url, tiles_url.as_deref(), witnesses, signet_log::Witnessing::Sequencer, keyring).await
}

/// Opens the log whose key is in `dir` on the journal at `journal_url` (SQLite or
/// PostgreSQL) and the tiles in the bucket `tiles_url` (or under `dir` when `None`).
pub async fn open_on(
    dir: &Path,
    journal_url: &str,
    tiles_url: Option<&str>,
    witnesses: Vec<(String, signet_ledger::VerifierKey)>,
    witnessing: signet_log::Witnessing,
    keyring: Option<&signet_vault::Keyring>,
) -> anyhow::Result<Log> {
    let key = read_key_with(dir, keyring)?;
    open_signing_with(dir, journal_url, tiles_url, witnesses, witnessing, key).await
}

/// [`open_on`], signing with `key` (a key held elsewhere, such as in a PKCS#11 token).
pub async fn open_signing_with(
    dir: &Path,
    journal_url: &str,
    tiles_url: Option<&str>,
    witnesses: Vec<(String, signet_ledger::VerifierKey)>,
    witnessing: signet_log::Witnessing,
    key: impl signet_ledger::note::NoteSigner + 'static,
) -> anyhow::Result<Log> {
    let journal: Arc<dyn Journal> = Arc::new(
        SqlJournal::open(journal_url, "main", Some(dir.join("integrate.lock")))
            .await
            .with_context(|| format!("opening the journal of the log in {}", dir.display()))?,
    );
    let tiles: Arc<dyn TileStore> = match tiles_url {
        Some(url) => Arc::new(signet_log::s3::S3Tiles::from_url(url)?),
        None => Arc::new(FileTiles::new(dir)),
    };
    let mut config = LogConfig::new(key);
    config.witnesses = witnesses;
    config.witnessing = witnessing;
    Ok(Log::open(journal, tiles, config).await?)
}

pub fn init(a: InitArgs) -> anyhow::Result<()> {
    let vkey = create(&a.dir, &a.origin, a.database_url.as_deref(), a.blob_url.as_deref())?;
    let dir = a.dir.clone();
    block_on(async move {
        let log = open(&dir, Vec::new()).await?;
        log.step(true).await?;
        Ok(())
    })?;
    println!("{vkey}");
    Ok(())
}

/// Creates a log in `dir` (its keys and settings; the journal is made on first open) and
/// returns its verifier key.
pub fn create(dir: &Path, origin: &str, database_url: Option<&str>, blob_url: Option<&str>) -> anyhow::Result<String> {
    create_with(dir, origin, database_url, blob_url, None)
}

/// [`create`], the key sealed by the master key when `keyring` is given.
pub fn create_with(dir: &Path, origin: &str, database_url: Option<&str>, blob_url: Option<&str>, keyring: Option<&signet_vault::Keyring>) -> anyhow::Result<String> {
    signet_ledger::note::check_key_name(origin)
        .map_err(|_| anyhow::anyhow!("--origin {origin:?} is not a valid log name: use a non-empty name without spaces or '+', e.g. example.org/log"))?;
    if exists(dir) {
        bail!("{} already holds a log; choose an empty directory", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut seed = [0u8; 32];
    signet_pki::Rng::fill(&mut signet_pki::SystemRng, &mut seed)?;
    let key = SignerKey::from_seed(origin, SignatureType::Ed25519, &seed)?;
    seed.fill(0);
    if database_url.is_some() || blob_url.is_some() {
        let mut settings = serde_json::Map::new();
        if let Some(url) = database_url {
            settings.insert("database_url".into(), url.into());
        }
        if let Some(url) = blob_url {
            signet_log::s3::S3Url::parse(url)?;
            settings.insert("blob_url".into(), url.into());
        }
        let settings = serde_json::Value::Object(settings);
        crate::ca::write_atomic(&dir.join(SETTINGS_FILE), format!("{settings:#}\n").as_bytes())?;
    }
    match keyring {
        Some(keyring) => seal_key(dir, keyring, &key)?,
        None => crate::ca::write_secret(&dir.join(KEY_FILE), format!("{}\n", key.to_private_string()).as_bytes())?,
    }
    let vkey = key.verifier().to_string();
    crate::ca::write_atomic(&dir.join(VKEY_FILE), format!("{vkey}\n").as_bytes())?;
    Ok(vkey)
}

/// The log's Ed25519 key in a PKCS#11 token (labelled [`TOKEN_KEY`]), as the signer of the
/// log named `origin`. The key must be there: a log is opened with the key it was made with
/// ([`create_in_token`] makes it), never with a new one.
pub fn token_signer(token: &signet_hsm::Token, origin: &str) -> anyhow::Result<signet_ledger::note::ExternalSigner> {
    if !token.contains(TOKEN_KEY)? {
        anyhow::bail!(
            "the PKCS#11 token {:?} holds no log key {TOKEN_KEY:?}: this log was made with its key elsewhere; use the token it was made with",
            token.label()
        );
    }
    signer_in_token(token, origin)
}

/// The log's key in the token, made there if missing.
fn signer_in_token(token: &signet_hsm::Token, origin: &str) -> anyhow::Result<signet_ledger::note::ExternalSigner> {
    let key = token.ed25519_key(TOKEN_KEY).context("the log's key in the PKCS#11 token")?;
    Ok(key.note_signer(origin, SignatureType::Ed25519)?)
}

/// The token label of the log's key.
pub const TOKEN_KEY: &str = "signet-log";

/// Makes the platform's log in `dir` with its key in `token`: only the verifier key is
/// written (`log.vkey`). Returns it.
pub fn create_in_token(dir: &Path, origin: &str, token: &signet_hsm::Token) -> anyhow::Result<String> {
    signet_ledger::note::check_key_name(origin)
        .map_err(|_| anyhow::anyhow!("the log origin {origin:?} is not a valid log name: use a non-empty name without spaces or '+'"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let vkey = signet_ledger::note::NoteSigner::verifier(&signer_in_token(token, origin)?).to_string();
    crate::ca::write_atomic(&dir.join(VKEY_FILE), format!("{vkey}\n").as_bytes())?;
    Ok(vkey)
}

/// The log's origin as its verifier key file names it (`dir/log.vkey`).
pub fn origin_of(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join(VKEY_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(read_vkey(text.trim()).with_context(|| format!("{} is not a verifier key", path.display()))?.name().to_owned())
}

pub fn key(a: DirArgs) -> anyhow::Result<()> {
    if a.dir.join(SEALED_KEY_FILE).exists() {
        // The verifier key is public: read it without the sealed signing key.
        let path = a.dir.join(VKEY_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        println!("{}", read_vkey(text.trim()).with_context(|| format!("{} is not a verifier key", path.display()))?);
        return Ok(());
    }
    println!("{}", read_key(&a.dir)?.verifier());
    Ok(())
}

/// Splits input into entries: lines without their LF or CRLF, empty lines skipped.
fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .collect()
}

pub fn append(a: AppendArgs) -> anyhow::Result<()> {
    let mut data = Vec::new();
    if a.file == "-" {
        std::io::stdin().read_to_end(&mut data).context("reading standard input")?;
    } else {
        data = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file))?;
    }
    let entries: Vec<&[u8]> = if a.whole { vec![&data[..]] } else { split_lines(&data) };
    // Refuse before appending anything: an input is appended whole or not at all.
    for (n, e) in entries.iter().enumerate() {
        if e.len() > signet_ledger::tile::MAX_ENTRY_SIZE {
            if a.whole {
                bail!("the input is {} bytes; a log entry holds at most 65,535 bytes. Nothing was appended", e.len());
            }
            bail!("entry {} (line {} of the non-empty lines) is {} bytes; a log entry holds at most 65,535 bytes. Nothing was appended", n + 1, n + 1, e.len());
        }
    }
    if entries.is_empty() {
        eprintln!("{}", crate::messages::t(crate::messages::Msg::LogNothingAppended));
        return Ok(());
    }
    let dir = a.dir.clone();
    let start = block_on(async move {
        let log = open(&dir, Vec::new()).await?;
        let start = log.append_all(&entries).await?;
        // Without a server, this command integrates and signs itself.
        if let Some(_shared) = try_lock_shared(&dir.join("serve.lock"))? {
            log.step(true).await?;
        }
        Ok(start)
    })?;
    let mut out = std::io::stdout().lock();
    let count = if a.whole { 1 } else { split_lines(&data).len() as u64 };
    for i in start..start + count {
        writeln!(out, "{i}")?;
    }
    Ok(())
}

pub fn proof(a: ProofArgs) -> anyhow::Result<()> {
    let dir = a.dir.clone();
    let index = a.index;
    let proof = block_on(async move {
        let log = open(&dir, Vec::new()).await?;
        let next = log.next_index().await?;
        if index >= next {
            bail!("the log has {next} entries; there is no entry {index}");
        }
        match log.proof(index).await {
            Err(signet_log::LogError::NotYetCovered { .. }) => {
                if let Some(_shared) = try_lock_shared(&dir.join("serve.lock"))? {
                    log.step(true).await?;
                } else {
                    // The server signs within a second; wait for it.
                    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                }
                Ok(log.proof(index).await?)
            }
            other => Ok(other?),
        }
    })?;
    crate::ca::write_atomic(&a.out, &proof.to_bytes())?;
    let cosigs = signet_ledger::Note::parse(&proof.checkpoint).map(|n| n.signatures().len().saturating_sub(1)).unwrap_or(0);
    println!("proof of entry {} written to {} ({} proof hashes, checkpoint with {cosigs} witness cosignature(s))", a.index, a.out.display(), proof.proof.len());
    Ok(())
}

pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    if a.witness_url.len() != a.witness_key.len() {
        bail!(
            "{} --witness-url but {} --witness-key: give one key per witness, in the same order",
            a.witness_url.len(),
            a.witness_key.len()
        );
    }
    let mut witnesses = Vec::new();
    for (url, key) in a.witness_url.iter().zip(&a.witness_key) {
        witnesses.push((url.clone(), read_vkey(key).with_context(|| format!("--witness-key for {url}"))?));
    }
    read_key(&a.dir)?;
    let Some(_serving) = try_lock_exclusive(&a.dir.join("serve.lock"))? else {
        bail!("another `signet log serve` is already running on {}", a.dir.display());
    };
    let addr: std::net::SocketAddr = a.addr.parse().with_context(|| format!("--addr must be HOST:PORT, got {:?}", a.addr))?;
    let dir = a.dir.clone();
    let nwitnesses = witnesses.len();
    block_on(async move {
        let log = open(&dir, witnesses).await?;
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        println!(
            "signet log {} serving at http://{local}/ (checkpoint, tile/…, log.vkey); {nwitnesses} witness(es)",
            log.origin()
        );
        let app = signet_log::http::router(log.tiles(), &log.verifier().to_string());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let background = {
            let log = log.clone();
            tokio::spawn(async move {
                log.run(async { let _ = stop_rx.await; }, |e| eprintln!("log: {e}")).await
            })
        };
        let server = axum::serve(listener, app).with_graceful_shutdown(crate::serve::shutdown_signal());
        let result = tokio::select! {
            r = server => r.map_err(anyhow::Error::from),
            r = background => match r {
                Ok(Err(e)) => Err(anyhow::Error::from(e).context("the log stopped")),
                _ => Ok(()),
            },
        };
        let _ = stop_tx.send(());
        result
    })
}

/// `signet log load`: the in-process append path under concurrency (benchmark, crash test).
pub fn load(a: LoadArgs) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = a.dir.clone();
    block_on(async move {
        let log = open(&dir, Vec::new()).await?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let background = a.sign.then(|| {
            let log = log.clone();
            tokio::spawn(async move { log.run(async { let _ = stop_rx.await; }, |e| eprintln!("log: {e}")).await })
        });
        let next = Arc::new(AtomicU64::new(0));
        let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Vec<u8>)>();
        let printer = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            while let Some((index, entry)) = ack_rx.blocking_recv() {
                out.write_all(format!("{index}\t").as_bytes())?;
                out.write_all(&entry)?;
                out.write_all(b"\n")?;
                if ack_rx.is_empty() {
                    out.flush()?;
                }
            }
            out.flush()?;
            Ok(())
        });
        let started = std::time::Instant::now();
        let pid = std::process::id();
        let mut tasks = Vec::new();
        for _ in 0..a.concurrency.max(1) {
            let log = log.clone();
            let next = next.clone();
            let acks = a.acks.then(|| ack_tx.clone());
            let (count, size) = (a.count, a.entry_size);
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok::<(), signet_log::LogError>(());
                    }
                    let mut entry = format!("load {pid} {i} ").into_bytes();
                    entry.resize(size.max(entry.len()), b'x');
                    let index = log.append(entry.clone()).await?;
                    if let Some(tx) = &acks {
                        let _ = tx.send((index, entry));
                    }
                }
            }));
        }
        drop(ack_tx);
        for t in tasks {
            t.await??;
        }
        let elapsed = started.elapsed();
        printer.await??;
        eprintln!(
            "appended {} entries ({} bytes each) from {} tasks in {:.3} s: {:.0} durable appends/s",
            a.count,
            a.entry_size,
            a.concurrency,
            elapsed.as_secs_f64(),
            a.count as f64 / elapsed.as_secs_f64()
        );
        if let Some(bg) = background {
            let _ = stop_tx.send(());
            let _ = bg.await;
            let t = std::time::Instant::now();
            let cp = log.step(true).await?;
            eprintln!("final integration and checkpoint: {:.3} s (size {})", t.elapsed().as_secs_f64(), cp.map(|c| c.size).unwrap_or(0));
        }
        if a.proofs > 0 {
            let size = log.checkpoint().await?.map(|c| c.size).unwrap_or(0);
            if size == 0 {
                bail!("--proofs needs a signed checkpoint with entries (use --sign)");
            }
            let mut x = u64::from(pid) | 1;
            let t = std::time::Instant::now();
            let mut hashes = 0usize;
            for _ in 0..a.proofs {
                // xorshift: spread the indices over the whole tree.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                hashes += log.proof(x % size).await?.proof.len();
            }
            let each = t.elapsed().as_secs_f64() / a.proofs as f64;
            eprintln!(
                "{} inclusion proofs at tree size {size}: {:.1} µs each ({:.1} hashes on average, tiles read from the store each time)",
                a.proofs,
                each * 1e6,
                hashes as f64 / a.proofs as f64
            );
        }
        Ok(())
    })
}
