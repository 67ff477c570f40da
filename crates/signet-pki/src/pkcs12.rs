//! PKCS#12 key files (RFC 7292): writing them as OpenSSL 3 does by default, and reading what
//! current tools write, so a signer can bring a key from elsewhere or take Signet's away.
//!
//! Written files use PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the shrouded key bag and for
//! the encrypted certificate bags, and an HMAC-SHA256 integrity MAC keyed with the PKCS#12 KDF.
//! Read files may use PBES2 with PBKDF2-HMAC-SHA1/256/384/512 and AES-128/192/256-CBC, MACs with
//! SHA-1/256/384/512, and unencrypted bags.
//!
//! What it does not do: the legacy PKCS#12 PBE schemes (3DES, RC2, RC4 with the SHA-1 KDF) —
//! such files get an error explaining how to re-export them — PBMAC1, BER indefinite-length
//! encodings, or files holding several private keys.

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{digest, hmac, pbkdf2};
use cms::content_info::ContentInfo;
use der::asn1::{BmpString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::{Attribute, Attributes};

use crate::alg::{PrivateKey, Rng, Signer as _, digest_by_oid};
use crate::{PkiError, oid};

/// Iterations for PBKDF2 and for the MAC key (OpenSSL 3 uses 2048; we use more).
pub const ITERATIONS: u32 = 10_000;
/// Refuse files asking for more work than this (a crafted file could stall the server).
const MAX_ITERATIONS: u32 = 10_000_000;
/// Refuse files asking for more work than this altogether (MAC and every decryption): each
/// shrouded key bag or encrypted safe runs its own key derivation, and a file can hold many.
const MAX_TOTAL_ITERATIONS: u64 = 3 * MAX_ITERATIONS as u64;

const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const SAFE_CONTENTS_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.6");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const FRIENDLY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const PBKDF2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.12");
const PBMAC1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.14");
const HMAC_WITH_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.7");
const HMAC_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.9");
const HMAC_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.10");
const HMAC_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.11");
const AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
/// Arcs of the legacy schemes: pkcs-12PbeIds (1.2.840.113549.1.12.1.*) and PBES1 (1.5.1-11).
const PKCS12_PBE_ARC: &str = "1.2.840.113549.1.12.1.";
const PKCS5_ARC: &str = "1.2.840.113549.1.5.";

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct Pfx {
    version: u8,
    auth_safe: ContentInfo,
    #[asn1(optional = "true")]
    mac_data: Option<MacData>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct MacData {
    mac: DigestInfo,
    mac_salt: OctetString,
    #[asn1(default = "one")]
    iterations: u32,
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SafeBag {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    bag_value: Any,
    #[asn1(optional = "true")]
    bag_attributes: Option<Attributes>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CertBag {
    cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    cert_value: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EncryptedPrivateKeyInfo {
    algorithm: AlgorithmIdentifierOwned,
    data: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EncryptedData {
    version: u8,
    info: EncryptedContentInfo,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EncryptedContentInfo {
    content_type: ObjectIdentifier,
    algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    content: Option<OctetString>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct Pbes2Params {
    kdf: AlgorithmIdentifierOwned,
    encryption: AlgorithmIdentifierOwned,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct Pbkdf2Params {
    salt: OctetString,
    iterations: u32,
    #[asn1(optional = "true")]
    key_length: Option<u16>,
    #[asn1(optional = "true")]
    prf: Option<AlgorithmIdentifierOwned>,
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes a PKCS#12 file holding the key, its certificate (both tagged with the same
/// localKeyId and, if given, friendlyName) and the chain. The key must belong to `cert` and be
/// a key Signet signs with (P-256 or RSA): it is loaded once to check that.
pub fn write_pkcs12(
    key_pkcs8_der: &[u8],
    cert: &Certificate,
    chain: &[Certificate],
    password: &str,
    friendly_name: Option<&str>,
    rng: &mut dyn Rng,
) -> Result<Vec<u8>, PkiError> {
    let key = PrivateKey::from_pkcs8_der(key_pkcs8_der)?;
    let cert_der = cert.to_der()?;
    if cert.tbs_certificate().subject_public_key_info().to_der()? != key.public_key_der() {
        return Err(PkiError::Key("the private key does not belong to the certificate".into()));
    }
    // localKeyId as OpenSSL computes it: SHA-1 of the certificate.
    let local_key_id = digest_by_oid(&oid::ID_SHA1, &cert_der)?;
    let mut attrs = vec![Attribute {
        oid: LOCAL_KEY_ID,
        values: SetOfVec::try_from(vec![Any::encode_from(&OctetString::new(local_key_id)?)?])?,
    }];
    if let Some(name) = friendly_name {
        let bmp = BmpString::from_utf8(name).map_err(|_| {
            PkiError::Key(format!(
                "friendly name {name:?} has characters outside the Basic Multilingual Plane"
            ))
        })?;
        attrs.push(Attribute {
            oid: FRIENDLY_NAME,
            values: SetOfVec::try_from(vec![Any::encode_from(&bmp)?])?,
        });
    }
    let attrs = SetOfVec::try_from(attrs)?;

    // Certificates: the leaf (with attributes), then the chain, in one encrypted SafeContents.
    let mut cert_bags = vec![cert_bag(&cert_der, Some(attrs.clone()))?];
    for c in chain.iter().filter(|c| *c != cert) {
        cert_bags.push(cert_bag(&c.to_der()?, None)?);
    }
    let (alg, encrypted) = pbes2_encrypt(&cert_bags.to_der()?, password, rng)?;
    let encrypted_data = EncryptedData {
        version: 0,
        info: EncryptedContentInfo {
            content_type: oid::ID_DATA,
            algorithm: alg,
            content: Some(OctetString::new(encrypted)?),
        },
    };
    let certs_ci =
        ContentInfo { content_type: ID_ENCRYPTED_DATA, content: Any::encode_from(&encrypted_data)? };

    // The key: a shrouded key bag in a plain SafeContents.
    let (alg, encrypted) = pbes2_encrypt(key_pkcs8_der, password, rng)?;
    let epki = EncryptedPrivateKeyInfo { algorithm: alg, data: OctetString::new(encrypted)? };
    let key_bags = vec![SafeBag {
        bag_id: SHROUDED_KEY_BAG,
        bag_value: Any::encode_from(&epki)?,
        bag_attributes: Some(attrs),
    }];
    let key_ci = data_content_info(&key_bags.to_der()?)?;

    let auth_safe_bytes = vec![certs_ci, key_ci].to_der()?;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt)?;
    let mac = pkcs12_mac(MacAlg::Sha256, &bmp_password(password, true), &salt, ITERATIONS, &auth_safe_bytes)?;
    let pfx = Pfx {
        version: 3,
        auth_safe: data_content_info(&auth_safe_bytes)?,
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: oid::ID_SHA256,
                    parameters: Some(Any::null()),
                },
                digest: OctetString::new(mac)?,
            },
            mac_salt: OctetString::new(salt.to_vec())?,
            iterations: ITERATIONS,
        }),
    };
    Ok(pfx.to_der()?)
}

fn cert_bag(cert_der: &[u8], attrs: Option<Attributes>) -> Result<SafeBag, PkiError> {
    let bag = CertBag { cert_id: X509_CERTIFICATE, cert_value: OctetString::new(cert_der.to_vec())? };
    Ok(SafeBag { bag_id: CERT_BAG, bag_value: Any::encode_from(&bag)?, bag_attributes: attrs })
}

fn data_content_info(bytes: &[u8]) -> Result<ContentInfo, PkiError> {
    Ok(ContentInfo {
        content_type: oid::ID_DATA,
        content: Any::encode_from(&OctetString::new(bytes.to_vec())?)?,
    })
}

fn pbes2_encrypt(
    plaintext: &[u8],
    password: &str,
    rng: &mut dyn Rng,
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), PkiError> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rng.fill(&mut salt)?;
    rng.fill(&mut iv)?;
    let iterations = NonZeroU32::new(ITERATIONS).ok_or_else(|| PkiError::Crypto("zero iterations".into()))?;
    let mut key = [0u8; 32];
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, password.as_bytes(), &mut key);
    let crypto = |_| PkiError::Crypto("AES-CBC encryption failed".into());
    let enc = PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key).map_err(crypto)?)
        .map_err(crypto)?;
    let mut out = plaintext.to_vec();
    enc.less_safe_encrypt(&mut out, EncryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(crypto)?;
    let params = Pbes2Params {
        kdf: AlgorithmIdentifierOwned {
            oid: PBKDF2,
            parameters: Some(Any::encode_from(&Pbkdf2Params {
                salt: OctetString::new(salt.to_vec())?,
                iterations: ITERATIONS,
                key_length: None,
                prf: Some(AlgorithmIdentifierOwned {
                    oid: HMAC_WITH_SHA256,
                    parameters: Some(Any::null()),
                }),
            })?),
        },
        encryption: AlgorithmIdentifierOwned {
            oid: AES256_CBC,
            parameters: Some(Any::encode_from(&OctetString::new(iv.to_vec())?)?),
        },
    };
    Ok((AlgorithmIdentifierOwned { oid: PBES2, parameters: Some(Any::encode_from(&params)?) }, out))
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// What a PKCS#12 file held.
#[derive(Debug, Clone)]
pub struct Pkcs12Contents {
    /// PKCS#8 `PrivateKeyInfo` DER: the secret.
    pub key_pkcs8_der: Vec<u8>,
    /// The certificate of the key (by localKeyId, else by public key).
    pub cert: Certificate,
    /// Every other certificate, in file order.
    pub chain: Vec<Certificate>,
    /// The friendlyName of the key bag (else of the certificate bag), if any.
    pub friendly_name: Option<String>,
}

/// Reads a PKCS#12 file. The MAC is checked first: a mismatch is [`PkiError::WrongPassword`].
/// Legacy encryption (3DES/RC2 PBE) is an [`PkiError::UnsupportedAlgorithm`] that says how to
/// re-export the file.
pub fn read_pkcs12(der: &[u8], password: &str) -> Result<Pkcs12Contents, PkiError> {
    read_with_budget(der, password, MAX_TOTAL_ITERATIONS)
}

/// Takes `iterations` from the key-derivation budget of one file.
fn spend(budget: &mut u64, iterations: u32) -> Result<(), PkiError> {
    *budget = budget.checked_sub(u64::from(iterations)).ok_or_else(|| {
        PkiError::malformed(
            "PKCS#12 file",
            format!("more than {MAX_TOTAL_ITERATIONS} key-derivation iterations altogether"),
        )
    })?;
    Ok(())
}

fn read_with_budget(der: &[u8], password: &str, mut budget: u64) -> Result<Pkcs12Contents, PkiError> {
    let pfx = Pfx::from_der(der).map_err(|e| PkiError::malformed("PKCS#12 file", e))?;
    if pfx.version != 3 {
        return Err(PkiError::malformed("PKCS#12 file", format!("version {}", pfx.version)));
    }
    if pfx.auth_safe.content_type != oid::ID_DATA {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "PKCS#12 with public-key integrity (authSafe content type {}); only password integrity is supported",
            pfx.auth_safe.content_type
        )));
    }
    let auth_safe_bytes = pfx.auth_safe.content.decode_as::<OctetString>()?.into_bytes();
    if let Some(mac) = &pfx.mac_data {
        verify_mac(mac, password, &auth_safe_bytes, &mut budget)?;
    }
    let auth_safe = Vec::<ContentInfo>::from_der(&auth_safe_bytes)?;
    let mut bags = Bags::default();
    for ci in auth_safe {
        let safe_contents = match ci.content_type {
            o if o == oid::ID_DATA => ci.content.decode_as::<OctetString>()?.into_bytes().into_vec(),
            o if o == ID_ENCRYPTED_DATA => {
                let ed = ci.content.decode_as::<EncryptedData>()?;
                let ciphertext = ed.info.content.ok_or_else(|| {
                    PkiError::malformed("PKCS#12 file", "EncryptedData without content")
                })?;
                decrypt(&ed.info.algorithm, ciphertext.as_bytes(), password, &mut budget)?
            }
            other => {
                return Err(PkiError::UnsupportedAlgorithm(format!(
                    "PKCS#12 safe with content type {other} (public-key encrypted safes are not supported)"
                )));
            }
        };
        bags.read(&safe_contents, password, 0, &mut budget)?;
    }

    let mut keys = bags.keys.into_iter();
    let (key, key_id) = keys
        .next()
        .ok_or_else(|| PkiError::Key("the PKCS#12 file holds no private key".into()))?;
    if keys.next().is_some() {
        return Err(PkiError::Key(
            "the PKCS#12 file holds several private keys; export one key per file".into(),
        ));
    }
    let by_id = key_id
        .as_ref()
        .and_then(|id| bags.certs.iter().position(|(_, cid)| cid.as_ref() == Some(id)));
    let by_key = || {
        let spki = PrivateKey::from_pkcs8_der(&key).ok()?.public_key_der().to_vec();
        bags.certs.iter().position(|(c, _)| {
            c.tbs_certificate().subject_public_key_info().to_der().ok().as_deref() == Some(&spki[..])
        })
    };
    let index = by_id.or_else(by_key).ok_or_else(|| {
        PkiError::Key("the PKCS#12 file holds no certificate for its private key".into())
    })?;
    let friendly_name =
        bags.key_name.or_else(|| bags.cert_names.get(index).cloned().flatten());
    let mut certs: Vec<Certificate> = bags.certs.into_iter().map(|(c, _)| c).collect();
    let cert = certs.remove(index);
    Ok(Pkcs12Contents { key_pkcs8_der: key, cert, chain: certs, friendly_name })
}

