//! Organisation keys and the envelope of one sealed document (layout in the crate docs).
//!
//! [`OrgKey::seal`] draws a fresh data key and nonce for every call, encrypts with
//! AES-256-GCM and stores the data key wrapped by the organisation key in the envelope's
//! header; [`OrgKey::open`] reverses it. Documents are held in memory whole (tens of
//! megabytes at most); there is no streaming form.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use crate::{KEY_LEN, Result, VaultError, kw_unwrap, kw_wrap, random};

/// The envelope's first four bytes.
const MAGIC: &[u8; 4] = b"SGVE";
/// The envelope version this build writes and reads.
const VERSION: u8 = 1;
/// The length of a 32-byte data key wrapped with RFC 5649.
const WRAPPED_DATA_KEY_LEN: usize = 40;
/// The GCM tag's length.
const TAG_LEN: usize = 16;

// Field offsets of a version-1 envelope.
const VERSION_AT: usize = MAGIC.len();
const WRAPPED_KEY_AT: usize = VERSION_AT + 1;
const NONCE_AT: usize = WRAPPED_KEY_AT + WRAPPED_DATA_KEY_LEN;
const CIPHERTEXT_AT: usize = NONCE_AT + NONCE_LEN;

/// How many bytes an envelope adds to its plaintext (header, wrapped data key, nonce, tag).
pub const ENVELOPE_OVERHEAD: usize = CIPHERTEXT_AT + TAG_LEN;

/// One organisation's key: it wraps the data key of each of the organisation's documents.
/// Obtained only from a [`crate::Keyring`]; zeroed when dropped, never printed.
pub struct OrgKey {
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl OrgKey {
    /// Encrypts `plaintext` into a new envelope bound to `context` — what the document is,
    /// for example `org_id/contract_id/document_id`. The same context must be given to
    /// [`OrgKey::open`]. Every call uses a fresh random data key and nonce, so sealing the
    /// same bytes twice gives different envelopes.
    ///
    /// # Errors
    /// [`VaultError::Crypto`] if the random number generator or the cipher fails.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
        random(data_key.as_mut())?;
        let wrapped = kw_wrap(&self.key, data_key.as_ref())?;
        if wrapped.len() != WRAPPED_DATA_KEY_LEN {
            return Err(VaultError::Crypto("AES key wrap gave an unexpected length"));
        }
        let cipher = RandomizedNonceKey::new(&AES_256_GCM, data_key.as_ref())
            .map_err(|_| VaultError::Crypto("AES-256-GCM key setup"))?;

        let mut envelope = Vec::with_capacity(ENVELOPE_OVERHEAD + plaintext.len());
        envelope.extend_from_slice(MAGIC);
        envelope.push(VERSION);
        envelope.extend_from_slice(&wrapped);
        envelope.extend_from_slice(&[0; NONCE_LEN]); // filled in once the cipher chose it
        envelope.extend_from_slice(plaintext);
        let nonce = cipher
            .seal_in_place_append_tag(
                Aad::from(additional_data(context)),
                &mut Tail { buf: &mut envelope, start: CIPHERTEXT_AT },
            )
            .map_err(|_| VaultError::Crypto("AES-256-GCM encryption"))?;
        envelope[NONCE_AT..CIPHERTEXT_AT].copy_from_slice(nonce.as_ref());
        Ok(envelope)
    }

