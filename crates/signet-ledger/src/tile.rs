//! Tile arithmetic and encodings of C2SP `tlog-tiles` (c2sp.org/tlog-tiles, sections "Merkle
//! Tree", "Partial Tiles" and "Log entries"): tiles of height 8 and width 256, their paths
//! `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, which tile holds the hash of a
//! given complete subtree, the tile data layout (concatenated 32-byte hashes) and entry
//! bundles (big-endian `uint16` length-prefixed entries).
//!
//! The tile with level `L` and index `N` holds, at position `i`, the hash of the complete
//! subtree over leaves `[(N·256+i)·256^L, (N·256+i+1)·256^L)`, that is node
//! `(8L, N·256+i)`. A node whose level is not a multiple of 8 is computed from the tile one
//! step below it ([`Tile::node_hash`]).
//!
//! Also the *stored hash index* (the numbering of `golang.org/x/mod/sumdb/tlog`): every complete
//! subtree gets a dense index in the order a log creates them, so a key-value store can hold
//! a tree as one sequence.
//!
//! Nothing here fetches tiles; [`TileReader`] is the seam for whoever does.

use std::fmt;

use crate::LedgerError;
use crate::proof::{HashReadError, HashReader};
use crate::tree::{HASH_SIZE, Hash, NodeId, leaf_hash, node_hash};

/// Height of a tile: tile level `L` holds tree level `8·L`.
pub const TILE_HEIGHT: u8 = 8;
/// Number of hashes in a full tile.
pub const TILE_WIDTH: u16 = 256;
/// Highest tile level the path syntax allows.
pub const MAX_TILE_LEVEL: u8 = 63;
/// Largest entry an entry bundle can frame.
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// A hash tile of a tree: level `L`, index `N`, and width `W` (256 for a full tile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level (`0..=63`); level-0 tiles hold leaf hashes.
    pub level: u8,
    /// Index of the tile within its level.
    pub index: u64,
    /// Number of hashes (`1..=256`).
    pub width: u16,
}