#[derive(Default)]
struct Bags {
    keys: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    certs: Vec<(Certificate, Option<Vec<u8>>)>,
    key_name: Option<String>,
    cert_names: Vec<Option<String>>,
}

impl Bags {
    fn read(&mut self, safe_contents: &[u8], password: &str, depth: u8, budget: &mut u64) -> Result<(), PkiError> {
        if depth > 4 {
            return Err(PkiError::malformed("PKCS#12 file", "safe contents nested too deeply"));
        }
        for bag in Vec::<SafeBag>::from_der(safe_contents)? {
            let local_key_id = bag.bag_attributes.as_ref().and_then(|attrs| {
                let a = attrs.iter().find(|a| a.oid == LOCAL_KEY_ID)?;
                let v = a.values.iter().next()?;
                Some(v.decode_as::<OctetString>().ok()?.into_bytes().into_vec())
            });
            let friendly_name = bag.bag_attributes.as_ref().and_then(|attrs| {
                let a = attrs.iter().find(|a| a.oid == FRIENDLY_NAME)?;
                let v = a.values.iter().next()?;
                Some(v.decode_as::<BmpString>().ok()?.to_string())
            });
            let is_key = bag.bag_id == KEY_BAG || bag.bag_id == SHROUDED_KEY_BAG;
            if is_key && self.key_name.is_none() {
                self.key_name = friendly_name.clone();
            }
            match bag.bag_id {
                o if o == KEY_BAG => self.keys.push((bag.bag_value.to_der()?, local_key_id)),
                o if o == SHROUDED_KEY_BAG => {
                    let epki = bag.bag_value.decode_as::<EncryptedPrivateKeyInfo>()?;
                    let key = decrypt(&epki.algorithm, epki.data.as_bytes(), password, budget)?;
                    self.keys.push((key, local_key_id));
                }
                o if o == CERT_BAG => {
                    let cb = bag.bag_value.decode_as::<CertBag>()?;
                    if cb.cert_id == X509_CERTIFICATE {
                        let cert = Certificate::from_der(cb.cert_value.as_bytes())
                            .map_err(|e| PkiError::malformed("certificate in PKCS#12", e))?;
                        self.certs.push((cert, local_key_id));
                        self.cert_names.push(friendly_name);
                    }
                }
                o if o == SAFE_CONTENTS_BAG => {
                    self.read(&bag.bag_value.to_der()?, password, depth + 1, budget)?;
                }
                _ => {} // CRL and secret bags: not needed for signing
            }
        }
        Ok(())
    }
}

