//! Keys and signature algorithms behind one enum and one trait.
//!
//! [`Signer`] is what every signing operation in Signet takes: a key in memory
//! ([`PrivateKey`], backed by aws-lc) or, later, a key in an HSM or KMS. Adding SM2/SM3 means a
//! new [`SignatureScheme`] variant, its `AlgorithmIdentifier`, and a verifier arm in
//! [`verify_signature`]; nothing in the PDF code changes.

use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::oid;
use crate::PkiError;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self as awssig, KeyPair as _};

/// Key types Signet can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    P256,
    Rsa2048,
    Rsa3072,
}

impl KeyAlgorithm {
    /// The scheme a new key of this type signs with by default.
    pub fn default_scheme(self) -> SignatureScheme {
        match self {
            KeyAlgorithm::P256 => SignatureScheme::EcdsaP256Sha256,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => SignatureScheme::RsaPkcs1Sha256,
        }
    }

    /// Parses the names used on the command line: `p256`, `rsa2048`, `rsa3072`.
    pub fn from_name(name: &str) -> Result<Self, PkiError> {
        match name.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "ecdsa" => Ok(KeyAlgorithm::P256),
            "rsa2048" | "rsa-2048" | "rsa" => Ok(KeyAlgorithm::Rsa2048),
            "rsa3072" | "rsa-3072" => Ok(KeyAlgorithm::Rsa3072),
            other => Err(PkiError::UnsupportedAlgorithm(format!(
                "key algorithm {other:?}: use p256, rsa2048 or rsa3072"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::P256 => "p256",
            KeyAlgorithm::Rsa2048 => "rsa2048",
            KeyAlgorithm::Rsa3072 => "rsa3072",
        }
    }
}

/// Signature schemes (always with SHA-256 for what we produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    EcdsaP256Sha256,
    RsaPkcs1Sha256,
    /// RSASSA-PSS, MGF1 with SHA-256, salt length 32.
    RsaPssSha256,
}

impl SignatureScheme {
    /// The `AlgorithmIdentifier` that names this scheme in certificates, CRLs, OCSP and CMS.
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            SignatureScheme::EcdsaP256Sha256 => {
                AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None }
            }
            SignatureScheme::RsaPkcs1Sha256 => AlgorithmIdentifierOwned {
                oid: oid::SHA256_WITH_RSA,
                parameters: Some(Any::null()),
            },
            SignatureScheme::RsaPssSha256 => AlgorithmIdentifierOwned {
                oid: oid::ID_RSASSA_PSS,
                parameters: Some(pss_sha256_params()),
            },
        }
    }

    /// The digest algorithm paired with the scheme.
    pub fn digest_algorithm(self) -> AlgorithmIdentifierOwned {
        sha256_algorithm_identifier()
    }
}

/// `AlgorithmIdentifier` for SHA-256 with absent parameters (RFC 5754 says absent is preferred).
pub fn sha256_algorithm_identifier() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: oid::ID_SHA256, parameters: None }
}

/// RSASSA-PSS-params { sha256, mgf1(sha256), saltLength 32, trailerField 1 (default, omitted) }.
fn pss_sha256_params() -> Any {
    // SEQUENCE {
    //   [0] { SEQUENCE { OID sha256, NULL } }
    //   [1] { SEQUENCE { OID mgf1, SEQUENCE { OID sha256, NULL } } }
    //   [2] { INTEGER 32 } }
    const DER: &[u8] = &[
        0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
        0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
    ];
    // The constant above is well-formed DER (checked by a unit test).
    Any::from_der(DER).unwrap_or_else(|_| Any::null())
}

/// Something that signs: a key in memory, an HSM slot, a KMS key.
pub trait Signer: Send + Sync {
    fn scheme(&self) -> SignatureScheme;
    /// DER `SubjectPublicKeyInfo` of the public key.
    fn public_key_der(&self) -> &[u8];
    /// Signs `message` (the implementation hashes it with the scheme's digest).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError>;
}

/// A source of random bytes (serial numbers, nonces, salts), passed in so the core stays pure.
pub trait Rng {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), PkiError>;
}

/// The operating system's CSPRNG through aws-lc.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), PkiError> {
        aws_lc_rs::rand::fill(buf).map_err(|_| PkiError::Crypto("random generator failed".into()))
    }
}