impl Tile {
    /// A tile, checking level and width ranges.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, LedgerError> {
        if level > MAX_TILE_LEVEL {
            return Err(LedgerError::TilePath("level above 63"));
        }
        if width == 0 || width > TILE_WIDTH {
            return Err(LedgerError::TilePath("width outside 1..=256"));
        }
        Ok(Tile {
            level,
            index,
            width,
        })
    }

    /// Whether the tile holds 256 hashes.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// `tile/<L>/<N>[.p/<W>]`, relative to the log's prefix.
    pub fn path(&self) -> String {
        format!(
            "tile/{}/{}",
            self.level,
            index_and_width(self.index, self.width)
        )
    }

    /// `tile/entries/<N>[.p/<W>]`: the entry bundle matching this tile (level 0 only).
    pub fn entries_path(&self) -> Option<String> {
        (self.level == 0).then(|| entries_path(self.index, self.width))
    }

    /// Size of the tile's data in bytes.
    pub fn data_len(&self) -> usize {
        usize::from(self.width) * HASH_SIZE
    }

    /// The tile holding the hash of `node`, with the width the tree of `tree_size` leaves gives
    /// it. Fails if the node is not a complete subtree of that tree.
    pub fn for_node(node: NodeId, tree_size: u64) -> Result<Tile, LedgerError> {
        match node.end_leaf() {
            Some(end) if end <= tree_size && node.level <= 63 => {}
            _ => return Err(LedgerError::NodeOutsideTree),
        }
        let level = node.level / TILE_HEIGHT;
        let sub = node.level % TILE_HEIGHT;
        // Index of the node's first hash at tree level 8·level.
        let first = node.index << sub;
        let index = first / u64::from(TILE_WIDTH);
        let hashes_at_level = level_hash_count(tree_size, level);
        let width = (hashes_at_level - index * u64::from(TILE_WIDTH)).min(u64::from(TILE_WIDTH));
        Tile::new(level, index, width as u16)
    }

    /// The hashes in tile data, which must be exactly `width` hashes, or a full tile (a log
    /// may serve the full tile in place of a partial one it has since completed).
    pub fn hashes(&self, data: &[u8]) -> Result<Vec<Hash>, LedgerError> {
        let usable = self.usable_data(data)?;
        usable
            .chunks_exact(HASH_SIZE)
            .map(Hash::from_slice)
            .collect()
    }

    fn usable_data<'d>(&self, data: &'d [u8]) -> Result<&'d [u8], LedgerError> {
        let full = usize::from(TILE_WIDTH) * HASH_SIZE;
        if data.len() != self.data_len() && data.len() != full {
            return Err(LedgerError::TileData {
                got: data.len(),
                want: self.data_len(),
            });
        }
        data.get(..self.data_len()).ok_or(LedgerError::TileData {
            got: data.len(),
            want: self.data_len(),
        })
    }

    /// The hash of `node`, computed from this tile's data: the stored hash for a level that is
    /// a multiple of 8, else the subtree hash of the `2^(level mod 8)` hashes under it.
    pub fn node_hash(&self, data: &[u8], node: NodeId) -> Result<Hash, LedgerError> {
        if node.level / TILE_HEIGHT != self.level {
            return Err(LedgerError::NodeOutsideTree);
        }
        let usable = self.usable_data(data)?;
        let sub = node.level % TILE_HEIGHT;
        let first = node.index << sub;
        if first / u64::from(TILE_WIDTH) != self.index {
            return Err(LedgerError::NodeOutsideTree);
        }
        let start = (first % u64::from(TILE_WIDTH)) as usize;
        let count = 1usize << sub;
        let bytes = usable
            .get(start * HASH_SIZE..(start + count) * HASH_SIZE)
            .ok_or(LedgerError::NodeOutsideTree)?;
        let mut level: Vec<Hash> = bytes
            .chunks_exact(HASH_SIZE)
            .map(Hash::from_slice)
            .collect::<Result<_, _>>()?;
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .filter_map(|p| match p {
                    [a, b] => Some(node_hash(a, b)),
                    _ => None,
                })
                .collect();
        }
        level.first().copied().ok_or(LedgerError::NodeOutsideTree)
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Number of hashes at tile level `level` (tree level `8·level`) in a tree of `tree_size`.
fn level_hash_count(tree_size: u64, level: u8) -> u64 {
    tree_size
        .checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

/// All the tiles of tile level `level` for a tree of `tree_size` leaves: the full ones, then
/// the partial one if any (C2SP `tlog-tiles`, "Partial Tiles").
pub fn level_tiles(tree_size: u64, level: u8) -> impl Iterator<Item = Tile> {
    let hashes = if level > MAX_TILE_LEVEL {
        0
    } else {
        level_hash_count(tree_size, level)
    };
    let full = hashes / u64::from(TILE_WIDTH);
    let partial = (hashes % u64::from(TILE_WIDTH)) as u16;
    let fulls = (0..full).map(move |index| Tile {
        level,
        index,
        width: TILE_WIDTH,
    });
    let last = (partial > 0).then_some(Tile {
        level,
        index: full,
        width: partial,
    });
    fulls.chain(last)
}

/// The partial tiles of a tree of `tree_size` leaves, lowest level first: what a log must
/// publish alongside a checkpoint of that size.
pub fn partial_tiles(tree_size: u64) -> Vec<Tile> {
    (0..=MAX_TILE_LEVEL)
        .take_while(|&l| level_hash_count(tree_size, l) > 0)
        .filter_map(|l| level_tiles(tree_size, l).last().filter(|t| !t.is_full()))
        .collect()
}

/// The tiles holding the given nodes of a tree of `tree_size` leaves, sorted, without
/// duplicates.
pub fn tiles_for_nodes(tree_size: u64, nodes: &[NodeId]) -> Result<Vec<Tile>, LedgerError> {
    let mut tiles = nodes
        .iter()
        .map(|n| Tile::for_node(*n, tree_size))
        .collect::<Result<Vec<_>, _>>()?;
    tiles.sort();
    tiles.dedup();
    Ok(tiles)
}

/// Encodes a tile index as zero-padded 3-digit path elements, all but the last prefixed
/// with `x`: 1234067 is `x001/x234/067`.
pub fn encode_index(index: u64) -> String {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = String::new();
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{g:03}/"));
        } else {
            out.push_str(&format!("{g:03}"));
        }
    }
    out
}

