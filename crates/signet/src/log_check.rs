//! `signet log verify-proof` and `signet log audit`: checks anyone can run against a log,
//! trusting nothing but the keys given on the command line.
//!
//! - `verify-proof` is offline: a c2sp.org/tlog-proof file, the entry's bytes, the log's key
//!   and the witnesses' keys. The checkpoint must verify (log signature, origin, witness
//!   quorum) and the inclusion proof must lead from the entry to its root.
//! - `audit` fetches a tiled log (c2sp.org/tlog-tiles) whole: the signed checkpoint, every
//!   hash tile and every entry bundle of its tree size. Each bundle must hash to its level-0
//!   tile, each higher tile must hold the hashes of the full tiles below it, and the tiles
//!   must give the checkpoint's root. The previous run's checkpoint (a state file) must be a
//!   prefix of the tree, so a log that rewrites or forks its history is caught. The core,
//!   [`audit_log`], takes a fetch function so that it runs without a network in tests.
//!
//! Exit codes, for both: 0 valid, 1 invalid (the proof, the checkpoint or the log is wrong),
//! 2 could not check (unreadable file, bad argument, network failure).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use signet_ledger::note::MAX_NOTE_SIZE;
use signet_ledger::proof::tree_root;
use signet_ledger::proof_file::MAX_PROOF_FILE_SIZE;
use signet_ledger::tile::{
    MAX_TILE_LEVEL, TILE_WIDTH, TileHashReader, check_bundle_against_tile, entries_path, level_tiles,
    parse_entry_bundle,
};
use signet_ledger::tree::root_of;
use signet_ledger::{
    Checkpoint, CheckpointVerifier, Hash, HashReadError, LedgerError, Note, SignatureType, Tile, TileReader,
    TlogProof, VerifierKey,
};

use crate::keyarg::read_vkey;
use crate::messages::{Msg, t, tf};

#[derive(Args)]
pub struct VerifyProofArgs {
    /// The proof file (c2sp.org/tlog-proof@v1).
    pub file: PathBuf,
    /// A file whose bytes are the entry.
    #[arg(long)]
    pub entry: PathBuf,
    #[arg(long, value_name = "VKEY|FILE")]
    pub log_key: String,
    /// A witness's verifier key (repeatable).
    #[arg(long, value_name = "VKEY|FILE")]
    pub witness_key: Vec<String>,
    /// How many of the given witnesses must have cosigned (default: all given).
    #[arg(long)]
    pub quorum: Option<usize>,
}

#[derive(Args)]
pub struct AuditArgs {
    /// The log's base URL (where `checkpoint` and `tile/…` are served).
    pub url: String,
    #[arg(long, value_name = "VKEY|FILE")]
    pub log_key: String,
    /// Where the last audited checkpoint is kept between runs.
    #[arg(long)]
    pub state: PathBuf,
}

const INVALID: u8 = 1;
const UNCHECKED: u8 = 2;

// ---------------------------------------------------------------------------------------------
// verify-proof

pub fn verify_proof(args: VerifyProofArgs) -> ExitCode {
    let inputs = match ProofInputs::load(&args) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{}: {e:#}", t(Msg::Error));
            return ExitCode::from(UNCHECKED);
        }
    };
    match inputs.check() {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(reason) => {
            println!("{}", tf(Msg::LogProofInvalid, &[("reason", &reason)]));
            ExitCode::from(INVALID)
        }
    }
}

/// Everything `verify-proof` needs, read and parsed.
struct ProofInputs {
    proof: TlogProof,
    entry: Vec<u8>,
    log_key: VerifierKey,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
    verifier: CheckpointVerifier,
}

impl ProofInputs {
    fn load(args: &VerifyProofArgs) -> Result<ProofInputs> {
        let bytes = read_at_most(&args.file, MAX_PROOF_FILE_SIZE)?;
        let proof = TlogProof::parse(&bytes).with_context(|| {
            format!("{} is not a proof file (c2sp.org/tlog-proof@v1); give the .tlog-proof file the log produced", args.file.display())
        })?;
        let entry = std::fs::read(&args.entry)
            .with_context(|| format!("cannot read the entry file {}; give the file whose bytes were logged", args.entry.display()))?;
        let log_key = read_log_key(&args.log_key)?;
        let witnesses = args
            .witness_key
            .iter()
            .map(|k| read_vkey(k).context("--witness-key"))
            .collect::<Result<Vec<_>>>()?;
        let quorum = args.quorum.unwrap_or(witnesses.len());
        if quorum > witnesses.len() {
            bail!(
                "--quorum {quorum} is more than the {} witness key(s) given; give more --witness-key or a lower --quorum",
                witnesses.len()
            );
        }
        let verifier = CheckpointVerifier::with_witnesses(log_key.name(), vec![log_key.clone()], witnesses.clone(), quorum)
            .context("the keys given cannot be used together (two keys with the same name and key ID?); check --log-key and --witness-key")?;
        Ok(ProofInputs { proof, entry, log_key, witnesses, quorum, verifier })
    }

