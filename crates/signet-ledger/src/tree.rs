//! RFC 6962 Merkle tree hashing (RFC 6962 §2.1, unchanged in RFC 9162 §2.1.1): the
//! [`Hash`](struct@Hash) type, leaf and interior-node hashes, the Merkle Tree Hash (MTH) of a list of
//! leaves, and a [`CompactRange`] that appends leaves one at a time and reports every
//! complete subtree it closes (what a log stores, in tiles or elsewhere).
//!
//! Nodes are named by [`NodeId`]: level `l` and index `n` denote the complete subtree over the
//! leaves `[n·2^l, (n+1)·2^l)`. Only complete subtrees are ever stored; every other hash a
//! proof needs is computed from them.
//!
//! Not here: proofs ([`crate::proof`]), tiles ([`crate::tile`]), storage of any kind.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest as _, Sha256};

use crate::LedgerError;

/// Size of a SHA-256 hash in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

/// The root of the empty tree: `SHA-256()` of nothing (RFC 6962 §2.1, MTH({})).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

impl Hash {
    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; HASH_SIZE]) -> Self {
        Hash(bytes)
    }

    /// Takes exactly 32 bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, LedgerError> {
        let array: [u8; HASH_SIZE] = bytes
            .try_into()
            .map_err(|_| LedgerError::HashLength(bytes.len()))?;
        Ok(Hash(array))
    }

    /// Parses the standard, padded base64 of exactly 32 bytes (the form of checkpoints and
    /// proof files). Non-canonical encodings are refused.
    pub fn from_base64(text: &str) -> Result<Self, LedgerError> {
        let bytes = B64.decode(text).map_err(|_| LedgerError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// The standard, padded base64 of the hash.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_base64())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// `SHA-256(data)`, for callers that need the plain digest (key IDs, for instance).
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; HASH_SIZE] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash(sha256(&[&[0x00], data]))
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(sha256(&[&[0x01], &left.0, &right.0]))
}

/// The Merkle Tree Hash of a list of leaf hashes (MTH of RFC 6962 §2.1, given the leaves
/// already hashed). The empty list has root [`EMPTY_ROOT`].
pub fn root_of(leaf_hashes: &[Hash]) -> Hash {
    // A slice never holds u64::MAX hashes, so the pushes cannot fail; fold by hand anyway
    // to stay free of panics.
    let mut range = CompactRange::new();
    for h in leaf_hashes {
        if range.push(*h, |_, _| {}).is_err() {
            break;
        }
    }
    range.root()
}

/// A complete subtree of the tree: the `index`-th subtree of height `level`, covering the
/// leaves `[index·2^level, (index+1)·2^level)`. Level 0 nodes are leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height of the subtree (0 for a leaf), at most 63.
    pub level: u8,
    /// Position of the subtree among those of the same height, from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level`, `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The first leaf this subtree covers, or `None` if that does not fit in a `u64`.
    pub fn first_leaf(&self) -> Option<u64> {
        self.index.checked_mul(1u64.checked_shl(self.level.into())?)
    }

    /// One past the last leaf this subtree covers, or `None` on overflow.
    pub fn end_leaf(&self) -> Option<u64> {
        self.index
            .checked_add(1)?
            .checked_mul(1u64.checked_shl(self.level.into())?)
    }
}

/// Splits the leaf range `[start, end)` into the complete subtrees that cover it, from left to
/// right, greedily taking the largest aligned subtree at each step. For the ranges of an
/// RFC 6962 tree (a node's range) the subtrees come out with strictly decreasing heights, and
/// the range's hash is their right fold (see [`fold_right`]).
pub fn range_nodes(start: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        // The largest power of two that both divides `at` and fits in what is left.
        let align = if at == 0 { 63 } else { at.trailing_zeros() };
        let fit = 63 - (end - at).leading_zeros();
        let level = align.min(fit);
        out.push(NodeId {
            level: level as u8,
            index: at >> level,
        });
        at += 1u64 << level;
    }
    out
}

