//! Property tests of the Merkle tree over random sizes: roots equal the textbook recursive
//! MTH, every generated proof verifies, and any flipped bit (in the proof, the leaf or a root)
//! or shifted index or size makes verification fail.

use std::sync::OnceLock;

use proptest::prelude::*;
use signet_ledger::proof::{MemoryTree, consistency_proof, inclusion_proof, tree_root};
use signet_ledger::tree::{EMPTY_ROOT, Hash, leaf_hash, node_hash};
use signet_ledger::{verify_consistency, verify_inclusion};

const MAX: u64 = 4096;

fn leaf(i: u64) -> Hash {
    leaf_hash(format!("entry {i}").as_bytes())
}

/// One tree of `MAX` leaves; the nodes of a prefix tree are the same, so it serves every size.
fn tree() -> &'static MemoryTree {
    static TREE: OnceLock<MemoryTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut t = MemoryTree::new();
        for i in 0..MAX {
            t.push_hash(leaf(i)).unwrap();
        }
        t
    })
}

/// The recursive definition of RFC 6962 §2.1, written independently of the crate.
fn naive_mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
        }
    }
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut x = *h;
    x.0[bit / 8 % 32] ^= 1 << (bit % 8);
    x
}

#[test]
fn exhaustive_small_trees() {
    let t = tree();
    for n in 1..=200u64 {
        let root = tree_root(t, n).unwrap();
        for i in 0..n {
            let p = inclusion_proof(t, i, n).unwrap();
            verify_inclusion(&leaf(i), i, n, &p, &root).unwrap();
        }
        for m in 0..=n {
            let p = consistency_proof(t, m, n).unwrap();
            verify_consistency(m, n, &tree_root(t, m).unwrap(), &root, &p).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn roots_match_naive_mth(n in 0..MAX) {
        let leaves: Vec<Hash> = (0..n).map(leaf).collect();
        prop_assert_eq!(tree_root(tree(), n).unwrap(), naive_mth(&leaves));
    }

    #[test]
    fn inclusion_verifies_and_tampering_fails(
        n in 1..=MAX,
        i_seed in any::<u64>(),
        bit in 0usize..256,
        which in any::<prop::sample::Index>(),
    ) {
        let t = tree();
        let i = i_seed % n;
        let root = tree_root(t, n).unwrap();
        let p = inclusion_proof(t, i, n).unwrap();
        prop_assert!(verify_inclusion(&leaf(i), i, n, &p, &root).is_ok());
        // A flipped bit in any proof hash, the leaf or the root fails.
        if !p.is_empty() {
            let mut q = p.clone();
            let k = which.index(q.len());
            q[k] = flip(&q[k], bit);
            prop_assert!(verify_inclusion(&leaf(i), i, n, &q, &root).is_err());
        }
        prop_assert!(verify_inclusion(&flip(&leaf(i), bit), i, n, &p, &root).is_err());
        prop_assert!(verify_inclusion(&leaf(i), i, n, &p, &flip(&root, bit)).is_err());
        // Another leaf, a dropped or an extra hash fail.
        if n > 1 {
            let j = (i + 1) % n;
            prop_assert!(verify_inclusion(&leaf(i), j, n, &p, &root).is_err());
            prop_assert!(verify_inclusion(&leaf(j), i, n, &p, &root).is_err());
        }
        if !p.is_empty() {
            prop_assert!(verify_inclusion(&leaf(i), i, n, &p[..p.len() - 1], &root).is_err());
        }
        let mut longer = p.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&leaf(i), i, n, &longer, &root).is_err());
        prop_assert!(verify_inclusion(&leaf(i), n, n, &p, &root).is_err());
    }

    #[test]
    fn consistency_verifies_and_tampering_fails(
        n in 1..=MAX,
        m_seed in any::<u64>(),
        bit in 0usize..256,
        which in any::<prop::sample::Index>(),
    ) {
        let t = tree();
        let m = m_seed % (n + 1);
        let (rm, rn) = (tree_root(t, m).unwrap(), tree_root(t, n).unwrap());
        let p = consistency_proof(t, m, n).unwrap();
        prop_assert!(verify_consistency(m, n, &rm, &rn, &p).is_ok());
        if 0 < m && m < n {
            prop_assert!(!p.is_empty());
            let mut q = p.clone();
            let k = which.index(q.len());
            q[k] = flip(&q[k], bit);
            prop_assert!(verify_consistency(m, n, &rm, &rn, &q).is_err());
            prop_assert!(verify_consistency(m, n, &flip(&rm, bit), &rn, &p).is_err());
            prop_assert!(verify_consistency(m, n, &rm, &flip(&rn, bit), &p).is_err());
            prop_assert!(verify_consistency(m, n, &rn, &rm, &p).is_err());
            prop_assert!(verify_consistency(m, n, &rm, &rn, &p[..p.len() - 1]).is_err());
        }
        if m == n {
            prop_assert!(p.is_empty());
            prop_assert!(verify_consistency(m, n, &rm, &flip(&rn, bit), &p).is_err());
        }
    }
}
