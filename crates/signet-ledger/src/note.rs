//! C2SP `signed-note` (c2sp.org/signed-note, sections "Format", "Signatures", "Signature types",
//! "Ed25519 signatures"): a text ending in a newline, a blank line, and signature lines
//! `— <key name> base64(key ID || signature)`; key IDs `SHA-256(name || 0x0A || type || key)[:4]`;
//! and the textual key encodings of `golang.org/x/mod/sumdb/note` that the C2SP specs call
//! *vkeys*: `<name>+<key ID as 8 hex digits>+base64(type || public key)` for verifiers and
//! `PRIVATE+KEY+<name>+<key ID>+base64(type || seed)` for signers.
//!
//! Two signature types are implemented: `0x01`, Ed25519 over the note text, and `0x04`,
//! timestamped Ed25519 cosignatures over `cosignature/v1` messages ([`crate::cosignature`]).
//!
//! Parsing is strict: valid UTF-8, no control characters other than newline, at most
//! [`MAX_NOTE_SIZE`] bytes and [`MAX_SIGNATURES`] signature lines, canonical base64. As the
//! spec requires, signatures from unknown keys are kept (as unverified) and ignored; a
//! signature from a known key that fails to verify rejects the whole note; a note with no
//! verified signature from a known key is rejected.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::LedgerError;
use crate::cosignature;
use crate::tree::sha256;

/// Largest note accepted, in bytes.
pub const MAX_NOTE_SIZE: usize = 1 << 20;
/// Most signature lines accepted in one note (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The em dash and space that open a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// A signature type identifier byte (c2sp.org/signed-note, "Signature types").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureType {
    /// `0x01`: Ed25519 over the note text.
    Ed25519,
    /// `0x04`: timestamped Ed25519 witness cosignature (c2sp.org/tlog-cosignature).
    CosignatureV1,
}

impl SignatureType {
    /// The identifier byte.
    pub fn byte(self) -> u8 {
        match self {
            SignatureType::Ed25519 => 0x01,
            SignatureType::CosignatureV1 => 0x04,
        }
    }

    /// The type with identifier byte `b`, if implemented here.
    pub fn from_byte(b: u8) -> Result<Self, LedgerError> {
        match b {
            0x01 => Ok(SignatureType::Ed25519),
            0x04 => Ok(SignatureType::CosignatureV1),
            other => Err(LedgerError::UnknownKeyType(other)),
        }
    }
}

/// The key ID: the first four bytes, big-endian, of `SHA-256(name || 0x0A || type || key)`.
pub fn key_id(name: &str, kind: SignatureType, public_key: &[u8; 32]) -> u32 {
    let digest = sha256(&[name.as_bytes(), b"\n", &[kind.byte()], public_key]);
    let [a, b, c, d, ..] = digest;
    u32::from_be_bytes([a, b, c, d])
}

/// Checks a key name: non-empty, no Unicode white space, no `+`, no control characters.
pub fn check_key_name(name: &str) -> Result<(), LedgerError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(LedgerError::KeyName);
    }
    Ok(())
}

/// The characters a note may hold: anything but ASCII control characters other than newline.
fn check_note_chars(s: &str) -> Result<(), LedgerError> {
    if s.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(LedgerError::MalformedNote("control character"));
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID (the first four bytes of the encoded signature).
    pub key_id: u32,
    /// The signature proper, after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, with its final newline.
    pub fn line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }

    /// Parses a signature line without its newline.
    pub fn parse_line(line: &str) -> Result<Self, LedgerError> {
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(LedgerError::MalformedNote("signature line without em dash"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(LedgerError::MalformedNote("signature line without key"))?;
        check_key_name(name)?;
        let raw = B64
            .decode(b64)
            .map_err(|_| LedgerError::MalformedNote("signature base64"))?;
        if raw.len() < 5 {
            return Err(LedgerError::MalformedNote("signature too short"));
        }
        let (id, sig) = raw
            .split_first_chunk::<4>()
            .ok_or(LedgerError::MalformedNote("signature too short"))?;
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes(*id),
            signature: sig.to_vec(),
        })
    }
}

