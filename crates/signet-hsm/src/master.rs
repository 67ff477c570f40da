//! The master key in the token: an AES-256 secret key object that wraps and unwraps
//! organisation keys with `CKM_AES_KEY_WRAP_PAD` (RFC 5649) through `C_WrapKey` and
//! `C_UnwrapKey`.
//!
//! Why key wrap rather than AES-GCM `C_Encrypt`/`C_Decrypt` (SoftHSM offers both): wrapping
//! is what PKCS#11 has for protecting keys, so the master key carries only `CKA_WRAP` and
//! `CKA_UNWRAP` and cannot encrypt or decrypt arbitrary data; RFC 5649 carries its own
//! integrity check and needs no nonce, so there is no IV to draw or to get wrong; and the
//! wrapped bytes have the same form (40 bytes for a 32-byte key) as those of
//! [`signet_vault::FileMasterKey`]. The price: the organisation key passes through the
//! token as a short-lived session object (created to be wrapped, or unwrapped to be read),
//! destroyed right after — the organisation key is used in software anyway.

use std::fmt;

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use signet_vault::{MasterKey, VaultError, Zeroizing};

use crate::token::{KeyCustody, Token, check_key_label, custody_of};
use crate::{HsmError, Result, p11};

/// The master key as an AES-256 key object in the token (see the module documentation).
/// Its id is its label.
#[derive(Clone)]
pub struct HsmMasterKey {
    token: Token,
    label: String,
    key: ObjectHandle,
}

impl Token {
    /// The master key labelled `label`, if the token holds it; nothing is made.
    ///
    /// # Errors
    /// As [`Token::master_key`].
    pub fn find_master_key(&self, label: &str) -> Result<Option<HsmMasterKey>> {
        check_key_label(label)?;
        let key = self.with_session(|session| {
            let Some(key) =
                self.find_one(session, label, ObjectClass::SECRET_KEY, KeyType::AES, "an AES key")?
            else {
                return Ok(None);
            };
            self.check_custody(session, key, label)?;
            check_aes_256(session, key, label)?;
            Ok(Some(key))
        })?;
        Ok(key.map(|key| HsmMasterKey { token: self.clone(), label: label.to_owned(), key }))
    }

    /// The master key labelled `label`: found in the token, or generated there (AES-256,
    /// token object, private, sensitive, not extractable, wrap and unwrap only). Generation is
    /// serialised within this process only: processes that may start together on a new
    /// token must hold a lock of their own around it (the platform takes its deployment
    /// lock).
    ///
    /// # Errors
    /// [`HsmError::BadLabel`] for a label that cannot be a master key id;
    /// [`HsmError::KeyRefused`] when the object found could leave the token or is not AES;
    /// [`HsmError::AmbiguousKey`], [`HsmError::Unsupported`], [`HsmError::Pkcs11`].
    pub fn master_key(&self, label: &str) -> Result<HsmMasterKey> {
        let _generating = self.generation_lock();
        if let Some(found) = self.find_master_key(label)? {
            return Ok(found);
        }
        let key = self.with_session(|session| {
            self.require(MechanismType::AES_KEY_GEN, "CKM_AES_KEY_GEN", "the master key")?;
            self.require(
                MechanismType::AES_KEY_WRAP_PAD,
                "CKM_AES_KEY_WRAP_PAD",
                "wrapping organisation keys",
            )?;
            let id = self.random_id(session)?;
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32.into()),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Wrap(true),
                Attribute::Unwrap(true),
                Attribute::Encrypt(false),
                Attribute::Decrypt(false),
                Attribute::Sign(false),
                Attribute::Verify(false),
                Attribute::Derive(false),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(id),
            ];
            session
                .generate_key(&Mechanism::AesKeyGen, &template)
                .map_err(p11("generating the master key"))
        })?;
        Ok(HsmMasterKey { token: self.clone(), label: label.to_owned(), key })
    }
}