    /// The report of a valid proof, or why it is not valid.
    fn check(&self) -> Result<String, String> {
        let mut stripped = None;
        let opened = match self.proof.verify(&self.entry, &self.verifier) {
            Ok(o) => o,
            Err(LedgerError::InclusionMismatch) => {
                // A log appended line by line stores each line without its terminator; the
                // file given may be that line as saved by an editor.
                let retry = strip_line_terminator(&self.entry)
                    .and_then(|(entry, which)| self.proof.verify(entry, &self.verifier).ok().map(|o| (o, which)));
                match retry {
                    Some((o, which)) => {
                        stripped = Some(which);
                        o
                    }
                    None => return Err(self.explain(&LedgerError::InclusionMismatch)),
                }
            }
            Err(e) => return Err(self.explain(&e)),
        };
        let cp = &opened.checkpoint;
        let mut out = String::new();
        let _ = writeln!(out, "{}", t(Msg::LogEntryIncluded));
        let _ = writeln!(out, "  origin:    {}", cp.origin);
        let _ = writeln!(out, "  index:     {}", self.proof.index);
        let _ = writeln!(out, "  tree size: {}", cp.size);
        let _ = writeln!(out, "  root:      {}", cp.root.to_base64());
        let _ = writeln!(out, "  log key:   {}+{:08x}", self.log_key.name(), self.log_key.key_id());
        let _ = writeln!(
            out,
            "  witnesses: {} of {} given cosigned (required: {})",
            opened.cosignatures.len(),
            self.witnesses.len(),
            self.quorum
        );
        for w in &self.witnesses {
            match opened.cosignatures.iter().find(|s| s.name == w.name() && s.key_id == w.key_id()) {
                Some(s) => {
                    let when = s.timestamp.map(format_time).unwrap_or_else(|| "(no timestamp)".to_owned());
                    let _ = writeln!(out, "    {}+{:08x} cosigned at {when}", w.name(), w.key_id());
                }
                None => {
                    let _ = writeln!(out, "    {}+{:08x} did not cosign", w.name(), w.key_id());
                }
            }
        }
        if let Some(which) = stripped {
            let _ = writeln!(
                out,
                "  note:      the entry is the file without its final line terminator ({which}); the exact bytes of the file are not in the log"
            );
        }
        Ok(out)
    }

