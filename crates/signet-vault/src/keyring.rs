//! The keyring: the current master key and the previous ones, by id; organisation keys
//! made, opened and rewrapped through it.
//!
//! Rotating the master key, start to end:
//!
//! 1. make a new master key and build `Keyring::new(new).with_previous(old)` (or
//!    [`Keyring::rotate_to`] on a running keyring);
//! 2. for every organisation, store [`Keyring::rewrap`] of its wrapped key (those with
//!    [`Keyring::needs_rewrap`]); documents are not touched;
//! 3. when none needs rewrapping, [`Keyring::retire`] the old master key and destroy it.
//!
//! Until step 3, organisation keys wrapped by either master key open.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::{KEY_LEN, MasterKey, OrgKey, Result, VaultError, Zeroizing, check_master_key_id, random};

/// The first word of a wrapped organisation key's text form.
const WRAPPED_TAG: &str = "signet-org-key/v1";
/// The version byte of a wrapped organisation key's byte form.
const BYTES_VERSION: u8 = 1;
/// The longest wrapped key accepted from storage (RFC 5649 of 32 bytes is 40; an HSM's
/// format may differ, but not by this much).
const MAX_WRAPPED_LEN: usize = 1024;

/// An organisation key as stored in the database: the id of the master key that wrapped it
/// and the wrapped bytes. Not secret by itself; useless without that master key.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedOrgKey {
    master_id: String,
    bytes: Vec<u8>,
}

impl WrappedOrgKey {
    /// The id of the master key that wrapped this organisation key.
    pub fn master_id(&self) -> &str {
        &self.master_id
    }

    /// The byte form for storage (a `BLOB`/`BYTEA` column):
    ///
    /// ```text
    ///  offset  length  content
    ///  0       1       version, 0x01
    ///  1       1       n, the master key id's length (1 to 64)
    ///  2       n       the master key id, ASCII
    ///  2+n     rest    the wrapped key (1 to 1024 bytes; 40 for a key-file master key)
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.master_id.len() + self.bytes.len());
        out.push(BYTES_VERSION);
        // The id was checked to be 1 to 64 ASCII characters when this value was made.
        out.push(self.master_id.len() as u8);
        out.extend_from_slice(self.master_id.as_bytes());
        out.extend_from_slice(&self.bytes);
        out
    }

    /// Reads the byte form written by [`WrappedOrgKey::to_bytes`].
    ///
    /// # Errors
    /// [`VaultError::MalformedWrappedOrgKey`] naming what is wrong.
    pub fn from_bytes(stored: &[u8]) -> Result<Self> {
        let malformed = VaultError::MalformedWrappedOrgKey;
        let [version, id_len, rest @ ..] = stored else {
            return Err(malformed("shorter than its 2-byte header"));
        };
        if *version != BYTES_VERSION {
            return Err(malformed("unsupported version (this build reads version 1)"));
        }
        let (id, wrapped) = rest
            .split_at_checked(usize::from(*id_len))
            .ok_or(malformed("truncated inside the master key id"))?;
        let master_id = std::str::from_utf8(id)
            .ok()
            .filter(|id| check_master_key_id(id).is_ok())
            .ok_or(malformed("the master key id is invalid"))?;
        Self::new(master_id, wrapped.to_vec())
    }

    /// The text form for storage: `signet-org-key/v1 <master key id> <base64>`, one line,
    /// no newline (91 characters for a key-file master key).
    pub fn to_text(&self) -> String {
        let mut text = format!("{WRAPPED_TAG} {} ", self.master_id);
        BASE64.encode_string(&self.bytes, &mut text);
        text
    }

    /// Reads the text form written by [`WrappedOrgKey::to_text`].
    ///
    /// # Errors
    /// [`VaultError::MalformedWrappedOrgKey`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self> {
        let malformed = VaultError::MalformedWrappedOrgKey;
        let mut fields = text.split(' ');
        let (Some(tag), Some(master_id), Some(encoded), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(malformed("not three fields separated by single spaces"));
        };
        if tag != WRAPPED_TAG {
            return Err(malformed("it does not start with signet-org-key/v1"));
        }
        check_master_key_id(master_id).map_err(|_| malformed("the master key id is invalid"))?;
        let bytes =
            BASE64.decode(encoded).map_err(|_| malformed("the wrapped key is not valid base64"))?;
        Self::new(master_id, bytes)
    }

    fn new(master_id: &str, bytes: Vec<u8>) -> Result<Self> {
        if bytes.is_empty() || bytes.len() > MAX_WRAPPED_LEN {
            return Err(VaultError::MalformedWrappedOrgKey("the wrapped key is empty or too long"));
        }
        Ok(Self { master_id: master_id.to_owned(), bytes })
    }
}