/// A note: text and signature lines, verified or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// An unsigned note. The text must end in a newline and hold no control characters other
    /// than newline.
    pub fn new(text: impl Into<String>) -> Result<Self, LedgerError> {
        let text = text.into();
        if !text.ends_with('\n') {
            return Err(LedgerError::MalformedNote("text does not end in a newline"));
        }
        check_note_chars(&text)?;
        if text.len() > MAX_NOTE_SIZE {
            return Err(LedgerError::MalformedNote("too large"));
        }
        Ok(Note {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note. Signatures are not checked here; see [`Note::verify`].
    pub fn parse(bytes: &[u8]) -> Result<Self, LedgerError> {
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(LedgerError::MalformedNote("too large"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| LedgerError::MalformedNote("not UTF-8"))?;
        check_note_chars(s)?;
        // The text is separated from the signatures by the last empty line.
        let split = s
            .rfind("\n\n")
            .ok_or(LedgerError::MalformedNote("no signature block"))?;
        let (text, rest) = s
            .split_at_checked(split + 1)
            .ok_or(LedgerError::MalformedNote("no signature block"))?;
        let sigs = rest.strip_prefix('\n').unwrap_or(rest);
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(LedgerError::MalformedNote("no signature line"));
        };
        let mut signatures = Vec::new();
        for line in sigs.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(LedgerError::MalformedNote("too many signatures"));
            }
            signatures.push(NoteSignature::parse_line(line)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature, replacing any earlier one by the same key (name and key ID).
    pub fn add_signature(&mut self, sig: NoteSignature) -> Result<(), LedgerError> {
        check_key_name(&sig.name)?;
        if sig.signature.is_empty() {
            return Err(LedgerError::MalformedNote("empty signature"));
        }
        self.signatures
            .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
        if self.signatures.len() == MAX_SIGNATURES {
            return Err(LedgerError::MalformedNote("too many signatures"));
        }
        self.signatures.push(sig);
        Ok(())
    }

    /// Signs the text with an Ed25519 (type `0x01`) key: a [`SignerKey`] in memory or any
    /// other [`NoteSigner`] (for example an [`ExternalSigner`] whose key is in an HSM).
    /// Cosigning keys go through [`crate::cosignature::cosign`], which adds the timestamp.
    ///
    /// # Errors
    /// [`LedgerError::WrongKeyType`] for a key that is not of type `0x01`; what the signer
    /// returns when it fails.
    pub fn sign<S: NoteSigner + ?Sized>(&mut self, signer: &S) -> Result<(), LedgerError> {
        if signer.kind() != SignatureType::Ed25519 {
            return Err(LedgerError::WrongKeyType);
        }
        let sig = signer.sign(self.text.as_bytes())?;
        let line = NoteSignature {
            name: signer.name().to_owned(),
            key_id: signer.key_id(),
            signature: sig.to_vec(),
        };
        self.add_signature(line)
    }

    /// The encoded note: text, blank line, signature lines. Fails for a note without
    /// signatures, which has no encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>, LedgerError> {
        if self.signatures.is_empty() {
            return Err(LedgerError::MalformedNote("no signature line"));
        }
        let mut out = String::with_capacity(self.text.len() + 128 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        Ok(out.into_bytes())
    }

    /// Checks the signatures against known keys (c2sp.org/signed-note, "Signatures").
    /// Unknown keys are ignored; a bad signature from a known key fails the whole note; at
    /// least one signature from a known key must verify.
    pub fn verify(&self, known: &Verifiers) -> Result<VerifiedNote, LedgerError> {
        let mut verified: Vec<VerifiedSignature> = Vec::new();
        let mut unverified: Vec<NoteSignature> = Vec::new();
        for sig in &self.signatures {
            match known.find(&sig.name, sig.key_id) {
                Some(key) => {
                    let timestamp =
                        key.verify(self.text.as_bytes(), &sig.signature)
                            .map_err(|_| LedgerError::BadSignature {
                                name: sig.name.clone(),
                                key_id: sig.key_id,
                            })?;
                    if !verified
                        .iter()
                        .any(|v| v.name == sig.name && v.key_id == sig.key_id)
                    {
                        verified.push(VerifiedSignature {
                            name: sig.name.clone(),
                            key_id: sig.key_id,
                            kind: key.kind,
                            timestamp,
                        });
                    }
                }
                None => {
                    if !unverified.contains(sig) {
                        unverified.push(sig.clone());
                    }
                }
            }
        }
        if verified.is_empty() {
            return Err(LedgerError::NoTrustedSignature);
        }
        Ok(VerifiedNote {
            verified,
            unverified,
        })
    }
}

/// The outcome of [`Note::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    /// Signatures from known keys, all verified; one per key.
    pub verified: Vec<VerifiedSignature>,
    /// Signatures from unknown keys, unchecked, without exact duplicates.
    pub unverified: Vec<NoteSignature>,
}

/// A signature that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// Signature type of the key.
    pub kind: SignatureType,
    /// The signed timestamp of a cosignature (seconds since the Unix epoch).
    pub timestamp: Option<u64>,
}

/// A public key that verifies note signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    kind: SignatureType,
    key: VerifyingKey,
}

