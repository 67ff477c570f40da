//! C2SP `tlog-checkpoint` (c2sp.org/tlog-checkpoint, sections "Note text" and "Signatures"):
//! the signed tree head, a note whose text is the origin line, the tree size in decimal
//! (no leading zeros), the base64 root hash and optional non-empty extension lines.
//!
//! [`CheckpointVerifier`] opens a signed checkpoint the way a client should: the note must
//! carry a valid signature by one of the log's keys, the origin must be the expected one, and
//! at least `quorum` of the trusted witnesses must have cosigned it
//! (c2sp.org/tlog-cosignature). Unknown signatures are ignored, as c2sp.org/signed-note
//! requires.
//!
//! Not here: whether a checkpoint is consistent with an earlier one (see
//! [`crate::proof::verify_consistency`]), or whether cosignature timestamps are in the future
//! (the caller has the clock).

use crate::LedgerError;
use crate::note::{Note, VerifiedSignature, VerifierKey, Verifiers};
use crate::tree::Hash;

/// The parsed text of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `example.com/log42`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root of the RFC 6962 tree of `size` leaves.
    pub root: Hash,
    /// Opaque extension lines (not recommended; not auditable).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines. The origin must be one non-empty line.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, LedgerError> {
        check_line(origin).map_err(|_| LedgerError::MalformedCheckpoint("bad origin"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Parses a checkpoint's note text (with its final newline), exactly: at least three
    /// non-empty lines, a decimal size without leading zeros that fits in 64 bits, a canonical
    /// base64 root of 32 bytes, and non-empty extension lines.
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(LedgerError::MalformedCheckpoint(
                "text does not end in a newline",
            ))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        let size = lines
            .next()
            .ok_or(LedgerError::MalformedCheckpoint("missing size"))?;
        let root = lines
            .next()
            .ok_or(LedgerError::MalformedCheckpoint("missing root hash"))?;
        check_line(origin).map_err(|_| LedgerError::MalformedCheckpoint("bad origin"))?;
        let size = parse_decimal_u64(size).ok_or(LedgerError::MalformedCheckpoint("bad size"))?;
        let root = Hash::from_base64(root)
            .map_err(|_| LedgerError::MalformedCheckpoint("bad root hash"))?;
        let mut extensions = Vec::new();
        for ext in lines {
            check_line(ext)
                .map_err(|_| LedgerError::MalformedCheckpoint("empty extension line"))?;
            extensions.push(ext.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The note text, with its final newline.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// An unsigned note holding this checkpoint, ready for [`Note::sign`] and
    /// [`crate::cosignature::cosign`].
    pub fn to_note(&self) -> Result<Note, LedgerError> {
        for e in &self.extensions {
            check_line(e).map_err(|_| LedgerError::MalformedCheckpoint("empty extension line"))?;
        }
        check_line(&self.origin).map_err(|_| LedgerError::MalformedCheckpoint("bad origin"))?;
        Note::new(self.to_text())
    }
}

/// A checkpoint line: non-empty, one line, no control characters.
fn check_line(line: &str) -> Result<(), ()> {
    if line.is_empty() || line.bytes().any(|b| b < 0x20) {
        return Err(());
    }
    Ok(())
}

/// ASCII decimal without sign or leading zeros (`0` alone is zero), within `u64`.
pub(crate) fn parse_decimal_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// How a client trusts checkpoints of one log: the origin, the log's keys, and the witnesses
/// with the number of them that must cosign.
#[derive(Clone, Debug)]
pub struct CheckpointVerifier {
    origin: String,
    log_keys: Vec<VerifierKey>,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
    all: Verifiers,
}

impl CheckpointVerifier {
    /// Trusts checkpoints of `origin` signed by `log_key`, with no witness requirement.
    pub fn new(origin: &str, log_key: VerifierKey) -> Result<Self, LedgerError> {
        Self::with_witnesses(origin, vec![log_key], Vec::new(), 0)
    }

    /// Trusts checkpoints of `origin` signed by any of `log_keys` and cosigned by at least
    /// `quorum` distinct keys of `witnesses`.
    pub fn with_witnesses(
        origin: &str,
        log_keys: Vec<VerifierKey>,
        witnesses: Vec<VerifierKey>,
        quorum: usize,
    ) -> Result<Self, LedgerError> {
        check_line(origin).map_err(|_| LedgerError::MalformedCheckpoint("bad origin"))?;
        if log_keys.is_empty() {
            return Err(LedgerError::NoTrustedSignature);
        }
        if quorum > witnesses.len() {
            return Err(LedgerError::Quorum {
                got: witnesses.len(),
                want: quorum,
            });
        }
        let all = Verifiers::new(log_keys.iter().chain(witnesses.iter()).cloned())?;
        Ok(CheckpointVerifier {
            origin: origin.to_owned(),
            log_keys,
            witnesses,
            quorum,
            all,
        })
    }

    /// The expected origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Parses and verifies a signed checkpoint.
    pub fn open(&self, signed: &[u8]) -> Result<OpenedCheckpoint, LedgerError> {
        let note = Note::parse(signed)?;
        let verified = note.verify(&self.all)?;
        let is_log = |s: &VerifiedSignature| {
            self.log_keys
                .iter()
                .any(|k| k.name() == s.name && k.key_id() == s.key_id)
        };
        let is_witness = |s: &VerifiedSignature| {
            self.witnesses
                .iter()
                .any(|k| k.name() == s.name && k.key_id() == s.key_id)
        };
        let log_signatures: Vec<VerifiedSignature> = verified
            .verified
            .iter()
            .filter(|s| is_log(s))
            .cloned()
            .collect();
        if log_signatures.is_empty() {
            return Err(LedgerError::NoTrustedSignature);
        }
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != self.origin {
            return Err(LedgerError::OriginMismatch {
                got: checkpoint.origin,
                want: self.origin.clone(),
            });
        }
        let cosignatures: Vec<VerifiedSignature> = verified
            .verified
            .iter()
            .filter(|s| is_witness(s) && !is_log(s))
            .cloned()
            .collect();
        if cosignatures.len() < self.quorum {
            return Err(LedgerError::Quorum {
                got: cosignatures.len(),
                want: self.quorum,
            });
        }
        Ok(OpenedCheckpoint {
            checkpoint,
            note,
            log_signatures,
            cosignatures,
        })
    }
}

/// A checkpoint whose signatures verified.
#[derive(Clone, Debug)]
pub struct OpenedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note as received, every signature line kept (unknown ones included).
    pub note: Note,
    /// Verified signatures by the log's keys.
    pub log_signatures: Vec<VerifiedSignature>,
    /// Verified cosignatures by trusted witnesses, one per witness key.
    pub cosignatures: Vec<VerifiedSignature>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::cosign;
    use crate::note::{SignatureType, SignerKey};
    use crate::tree::leaf_hash;

    const SPEC_EXAMPLE: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

    #[test]
    fn spec_example_parses_and_round_trips() {
        let n = Note::parse(SPEC_EXAMPLE.as_bytes()).unwrap();
        let c = Checkpoint::parse(n.text()).unwrap();
        assert_eq!(c.origin, "example.com/behind-the-sofa");
        assert_eq!(c.size, 20852163);
        assert_eq!(
            c.root.to_base64(),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert!(c.extensions.is_empty());
        assert_eq!(c.to_text(), n.text());
        assert_eq!(n.to_bytes().unwrap(), SPEC_EXAMPLE.as_bytes());
    }

    #[test]
    fn strict_parsing() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        let ok = Checkpoint::parse(&format!("o\n0\n{root}\next one\next two\n")).unwrap();
        assert_eq!(ok.size, 0);
        assert_eq!(ok.extensions, vec!["ext one", "ext two"]);
        assert_eq!(Checkpoint::parse(&ok.to_text()).unwrap(), ok);
        assert_eq!(
            Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n"))
                .unwrap()
                .size,
            u64::MAX
        );
        for bad in [
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n 1\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("o\n1\n{}\n", root.trim_end_matches('=')),
            "o\n1\nAAAA\n".to_owned(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\n"),
            "o\n1\n".to_owned(),
            format!("o\r\n1\n{root}\n"),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
    }

    fn log_key() -> SignerKey {
        SignerKey::from_seed("example.com/log", SignatureType::Ed25519, &[1u8; 32]).unwrap()
    }

    fn witness(i: u8) -> SignerKey {
        SignerKey::from_seed(
            &format!("w{i}.example"),
            SignatureType::CosignatureV1,
            &[10 + i; 32],
        )
        .unwrap()
    }

    fn signed(cp: &Checkpoint, witnesses: &[SignerKey]) -> Vec<u8> {
        let mut n = cp.to_note().unwrap();
        n.sign(&log_key()).unwrap();
        for w in witnesses {
            cosign(&mut n, w, 1_700_000_000).unwrap();
        }
        n.to_bytes().unwrap()
    }

    #[test]
    fn verifier_checks_log_origin_and_quorum() {
        let cp = Checkpoint::new("example.com/log", 5, leaf_hash(b"x")).unwrap();
        let bytes = signed(&cp, &[witness(1), witness(2)]);
        let w: Vec<VerifierKey> = (1..=3).map(|i| witness(i).verifier()).collect();
        let v = CheckpointVerifier::with_witnesses(
            "example.com/log",
            vec![log_key().verifier()],
            w.clone(),
            2,
        )
        .unwrap();
        let opened = v.open(&bytes).unwrap();
        assert_eq!(opened.checkpoint, cp);
        assert_eq!(opened.cosignatures.len(), 2);
        assert_eq!(opened.cosignatures[0].timestamp, Some(1_700_000_000));
        // Quorum of three not met.
        let v3 = CheckpointVerifier::with_witnesses(
            "example.com/log",
            vec![log_key().verifier()],
            w.clone(),
            3,
        )
        .unwrap();
        assert!(matches!(
            v3.open(&bytes),
            Err(LedgerError::Quorum { got: 2, want: 3 })
        ));
        // Wrong origin.
        let other = CheckpointVerifier::new("example.com/other", log_key().verifier()).unwrap();
        assert!(matches!(
            other.open(&bytes),
            Err(LedgerError::OriginMismatch { .. })
        ));
        // Cosignatures alone are not enough: the log must have signed.
        let mut n = cp.to_note().unwrap();
        cosign(&mut n, &witness(1), 1).unwrap();
        let only_w =
            CheckpointVerifier::with_witnesses("example.com/log", vec![log_key().verifier()], w, 1)
                .unwrap();
        assert!(matches!(
            only_w.open(&n.to_bytes().unwrap()),
            Err(LedgerError::NoTrustedSignature)
        ));
        // An impossible quorum is refused up front.
        assert!(
            CheckpointVerifier::with_witnesses("o", vec![log_key().verifier()], vec![], 1).is_err()
        );
    }

    #[test]
    fn tampered_checkpoints_fail() {
        let cp = Checkpoint::new("example.com/log", 5, leaf_hash(b"x")).unwrap();
        let bytes = signed(&cp, &[]);
        let v = CheckpointVerifier::new("example.com/log", log_key().verifier()).unwrap();
        v.open(&bytes).unwrap();
        // Flip one bit in every byte of the text part: each must fail (parse or signature).
        let text_len = cp.to_text().len();
        for i in 0..text_len {
            for bit in [i % 8, 7 - i % 8] {
                let mut t = bytes.clone();
                t[i] ^= 1 << bit;
                assert!(v.open(&t).is_err(), "byte {i} bit {bit}");
            }
        }
    }
}
