//! `signet witness`: a C2SP tlog-witness (c2sp.org/tlog-witness) that cosigns checkpoints of
//! one log, each only after checking it extends the last checkpoint it cosigned.
//!
//! A witness directory holds `witness.key` (the `cosignature/v1` private key, mode 0600),
//! `witness.vkey` (its verifier key, what logs and verifiers configure) and `state/`, one file
//! per log origin holding the latest checkpoint this witness cosigned, with the log's
//! signature and the witness's cosignature on it. The state file is written durably
//! (temporary file, fsync, rename, fsync of the directory) before a cosignature leaves the
//! process, and one mutex makes check-and-update atomic, as the spec's race warning asks.
//!
//! The decisions live in [`Witness::add_checkpoint`]; HTTP only wraps it. Formats, signature
//! checks and consistency proofs come from `signet-ledger`.
//!
//! Not here: several logs per witness process, the monitoring (read) API, rate limits.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::{Args, Subcommand};
use signet_ledger::cosignature::cosign;
use signet_ledger::note::MAX_NOTE_SIZE;
use signet_ledger::witness::{AddCheckpointRequest, SIZE_CONTENT_TYPE, conflict_body};
use signet_ledger::{
    Checkpoint, CheckpointVerifier, EMPTY_ROOT, Note, SignatureType, SignerKey, VerifierKey,
    verify_consistency,
};
use signet_pki::{Rng as _, SystemRng};

#[derive(Subcommand)]
pub enum WitnessCommand {
    /// Create a witness in DIR (its Ed25519 cosigning key) and print its verifier key.
    Init(InitArgs),
    /// Print the witness's verifier key again.
    Key(DirArgs),
    /// Serve `POST /add-checkpoint` (c2sp.org/tlog-witness) for the log whose key is given.
    Serve(ServeArgs),
}

#[derive(Args)]
pub struct InitArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// The witness's name (the key name in its cosignature lines), e.g. `witness.example.org/w1`.
    #[arg(long)]
    pub name: String,
}

#[derive(Args)]
pub struct DirArgs {
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8790")]
    pub addr: String,
    /// The log's verifier key, as text or a file holding it.
    #[arg(long, value_name = "VKEY|FILE")]
    pub log_key: String,
}

pub fn run(cmd: WitnessCommand) -> Result<()> {
    match cmd {
        WitnessCommand::Init(a) => {
            let vkey = init(&a.dir, &a.name)?;
            println!("{vkey}");
            Ok(())
        }
        WitnessCommand::Key(a) => {
            println!("{}", load_signer(&a.dir)?.verifier());
            Ok(())
        }
        WitnessCommand::Serve(a) => {
            let log_key = crate::keyarg::read_vkey(&a.log_key).context("--log-key")?;
            if log_key.kind() != SignatureType::Ed25519 {
                bail!("--log-key {log_key} is not an Ed25519 (type 0x01) key — a witness's key?; give the log's verifier key");
            }
            let witness = Witness::open(&a.dir, log_key)?;
            crate::block_on(serve(witness, &a.addr))
        }
    }
}

const KEY_FILE: &str = "witness.key";
const VKEY_FILE: &str = "witness.vkey";
const STATE_DIR: &str = "state";
/// Largest `add-checkpoint` body: a checkpoint note of the largest size a note may have, plus
/// the old size line and 63 proof lines (45 bytes each).
const MAX_REQUEST: usize = MAX_NOTE_SIZE + 4096;

/// Creates a witness in `dir`: a fresh `cosignature/v1` key from the OS generator. Returns its
/// verifier key.
fn init(dir: &Path, name: &str) -> Result<VerifierKey> {
    let key_path = dir.join(KEY_FILE);
    if key_path.exists() || dir.join(VKEY_FILE).exists() {
        bail!(
            "{} already holds a witness ({KEY_FILE} exists); choose another --dir, or print its key with `signet witness key --dir {}`",
            dir.display(),
            dir.display()
        );
    }
    let mut seed = [0u8; 32];
    SystemRng.fill(&mut seed).context("drawing random bytes for the witness key")?;
    let signer = SignerKey::from_seed(name, SignatureType::CosignatureV1, &seed).with_context(|| {
        format!("--name {name:?} cannot be a key name: give a non-empty name without spaces, '+' or control characters, e.g. witness.example.org/w1")
    })?;
    seed.fill(0);
    fs::create_dir_all(dir.join(STATE_DIR)).with_context(|| format!("creating {}", dir.display()))?;
    // No clobbering: two `init`s racing on one directory must not leave a key whose vkey
    // was printed by the other.
    crate::files::write_durable(&key_path, format!("{}\n", signer.to_private_string()).as_bytes(), 0o600, false)
        .with_context(|| format!("{} already holds a witness, or cannot be written; choose another --dir", dir.display()))?;
    let vkey = signer.verifier();
    crate::files::write_durable(&dir.join(VKEY_FILE), format!("{vkey}\n").as_bytes(), 0o644, true)?;
    Ok(vkey)
}