/// How to get a legacy file into a form Signet reads.
const REEXPORT_HINT: &str = "re-export it with a current OpenSSL: `openssl pkcs12 -legacy -in old.p12 -nodes -out tmp.pem && openssl pkcs12 -export -in tmp.pem -out new.p12` (OpenSSL 3 defaults: AES-256-CBC, PBKDF2, HMAC-SHA256), then delete tmp.pem";

fn decrypt(alg: &AlgorithmIdentifierOwned, ciphertext: &[u8], password: &str, budget: &mut u64) -> Result<Vec<u8>, PkiError> {
    let oid_text = alg.oid.to_string();
    if alg.oid != PBES2 {
        let name = match oid_text.as_str() {
            "1.2.840.113549.1.12.1.1" => "pbeWithSHAAnd128BitRC4",
            "1.2.840.113549.1.12.1.2" => "pbeWithSHAAnd40BitRC4",
            "1.2.840.113549.1.12.1.3" => "pbeWithSHAAnd3-KeyTripleDES-CBC",
            "1.2.840.113549.1.12.1.4" => "pbeWithSHAAnd2-KeyTripleDES-CBC",
            "1.2.840.113549.1.12.1.5" => "pbeWithSHAAnd128BitRC2-CBC",
            "1.2.840.113549.1.12.1.6" => "pbeWithSHAAnd40BitRC2-CBC",
            s if s.starts_with(PKCS12_PBE_ARC) || s.starts_with(PKCS5_ARC) => "a PKCS#5 v1 / PKCS#12 PBE scheme",
            _ => "an unknown scheme",
        };
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "this PKCS#12 file uses legacy encryption {name} ({oid_text}); {REEXPORT_HINT}"
        )));
    }
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| PkiError::malformed("PBES2 parameters", "absent"))?
        .decode_as::<Pbes2Params>()?;
    if params.kdf.oid != PBKDF2 {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "PBES2 key derivation {} (only PBKDF2 is supported)",
            params.kdf.oid
        )));
    }
    let kdf = params
        .kdf
        .parameters
        .as_ref()
        .ok_or_else(|| PkiError::malformed("PBKDF2 parameters", "absent"))?
        .decode_as::<Pbkdf2Params>()?;
    let prf = match kdf.prf.as_ref().map_or(HMAC_WITH_SHA1, |p| p.oid) {
        o if o == HMAC_WITH_SHA1 => pbkdf2::PBKDF2_HMAC_SHA1,
        o if o == HMAC_WITH_SHA256 => pbkdf2::PBKDF2_HMAC_SHA256,
        o if o == HMAC_WITH_SHA384 => pbkdf2::PBKDF2_HMAC_SHA384,
        o if o == HMAC_WITH_SHA512 => pbkdf2::PBKDF2_HMAC_SHA512,
        o => return Err(PkiError::UnsupportedAlgorithm(format!("PBKDF2 PRF {o}"))),
    };
    let (cipher, key_len) = match params.encryption.oid {
        o if o == AES128_CBC => (&AES_128, 16),
        o if o == AES192_CBC => (&AES_192, 24),
        o if o == AES256_CBC => (&AES_256, 32),
        o => {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "PBES2 cipher {o} (AES-128/192/256-CBC are supported); {REEXPORT_HINT}"
            )));
        }
    };
    if kdf.key_length.is_some_and(|l| usize::from(l) != key_len) {
        return Err(PkiError::malformed("PBKDF2 parameters", "key length does not fit the cipher"));
    }
    let iterations = NonZeroU32::new(kdf.iterations)
        .filter(|n| n.get() <= MAX_ITERATIONS)
        .ok_or_else(|| PkiError::malformed("PBKDF2 parameters", format!("iteration count {}", kdf.iterations)))?;
    spend(budget, iterations.get())?;
    let iv: [u8; 16] = params
        .encryption
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .and_then(|o| o.as_bytes().try_into().ok())
        .ok_or_else(|| PkiError::malformed("PBES2 parameters", "AES-CBC IV must be 16 bytes"))?;
    let mut key = [0u8; 32];
    let key = key.get_mut(..key_len).ok_or_else(|| PkiError::Crypto("key length".into()))?;
    // Invariant for `derive` (which panics otherwise): 16..=32-byte output is within every
    // PBKDF2 algorithm's maximum.
    pbkdf2::derive(prf, iterations, kdf.salt.as_bytes(), password.as_bytes(), key);
    let crypto = |_| PkiError::Crypto("AES key setup failed".into());
    let dec = PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(cipher, key).map_err(crypto)?)
        .map_err(crypto)?;
    let mut buf = ciphertext.to_vec();
    // A padding error means a wrong password (when there was no MAC) or a damaged file.
    let plain = dec
        .decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| PkiError::WrongPassword)?;
    Ok(plain.to_vec())
}