impl VerifierKey {
    /// The verifier for an Ed25519 public key under `name`, of signature type `kind`.
    pub fn new(
        name: &str,
        kind: SignatureType,
        public_key: &[u8; 32],
    ) -> Result<Self, LedgerError> {
        check_key_name(name)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| LedgerError::VerifierKey("not an Ed25519 public key"))?;
        if key.is_weak() {
            return Err(LedgerError::VerifierKey("small-order Ed25519 key"));
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, kind, public_key),
            kind,
            key,
        })
    }

    /// Parses a vkey: `<name>+<8 hex digits>+base64(type || 32-byte key)`. The key ID must
    /// match the name, type and key.
    pub fn parse(vkey: &str) -> Result<Self, LedgerError> {
        let (name, id, kind, key) = parse_key_text(vkey, LedgerError::VerifierKey, "key is not 32 bytes")?;
        let v = VerifierKey::new(name, kind, &key)?;
        if v.key_id != id {
            return Err(LedgerError::KeyIdMismatch);
        }
        Ok(v)
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The same public key and name as a `cosignature/v1` (type `0x04`) verifier, as for a
    /// witness whose key was published as a type `0x01` vkey.
    pub fn to_cosignature_v1(&self) -> Self {
        let pk = self.key.to_bytes();
        VerifierKey {
            name: self.name.clone(),
            key_id: key_id(&self.name, SignatureType::CosignatureV1, &pk),
            kind: SignatureType::CosignatureV1,
            key: self.key,
        }
    }

    /// Verifies a signature (without its key ID) over a note text. Returns the timestamp for a
    /// cosignature. Uses strict Ed25519 verification (no small-order or non-canonical
    /// encodings).
    pub fn verify(&self, text: &[u8], signature: &[u8]) -> Result<Option<u64>, LedgerError> {
        match self.kind {
            SignatureType::Ed25519 => {
                let sig: &[u8; 64] = signature
                    .try_into()
                    .map_err(|_| LedgerError::SignatureInvalid)?;
                self.key
                    .verify_strict(text, &Signature::from_bytes(sig))
                    .map_err(|_| LedgerError::SignatureInvalid)?;
                Ok(None)
            }
            SignatureType::CosignatureV1 => {
                let (timestamp, sig) = cosignature::split_timestamped(signature)?;
                let text = std::str::from_utf8(text).map_err(|_| LedgerError::SignatureInvalid)?;
                let msg = cosignature::signed_message(text, timestamp)?;
                self.key
                    .verify_strict(&msg, &Signature::from_bytes(&sig))
                    .map_err(|_| LedgerError::SignatureInvalid)?;
                Ok(Some(timestamp))
            }
        }
    }
}

