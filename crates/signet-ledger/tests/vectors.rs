//! Known-answer tests from public Merkle tree vectors: transparency-dev/merkle's proof probes
//! and the CCTV `merkle/` vectors (provenance and licences in `tests/data/README.md`). Every
//! valid vector must verify, every invalid one must be rejected, and where a vector gives the
//! tree, the proofs this crate generates must be exactly the published ones.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use signet_ledger::proof::{MemoryTree, consistency_proof, inclusion_proof, tree_root};
use signet_ledger::tree::root_of;
use signet_ledger::{Hash, LedgerError, leaf_hash, verify_consistency, verify_inclusion};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn load(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

/// A JSON base64 string as a hash; a wrong length is an input the typed API refuses.
fn hash(v: &Value) -> Result<Hash, LedgerError> {
    Hash::from_slice(&b64(v))
}

/// A JSON list (or null) of base64 hashes.
fn hashes(v: &Value) -> Result<Vec<Hash>, LedgerError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(hash).collect(),
        other => panic!("not a proof: {other}"),
    }
}

fn u64_field(v: &Value, names: &[&str]) -> u64 {
    names
        .iter()
        .find_map(|n| v.get(n))
        .and_then(Value::as_u64)
        .unwrap()
}

/// Upstream-valid probes this crate rejects on purpose: their roots are not 32 bytes
/// (see tests/data/README.md).
const REJECTED_BY_DESIGN: &[&str] = &[
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json",
];

#[test]
fn transparency_dev_inclusion_probes() {
    let mut files = Vec::new();
    json_files(
        &data_dir().join("transparency-dev-merkle/inclusion"),
        &mut files,
    );
    let (mut valid, mut invalid) = (0, 0);
    for f in &files {
        let v = load(f);
        let want_err = v["wantErr"].as_bool().unwrap();
        let index = u64_field(&v, &["leafIdx", "leafIndex"]);
        let size = u64_field(&v, &["treeSize"]);
        let result = (|| {
            let leaf = hash(&v["leafHash"])?;
            let root = hash(&v["root"])?;
            let proof = hashes(&v["proof"])?;
            verify_inclusion(&leaf, index, size, &proof, &root)
        })();
        assert_eq!(result.is_err(), want_err, "{}: {:?}", f.display(), result);
        if want_err { invalid += 1 } else { valid += 1 }
    }
    assert_eq!((valid, invalid), (6, 92), "inclusion probe counts");
}

#[test]
fn transparency_dev_consistency_probes() {
    let mut files = Vec::new();
    let base = data_dir().join("transparency-dev-merkle");
    json_files(&base.join("consistency"), &mut files);
    let (mut valid, mut invalid, mut by_design) = (0, 0, 0);
    for f in &files {
        let v = load(f);
        let rel = f
            .strip_prefix(&base)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let want_err = v["wantErr"].as_bool().unwrap();
        let size1 = u64_field(&v, &["size1"]);
        let size2 = u64_field(&v, &["size2"]);
        let result = (|| {
            let root1 = hash(&v["root1"])?;
            let root2 = hash(&v["root2"])?;
            let proof = hashes(&v["proof"])?;
            verify_consistency(size1, size2, &root1, &root2, &proof)
        })();
        if REJECTED_BY_DESIGN.contains(&rel.as_str()) {
            assert!(!want_err, "{rel} is no longer marked valid upstream");
            assert!(
                matches!(result, Err(LedgerError::HashLength(12))),
                "{rel}: {result:?}"
            );
            by_design += 1;
            continue;
        }
        assert_eq!(result.is_err(), want_err, "{rel}: {result:?}");
        if want_err { invalid += 1 } else { valid += 1 }
    }
    assert_eq!(
        (valid, invalid, by_design),
        (5, 91, 2),
        "consistency probe counts"
    );
}

/// The RFC 6962 reference tree of transparency-dev/merkle's probes: eight leaves and the
/// root of each prefix.
const REFERENCE_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn reference_tree() -> MemoryTree {
    let mut t = MemoryTree::new();
    for l in REFERENCE_LEAVES {
        t.push(&unhex(l)).unwrap();
    }
    t
}

#[test]
fn reference_tree_roots() {
    let t = reference_tree();
    for (i, r) in REFERENCE_ROOTS.iter().enumerate() {
        assert_eq!(
            tree_root(&t, i as u64 + 1).unwrap().0.to_vec(),
            unhex(r),
            "size {}",
            i + 1
        );
    }
}

/// The happy-path probes, regenerated from the reference tree: generation gives the same proofs.
#[test]
fn transparency_dev_happy_paths_are_what_we_generate() {
    let t = reference_tree();
    let base = data_dir().join("transparency-dev-merkle");
    for d in 0..5 {
        let v = load(&base.join(format!("inclusion/{d}/happy-path.json")));
        let index = u64_field(&v, &["leafIdx", "leafIndex"]);
        let size = u64_field(&v, &["treeSize"]);
        assert_eq!(
            inclusion_proof(&t, index, size).unwrap(),
            hashes(&v["proof"]).unwrap(),
            "inclusion/{d}"
        );
        assert_eq!(tree_root(&t, size).unwrap(), hash(&v["root"]).unwrap());
        let v = load(&base.join(format!("consistency/{d}/happy-path.json")));
        let (m, n) = (u64_field(&v, &["size1"]), u64_field(&v, &["size2"]));
        assert_eq!(
            consistency_proof(&t, m, n).unwrap(),
            hashes(&v["proof"]).unwrap(),
            "consistency/{d}"
        );
    }
}