    /// Decrypts an envelope made by [`OrgKey::seal`] with the same `context`.
    ///
    /// # Errors
    /// - [`VaultError::MalformedEnvelope`]: not an envelope, another version, or truncated;
    /// - [`VaultError::DataKeyUnwrap`]: the envelope belongs to another organisation's key,
    ///   or its wrapped data key was changed;
    /// - [`VaultError::Decrypt`]: another context, or the nonce, ciphertext or tag changed.
    pub fn open(&self, envelope: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if !envelope.starts_with(&MAGIC[..envelope.len().min(MAGIC.len())]) {
            return Err(VaultError::MalformedEnvelope(
                "the bytes do not start with the envelope's magic \"SGVE\"; they are not \
                 a document sealed by this vault"
                    .into(),
            ));
        }
        if let Some(&version) = envelope.get(VERSION_AT)
            && version != VERSION
        {
            return Err(VaultError::MalformedEnvelope(format!(
                "envelope version {version} is not supported (this build reads version \
                 {VERSION}); open it with the release that sealed it"
            )));
        }
        let (Some(wrapped), Some(nonce), Some(sealed)) = (
            envelope.get(WRAPPED_KEY_AT..NONCE_AT),
            envelope.get(NONCE_AT..CIPHERTEXT_AT),
            envelope.get(CIPHERTEXT_AT..).filter(|rest| rest.len() >= TAG_LEN),
        ) else {
            return Err(VaultError::MalformedEnvelope(format!(
                "the envelope is truncated: {} bytes, and even an empty document's is \
                 {ENVELOPE_OVERHEAD}; restore it from backup",
                envelope.len()
            )));
        };
        let data_key = kw_unwrap(&self.key, wrapped)
            .filter(|key| key.len() == KEY_LEN)
            .ok_or(VaultError::DataKeyUnwrap)?;
        let cipher = RandomizedNonceKey::new(&AES_256_GCM, &data_key)
            .map_err(|_| VaultError::Crypto("AES-256-GCM key setup"))?;
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Crypto("nonce"))?;
        let mut buf = Zeroizing::new(sealed.to_vec());
        let len = cipher
            .open_in_place(nonce, Aad::from(additional_data(context)), &mut buf)
            .map_err(|_| VaultError::Decrypt)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    /// The organisation's search key: a key of its own, derived from this one, that turns
    /// the pieces of text a contract is found by into opaque tokens (a blind index), so that
    /// the database can match them without holding the text.
    pub fn search_key(&self) -> SearchKey {
        let derive = hmac::Key::new(hmac::HMAC_SHA256, self.key.as_ref());
        let tag = hmac::sign(&derive, SEARCH_KEY_LABEL);
        SearchKey { key: hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref()) }
    }

    /// An organisation key from its raw bytes (as unwrapped by a master key).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(VaultError::KeyLength { what: "organisation key", len: bytes.len() });
        }
        key.copy_from_slice(bytes);
        Ok(Self { key })
    }

    /// The raw key, for wrapping by a master key.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.key.as_ref()
    }
}

/// What the search key is derived for (HMAC-SHA-256 of this under the organisation key).
const SEARCH_KEY_LABEL: &[u8] = b"signet/search-index/v1";
/// How many bytes of a term's HMAC a token keeps (48 bits: a collision only adds a candidate
/// that the exact check after opening drops).
const SEARCH_TOKEN_BYTES: usize = 6;

/// Turns search terms into an organisation's blind-index tokens ([`OrgKey::search_key`]).
/// The same term gives the same token within one organisation, and unrelated tokens in
/// another.
pub struct SearchKey {
    key: hmac::Key,
}

impl SearchKey {
    /// The token of `term`: 12 lowercase hex digits.
    pub fn token(&self, term: &str) -> String {
        let tag = hmac::sign(&self.key, term.as_bytes());
        tag.as_ref()[..SEARCH_TOKEN_BYTES].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for SearchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SearchKey(..)")
    }
}

impl fmt::Debug for OrgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OrgKey(redacted)")
    }
}

/// GCM's additional data: magic and version, then the caller's context. The prefix has a
/// fixed length, so the concatenation is unambiguous.
fn additional_data(context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(CIPHERTEXT_AT + context.len());
    aad.extend_from_slice(MAGIC);
    aad.push(VERSION);
    aad.extend_from_slice(context);
    aad
}

/// The part of a buffer from `start` on, as the cipher's in-place input: it encrypts that
/// part and appends the tag to the whole buffer, so the envelope is built without a copy.
struct Tail<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl AsMut<[u8]> for Tail<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        // `start` is CIPHERTEXT_AT and the header is written before sealing.
        &mut self.buf[self.start..]
    }
}