/// Refuses an AES key that is not 256 bits.
fn check_aes_256(session: &Session, key: ObjectHandle, label: &str) -> Result<()> {
    let len = session
        .get_attributes(key, &[AttributeType::ValueLen])
        .map_err(p11("reading the master key's length"))?;
    match len.first() {
        Some(Attribute::ValueLen(len)) if u64::from(*len) == 32 => Ok(()),
        _ => Err(HsmError::KeyRefused {
            label: label.to_owned(),
            problem: "is not a 256-bit AES key".to_owned(),
        }),
    }
}

impl HsmMasterKey {
    /// The key's label in the token (also its id).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The custody attributes of the key object, as the token reports them.
    ///
    /// # Errors
    /// [`HsmError::Pkcs11`].
    pub fn custody(&self) -> Result<KeyCustody> {
        self.token.with_session(|session| custody_of(session, self.key))
    }

    fn wrap_in_token(&self, key: &[u8]) -> Result<Vec<u8>> {
        self.token.with_session(|session| {
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::Token(false),
                Attribute::Private(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
                Attribute::Value(key.to_vec()),
            ];
            let object =
                session.create_object(&template).map_err(p11("loading the key to wrap"))?;
            let wrapped = session
                .wrap_key(&Mechanism::AesKeyWrapPad, self.key, object)
                .map_err(p11("wrapping with the master key"));
            let destroyed =
                session.destroy_object(object).map_err(p11("destroying the key to wrap"));
            let wrapped = wrapped?;
            destroyed?;
            Ok(wrapped)
        })
    }

    /// `Ok(None)` when the token refuses the wrapped bytes (changed, or wrapped by another
    /// key).
    fn unwrap_in_token(&self, wrapped: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.token.with_session(|session| {
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::Token(false),
                Attribute::Private(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ];
            let object = match session.unwrap_key(
                &Mechanism::AesKeyWrapPad,
                self.key,
                wrapped,
                &template,
            ) {
                Ok(object) => object,
                Err(CkError::Pkcs11(rv, _)) if refuses_input(rv) => return Ok(None),
                // SoftHSM reports a failed RFC 5649 integrity check as CKR_GENERAL_ERROR. It
                // is taken as a refusal of the bytes only if the session still answers;
                // otherwise the token itself is failing.
                Err(CkError::Pkcs11(RvError::GeneralError, _))
                    if session.get_session_info().is_ok() =>
                {
                    return Ok(None);
                }
                Err(err) => return Err(p11("unwrapping with the master key")(err)),
            };
            let value = session
                .get_attributes(object, &[AttributeType::Value])
                .map_err(p11("reading the unwrapped key"));
            let destroyed =
                session.destroy_object(object).map_err(p11("destroying the unwrapped key"));
            let value = value?;
            destroyed?;
            let value = value.into_iter().find_map(|attribute| match attribute {
                Attribute::Value(bytes) => Some(Zeroizing::new(bytes)),
                _ => None,
            });
            value
                .map(Some)
                .ok_or_else(|| HsmError::BadAnswer("no value for the unwrapped key".to_owned()))
        })
    }
}

/// The answers by which a token says the wrapped bytes themselves are wrong (integrity
/// check failed, impossible length), as opposed to the token failing.
fn refuses_input(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::WrappedKeyInvalid
            | RvError::WrappedKeyLenRange
            | RvError::EncryptedDataInvalid
            | RvError::EncryptedDataLenRange
            | RvError::DataInvalid
            | RvError::DataLenRange
    )
}

impl MasterKey for HsmMasterKey {
    fn id(&self) -> &str {
        &self.label
    }

    fn wrap(&self, key: &[u8]) -> signet_vault::Result<Vec<u8>> {
        self.wrap_in_token(key).map_err(|err| VaultError::Backend(err.to_string()))
    }

    fn unwrap(&self, wrapped: &[u8]) -> signet_vault::Result<Zeroizing<Vec<u8>>> {
        match self.unwrap_in_token(wrapped) {
            Ok(Some(key)) => Ok(key),
            Ok(None) => Err(VaultError::OrgKeyUnwrap { master_id: self.label.clone() }),
            Err(err) => Err(VaultError::Backend(err.to_string())),
        }
    }
}

impl fmt::Debug for HsmMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmMasterKey")
            .field("token", &self.token.label())
            .field("label", &self.label)
            .finish()
    }
}