enum KeyPair {
    Ec(awssig::EcdsaKeyPair),
    Rsa(awssig::RsaKeyPair),
}

/// A private key held in memory.
pub struct PrivateKey {
    pair: KeyPair,
    scheme: SignatureScheme,
    spki: Vec<u8>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("PrivateKey").field("scheme", &self.scheme).finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Generates a new key.
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, PkiError> {
        let crypto = |_| PkiError::Crypto("key generation failed".into());
        let pair = match alg {
            KeyAlgorithm::P256 => KeyPair::Ec(
                awssig::EcdsaKeyPair::generate(&awssig::ECDSA_P256_SHA256_ASN1_SIGNING)
                    .map_err(crypto)?,
            ),
            KeyAlgorithm::Rsa2048 => KeyPair::Rsa(
                awssig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(crypto)?,
            ),
            KeyAlgorithm::Rsa3072 => KeyPair::Rsa(
                awssig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa3072).map_err(crypto)?,
            ),
        };
        Self::from_pair(pair, alg.default_scheme())
    }

    /// Loads an unencrypted PKCS#8 `PrivateKeyInfo` (P-256 or RSA).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PkiError> {
        if let Ok(k) =
            awssig::EcdsaKeyPair::from_pkcs8(&awssig::ECDSA_P256_SHA256_ASN1_SIGNING, der)
        {
            return Self::from_pair(KeyPair::Ec(k), SignatureScheme::EcdsaP256Sha256);
        }
        match awssig::RsaKeyPair::from_pkcs8(der) {
            Ok(k) => Self::from_pair(KeyPair::Rsa(k), SignatureScheme::RsaPkcs1Sha256),
            Err(e) => Err(PkiError::Key(format!(
                "not a P-256 or RSA PKCS#8 private key ({e}); Signet supports p256, rsa2048, rsa3072"
            ))),
        }
    }

    fn from_pair(pair: KeyPair, scheme: SignatureScheme) -> Result<Self, PkiError> {
        let spki = match &pair {
            KeyPair::Ec(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            KeyPair::Rsa(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
        }
        .map_err(|_| PkiError::Crypto("cannot encode public key".into()))?;
        Ok(PrivateKey { pair, scheme, spki })
    }

    /// The same key signing with another scheme (RSA keys: PKCS#1 v1.5 or PSS).
    pub fn with_scheme(mut self, scheme: SignatureScheme) -> Result<Self, PkiError> {
        let ok = matches!(
            (&self.pair, scheme),
            (KeyPair::Ec(_), SignatureScheme::EcdsaP256Sha256)
                | (KeyPair::Rsa(_), SignatureScheme::RsaPkcs1Sha256 | SignatureScheme::RsaPssSha256)
        );
        if !ok {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "scheme {scheme:?} does not fit this key type"
            )));
        }
        self.scheme = scheme;
        Ok(self)
    }

    /// PKCS#8 `PrivateKeyInfo` DER. Handle with care: it is the secret.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, PkiError> {
        let err = |_| PkiError::Crypto("cannot export private key".into());
        match &self.pair {
            KeyPair::Ec(k) => Ok(k.to_pkcs8v1().map_err(err)?.as_ref().to_vec()),
            KeyPair::Rsa(k) => Ok(AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(k)
                .map_err(err)?
                .as_ref()
                .to_vec()),
        }
    }

    pub fn key_algorithm(&self) -> KeyAlgorithm {
        match &self.pair {
            KeyPair::Ec(_) => KeyAlgorithm::P256,
            KeyPair::Rsa(k) if k.public_modulus_len() > 256 => KeyAlgorithm::Rsa3072,
            KeyPair::Rsa(_) => KeyAlgorithm::Rsa2048,
        }
    }
}

impl Signer for PrivateKey {
    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let fail = |_| PkiError::Crypto("signing failed".into());
        match (&self.pair, self.scheme) {
            (KeyPair::Ec(k), _) => Ok(k.sign(&rng, message).map_err(fail)?.as_ref().to_vec()),
            (KeyPair::Rsa(k), scheme) => {
                let padding: &'static dyn awssig::RsaEncoding = match scheme {
                    SignatureScheme::RsaPssSha256 => &awssig::RSA_PSS_SHA256,
                    _ => &awssig::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(padding, &rng, message, &mut sig).map_err(fail)?;
                Ok(sig)
            }
        }
    }
}