fn index_and_width(index: u64, width: u16) -> String {
    if width == TILE_WIDTH {
        encode_index(index)
    } else {
        format!("{}.p/{width}", encode_index(index))
    }
}

/// `tile/entries/<N>[.p/<W>]`.
pub fn entries_path(index: u64, width: u16) -> String {
    format!("tile/entries/{}", index_and_width(index, width))
}

/// What a path under a log's prefix names: a hash tile or an entry bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`.
    Hashes(Tile),
    /// `tile/entries/<N>[.p/<W>]`, the entries matching level-0 tile `index`.
    Entries {
        /// Bundle index.
        index: u64,
        /// Number of entries (`1..=256`).
        width: u16,
    },
}

impl TilePath {
    /// Parses a path relative to the log's prefix. Only the canonical spelling is accepted
    /// (no leading zeros, no superfluous `x000/` group, no `.p/256`), so that each resource
    /// has exactly one name.
    pub fn parse(path: &str) -> Result<TilePath, LedgerError> {
        let rest = path
            .strip_prefix("tile/")
            .ok_or(LedgerError::TilePath("not under tile/"))?;
        let (head, rest) = rest
            .split_once('/')
            .ok_or(LedgerError::TilePath("missing index"))?;
        let (index, width) = parse_index_and_width(rest)?;
        let parsed = if head == "entries" {
            TilePath::Entries { index, width }
        } else {
            let level = parse_decimal(head, 2).ok_or(LedgerError::TilePath("bad level"))?;
            let level = u8::try_from(level).map_err(|_| LedgerError::TilePath("bad level"))?;
            TilePath::Hashes(Tile::new(level, index, width)?)
        };
        if parsed.to_string() != path {
            return Err(LedgerError::TilePath("not the canonical spelling"));
        }
        Ok(parsed)
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TilePath::Hashes(t) => f.write_str(&t.path()),
            TilePath::Entries { index, width } => f.write_str(&entries_path(*index, *width)),
        }
    }
}

/// A decimal of at most `max_digits` ASCII digits, without leading zeros.
fn parse_decimal(s: &str, max_digits: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

fn parse_index_and_width(s: &str) -> Result<(u64, u16), LedgerError> {
    const BAD: LedgerError = LedgerError::TilePath("bad index");
    let (index_part, width) = match s.split_once(".p/") {
        Some((i, w)) => {
            let w = parse_decimal(w, 3).ok_or(LedgerError::TilePath("bad width"))?;
            if w == 0 || w >= u64::from(TILE_WIDTH) {
                return Err(LedgerError::TilePath("bad width"));
            }
            (i, w as u16)
        }
        None => (s, TILE_WIDTH),
    };
    let groups: Vec<&str> = index_part.split('/').collect();
    if groups.len() > 7 {
        return Err(BAD);
    }
    let mut index: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i + 1 < groups.len() {
            g.strip_prefix('x').ok_or(BAD)?
        } else {
            g
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BAD);
        }
        let v: u64 = digits.parse().map_err(|_| BAD)?;
        index = index
            .checked_mul(1000)
            .and_then(|x| x.checked_add(v))
            .ok_or(BAD)?;
    }
    Ok((index, width))
}

/// The stored hash index of node (`level`, `n`): its position in the order a log creates
/// complete subtrees (each leaf, then the subtrees it completes, lowest first). Numbering as
/// in `golang.org/x/mod/sumdb/tlog` (`StoredHashIndex`).
pub fn stored_hash_index(level: u8, n: u64) -> Result<u64, LedgerError> {
    if level > 63 {
        return Err(LedgerError::Overflow);
    }
    // The subtree is completed by its last leaf m = (n+1)·2^level − 1. Leaves before m have
    // stored 2m − popcount(m) hashes; the subtree is the level-th hash stored with m.
    let m = ((u128::from(n) + 1) << level) - 1;
    let before = 2 * m - u128::from(m.count_ones());
    u64::try_from(before + u128::from(level)).map_err(|_| LedgerError::Overflow)
}

