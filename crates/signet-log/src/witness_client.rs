//! Sending checkpoints to witnesses (C2SP `tlog-witness`, `POST <prefix>/add-checkpoint`).
//!
//! The log remembers, per witness, the size it believes the witness last cosigned. A witness
//! that disagrees answers 409 with its size; the log then retries once with a consistency proof
//! from that size. The cosignature lines returned are checked against the witness's key before
//! they are published.

use std::sync::Mutex;
use std::time::Duration;

use signet_ledger::note::NoteSignature;
use signet_ledger::witness::{AddCheckpointRequest, parse_conflict_body};
use signet_ledger::{Hash, VerifierKey};

use crate::{LogError, Result};

/// One witness the log submits to.
pub struct WitnessClient {
    url: String,
    key: VerifierKey,
    last_size: Mutex<u64>,
}

/// What a submission attempt returned.
enum Reply {
    Cosigned(Vec<u8>),
    Conflict(u64),
}

impl WitnessClient {
    /// A witness at base `url` (its `add-checkpoint` is at `url/add-checkpoint`) whose
    /// cosignatures verify with `key`.
    pub fn new(url: &str, key: VerifierKey) -> Self {
        WitnessClient { url: url.trim_end_matches('/').to_owned(), key: key.to_cosignature_v1(), last_size: Mutex::new(0) }
    }

    /// The witness's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether `note` carries this witness's cosignature (by its name and key id; the
    /// signature itself was verified when it was added).
    pub fn has_cosigned(&self, note: &signet_ledger::note::Note) -> bool {
        note.signatures().iter().any(|s| s.name == self.key.name() && s.key_id == self.key.key_id())
    }

    /// The size this witness is believed to have cosigned last.
    pub fn last_size(&self) -> u64 {
        self.last_size.lock().map(|g| *g).unwrap_or(0)
    }

    /// Submits `checkpoint` (the signed note, of tree `size`), with proofs from `prove(old)`;
    /// returns the witness's verified cosignature line.
    pub async fn submit<F, Fut>(&self, checkpoint: &[u8], text: &str, size: u64, prove: F) -> Result<NoteSignature>
    where
        F: Fn(u64) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Hash>>>,
    {
        let mut old = self.last_size().min(size);
        for _attempt in 0..2 {
            let proof = if old == 0 { Vec::new() } else { prove(old).await? };
            let body = AddCheckpointRequest { old_size: old, proof, checkpoint: checkpoint.to_vec() }.to_bytes();
            match self.post(body).await? {
                Reply::Cosigned(lines) => {
                    let sig = self.check_reply(&lines, text)?;
                    if let Ok(mut g) = self.last_size.lock() {
                        *g = size;
                    }
                    return Ok(sig);
                }
                Reply::Conflict(theirs) if theirs <= size && theirs != old => old = theirs,
                Reply::Conflict(theirs) => {
                    return Err(self.err(format!(
                        "it has cosigned size {theirs}, which this log cannot prove consistent with size {size}"
                    )));
                }
            }
        }
        Err(self.err("it kept answering 409 Conflict".into()))
    }

    fn err(&self, reason: String) -> LogError {
        LogError::Witness { url: self.url.clone(), reason }
    }

    fn check_reply(&self, body: &[u8], text: &str) -> Result<NoteSignature> {
        let body = std::str::from_utf8(body).map_err(|_| self.err("its reply is not UTF-8".into()))?;
        for line in body.lines().filter(|l| !l.is_empty()) {
            let Ok(sig) = NoteSignature::parse_line(line) else { continue };
            if sig.name == self.key.name() && sig.key_id == self.key.key_id() {
                self.key
                    .verify(text.as_bytes(), &sig.signature)
                    .map_err(|e| self.err(format!("its cosignature does not verify: {e}")))?;
                return Ok(sig);
            }
        }
        Err(self.err("its reply holds no cosignature by its key".into()))
    }

    async fn post(&self, body: Vec<u8>) -> Result<Reply> {
        let url = format!("{}/add-checkpoint", self.url);
        let me = self.url.clone();
        let result = tokio::task::spawn_blocking(move || -> std::result::Result<Reply, String> {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(5)))
                .http_status_as_error(false)
                .build()
                .into();
            let mut resp = agent.post(&url).send(&body[..]).map_err(|e| format!("unreachable: {e}"))?;
            let status = resp.status().as_u16();
            let data = resp
                .body_mut()
                .with_config()
                .limit(64 * 1024)
                .read_to_vec()
                .map_err(|e| format!("reading the reply: {e}"))?;
            match status {
                200 => Ok(Reply::Cosigned(data)),
                409 => parse_conflict_body(&data).map(Reply::Conflict).map_err(|e| format!("409 with an unreadable size: {e}")),
                other => Err(format!("answered {other}: {}", String::from_utf8_lossy(&data).trim())),
            }
        })
        .await
        .map_err(|e| LogError::Witness { url: me.clone(), reason: format!("task failed: {e}") })?;
        result.map_err(|reason| LogError::Witness { url: me, reason })
    }
}