#[derive(Clone, Copy)]
enum MacAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl MacAlg {
    fn digest(self) -> &'static digest::Algorithm {
        match self {
            MacAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            MacAlg::Sha256 => &digest::SHA256,
            MacAlg::Sha384 => &digest::SHA384,
            MacAlg::Sha512 => &digest::SHA512,
        }
    }
    fn hmac(self) -> hmac::Algorithm {
        match self {
            MacAlg::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            MacAlg::Sha256 => hmac::HMAC_SHA256,
            MacAlg::Sha384 => hmac::HMAC_SHA384,
            MacAlg::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

fn verify_mac(mac: &MacData, password: &str, data: &[u8], budget: &mut u64) -> Result<(), PkiError> {
    let alg = match mac.mac.algorithm.oid {
        o if o == oid::ID_SHA1 => MacAlg::Sha1,
        o if o == oid::ID_SHA256 => MacAlg::Sha256,
        o if o == oid::ID_SHA384 => MacAlg::Sha384,
        o if o == oid::ID_SHA512 => MacAlg::Sha512,
        o if o == PBMAC1 => {
            return Err(PkiError::UnsupportedAlgorithm(format!("PKCS#12 PBMAC1 integrity; {REEXPORT_HINT}")));
        }
        o => return Err(PkiError::UnsupportedAlgorithm(format!("PKCS#12 MAC digest {o}"))),
    };
    if mac.iterations == 0 || mac.iterations > MAX_ITERATIONS {
        return Err(PkiError::malformed("PKCS#12 MAC", format!("iteration count {}", mac.iterations)));
    }
    // An empty password is ambiguous: OpenSSL accepts both the BMPString "" (00 00) and no
    // bytes at all. Other passwords always carry the terminator.
    let candidates: &[bool] = if password.is_empty() { &[true, false] } else { &[true] };
    for &terminated in candidates {
        spend(budget, mac.iterations)?;
        let key = pkcs12_kdf(alg, &bmp_password(password, terminated), mac.mac_salt.as_bytes(), 3, mac.iterations)?;
        let key = hmac::Key::new(alg.hmac(), &key);
        if hmac::verify(&key, data, mac.mac.digest.as_bytes()).is_ok() {
            return Ok(());
        }
    }
    Err(PkiError::WrongPassword)
}

fn pkcs12_mac(alg: MacAlg, password: &[u8], salt: &[u8], iterations: u32, data: &[u8]) -> Result<Vec<u8>, PkiError> {
    let key = pkcs12_kdf(alg, password, salt, 3, iterations)?;
    Ok(hmac::sign(&hmac::Key::new(alg.hmac(), &key), data).as_ref().to_vec())
}

/// The password as a BMPString (UTF-16BE), with the two-zero-byte terminator RFC 7292 B.1
/// asks for (non-BMP characters become surrogate pairs, as OpenSSL does).
fn bmp_password(password: &str, terminated: bool) -> Vec<u8> {
    let mut out: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    if terminated {
        out.extend_from_slice(&[0, 0]);
    }
    out
}

/// The PKCS#12 key derivation function (RFC 7292 appendix B.2), output length = hash length.
fn pkcs12_kdf(alg: MacAlg, password: &[u8], salt: &[u8], id: u8, iterations: u32) -> Result<Vec<u8>, PkiError> {
    let d = alg.digest();
    let (u, v) = (d.output_len(), d.block_len());
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let len = v * src.len().div_ceil(v);
        src.iter().copied().cycle().take(len).collect()
    };
    let mut i_block = fill(salt);
    i_block.extend(fill(password));
    let diversifier = vec![id; v];
    let n = u; // one hash length of output is all the MAC needs
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut ctx = digest::Context::new(d);
        ctx.update(&diversifier);
        ctx.update(&i_block);
        let mut a = ctx.finish().as_ref().to_vec();
        for _ in 1..iterations {
            a = digest::digest(d, &a).as_ref().to_vec();
        }
        out.extend_from_slice(&a);
        if out.len() >= n {
            break;
        }
        // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
        let b: Vec<u8> = a.iter().copied().cycle().take(v).collect();
        for chunk in i_block.chunks_mut(v) {
            let mut carry = 1u16;
            for (x, y) in chunk.iter_mut().rev().zip(b.iter().rev()) {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alg::SystemRng;
    use crate::cms::testkit::{KeyKind, TestPki, openssl, openssl_raw};

    /// Found while fuzzing (reading the pkcs12 paths): every shrouded key bag and encrypted
    /// safe ran its own key derivation of up to 10 million iterations, so a file with many of
    /// them took minutes. The work of one file is bounded altogether.
    #[test]
    fn key_derivation_work_is_bounded_per_file() {
        let pki = crate::cert::tests::test_pki(crate::KeyAlgorithm::P256);
        let p12 = write_pkcs12(&pki.leaf_key.to_pkcs8_der().unwrap(), &pki.leaf, std::slice::from_ref(&pki.ca), "x", None, &mut SystemRng).unwrap();
        // MAC, encrypted certificate safe and shrouded key bag: three derivations.
        assert!(read_with_budget(&p12, "x", 3 * u64::from(ITERATIONS)).is_ok());
        let e = read_with_budget(&p12, "x", 3 * u64::from(ITERATIONS) - 1).unwrap_err();
        assert!(e.to_string().contains("iterations altogether"), "{e}");
        assert!(read_pkcs12(&p12, "x").is_ok());
    }

    #[test]
    fn pkcs12_kdf_known_answers() {
        // Vectors from the BouncyCastle PKCS#12 tests (SHA-1, password "smeg", 1 iteration).
        let pw = bmp_password("smeg", true);
        let k1 = pkcs12_kdf(MacAlg::Sha1, &pw, &hex::decode("0A58CF64530D823F").unwrap(), 1, 1).unwrap();
        assert_eq!(hex::encode_upper(k1), "8AAAE6297B6CB04642AB5B077851284EB7128F1A");
        let k3 = pkcs12_kdf(MacAlg::Sha1, &pw, &hex::decode("3D83C0E4546AC140").unwrap(), 3, 1).unwrap();
        assert_eq!(hex::encode_upper(k3), "8D967D88F6CAA9D714800AB3D48051D63F73A312");
    }

    fn key_der(path: &std::path::Path) -> Vec<u8> {
        let dir = path.parent().unwrap();
        let out = dir.join(format!("{}.p8", path.file_stem().unwrap().to_str().unwrap()));
        openssl(dir, &["pkcs8", "-topk8", "-nocrypt", "-in", path.to_str().unwrap(), "-outform", "DER", "-out", out.to_str().unwrap()]);
        std::fs::read(out).unwrap()
    }

    #[test]
    fn written_files_open_in_openssl() {
        let pki = TestPki::new("p12-write");
        let other = pki.issue("other", "/CN=Intermediate stand-in", KeyKind::P256, false);
        for (kind, password, name) in [
            (KeyKind::P256, "secret", Some("张三的签名密钥")),
            (KeyKind::Rsa, "secret", None),
            (KeyKind::P256, "", Some("empty password")),
        ] {
            let s = pki.issue(&format!("w{kind:?}{}", password.len()), "/CN=张三/O=Signet", kind, false);
            let pkcs8 = key_der(&s.key_path);
            let chain = [other.cert.clone(), pki.root.clone()];
            let p12 = write_pkcs12(&pkcs8, &s.cert, &chain, password, name, &mut SystemRng).unwrap();
            let f = format!("w{kind:?}{}.p12", password.len());
            std::fs::write(pki.dir.join(&f), &p12).unwrap();
            let pass = format!("pass:{password}");
            let out = openssl(&pki.dir, &["pkcs12", "-in", &f, "-passin", &pass, "-nodes", "-info"]);
            assert!(out.contains("MAC: sha256, Iteration 10000"), "{out}");
            assert!(out.contains("PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256"), "{out}");
            assert!(out.contains("-----BEGIN PRIVATE KEY-----"), "{out}");
            assert_eq!(out.matches("-----BEGIN CERTIFICATE-----").count(), 3, "{out}");
            assert_eq!(out.matches("localKeyID:").count(), 2, "{out}");
            assert_eq!(out.matches("friendlyName:").count(), 2 * usize::from(name.is_some()), "{out}");
            // And back.
            let c = read_pkcs12(&p12, password).unwrap();
            assert_eq!(c.key_pkcs8_der, pkcs8);
            assert_eq!(c.cert, s.cert);
            assert_eq!(c.chain, chain.to_vec());
            assert_eq!(c.friendly_name.as_deref(), name);
            assert!(matches!(read_pkcs12(&p12, "wrong"), Err(PkiError::WrongPassword)));
        }
        let s = pki.issue("mismatch", "/CN=M", KeyKind::P256, false);
        assert!(write_pkcs12(&key_der(&s.key_path), &other.cert, &[], "x", None, &mut SystemRng).is_err());
    }

    #[test]
    fn openssl_exported_files_are_read() {
        let pki = TestPki::new("p12-read");
        let chain_pem = pki.root_pem.to_str().unwrap().to_owned();
        let name = "张三的签名密钥 (exported)";
        for (kind, password) in [(KeyKind::P256, "x"), (KeyKind::Rsa, "pässwörd 密码"), (KeyKind::P256, "")] {
            let s = pki.issue(&format!("r{kind:?}{}", password.len()), "/CN=Exported", kind, false);
            let f = format!("r{kind:?}{}.p12", password.len());
            openssl(&pki.dir, &[
                "pkcs12", "-export", "-inkey", s.key_path.to_str().unwrap(), "-in",
                s.pem_path.to_str().unwrap(), "-certfile", &chain_pem, "-name", name,
                "-passout", &format!("pass:{password}"), "-out", &f,
            ]);
            let der = std::fs::read(pki.dir.join(&f)).unwrap();
            let c = read_pkcs12(&der, password).unwrap();
            assert_eq!(c.cert, s.cert);
            assert_eq!(c.chain, vec![pki.root.clone()]);
            assert_eq!(c.friendly_name.as_deref(), Some(name));
            let key = PrivateKey::from_pkcs8_der(&c.key_pkcs8_der).unwrap();
            assert_eq!(key.public_key_der(), s.key.public_key_der());
            assert!(matches!(read_pkcs12(&der, "not it"), Err(PkiError::WrongPassword)));
            // Truncations and corruptions are errors, never panics.
            for len in (0..der.len()).step_by(7) {
                assert!(read_pkcs12(&der[..len], password).is_err());
            }
            for i in (0..der.len()).step_by(3) {
                let mut d = der.clone();
                d[i] ^= 0x24;
                let _ = read_pkcs12(&d, password);
            }
        }
        assert!(read_pkcs12(b"", "x").is_err());
        assert!(read_pkcs12(b"garbage", "x").is_err());
    }

    #[test]
    fn legacy_files_get_a_clear_error() {
        let pki = TestPki::new("p12-legacy");
        let s = pki.issue("legacy", "/CN=Legacy", KeyKind::Rsa, false);
        let out = openssl_raw(&pki.dir, &[
            "pkcs12", "-export", "-legacy", "-inkey", s.key_path.to_str().unwrap(), "-in",
            s.pem_path.to_str().unwrap(), "-passout", "pass:old", "-out", "legacy.p12",
        ]);
        if !out.status.success() {
            eprintln!("skipping: this OpenSSL cannot write -legacy files ({})", String::from_utf8_lossy(&out.stderr));
            return;
        }
        let der = std::fs::read(pki.dir.join("legacy.p12")).unwrap();
        let err = read_pkcs12(&der, "old").unwrap_err();
        assert!(matches!(err, PkiError::UnsupportedAlgorithm(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("legacy") && msg.contains("openssl pkcs12 -export"), "{msg}");
        // The MAC (SHA-1) is still checked first.
        assert!(matches!(read_pkcs12(&der, "new"), Err(PkiError::WrongPassword)));
    }
}