impl<'b> Extend<&'b u8> for Tail<'_> {
    fn extend<I: IntoIterator<Item = &'b u8>>(&mut self, iter: I) {
        self.buf.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: &[u8] = b"org-1/contract-7/document-3";

    fn org_key() -> OrgKey {
        let mut bytes = [0u8; KEY_LEN];
        random(&mut bytes).unwrap();
        OrgKey::from_bytes(&bytes).unwrap()
    }

    fn document(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn search_tokens_are_stable_per_key_and_unrelated_across_keys() {
        let (a, b) = (org_key(), org_key());
        let (ka, kb) = (a.search_key(), b.search_key());
        let t = ka.token("张三");
        assert_eq!(t.len(), 12);
        assert!(t.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(ka.token("张三"), t, "the same term, the same token");
        assert_eq!(a.search_key().token("张三"), t, "derived again, the same key");
        assert_ne!(ka.token("张四"), t);
        assert_ne!(kb.token("张三"), t, "another organisation's token differs");
        assert!(!format!("{ka:?}").contains(&t));
    }

    #[test]
    fn seal_then_open_round_trips() {
        let key = org_key();
        for len in [0, 1, 15, 16, 17, 1000, 1 << 20] {
            let plaintext = document(len);
            let envelope = key.seal(&plaintext, CONTEXT).unwrap();
            assert_eq!(envelope.len(), len + ENVELOPE_OVERHEAD);
            assert_eq!(&envelope[..5], b"SGVE\x01");
            assert_eq!(key.open(&envelope, CONTEXT).unwrap().as_slice(), plaintext);
        }
        // An empty context is a context like any other.
        let envelope = key.seal(b"x", b"").unwrap();
        assert_eq!(key.open(&envelope, b"").unwrap().as_slice(), b"x");
        assert_eq!(key.open(&envelope, b"y").unwrap_err(), VaultError::Decrypt);
    }

    #[test]
    fn the_layout_matches_the_documentation() {
        assert_eq!((VERSION_AT, WRAPPED_KEY_AT, NONCE_AT, CIPHERTEXT_AT), (4, 5, 45, 57));
        assert_eq!(ENVELOPE_OVERHEAD, 73);
        // The ciphertext is not the plaintext.
        let key = org_key();
        let plaintext = vec![0x61; 64];
        let envelope = key.seal(&plaintext, CONTEXT).unwrap();
        assert_ne!(&envelope[CIPHERTEXT_AT..CIPHERTEXT_AT + 64], plaintext.as_slice());
        assert!(!envelope.windows(8).any(|w| w == [0x61; 8]));
    }

    #[test]
    fn two_seals_of_the_same_document_differ() {
        let key = org_key();
        let a = key.seal(b"the same contract", CONTEXT).unwrap();
        let b = key.seal(b"the same contract", CONTEXT).unwrap();
        assert_eq!(a.len(), b.len());
        assert_ne!(a[WRAPPED_KEY_AT..NONCE_AT], b[WRAPPED_KEY_AT..NONCE_AT], "data key");
        assert_ne!(a[NONCE_AT..CIPHERTEXT_AT], b[NONCE_AT..CIPHERTEXT_AT], "nonce");
        assert_ne!(a[CIPHERTEXT_AT..], b[CIPHERTEXT_AT..], "ciphertext");
        assert_eq!(key.open(&a, CONTEXT).unwrap().as_slice(), b"the same contract");
        assert_eq!(key.open(&b, CONTEXT).unwrap().as_slice(), b"the same contract");
    }

    #[test]
    fn every_changed_byte_is_refused() {
        let key = org_key();
        let envelope = key.seal(&document(100), CONTEXT).unwrap();
        let tag_at = envelope.len() - TAG_LEN;
        for at in 0..envelope.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut changed = envelope.clone();
                changed[at] ^= flip;
                let err = key.open(&changed, CONTEXT).unwrap_err();
                let ok = match at {
                    0..WRAPPED_KEY_AT => matches!(err, VaultError::MalformedEnvelope(_)),
                    WRAPPED_KEY_AT..NONCE_AT => err == VaultError::DataKeyUnwrap,
                    _ => err == VaultError::Decrypt,
                };
                let region = match at {
                    0..VERSION_AT => "magic",
                    VERSION_AT => "version",
                    WRAPPED_KEY_AT..NONCE_AT => "wrapped data key",
                    NONCE_AT..CIPHERTEXT_AT => "nonce",
                    _ if at < tag_at => "ciphertext",
                    _ => "tag",
                };
                assert!(ok, "byte {at} ({region}) ^ {flip:#04x}: {err:?}");
            }
        }
    }

    #[test]
    fn a_changed_version_is_named() {
        let key = org_key();
        let mut envelope = key.seal(b"doc", CONTEXT).unwrap();
        envelope[VERSION_AT] = 2;
        let message = key.open(&envelope, CONTEXT).unwrap_err().to_string();
        assert!(message.contains("version 2 is not supported"), "{message}");
    }

    #[test]
    fn a_wrong_context_is_refused() {
        let key = org_key();
        let envelope = key.seal(b"contract text", b"org-1/contract-7/document-3").unwrap();
        for other in [
            &b"org-1/contract-8/document-3"[..],
            b"org-1/contract-7/document-4",
            b"org-2/contract-7/document-3",
            b"org-1/contract-7/document-3 ",
            b"org-1/contract-7/document-",
            b"",
        ] {
            assert_eq!(key.open(&envelope, other).unwrap_err(), VaultError::Decrypt);
        }
    }

    #[test]
    fn another_organisations_key_is_refused() {
        let mine = org_key();
        let theirs = org_key();
        let envelope = mine.seal(b"contract text", CONTEXT).unwrap();
        let err = theirs.open(&envelope, CONTEXT).unwrap_err();
        assert_eq!(err, VaultError::DataKeyUnwrap);
        assert!(err.to_string().contains("another organisation"), "{err}");
    }

    #[test]
    fn a_wrapped_data_key_from_another_envelope_is_refused() {
        // Same organisation key, so the wrapped key unwraps — to the wrong data key.
        let key = org_key();
        let a = key.seal(b"first contract", CONTEXT).unwrap();
        let mut b = key.seal(b"other contract", CONTEXT).unwrap();
        b[WRAPPED_KEY_AT..NONCE_AT].copy_from_slice(&a[WRAPPED_KEY_AT..NONCE_AT]);
        assert_eq!(key.open(&b, CONTEXT).unwrap_err(), VaultError::Decrypt);
    }

    #[test]
    fn every_truncation_is_refused_without_panicking() {
        let key = org_key();
        for len in [0, 1, 40] {
            let envelope = key.seal(&document(len), CONTEXT).unwrap();
            for cut in 0..envelope.len() {
                let err = key.open(&envelope[..cut], CONTEXT).unwrap_err();
                if cut < ENVELOPE_OVERHEAD {
                    let message = err.to_string();
                    assert!(message.contains("truncated"), "cut {cut}: {message}");
                } else {
                    assert_eq!(err, VaultError::Decrypt, "cut {cut}");
                }
            }
        }
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let key = org_key();
        let mut noise = vec![0u8; 300];
        random(&mut noise).unwrap();
        for len in 0..noise.len() {
            assert!(key.open(&noise[..len], CONTEXT).is_err());
            // With a valid header in front, the wrapped key is what fails.
            let mut framed = b"SGVE\x01".to_vec();
            framed.extend_from_slice(&noise[..len]);
            let err = key.open(&framed, CONTEXT).unwrap_err();
            if framed.len() < ENVELOPE_OVERHEAD {
                assert!(matches!(err, VaultError::MalformedEnvelope(_)), "{err:?}");
            } else {
                assert_eq!(err, VaultError::DataKeyUnwrap);
            }
        }
        let message = key.open(b"%PDF-1.7\n", CONTEXT).unwrap_err().to_string();
        assert!(message.contains("magic"), "{message}");
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = org_key();
        let debug = format!("{key:?} {key:#?}");
        assert_eq!(format!("{key:?}"), "OrgKey(redacted)");
        crate::tests::assert_no_key_material(&debug, key.as_bytes());
    }
}
