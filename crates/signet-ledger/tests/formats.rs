//! The C2SP formats end to end: a witnessed checkpoint signed by an independent Ed25519
//! implementation, round trips of every encoding over random inputs, and parsers that never
//! panic on arbitrary bytes.

use proptest::prelude::*;
use signet_ledger::checkpoint::{Checkpoint, CheckpointVerifier};
use signet_ledger::cosignature::cosign;
use signet_ledger::note::{Note, SignatureType, SignerKey, VerifierKey};
use signet_ledger::proof::{MemoryTree, inclusion_proof};
use signet_ledger::proof_file::TlogProof;
use signet_ledger::tile::{
    Tile, TilePath, encode_entry_bundle, encode_index, entries_path, parse_entry_bundle,
};
use signet_ledger::tree::Hash;
use signet_ledger::witness::AddCheckpointRequest;

const CHECKPOINT_TEXT: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

/// A checkpoint signed by a log key (type 0x01, seed 0x01 × 32) and cosigned by a witness
/// (type 0x04, seed 0x42 × 32, time 1679315147), both computed with Python's `cryptography`
/// (OpenSSL Ed25519) from the C2SP layouts, independently of this crate.
const CROSS_SIGNED: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
\u{2014} example.com/behind-the-sofa be1zqQx8hYrJJIfiWfY39ShElJ74dPrOjXSgJJ2qG3vny2U7JyHN2kKCWb5H5e2MfxP7My2OyDRrDvCH/RbVubiZ8AE=\n\
\u{2014} witness.example/w1 8e2MRwAAAABkGFDLEqgtDUsneMqeLcGMqk8Xx08OQIVxF72ZJmEtUU5sbo5WiTljN+UF1cQ+vSoh1gRQ0wV3Nz9m8DFvjwHDTDcQBA==\n";
const LOG_VKEY: &str =
    "example.com/behind-the-sofa+6ded73a9+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
const WITNESS_VKEY: &str =
    "witness.example/w1+f1ed8c47+BCFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS";

