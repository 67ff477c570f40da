//! Key custody and envelope encryption of stored documents.
//!
//! # The key hierarchy
//!
//! ```text
//!  master key            one per installation: a key file (FileMasterKey) today, an HSM key
//!    │                   later — both behind the MasterKey trait; old master keys stay in
//!    │                   the Keyring by id until every organisation key is rewrapped
//!    │ wraps (AES-KW with padding, RFC 5649)
//!    ▼
//!  organisation key      one per organisation, 256 bits, stored only wrapped
//!    │                   (WrappedOrgKey: the master key's id and the wrapped bytes,
//!    │                   stored as bytes or as one line of text)
//!    │ wraps (AES-KW with padding, RFC 5649)
//!    ▼
//!  data key              one per sealed document, 256 bits, fresh and random every time,
//!    │                   stored wrapped inside the document's envelope
//!    │ encrypts (AES-256-GCM, 96-bit random nonce, the caller's context as AAD)
//!    ▼
//!  document bytes
//! ```
//!
//! Rotating the master key rewraps organisation keys only ([`Keyring::rewrap`]); envelopes
//! never name the master key, so no document is re-encrypted and every old ciphertext stays
//! readable.
//!
//! # The envelope, byte by byte (version 1)
//!
//! ```text
//!  offset  length  content
//!  0       4       magic "SGVE" (0x53 0x47 0x56 0x45)
//!  4       1       version, 0x01
//!  5       40      the data key wrapped by the organisation key (RFC 5649, 32 bytes → 40)
//!  45      12      the AES-256-GCM nonce
//!  57      n       the ciphertext, as long as the plaintext
//!  57+n    16      the GCM tag
//! ```
//!
//! 73 bytes of overhead. The GCM additional data is the 5 bytes of magic and version
//! followed by the caller's context (for example `org_id/contract_id/document_id`), so an
//! envelope moved to another contract or document does not open, and a version cannot be
//! swapped. The wrapped data key is not in the additional data: RFC 5649 carries its own
//! integrity check, a foreign wrapped key unwraps to a key the tag refuses, and leaving it
//! out means a later organisation-key rotation can rewrap the 40 bytes in place.
//!
//! # Example
//!
//! ```
//! use signet_vault::{FileMasterKey, Keyring, WrappedOrgKey};
//!
//! // At start-up: the master key file's text, read by the caller.
//! # let file_text = FileMasterKey::generate()?.to_file_text();
//! let keyring = Keyring::new(Box::new(FileMasterKey::parse(&file_text)?))?;
//!
//! // A new organisation: store the wrapped key with it.
//! let (org_key, wrapped) = keyring.new_org_key()?;
//! let stored: Vec<u8> = wrapped.to_bytes();
//!
//! // Storing a document, and reading it back.
//! let context = b"org-1/contract-7/document-3";
//! let envelope = org_key.seal(b"%PDF-1.7 ...", context)?;
//! let org_key = keyring.open_org_key(&WrappedOrgKey::from_bytes(&stored)?)?;
//! assert_eq!(org_key.open(&envelope, context)?.as_slice(), b"%PDF-1.7 ...");
//! # Ok::<(), signet_vault::VaultError>(())
//! ```
//!
//! # What this crate is not
//!
//! It reads and writes no files (the key file's text format is here, the file is the
//! caller's), logs nothing, reads no clock. Key material is zeroed when dropped and never
//! appears in `Debug` output or error messages; only key ids do.

mod envelope;
mod keyring;
mod master;

pub use envelope::{ENVELOPE_OVERHEAD, OrgKey, SearchKey};
pub use keyring::{Keyring, WrappedOrgKey};
pub use master::{FileMasterKey, MasterKey, check_master_key_id};
pub use zeroize::Zeroizing;

/// The result of every vault operation.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