    /// Why verification failed, in words.
    fn explain(&self, e: &LedgerError) -> String {
        let checkpoint = Note::parse(&self.proof.checkpoint).ok().and_then(|n| Checkpoint::parse(n.text()).ok());
        let size = checkpoint.as_ref().map_or_else(|| "?".to_owned(), |c| c.size.to_string());
        let key = format!("{}+{:08x}", self.log_key.name(), self.log_key.key_id());
        match e {
            LedgerError::NoTrustedSignature | LedgerError::BadSignature { .. } => {
                format!("the proof's checkpoint is not validly signed by the log key {key} ({e}); check --log-key")
            }
            LedgerError::OriginMismatch { .. } => format!("the proof is for another log: {e}; check --log-key"),
            LedgerError::Quorum { got, want } => {
                // Who did cosign, for the message: the same keys without a quorum.
                let present = CheckpointVerifier::with_witnesses(
                    self.log_key.name(),
                    vec![self.log_key.clone()],
                    self.witnesses.clone(),
                    0,
                )
                .ok()
                .and_then(|v| v.open(&self.proof.checkpoint).ok())
                .map(|o| {
                    o.cosignatures.iter().map(|s| format!("{}+{:08x}", s.name, s.key_id)).collect::<Vec<_>>().join(", ")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "none".to_owned());
                format!("only {got} of the {want} required witness cosignatures verify (cosigned by: {present})")
            }
            LedgerError::InclusionMismatch => {
                let tried = if strip_line_terminator(&self.entry).is_some() {
                    " (also tried without the file's final line terminator)"
                } else {
                    ""
                };
                format!(
                    "the entry file is not entry {} of the log's tree of size {size}: the inclusion proof does not lead from the entry's hash to the checkpoint's root{tried}; the entry file or the proof differs from what the log holds",
                    self.proof.index
                )
            }
            LedgerError::IndexOutOfRange { index, size } => {
                format!("the proof's index {index} is not below the checkpoint's tree size {size}")
            }
            other => format!("{other}"),
        }
    }
}

/// The log's key: an Ed25519 (type 0x01) vkey, as logs sign checkpoints.
fn read_log_key(arg: &str) -> Result<VerifierKey> {
    let key = read_vkey(arg).context("--log-key")?;
    if key.kind() != SignatureType::Ed25519 {
        bail!("--log-key {key} is not an Ed25519 (type 0x01) key — a witness's key?; give the log's verifier key");
    }
    Ok(key)
}

/// The entry without one final CRLF or LF, and which it was.
fn strip_line_terminator(entry: &[u8]) -> Option<(&[u8], &'static str)> {
    if let Some(e) = entry.strip_suffix(b"\r\n") {
        Some((e, "CRLF"))
    } else {
        entry.strip_suffix(b"\n").map(|e| (e, "LF"))
    }
}

fn format_time(unix: u64) -> String {
    let t = i64::try_from(unix).ok().and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
    match t.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()) {
        Some(s) => format!("{s} (unix {unix})"),
        None => format!("unix {unix}"),
    }
}

/// Reads a whole file, refusing one larger than `limit` bytes.
fn read_at_most(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > limit {
        bail!("{} is larger than {limit} bytes: not a proof file", path.display());
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// audit

/// Fetches a path under the log's prefix (`checkpoint`, `tile/0/000`, …): `Ok(None)` when the
/// log does not have it (HTTP 404), `Err` when it cannot be asked.
pub(crate) type Fetch<'a> = dyn Fn(&str) -> Result<Option<Vec<u8>>> + 'a;

/// Why an audit did not pass.
#[derive(Debug)]
pub(crate) enum AuditError {
    /// The log is wrong: a signature, a tile, a bundle, a root or its history (exit 1).
    Invalid(String),
    /// The log could not be checked: network, missing resources, state of another log (exit 2).
    Unavailable(String),
}

/// A log that passed the audit.
#[derive(Debug)]
pub(crate) struct Audited {
    /// The checkpoint, as the log signed it.
    pub signed: Vec<u8>,
    pub checkpoint: Checkpoint,
    pub hash_tiles: usize,
    pub bundles: usize,
}

pub fn audit(args: AuditArgs) -> ExitCode {
    let setup = (|| -> Result<_> {
        if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
            bail!("the log URL must start with http:// or https://, got {:?}", args.url);
        }
        let log_key = read_log_key(&args.log_key)?;
        let previous = read_state(&args.state)?;
        Ok((log_key, previous))
    })();
    let (log_key, previous) = match setup {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{}: {e:#}", t(Msg::Error));
            return ExitCode::from(UNCHECKED);
        }
    };
    let fetch = http_fetcher(&args.url);
    match audit_log(&fetch, &log_key, previous.as_ref()) {
        Ok(a) => {
            if let Err(e) = crate::files::write_durable(&args.state, &a.signed, 0o644, true) {
                eprintln!("error: the log passed the audit, but the state cannot be saved: {e:#}; check --state");
                return ExitCode::from(UNCHECKED);
            }
            println!("{}", tf(Msg::LogAuditOk, &[("origin", &a.checkpoint.origin)]));
            println!("  tree size: {}", a.checkpoint.size);
            println!("  root:      {}", a.checkpoint.root.to_base64());
            println!("  checked:   {} hash tiles, {} entry bundles", a.hash_tiles, a.bundles);
            match &previous {
                Some(p) => println!(
                    "{}",
                    tf(Msg::LogHistoryExtends, &[("size", &p.size.to_string()), ("root", &p.root.to_base64())])
                ),
                None => println!("{}", t(Msg::LogHistoryFirst)),
            }
            println!("  state:     {}", args.state.display());
            ExitCode::SUCCESS
        }
        Err(AuditError::Invalid(why)) => {
            println!("{}", tf(Msg::LogAuditFailed, &[("reason", &why)]));
            eprintln!("{}", tf(Msg::LogStateUnchanged, &[("file", &args.state.display().to_string())]));
            ExitCode::from(INVALID)
        }
        Err(AuditError::Unavailable(why)) => {
            eprintln!("{}: {why}", t(Msg::Error));
            ExitCode::from(UNCHECKED)
        }
    }
}

/// The checkpoint the previous audit stored (a signed note, or a bare checkpoint text), or
/// `None` if the file does not exist.
fn read_state(path: &Path) -> Result<Option<Checkpoint>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read the state file {}", path.display())),
    };
    let parsed = match Note::parse(&bytes) {
        Ok(note) => Checkpoint::parse(note.text()),
        Err(_) => std::str::from_utf8(&bytes)
            .map_err(|_| LedgerError::MalformedCheckpoint("not UTF-8"))
            .and_then(Checkpoint::parse),
    };
    parsed.map(Some).with_context(|| {
        format!(
            "the state file {} does not hold a checkpoint; give the file an earlier audit wrote, or a new path for a first audit",
            path.display()
        )
    })
}