/// The witness's cosigning key from `dir/witness.key`.
fn load_signer(dir: &Path) -> Result<SignerKey> {
    let path = dir.join(KEY_FILE);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "{} holds no witness ({} cannot be read); create one with `signet witness init --dir {} --name NAME`",
            dir.display(),
            path.display(),
            dir.display()
        )
    })?;
    let signer = SignerKey::parse(text.trim()).with_context(|| {
        format!("{} is not a witness private key (PRIVATE+KEY+…); restore it from a backup or create a new witness", path.display())
    })?;
    if signer.kind() != SignatureType::CosignatureV1 {
        bail!(
            "{} is not a cosignature/v1 key (a witness signs with key type 0x04); create the witness with `signet witness init`",
            path.display()
        );
    }
    Ok(signer)
}

/// The state file of a log: its origin with every byte outside `[A-Za-z0-9._-]` written as
/// `%XX`, plus `.checkpoint` (so no origin names `.`, `..` or a path).
fn state_file_name(origin: &str) -> String {
    let mut name = String::with_capacity(origin.len() + 11);
    for b in origin.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    name.push_str(".checkpoint");
    name
}

/// The latest checkpoint cosigned for `origin`, from its state file (`None` if there is none).
/// An unreadable state is an error, never "no state": starting from zero would let the log
/// roll back.
fn load_state(path: &Path, origin: &str) -> Result<Option<Checkpoint>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading the witness state {}", path.display())),
    };
    let broken = || {
        format!(
            "the witness state {} is not a signed checkpoint; restore it from a backup (starting without it would let the log roll back)",
            path.display()
        )
    };
    let note = Note::parse(&bytes).with_context(broken)?;
    let cp = Checkpoint::parse(note.text()).with_context(broken)?;
    if cp.origin != origin {
        bail!(
            "the witness state {} holds a checkpoint of {:?}, not of {origin:?}; restore the right file from a backup",
            path.display(),
            cp.origin
        );
    }
    Ok(Some(cp))
}

/// A witness for one log.
struct Witness {
    signer: SignerKey,
    log_key: VerifierKey,
    log: CheckpointVerifier,
    state_path: PathBuf,
    /// The latest cosigned checkpoint; only changed after it is on disk.
    latest: Mutex<Option<Checkpoint>>,
}

/// What to answer an `add-checkpoint` request, and a line for the operator's log.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: &'static str,
    body: String,
    log: String,
}

impl Answer {
    fn text(status: StatusCode, message: String) -> Answer {
        Answer { status, content_type: "text/plain; charset=utf-8", body: format!("{message}\n"), log: message }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, [(header::CONTENT_TYPE, self.content_type)], self.body).into_response()
    }
}

impl Witness {
    /// The witness in `dir` for the log whose key is `log_key` (origin: the key's name), with
    /// the state it persisted.
    fn open(dir: &Path, log_key: VerifierKey) -> Result<Witness> {
        let signer = load_signer(dir)?;
        let origin = log_key.name().to_owned();
        let log = CheckpointVerifier::new(&origin, log_key.clone())
            .with_context(|| format!("the log key's name {origin:?} cannot be a checkpoint origin"))?;
        let state_dir = dir.join(STATE_DIR);
        fs::create_dir_all(&state_dir).with_context(|| format!("creating {}", state_dir.display()))?;
        let state_path = state_dir.join(state_file_name(&origin));
        let latest = load_state(&state_path, &origin)?;
        Ok(Witness { signer, log_key, log, state_path, latest: Mutex::new(latest) })
    }

    fn origin(&self) -> &str {
        self.log_key.name()
    }