impl fmt::Debug for WrappedOrgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedOrgKey")
            .field("master_id", &self.master_id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// The master keys an installation holds: one current key that wraps new and rewrapped
/// organisation keys, and previous keys that only unwrap, kept until rotation is done.
pub struct Keyring {
    current: Box<dyn MasterKey>,
    previous: Vec<Box<dyn MasterKey>>,
}

impl Keyring {
    /// A keyring whose current master key is `current`.
    ///
    /// # Errors
    /// [`VaultError::BadMasterKeyId`] if the key's id cannot be stored.
    pub fn new(current: Box<dyn MasterKey>) -> Result<Self> {
        check_master_key_id(current.id())?;
        Ok(Self { current, previous: Vec::new() })
    }

    /// Adds a previous master key, used only to open organisation keys it wrapped.
    ///
    /// # Errors
    /// [`VaultError::BadMasterKeyId`], or [`VaultError::DuplicateMasterKey`] if a key with
    /// this id is already in the keyring.
    pub fn with_previous(mut self, key: Box<dyn MasterKey>) -> Result<Self> {
        self.check_new_id(key.id())?;
        self.previous.push(key);
        Ok(self)
    }

    /// Makes `new` the current master key; the current one becomes a previous key.
    ///
    /// # Errors
    /// As [`Keyring::with_previous`].
    pub fn rotate_to(&mut self, new: Box<dyn MasterKey>) -> Result<()> {
        self.check_new_id(new.id())?;
        let old = std::mem::replace(&mut self.current, new);
        self.previous.push(old);
        Ok(())
    }

    /// Removes a previous master key once no organisation key needs it. Removing an id the
    /// keyring does not hold does nothing.
    ///
    /// # Errors
    /// [`VaultError::RetireCurrent`] if `id` is the current master key.
    pub fn retire(&mut self, id: &str) -> Result<()> {
        if id == self.current.id() {
            return Err(VaultError::RetireCurrent { id: id.to_owned() });
        }
        self.previous.retain(|key| key.id() != id);
        Ok(())
    }

    /// The current master key's id.
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// The ids of all master keys held, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.current.id()).chain(self.previous.iter().map(|key| key.id()))
    }

    /// A new random organisation key, and its wrapped form to store.
    ///
    /// # Errors
    /// [`VaultError::Crypto`] or [`VaultError::Backend`] if the random number generator or
    /// the master key fails.
    pub fn new_org_key(&self) -> Result<(OrgKey, WrappedOrgKey)> {
        let mut bytes = crate::Zeroizing::new([0u8; KEY_LEN]);
        random(bytes.as_mut())?;
        let key = OrgKey::from_bytes(bytes.as_ref())?;
        let wrapped = self.wrap(&key)?;
        Ok((key, wrapped))
    }

    /// Opens a stored organisation key with the master key it names.
    ///
    /// # Errors
    /// [`VaultError::UnknownMasterKey`] if the keyring does not hold that master key;
    /// [`VaultError::OrgKeyUnwrap`] if the master key refuses the bytes;
    /// [`VaultError::Backend`] if the master key's backend fails.
    pub fn open_org_key(&self, wrapped: &WrappedOrgKey) -> Result<OrgKey> {
        let master = self.master(&wrapped.master_id)?;
        let bytes = master.unwrap(&wrapped.bytes)?;
        // A backend returning something other than a 32-byte key has opened garbage.
        OrgKey::from_bytes(&bytes)
            .map_err(|_| VaultError::OrgKeyUnwrap { master_id: wrapped.master_id.clone() })
    }

    /// The same organisation key, wrapped by the current master key: the one step of a
    /// master key rotation. Documents sealed with the organisation key are not touched and
    /// stay readable.
    ///
    /// # Errors
    /// As [`Keyring::open_org_key`], and as the current master key's wrap.
    pub fn rewrap(&self, wrapped: &WrappedOrgKey) -> Result<WrappedOrgKey> {
        let key = self.open_org_key(wrapped)?;
        self.wrap(&key)
    }

    /// Whether `wrapped` is under an older master key than the current one.
    pub fn needs_rewrap(&self, wrapped: &WrappedOrgKey) -> bool {
        wrapped.master_id != self.current.id()
    }

    /// Seals a secret of the installation itself (a CA, TSA or log signing key) for storage:
    /// a fresh key, wrapped by the current master key, seals it in an envelope bound to
    /// `context`. Stored as: 2-byte big-endian length of the wrapped key, the wrapped key
    /// ([`WrappedOrgKey::to_bytes`]), the envelope.
    ///
    /// # Errors
    /// As [`Keyring::new_org_key`] and [`OrgKey::seal`].
    pub fn seal_secret(&self, secret: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        let (key, wrapped) = self.new_org_key()?;
        let wrapped = wrapped.to_bytes();
        let len = u16::try_from(wrapped.len()).map_err(|_| VaultError::MalformedWrappedOrgKey("longer than 65535 bytes"))?;
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&key.seal(secret, context)?);
        Ok(out)
    }

    /// Opens what [`Keyring::seal_secret`] sealed, with any master key the keyring holds.
    ///
    /// # Errors
    /// [`VaultError::MalformedEnvelope`] for bytes that are not a sealed secret; as
    /// [`Keyring::open_org_key`] and [`OrgKey::open`] otherwise (also for another context).
    pub fn open_secret(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let (wrapped, envelope) = split_sealed(sealed)?;
        let key = self.open_org_key(&WrappedOrgKey::from_bytes(wrapped)?)?;
        key.open(envelope, context)
    }

    /// The id of the master key that sealed `sealed` (made by [`Keyring::seal_secret`]), read
    /// from its header without opening it.
    ///
    /// # Errors
    /// [`VaultError::MalformedEnvelope`] or [`VaultError::MalformedWrappedOrgKey`] for bytes
    /// that are not a sealed secret.
    pub fn sealed_by(sealed: &[u8]) -> Result<String> {
        let (wrapped, _) = split_sealed(sealed)?;
        Ok(WrappedOrgKey::from_bytes(wrapped)?.master_id().to_owned())
    }

    /// `sealed` opened and sealed again by the current master key, or `None` when the current
    /// key sealed it already.
    ///
    /// # Errors
    /// As [`Keyring::open_secret`] and [`Keyring::seal_secret`].
    pub fn reseal_secret(&self, sealed: &[u8], context: &[u8]) -> Result<Option<Vec<u8>>> {
        if Self::sealed_by(sealed)? == self.current_id() {
            return Ok(None);
        }
        let plain = self.open_secret(sealed, context)?;
        Ok(Some(self.seal_secret(&plain, context)?))
    }

    fn wrap(&self, key: &OrgKey) -> Result<WrappedOrgKey> {
        let bytes = self.current.wrap(key.as_bytes())?;
        Ok(WrappedOrgKey { master_id: self.current.id().to_owned(), bytes })
    }

    fn master(&self, id: &str) -> Result<&dyn MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id() == id)
            .map(|key| key.as_ref())
            .ok_or_else(|| VaultError::UnknownMasterKey { id: id.to_owned() })
    }

    fn check_new_id(&self, id: &str) -> Result<()> {
        check_master_key_id(id)?;
        if self.ids().any(|held| held == id) {
            return Err(VaultError::DuplicateMasterKey { id: id.to_owned() });
        }
        Ok(())
    }
}