/// Largest response accepted per resource: a checkpoint is a note, a tile is 256 hashes, a
/// bundle 256 entries of at most 65,535 bytes with their 2-byte lengths.
fn fetch_limit(path: &str) -> u64 {
    if path.starts_with("tile/entries/") {
        u64::from(TILE_WIDTH) * (2 + 65_535)
    } else if path.starts_with("tile/") {
        u64::from(TILE_WIDTH) * 32
    } else {
        MAX_NOTE_SIZE as u64
    }
}

/// GETs `<base>/<path>` over HTTP(S) with timeouts.
fn http_fetcher(base: &str) -> impl Fn(&str) -> Result<Option<Vec<u8>>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .timeout_connect(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let base = base.trim_end_matches('/').to_owned();
    move |path: &str| {
        let url = format!("{base}/{path}");
        let mut resp = agent.get(&url).call().with_context(|| format!("cannot reach {url}"))?;
        match resp.status().as_u16() {
            200 => {}
            404 | 410 => return Ok(None),
            s => bail!("{url} answered HTTP {s}"),
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(fetch_limit(path))
            .read_to_vec()
            .with_context(|| format!("reading {url}"))?;
        Ok(Some(body))
    }
}

/// Audits the log behind `fetch` against its key and, if given, the checkpoint of the
/// previous audit.
pub(crate) fn audit_log(
    fetch: &Fetch<'_>,
    log_key: &VerifierKey,
    previous: Option<&Checkpoint>,
) -> Result<Audited, AuditError> {
    use AuditError::{Invalid, Unavailable};
    let get = |path: &str| fetch(path).map_err(|e| Unavailable(format!("{e:#}")));
    let signed = get("checkpoint")?.ok_or_else(|| Unavailable("the log serves no checkpoint (HTTP 404 for checkpoint)".to_owned()))?;
    let key = format!("{}+{:08x}", log_key.name(), log_key.key_id());
    let verifier = CheckpointVerifier::new(log_key.name(), log_key.clone())
        .map_err(|e| Unavailable(format!("the log key {key} cannot verify checkpoints: {e}")))?;
    let cp = verifier
        .open(&signed)
        .map_err(|e| Invalid(format!("the log's checkpoint does not verify with the log key {key}: {e}")))?
        .checkpoint;
    if let Some(prev) = previous {
        if prev.origin != cp.origin {
            return Err(Unavailable(format!(
                "the state file holds a checkpoint of {:?}, not of {:?}; give this log's state file, or a new path",
                prev.origin, cp.origin
            )));
        }
        if prev.size > cp.size {
            return Err(Invalid(format!(
                "the log's tree shrank: the previous audit saw size {}, the log now signs size {}",
                prev.size, cp.size
            )));
        }
    }

    let mut store = FetchedTiles::default();
    let mut bundles = 0;
    // Hashes of the full tiles of the level below, in order: what the level above must hold.
    let mut below: Vec<Hash> = Vec::new();
    for level in 0..=MAX_TILE_LEVEL {
        let tiles: Vec<Tile> = level_tiles(cp.size, level).collect();
        if tiles.is_empty() {
            break;
        }
        let mut full_roots = Vec::new();
        for tile in tiles {
            let data = fetch_with_fallback(&get, &tile.path(), &full_path(&tile), tile.is_full())?;
            let hashes = tile.hashes(&data).map_err(|e| Invalid(format!("hash tile {tile}: {e}")))?;
            if level == 0 {
                check_bundle(&get, &tile, &data)?;
                bundles += 1;
            } else {
                for (i, h) in hashes.iter().enumerate() {
                    let n = tile.index * u64::from(TILE_WIDTH) + i as u64;
                    let lower = Tile { level: level - 1, index: n, width: TILE_WIDTH };
                    if below.get(n as usize) != Some(h) {
                        return Err(Invalid(format!(
                            "hash {i} of tile {tile} is not the hash of tile {lower} (recomputed from its 256 hashes)"
                        )));
                    }
                }
            }
            if tile.is_full() {
                full_roots.push(root_of(&hashes));
            }
            store.0.insert(tile, data.get(..tile.data_len()).unwrap_or(&data).to_vec());
        }
        below = full_roots;
    }
    let hashes = TileHashReader::new(cp.size, &store);
    let root = tree_root(&hashes, cp.size).map_err(|e| Invalid(format!("cannot compute the root from the tiles: {e}")))?;
    if root != cp.root {
        return Err(Invalid(format!(
            "the log's tiles give the root {} for size {}, but its checkpoint says {}",
            root.to_base64(),
            cp.size,
            cp.root.to_base64()
        )));
    }
    if let Some(prev) = previous {
        let old = tree_root(&hashes, prev.size)
            .map_err(|e| Invalid(format!("cannot compute the root of the first {} entries: {e}", prev.size)))?;
        if old != prev.root {
            return Err(Invalid(format!(
                "FORK: the log's first {} entries now have the root {}, but the previous audit recorded {}: the log rewrote its history",
                prev.size,
                old.to_base64(),
                prev.root.to_base64()
            )));
        }
    }
    Ok(Audited { signed, checkpoint: cp, hash_tiles: store.0.len(), bundles })
}


/// The full tile's path for a partial tile (a log may replace a partial tile by the full one).
fn full_path(tile: &Tile) -> String {
    Tile { width: TILE_WIDTH, ..*tile }.path()
}

/// Fetches `path`, or `full` if `path` is a partial resource the log no longer serves.
fn fetch_with_fallback(
    get: &dyn Fn(&str) -> Result<Option<Vec<u8>>, AuditError>,
    path: &str,
    full: &str,
    is_full: bool,
) -> Result<Vec<u8>, AuditError> {
    if let Some(data) = get(path)? {
        return Ok(data);
    }
    if !is_full && let Some(data) = get(full)? {
        return Ok(data);
    }
    let also = if is_full { String::new() } else { format!(" (nor {full})") };
    Err(AuditError::Unavailable(format!("the log does not serve {path}{also}, which its checkpoint requires")))
}

/// Checks the entry bundle of a level-0 tile against the tile's leaf hashes.
fn check_bundle(
    get: &dyn Fn(&str) -> Result<Option<Vec<u8>>, AuditError>,
    tile: &Tile,
    tile_data: &[u8],
) -> Result<(), AuditError> {
    let path = entries_path(tile.index, tile.width);
    let full = entries_path(tile.index, TILE_WIDTH);
    let data = fetch_with_fallback(get, &path, &full, tile.is_full())?;
    let entries = parse_entry_bundle(&data).map_err(|e| AuditError::Invalid(format!("entry bundle {path}: {e}")))?;
    // A full bundle served for a partial one: the entries past the width are not in this tree.
    let entries = match entries.get(..usize::from(tile.width)) {
        Some(first) if !tile.is_full() && entries.len() == usize::from(TILE_WIDTH) => first,
        _ => &entries[..],
    };
    check_bundle_against_tile(entries, tile, tile_data)
        .map_err(|e| AuditError::Invalid(format!("entry bundle {path} does not match hash tile {tile}: {e}")))
}

/// The tiles fetched so far, as a [`TileReader`] for computing roots.
#[derive(Default)]
struct FetchedTiles(BTreeMap<Tile, Vec<u8>>);

impl TileReader for FetchedTiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, HashReadError> {
        tiles
            .iter()
            .map(|t| self.0.get(t).cloned().ok_or_else(|| HashReadError::new(format!("tile {t} was not fetched"))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use signet_ledger::tile::publish_all;
    use signet_ledger::{MemoryTree, SignerKey};

    use super::*;

    const ORIGIN: &str = "example.org/log";

    fn log_key() -> SignerKey {
        SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7u8; 32]).unwrap()
    }

    fn entries(tag: &str, n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("{tag} entry {i}").into_bytes()).collect()
    }

    fn signed_checkpoint(key: &SignerKey, size: u64, root: Hash) -> Vec<u8> {
        let mut note = Checkpoint::new(ORIGIN, size, root).unwrap().to_note().unwrap();
        note.sign(key).unwrap();
        note.to_bytes().unwrap()
    }

    /// What a log serving the first `size` of `entries` publishes: the signed checkpoint,
    /// every hash tile and every entry bundle of that size.
    fn publish(entries: &[Vec<u8>], size: usize) -> HashMap<String, Vec<u8>> {
        let mut tree = MemoryTree::new();
        for e in &entries[..size] {
            tree.push(e).unwrap();
        }
        let mut files: HashMap<String, Vec<u8>> = publish_all(&entries[..size]).unwrap().into_iter().collect();
        files.insert("checkpoint".to_owned(), signed_checkpoint(&log_key(), tree.size(), tree.root()));
        files
    }

    fn checkpoint_of(files: &HashMap<String, Vec<u8>>) -> Checkpoint {
        Checkpoint::parse(Note::parse(&files["checkpoint"]).unwrap().text()).unwrap()
    }

    fn run(files: &HashMap<String, Vec<u8>>, previous: Option<&Checkpoint>) -> Result<Audited, AuditError> {
        let fetch = |p: &str| -> Result<Option<Vec<u8>>> { Ok(files.get(p).cloned()) };
        audit_log(&fetch, &log_key().verifier(), previous)
    }

    fn invalid(r: Result<Audited, AuditError>) -> String {
        match r {
            Err(AuditError::Invalid(m)) => m,
            other => panic!("expected an invalid log, got {other:?}"),
        }
    }

    #[test]
    fn consistent_growth_passes() {
        let all = entries("a", 700);
        let first = publish(&all, 300);
        let a = run(&first, None).unwrap();
        assert_eq!(a.checkpoint.size, 300);
        // Level 0: 000, 001.p/44; level 1: 000.p/1.
        assert_eq!((a.hash_tiles, a.bundles), (3, 2));
        let later = publish(&all, 700);
        let b = run(&later, Some(&a.checkpoint)).unwrap();
        assert_eq!(b.checkpoint.size, 700);
        assert_eq!(b.signed, later["checkpoint"]);
        assert_eq!((b.hash_tiles, b.bundles), (4, 3));
        // The same checkpoint again is consistent with itself.
        run(&later, Some(&b.checkpoint)).unwrap();
        // A small tree and the empty tree.
        run(&publish(&all, 1), None).unwrap();
        run(&publish(&all, 0), None).unwrap();
        run(&publish(&all, 256), Some(&checkpoint_of(&publish(&all, 0)))).unwrap();
    }

    #[test]
    fn full_tiles_may_stand_in_for_partial_ones() {
        let all = entries("a", 520);
        let mut files = publish(&all, 520);
        let old = publish(&all, 300);
        // The checkpoint of 300 with its level-1 partial tile, but the level-0 partial tile
        // and bundle already replaced by the full ones.
        files.insert("checkpoint".to_owned(), old["checkpoint"].clone());
        files.insert("tile/1/000.p/1".to_owned(), old["tile/1/000.p/1"].clone());
        assert!(!files.contains_key("tile/0/001.p/44") && files.contains_key("tile/0/001"));
        let a = run(&files, None).unwrap();
        assert_eq!(a.checkpoint.size, 300);
    }

    #[test]
    fn tampered_tiles_fail() {
        let all = entries("a", 700);
        let good = publish(&all, 700);
        // A level-0 tile that does not match its bundle.
        let mut files = good.clone();
        files.get_mut("tile/0/001").unwrap()[40] ^= 1;
        assert!(invalid(run(&files, None)).contains("tile/0/001"));
        // A higher tile that does not hold the hash of the tile below.
        let mut files = good.clone();
        files.get_mut("tile/1/000.p/2").unwrap()[33] ^= 1;
        let m = invalid(run(&files, None));
        assert!(m.contains("tile/1/000.p/2") && m.contains("tile/0/001"), "{m}");
        // A tile of the wrong length.
        let mut files = good.clone();
        files.get_mut("tile/0/002.p/188").unwrap().pop();
        assert!(invalid(run(&files, None)).contains("tile/0/002.p/188"));
    }

    #[test]
    fn tampered_entry_bundles_fail() {
        let all = entries("a", 700);
        let good = publish(&all, 700);
        let mut files = good.clone();
        files.get_mut("tile/entries/002.p/188").unwrap()[5] ^= 1;
        assert!(invalid(run(&files, None)).contains("tile/entries/002.p/188"));
        // A bundle and its level-0 tile rewritten together: caught by the level-1 tile.
        let mut changed = all.clone();
        changed[3] = b"rewritten".to_vec();
        let forged = publish(&changed, 700);
        let mut files = good.clone();
        for p in ["tile/0/000", "tile/entries/000"] {
            files.insert(p.to_owned(), forged[p].clone());
        }
        let m = invalid(run(&files, None));
        assert!(m.contains("tile/1/000.p/2") && m.contains("tile/0/000"), "{m}");
        // In a tree of one partial tile there is no level above: the root catches it.
        let small = publish(&all, 100);
        let mut files = publish(&changed, 100);
        files.insert("checkpoint".to_owned(), small["checkpoint"].clone());
        assert!(invalid(run(&files, None)).contains("root"));
        // A truncated bundle.
        let mut files = good.clone();
        files.get_mut("tile/entries/000").unwrap().pop();
        assert!(invalid(run(&files, None)).contains("tile/entries/000"));
    }

    #[test]
    fn forked_or_shrunk_history_fails() {
        let all = entries("a", 700);
        let current = publish(&all, 700);
        // The previous audit saw a different tree of 300 entries.
        let other = checkpoint_of(&publish(&entries("b", 300), 300));
        assert!(invalid(run(&current, Some(&other))).contains("FORK"));
        // A fork at the same size.
        let same_size = checkpoint_of(&publish(&entries("b", 700), 700));
        assert!(invalid(run(&current, Some(&same_size))).contains("FORK"));
        // The log went back to a smaller tree.
        let bigger = checkpoint_of(&publish(&entries("a", 800), 800));
        assert!(invalid(run(&current, Some(&bigger))).contains("shrank"));
        // The real history passes.
        run(&current, Some(&checkpoint_of(&publish(&all, 300)))).unwrap();
    }

    #[test]
    fn bad_checkpoints_and_missing_resources() {
        let all = entries("a", 300);
        let good = publish(&all, 300);
        // Signed by another key.
        let other = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[8u8; 32]).unwrap();
        let cp = checkpoint_of(&good);
        let mut files = good.clone();
        files.insert("checkpoint".to_owned(), signed_checkpoint(&other, cp.size, cp.root));
        assert!(invalid(run(&files, None)).contains("does not verify"));
        // Missing tiles and bundles cannot be checked: not invalid, unavailable.
        for p in ["tile/0/001.p/44", "tile/entries/000", "checkpoint"] {
            let mut files = good.clone();
            files.remove(p);
            assert!(matches!(run(&files, None), Err(AuditError::Unavailable(_))), "{p}");
        }
        // A failing fetch is unavailable too.
        let fetch = |_: &str| -> Result<Option<Vec<u8>>> { bail!("connection refused") };
        assert!(matches!(audit_log(&fetch, &log_key().verifier(), None), Err(AuditError::Unavailable(_))));
        // A state of another log.
        let mut foreign = checkpoint_of(&good);
        foreign.origin = "example.org/other".to_owned();
        assert!(matches!(run(&good, Some(&foreign)), Err(AuditError::Unavailable(_))));
    }

    #[test]
    fn line_terminators() {
        assert_eq!(strip_line_terminator(b"a\r\n"), Some((&b"a"[..], "CRLF")));
        assert_eq!(strip_line_terminator(b"a\n"), Some((&b"a"[..], "LF")));
        assert_eq!(strip_line_terminator(b"a\n\n"), Some((&b"a\n"[..], "LF")));
        assert_eq!(strip_line_terminator(b"a"), None);
    }
}
