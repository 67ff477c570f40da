//! ECDSA P-256 keys in the token, as [`signet_pki::Signer`]s: long-lived ones (CA, TSA,
//! OCSP) as token objects, per-signing ones as session objects.
//!
//! The message is hashed with SHA-256 in software and the digest signed with `CKM_ECDSA`
//! (SoftHSM has no `CKM_ECDSA_SHA256`, and a digest is all a token needs to see). PKCS#11
//! returns `r‖s`; certificates and CMS want the DER `ECDSA-Sig-Value`, encoded here with
//! `der`.

use std::fmt;
use std::sync::Mutex;

use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use der::asn1::{Any, BitString, OctetString, UintRef};
use der::{Decode, Encode, Sequence};
use signet_pki::oid::{ID_EC_PUBLIC_KEY, SECP256R1};
use signet_pki::{PkiError, SignatureScheme, Signer};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::token::{KeyCustody, Token, check_key_label, custody_of};
use crate::{HsmError, Result, p11};

/// Kinds of signing keys the token makes for [`Token::signing_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// ECDSA on P-256 with SHA-256.
    EcP256,
}

/// A P-256 key pair kept in the token as token objects (see [`Token::signing_key`]).
#[derive(Clone)]
pub struct HsmSigner {
    token: Token,
    label: String,
    private: ObjectHandle,
    spki: Vec<u8>,
}

/// A P-256 key pair made as session objects for one signing, destroyed (with its session)
/// when dropped (see [`Token::ephemeral_signing_key`]).
pub struct HsmEphemeralSigner {
    session: Mutex<Session>,
    label: String,
    private: ObjectHandle,
    public: ObjectHandle,
    spki: Vec<u8>,
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279).
#[derive(Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// The DER `namedCurve` parameters of P-256, as `CKA_EC_PARAMS` wants them.
fn p256_params() -> Result<Vec<u8>> {
    SECP256R1.to_der().map_err(|err| HsmError::BadAnswer(format!("P-256 OID encoding: {err}")))
}

/// The private key template every P-256 key shares.
fn private_template(token_object: bool, label: &str, id: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Token(token_object),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.to_vec()),
    ]
}

/// Generates a P-256 key pair; returns (public, private).
fn generate_p256(
    token: &Token,
    session: &Session,
    token_object: bool,
    label: &str,
    id: &[u8],
) -> Result<(ObjectHandle, ObjectHandle)> {
    token.require(MechanismType::ECC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN", "P-256 keys")?;
    token.require(MechanismType::ECDSA, "CKM_ECDSA", "ECDSA signatures")?;
    let public = [
        Attribute::Token(token_object),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Wrap(false),
        Attribute::EcParams(p256_params()?),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.to_vec()),
    ];
    session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &public,
            &private_template(token_object, label, id),
        )
        .map_err(p11("generating a P-256 key pair"))
}

/// The SubjectPublicKeyInfo of the P-256 public key object.
fn p256_spki(session: &Session, public: ObjectHandle) -> Result<Vec<u8>> {
    let attributes = session
        .get_attributes(public, &[AttributeType::EcParams, AttributeType::EcPoint])
        .map_err(p11("reading a public key"))?;
    let mut params = None;
    let mut point = None;
    for attribute in attributes {
        match attribute {
            Attribute::EcParams(p) => params = Some(p),
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    if params != Some(p256_params()?) {
        return Err(HsmError::BadAnswer("a public key that is not on P-256".to_owned()));
    }
    let point = point.ok_or_else(|| HsmError::BadAnswer("no CKA_EC_POINT".to_owned()))?;
    let point = unwrap_ec_point(&point, 65)?;
    if point.first() != Some(&0x04) {
        return Err(HsmError::BadAnswer("a compressed or malformed EC point".to_owned()));
    }
    let bad = |err: der::Error| HsmError::BadAnswer(format!("an unencodable public key: {err}"));
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&SECP256R1).map_err(bad)?),
        },
        subject_public_key: BitString::from_bytes(&point).map_err(bad)?,
    };
    spki.to_der().map_err(bad)
}

/// `CKA_EC_POINT` is a DER OCTET STRING around the point (PKCS#11 2.40 §2.3.3); some
/// tokens give the bare point. Returns the point, which must be `len` bytes.
pub(crate) fn unwrap_ec_point(value: &[u8], len: usize) -> Result<Vec<u8>> {
    if value.len() == len {
        return Ok(value.to_vec());
    }
    let point = OctetString::from_der(value)
        .map_err(|_| HsmError::BadAnswer("a CKA_EC_POINT that is not an OCTET STRING".to_owned()))?
        .into_bytes();
    if point.len() != len {
        return Err(HsmError::BadAnswer(format!(
            "a {}-byte EC point where {len} bytes were expected",
            point.len()
        )));
    }
    Ok(point.into_vec())
}

