//! C2SP `tlog-proof` offline proof files (c2sp.org/tlog-proof, section "Format"), the
//! `.tlog-proof` files a third party checks without contacting the log:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional, unauthenticated)
//! index <decimal>
//! <base64 hash>             (zero or more: the inclusion proof, leaf's sibling first)
//!
//! <the signed checkpoint, verbatim>
//! ```
//!
//! [`TlogProof::verify`] checks that an entry is in the log: the checkpoint opens under a
//! [`CheckpointVerifier`] (log signature, origin, witness quorum) and the inclusion proof
//! leads from the entry's leaf hash to the checkpoint's root. The extra data is carried, never
//! trusted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::LedgerError;
use crate::checkpoint::{CheckpointVerifier, OpenedCheckpoint, parse_decimal_u64};
use crate::lines::Lines;
use crate::note::{MAX_NOTE_SIZE, Note};
use crate::proof::{MAX_PROOF_HASHES, verify_inclusion};
use crate::tree::{Hash, leaf_hash};

/// The first line of every proof file.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Largest proof file accepted, in bytes (a checkpoint note plus headroom).
pub const MAX_PROOF_FILE_SIZE: usize = MAX_NOTE_SIZE + 64 * 1024;

/// An offline proof that an entry is in a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque application data; not authenticated.
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the entry.
    pub index: u64,
    /// Inclusion proof in the checkpoint's tree, from the leaf's sibling up.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, byte for byte as the log (and witnesses) produced it.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// Parses a proof file. The checkpoint must be a well-formed signed note; its signatures
    /// are checked by [`TlogProof::verify`].
    pub fn parse(bytes: &[u8]) -> Result<Self, LedgerError> {
        const BAD: fn(&'static str) -> LedgerError = LedgerError::MalformedProof;
        if bytes.len() > MAX_PROOF_FILE_SIZE {
            return Err(BAD("too large"));
        }
        let mut lines = Lines::new(bytes, BAD, true);
        if lines.next_line()? != HEADER {
            return Err(BAD("not a c2sp.org/tlog-proof@v1 file"));
        }
        let mut line = lines.next_line()?;
        let extra = match line.strip_prefix("extra ") {
            Some(b64) => {
                let data = B64.decode(b64).map_err(|_| BAD("extra data base64"))?;
                line = lines.next_line()?;
                Some(data)
            }
            None => None,
        };
        let index = line
            .strip_prefix("index ")
            .ok_or(BAD("missing index line"))?;
        let index = parse_decimal_u64(index).ok_or(BAD("bad index"))?;
        let proof = lines.hashes(MAX_PROOF_HASHES, "too many proof hashes")?;
        let checkpoint = lines.rest().to_vec();
        Note::parse(&checkpoint)?;
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint,
        })
    }

    /// The proof file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }

    /// Checks that `entry` is at [`Self::index`] in the log `verifier` trusts: the checkpoint
    /// verifies, and the inclusion proof leads from the entry's leaf hash to its root.
    pub fn verify(
        &self,
        entry: &[u8],
        verifier: &CheckpointVerifier,
    ) -> Result<OpenedCheckpoint, LedgerError> {
        self.verify_leaf_hash(&leaf_hash(entry), verifier)
    }

    /// As [`Self::verify`], for a caller that has only the entry's leaf hash.
    pub fn verify_leaf_hash(
        &self,
        leaf: &Hash,
        verifier: &CheckpointVerifier,
    ) -> Result<OpenedCheckpoint, LedgerError> {
        let opened = verifier.open(&self.checkpoint)?;
        let cp = &opened.checkpoint;
        verify_inclusion(leaf, self.index, cp.size, &self.proof, &cp.root)?;
        Ok(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::cosignature::cosign;
    use crate::note::{SignatureType, SignerKey};
    use crate::proof::{MemoryTree, inclusion_proof};

    struct Fixture {
        log: SignerKey,
        witness: SignerKey,
        tree: MemoryTree,
        checkpoint: Vec<u8>,
    }

    fn fixture() -> Fixture {
        let log =
            SignerKey::from_seed("example.com/log", SignatureType::Ed25519, &[3u8; 32]).unwrap();
        let witness =
            SignerKey::from_seed("w.example", SignatureType::CosignatureV1, &[4u8; 32]).unwrap();
        let mut tree = MemoryTree::new();
        for i in 0..21u32 {
            tree.push(format!("entry {i}").as_bytes()).unwrap();
        }
        let cp = Checkpoint::new("example.com/log", tree.size(), tree.root()).unwrap();
        let mut n = cp.to_note().unwrap();
        n.sign(&log).unwrap();
        cosign(&mut n, &witness, 1_700_000_000).unwrap();
        Fixture {
            checkpoint: n.to_bytes().unwrap(),
            log,
            witness,
            tree,
        }
    }

    fn verifier(f: &Fixture, quorum: usize) -> CheckpointVerifier {
        CheckpointVerifier::with_witnesses(
            "example.com/log",
            vec![f.log.verifier()],
            vec![f.witness.verifier()],
            quorum,
        )
        .unwrap()
    }

    #[test]
    fn spec_example_layout_parses() {
        // The example of c2sp.org/tlog-proof with its elided signatures replaced by a real
        // checkpoint (the spec's lines are abbreviated with "[...]").
        let f = fixture();
        let head = "c2sp.org/tlog-proof@v1\n\
                    extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n\
                    index 73894\n\
                    gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
                    B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\
                    EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n\
                    RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n\
                    AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\
                    \n";
        let mut bytes = head.as_bytes().to_vec();
        bytes.extend_from_slice(&f.checkpoint);
        let p = TlogProof::parse(&bytes).unwrap();
        assert_eq!(p.index, 73894);
        assert!(
            p.extra
                .as_deref()
                .unwrap()
                .starts_with(b"age-v1.2.1-darwin-arm64.tar.gz")
        );
        assert_eq!(p.proof.len(), 5);
        assert_eq!(p.to_bytes(), bytes);
    }

    #[test]
    fn round_trip_and_verify() {
        let f = fixture();
        for index in 0..f.tree.size() {
            let proof = inclusion_proof(&f.tree, index, f.tree.size()).unwrap();
            let p = TlogProof {
                extra: None,
                index,
                proof,
                checkpoint: f.checkpoint.clone(),
            };
            let parsed = TlogProof::parse(&p.to_bytes()).unwrap();
            assert_eq!(parsed, p);
            let entry = format!("entry {index}");
            let opened = parsed.verify(entry.as_bytes(), &verifier(&f, 1)).unwrap();
            assert_eq!(opened.cosignatures.len(), 1);
            assert!(parsed.verify(b"another entry", &verifier(&f, 1)).is_err());
            let moved = TlogProof {
                index: (index + 1) % f.tree.size(),
                ..parsed.clone()
            };
            assert!(moved.verify(entry.as_bytes(), &verifier(&f, 1)).is_err());
        }
    }

    #[test]
    fn tampering_and_malformed_files_fail() {
        let f = fixture();
        let proof = inclusion_proof(&f.tree, 5, f.tree.size()).unwrap();
        let p = TlogProof {
            extra: Some(b"ctx".to_vec()),
            index: 5,
            proof,
            checkpoint: f.checkpoint.clone(),
        };
        let bytes = p.to_bytes();
        let v = verifier(&f, 1);
        p.verify(b"entry 5", &v).unwrap();
        // A bit flip anywhere before the checkpoint's signature lines is caught, except in
        // the unauthenticated extra line, which may only fail to parse.
        let extra_line = format!("extra {}\n", B64.encode(b"ctx"));
        let extra_at = bytes
            .windows(extra_line.len())
            .position(|w| w == extra_line.as_bytes())
            .unwrap();
        let sigs_at =
            bytes.len() - (f.checkpoint.len() - Note::parse(&f.checkpoint).unwrap().text().len());
        for i in 0..sigs_at {
            if (extra_at..extra_at + extra_line.len()).contains(&i) {
                continue;
            }
            // One bit per byte, a different one each time (Ed25519 in debug builds is slow).
            let bit = i % 8;
            let mut t = bytes.clone();
            t[i] ^= 1 << bit;
            let ok = TlogProof::parse(&t).and_then(|q| q.verify(b"entry 5", &v));
            assert!(ok.is_err(), "byte {i} bit {bit}");
        }
        for bad in [
            &b""[..],
            b"c2sp.org/tlog-proof@v2\nindex 0\n\n",
            b"c2sp.org/tlog-proof@v1\nindex 01\n\n",
            b"c2sp.org/tlog-proof@v1\nindex -1\n\n",
            b"c2sp.org/tlog-proof@v1\nextra !!\nindex 0\n\n",
            b"c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\n",
            b"c2sp.org/tlog-proof@v1\nindex 0\n",
            b"c2sp.org/tlog-proof@v1\nindex 0\n\nnot a note",
            b"c2sp.org/tlog-proof@v1\r\nindex 0\n\n",
        ] {
            assert!(
                TlogProof::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(
            "c2sp.org/tlog-proof@v1\nindex 0\n{}\n",
            format!("{}\n", Hash::default()).repeat(65)
        );
        let mut long = long.into_bytes();
        long.extend_from_slice(&f.checkpoint);
        assert!(TlogProof::parse(&long).is_err());
    }
}