/// Verifies `signature` over `message` with the public key `spki_der` under `sig_alg` (as found
/// in a certificate, CRL, OCSP response or CMS `SignerInfo`). For CMS signer infos that name only
/// `rsaEncryption`, pass the signer info's digest algorithm as `digest_alg`.
///
/// Accepts: ECDSA P-256/P-384 with SHA-256/384/512; RSA PKCS#1 v1.5 with SHA-1/256/384/512;
/// RSASSA-PSS with SHA-256/384/512 (salt length = digest length).
pub fn verify_signature(
    spki_der: &[u8],
    sig_alg: &AlgorithmIdentifierOwned,
    digest_alg: Option<&ObjectIdentifier>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), PkiError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    let key_bytes = spki.subject_public_key.as_bytes().ok_or_else(|| {
        PkiError::malformed("public key", "bit string with unused bits")
    })?;
    let key_oid = spki.algorithm.oid;
    let unsupported = |what: &str| {
        Err(PkiError::UnsupportedAlgorithm(format!(
            "{what} (signature algorithm {}, key algorithm {key_oid})",
            sig_alg.oid
        )))
    };
    let alg: &'static dyn awssig::VerificationAlgorithm = if key_oid == oid::ID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let hash = match sig_alg.oid {
            o if o == oid::ECDSA_WITH_SHA256 => 256,
            o if o == oid::ECDSA_WITH_SHA384 => 384,
            o if o == oid::ECDSA_WITH_SHA512 => 512,
            _ => return unsupported("ECDSA key with a non-ECDSA signature algorithm"),
        };
        match (curve, hash) {
            (Some(c), 256) if c == oid::SECP256R1 => &awssig::ECDSA_P256_SHA256_ASN1,
            (Some(c), 384) if c == oid::SECP256R1 => &awssig::ECDSA_P256_SHA384_ASN1,
            (Some(c), 512) if c == oid::SECP256R1 => &awssig::ECDSA_P256_SHA512_ASN1,
            (Some(c), 256) if c == oid::SECP384R1 => &awssig::ECDSA_P384_SHA256_ASN1,
            (Some(c), 384) if c == oid::SECP384R1 => &awssig::ECDSA_P384_SHA384_ASN1,
            (Some(c), 512) if c == oid::SECP384R1 => &awssig::ECDSA_P384_SHA512_ASN1,
            _ => return unsupported("elliptic curve"),
        }
    } else if key_oid == oid::RSA_ENCRYPTION || key_oid == oid::ID_RSASSA_PSS {
        let legacy = crate::cert::rsa_modulus_bits(key_bytes).is_some_and(|b| (1024..2048).contains(&b));
        let by_digest = |d: Option<&ObjectIdentifier>| match d {
            Some(d) if *d == oid::ID_SHA256 => 256,
            Some(d) if *d == oid::ID_SHA384 => 384,
            Some(d) if *d == oid::ID_SHA512 => 512,
            Some(d) if *d == oid::ID_SHA1 => 1,
            _ => 0,
        };
        let hash = match sig_alg.oid {
            o if o == oid::SHA256_WITH_RSA => 256,
            o if o == oid::SHA384_WITH_RSA => 384,
            o if o == oid::SHA512_WITH_RSA => 512,
            o if o == oid::SHA1_WITH_RSA => 1,
            o if o == oid::RSA_ENCRYPTION => by_digest(digest_alg),
            _ => 0,
        };
        match sig_alg.oid {
            o if o == oid::ID_RSASSA_PSS => match pss_hash(sig_alg) {
                Some(256) => &awssig::RSA_PSS_2048_8192_SHA256,
                Some(384) => &awssig::RSA_PSS_2048_8192_SHA384,
                Some(512) => &awssig::RSA_PSS_2048_8192_SHA512,
                _ => return unsupported("RSASSA-PSS parameters"),
            },
            _ if hash == 0 => return unsupported("RSA key with an unknown signature or digest algorithm"),
            _ => match pkcs1(hash, legacy) {
                Some(a) => a,
                None => return unsupported("RSA key of this size with this digest"),
            },
        }
    } else {
        return unsupported("public key type");
    };
    awssig::UnparsedPublicKey::new(alg, key_bytes)
        .verify(message, signature)
        .map_err(|_| PkiError::BadSignature(format!("algorithm {}", sig_alg.oid)))
}