/// Signs `message` with the P-256 key `private`: SHA-256 here, ECDSA in the token, DER out.
fn sign_p256(session: &Session, private: ObjectHandle, message: &[u8]) -> Result<Vec<u8>> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
    let raw = session
        .sign(&Mechanism::Ecdsa, private, digest.as_ref())
        .map_err(p11("signing with ECDSA"))?;
    let (r, s) = raw
        .split_at_checked(32)
        .filter(|(_, s)| s.len() == 32)
        .ok_or_else(|| HsmError::BadAnswer(format!("a {}-byte ECDSA signature", raw.len())))?;
    let bad = |err: der::Error| HsmError::BadAnswer(format!("an unencodable signature: {err}"));
    let value = EcdsaSigValue { r: UintRef::new(r).map_err(bad)?, s: UintRef::new(s).map_err(bad)? };
    value.to_der().map_err(bad)
}

impl Token {
    /// The signing key pair labelled `label`: found in the token, or generated there. The
    /// private key is a token object, private, sensitive, not extractable and signs only;
    /// the public key is a token object too.
    ///
    /// # Errors
    /// [`HsmError::BadLabel`]; [`HsmError::KeyRefused`] when the private key found could
    /// leave the token or is not an EC key; [`HsmError::AmbiguousKey`];
    /// [`HsmError::Unsupported`]; [`HsmError::Pkcs11`].
    pub fn signing_key(&self, label: &str, kind: KeyKind) -> Result<HsmSigner> {
        check_key_label(label)?;
        let KeyKind::EcP256 = kind;
        let _generating = self.generation_lock();
        let (private, spki) = self.with_session(|session| {
            let find = |class, what| self.find_one(session, label, class, KeyType::EC, what);
            let private = find(ObjectClass::PRIVATE_KEY, "an EC private key")?;
            let public = find(ObjectClass::PUBLIC_KEY, "an EC public key")?;
            let (public, private) = match (public, private) {
                (Some(public), Some(private)) => {
                    self.check_custody(session, private, label)?;
                    (public, private)
                }
                (None, None) => {
                    let id = self.random_id(session)?;
                    generate_p256(self, session, true, label, &id)?
                }
                (None, Some(_)) | (Some(_), None) => {
                    return Err(HsmError::KeyRefused {
                        label: label.to_owned(),
                        problem: "has a private or a public key but not both".to_owned(),
                    });
                }
            };
            Ok((private, p256_spki(session, public)?))
        })?;
        Ok(HsmSigner { token: self.clone(), label: label.to_owned(), private, spki })
    }

    /// A fresh P-256 key pair as session objects (`CKA_TOKEN` false), private, sensitive
    /// and not extractable, for one signing. It lives in a session of its own and is
    /// destroyed when the signer is dropped.
    ///
    /// # Errors
    /// [`HsmError::Unsupported`], [`HsmError::Pkcs11`].
    pub fn ephemeral_signing_key(&self) -> Result<HsmEphemeralSigner> {
        let session = self.open_session()?;
        let id = self.random_id(&session)?;
        let label: String = std::iter::once("signet-ephemeral-".to_owned())
            .chain(id.iter().map(|b| format!("{b:02x}")))
            .collect();
        let (public, private) = generate_p256(self, &session, false, &label, &id)?;
        let spki = match p256_spki(&session, public) {
            Ok(spki) => spki,
            Err(err) => {
                // Best effort: the objects go with the session in any case.
                let _ = session.destroy_object(private);
                let _ = session.destroy_object(public);
                return Err(err);
            }
        };
        Ok(HsmEphemeralSigner { session: Mutex::new(session), label, private, public, spki })
    }
}

impl HsmSigner {
    /// The key pair's label in the token.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The custody attributes of the private key object, as the token reports them.
    ///
    /// # Errors
    /// [`HsmError::Pkcs11`].
    pub fn custody(&self) -> Result<KeyCustody> {
        self.token.with_session(|session| custody_of(session, self.private))
    }
}

impl Signer for HsmSigner {
    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::EcdsaP256Sha256
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        self.token
            .with_session(|session| sign_p256(session, self.private, message))
            .map_err(|err| PkiError::Crypto(format!("HSM key {:?}: {err}", self.label)))
    }
}

impl HsmEphemeralSigner {
    /// The key pair's label (`signet-ephemeral-` and 32 random hex digits).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The custody attributes of the private key object, as the token reports them.
    ///
    /// # Errors
    /// [`HsmError::Pkcs11`].
    pub fn custody(&self) -> Result<KeyCustody> {
        let session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        custody_of(&session, self.private)
    }
}

impl Signer for HsmEphemeralSigner {
    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::EcdsaP256Sha256
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        let session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sign_p256(&session, self.private, message)
            .map_err(|err| PkiError::Crypto(format!("ephemeral HSM key: {err}")))
    }
}

impl Drop for HsmEphemeralSigner {
    fn drop(&mut self) {
        let session = self.session.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Destroyed explicitly; closing the session (next) would destroy them too.
        let _ = session.destroy_object(self.private);
        let _ = session.destroy_object(self.public);
    }
}

impl fmt::Debug for HsmSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmSigner")
            .field("token", &self.token.label())
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for HsmEphemeralSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmEphemeralSigner").field("label", &self.label).finish_non_exhaustive()
    }
}