/// The node at stored hash index `index`: the inverse of [`stored_hash_index`].
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // Largest leaf m with stored_hash_index(0, m) <= index; that count is increasing in m.
    let first = |m: u64| 2 * u128::from(m) - u128::from(m.count_ones());
    let (mut lo, mut hi) = (0u64, index);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if first(mid) <= u128::from(index) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let level = (u128::from(index) - first(lo)) as u8;
    (level, lo >> level)
}

/// How many hashes a log stores for a tree of `tree_size` leaves (every complete subtree).
pub fn stored_hash_count(tree_size: u64) -> u64 {
    // 2n − popcount(n) fits: it is at most 2n − 1 < 2^65 only for n > 2^63; saturate there.
    let c = 2 * u128::from(tree_size) - u128::from(tree_size.count_ones());
    u64::try_from(c).unwrap_or(u64::MAX)
}

/// Fetches tile data. The seam between proof generation and wherever tiles live (files,
/// object storage, HTTP).
pub trait TileReader {
    /// Returns the data of `tiles`, in order. Data may be the full tile when a partial one
    /// was asked for.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, HashReadError>;
}

/// A [`HashReader`] over the tiles of a tree of a given size: reads each needed tile once per
/// batch and computes node hashes from them.
///
/// It does not authenticate tiles; a proof built from tampered tiles fails verification
/// against the signed root, which is where trust comes from.
#[derive(Debug)]
pub struct TileHashReader<'a, R: ?Sized> {
    tree_size: u64,
    tiles: &'a R,
}

impl<'a, R: TileReader + ?Sized> TileHashReader<'a, R> {
    /// Reads nodes of the tree of `tree_size` leaves from `tiles`.
    pub fn new(tree_size: u64, tiles: &'a R) -> Self {
        TileHashReader { tree_size, tiles }
    }
}

impl<R: TileReader + ?Sized> HashReader for TileHashReader<'_, R> {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        let tiles = tiles_for_nodes(self.tree_size, nodes).map_err(HashReadError::new)?;
        let data = self.tiles.read_tiles(&tiles)?;
        if data.len() != tiles.len() {
            return Err(HashReadError::new(
                "tile reader returned the wrong number of tiles",
            ));
        }
        nodes
            .iter()
            .map(|node| {
                let tile = Tile::for_node(*node, self.tree_size).map_err(HashReadError::new)?;
                let pos = tiles
                    .binary_search(&tile)
                    .map_err(|_| HashReadError::new("tile lost"))?;
                let bytes = data
                    .get(pos)
                    .ok_or_else(|| HashReadError::new("tile lost"))?;
                tile.node_hash(bytes, *node).map_err(HashReadError::new)
            })
            .collect()
    }
}

/// Appends one entry to an entry bundle (big-endian `uint16` length, then the bytes).
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), LedgerError> {
    let len = u16::try_from(entry.len()).map_err(|_| LedgerError::EntryTooLarge(entry.len()))?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Frames entries as an entry bundle. At most 256 entries, each at most 65,535 bytes.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, LedgerError> {
    if entries.is_empty() || entries.len() > usize::from(TILE_WIDTH) {
        return Err(LedgerError::EntryBundle("a bundle holds 1 to 256 entries"));
    }
    let mut out = Vec::new();
    for e in entries {
        push_bundle_entry(&mut out, e.as_ref())?;
    }
    Ok(out)
}

/// Splits an entry bundle into its entries. Refuses truncated framing, empty bundles and more
/// than 256 entries.
pub fn parse_entry_bundle(data: &[u8]) -> Result<Vec<&[u8]>, LedgerError> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if out.len() == usize::from(TILE_WIDTH) {
            return Err(LedgerError::EntryBundle("more than 256 entries"));
        }
        let (len, tail) = rest
            .split_at_checked(2)
            .ok_or(LedgerError::EntryBundle("truncated length"))?;
        let len: [u8; 2] = len
            .try_into()
            .map_err(|_| LedgerError::EntryBundle("truncated length"))?;
        let len = usize::from(u16::from_be_bytes(len));
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or(LedgerError::EntryBundle("truncated entry"))?;
        out.push(entry);
        rest = tail;
    }
    if out.is_empty() {
        return Err(LedgerError::EntryBundle("empty bundle"));
    }
    Ok(out)
}

