//! The pure core of Signet's evidence ledger: an append-only transparency log in the style of
//! Certificate Transparency and the Go checksum database, and the formats that let anyone
//! audit it.
//!
//! - [`tree`] — RFC 6962 leaf and node hashing, tree roots, a [`tree::CompactRange`] for
//!   appending;
//! - [`proof`] — inclusion and consistency proofs: generation through the [`proof::HashReader`]
//!   seam and verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2;
//! - [`tile`] — C2SP `tlog-tiles`: tile arithmetic, paths, tile data, entry bundles, stored
//!   hash indexes, and a tile-backed hash reader;
//! - [`note`] — C2SP `signed-note`: notes, Ed25519 signatures, key IDs, vkeys and signer keys;
//! - [`checkpoint`] — C2SP `tlog-checkpoint`, and verification of signed, witnessed checkpoints;
//! - [`cosignature`] — C2SP `tlog-cosignature` (`cosignature/v1`, key type `0x04`);
//! - [`proof_file`] — C2SP `tlog-proof` offline proof files;
//! - [`witness`] — the `add-checkpoint` messages of C2SP `tlog-witness`;
//! - [`event`] — the canonical `signet.evidence/v1` encoding of an evidence event (one leaf).
//!
//! Pure: bytes in, bytes or typed values out. No file, socket, environment or clock: times are
//! parameters (cosignature timestamps), keys come from seeds the caller draws, and stored
//! hashes come through [`proof::HashReader`] / [`tile::TileReader`]. Parsing is strict and
//! bounded, and fails with a [`LedgerError`]; nothing here panics on input.
//!
//! What it does not do: storage, sequencing, HTTP, deciding when to sign. Those belong to the
//! log service built on top.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod checkpoint;
pub mod cosignature;
pub mod event;
mod lines;
pub mod note;
pub mod proof;
pub mod proof_file;
pub mod tile;
pub mod tree;
pub mod witness;

pub use checkpoint::{Checkpoint, CheckpointVerifier, OpenedCheckpoint};
pub use note::{
    ExternalSigner, Note, NoteSignature, NoteSigner, SignatureType, SignerKey, VerifierKey, Verifiers,
};
pub use proof::{
    HashReadError, HashReader, MemoryTree, consistency_proof, inclusion_proof, verify_consistency,
    verify_inclusion,
};
pub use proof_file::TlogProof;
pub use tile::{Tile, TilePath, TileReader};
pub use tree::{EMPTY_ROOT, Hash, NodeId, leaf_hash, node_hash};

/// Everything that can go wrong in the ledger core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A hash that is not 32 bytes.
    #[error("a hash is 32 bytes, got {0}")]
    HashLength(usize),
    /// Malformed or non-canonical base64.
    #[error("malformed base64")]
    Base64,
    /// A leaf index at or beyond the tree size.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Wrong number of hashes.
    #[error("got {got} hashes where {want} were expected")]
    ProofLength {
        /// Number received.
        got: usize,
        /// Number expected (or allowed).
        want: usize,
    },
    /// An inclusion proof that does not lead to the root.
    #[error("the inclusion proof does not lead to the root")]
    InclusionMismatch,
    /// A consistency proof that does not match the two roots.
    #[error("the consistency proof does not match the roots")]
    ConsistencyMismatch,
    /// A consistency proof asked for from a larger tree to a smaller one.
    #[error("the old tree size {old} is larger than the new size {new}")]
    SizeOrder {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// A non-empty proof where the proof must be empty.
    #[error("the proof must be empty")]
    ProofNotEmpty,
    /// A hash source failed.
    #[error("reading stored hashes: {0}")]
    Read(#[from] HashReadError),
    /// A node that is not a complete subtree of the tree (or of the tile) at hand.
    #[error("the node is not a complete subtree of this tree")]
    NodeOutsideTree,
    /// Arithmetic beyond 64 bits.
    #[error("arithmetic overflow")]
    Overflow,
    /// A tile path that is not the canonical C2SP spelling.
    #[error("invalid tile path: {0}")]
    TilePath(&'static str),
    /// Tile data of the wrong size.
    #[error("tile data is {got} bytes, {want} expected")]
    TileData {
        /// Bytes received.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// A malformed entry bundle.
    #[error("invalid entry bundle: {0}")]
    EntryBundle(&'static str),
    /// An entry too large for the 16-bit length prefix.
    #[error("entry of {0} bytes exceeds 65535")]
    EntryTooLarge(usize),
    /// A malformed note.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// An invalid key name.
    #[error("invalid key name (empty, or with spaces, '+' or control characters)")]
    KeyName,
    /// A malformed vkey.
    #[error("malformed verifier key: {0}")]
    VerifierKey(&'static str),
    /// A malformed signer key.
    #[error("malformed signer key: {0}")]
    SignerKey(&'static str),
    /// A signature type this crate does not implement.
    #[error("unknown signature type {0:#04x}")]
    UnknownKeyType(u8),
    /// A key ID that does not match the key.
    #[error("the key ID does not match the key")]
    KeyIdMismatch,
    /// An external signer (an HSM) could not sign, or returned a signature that does not
    /// verify with its public key.
    #[error("the note signer failed: {0}")]
    ExternalSigner(String),
    /// A key of the wrong signature type for the operation.
    #[error("wrong key type for this operation")]
    WrongKeyType,
    /// A signature that does not verify (without naming the key).
    #[error("invalid signature")]
    SignatureInvalid,
    /// A signature from a known key that does not verify: the note is rejected.
    #[error("invalid signature by known key {name}+{key_id:08x}")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature from a trusted key.
    #[error("no valid signature from a trusted key")]
    NoTrustedSignature,
    /// Two trusted keys with the same name and key ID.
    #[error("two trusted keys share a name and key ID")]
    AmbiguousKey,
    /// A malformed checkpoint text.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A checkpoint from another log.
    #[error("checkpoint origin {got:?} is not the expected {want:?}")]
    OriginMismatch {
        /// Origin in the checkpoint.
        got: String,
        /// Origin expected.
        want: String,
    },
    /// Too few witness cosignatures.
    #[error("{got} witness cosignatures verified, {want} required")]
    Quorum {
        /// Valid cosignatures from distinct trusted witnesses.
        got: usize,
        /// Required.
        want: usize,
    },
    /// A cosignature timestamp above `2^63 − 1`.
    #[error("cosignature timestamp out of range")]
    CosignatureTimestamp,
    /// A malformed `tlog-proof` file.
    #[error("malformed proof file: {0}")]
    MalformedProof(&'static str),
    /// A malformed `add-checkpoint` message.
    #[error("malformed add-checkpoint message: {0}")]
    MalformedWitnessRequest(&'static str),
    /// An evidence event that is invalid or not canonically encoded.
    #[error("invalid evidence event: {0}")]
    Event(&'static str),
}
