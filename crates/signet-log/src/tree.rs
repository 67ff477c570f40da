//! The right edge of the tree, kept in memory, and the folding of entries into tiles.
//!
//! For a tree of `n` leaves the log needs, per tile level `L`, only the hashes of the partial
//! tile at the end of that level (fewer than 256): everything to their left sits in full tiles
//! that never change. Appending a leaf adds its hash at level 0; a level-`L` tile that reaches
//! 256 hashes is written as a full tile and its root (a hash at tree level `8(L+1)`) is added
//! to level `L+1`. The tree's root is the right fold of the perfect subtrees of the partial
//! tiles, top level first.

use std::cell::RefCell;
use std::collections::HashMap;

use signet_ledger::tile::{Tile, TileHashReader, TileReader, push_bundle_entry};
use signet_ledger::tree::{fold_right, root_of};
use signet_ledger::proof::HashReadError;
use signet_ledger::{EMPTY_ROOT, Hash, LedgerError, leaf_hash};

use crate::store::{Kind, TileStore};
use crate::{LogError, Result};

/// An object to store: path, bytes, kind.
pub type Object = (String, Vec<u8>, Kind);

/// The partial tiles of a tree: enough to append and to compute the root.
#[derive(Clone, Debug, Default)]
pub struct TreeEdge {
    size: u64,
    /// `levels[L]`: the hashes of the partial tile at level `L` (always fewer than 256).
    levels: Vec<Vec<Hash>>,
    /// The partial entry bundle, framed.
    bundle: Vec<u8>,
}

impl TreeEdge {
    /// The edge of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads the edge of the tree of `size` leaves from the partial tiles in `store`, checking
    /// the partial entry bundle against its tile.
    pub async fn load(store: &dyn TileStore, size: u64) -> Result<Self> {
        let mut edge = TreeEdge { size, levels: Vec::new(), bundle: Vec::new() };
        let mut level = 0u8;
        while level < 8 && (size >> (8 * u32::from(level))) > 0 {
            let width = ((size >> (8 * u32::from(level))) & 0xff) as u16;
            let index = size.checked_shr(8 * (u32::from(level) + 1)).unwrap_or(0);
            let mut hashes = Vec::new();
            if width > 0 {
                let tile = Tile::new(level, index, width)?;
                // The partial tile may have been completed (and its partial versions removed)
                // by a concurrent integrator since the caller read `size`: the full tile's
                // first `width` hashes are the same.
                let mut data = fetch_tile(store, &tile).await?;
                data.truncate(usize::from(width) * 32);
                hashes = tile.hashes(&data)?;
                if level == 0 {
                    let path = tile.entries_path().unwrap_or_default();
                    let bundle = match store.get(&path).await? {
                        Some(bundle) => bundle,
                        None => {
                            let full = signet_ledger::tile::entries_path(index, 256);
                            let whole = store.get(&full).await?.ok_or_else(|| {
                                LogError::Inconsistent(format!("{path} is missing from the tile store"))
                            })?;
                            let mut prefix = Vec::new();
                            for entry in split_framed(&whole)?.into_iter().take(usize::from(width)) {
                                push_bundle_entry(&mut prefix, entry)?;
                            }
                            prefix
                        }
                    };
                    let entries = signet_ledger::tile::parse_entry_bundle(&bundle)?;
                    signet_ledger::tile::check_bundle_against_tile(&entries, &tile, &data)
                        .map_err(|e| LogError::Inconsistent(format!("{path} does not match its tile: {e}")))?;
                    edge.bundle = bundle;
                }
            }
            edge.levels.push(hashes);
            level += 1;
        }
        Ok(edge)
    }

    /// Appends one entry; full tiles and bundles it completes are pushed to `out`.
    pub fn push(&mut self, entry: &[u8], out: &mut Vec<Object>) -> Result<()> {
        if entry.len() > signet_ledger::tile::MAX_ENTRY_SIZE {
            return Err(LogError::EntryTooLarge(entry.len()));
        }
        let index = self.size;
        push_bundle_entry(&mut self.bundle, entry)?;
        self.size = index.checked_add(1).ok_or(LedgerError::Overflow)?;
        if self.size % 256 == 0 {
            let bundle = std::mem::take(&mut self.bundle);
            out.push((signet_ledger::tile::entries_path(index / 256, 256), bundle, Kind::Immutable));
        }
        let mut hash = leaf_hash(entry);
        let mut level = 0usize;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let hashes = &mut self.levels[level];
            hashes.push(hash);
            if hashes.len() < 256 {
                break;
            }
            let full = std::mem::take(hashes);
            // The tile index: how many full tiles of this level lie left of this one.
            let tile_index = self.size.checked_shr(8 * (level as u32 + 1)).unwrap_or(0).saturating_sub(1);
            let tile = Tile::new(level as u8, tile_index, 256)?;
            out.push((tile.path(), concat(&full), Kind::Immutable));
            hash = root_of(&full);
            level += 1;
        }
        Ok(())
    }

    /// The partial tiles and bundle of the current size, to publish with it.
    pub fn partial_objects(&self, out: &mut Vec<Object>) -> Result<()> {
        for (level, hashes) in self.levels.iter().enumerate() {
            if hashes.is_empty() {
                continue;
            }
            let index = self.size.checked_shr(8 * (level as u32 + 1)).unwrap_or(0);
            let tile = Tile::new(level as u8, index, hashes.len() as u16)?;
            out.push((tile.path(), concat(hashes), Kind::Mutable));
            if level == 0 {
                let path = tile.entries_path().unwrap_or_default();
                out.push((path, self.bundle.clone(), Kind::Mutable));
            }
        }
        Ok(())
    }

    /// The root hash of the tree.
    pub fn root(&self) -> Hash {
        let mut subtrees = Vec::new();
        for hashes in self.levels.iter().rev() {
            let mut at = 0usize;
            let mut rest = hashes.len();
            while rest > 0 {
                let chunk = 1usize << (usize::BITS - 1 - rest.leading_zeros());
                subtrees.push(root_of(&hashes[at..at + chunk]));
                at += chunk;
                rest -= chunk;
            }
        }
        fold_right(&subtrees).unwrap_or(EMPTY_ROOT)
    }
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * 32);
    for h in hashes {
        out.extend_from_slice(&h.0);
    }
    out
}