#[test]
fn cross_implementation_witnessed_checkpoint() {
    let log = VerifierKey::parse(LOG_VKEY).unwrap();
    let witness = VerifierKey::parse(WITNESS_VKEY).unwrap();
    let v = CheckpointVerifier::with_witnesses(
        "example.com/behind-the-sofa",
        vec![log],
        vec![witness],
        1,
    )
    .unwrap();
    let opened = v.open(CROSS_SIGNED.as_bytes()).unwrap();
    assert_eq!(opened.checkpoint.size, 20852163);
    assert_eq!(opened.cosignatures[0].timestamp, Some(1679315147));

    // This crate, from the same seeds and time, produces the same bytes.
    let log_key = SignerKey::from_seed(
        "example.com/behind-the-sofa",
        SignatureType::Ed25519,
        &[1; 32],
    )
    .unwrap();
    let w_key = SignerKey::from_seed(
        "witness.example/w1",
        SignatureType::CosignatureV1,
        &[0x42; 32],
    )
    .unwrap();
    assert_eq!(log_key.verifier().to_string(), LOG_VKEY);
    let mut n = Note::new(CHECKPOINT_TEXT).unwrap();
    n.sign(&log_key).unwrap();
    cosign(&mut n, &w_key, 1679315147).unwrap();
    assert_eq!(n.to_bytes().unwrap(), CROSS_SIGNED.as_bytes());

    // Unknown extra signatures are ignored; a known-key forgery is fatal.
    let extra = format!(
        "{CROSS_SIGNED}\u{2014} someone.else/key AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    );
    let opened = v.open(extra.as_bytes()).unwrap();
    assert_eq!(opened.note.signatures().len(), 3);
    let forged = CROSS_SIGNED.replace("be1zqQx8", "be1zqQx9");
    assert!(v.open(forged.as_bytes()).is_err());
}

#[test]
fn offline_proof_end_to_end() {
    let log_key =
        SignerKey::from_seed("example.com/log", SignatureType::Ed25519, &[5; 32]).unwrap();
    let mut tree = MemoryTree::new();
    for i in 0..1000u32 {
        tree.push(format!("evidence event {i}").as_bytes()).unwrap();
    }
    let cp = Checkpoint::new("example.com/log", tree.size(), tree.root()).unwrap();
    let mut note = cp.to_note().unwrap();
    note.sign(&log_key).unwrap();
    let proof = TlogProof {
        extra: None,
        index: 617,
        proof: inclusion_proof(&tree, 617, tree.size()).unwrap(),
        checkpoint: note.to_bytes().unwrap(),
    };
    let file = proof.to_bytes();
    let v = CheckpointVerifier::new("example.com/log", log_key.verifier()).unwrap();
    let parsed = TlogProof::parse(&file).unwrap();
    parsed.verify(b"evidence event 617", &v).unwrap();
    assert!(parsed.verify(b"evidence event 618", &v).is_err());
    // A proof from another log key does not verify.
    let other = SignerKey::from_seed("example.com/log", SignatureType::Ed25519, &[6; 32]).unwrap();
    let v2 = CheckpointVerifier::new("example.com/log", other.verifier()).unwrap();
    assert!(parsed.verify(b"evidence event 617", &v2).is_err());
}

fn key_name() -> impl Strategy<Value = String> {
    "[a-z0-9./_-]{1,40}"
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn note_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Note::parse(&bytes);
        let _ = TlogProof::parse(&bytes);
        let _ = AddCheckpointRequest::parse(&bytes);
        let _ = parse_entry_bundle(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse(s);
            let _ = VerifierKey::parse(s);
            let _ = SignerKey::parse(s);
            let _ = TilePath::parse(s);
        }
    }

    #[test]
    fn mutated_notes_never_panic_and_never_verify_when_text_changes(
        seed in any::<[u8; 32]>(),
        size in any::<u64>(),
        root in hash(),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let key = SignerKey::from_seed("example.com/log", SignatureType::Ed25519, &seed).unwrap();
        let cp = Checkpoint::new("example.com/log", size, root).unwrap();
        let mut n = cp.to_note().unwrap();
        n.sign(&key).unwrap();
        let mut bytes = n.to_bytes().unwrap();
        let text_len = n.text().len();
        let i = pos.index(text_len);
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let v = CheckpointVerifier::new("example.com/log", key.verifier()).unwrap();
        prop_assert!(v.open(&bytes).is_err());
    }

    #[test]
    fn signed_notes_round_trip(
        text in "[ -~\u{e0}-\u{ff}\n]{0,200}",
        names in proptest::collection::vec(key_name(), 1..5),
        seeds in proptest::collection::vec(any::<[u8; 32]>(), 5),
    ) {
        let text = format!("{text}\n");
        let mut n = Note::new(text.clone()).unwrap();
        let mut keys = Vec::new();
        for (name, seed) in names.iter().zip(&seeds) {
            let k = SignerKey::from_seed(name, SignatureType::Ed25519, seed).unwrap();
            n.sign(&k).unwrap();
            keys.push(k.verifier());
        }
        let bytes = n.to_bytes().unwrap();
        let parsed = Note::parse(&bytes).unwrap();
        prop_assert_eq!(parsed.text(), text.as_str());
        prop_assert_eq!(&parsed, &n);
        let known = signet_ledger::Verifiers::new(keys.clone()).unwrap();
        prop_assert!(parsed.verify(&known).is_ok());
        for k in &keys {
            prop_assert_eq!(VerifierKey::parse(&k.to_string()).unwrap(), k.clone());
        }
    }

    #[test]
    fn signer_keys_round_trip(name in key_name(), seed in any::<[u8; 32]>(), cosigner in any::<bool>()) {
        let kind = if cosigner { SignatureType::CosignatureV1 } else { SignatureType::Ed25519 };
        let k = SignerKey::from_seed(&name, kind, &seed).unwrap();
        let again = SignerKey::parse(&k.to_private_string()).unwrap();
        prop_assert_eq!(again.verifier(), k.verifier());
    }

    #[test]
    fn checkpoints_round_trip(
        origin in "[a-z0-9./]{1,30}",
        size in any::<u64>(),
        root in hash(),
        extensions in proptest::collection::vec("[ -~]{1,20}", 0..3),
    ) {
        let cp = Checkpoint { origin, size, root, extensions };
        let text = cp.to_text();
        prop_assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
    }

    #[test]
    fn tile_paths_round_trip(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256) {
        let t = Tile::new(level, index, width).unwrap();
        prop_assert_eq!(TilePath::parse(&t.path()).unwrap(), TilePath::Hashes(t));
        let e = entries_path(index, width);
        prop_assert_eq!(TilePath::parse(&e).unwrap(), TilePath::Entries { index, width });
        // Every group is three digits; only the last lacks the x.
        let enc = encode_index(index);
        let groups: Vec<&str> = enc.split('/').collect();
        for (i, g) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() { g.strip_prefix('x').unwrap() } else { g };
            prop_assert_eq!(digits.len(), 3);
        }
    }

    #[test]
    fn entry_bundles_round_trip(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..=256)) {
        let bundle = encode_entry_bundle(&entries).unwrap();
        let parsed = parse_entry_bundle(&bundle).unwrap();
        prop_assert_eq!(parsed.len(), entries.len());
        for (a, b) in parsed.iter().zip(&entries) {
            prop_assert_eq!(*a, b.as_slice());
        }
    }

    #[test]
    fn proof_files_round_trip(
        extra in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        index in any::<u64>(),
        proof in proptest::collection::vec(hash(), 0..64),
    ) {
        let key = SignerKey::from_seed("l", SignatureType::Ed25519, &[1; 32]).unwrap();
        let mut n = Checkpoint::new("l", 1, Hash::default()).unwrap().to_note().unwrap();
        n.sign(&key).unwrap();
        let p = TlogProof { extra, index, proof, checkpoint: n.to_bytes().unwrap() };
        prop_assert_eq!(TlogProof::parse(&p.to_bytes()).unwrap(), p);
    }

    #[test]
    fn witness_requests_round_trip(old_size in any::<u64>(), proof in proptest::collection::vec(hash(), 0..=63)) {
        let key = SignerKey::from_seed("l", SignatureType::Ed25519, &[1; 32]).unwrap();
        let mut n = Checkpoint::new("l", 1, Hash::default()).unwrap().to_note().unwrap();
        n.sign(&key).unwrap();
        let r = AddCheckpointRequest { old_size, proof, checkpoint: n.to_bytes().unwrap() };
        prop_assert_eq!(AddCheckpointRequest::parse(&r.to_bytes()).unwrap(), r);
    }
}