impl fmt::Display for VerifierKey {
    /// The vkey encoding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![self.kind.byte()];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// Eight hex digits (either case, as Go accepts), as a key ID.
fn parse_key_id(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// The shape both key texts share: `<name>+<8 hex digits>+base64(type || 32 bytes)` — the
/// public key of a vkey, the seed of a private key (`not_32` says which, when it is not 32
/// bytes). Errors are the caller's kind (`bad`).
fn parse_key_text<'t>(
    text: &'t str,
    bad: fn(&'static str) -> LedgerError,
    not_32: &'static str,
) -> Result<(&'t str, u32, SignatureType, [u8; 32]), LedgerError> {
    let (name, rest) = text.split_once('+').ok_or(bad("missing '+'"))?;
    let (id, key64) = rest.split_once('+').ok_or(bad("missing '+'"))?;
    let id = parse_key_id(id).ok_or(bad("key ID is not 8 hex digits"))?;
    let raw = B64.decode(key64).map_err(|_| bad("key base64"))?;
    let (&kind, key) = raw.split_first().ok_or(bad("empty key"))?;
    let kind = SignatureType::from_byte(kind)?;
    let key: [u8; 32] = key.try_into().map_err(|_| bad(not_32))?;
    Ok((name, id, kind, key))
}

/// A private key that signs notes. Its `Debug` output hides the key.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_id: u32,
    kind: SignatureType,
    signing: SigningKey,
}

impl SignerKey {
    /// A signer from a 32-byte Ed25519 seed (from the caller's randomness: this crate draws
    /// none).
    pub fn from_seed(
        name: &str,
        kind: SignatureType,
        seed: &[u8; 32],
    ) -> Result<Self, LedgerError> {
        check_key_name(name)?;
        let signing = SigningKey::from_bytes(seed);
        let id = key_id(name, kind, signing.verifying_key().as_bytes());
        Ok(SignerKey {
            name: name.to_owned(),
            key_id: id,
            kind,
            signing,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<8 hex digits>+base64(type || 32-byte seed)`, checking the
    /// key ID against the derived public key.
    pub fn parse(skey: &str) -> Result<Self, LedgerError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(LedgerError::SignerKey("missing PRIVATE+KEY+ prefix"))?;
        let (name, id, kind, seed) = parse_key_text(rest, LedgerError::SignerKey, "seed is not 32 bytes")?;
        let s = SignerKey::from_seed(name, kind, &seed)?;
        if s.key_id != id {
            return Err(LedgerError::KeyIdMismatch);
        }
        Ok(s)
    }

    /// The secret encoding `PRIVATE+KEY+…`. Keep it out of logs.
    pub fn to_private_string(&self) -> String {
        let mut raw = vec![self.kind.byte()];
        raw.extend_from_slice(self.signing.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(raw)
        )
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            kind: self.kind,
            key: self.signing.verifying_key(),
        }
    }

    /// The same key as a `cosignature/v1` signer (for a witness key generated as type 0x01).
    pub fn to_cosignature_v1(&self) -> Self {
        let pk = self.signing.verifying_key().to_bytes();
        SignerKey {
            name: self.name.clone(),
            key_id: key_id(&self.name, SignatureType::CosignatureV1, &pk),
            kind: SignatureType::CosignatureV1,
            signing: self.signing.clone(),
        }
    }

    /// Raw Ed25519 signature over `msg`.
    pub(crate) fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }
}

impl NoteSigner for SignerKey {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn kind(&self) -> SignatureType {
        self.kind
    }

    fn verifier(&self) -> VerifierKey {
        SignerKey::verifier(self)
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], LedgerError> {
        Ok(self.sign_raw(msg))
    }
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SignerKey({}+{:08x}, <redacted>)",
            self.name, self.key_id
        )
    }
}

/// What signs notes and cosignatures: the name, key ID and signature type that go on the
/// signature line, and raw Ed25519 over a message. [`SignerKey`] (a seed in memory) is one
/// implementation; [`ExternalSigner`] wraps a key held elsewhere (an HSM, a KMS). The note
/// format does not depend on where the key is.
pub trait NoteSigner: Send + Sync {
    /// Key name.
    fn name(&self) -> &str;
    /// Key ID.
    fn key_id(&self) -> u32;
    /// Signature type (`0x01` signs notes, `0x04` cosigns checkpoints).
    fn kind(&self) -> SignatureType;
    /// The matching verifier key.
    fn verifier(&self) -> VerifierKey;
    /// The raw 64-byte Ed25519 signature over `msg` (the note text, or the
    /// `cosignature/v1` message).
    ///
    /// # Errors
    /// What the key's holder reports when it cannot sign.
    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], LedgerError>;
}

/// A reference signs as what it points to, so `note.sign(&signer)` keeps working where
/// `signer` is itself a reference (as it did when [`Note::sign`] took `&SignerKey`).
impl<T: NoteSigner + ?Sized> NoteSigner for &T {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn key_id(&self) -> u32 {
        (**self).key_id()
    }

    fn kind(&self) -> SignatureType {
        (**self).kind()
    }

    fn verifier(&self) -> VerifierKey {
        (**self).verifier()
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], LedgerError> {
        (**self).sign(msg)
    }
}

/// The signing function an [`ExternalSigner`] calls: raw Ed25519 over the message, or a
/// description of why it could not sign (never key material).
pub type ExternalSignFn = dyn Fn(&[u8]) -> Result<[u8; 64], String> + Send + Sync;

/// A note signer whose private key is held elsewhere (an HSM, a KMS): the public key and a
/// signing function. Every signature it returns is checked against the public key before it
/// is used, so a faulty or substituted device cannot put an invalid signature on a note.
pub struct ExternalSigner {
    verifier: VerifierKey,
    sign: Box<ExternalSignFn>,
}

impl ExternalSigner {
    /// A signer named `name`, of type `kind`, for the Ed25519 `public_key`, signing through
    /// `sign`.
    ///
    /// # Errors
    /// [`LedgerError::KeyName`] for an invalid name; [`LedgerError::VerifierKey`] for a
    /// public key that is not a usable Ed25519 key.
    pub fn new(
        name: &str,
        kind: SignatureType,
        public_key: &[u8; 32],
        sign: impl Fn(&[u8]) -> Result<[u8; 64], String> + Send + Sync + 'static,
    ) -> Result<Self, LedgerError> {
        Ok(ExternalSigner { verifier: VerifierKey::new(name, kind, public_key)?, sign: Box::new(sign) })
    }
}

impl NoteSigner for ExternalSigner {
    fn name(&self) -> &str {
        &self.verifier.name
    }

    fn key_id(&self) -> u32 {
        self.verifier.key_id
    }

    fn kind(&self) -> SignatureType {
        self.verifier.kind
    }

    fn verifier(&self) -> VerifierKey {
        self.verifier.clone()
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], LedgerError> {
        let sig = (self.sign)(msg).map_err(LedgerError::ExternalSigner)?;
        self.verifier.key.verify_strict(msg, &Signature::from_bytes(&sig)).map_err(|_| {
            LedgerError::ExternalSigner(format!(
                "the signature returned for key {}+{:08x} does not verify with its public key \
                 (wrong key, or a faulty device); check which key the signer uses",
                self.verifier.name, self.verifier.key_id
            ))
        })?;
        Ok(sig)
    }
}

impl fmt::Debug for ExternalSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExternalSigner({}+{:08x})", self.verifier.name, self.verifier.key_id)
    }
}

/// A set of trusted verifier keys, at most one per (name, key ID).
#[derive(Clone, Debug, Default)]
pub struct Verifiers {
    keys: Vec<VerifierKey>,
}

impl Verifiers {
    /// A set of keys. Two keys with the same name and key ID are refused: a signature could
    /// not be attributed.
    pub fn new(keys: impl IntoIterator<Item = VerifierKey>) -> Result<Self, LedgerError> {
        let mut out: Vec<VerifierKey> = Vec::new();
        for k in keys {
            match out
                .iter()
                .find(|o| o.name == k.name && o.key_id == k.key_id)
            {
                Some(o) if *o == k => {}
                Some(_) => return Err(LedgerError::AmbiguousKey),
                None => out.push(k),
            }
        }
        Ok(Verifiers { keys: out })
    }

    /// The key with this name and key ID.
    pub fn find(&self, name: &str, key_id: u32) -> Option<&VerifierKey> {
        self.keys
            .iter()
            .find(|k| k.name == name && k.key_id == key_id)
    }

    /// The keys.
    pub fn keys(&self) -> &[VerifierKey] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known-answer values from golang.org/x/mod/sumdb/note (note.go documentation and
    // note_test.go; BSD-3-Clause, see tests/data/README.md).
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                        then you don't know what your problem is.\n";
    const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    fn peter() -> VerifierKey {
        VerifierKey::parse(PETER_VKEY).unwrap()
    }

    fn enoch() -> VerifierKey {
        VerifierKey::parse(ENOCH_VKEY).unwrap()
    }

    #[test]
    fn go_keys_parse_and_round_trip() {
        let s = SignerKey::parse(PETER_SKEY).unwrap();
        assert_eq!(s.key_id(), 0xc74f20a3);
        assert_eq!(s.to_private_string(), PETER_SKEY);
        assert_eq!(s.verifier().to_string(), PETER_VKEY);
        assert_eq!(peter().to_string(), PETER_VKEY);
        assert_eq!(enoch().key_id(), 0xaf0cfe78);
        assert!(!format!("{s:?}").contains("AYEK"));
    }

    #[test]
    fn go_sign_known_answer() {
        let s = SignerKey::parse(PETER_SKEY).unwrap();
        let mut n = Note::new(TEXT).unwrap();
        n.sign(&s).unwrap();
        let want = format!("{TEXT}\n{PETER_SIG}");
        assert_eq!(String::from_utf8(n.to_bytes().unwrap()).unwrap(), want);
    }

    #[test]
    fn go_open_cases() {
        let msg = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        let n = Note::parse(msg.as_bytes()).unwrap();
        assert_eq!(n.text(), TEXT);
        // One known key.
        let v = n.verify(&Verifiers::new([peter()]).unwrap()).unwrap();
        assert_eq!(v.verified.len(), 1);
        assert_eq!(v.verified[0].key_id, 0xc74f20a3);
        assert_eq!(v.unverified.len(), 1);
        assert_eq!(v.unverified[0].name, "EnochRoot");
        // Both known.
        let v = n
            .verify(&Verifiers::new([peter(), enoch()]).unwrap())
            .unwrap();
        assert_eq!(v.verified.len(), 2);
        // None known.
        assert!(matches!(
            n.verify(&Verifiers::default()),
            Err(LedgerError::NoTrustedSignature)
        ));
        // A corrupted known signature fails the note.
        let bad = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
        let n = Note::parse(bad.as_bytes()).unwrap();
        assert!(matches!(
            n.verify(&Verifiers::new([peter()]).unwrap()),
            Err(LedgerError::BadSignature { .. })
        ));
        // Duplicates are collapsed; a corrupted unknown signature is only unverified.
        let dup = format!(
            "{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{}ABCD{}",
            &ENOCH_SIG[..60],
            &ENOCH_SIG[60..]
        );
        let v = Note::parse(dup.as_bytes())
            .unwrap()
            .verify(&Verifiers::new([peter()]).unwrap())
            .unwrap();
        assert_eq!(v.verified.len(), 1);
        assert_eq!(v.unverified.len(), 2);
        // Too many signatures.
        let many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
        assert!(Note::parse(many.as_bytes()).is_err());
        assert!(Note::parse(format!("{TEXT}\n{}", PETER_SIG.repeat(100)).as_bytes()).is_ok());
    }

    #[test]
    fn go_malformed_notes() {
        for bad in [
            TEXT.to_owned(),
            format!("{TEXT}\n"),
            format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
            format!("\x01{TEXT}\n{PETER_SIG}"),
            format!(
                "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
            ),
            format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        ] {
            assert!(Note::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let mut invalid_utf8 = b"\xff".to_vec();
        invalid_utf8.extend_from_slice(format!("{TEXT}\n{PETER_SIG}").as_bytes());
        assert!(Note::parse(&invalid_utf8).is_err());
        assert!(Note::parse(&vec![b'a'; MAX_NOTE_SIZE + 1]).is_err());
    }

    #[test]
    fn go_vkey_manglings_are_refused() {
        // Every strict substring and every single-byte increment of a valid vkey fails.
        let b = PETER_VKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len())
                    && let Ok(s) = std::str::from_utf8(&b[i..j])
                {
                    assert!(VerifierKey::parse(s).is_err(), "{s}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            if let Ok(s) = std::str::from_utf8(&m) {
                // Upper-case hex digits are the one mangling Go also accepts: 'c'+1 = 'd' is
                // a different ID, never an upper-case spelling of the same one.
                assert!(VerifierKey::parse(s).is_err(), "{s}");
            }
        }
        // Wrong key length and unknown algorithm, each with a matching key ID (from Go's tests).
        assert!(
            VerifierKey::parse(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
            .is_err()
        );
        assert!(
            VerifierKey::parse(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        // Upper-case key IDs are accepted, as in Go, and re-encoded in lower case.
        assert_eq!(
            VerifierKey::parse(
                "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .unwrap()
            .to_string(),
            PETER_VKEY
        );
    }

    #[test]
    fn go_skey_manglings_are_refused() {
        let b = PETER_SKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len()) {
                    let s = std::str::from_utf8(&b[i..j]).unwrap();
                    assert!(SignerKey::parse(s).is_err(), "{s}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            let s = std::str::from_utf8(&m).unwrap();
            assert!(SignerKey::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn spec_example_note_parses() {
        // The example of c2sp.org/signed-note (key not published; structure only).
        let msg = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n\n\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
        let n = Note::parse(msg.as_bytes()).unwrap();
        assert!(n.text().ends_with("subito sera.\n"));
        assert!(n.text().contains("\n\n"));
        assert_eq!(n.signatures()[0].signature.len(), 64);
        assert_eq!(n.to_bytes().unwrap(), msg.as_bytes());
    }

    #[test]
    fn key_names_and_ambiguity() {
        for bad in ["", "a b", "a+b", "a\u{a0}b", "a\u{3000}", "a\u{7f}"] {
            assert!(check_key_name(bad).is_err(), "{bad:?}");
        }
        check_key_name("example.com/log").unwrap();
        let seed = [7u8; 32];
        let a = SignerKey::from_seed("x", SignatureType::Ed25519, &seed)
            .unwrap()
            .verifier();
        assert!(Verifiers::new([a.clone(), a.clone()]).is_ok());
        assert_eq!(
            Verifiers::new([a.clone(), a.clone()]).unwrap().keys().len(),
            1
        );
        // Same name and ID, different key: refused. (Forge one by changing the type byte
        // while keeping the ID: not constructible through the API, so build by hand.)
        let b = VerifierKey {
            key: SigningKey::from_bytes(&[8u8; 32]).verifying_key(),
            ..a.clone()
        };
        assert!(matches!(
            Verifiers::new([a, b]),
            Err(LedgerError::AmbiguousKey)
        ));
    }

    #[test]
    fn sign_refuses_cosigning_keys() {
        let s = SignerKey::from_seed("w", SignatureType::CosignatureV1, &[1u8; 32]).unwrap();
        assert!(matches!(
            Note::new("a\n").unwrap().sign(&s),
            Err(LedgerError::WrongKeyType)
        ));
        assert!(Note::new("no newline").is_err());
        assert!(Note::new("a\rb\n").is_err());
        assert!(Note::new("a\n").unwrap().to_bytes().is_err());
    }

    /// An external signer over the same seed a `SignerKey` holds.
    fn external(name: &str, kind: SignatureType, seed: [u8; 32]) -> ExternalSigner {
        let key = SigningKey::from_bytes(&seed);
        let public = key.verifying_key().to_bytes();
        ExternalSigner::new(name, kind, &public, move |msg| Ok(key.sign(msg).to_bytes())).unwrap()
    }

    #[test]
    fn an_external_signer_signs_notes_exactly_as_a_signer_key() {
        let seed = [5u8; 32];
        let inner = SignerKey::from_seed("example.com/log", SignatureType::Ed25519, &seed).unwrap();
        let outer = external("example.com/log", SignatureType::Ed25519, seed);
        assert_eq!(NoteSigner::key_id(&outer), inner.key_id());
        assert_eq!(NoteSigner::verifier(&outer), inner.verifier());
        let mut a = Note::new("hello\n").unwrap();
        a.sign(&inner).unwrap();
        let mut b = Note::new("hello\n").unwrap();
        b.sign(&outer).unwrap();
        // Ed25519 is deterministic: the same bytes, so the format is the same.
        assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
        // Through a trait object too, and verified by the ordinary verifier.
        let dynamic: &dyn NoteSigner = &outer;
        let mut c = Note::new("hello\n").unwrap();
        c.sign(dynamic).unwrap();
        // A reference to a reference, as callers holding `&SignerKey` write it.
        let by_ref = &inner;
        let mut d = Note::new("hello\n").unwrap();
        d.sign(&by_ref).unwrap();
        assert_eq!(d.to_bytes().unwrap(), a.to_bytes().unwrap());
        let known = Verifiers::new([inner.verifier()]).unwrap();
        let parsed = Note::parse(&c.to_bytes().unwrap()).unwrap();
        assert_eq!(parsed.verify(&known).unwrap().verified.len(), 1);
        assert!(format!("{outer:?}").contains("example.com/log"));
    }

    #[test]
    fn external_signer_failures_are_reported_and_bad_signatures_refused() {
        let public = SigningKey::from_bytes(&[5u8; 32]).verifying_key().to_bytes();
        let failing = ExternalSigner::new("log", SignatureType::Ed25519, &public, |_| {
            Err("the token is not logged in".to_owned())
        })
        .unwrap();
        let err = Note::new("a\n").unwrap().sign(&failing).unwrap_err();
        assert!(err.to_string().contains("the token is not logged in"), "{err}");
        // A device signing with another key than the one it claims: refused, nothing added.
        let other = SigningKey::from_bytes(&[6u8; 32]);
        let wrong = ExternalSigner::new("log", SignatureType::Ed25519, &public, move |msg| {
            Ok(other.sign(msg).to_bytes())
        })
        .unwrap();
        let mut note = Note::new("a\n").unwrap();
        let err = note.sign(&wrong).unwrap_err();
        assert!(matches!(err, LedgerError::ExternalSigner(_)), "{err:?}");
        assert!(err.to_string().contains("does not verify"), "{err}");
        assert!(note.signatures().is_empty());
        // Cosigning keys are refused for plain notes, and bad keys or names at construction.
        let cosigner = external("w", SignatureType::CosignatureV1, [1u8; 32]);
        assert!(matches!(Note::new("a\n").unwrap().sign(&cosigner), Err(LedgerError::WrongKeyType)));
        assert!(ExternalSigner::new("a b", SignatureType::Ed25519, &public, |_| Ok([0; 64])).is_err());
        assert!(ExternalSigner::new("log", SignatureType::Ed25519, &[0; 32], |_| Ok([0; 64])).is_err());
    }
}