fn cctv_tree() -> (MemoryTree, Vec<Value>) {
    let heads = load(&data_dir().join("cctv-merkle/merkle_tree.json"));
    let heads = heads.as_array().unwrap().clone();
    let mut t = MemoryTree::new();
    for h in &heads {
        t.push(h["leaf_data"].as_str().unwrap().as_bytes()).unwrap();
    }
    (t, heads)
}

#[test]
fn cctv_tree_heads() {
    let (t, heads) = cctv_tree();
    assert_eq!(heads.len(), 16);
    let mut leaves = Vec::new();
    for (i, h) in heads.iter().enumerate() {
        let leaf = leaf_hash(h["leaf_data"].as_str().unwrap().as_bytes());
        assert_eq!(leaf, hash(&h["leaf_hash"]).unwrap(), "leaf {i}");
        leaves.push(leaf);
        assert_eq!(
            root_of(&leaves),
            hash(&h["root_hash"]).unwrap(),
            "root {}",
            i + 1
        );
        assert_eq!(
            tree_root(&t, i as u64 + 1).unwrap(),
            hash(&h["root_hash"]).unwrap()
        );
    }
}

#[test]
fn cctv_inclusion() {
    let (t, _) = cctv_tree();
    let valid = load(&data_dir().join("cctv-merkle/inclusion-valid.json"));
    for (i, v) in valid.as_array().unwrap().iter().enumerate() {
        let index = u64_field(v, &["leaf_index"]);
        let size = u64_field(v, &["tree_size"]);
        let proof = hashes(&v["inclusion_path"]).unwrap();
        verify_inclusion(
            &hash(&v["leaf_hash"]).unwrap(),
            index,
            size,
            &proof,
            &hash(&v["root_hash"]).unwrap(),
        )
        .unwrap_or_else(|e| panic!("valid {i}: {e}"));
        assert_eq!(
            inclusion_proof(&t, index, size).unwrap(),
            proof,
            "generation {i}"
        );
    }
    let invalid = load(&data_dir().join("cctv-merkle/inclusion-invalid.json"));
    for (i, v) in invalid.as_array().unwrap().iter().enumerate() {
        let r = (|| {
            let proof = hashes(&v["inclusion_path"])?;
            verify_inclusion(
                &hash(&v["leaf_hash"])?,
                u64_field(v, &["leaf_index"]),
                u64_field(v, &["tree_size"]),
                &proof,
                &hash(&v["root_hash"])?,
            )
        })();
        assert!(r.is_err(), "invalid {i} ({}) accepted", v["comment"]);
    }
}

#[test]
fn cctv_consistency() {
    let (t, _) = cctv_tree();
    let valid = load(&data_dir().join("cctv-merkle/consistency-valid.json"));
    for (i, v) in valid.as_array().unwrap().iter().enumerate() {
        let (m, n) = (u64_field(v, &["old_size"]), u64_field(v, &["new_size"]));
        let proof = hashes(&v["consistency_path"]).unwrap();
        verify_consistency(
            m,
            n,
            &hash(&v["old_root"]).unwrap(),
            &hash(&v["new_root"]).unwrap(),
            &proof,
        )
        .unwrap_or_else(|e| panic!("valid {i}: {e}"));
        assert_eq!(
            consistency_proof(&t, m, n).unwrap(),
            proof,
            "generation {i}"
        );
    }
    let invalid = load(&data_dir().join("cctv-merkle/consistency-invalid.json"));
    assert_eq!(invalid.as_array().unwrap().len(), 16);
    for (i, v) in invalid.as_array().unwrap().iter().enumerate() {
        let r = (|| {
            let proof = hashes(&v["consistency_path"])?;
            verify_consistency(
                u64_field(v, &["old_size"]),
                u64_field(v, &["new_size"]),
                &hash(&v["old_root"])?,
                &hash(&v["new_root"])?,
                &proof,
            )
        })();
        assert!(r.is_err(), "invalid {i} ({}) accepted", v["comment"]);
    }
}

/// Every vector file is listed in the manifest with its upstream path and commit.
#[test]
fn manifest_covers_every_vector_file() {
    let manifest = fs::read_to_string(data_dir().join("MANIFEST.tsv")).unwrap();
    let listed: Vec<&str> = manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let mut files = Vec::new();
    json_files(&data_dir(), &mut files);
    assert_eq!(files.len(), listed.len());
    for f in files {
        let rel = f
            .strip_prefix(data_dir())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        assert!(listed.contains(&rel.as_str()), "{rel} not in MANIFEST.tsv");
    }
}