/// A sealed secret's wrapped key and envelope (layout in [`Keyring::seal_secret`]).
fn split_sealed(sealed: &[u8]) -> Result<(&[u8], &[u8])> {
    let malformed = || VaultError::MalformedEnvelope("a sealed secret is shorter than its header says".into());
    let (len, rest) = sealed.split_first_chunk::<2>().ok_or_else(malformed)?;
    rest.split_at_checked(usize::from(u16::from_be_bytes(*len))).ok_or_else(malformed)
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let previous: Vec<&str> = self.previous.iter().map(|key| key.id()).collect();
        f.debug_struct("Keyring")
            .field("current", &self.current.id())
            .field("previous", &previous)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FileMasterKey, Zeroizing};

    const CONTEXT: &[u8] = b"org-1/contract-7/document-3";

    fn master() -> Box<dyn MasterKey> {
        Box::new(FileMasterKey::generate().unwrap())
    }

    #[test]
    fn org_key_round_trips_through_storage() {
        let keyring = Keyring::new(master()).unwrap();
        let (key, wrapped) = keyring.new_org_key().unwrap();
        assert_eq!(wrapped.master_id(), keyring.current_id());
        let text = wrapped.to_text();
        assert!(text.starts_with("signet-org-key/v1 "), "{text}");
        assert_eq!(text.len(), 91, "{text}");
        let stored = WrappedOrgKey::parse(&text).unwrap();
        assert_eq!(stored, wrapped);
        let opened = keyring.open_org_key(&stored).unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
        let envelope = key.seal(b"contract", CONTEXT).unwrap();
        assert_eq!(opened.open(&envelope, CONTEXT).unwrap().as_slice(), b"contract");
    }

    #[test]
    fn installation_secrets_are_sealed_and_survive_a_rotation() {
        let mut keyring = Keyring::new(master()).unwrap();
        let secret = b"-----BEGIN PRIVATE KEY----- not really";
        let sealed = keyring.seal_secret(secret, b"signet-ca/root").unwrap();
        assert!(!sealed.windows(8).any(|w| w == &secret[..8]), "the secret is not in the clear");
        assert_eq!(keyring.open_secret(&sealed, b"signet-ca/root").unwrap().as_slice(), secret);
        assert_eq!(keyring.open_secret(&sealed, b"signet-ca/tsa").unwrap_err(), VaultError::Decrypt, "bound to its context");
        let again = keyring.seal_secret(secret, b"signet-ca/root").unwrap();
        assert_ne!(again, sealed, "a fresh key each time");
        keyring.rotate_to(master()).unwrap();
        assert_eq!(keyring.open_secret(&sealed, b"signet-ca/root").unwrap().as_slice(), secret, "old sealings open after a rotation");
        let stranger = Keyring::new(master()).unwrap();
        assert!(matches!(stranger.open_secret(&sealed, b"signet-ca/root"), Err(VaultError::UnknownMasterKey { .. })));
        for bad in [&[][..], &[0u8][..], &[0, 200, 1, 2][..], &sealed[..sealed.len() - 1]] {
            assert!(keyring.open_secret(bad, b"signet-ca/root").is_err(), "{bad:?}");
        }
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(keyring.open_secret(&flipped, b"signet-ca/root").unwrap_err(), VaultError::Decrypt);
    }

    #[test]
    fn a_reseal_moves_a_secret_to_the_current_key_so_the_old_one_can_go() {
        let mut keyring = Keyring::new(master()).unwrap();
        let old_id = keyring.current_id().to_owned();
        let sealed = keyring.seal_secret(b"pepper", b"ctx").unwrap();
        assert_eq!(Keyring::sealed_by(&sealed).unwrap(), old_id);
        assert_eq!(keyring.reseal_secret(&sealed, b"ctx").unwrap(), None, "already under the current key");
        keyring.rotate_to(master()).unwrap();
        let moved = keyring.reseal_secret(&sealed, b"ctx").unwrap().expect("resealed");
        assert_eq!(Keyring::sealed_by(&moved).unwrap(), keyring.current_id());
        assert!(keyring.reseal_secret(&sealed, b"other").is_err(), "bound to its context");
        keyring.retire(&old_id).unwrap();
        assert_eq!(keyring.open_secret(&moved, b"ctx").unwrap().as_slice(), b"pepper", "opens with the old key retired");
        assert!(keyring.open_secret(&sealed, b"ctx").is_err(), "the old sealing does not");
        assert!(Keyring::sealed_by(&[0, 9, 1]).is_err());
    }

    #[test]
    fn each_organisation_gets_its_own_key() {
        let keyring = Keyring::new(master()).unwrap();
        let (a, wrapped_a) = keyring.new_org_key().unwrap();
        let (b, wrapped_b) = keyring.new_org_key().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(wrapped_a, wrapped_b);
        let envelope = a.seal(b"contract", CONTEXT).unwrap();
        assert_eq!(b.open(&envelope, CONTEXT).unwrap_err(), VaultError::DataKeyUnwrap);
    }

    #[test]
    fn master_key_rotation_keeps_documents_readable() {
        let master_a = FileMasterKey::generate().unwrap();
        let a_text = master_a.to_file_text();
        let a_id = master_a.id().to_owned();
        let mut keyring = Keyring::new(Box::new(master_a)).unwrap();
        let (org_key, wrapped_by_a) = keyring.new_org_key().unwrap();
        let envelope = org_key.seal(b"signed contract", CONTEXT).unwrap();
        drop(org_key);

        // Rotate: B becomes current, A stays as a previous key.
        let master_b = FileMasterKey::generate().unwrap();
        let b_id = master_b.id().to_owned();
        keyring.rotate_to(Box::new(master_b)).unwrap();
        assert_eq!(keyring.current_id(), b_id);
        assert_eq!(keyring.ids().collect::<Vec<_>>(), [b_id.as_str(), a_id.as_str()]);
        assert!(keyring.needs_rewrap(&wrapped_by_a));
        let wrapped_by_b = keyring.rewrap(&wrapped_by_a).unwrap();
        assert_eq!(wrapped_by_b.master_id(), b_id);
        assert!(!keyring.needs_rewrap(&wrapped_by_b));
        assert_ne!(wrapped_by_b, wrapped_by_a);

        // Both wrapped forms open while A is held; the document opens with either.
        for wrapped in [&wrapped_by_a, &wrapped_by_b] {
            let key = keyring.open_org_key(wrapped).unwrap();
            assert_eq!(key.open(&envelope, CONTEXT).unwrap().as_slice(), b"signed contract");
        }

        // Retire A: the rewrapped key still opens the untouched document, the old form
        // names the missing master key.
        keyring.retire(&a_id).unwrap();
        assert_eq!(keyring.ids().collect::<Vec<_>>(), [b_id.as_str()]);
        let key = keyring.open_org_key(&wrapped_by_b).unwrap();
        assert_eq!(key.open(&envelope, CONTEXT).unwrap().as_slice(), b"signed contract");
        let err = keyring.open_org_key(&wrapped_by_a).unwrap_err();
        assert_eq!(err, VaultError::UnknownMasterKey { id: a_id.clone() });
        assert!(err.to_string().contains("unknown master key id"), "{err}");
        assert!(keyring.rewrap(&wrapped_by_a).is_err());

        // A keyring built from the key files after a restart: B current, A previous.
        let restarted = Keyring::new(Box::new(FileMasterKey::generate().unwrap()))
            .unwrap()
            .with_previous(Box::new(FileMasterKey::parse(&a_text).unwrap()))
            .unwrap();
        let key = restarted.open_org_key(&wrapped_by_a).unwrap();
        assert_eq!(key.open(&envelope, CONTEXT).unwrap().as_slice(), b"signed contract");
        assert_eq!(
            restarted.open_org_key(&wrapped_by_b).unwrap_err(),
            VaultError::UnknownMasterKey { id: b_id }
        );
    }

    #[test]
    fn keyring_refuses_duplicates_and_retiring_the_current_key() {
        let bytes = [5u8; 32];
        let a = || Box::new(FileMasterKey::from_bytes(&bytes).unwrap()) as Box<dyn MasterKey>;
        let id = a().id().to_owned();
        let mut keyring = Keyring::new(a()).unwrap();
        assert_eq!(
            keyring.rotate_to(a()).unwrap_err(),
            VaultError::DuplicateMasterKey { id: id.clone() }
        );
        assert_eq!(keyring.retire(&id).unwrap_err(), VaultError::RetireCurrent { id: id.clone() });
        let keyring = keyring.with_previous(master()).unwrap();
        assert_eq!(keyring.with_previous(a()).unwrap_err(), VaultError::DuplicateMasterKey { id });
    }

    #[test]
    fn a_master_key_with_an_unstorable_id_is_refused() {
        struct Labelled(&'static str);
        impl MasterKey for Labelled {
            fn id(&self) -> &str {
                self.0
            }
            fn wrap(&self, _: &[u8]) -> Result<Vec<u8>> {
                Err(VaultError::Backend("test key".into()))
            }
            fn unwrap(&self, _: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
                Err(VaultError::Backend("test key".into()))
            }
        }
        assert_eq!(
            Keyring::new(Box::new(Labelled("slot 0"))).unwrap_err(),
            VaultError::BadMasterKeyId
        );
        let keyring = Keyring::new(master()).unwrap();
        assert_eq!(
            keyring.with_previous(Box::new(Labelled(""))).unwrap_err(),
            VaultError::BadMasterKeyId
        );
        // A backend's error comes through unchanged.
        let keyring = Keyring::new(Box::new(Labelled("hsm-0"))).unwrap();
        assert_eq!(keyring.new_org_key().unwrap_err(), VaultError::Backend("test key".into()));
    }

    #[test]
    fn a_backend_returning_a_wrong_length_key_is_refused() {
        struct Short;
        impl MasterKey for Short {
            fn id(&self) -> &str {
                "short"
            }
            fn wrap(&self, key: &[u8]) -> Result<Vec<u8>> {
                Ok(key.to_vec())
            }
            fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
                Ok(Zeroizing::new(wrapped[1..].to_vec()))
            }
        }
        let keyring = Keyring::new(Box::new(Short)).unwrap();
        let (_, wrapped) = keyring.new_org_key().unwrap();
        assert_eq!(
            keyring.open_org_key(&wrapped).unwrap_err(),
            VaultError::OrgKeyUnwrap { master_id: "short".into() }
        );
    }

    #[test]
    fn a_changed_wrapped_org_key_is_refused() {
        let keyring = Keyring::new(master()).unwrap();
        let (_, wrapped) = keyring.new_org_key().unwrap();
        for at in 0..wrapped.bytes.len() {
            let mut changed = wrapped.clone();
            changed.bytes[at] ^= 0x01;
            assert_eq!(
                keyring.open_org_key(&changed).unwrap_err(),
                VaultError::OrgKeyUnwrap { master_id: keyring.current_id().to_owned() },
                "byte {at}"
            );
        }
        // The right bytes under another master key's name: that key is not held.
        let mut renamed = wrapped.clone();
        renamed.master_id = "0000000000000000".into();
        assert!(matches!(keyring.open_org_key(&renamed), Err(VaultError::UnknownMasterKey { .. })));
        // Under a held master key that did not wrap it.
        let other = FileMasterKey::generate().unwrap();
        let other_id = other.id().to_owned();
        let keyring = keyring.with_previous(Box::new(other)).unwrap();
        renamed.master_id = other_id.clone();
        assert_eq!(
            keyring.open_org_key(&renamed).unwrap_err(),
            VaultError::OrgKeyUnwrap { master_id: other_id }
        );
    }

    #[test]
    fn malformed_wrapped_org_keys_are_refused() {
        let keyring = Keyring::new(master()).unwrap();
        let (_, wrapped) = keyring.new_org_key().unwrap();
        let text = wrapped.to_text();
        let id = wrapped.master_id();
        let b64 = BASE64.encode(&wrapped.bytes);
        let huge = BASE64.encode(vec![0; MAX_WRAPPED_LEN + 1]);
        let cases = [
            String::new(),
            "garbage".into(),
            format!("signet-org-key/v2 {id} {b64}"),
            format!("signet-master-key/v1 {id} {b64}"),
            format!("signet-org-key/v1 {id}"),
            format!("signet-org-key/v1 {id} {b64} more"),
            format!("{text}\n"),
            format!(" {text}"),
            format!("signet-org-key/v1 a:b {b64}"),
            format!("signet-org-key/v1 {} {b64}", "x".repeat(65)),
            format!("signet-org-key/v1 {id} "),
            format!("signet-org-key/v1 {id} {}", &b64[1..]),
            format!("signet-org-key/v1 {id} {huge}"),
        ];
        for case in cases {
            let err = WrappedOrgKey::parse(&case).unwrap_err();
            assert!(matches!(err, VaultError::MalformedWrappedOrgKey(_)), "{case:?}: {err:?}");
        }
        // Every truncation fails to parse, or parses and then fails to open.
        for len in 0..text.len() {
            match WrappedOrgKey::parse(&text[..len]) {
                Err(err) => assert!(matches!(err, VaultError::MalformedWrappedOrgKey(_))),
                Ok(short) => assert!(keyring.open_org_key(&short).is_err(), "prefix {len}"),
            }
        }
    }

    #[test]
    fn wrapped_org_key_bytes_round_trip() {
        let keyring = Keyring::new(master()).unwrap();
        let (key, wrapped) = keyring.new_org_key().unwrap();
        let stored = wrapped.to_bytes();
        assert_eq!(stored.len(), 2 + 16 + 40);
        assert_eq!(stored[..2], [1, 16]);
        assert_eq!(&stored[2..18], wrapped.master_id().as_bytes());
        let back = WrappedOrgKey::from_bytes(&stored).unwrap();
        assert_eq!(back, wrapped);
        assert_eq!(keyring.open_org_key(&back).unwrap().as_bytes(), key.as_bytes());
        // Text and bytes describe the same value.
        assert_eq!(WrappedOrgKey::parse(&back.to_text()).unwrap(), wrapped);
    }

    #[test]
    fn malformed_wrapped_org_key_bytes_are_refused() {
        let keyring = Keyring::new(master()).unwrap();
        let (_, wrapped) = keyring.new_org_key().unwrap();
        let stored = wrapped.to_bytes();
        let with = |at: usize, value: u8| {
            let mut changed = stored.clone();
            changed[at] = value;
            changed
        };
        let mut too_long = stored.clone();
        too_long.extend(vec![0; MAX_WRAPPED_LEN]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "2-byte header"),
            (vec![1], "2-byte header"),
            (with(0, 0), "unsupported version"),
            (with(0, 2), "unsupported version"),
            (with(1, 0), "id is invalid"),
            (with(1, 65), "truncated inside the master key id"),
            ([&[1, 65][..], &[b'a'; 65], &[7; 40]].concat(), "id is invalid"),
            (with(1, 200), "truncated inside the master key id"),
            (with(1, 58), "truncated inside the master key id"),
            (with(2, b' '), "id is invalid"),
            (with(2, 0xc3), "id is invalid"),
            (stored[..18].to_vec(), "empty or too long"),
            (too_long, "empty or too long"),
        ];
        for (bytes, expected) in cases {
            let err = WrappedOrgKey::from_bytes(&bytes).unwrap_err();
            assert!(matches!(err, VaultError::MalformedWrappedOrgKey(_)), "{bytes:?}: {err:?}");
            assert!(err.to_string().contains(expected), "{bytes:?}: {err}");
        }
        // The longest id is read.
        let longest = [&[1, 64][..], &[b'a'; 64], &[7; 40]].concat();
        assert_eq!(WrappedOrgKey::from_bytes(&longest).unwrap().master_id(), "a".repeat(64));
        // Every truncation fails to read, or reads and then fails to open.
        for len in 0..stored.len() {
            match WrappedOrgKey::from_bytes(&stored[..len]) {
                Err(err) => assert!(matches!(err, VaultError::MalformedWrappedOrgKey(_))),
                Ok(short) => assert!(keyring.open_org_key(&short).is_err(), "prefix {len}"),
            }
        }
    }

    #[test]
    fn debug_shows_ids_only() {
        let bytes: [u8; 32] = core::array::from_fn(|i| 0x30 + i as u8);
        let master = FileMasterKey::from_bytes(&bytes).unwrap();
        let id = master.id().to_owned();
        let keyring = Keyring::new(Box::new(master)).unwrap();
        let (org_key, wrapped) = keyring.new_org_key().unwrap();
        let debug = format!("{keyring:?} {keyring:#?} {wrapped:?} {org_key:?}");
        assert!(debug.contains(&id), "{debug}");
        crate::tests::assert_no_key_material(&debug, &bytes);
        crate::tests::assert_no_key_material(&debug, org_key.as_bytes());
        crate::tests::assert_no_key_material(&debug, &wrapped.bytes);
    }
}