/// Hashes a list of subtree hashes from the right: `node(h0, node(h1, … node(hk-1, hk)))`.
/// This is the hash of a range whose complete subtrees are `hashes`, left to right, with
/// decreasing heights. Returns `None` for an empty list.
pub fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The right edge of a tree being built leaf by leaf: the hashes of the complete subtrees
/// covering `[0, size)`, largest first (one per set bit of `size`). It computes roots in
/// `O(log n)` and, on every append, reports each complete subtree it closes, which is exactly
/// the set of hashes a log must store (RFC 6962 trees never change a complete subtree).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// Subtree hashes, largest (leftmost) first.
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The edge of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds an edge from the tree size and the hashes of its complete subtrees (largest
    /// first), as a log would after a restart. The number of hashes must be the number of
    /// set bits of `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, LedgerError> {
        if hashes.len() != size.count_ones() as usize {
            return Err(LedgerError::ProofLength {
                got: hashes.len(),
                want: size.count_ones() as usize,
            });
        }
        Ok(CompactRange { size, hashes })
    }

    /// The nodes whose hashes [`Self::hashes`] holds, largest first.
    pub fn nodes(&self) -> Vec<NodeId> {
        range_nodes(0, self.size)
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Hashes of the complete subtrees covering the tree, largest first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf hash. `stored` is called with every complete subtree closed by this
    /// leaf, starting with the leaf itself (level 0) and going up.
    ///
    /// Returns the new leaf's index. Fails only when the tree already holds `u64::MAX` leaves.
    pub fn push(
        &mut self,
        leaf: Hash,
        mut stored: impl FnMut(NodeId, &Hash),
    ) -> Result<u64, LedgerError> {
        let index = self.size;
        if index == u64::MAX {
            return Err(LedgerError::Overflow);
        }
        stored(NodeId { level: 0, index }, &leaf);
        let mut hash = leaf;
        let mut level = 0u8;
        // Each trailing one bit of the old size is a subtree of that height to merge with.
        let mut bits = index;
        while bits & 1 == 1 {
            // The vector holds one hash per set bit of `size`; the lowest set bit is last.
            let Some(left) = self.hashes.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            bits >>= 1;
            stored(
                NodeId {
                    level,
                    index: index >> level,
                },
                &hash,
            );
        }
        self.hashes.push(hash);
        self.size = index + 1;
        Ok(index)
    }

    /// The root of the tree built so far ([`EMPTY_ROOT`] if empty).
    pub fn root(&self) -> Hash {
        fold_right(&self.hashes).unwrap_or(EMPTY_ROOT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook recursive definition, for comparison.
    pub(crate) fn naive_mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT.0, sha256(&[]));
        assert_eq!(root_of(&[]), EMPTY_ROOT);
    }

    #[test]
    fn leaf_and_node_prefixes() {
        // RFC 6962 test: the leaf hash of the empty string.
        assert_eq!(
            leaf_hash(b"").to_base64(),
            "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="
        );
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut manual = vec![1u8];
        manual.extend_from_slice(&a.0);
        manual.extend_from_slice(&b.0);
        assert_eq!(node_hash(&a, &b).0, sha256(&[&manual]));
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
    }

    #[test]
    fn roots_match_naive_for_small_trees() {
        let leaves: Vec<Hash> = (0..300u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 0..leaves.len() {
            assert_eq!(root_of(&leaves[..n]), naive_mth(&leaves[..n]), "size {n}");
        }
    }

    #[test]
    fn compact_range_reports_every_complete_subtree_once() {
        let mut r = CompactRange::new();
        let mut seen = Vec::new();
        for i in 0..16u64 {
            r.push(leaf_hash(&i.to_be_bytes()), |id, _| seen.push(id))
                .unwrap();
        }
        // 16 leaves + 8 + 4 + 2 + 1 interior nodes.
        assert_eq!(seen.len(), 31);
        assert!(seen.contains(&NodeId::new(4, 0)));
        assert_eq!(r.hashes().len(), 1);
        let rebuilt = CompactRange::from_parts(r.size(), r.hashes().to_vec()).unwrap();
        assert_eq!(rebuilt, r);
        assert!(CompactRange::from_parts(3, vec![EMPTY_ROOT]).is_err());
    }

    #[test]
    fn range_nodes_decompose_ranges() {
        assert_eq!(range_nodes(0, 0), vec![]);
        assert_eq!(
            range_nodes(0, 6),
            vec![NodeId::new(2, 0), NodeId::new(1, 2)]
        );
        assert_eq!(
            range_nodes(8, 13),
            vec![NodeId::new(2, 2), NodeId::new(0, 12)]
        );
        assert_eq!(
            range_nodes(3, 8),
            vec![NodeId::new(0, 3), NodeId::new(2, 1)]
        );
        assert_eq!(range_nodes(0, u64::MAX).len(), 64);
        assert_eq!(NodeId::new(3, 2).first_leaf(), Some(16));
        assert_eq!(NodeId::new(3, 2).end_leaf(), Some(24));
        assert_eq!(NodeId::new(63, 2).end_leaf(), None);
    }

    #[test]
    fn base64_is_strict() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()).unwrap(), h);
        assert!(Hash::from_base64("AAAA").is_err());
        // Missing padding and trailing garbage are refused.
        let s = h.to_base64();
        assert!(Hash::from_base64(s.trim_end_matches('=')).is_err());
        assert!(Hash::from_base64(&format!("{s}A")).is_err());
    }
}
