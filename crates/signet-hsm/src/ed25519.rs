//! The evidence log's Ed25519 key in the token (`CKM_EC_EDWARDS_KEY_PAIR_GEN`,
//! `CKM_EDDSA`), signing C2SP notes through [`signet_ledger::NoteSigner`].

use std::fmt;

use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use der::Encode;
use der::asn1::ObjectIdentifier;
use signet_ledger::{ExternalSigner, LedgerError, SignatureType};

use crate::ecdsa::unwrap_ec_point;
use crate::token::{KeyCustody, Token, check_key_label, custody_of};
use crate::{HsmError, Result, p11};

/// `id-Ed25519` (RFC 8410), the `CKA_EC_PARAMS` of an Ed25519 key.
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// An Ed25519 key pair kept in the token as token objects (see [`Token::ed25519_key`]).
#[derive(Clone)]
pub struct HsmEd25519Key {
    token: Token,
    label: String,
    private: ObjectHandle,
    public_key: [u8; 32],
}

impl Token {
    /// The Ed25519 key pair labelled `label`: found in the token, or generated there (the
    /// private key a token object, private, sensitive, not extractable, sign only).
    ///
    /// # Errors
    /// [`HsmError::BadLabel`]; [`HsmError::Unsupported`] when the token has no
    /// `CKM_EC_EDWARDS_KEY_PAIR_GEN` or `CKM_EDDSA`; [`HsmError::KeyRefused`] when the key
    /// found could leave the token or is not Ed25519; [`HsmError::AmbiguousKey`];
    /// [`HsmError::Pkcs11`].
    pub fn ed25519_key(&self, label: &str) -> Result<HsmEd25519Key> {
        check_key_label(label)?;
        let _generating = self.generation_lock();
        let (private, public_key) = self.with_session(|session| {
            let find = |class, what| {
                self.find_one(session, label, class, KeyType::EC_EDWARDS, what)
            };
            let private = find(ObjectClass::PRIVATE_KEY, "an Ed25519 private key")?;
            let public = find(ObjectClass::PUBLIC_KEY, "an Ed25519 public key")?;
            let (public, private) = match (public, private) {
                (Some(public), Some(private)) => {
                    self.check_custody(session, private, label)?;
                    (public, private)
                }
                (None, None) => self.generate_ed25519(session, label)?,
                (None, Some(_)) | (Some(_), None) => {
                    return Err(HsmError::KeyRefused {
                        label: label.to_owned(),
                        problem: "has a private or a public key but not both".to_owned(),
                    });
                }
            };
            Ok((private, ed25519_public_key(session, public)?))
        })?;
        Ok(HsmEd25519Key { token: self.clone(), label: label.to_owned(), private, public_key })
    }

    fn generate_ed25519(&self, session: &Session, label: &str) -> Result<(ObjectHandle, ObjectHandle)> {
        self.require(
            MechanismType::ECC_EDWARDS_KEY_PAIR_GEN,
            "CKM_EC_EDWARDS_KEY_PAIR_GEN",
            "the Ed25519 log key",
        )?;
        self.require(MechanismType::EDDSA, "CKM_EDDSA", "Ed25519 signatures")?;
        let id = self.random_id(session)?;
        let params = ID_ED25519
            .to_der()
            .map_err(|err| HsmError::BadAnswer(format!("Ed25519 OID encoding: {err}")))?;
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(params),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Derive(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id),
        ];
        session
            .generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private)
            .map_err(p11("generating an Ed25519 key pair"))
    }
}

/// The raw 32-byte public key of an Ed25519 public key object.
fn ed25519_public_key(session: &Session, public: ObjectHandle) -> Result<[u8; 32]> {
    let attributes = session
        .get_attributes(public, &[AttributeType::EcPoint])
        .map_err(p11("reading the Ed25519 public key"))?;
    let point = attributes
        .into_iter()
        .find_map(|attribute| match attribute {
            Attribute::EcPoint(point) => Some(point),
            _ => None,
        })
        .ok_or_else(|| HsmError::BadAnswer("no CKA_EC_POINT".to_owned()))?;
    let point = unwrap_ec_point(&point, 32)?;
    point
        .try_into()
        .map_err(|_| HsmError::BadAnswer("an Ed25519 public key that is not 32 bytes".to_owned()))
}

impl HsmEd25519Key {
    /// The key pair's label in the token.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// Signs `message` (pure Ed25519, RFC 8032) inside the token.
    ///
    /// # Errors
    /// [`HsmError::Pkcs11`], or [`HsmError::BadAnswer`] for a signature that is not 64 bytes.
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        let raw = self.token.with_session(|session| {
            session
                .sign(&Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)), self.private, message)
                .map_err(p11("signing with Ed25519"))
        })?;
        let len = raw.len();
        raw.try_into()
            .map_err(|_| HsmError::BadAnswer(format!("a {len}-byte Ed25519 signature")))
    }

    /// A note signer named `name` of type `kind` (`Ed25519` for the log's checkpoints,
    /// `CosignatureV1` for a witness) that signs with this key. Each signature is checked
    /// against the public key before it goes on a note.
    ///
    /// # Errors
    /// [`LedgerError::KeyName`] for an invalid note key name.
    pub fn note_signer(&self, name: &str, kind: SignatureType) -> Result<ExternalSigner, LedgerError> {
        let key = self.clone();
        ExternalSigner::new(name, kind, &self.public_key, move |message| {
            key.sign(message).map_err(|err| format!("HSM key {:?}: {err}", key.label))
        })
    }

    /// The custody attributes of the private key object, as the token reports them.
    ///
    /// # Errors
    /// [`HsmError::Pkcs11`].
    pub fn custody(&self) -> Result<KeyCustody> {
        self.token.with_session(|session| custody_of(session, self.private))
    }
}

impl fmt::Debug for HsmEd25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmEd25519Key")
            .field("token", &self.token.label())
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}
