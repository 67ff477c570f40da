//! C2SP `tlog-cosignature`, the Ed25519 `cosignature/v1` type (c2sp.org/tlog-cosignature,
//! sections "Format" and "Ed25519 signed message"): key type `0x04`, key ID
//! `SHA-256(name || "\n" || 0x04 || key)[:4]`, signature `timestamp (u64, big-endian) ||
//! Ed25519 signature (64 bytes)`, over the message
//!
//! ```text
//! cosignature/v1
//! time <timestamp>
//! <checkpoint note text, with its final newline>
//! ```
//!
//! The timestamp is a parameter: this crate reads no clock. Verification of cosignature lines
//! inside a note goes through [`crate::note::Note::verify`] with a type-`0x04`
//! [`crate::note::VerifierKey`]; [`crate::checkpoint::CheckpointVerifier`] counts them
//! against a quorum. The ML-DSA-44 `subtree/v1` type of the same spec is not implemented.

use crate::LedgerError;
use crate::checkpoint::Checkpoint;
use crate::note::{Note, NoteSignature, NoteSigner, SignatureType};

/// The header line of the signed message.
pub const HEADER: &str = "cosignature/v1";
/// Largest timestamp the spec allows (`2^63 − 1`).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;
/// Length of a `timestamped_signature`: 8-byte timestamp and 64-byte Ed25519 signature.
pub const SIGNATURE_LEN: usize = 72;

/// The message a cosigner signs for `checkpoint_text` (the note text, with its final
/// newline) at `timestamp` (seconds since the Unix epoch).
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> Result<Vec<u8>, LedgerError> {
    if timestamp > MAX_TIMESTAMP {
        return Err(LedgerError::CosignatureTimestamp);
    }
    Ok(format!("{HEADER}\ntime {timestamp}\n{checkpoint_text}").into_bytes())
}

/// Splits a `timestamped_signature` into its timestamp and Ed25519 signature.
pub fn split_timestamped(signature: &[u8]) -> Result<(u64, [u8; 64]), LedgerError> {
    if signature.len() != SIGNATURE_LEN {
        return Err(LedgerError::SignatureInvalid);
    }
    let (ts, sig) = signature.split_at(8);
    let ts = u64::from_be_bytes(ts.try_into().map_err(|_| LedgerError::SignatureInvalid)?);
    if ts > MAX_TIMESTAMP {
        return Err(LedgerError::CosignatureTimestamp);
    }
    let sig: [u8; 64] = sig.try_into().map_err(|_| LedgerError::SignatureInvalid)?;
    Ok((ts, sig))
}