/// Every hash tile and entry bundle (path, data) of the tree of `entries`, full and partial:
/// what a `tlog-tiles` log of these entries publishes besides its checkpoint. A reference
/// publisher, for tests and tools; it holds the whole tree in memory.
pub fn publish_all<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<(String, Vec<u8>)>, LedgerError> {
    let mut tree = crate::proof::MemoryTree::new();
    for e in entries {
        tree.push(e.as_ref())?;
    }
    let mut out = Vec::new();
    for level in 0..=MAX_TILE_LEVEL {
        let tiles: Vec<Tile> = level_tiles(tree.size(), level).collect();
        if tiles.is_empty() {
            break;
        }
        for t in tiles {
            let first = t.index * u64::from(TILE_WIDTH);
            let mut data = Vec::with_capacity(t.data_len());
            for i in 0..u64::from(t.width) {
                let node = NodeId { level: TILE_HEIGHT * level, index: first + i };
                data.extend_from_slice(&tree.node(node).ok_or(LedgerError::NodeOutsideTree)?.0);
            }
            out.push((t.path(), data));
            if level == 0 {
                let start = usize::try_from(first).map_err(|_| LedgerError::Overflow)?;
                let slice = entries.get(start..start + usize::from(t.width)).ok_or(LedgerError::NodeOutsideTree)?;
                out.push((entries_path(t.index, t.width), encode_entry_bundle(slice)?));
            }
        }
    }
    Ok(out)
}