/// Why a vault operation failed. Messages name what was wrong and what to do; they never
/// contain key bytes or document bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The organisation key was wrapped by a master key the keyring does not hold.
    #[error(
        "unknown master key id {id}: this organisation key was wrapped by a master key the \
         keyring does not hold; add that master key to the keyring as a previous key"
    )]
    UnknownMasterKey {
        /// The id named by the wrapped organisation key.
        id: String,
    },
    /// The master key with the right id refused the wrapped organisation key.
    #[error(
        "the organisation key does not unwrap with master key {master_id}: the stored wrapped \
         key was changed or damaged, or the master key with this id is not the one that \
         wrapped it; restore the wrapped key (or the master key file) from backup"
    )]
    OrgKeyUnwrap {
        /// The master key tried.
        master_id: String,
    },
    /// A stored wrapped organisation key is not in its byte or text form.
    #[error(
        "malformed wrapped organisation key: {0}; store and read back exactly the bytes \
         (WrappedOrgKey::to_bytes) or text (WrappedOrgKey::to_text) the keyring produced"
    )]
    MalformedWrappedOrgKey(&'static str),
    /// The bytes are not a version-1 envelope (garbage, truncated, or another version).
    #[error("not a sealed document: {0}")]
    MalformedEnvelope(String),
    /// The envelope's data key does not unwrap with this organisation key.
    #[error(
        "the document's data key does not unwrap with this organisation key: the document \
         belongs to another organisation, or its envelope was changed; open it with its own \
         organisation's key, else restore it from backup"
    )]
    DataKeyUnwrap,
    /// AES-GCM refused the ciphertext.
    #[error(
        "the document does not decrypt: it is being opened with another context \
         (organisation/contract/document) than it was sealed with, or its bytes were changed; \
         check the context, else restore the document from backup"
    )]
    Decrypt,
    /// A master key file is not in the `signet-master-key/v1` form.
    #[error(
        "bad master key file: {0}; a master key file is one line `signet-master-key/v1 <id> \
         <base64 of 32 bytes>` as written by FileMasterKey::to_file_text"
    )]
    BadKeyFile(&'static str),
    /// Raw key material of the wrong length.
    #[error("a {what} is 32 bytes, got {len}")]
    KeyLength {
        /// Which key (`master key`, `organisation key`).
        what: &'static str,
        /// The length given.
        len: usize,
    },
    /// A master key id that cannot be stored in a wrapped organisation key.
    #[error("invalid master key id: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'")]
    BadMasterKeyId,
    /// Two master keys with one id in a keyring.
    #[error("master key id {id} is already in the keyring; each master key is added once")]
    DuplicateMasterKey {
        /// The id given twice.
        id: String,
    },
    /// [`Keyring::retire`] was asked to remove the current master key.
    #[error(
        "master key {id} is the current one and cannot be retired; rotate to a new master key \
         first"
    )]
    RetireCurrent {
        /// The current master key's id.
        id: String,
    },
    /// A master key backend (for example an HSM) failed. Implementations put a
    /// description here, never key material.
    #[error("the master key backend failed: {0}")]
    Backend(String),
    /// The crypto library refused an operation that should not fail (random number
    /// generator, key setup).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

/// Fills a buffer from the system's random number generator.
fn random(dest: &mut [u8]) -> Result<()> {
    aws_lc_rs::rand::fill(dest)
        .map_err(|_| VaultError::Crypto("the system random number generator failed"))
}

/// The length of every key this crate makes: master, organisation and data keys.
const KEY_LEN: usize = 32;

/// AES-256 key wrap with padding (RFC 5649) of `key` under `kek`.
fn kw_wrap(kek: &[u8; KEY_LEN], key: &[u8]) -> Result<Vec<u8>> {
    use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
    let kek = AesKek::new(&AES_256, kek).map_err(|_| VaultError::Crypto("AES key wrap setup"))?;
    // RFC 5649 output: the input padded to a multiple of 8, plus 8 bytes.
    let mut out = vec![0u8; key.len() + 15];
    let len =
        kek.wrap_with_padding(key, &mut out).map_err(|_| VaultError::Crypto("AES key wrap"))?.len();
    out.truncate(len);
    Ok(out)
}

/// Unwraps what [`kw_wrap`] made; `None` when the integrity check fails (wrong key,
/// changed bytes) or the input has an impossible length.
fn kw_unwrap(kek: &[u8; KEY_LEN], wrapped: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
    let kek = AesKek::new(&AES_256, kek).ok()?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek.unwrap_with_padding(wrapped, &mut out).ok()?.len();
    out.truncate(len);
    Some(out)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

    /// Fails if `text` shows `key` or any 6-byte run of it: hex (either case), base64, or
    /// a Rust `Debug` list of numbers.
    pub(crate) fn assert_no_key_material(text: &str, key: &[u8]) {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let whole = [
            STANDARD.encode(key),
            STANDARD_NO_PAD.encode(key),
            URL_SAFE_NO_PAD.encode(key),
            hex(key).to_uppercase(),
        ];
        for shown in whole {
            assert!(!text.contains(&shown), "key shown as {shown} in {text}");
        }
        for run in key.windows(6) {
            let lower = hex(run);
            assert!(!text.to_lowercase().contains(&lower), "key bytes {lower} in {text}");
            let list = format!("{run:?}");
            let list = list.trim_matches(['[', ']']);
            assert!(!text.contains(list), "key bytes {list} in {text}");
        }
    }

    #[test]
    fn keys_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<crate::Keyring>();
        shared::<crate::OrgKey>();
        shared::<crate::FileMasterKey>();
        shared::<crate::WrappedOrgKey>();
        shared::<crate::VaultError>();
    }

    #[test]
    fn the_key_material_check_catches_a_leak() {
        let key: Vec<u8> = (100..132).collect();
        for leak in [
            format!("{key:?}"),
            format!("{:?}", &key[10..16]),
            STANDARD.encode(&key),
            key.iter().map(|b| format!("{b:02X}")).collect(),
        ] {
            let caught = std::panic::catch_unwind(|| assert_no_key_material(&leak, &key));
            assert!(caught.is_err(), "not caught: {leak}");
        }
        assert_no_key_material("Keyring { current: \"0011\" }", &key);
    }
}