/// Cosigns a checkpoint note at `timestamp` with a type-`0x04` key and adds the signature
/// line to the note (replacing an earlier one by the same key). The note text must be a
/// checkpoint. Returns the added line.
///
/// Cosigning states that the cosigner verified the checkpoint's consistency with everything it
/// saw before; checking that is the caller's job.
pub fn cosign<S: NoteSigner + ?Sized>(
    note: &mut Note,
    signer: &S,
    timestamp: u64,
) -> Result<NoteSignature, LedgerError> {
    if signer.kind() != SignatureType::CosignatureV1 {
        return Err(LedgerError::WrongKeyType);
    }
    Checkpoint::parse(note.text())?;
    let msg = signed_message(note.text(), timestamp)?;
    let mut raw = timestamp.to_be_bytes().to_vec();
    raw.extend_from_slice(&signer.sign(&msg)?);
    let line = NoteSignature {
        name: signer.name().to_owned(),
        key_id: signer.key_id(),
        signature: raw,
    };
    note.add_signature(line.clone())?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{SignerKey, Verifiers, key_id};

    const CHECKPOINT: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn message_matches_the_spec_example() {
        let msg = signed_message(CHECKPOINT, 1679315147).unwrap();
        assert_eq!(
            String::from_utf8(msg).unwrap(),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
        assert!(signed_message(CHECKPOINT, MAX_TIMESTAMP + 1).is_err());
    }

    #[test]
    fn spec_example_signature_line_decodes() {
        // The witness line of c2sp.org/tlog-cosignature: its timestamp is the one in the
        // spec's example message.
        let n = Note::parse(
            format!("{CHECKPOINT}\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")
                .as_bytes(),
        )
        .unwrap();
        let sig = &n.signatures()[0];
        assert_eq!(sig.key_id, 0x8d66cf3f);
        let (ts, _) = split_timestamped(&sig.signature).unwrap();
        assert_eq!(ts, 1679315147);
    }

    #[test]
    fn cosign_and_verify_round_trip() {
        let w = SignerKey::from_seed(
            "witness.example/w1",
            SignatureType::CosignatureV1,
            &[9u8; 32],
        )
        .unwrap();
        let v = w.verifier();
        assert_eq!(
            v.key_id(),
            key_id(
                "witness.example/w1",
                SignatureType::CosignatureV1,
                &v.public_key()
            )
        );
        assert!(
            v.to_string()
                .starts_with(&format!("witness.example/w1+{:08x}+B", v.key_id()))
        );
        let mut n = Note::new(CHECKPOINT).unwrap();
        let line = cosign(&mut n, &w, 1_700_000_000).unwrap();
        assert_eq!(line.signature.len(), SIGNATURE_LEN);
        let reparsed = Note::parse(&n.to_bytes().unwrap()).unwrap();
        let ok = reparsed
            .verify(&Verifiers::new([v.clone()]).unwrap())
            .unwrap();
        assert_eq!(ok.verified[0].timestamp, Some(1_700_000_000));
        // The same key as type 0x01 does not match the line (other key ID): unknown, not valid.
        let as_ed =
            crate::note::VerifierKey::new(v.name(), SignatureType::Ed25519, &v.public_key())
                .unwrap();
        assert!(
            reparsed
                .verify(&Verifiers::new([as_ed.clone()]).unwrap())
                .is_err()
        );
        assert_eq!(as_ed.to_cosignature_v1(), v);
        // Tampering with the timestamp breaks the signature.
        let mut raw = line.signature.clone();
        raw[7] ^= 1;
        let mut t = Note::new(CHECKPOINT).unwrap();
        t.add_signature(NoteSignature {
            signature: raw,
            ..line.clone()
        })
        .unwrap();
        assert!(matches!(
            t.verify(&Verifiers::new([v.clone()]).unwrap()),
            Err(LedgerError::BadSignature { .. })
        ));
        // A timestamp above 2^63 − 1 is refused even before the signature is checked.
        let mut raw = line.signature.clone();
        raw[0] = 0x80;
        assert!(matches!(
            split_timestamped(&raw),
            Err(LedgerError::CosignatureTimestamp)
        ));
        // Only checkpoints are cosigned, and only with 0x04 keys.
        assert!(cosign(&mut Note::new("not a checkpoint\n").unwrap(), &w, 1).is_err());
        let ed = SignerKey::from_seed("log", SignatureType::Ed25519, &[9u8; 32]).unwrap();
        assert!(matches!(
            cosign(&mut Note::new(CHECKPOINT).unwrap(), &ed, 1),
            Err(LedgerError::WrongKeyType)
        ));
    }

    #[test]
    fn known_answer_from_an_independent_implementation() {
        // Computed with Python's `cryptography` package (OpenSSL's Ed25519), from the spec's
        // message layout: seed 0x42 × 32, name witness.example/w1, time 1679315147.
        let w = SignerKey::from_seed(
            "witness.example/w1",
            SignatureType::CosignatureV1,
            &[0x42u8; 32],
        )
        .unwrap();
        assert_eq!(
            w.verifier().to_string(),
            "witness.example/w1+f1ed8c47+BCFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS"
        );
        let mut n = Note::new(CHECKPOINT).unwrap();
        let line = cosign(&mut n, &w, 1679315147).unwrap();
        assert_eq!(
            line.line(),
            "\u{2014} witness.example/w1 8e2MRwAAAABkGFDLEqgtDUsneMqeLcGMqk8Xx08OQIVxF72ZJmEtUU5sbo5WiTljN+UF1cQ+vSoh1gRQ0wV3Nz9m8DFvjwHDTDcQBA==\n"
        );
    }

    #[test]
    fn an_external_signer_cosigns_like_a_signer_key() {
        use ed25519_dalek::Signer as _;
        let seed = [4u8; 32];
        let inner = SignerKey::from_seed("w.example", SignatureType::CosignatureV1, &seed).unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = key.verifying_key().to_bytes();
        let outer = crate::note::ExternalSigner::new(
            "w.example",
            SignatureType::CosignatureV1,
            &public,
            move |msg| Ok(key.sign(msg).to_bytes()),
        )
        .unwrap();
        let mut a = Note::new(CHECKPOINT).unwrap();
        let mut b = Note::new(CHECKPOINT).unwrap();
        let line_a = cosign(&mut a, &inner, 1679315147).unwrap();
        let line_b = cosign(&mut b, &outer, 1679315147).unwrap();
        assert_eq!(line_a, line_b);
        let known = Verifiers::new([inner.verifier()]).unwrap();
        let verified = b.verify(&known).unwrap();
        assert_eq!(verified.verified[0].timestamp, Some(1679315147));
    }
}
