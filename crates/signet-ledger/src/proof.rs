//! Inclusion and consistency proofs: generation from stored hashes (RFC 9162 §2.1.3.1 `PATH`
//! and §2.1.4.1 `SUBPROOF`, the same proofs as RFC 6962 §2.1.1–2.1.2) and verification by the
//! exact algorithms of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
//!
//! Generation reads the hashes of complete subtrees through [`HashReader`], one batch per
//! proof, so that a tile-backed store ([`crate::tile::TileHashReader`]) fetches each tile
//! once. [`MemoryTree`] is the in-memory reader used by tests and small tools.
//!
//! Cases outside the RFC's `0 < first < second` for consistency are decided as follows, in
//! line with the public test vectors: `first > second` fails; `first == second` needs an empty
//! proof and equal roots; `first == 0` needs an empty proof and the first root to be the empty
//! tree's (every tree extends the empty tree, so nothing more can be checked).
//!
//! Nothing here authenticates a root: that is a signed checkpoint's job.

use crate::LedgerError;
use crate::tree::{CompactRange, EMPTY_ROOT, Hash, NodeId, fold_right, node_hash, range_nodes};

/// Most hashes a proof can hold for trees of up to `u64::MAX` leaves (one per level).
pub const MAX_PROOF_HASHES: usize = 64;

/// A failure reported by a [`HashReader`]: a missing hash, a storage or network error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HashReadError(pub Box<dyn std::error::Error + Send + Sync>);

impl HashReadError {
    /// Wraps any error or message.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        HashReadError(err.into())
    }
}

/// A source of stored hashes: the hash of any complete subtree of the tree the proof is for.
///
/// Proof generation asks for all the hashes it needs in one call, in an order of its choosing,
/// and expects them back in that order. A log service backs this with tiles
/// ([`crate::tile::TileHashReader`]) or a table keyed by [`crate::tile::stored_hash_index`].
pub trait HashReader {
    /// Returns the hashes of `nodes`, in order. Every node asked for is a complete subtree
    /// of the tree the proof is generated for.
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError>;
}

impl<F> HashReader for F
where
    F: Fn(&[NodeId]) -> Result<Vec<Hash>, HashReadError>,
{
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        self(nodes)
    }
}

/// Largest power of two strictly smaller than `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The leaf ranges whose hashes form the inclusion proof of leaf `m` in `[lo, hi)`, from
/// the leaf's sibling up (RFC 9162 §2.1.3.1 `PATH`).
fn path_ranges(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
    if hi - lo <= 1 {
        return;
    }
    let k = split_point(hi - lo);
    if m < lo + k {
        path_ranges(m, lo, lo + k, out);
        out.push((lo + k, hi));
    } else {
        path_ranges(m, lo + k, hi, out);
        out.push((lo, lo + k));
    }
}