/// Splits framed entries (2-byte big-endian length, bytes) of any count.
pub fn split_framed(mut data: &[u8]) -> Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (len, rest) = data
            .split_at_checked(2)
            .ok_or_else(|| LogError::Inconsistent("a journal batch is truncated".into()))?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (entry, rest) = rest
            .split_at_checked(len)
            .ok_or_else(|| LogError::Inconsistent("a journal batch is truncated".into()))?;
        out.push(entry);
        data = rest;
    }
    Ok(out)
}

/// A [`TileReader`] over tiles fetched beforehand; it records the tiles it lacked, so that a
/// computation can be run, the missing tiles fetched asynchronously, and the computation run
/// again ([`with_tiles`]).
struct Prefetched {
    have: HashMap<Tile, Vec<u8>>,
    missing: RefCell<Vec<Tile>>,
}

impl TileReader for Prefetched {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, HashReadError> {
        let missing: Vec<Tile> = tiles.iter().filter(|t| !self.have.contains_key(t)).copied().collect();
        if !missing.is_empty() {
            *self.missing.borrow_mut() = missing;
            return Err(HashReadError::new("tiles not fetched yet"));
        }
        Ok(tiles.iter().map(|t| self.have.get(t).cloned().unwrap_or_default()).collect())
    }
}

/// Runs `f` (a proof or root computation) over the stored tiles of the tree of `size` leaves,
/// fetching the tiles it asks for.
pub async fn with_tiles<T>(
    store: &dyn TileStore,
    size: u64,
    f: impl Fn(&TileHashReader<'_, dyn TileReader + '_>) -> Result<T, LedgerError>,
) -> Result<T> {
    let mut reader = Prefetched { have: HashMap::new(), missing: RefCell::new(Vec::new()) };
    for _ in 0..4 {
        let result = {
            let dynreader: &dyn TileReader = &reader;
            f(&TileHashReader::new(size, dynreader))
        };
        let missing = std::mem::take(&mut *reader.missing.borrow_mut());
        match result {
            Err(_) if !missing.is_empty() => {
                for tile in missing {
                    let data = fetch_tile(store, &tile).await?;
                    reader.have.insert(tile, data);
                }
            }
            other => return other.map_err(LogError::from),
        }
    }
    Err(LogError::Inconsistent("tiles kept missing while computing a proof".into()))
}

/// A tile's data; a partial tile may have been completed since, so the full one is tried too.
pub async fn fetch_tile(store: &dyn TileStore, tile: &Tile) -> Result<Vec<u8>> {
    if let Some(data) = store.get(&tile.path()).await? {
        return Ok(data);
    }
    if !tile.is_full() {
        let full = Tile::new(tile.level, tile.index, 256)?;
        if let Some(data) = store.get(&full.path()).await? {
            return Ok(data);
        }
    }
    Err(LogError::Inconsistent(format!("{} is missing from the tile store", tile.path())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_ledger::MemoryTree;

    #[test]
    fn edge_root_matches_the_reference_tree_and_tiles_are_emitted_when_full() {
        let mut edge = TreeEdge::new();
        let mut mem = MemoryTree::new();
        let mut out = Vec::new();
        for i in 0..70_000u32 {
            let e = i.to_be_bytes();
            edge.push(&e, &mut out).unwrap();
            mem.push(&e).unwrap();
            if i % 997 == 0 || i == 255 || i == 256 || i == 65_535 {
                assert_eq!(edge.root(), mem.root(), "size {}", i + 1);
            }
        }
        assert_eq!(edge.root(), mem.root());
        let full0 = out.iter().filter(|(p, _, _)| p.starts_with("tile/0/")).count();
        let full1 = out.iter().filter(|(p, _, _)| p.starts_with("tile/1/")).count();
        let bundles = out.iter().filter(|(p, _, _)| p.starts_with("tile/entries/")).count();
        assert_eq!((full0, full1, bundles), (70_000 / 256, 1, 70_000 / 256));
        assert!(out.iter().all(|(_, _, k)| *k == Kind::Immutable));
        let mut partial = Vec::new();
        edge.partial_objects(&mut partial).unwrap();
        let paths: Vec<&str> = partial.iter().map(|(p, _, _)| p.as_str()).collect();
        // 70,000 = 1·65536 + 17·256 + 112
        assert_eq!(paths, ["tile/0/273.p/112", "tile/entries/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"]);
    }

    #[test]
    fn framed_batches_split_and_truncation_is_caught() {
        let mut framed = Vec::new();
        for e in [&b"a"[..], b"", b"xyz"] {
            push_bundle_entry(&mut framed, e).unwrap();
        }
        assert_eq!(split_framed(&framed).unwrap(), vec![&b"a"[..], b"", b"xyz"]);
        assert!(split_framed(&framed[..framed.len() - 1]).is_err());
    }
}