/// PKCS#1 v1.5 with `hash` (1 = SHA-1, else SHA-2 bits); `legacy` accepts 1024..2047-bit keys
/// (old documents still verify; the verifier flags them as weak). aws-lc has no legacy SHA-384.
fn pkcs1(hash: u32, legacy: bool) -> Option<&'static dyn awssig::VerificationAlgorithm> {
    Some(match (hash, legacy) {
        (1, false) => &awssig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (256, false) => &awssig::RSA_PKCS1_2048_8192_SHA256,
        (384, false) => &awssig::RSA_PKCS1_2048_8192_SHA384,
        (512, false) => &awssig::RSA_PKCS1_2048_8192_SHA512,
        (1, true) => &awssig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (256, true) => &awssig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        (512, true) => &awssig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        _ => return None,
    })
}

/// The hash size named by RSASSA-PSS parameters (SHA-1 default when absent is not accepted).
fn pss_hash(alg: &AlgorithmIdentifierOwned) -> Option<u32> {
    let params = alg.parameters.as_ref()?.to_der().ok()?;
    // The hash OID appears in [0] hashAlgorithm and, for the matching MGF1, again in [1]; a search
    // over the few bytes of parameters for the SHA-2 OIDs is enough here.
    for (bits, o) in [(256, oid::ID_SHA256), (384, oid::ID_SHA384), (512, oid::ID_SHA512)] {
        let enc = o.to_der().ok()?;
        if params.windows(enc.len()).any(|w| w == enc.as_slice()) {
            return Some(bits);
        }
    }
    None
}

/// SHA-256 of `data` (aws-lc, with SHA extensions where the CPU has them).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Incremental SHA-256 for streamed content (byte ranges of large PDFs).
#[derive(Clone)]
pub struct Sha256(aws_lc_rs::digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256))
    }
}

impl Sha256 {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub fn finish(self) -> [u8; 32] {
        let d = self.0.finish();
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }
}

/// Digest by algorithm OID (SHA-1/256/384/512), for verifying what others produced.
pub fn digest_by_oid(alg: &ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, PkiError> {
    let a = match *alg {
        o if o == oid::ID_SHA256 => &aws_lc_rs::digest::SHA256,
        o if o == oid::ID_SHA384 => &aws_lc_rs::digest::SHA384,
        o if o == oid::ID_SHA512 => &aws_lc_rs::digest::SHA512,
        o if o == oid::ID_SHA1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        o => return Err(PkiError::UnsupportedAlgorithm(format!("digest algorithm {o}"))),
    };
    Ok(aws_lc_rs::digest::digest(a, data).as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_params_constant_is_valid_der() {
        let der = [
            0x30u8, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
            0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48,
            0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
            0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
        ];
        assert!(Any::from_der(&der).is_ok());
        assert_ne!(pss_sha256_params(), Any::null());
    }

    #[test]
    fn sign_and_verify_every_scheme() {
        for (alg, scheme) in [
            (KeyAlgorithm::P256, SignatureScheme::EcdsaP256Sha256),
            (KeyAlgorithm::Rsa2048, SignatureScheme::RsaPkcs1Sha256),
            (KeyAlgorithm::Rsa2048, SignatureScheme::RsaPssSha256),
        ] {
            let key = PrivateKey::generate(alg).unwrap().with_scheme(scheme).unwrap();
            let sig = key.sign(b"contract").unwrap();
            let ai = scheme.algorithm_identifier();
            verify_signature(key.public_key_der(), &ai, None, b"contract", &sig).unwrap();
            let err = verify_signature(key.public_key_der(), &ai, None, b"contracT", &sig);
            assert!(matches!(err, Err(PkiError::BadSignature(_))), "{scheme:?}");
            // PKCS#8 round trip keeps the key.
            let again = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(again.public_key_der(), key.public_key_der());
        }
    }

    #[test]
    fn ecdsa_scheme_on_rsa_key_is_refused() {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        assert!(key.with_scheme(SignatureScheme::EcdsaP256Sha256).is_err());
    }

    #[test]
    fn garbage_key_is_an_error_not_a_panic() {
        assert!(PrivateKey::from_pkcs8_der(b"\x30\x03\x02\x01\x00").is_err());
        assert!(verify_signature(b"junk", &sha256_algorithm_identifier(), None, b"", b"").is_err());
    }
}