/// The leaf ranges whose hashes form the consistency proof from the first `m` leaves of
/// `[lo, hi)` (RFC 9162 §2.1.4.1 `SUBPROOF`, with `b` true while `[lo, lo+m)` is still the
/// whole old tree).
fn subproof_ranges(m: u64, lo: u64, hi: u64, b: bool, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if m == n {
        if !b {
            out.push((lo, hi));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof_ranges(m, lo, lo + k, b, out);
        out.push((lo + k, hi));
    } else {
        subproof_ranges(m - k, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

/// Reads the hashes of leaf ranges of the tree, each the hash of a node of the RFC 6962 tree,
/// in one batch.
fn range_hashes<R: HashReader + ?Sized>(
    reader: &R,
    ranges: &[(u64, u64)],
) -> Result<Vec<Hash>, LedgerError> {
    let per_range: Vec<Vec<NodeId>> = ranges.iter().map(|&(a, b)| range_nodes(a, b)).collect();
    let wanted: Vec<NodeId> = per_range.iter().flatten().copied().collect();
    let got = reader.read_hashes(&wanted)?;
    if got.len() != wanted.len() {
        return Err(LedgerError::Read(HashReadError::new(format!(
            "asked for {} hashes, got {}",
            wanted.len(),
            got.len()
        ))));
    }
    let mut out = Vec::with_capacity(ranges.len());
    let mut at = 0;
    for nodes in &per_range {
        let slice = got.get(at..at + nodes.len()).unwrap_or_default();
        at += nodes.len();
        out.push(fold_right(slice).unwrap_or(EMPTY_ROOT));
    }
    Ok(out)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, from the leaf's sibling
/// up to a child of the root.
pub fn inclusion_proof<R: HashReader + ?Sized>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LedgerError> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    let mut ranges = Vec::new();
    path_ranges(index, 0, size, &mut ranges);
    range_hashes(reader, &ranges)
}

/// The consistency proof from the tree of `old_size` leaves to the tree of `new_size` leaves.
/// Empty when the sizes are equal or the old tree is empty.
pub fn consistency_proof<R: HashReader + ?Sized>(
    reader: &R,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::SizeOrder {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == new_size || old_size == 0 {
        return Ok(Vec::new());
    }
    let mut ranges = Vec::new();
    subproof_ranges(old_size, 0, new_size, true, &mut ranges);
    range_hashes(reader, &ranges)
}

/// The root of the tree of `size` leaves, from its stored complete subtrees.
pub fn tree_root<R: HashReader + ?Sized>(reader: &R, size: u64) -> Result<Hash, LedgerError> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    Ok(range_hashes(reader, &[(0, size)])?
        .first()
        .copied()
        .unwrap_or(EMPTY_ROOT))
}

/// Right-shifts `fn_` and `sn` together until the low bit of `fn_` is set or `fn_` is 0.
fn shift_until_odd_or_zero(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// The root an inclusion proof leads to, by RFC 9162 §2.1.3.2 steps 1–5, with the step 6
/// check that the path had the right length (`sn` reaches 0). Compare the result with a
/// trusted root, or call [`verify_inclusion`].
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, LedgerError> {
    // 1. leaf_index must be below tree_size.
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(LedgerError::ProofLength {
            got: proof.len(),
            want: MAX_PROOF_HASHES,
        });
    }
    // 2.–4.
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf_hash;
    // 5.
    for p in proof {
        if sn == 0 {
            return Err(LedgerError::InclusionMismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 6. (the length half): the path must have reached the root.
    if sn != 0 {
        return Err(LedgerError::InclusionMismatch);
    }
    Ok(r)
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves with root `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    if root_from_inclusion_proof(leaf_hash, index, size, proof)? == *root {
        Ok(())
    } else {
        Err(LedgerError::InclusionMismatch)
    }
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2 for `0 < old_size < new_size`;
/// the other cases as described in the module documentation).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::SizeOrder {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(LedgerError::ProofNotEmpty);
        }
        if old_root != new_root || (old_size == 0 && *old_root != EMPTY_ROOT) {
            return Err(LedgerError::ConsistencyMismatch);
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(LedgerError::ProofNotEmpty);
        }
        if *old_root != EMPTY_ROOT {
            return Err(LedgerError::ConsistencyMismatch);
        }
        return Ok(());
    }
    // 1. An empty path fails.
    if proof.is_empty() {
        return Err(LedgerError::ConsistencyMismatch);
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(LedgerError::ProofLength {
            got: proof.len(),
            want: MAX_PROOF_HASHES,
        });
    }
    // 2. If first is a power of two, the path implicitly starts with first_hash.
    let (mut fr, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        // 5. (for this case) fr and sr start at the path's first value.
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(LedgerError::ConsistencyMismatch),
        }
    };
    let mut sr = fr;
    // 3.
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    // 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 6.
    for c in rest {
        if sn == 0 {
            return Err(LedgerError::ConsistencyMismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    if fr == *old_root && sr == *new_root && sn == 0 {
        Ok(())
    } else {
        Err(LedgerError::ConsistencyMismatch)
    }
}

/// A whole tree in memory: every complete subtree's hash, by level. For tests, tools and
/// small logs; a real log keeps the same hashes in tiles.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    /// `levels[l][n]` is the hash of node (l, n).
    levels: Vec<Vec<Hash>>,
    edge: CompactRange,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash and returns its index.
    pub fn push_hash(&mut self, leaf: Hash) -> Result<u64, LedgerError> {
        let levels = &mut self.levels;
        self.edge.push(leaf, |id, h| {
            let l = usize::from(id.level);
            if levels.len() <= l {
                levels.resize_with(l + 1, Vec::new);
            }
            if let Some(level) = levels.get_mut(l) {
                level.push(*h);
            }
        })
    }

    /// Appends an entry (hashed as a leaf) and returns its index.
    pub fn push(&mut self, entry: &[u8]) -> Result<u64, LedgerError> {
        self.push_hash(crate::tree::leaf_hash(entry))
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.edge.root()
    }

    /// The hash of a stored node, if the node is complete.
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let i = usize::try_from(id.index).ok()?;
        self.levels.get(usize::from(id.level))?.get(i).copied()
    }
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        nodes
            .iter()
            .map(|id| {
                self.node(*id).ok_or_else(|| {
                    HashReadError::new(format!("no node at level {} index {}", id.level, id.index))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{leaf_hash, root_of};

    fn tree(n: u64) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.push(&i.to_be_bytes()).unwrap();
        }
        t
    }

    #[test]
    fn every_inclusion_proof_verifies_in_small_trees() {
        let t = tree(70);
        for size in 1..=70u64 {
            let root = tree_root(&t, size).unwrap();
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            assert_eq!(root, root_of(&leaves));
            for i in 0..size {
                let p = inclusion_proof(&t, i, size).unwrap();
                verify_inclusion(&leaves[i as usize], i, size, &p, &root).unwrap();
                let mut wrong = root;
                wrong.0[31] ^= 1;
                assert!(verify_inclusion(&leaves[i as usize], i, size, &p, &wrong).is_err());
                if size > 1 {
                    assert!(verify_inclusion(&leaves[i as usize], i ^ 1, size, &p, &root).is_err());
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_in_small_trees() {
        let t = tree(40);
        for n in 0..=40u64 {
            let rn = tree_root(&t, n).unwrap();
            for m in 0..=n {
                let rm = tree_root(&t, m).unwrap();
                let p = consistency_proof(&t, m, n).unwrap();
                verify_consistency(m, n, &rm, &rn, &p).unwrap();
                if m > 0 && m < n {
                    assert!(verify_consistency(m, n, &rn, &rm, &p).is_err());
                    assert!(verify_consistency(m, n, &rm, &rn, &p[1..]).is_err());
                }
            }
        }
    }

    #[test]
    fn edge_cases() {
        let t = tree(8);
        assert!(matches!(
            inclusion_proof(&t, 8, 8),
            Err(LedgerError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            consistency_proof(&t, 5, 4),
            Err(LedgerError::SizeOrder { .. })
        ));
        // Reading beyond the stored tree is the reader's error, not a panic.
        assert!(matches!(
            inclusion_proof(&t, 3, 9),
            Err(LedgerError::Read(_))
        ));
        assert_eq!(tree_root(&t, 0).unwrap(), EMPTY_ROOT);
        let leaf = leaf_hash(b"x");
        assert!(verify_consistency(0, 5, &leaf, &leaf, &[]).is_err());
        assert!(verify_consistency(0, 5, &EMPTY_ROOT, &leaf, &[]).is_ok());
        assert!(verify_consistency(0, 0, &leaf, &leaf, &[]).is_err());
        let long = vec![leaf; MAX_PROOF_HASHES + 1];
        assert!(verify_inclusion(&leaf, 0, u64::MAX, &long, &leaf).is_err());
        assert!(verify_consistency(1, u64::MAX, &leaf, &leaf, &long).is_err());
    }

    #[test]
    fn closures_are_readers() {
        let t = tree(5);
        let reader = |nodes: &[NodeId]| t.read_hashes(nodes);
        assert_eq!(
            inclusion_proof(&reader, 2, 5).unwrap(),
            inclusion_proof(&t, 2, 5).unwrap()
        );
    }
}