    /// Handles one `add-checkpoint` body at time `now` (Unix seconds), in the order of checks
    /// c2sp.org/tlog-witness gives: 400 malformed, 404 unknown origin, 403 no valid log
    /// signature, 400 old size above the checkpoint's, 409 old size not the witness's (or the
    /// same size with another root), 422 bad consistency proof; else the checkpoint is
    /// persisted and cosigned (200).
    fn add_checkpoint(&self, body: &[u8], now: u64) -> Answer {
        let req = match AddCheckpointRequest::parse(body) {
            Ok(r) => r,
            Err(e) => {
                return Answer::text(
                    StatusCode::BAD_REQUEST,
                    format!("{e}; the body must be `old <size>`, the consistency proof lines, an empty line and the signed checkpoint (c2sp.org/tlog-witness)"),
                );
            }
        };
        let note = match Note::parse(&req.checkpoint) {
            Ok(n) => n,
            Err(e) => return Answer::text(StatusCode::BAD_REQUEST, format!("malformed checkpoint note: {e}")),
        };
        let cp = match Checkpoint::parse(note.text()) {
            Ok(c) => c,
            Err(e) => return Answer::text(StatusCode::BAD_REQUEST, format!("the note is not a checkpoint: {e}")),
        };
        if cp.origin != self.origin() {
            return Answer::text(
                StatusCode::NOT_FOUND,
                format!("unknown log {:?}: this witness only cosigns checkpoints of {:?}", cp.origin, self.origin()),
            );
        }
        if let Err(e) = self.log.open(&req.checkpoint) {
            return Answer::text(
                StatusCode::FORBIDDEN,
                format!("the checkpoint of size {} carries no valid signature by the log key {}+{:08x}: {e}", cp.size, self.origin(), self.log_key.key_id()),
            );
        }
        if req.old_size > cp.size {
            return Answer::text(
                StatusCode::BAD_REQUEST,
                format!("old size {} is larger than the checkpoint's size {}", req.old_size, cp.size),
            );
        }
        // From here to the end the state is locked: check and update are one step. A panic
        // elsewhere cannot leave it half-updated (it changes only after the file is written).
        let mut latest = self.latest.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (size, root) = latest.as_ref().map_or((0, EMPTY_ROOT), |c| (c.size, c.root));
        let conflict = |why: String| Answer {
            status: StatusCode::CONFLICT,
            content_type: SIZE_CONTENT_TYPE,
            body: conflict_body(size),
            log: why,
        };
        if req.old_size != size {
            return conflict(format!("old size {} is not the size {size} this witness last cosigned (new size {})", req.old_size, cp.size));
        }
        if cp.size == size && cp.root != root {
            return conflict(format!(
                "FORK: a checkpoint of size {size} with root {} differs from the cosigned root {}",
                cp.root.to_base64(),
                root.to_base64()
            ));
        }
        if let Err(e) = verify_consistency(size, cp.size, &root, &cp.root, &req.proof) {
            return Answer::text(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the consistency proof from size {size} to size {} does not verify: {e}", cp.size),
            );
        }
        let (stored, line) = match self.cosigned(&note, now) {
            Ok(x) => x,
            Err(e) => return Answer::text(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot cosign: {e:#}")),
        };
        if let Err(e) = crate::files::write_durable(&self.state_path, &stored, 0o644, true) {
            eprintln!("witness: cannot persist the state, nothing cosigned: {e:#}");
            return Answer::text(StatusCode::INTERNAL_SERVER_ERROR, "the witness cannot persist its state; nothing was cosigned".to_owned());
        }
        let log = format!("cosigned size {} (from {size}) root {}", cp.size, cp.root.to_base64());
        *latest = Some(cp);
        Answer { status: StatusCode::OK, content_type: "text/plain; charset=utf-8", body: line, log }
    }

    /// The state to store (the checkpoint text with the log's signature and this witness's
    /// cosignature) and the cosignature line to answer.
    fn cosigned(&self, note: &Note, now: u64) -> Result<(Vec<u8>, String)> {
        let mut stored = Note::new(note.text())?;
        for s in note.signatures() {
            if s.name == self.log_key.name() && s.key_id == self.log_key.key_id() {
                stored.add_signature(s.clone())?;
            }
        }
        let line = cosign(&mut stored, &self.signer, now)?;
        Ok((stored.to_bytes()?, line.line()))
    }
}

async fn serve(witness: Witness, addr: &str) -> Result<()> {
    let addr: SocketAddr = addr.parse().with_context(|| format!("--addr must be HOST:PORT, got {addr:?}"))?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let size = witness.latest.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map_or(0, |c| c.size);
    println!(
        "signet witness {} listening on http://{local}  (POST http://{local}/add-checkpoint) for the log {}; last cosigned size {size}",
        witness.signer.verifier(),
        witness.origin()
    );
    let app = Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST))
        .with_state(Arc::new(witness));
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    // File writes and fsync block: keep them off the async workers.
    let now = crate::ca::unix(SystemTime::now());
    let answer = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now)).await;
    match answer {
        Ok(a) => {
            eprintln!("witness: add-checkpoint {}: {}", a.status.as_u16(), a.log);
            a.into_response()
        }
        Err(e) => {
            eprintln!("witness: add-checkpoint 500: the handler failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error; nothing was cosigned\n").into_response()
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_names_are_single_safe_components() {
        assert_eq!(state_file_name("example.org/log"), "example.org%2Flog.checkpoint");
        assert_eq!(state_file_name(".."), "...checkpoint");
        assert_eq!(state_file_name("a b\u{e9}"), "a%20b%C3%A9.checkpoint");
        assert_ne!(state_file_name("a/b"), state_file_name("a%2Fb"));
    }
}