/// Checks that the entries of a bundle hash to the leaf hashes of the matching level-0 tile.
pub fn check_bundle_against_tile(
    entries: &[&[u8]],
    tile: &Tile,
    tile_data: &[u8],
) -> Result<(), LedgerError> {
    if tile.level != 0 {
        return Err(LedgerError::EntryBundle("bundles match level-0 tiles"));
    }
    let hashes = tile.hashes(tile_data)?;
    if hashes.len() != entries.len() {
        return Err(LedgerError::EntryBundle(
            "entry count differs from the tile width",
        ));
    }
    if entries.iter().zip(&hashes).all(|(e, h)| leaf_hash(e) == *h) {
        Ok(())
    } else {
        Err(LedgerError::EntryBundle(
            "an entry does not match its leaf hash",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::{MemoryTree, consistency_proof, inclusion_proof, tree_root};

    #[test]
    fn published_tiles_prove_like_the_tree_they_come_from() {
        struct Files(std::collections::HashMap<String, Vec<u8>>);
        impl TileReader for Files {
            fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, HashReadError> {
                tiles.iter().map(|t| self.0.get(&t.path()).cloned().ok_or_else(|| HashReadError::new("missing"))).collect()
            }
        }
        for n in [1usize, 255, 256, 257, 65_537] {
            let entries: Vec<Vec<u8>> = (0..n).map(|i| format!("e{i}").into_bytes()).collect();
            let files = Files(publish_all(&entries).unwrap().into_iter().collect());
            let mut tree = MemoryTree::new();
            for e in &entries {
                tree.push(e).unwrap();
            }
            let reader = TileHashReader::new(n as u64, &files);
            assert_eq!(tree_root(&reader, n as u64).unwrap(), tree.root(), "size {n}");
            let last = Tile::for_node(NodeId { level: 0, index: n as u64 - 1 }, n as u64).unwrap();
            let bundle = files.0.get(&last.entries_path().unwrap()).unwrap();
            let parsed = parse_entry_bundle(bundle).unwrap();
            assert_eq!(parsed.last().copied(), Some(entries[n - 1].as_slice()));
            check_bundle_against_tile(&parsed, &last, files.0.get(&last.path()).unwrap()).unwrap();
        }
    }

    #[test]
    fn index_encoding_matches_the_spec_example() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
    }

    #[test]
    fn paths_round_trip_and_parse_strictly() {
        let t = Tile::new(1, 1234067, 17).unwrap();
        assert_eq!(t.path(), "tile/1/x001/x234/067.p/17");
        assert_eq!(TilePath::parse(&t.path()).unwrap(), TilePath::Hashes(t));
        let full = Tile::new(0, 5, 256).unwrap();
        assert_eq!(full.path(), "tile/0/005");
        assert_eq!(full.entries_path().unwrap(), "tile/entries/005");
        assert_eq!(
            TilePath::parse("tile/entries/x001/000.p/3").unwrap(),
            TilePath::Entries {
                index: 1000,
                width: 3
            }
        );
        assert_eq!(
            TilePath::parse("tile/63/x018/x446/x744/x073/x709/x551/615").unwrap(),
            TilePath::Hashes(Tile::new(63, u64::MAX, 256).unwrap())
        );
        for bad in [
            "tile/0/5",
            "tile/00/005",
            "tile/01/005",
            "tile/64/005",
            "tile/0/x000/005",
            "tile/0/005.p/256",
            "tile/0/005.p/0",
            "tile/0/005.p/017",
            "tile/0/001/005",
            "tile/0/x1/005",
            "tile/0/0005",
            "tile/0/005/",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x001/x018/x446/x744/x073/x709/x551/615",
            "tile/entries/005.p/",
            "tile/0/",
            "tiles/0/005",
            "/tile/0/005",
            "tile/-1/005",
            "tile/+1/005",
            "tile/0/+05",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn spec_example_tree_of_70000() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
        // level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
        // 17, and one partial level 2 tile of width 1."
        let l0: Vec<Tile> = level_tiles(70_000, 0).collect();
        assert_eq!(l0.len(), 274);
        assert_eq!(l0.iter().filter(|t| t.is_full()).count(), 273);
        assert_eq!(l0.last().unwrap().width, 112);
        let l1: Vec<Tile> = level_tiles(70_000, 1).collect();
        assert_eq!(l1.len(), 2);
        assert!(l1[0].is_full());
        assert_eq!(l1[1].width, 17);
        let l2: Vec<Tile> = level_tiles(70_000, 2).collect();
        assert_eq!(l2, vec![Tile::new(2, 0, 1).unwrap()]);
        assert_eq!(level_tiles(70_000, 3).count(), 0);
        assert_eq!(partial_tiles(70_000).len(), 3);
        // "a tree of size 256 will be represented by a full level 0 tile and a partial level
        // 1 tile of width 1."
        assert_eq!(
            level_tiles(256, 0).collect::<Vec<_>>(),
            vec![Tile::new(0, 0, 256).unwrap()]
        );
        assert_eq!(partial_tiles(256), vec![Tile::new(1, 0, 1).unwrap()]);
        assert!(partial_tiles(0).is_empty());
    }

    #[test]
    fn stored_hash_indexes() {
        let mut expected = Vec::new();
        let mut t = crate::tree::CompactRange::new();
        for i in 0..1000u64 {
            t.push(leaf_hash(&i.to_be_bytes()), |id, _| expected.push(id))
                .unwrap();
        }
        for (i, id) in expected.iter().enumerate() {
            assert_eq!(
                stored_hash_index(id.level, id.index).unwrap(),
                i as u64,
                "{id:?}"
            );
            assert_eq!(split_stored_hash_index(i as u64), (id.level, id.index));
        }
        assert_eq!(stored_hash_count(1000), expected.len() as u64);
        assert_eq!(stored_hash_count(0), 0);
        assert!(stored_hash_index(63, u64::MAX).is_err());
        let big = stored_hash_index(0, u64::MAX / 4).unwrap();
        assert_eq!(split_stored_hash_index(big), (0, u64::MAX / 4));
    }

    /// Tiles cut from an in-memory tree.
    struct MemTiles(MemoryTree);

    impl TileReader for MemTiles {
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, HashReadError> {
            tiles
                .iter()
                .map(|t| {
                    let mut data = Vec::new();
                    for i in 0..u64::from(t.width) {
                        let id = NodeId::new(t.level * 8, t.index * 256 + i);
                        let h = self
                            .0
                            .node(id)
                            .ok_or_else(|| HashReadError::new("missing"))?;
                        data.extend_from_slice(h.as_bytes());
                    }
                    Ok(data)
                })
                .collect()
        }
    }

    #[test]
    fn tile_backed_proofs_equal_direct_proofs() {
        let mut t = MemoryTree::new();
        for i in 0..70_000u64 {
            t.push(&i.to_be_bytes()).unwrap();
        }
        let tiles = MemTiles(t.clone());
        for size in [1u64, 255, 256, 257, 65_535, 65_536, 65_537, 70_000] {
            let r = TileHashReader::new(size, &tiles);
            assert_eq!(tree_root(&r, size).unwrap(), tree_root(&t, size).unwrap());
            for idx in [0, size / 3, size - 1] {
                assert_eq!(
                    inclusion_proof(&r, idx, size).unwrap(),
                    inclusion_proof(&t, idx, size).unwrap()
                );
            }
            for old in [1, size / 2, size - 1] {
                assert_eq!(
                    consistency_proof(&r, old, size).unwrap(),
                    consistency_proof(&t, old, size).unwrap()
                );
            }
        }
        // Which tiles a proof needs: leaf 0 of a 70,000-leaf tree touches two tiles per level.
        let seen = std::cell::RefCell::new(Vec::new());
        let recording = |n: &[NodeId]| {
            seen.borrow_mut().extend_from_slice(n);
            t.read_hashes(n)
        };
        inclusion_proof(&recording, 0, 70_000).unwrap();
        let nodes = seen.borrow().clone();
        let tiles = tiles_for_nodes(70_000, &nodes).unwrap();
        assert_eq!(
            tiles,
            vec![
                Tile::new(0, 0, 256).unwrap(),
                Tile::new(0, 273, 112).unwrap(),
                Tile::new(1, 0, 256).unwrap(),
                Tile::new(1, 1, 17).unwrap(),
            ]
        );
    }

    #[test]
    fn tile_data_checks() {
        let t = Tile::new(0, 0, 2).unwrap();
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let data = [a.0, b.0].concat();
        assert_eq!(t.hashes(&data).unwrap(), vec![a, b]);
        assert_eq!(
            t.node_hash(&data, NodeId::new(1, 0)).unwrap(),
            node_hash(&a, &b)
        );
        assert!(t.hashes(&data[..40]).is_err());
        assert!(t.node_hash(&data, NodeId::new(2, 0)).is_err());
        assert!(t.node_hash(&data, NodeId::new(8, 0)).is_err());
        assert!(Tile::for_node(NodeId::new(1, 1), 3).is_err());
        assert_eq!(
            Tile::for_node(NodeId::new(9, 0), 1024).unwrap(),
            Tile::new(1, 0, 4).unwrap()
        );
    }

    #[test]
    fn entry_bundles() {
        let entries: Vec<&[u8]> = vec![b"", b"hello", &[0u8; 300]];
        let bundle = encode_entry_bundle(&entries).unwrap();
        assert_eq!(&bundle[..2], &[0, 0]);
        assert_eq!(&bundle[2..4], &[0, 5]);
        assert_eq!(parse_entry_bundle(&bundle).unwrap(), entries);
        assert!(parse_entry_bundle(&bundle[..bundle.len() - 1]).is_err());
        assert!(parse_entry_bundle(&[0]).is_err());
        assert!(parse_entry_bundle(&[]).is_err());
        assert!(encode_entry_bundle(&[vec![0u8; 65_536]]).is_err());
        assert!(encode_entry_bundle::<&[u8]>(&[]).is_err());
        let max = vec![7u8; 65_535];
        assert_eq!(
            parse_entry_bundle(&encode_entry_bundle(&[&max]).unwrap()).unwrap(),
            vec![&max[..]]
        );
        let many = [0u8, 0].repeat(257);
        assert!(parse_entry_bundle(&many).is_err());
        let tile = Tile::new(0, 0, 3).unwrap();
        let data: Vec<u8> = entries.iter().flat_map(|e| leaf_hash(e).0).collect();
        check_bundle_against_tile(&entries, &tile, &data).unwrap();
        assert!(check_bundle_against_tile(&entries[..2], &tile, &data).is_err());
    }
}
