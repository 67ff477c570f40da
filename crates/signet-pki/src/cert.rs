//! X.509 certificates: issuing them for Signet's own CA, and reading the fields the signer,
//! verifier and CLI need.
//!
//! [`Certificate`] is `x509_cert::Certificate`, re-exported so every crate names one type.
//! [`issue_certificate`] writes v3 certificates for a fixed set of [`CertProfile`]s (root CA,
//! issuing CA, time-stamping unit, OCSP responder, document signer); it is not a general
//! certificate builder, and it takes no CSR (the caller passes the subject's public key).
//!
//! What this module does not do: path building and validation ([`crate::chain`]),
//! revocation ([`crate::crl`], [`crate::ocsp`]), PEM ([`crate::pem`]).

use std::time::SystemTime;

use der::asn1::{Any, BitString, Ia5String, Null, ObjectIdentifier, OctetString, SetOfVec};
use der::flagset::FlagSet;
use der::{Decode, Encode, Sequence, Tag, Tagged};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::Version;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub use x509_cert::Certificate;

use crate::alg::{Rng, Signer, verify_signature};
use crate::{PkiError, oid};

/// A subject or issuer name as Signet writes it. Strings are UTF-8 (`UTF8String` in the
/// certificate, so Chinese names round-trip); `country` is a two-letter code
/// (`PrintableString`); `email` is written as a PKCS#9 `emailAddress` (`IA5String`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    pub common_name: String,
    pub organization: Option<String>,
    pub organizational_unit: Option<String>,
    pub email: Option<String>,
    pub country: Option<String>,
}

impl DistinguishedName {
    /// A name with only a common name.
    pub fn new(common_name: impl Into<String>) -> Self {
        DistinguishedName {
            common_name: common_name.into(),
            ..Default::default()
        }
    }

    /// The X.501 `Name`, in the order C, O, OU, CN, emailAddress (one attribute per RDN).
    pub fn to_name(&self) -> Result<Name, PkiError> {
        let bad = |what: &str, d: &dyn std::fmt::Display| {
            PkiError::Certificate(format!("subject {what} cannot be encoded: {d}"))
        };
        if self.common_name.trim().is_empty() {
            return Err(PkiError::Certificate(
                "the subject needs a common name (CN)".into(),
            ));
        }
        let mut rdns: Vec<(ObjectIdentifier, Any)> = Vec::new();
        if let Some(c) = &self.country {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(PkiError::Certificate(format!(
                    "country {c:?} must be a two-letter ISO 3166 code such as CN"
                )));
            }
            let v = Any::new(Tag::PrintableString, c.to_ascii_uppercase().into_bytes())
                .map_err(|e| bad("country", &e))?;
            rdns.push((oid::ID_AT_COUNTRY_NAME, v));
        }
        let utf8 = |s: &str, what: &str| {
            Any::new(Tag::Utf8String, s.as_bytes().to_vec()).map_err(|e| bad(what, &e))
        };
        if let Some(o) = &self.organization {
            rdns.push((oid::ID_AT_ORGANIZATION_NAME, utf8(o, "organization")?));
        }
        if let Some(ou) = &self.organizational_unit {
            rdns.push((
                oid::ID_AT_ORGANIZATIONAL_UNIT_NAME,
                utf8(ou, "organizational unit")?,
            ));
        }
        rdns.push((
            oid::ID_AT_COMMON_NAME,
            utf8(&self.common_name, "common name")?,
        ));
        if let Some(e) = &self.email {
            if !e.is_ascii() || !e.contains('@') {
                return Err(PkiError::Certificate(format!(
                    "e-mail address {e:?} must be ASCII and contain '@'"
                )));
            }
            let v =
                Any::new(Tag::Ia5String, e.as_bytes().to_vec()).map_err(|e| bad("email", &e))?;
            rdns.push((oid::ID_EMAIL_ADDRESS, v));
        }
        let mut seq: Vec<SetOfVec<AttributeTypeAndValue>> = Vec::new();
        for (o, value) in rdns {
            let mut set = SetOfVec::new();
            set.insert(AttributeTypeAndValue { oid: o, value })
                .map_err(|e| bad("name", &e))?;
            seq.push(set);
        }
        Ok(Name::from_der(&seq.to_der()?)?)
    }

    /// Reads back the attributes Signet writes (the first of each kind).
    pub fn from_name(name: &Name) -> Self {
        let first = |o: ObjectIdentifier| {
            name.iter()
                .find(|atv| atv.oid == o)
                .map(|atv| attribute_value_string(&atv.value))
        };
        DistinguishedName {
            common_name: first(oid::ID_AT_COMMON_NAME).unwrap_or_default(),
            organization: first(oid::ID_AT_ORGANIZATION_NAME),
            organizational_unit: first(oid::ID_AT_ORGANIZATIONAL_UNIT_NAME),
            email: first(oid::ID_EMAIL_ADDRESS),
            country: first(oid::ID_AT_COUNTRY_NAME),
        }
    }
}

/// What a certificate is for; fixes its BasicConstraints, KeyUsage and ExtendedKeyUsage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertProfile {
    /// Self-signed root: cA, no path length limit, keyCertSign + cRLSign.
    RootCa,
    /// CA that issues end-entity certificates only: cA, pathLen 0, keyCertSign + cRLSign.
    IssuingCa,
    /// RFC 3161 time-stamping unit: digitalSignature, EKU timeStamping (critical, RFC 3161 §2.3).
    TimeStamping,
    /// Delegated OCSP responder: digitalSignature, EKU OCSPSigning, id-pkix-ocsp-nocheck.
    OcspResponder,
    /// Document signer: digitalSignature + nonRepudiation (contentCommitment).
    Signer,
}

impl CertProfile {
    pub fn is_ca(self) -> bool {
        matches!(self, CertProfile::RootCa | CertProfile::IssuingCa)
    }
}

/// Everything about a certificate to issue except the issuer.
#[derive(Debug, Clone)]
pub struct CertRequest<'a> {
    pub subject: DistinguishedName,
    pub profile: CertProfile,
    /// DER `SubjectPublicKeyInfo` of the subject's key.
    pub public_key_der: &'a [u8],
    /// Positive big-endian serial number, at most 20 bytes (see [`random_serial`]).
    pub serial: Vec<u8>,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// CRL distribution point URL written into the certificate.
    pub crl_url: Option<String>,
    /// OCSP responder URL (Authority Information Access).
    pub ocsp_url: Option<String>,
    /// URL of the issuer's certificate (Authority Information Access, caIssuers).
    pub ca_issuers_url: Option<String>,
    /// A phone number (E.164) written into a signer certificate's subjectAltName as a
    /// `tel:` URI (RFC 3966), beside the e-mail address.
    pub phone: Option<String>,
}

/// Who signs the new certificate.
#[derive(Clone, Copy)]
pub enum Issuer<'a> {
    /// The subject's own key (roots; the signer's public key must be the request's key).
    SelfSigned(&'a dyn Signer),
    /// A CA certificate and its key.
    Ca {
        cert: &'a Certificate,
        key: &'a dyn Signer,
    },
}

impl std::fmt::Debug for Issuer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Issuer::SelfSigned(_) => f.write_str("Issuer::SelfSigned"),
            Issuer::Ca { cert, .. } => write!(f, "Issuer::Ca({})", subject_string(cert)),
        }
    }
}

/// The key usage bits Signet looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyUsageFlags {
    pub digital_signature: bool,
    /// Also called contentCommitment.
    pub non_repudiation: bool,
    pub key_cert_sign: bool,
    pub crl_sign: bool,
}

/// `TBSCertificate` as we write it (x509-cert only builds one behind its `builder` feature,
/// which ties signing to the `signature` traits; we sign through [`Signer`]).
#[derive(Sequence)]
struct TbsCertificateOut {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

/// `SEQUENCE { tbs, signatureAlgorithm, signature }`, the shape shared by certificates, CRLs
/// and OCSP responses; `tbs` is kept as the exact bytes that were signed.
#[derive(Sequence)]
pub(crate) struct SignedOut {
    pub tbs: Any,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: BitString,
}

/// Signs `tbs_der` with `key` and wraps it as `SEQUENCE { tbs, alg, BIT STRING }`.
pub(crate) fn sign_tbs(tbs_der: &[u8], key: &dyn Signer) -> Result<Vec<u8>, PkiError> {
    let signature = key.sign(tbs_der)?;
    let out = SignedOut {
        tbs: Any::from_der(tbs_der)?,
        signature_algorithm: key.scheme().algorithm_identifier(),
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(out.to_der()?)
}

/// Issues a v3 certificate. See the module documentation and [`CertProfile`] for what goes in.
///
/// Extensions: SubjectKeyIdentifier (SHA-1 of the key bits), AuthorityKeyIdentifier (the
/// issuer's SKI), BasicConstraints (critical), KeyUsage (critical), ExtendedKeyUsage by profile,
/// CRL distribution point and Authority Information Access when their URLs are given, and an
/// rfc822Name SubjectAltName for signer certificates with an e-mail address.
pub fn issue_certificate(req: &CertRequest, issuer: Issuer) -> Result<Certificate, PkiError> {
    let subject = req.subject.to_name()?;
    let spki = SubjectPublicKeyInfoOwned::from_der(req.public_key_der)
        .map_err(|e| PkiError::malformed("subject public key", e))?;
    let serial = serial_number(&req.serial)?;
    if req.not_after <= req.not_before {
        return Err(PkiError::Certificate(
            "not_after must be later than not_before".into(),
        ));
    }
    let validity = Validity::new(to_time(req.not_before)?, to_time(req.not_after)?);
    let ski = key_identifier(&spki)?;

    let (issuer_name, key, aki) = match issuer {
        Issuer::SelfSigned(key) => {
            if key.public_key_der() != req.public_key_der {
                return Err(PkiError::Certificate(
                    "a self-signed certificate must be signed with the subject's own key".into(),
                ));
            }
            (subject.clone(), key, ski.clone())
        }
        Issuer::Ca { cert, key } => {
            if key.public_key_der() != spki_der(cert).as_slice() {
                return Err(PkiError::Certificate(format!(
                    "the issuing key does not belong to the CA certificate {}",
                    subject_string(cert)
                )));
            }
            if !is_ca(cert) {
                return Err(PkiError::Certificate(format!(
                    "{} is not a CA certificate and cannot issue certificates",
                    subject_string(cert)
                )));
            }
            let aki = match subject_key_identifier(cert) {
                Some(id) => id,
                None => key_identifier(cert.tbs_certificate().subject_public_key_info())?,
            };
            (cert.tbs_certificate().subject().clone(), key, aki)
        }
    };

    let mut ext = Vec::new();
    let basic = match req.profile {
        CertProfile::RootCa => BasicConstraints {
            ca: true,
            path_len_constraint: None,
        },
        CertProfile::IssuingCa => BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        },
        _ => BasicConstraints {
            ca: false,
            path_len_constraint: None,
        },
    };
    ext.push(extension(oid::ID_CE_BASIC_CONSTRAINTS, true, &basic)?);
    let ku: FlagSet<KeyUsages> = match req.profile {
        CertProfile::RootCa | CertProfile::IssuingCa => KeyUsages::KeyCertSign | KeyUsages::CRLSign,
        CertProfile::TimeStamping | CertProfile::OcspResponder => {
            KeyUsages::DigitalSignature.into()
        }
        CertProfile::Signer => KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
    };
    ext.push(extension(oid::ID_CE_KEY_USAGE, true, &KeyUsage(ku))?);
    match req.profile {
        CertProfile::TimeStamping => {
            let eku = ExtendedKeyUsage(vec![oid::ID_KP_TIME_STAMPING]);
            ext.push(extension(oid::ID_CE_EXT_KEY_USAGE, true, &eku)?);
        }
        CertProfile::OcspResponder => {
            let eku = ExtendedKeyUsage(vec![oid::ID_KP_OCSP_SIGNING]);
            ext.push(extension(oid::ID_CE_EXT_KEY_USAGE, false, &eku)?);
            ext.push(extension(oid::ID_PKIX_OCSP_NOCHECK, false, &Null)?);
        }
        _ => {}
    }
    ext.push(extension(
        oid::ID_CE_SUBJECT_KEY_IDENTIFIER,
        false,
        &SubjectKeyIdentifier(OctetString::new(ski)?),
    )?);
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(aki)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    ext.push(extension(oid::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, &aki)?);
    if req.profile == CertProfile::Signer {
        let mut names = Vec::new();
        if let Some(email) = &req.subject.email {
            names.push(GeneralName::Rfc822Name(ia5(email, "e-mail address")?));
        }
        if let Some(phone) = &req.phone {
            if !phone.strip_prefix('+').unwrap_or(phone).bytes().all(|b| b.is_ascii_digit()) || phone.len() < 4 || phone.len() > 16 {
                return Err(PkiError::Certificate(format!("phone number {phone:?}: use E.164 digits with an optional leading +")));
            }
            names.push(GeneralName::UniformResourceIdentifier(ia5(&format!("tel:{phone}"), "phone number")?));
        }
        if !names.is_empty() {
            ext.push(extension(oid::ID_CE_SUBJECT_ALT_NAME, false, &SubjectAltName(names))?);
        }
    }
    if let Some(url) = &req.crl_url {
        let dp = DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::UniformResourceIdentifier(ia5(url, "CRL URL")?),
            ])),
            reasons: None,
            crl_issuer: None,
        };
        ext.push(extension(
            oid::ID_CE_CRL_DISTRIBUTION_POINTS,
            false,
            &CrlDistributionPoints(vec![dp]),
        )?);
    }
    let mut access = Vec::new();
    if let Some(url) = &req.ocsp_url {
        access.push(AccessDescription {
            access_method: oid::ID_AD_OCSP,
            access_location: GeneralName::UniformResourceIdentifier(ia5(url, "OCSP URL")?),
        });
    }
    if let Some(url) = &req.ca_issuers_url {
        access.push(AccessDescription {
            access_method: oid::ID_AD_CA_ISSUERS,
            access_location: GeneralName::UniformResourceIdentifier(ia5(url, "caIssuers URL")?),
        });
    }
    if !access.is_empty() {
        ext.push(extension(
            oid::ID_PE_AUTHORITY_INFO_ACCESS,
            false,
            &AuthorityInfoAccessSyntax(access),
        )?);
    }

    let tbs = TbsCertificateOut {
        version: Version::V3,
        serial_number: serial,
        signature: key.scheme().algorithm_identifier(),
        issuer: issuer_name,
        validity,
        subject,
        subject_public_key_info: spki,
        extensions: ext,
    };
    let der = sign_tbs(&tbs.to_der()?, key)?;
    Ok(Certificate::from_der(&der)?)
}

/// A fresh serial number: 16 random bytes with the top bit cleared (so the INTEGER is positive
/// without a leading zero byte) and the next bit set (so it is non-zero and always 16 bytes
/// long): 126 random bits.
pub fn random_serial(rng: &mut dyn Rng) -> Result<Vec<u8>, PkiError> {
    let mut serial = vec![0u8; 16];
    rng.fill(&mut serial)?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x40;
    }
    Ok(serial)
}

fn serial_number(bytes: &[u8]) -> Result<SerialNumber, PkiError> {
    let trimmed: &[u8] = {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        bytes.get(start..).unwrap_or(&[])
    };
    if trimmed.is_empty() {
        return Err(PkiError::Certificate(
            "the serial number must not be zero".into(),
        ));
    }
    if trimmed.len() > 20 || (trimmed.len() == 20 && trimmed.first().is_some_and(|b| b & 0x80 != 0))
    {
        return Err(PkiError::Certificate(
            "the serial number must fit in 20 bytes as a positive INTEGER".into(),
        ));
    }
    SerialNumber::new(trimmed).map_err(|e| PkiError::Certificate(format!("serial number: {e}")))
}

/// `SystemTime` → X.509 `Time`: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280
/// §4.1.2.5); sub-second parts are dropped.
pub(crate) fn to_time(t: SystemTime) -> Result<Time, PkiError> {
    Time::try_from(t).map_err(|e| PkiError::Certificate(format!("time out of range: {e}")))
}

fn ia5(s: &str, what: &str) -> Result<Ia5String, PkiError> {
    Ia5String::new(s).map_err(|_| PkiError::Certificate(format!("{what} {s:?} must be ASCII")))
}

pub(crate) fn extension(
    id: ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: id,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1).
pub(crate) fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, PkiError> {
    crate::alg::digest_by_oid(&oid::ID_SHA1, spki.subject_public_key.raw_bytes())
}

// ---------------------------------------------------------------------------------------------
// Accessors

/// The subject as a readable UTF-8 string, most specific first: `CN=张三, OU=…, O=…, C=CN, E=…`.
pub fn subject_string(c: &Certificate) -> String {
    name_string(c.tbs_certificate().subject())
}

/// The issuer, formatted like [`subject_string`].
pub fn issuer_string(c: &Certificate) -> String {
    name_string(c.tbs_certificate().issuer())
}

/// Formats any `Name` like [`subject_string`]. Attributes are ordered CN, OU, O, L, ST, C, E,
/// then the rest in certificate order; special characters are escaped as in RFC 4514.
pub fn name_string(name: &Name) -> String {
    let mut parts: Vec<(usize, usize, String)> = name
        .iter()
        .enumerate()
        .map(|(i, atv)| {
            let (rank, label) = attribute_label(&atv.oid);
            (
                rank,
                i,
                format!(
                    "{label}={}",
                    escape_rdn_value(&attribute_value_string(&atv.value))
                ),
            )
        })
        .collect();
    parts.sort_by_key(|(rank, i, _)| (*rank, *i));
    parts
        .into_iter()
        .map(|(_, _, s)| s)
        .collect::<Vec<_>>()
        .join(", ")
}

fn attribute_label(o: &ObjectIdentifier) -> (usize, String) {
    const LABELS: &[(&str, &str)] = &[
        ("2.5.4.3", "CN"),
        ("2.5.4.4", "SN"),
        ("2.5.4.42", "GN"),
        ("2.5.4.12", "T"),
        ("2.5.4.5", "SERIALNUMBER"),
        ("0.9.2342.19200300.100.1.1", "UID"),
        ("2.5.4.11", "OU"),
        ("2.5.4.10", "O"),
        ("2.5.4.97", "organizationIdentifier"),
        ("2.5.4.9", "STREET"),
        ("2.5.4.7", "L"),
        ("2.5.4.8", "ST"),
        ("2.5.4.6", "C"),
        ("0.9.2342.19200300.100.1.25", "DC"),
        ("1.2.840.113549.1.9.1", "E"),
    ];
    let dotted = o.to_string();
    LABELS
        .iter()
        .position(|(d, _)| *d == dotted)
        .and_then(|i| LABELS.get(i).map(|(_, l)| (i, (*l).to_string())))
        .unwrap_or((LABELS.len(), dotted))
}

fn escape_rdn_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for (i, ch) in v.chars().enumerate() {
        let leading = i == 0 && (ch == '#' || ch == ' ');
        if leading || matches!(ch, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(ch);
    }
    if out.ends_with(' ') {
        out.pop();
        out.push_str("\\ ");
    }
    out
}

/// Decodes a directory string of any of the usual ASN.1 string types; other values are shown
/// as `#` and their DER in hex (RFC 4514).
pub(crate) fn attribute_value_string(value: &Any) -> String {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::VisibleString
        | Tag::NumericString => String::from_utf8_lossy(bytes).into_owned(),
        // T.61 is close enough to Latin-1 for the names found in practice.
        Tag::TeletexString => bytes.iter().map(|&b| char::from(b)).collect(),
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        // UniversalString (UCS-4), tag 28.
        _ if value.tag().number().value() == 28 && !value.tag().is_constructed() => bytes
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                for (d, s) in b.iter_mut().zip(c) {
                    *d = *s;
                }
                char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect(),
        _ => format!("#{}", hex::encode(value.to_der().unwrap_or_default())),
    }
}

/// The subject's common name (the first CN), decoded.
pub fn common_name(c: &Certificate) -> Option<String> {
    c.tbs_certificate()
        .subject()
        .iter()
        .find(|atv| atv.oid == oid::ID_AT_COMMON_NAME)
        .map(|atv| attribute_value_string(&atv.value))
}

/// The serial number in upper-case hex, without leading zero bytes.
pub fn serial_hex(c: &Certificate) -> String {
    hex::encode_upper(serial_bytes(c))
}

/// The serial number as positive big-endian bytes, without leading zero bytes.
pub fn serial_bytes(c: &Certificate) -> Vec<u8> {
    let b = c.tbs_certificate().serial_number().as_bytes();
    let start = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    b.get(start..).unwrap_or(b).to_vec()
}

/// (notBefore, notAfter).
pub fn validity(c: &Certificate) -> (SystemTime, SystemTime) {
    let v = c.tbs_certificate().validity();
    (v.not_before.to_system_time(), v.not_after.to_system_time())
}

/// DER `SubjectPublicKeyInfo`.
pub fn spki_der(c: &Certificate) -> Vec<u8> {
    c.tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap_or_default()
}

/// The certificate's DER encoding (re-encoded from the parsed form; identical to the input for
/// DER certificates that follow RFC 5280, which is all `Certificate::from_der` accepts in
/// practice — but a certificate whose validity uses GeneralizedTime before 2050 would be
/// re-encoded as UTCTime by x509-cert, so keep the original bytes where they matter).
pub fn cert_der(c: &Certificate) -> Vec<u8> {
    // Encoding a decoded certificate cannot fail short of running out of memory.
    c.to_der().unwrap_or_default()
}

/// SHA-256 of the certificate's DER.
pub fn fingerprint_sha256(c: &Certificate) -> [u8; 32] {
    crate::alg::sha256(&cert_der(c))
}

fn find_extension<'a>(c: &'a Certificate, id: &ObjectIdentifier) -> Option<&'a Extension> {
    c.tbs_certificate()
        .extensions()
        .and_then(|exts| exts.iter().find(|e| e.extn_id == *id))
}

/// The extension with `id` and whether it is critical, if present.
pub fn extension_value(c: &Certificate, id: &ObjectIdentifier) -> Option<(bool, Vec<u8>)> {
    find_extension(c, id).map(|e| (e.critical, e.extn_value.as_bytes().to_vec()))
}

fn decode_extension<T: for<'a> Decode<'a>>(c: &Certificate, id: &ObjectIdentifier) -> Option<T> {
    find_extension(c, id).and_then(|e| T::from_der(e.extn_value.as_bytes()).ok())
}

/// Key usage bits, or `None` when the certificate has no (readable) KeyUsage extension.
pub fn key_usage(c: &Certificate) -> Option<KeyUsageFlags> {
    let ku: KeyUsage = decode_extension(c, &oid::ID_CE_KEY_USAGE)?;
    Some(KeyUsageFlags {
        digital_signature: ku.digital_signature(),
        non_repudiation: ku.non_repudiation(),
        key_cert_sign: ku.key_cert_sign(),
        crl_sign: ku.crl_sign(),
    })
}

/// Extended key usage purposes (empty when absent).
pub fn extended_key_usages(c: &Certificate) -> Vec<ObjectIdentifier> {
    decode_extension::<ExtendedKeyUsage>(c, &oid::ID_CE_EXT_KEY_USAGE)
        .map(|e| e.0)
        .unwrap_or_default()
}

/// BasicConstraints, if present and readable.
pub fn basic_constraints(c: &Certificate) -> Option<BasicConstraints> {
    decode_extension(c, &oid::ID_CE_BASIC_CONSTRAINTS)
}

/// True when BasicConstraints says cA and, if KeyUsage is present, keyCertSign is set.
pub fn is_ca(c: &Certificate) -> bool {
    basic_constraints(c).is_some_and(|b| b.ca) && key_usage(c).is_none_or(|k| k.key_cert_sign)
}

/// The SubjectKeyIdentifier, if present.
pub fn subject_key_identifier(c: &Certificate) -> Option<Vec<u8>> {
    decode_extension::<SubjectKeyIdentifier>(c, &oid::ID_CE_SUBJECT_KEY_IDENTIFIER)
        .map(|s| s.0.as_bytes().to_vec())
}

/// The keyIdentifier of the AuthorityKeyIdentifier, if present.
pub fn authority_key_identifier(c: &Certificate) -> Option<Vec<u8>> {
    decode_extension::<AuthorityKeyIdentifier>(c, &oid::ID_CE_AUTHORITY_KEY_IDENTIFIER)
        .and_then(|a| a.key_identifier)
        .map(|k| k.as_bytes().to_vec())
}

fn uris(names: &[GeneralName]) -> impl Iterator<Item = String> + '_ {
    names.iter().filter_map(|n| match n {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
        _ => None,
    })
}

/// URLs of the CRL distribution points (full names only).
pub fn crl_urls(c: &Certificate) -> Vec<String> {
    let Some(dps) =
        decode_extension::<CrlDistributionPoints>(c, &oid::ID_CE_CRL_DISTRIBUTION_POINTS)
    else {
        return Vec::new();
    };
    dps.0
        .iter()
        .filter_map(|dp| match &dp.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(uris(names).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn access_urls(c: &Certificate, method: ObjectIdentifier) -> Vec<String> {
    let Some(aia) =
        decode_extension::<AuthorityInfoAccessSyntax>(c, &oid::ID_PE_AUTHORITY_INFO_ACCESS)
    else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|a| a.access_method == method)
        .filter_map(|a| match &a.access_location {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .collect()
}

/// OCSP responder URLs from Authority Information Access.
pub fn ocsp_urls(c: &Certificate) -> Vec<String> {
    access_urls(c, oid::ID_AD_OCSP)
}

/// caIssuers URLs from Authority Information Access.
pub fn ca_issuer_urls(c: &Certificate) -> Vec<String> {
    access_urls(c, oid::ID_AD_CA_ISSUERS)
}

/// Subject and issuer names are the same (a root, or a re-keyed CA).
pub fn is_self_issued(c: &Certificate) -> bool {
    names_match(c.tbs_certificate().subject(), c.tbs_certificate().issuer())
}

/// Name comparison: equal DER, or equal attribute types with values equal after RFC 5280
/// §7.1-style folding (case and inner whitespace), which covers PrintableString/UTF8String
/// variants of the same name.
pub fn names_match(a: &Name, b: &Name) -> bool {
    if a.to_der().ok() == b.to_der().ok() {
        return true;
    }
    let fold = |n: &Name| -> Vec<Vec<(String, String)>> {
        n.iter_rdn()
            .map(|rdn| {
                let mut v: Vec<(String, String)> = rdn
                    .iter()
                    .map(|atv| {
                        let s = attribute_value_string(&atv.value);
                        let s = s
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .to_lowercase();
                        (atv.oid.to_string(), s)
                    })
                    .collect();
                v.sort();
                v
            })
            .collect()
    };
    fold(a) == fold(b)
}

/// Checks that `issuer` issued `cert`: the names chain and `issuer`'s key verifies the
/// signature. Says nothing about validity periods or CA flags.
pub fn verify_issued_by(cert: &Certificate, issuer: &Certificate) -> Result<(), PkiError> {
    if !names_match(
        cert.tbs_certificate().issuer(),
        issuer.tbs_certificate().subject(),
    ) {
        return Err(PkiError::Certificate(format!(
            "{} was issued by {}, not by {}",
            subject_string(cert),
            issuer_string(cert),
            subject_string(issuer)
        )));
    }
    verify_cert_signature(cert, &spki_der(issuer))
}

/// Verifies the certificate's signature with the public key `issuer_spki_der`.
///
/// Successes are remembered (a bounded set of SHA-256 digests over everything the check
/// depends on): verifying many documents from one CA checks each chain link once. A memo of a
/// pure function, not I/O.
pub fn verify_cert_signature(cert: &Certificate, issuer_spki_der: &[u8]) -> Result<(), PkiError> {
    let tbs = cert.tbs_certificate().to_der()?;
    let sig = cert
        .signature()
        .as_bytes()
        .ok_or_else(|| PkiError::malformed("certificate signature", "unused bits"))?;
    let alg = cert.signature_algorithm().to_der()?;
    let mut h = crate::alg::Sha256::default();
    for part in [&tbs[..], sig, &alg, issuer_spki_der] {
        h.update(&(part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let key = h.finish();
    if verified_links().lock().map(|set| set.contains(&key)).unwrap_or(false) {
        return Ok(());
    }
    verify_signature(issuer_spki_der, cert.signature_algorithm(), None, &tbs, sig)?;
    if let Ok(mut set) = verified_links().lock() {
        if set.len() >= MAX_VERIFIED_LINKS {
            set.clear();
        }
        set.insert(key);
    }
    Ok(())
}

/// Most remembered certificate-signature checks (32 bytes each).
const MAX_VERIFIED_LINKS: usize = 4096;

fn verified_links() -> &'static std::sync::Mutex<std::collections::HashSet<[u8; 32]>> {
    static SET: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<[u8; 32]>>> = std::sync::OnceLock::new();
    SET.get_or_init(Default::default)
}

/// Verifies a certificate's signature over its original DER bytes (use this when the input
/// may not re-encode identically, see [`cert_der`]).
pub fn verify_cert_der_signature(cert_der: &[u8], issuer_spki_der: &[u8]) -> Result<(), PkiError> {
    let signed = SignedOut::from_der(cert_der)?;
    let sig = signed
        .signature
        .as_bytes()
        .ok_or_else(|| PkiError::malformed("certificate signature", "unused bits"))?;
    verify_signature(
        issuer_spki_der,
        &signed.signature_algorithm,
        None,
        &signed.tbs.to_der()?,
        sig,
    )
}

/// The public key's algorithm and size: ("RSA", modulus bits), ("EC", curve bits) or
/// (the algorithm OID, 0) for anything else.
pub fn key_strength(c: &Certificate) -> (String, usize) {
    let spki = &c.tbs_certificate().subject_public_key_info();
    let alg = spki.algorithm.oid;
    if alg == oid::RSA_ENCRYPTION || alg == oid::ID_RSASSA_PSS {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .and_then(rsa_modulus_bits)
            .unwrap_or(0);
        return ("RSA".into(), bits);
    }
    if alg == oid::ID_EC_PUBLIC_KEY {
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok());
        let bits = match curve {
            Some(c) if c == oid::SECP256R1 => 256,
            Some(c) if c == oid::SECP384R1 => 384,
            _ => 0,
        };
        return ("EC".into(), bits);
    }
    (alg.to_string(), 0)
}

/// Bits of the modulus of a DER `RSAPublicKey { modulus, publicExponent }`.
pub(crate) fn rsa_modulus_bits(der_key: &[u8]) -> Option<usize> {
    use der::Reader;
    let mut r = der::SliceReader::new(der_key).ok()?;
    r.sequence(|seq| {
        let m: der::asn1::UintRef<'_> = seq.decode()?;
        let _e: der::asn1::UintRef<'_> = seq.decode()?;
        let bytes = m.as_bytes();
        let lead = bytes.first().map_or(0, |b| 8 - b.leading_zeros() as usize);
        Ok::<usize, der::Error>(bytes.len().saturating_sub(1) * 8 + lead)
    })
    .ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{KeyAlgorithm, PrivateKey, SystemRng};
    use std::time::{Duration, UNIX_EPOCH};

    pub(crate) const DAY: Duration = Duration::from_secs(86_400);

    /// 2026-01-01T00:00:00Z.
    pub(crate) fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    /// A three-level test PKI: root → issuing CA → leaf, plus a TSA and an OCSP responder.
    pub(crate) struct TestPki {
        pub root_key: PrivateKey,
        pub root: Certificate,
        pub ca_key: PrivateKey,
        pub ca: Certificate,
        pub leaf_key: PrivateKey,
        pub leaf: Certificate,
        pub tsa: Certificate,
        pub ocsp_key: PrivateKey,
        pub ocsp: Certificate,
    }

    pub(crate) fn request<'a>(
        cn: &str,
        profile: CertProfile,
        key: &'a PrivateKey,
        days: u64,
    ) -> CertRequest<'a> {
        CertRequest {
            subject: DistinguishedName {
                common_name: cn.into(),
                organization: Some("Signet 测试".into()),
                organizational_unit: None,
                email: None,
                country: Some("CN".into()),
            },
            profile,
            public_key_der: key.public_key_der(),
            serial: random_serial(&mut SystemRng).unwrap(),
            not_before: t0(),
            not_after: t0() + DAY * days as u32,
            crl_url: None,
            ocsp_url: None,
            ca_issuers_url: None,
            phone: None,
        }
    }

    pub(crate) fn test_pki(alg: KeyAlgorithm) -> TestPki {
        let root_key = PrivateKey::generate(alg).unwrap();
        let root = issue_certificate(
            &request("Signet Test Root", CertProfile::RootCa, &root_key, 3650),
            Issuer::SelfSigned(&root_key),
        )
        .unwrap();
        let ca_key = PrivateKey::generate(alg).unwrap();
        let mut req = request("Signet Issuing CA", CertProfile::IssuingCa, &ca_key, 1825);
        req.crl_url = Some("http://pki.example.test/root.crl".into());
        let ca = issue_certificate(
            &req,
            Issuer::Ca {
                cert: &root,
                key: &root_key,
            },
        )
        .unwrap();
        let leaf_key = PrivateKey::generate(alg).unwrap();
        let mut req = request("张三", CertProfile::Signer, &leaf_key, 365);
        req.subject.email = Some("zhangsan@example.test".into());
        req.subject.organizational_unit = Some("法务部".into());
        req.crl_url = Some("http://pki.example.test/ca.crl".into());
        req.ocsp_url = Some("http://ocsp.example.test/".into());
        req.ca_issuers_url = Some("http://pki.example.test/ca.cer".into());
        let leaf = issue_certificate(
            &req,
            Issuer::Ca {
                cert: &ca,
                key: &ca_key,
            },
        )
        .unwrap();
        let tsa_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let tsa = issue_certificate(
            &request("Signet TSA", CertProfile::TimeStamping, &tsa_key, 365),
            Issuer::Ca {
                cert: &ca,
                key: &ca_key,
            },
        )
        .unwrap();
        let ocsp_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let ocsp = issue_certificate(
            &request("Signet OCSP", CertProfile::OcspResponder, &ocsp_key, 365),
            Issuer::Ca {
                cert: &ca,
                key: &ca_key,
            },
        )
        .unwrap();
        TestPki {
            root_key,
            root,
            ca_key,
            ca,
            leaf_key,
            leaf,
            tsa,
            ocsp_key,
            ocsp,
        }
    }

    pub(crate) fn tempdir(tag: &str) -> std::path::PathBuf {
        let mut rnd = [0u8; 8];
        SystemRng.fill(&mut rnd).unwrap();
        let dir = std::env::temp_dir().join(format!("signet-pki-{tag}-{}", hex::encode(rnd)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    pub(crate) fn openssl(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn ext_critical(c: &Certificate, id: ObjectIdentifier) -> Option<bool> {
        extension_value(c, &id).map(|(crit, _)| crit)
    }

    #[test]
    fn profiles_and_extensions_for_both_key_types() {
        for alg in [KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
            let pki = test_pki(alg);
            // DER round trip is lossless.
            for c in [&pki.root, &pki.ca, &pki.leaf, &pki.tsa, &pki.ocsp] {
                let again = Certificate::from_der(&cert_der(c)).unwrap();
                assert_eq!(&again, c);
                assert_eq!(c.tbs_certificate().version(), Version::V3);
            }
            // Root.
            assert!(is_ca(&pki.root) && is_self_issued(&pki.root));
            assert_eq!(
                basic_constraints(&pki.root).unwrap().path_len_constraint,
                None
            );
            assert_eq!(
                key_usage(&pki.root).unwrap(),
                KeyUsageFlags {
                    key_cert_sign: true,
                    crl_sign: true,
                    ..Default::default()
                }
            );
            assert_eq!(
                ext_critical(&pki.root, oid::ID_CE_BASIC_CONSTRAINTS),
                Some(true)
            );
            assert_eq!(ext_critical(&pki.root, oid::ID_CE_KEY_USAGE), Some(true));
            assert_eq!(
                authority_key_identifier(&pki.root),
                subject_key_identifier(&pki.root)
            );
            verify_issued_by(&pki.root, &pki.root).unwrap();
            // Issuing CA.
            assert!(is_ca(&pki.ca) && !is_self_issued(&pki.ca));
            assert_eq!(
                basic_constraints(&pki.ca).unwrap().path_len_constraint,
                Some(0)
            );
            assert_eq!(
                authority_key_identifier(&pki.ca),
                subject_key_identifier(&pki.root)
            );
            assert_eq!(crl_urls(&pki.ca), vec!["http://pki.example.test/root.crl"]);
            assert!(ocsp_urls(&pki.ca).is_empty());
            verify_issued_by(&pki.ca, &pki.root).unwrap();
            assert!(verify_issued_by(&pki.ca, &pki.ca).is_err());
            // Signer leaf.
            assert!(!is_ca(&pki.leaf));
            let bc = basic_constraints(&pki.leaf).unwrap();
            assert!(!bc.ca);
            assert_eq!(
                ext_critical(&pki.leaf, oid::ID_CE_BASIC_CONSTRAINTS),
                Some(true)
            );
            assert_eq!(
                key_usage(&pki.leaf).unwrap(),
                KeyUsageFlags {
                    digital_signature: true,
                    non_repudiation: true,
                    ..Default::default()
                }
            );
            assert!(extended_key_usages(&pki.leaf).is_empty());
            assert_eq!(common_name(&pki.leaf).as_deref(), Some("张三"));
            assert_eq!(
                subject_string(&pki.leaf),
                "CN=张三, OU=法务部, O=Signet 测试, C=CN, E=zhangsan@example.test"
            );
            assert_eq!(
                issuer_string(&pki.leaf),
                "CN=Signet Issuing CA, O=Signet 测试, C=CN"
            );
            let dn = DistinguishedName::from_name(pki.leaf.tbs_certificate().subject());
            assert_eq!(dn.common_name, "张三");
            assert_eq!(dn.email.as_deref(), Some("zhangsan@example.test"));
            assert_eq!(dn.organizational_unit.as_deref(), Some("法务部"));
            assert_eq!(crl_urls(&pki.leaf), vec!["http://pki.example.test/ca.crl"]);
            assert_eq!(ocsp_urls(&pki.leaf), vec!["http://ocsp.example.test/"]);
            assert_eq!(
                ca_issuer_urls(&pki.leaf),
                vec!["http://pki.example.test/ca.cer"]
            );
            assert_eq!(validity(&pki.leaf), (t0(), t0() + DAY * 365));
            assert_eq!(spki_der(&pki.leaf), pki.leaf_key.public_key_der());
            assert_eq!(serial_hex(&pki.leaf).len(), 32);
            verify_issued_by(&pki.leaf, &pki.ca).unwrap();
            verify_cert_der_signature(&cert_der(&pki.leaf), &spki_der(&pki.ca)).unwrap();
            assert!(verify_cert_der_signature(&cert_der(&pki.leaf), &spki_der(&pki.root)).is_err());
            // TSA: EKU timeStamping, critical.
            assert_eq!(
                extended_key_usages(&pki.tsa),
                vec![oid::ID_KP_TIME_STAMPING]
            );
            assert_eq!(ext_critical(&pki.tsa, oid::ID_CE_EXT_KEY_USAGE), Some(true));
            assert_eq!(
                key_usage(&pki.tsa).unwrap(),
                KeyUsageFlags {
                    digital_signature: true,
                    ..Default::default()
                }
            );
            // OCSP responder: EKU OCSPSigning + nocheck.
            assert_eq!(
                extended_key_usages(&pki.ocsp),
                vec![oid::ID_KP_OCSP_SIGNING]
            );
            assert_eq!(
                extension_value(&pki.ocsp, &oid::ID_PKIX_OCSP_NOCHECK),
                Some((false, vec![0x05, 0x00]))
            );
        }
    }

    #[test]
    fn validity_encoding_switches_to_generalized_time_in_2050() {
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let mut req = request("Long", CertProfile::RootCa, &key, 1);
        // 2049-12-31T23:59:59Z and 2050-01-01T00:00:00Z.
        req.not_before = UNIX_EPOCH + Duration::from_secs(2_524_607_999);
        req.not_after = UNIX_EPOCH + Duration::from_secs(2_524_608_000);
        let c = issue_certificate(&req, Issuer::SelfSigned(&key)).unwrap();
        let v = c.tbs_certificate().validity();
        assert!(matches!(v.not_before, Time::UtcTime(_)));
        assert!(matches!(v.not_after, Time::GeneralTime(_)));
        assert_eq!(validity(&c), (req.not_before, req.not_after));
    }

    #[test]
    fn bad_requests_are_refused() {
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let other = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let ok = request("X", CertProfile::RootCa, &key, 10);
        let mut r = ok.clone();
        r.serial = vec![0, 0];
        assert!(issue_certificate(&r, Issuer::SelfSigned(&key)).is_err());
        let mut r = ok.clone();
        r.serial = vec![0xff; 20];
        assert!(issue_certificate(&r, Issuer::SelfSigned(&key)).is_err());
        let mut r = ok.clone();
        r.serial = vec![0x7f; 20];
        assert!(issue_certificate(&r, Issuer::SelfSigned(&key)).is_ok());
        let mut r = ok.clone();
        r.not_after = r.not_before;
        assert!(issue_certificate(&r, Issuer::SelfSigned(&key)).is_err());
        let mut r = ok.clone();
        r.subject.country = Some("China".into());
        assert!(issue_certificate(&r, Issuer::SelfSigned(&key)).is_err());
        let mut r = ok.clone();
        r.public_key_der = b"junk";
        assert!(issue_certificate(&r, Issuer::SelfSigned(&key)).is_err());
        // Self-signed with someone else's key.
        assert!(issue_certificate(&ok, Issuer::SelfSigned(&other)).is_err());
        // A CA key that does not match the CA certificate.
        let root = issue_certificate(&ok, Issuer::SelfSigned(&key)).unwrap();
        let leaf = request("Y", CertProfile::Signer, &other, 10);
        assert!(
            issue_certificate(
                &leaf,
                Issuer::Ca {
                    cert: &root,
                    key: &other
                }
            )
            .is_err()
        );
        // An end-entity certificate cannot issue.
        let ee = issue_certificate(
            &leaf,
            Issuer::Ca {
                cert: &root,
                key: &key,
            },
        )
        .unwrap();
        assert!(
            issue_certificate(
                &leaf,
                Issuer::Ca {
                    cert: &ee,
                    key: &other
                }
            )
            .is_err()
        );
    }

    #[test]
    fn random_serials_are_positive_fixed_length_and_distinct() {
        let a = random_serial(&mut SystemRng).unwrap();
        let b = random_serial(&mut SystemRng).unwrap();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(a[0] & 0xc0, 0x40);
    }

    #[test]
    fn signer_certificates_carry_email_and_phone_in_the_subject_alt_name() {
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let mut req = request("李四", CertProfile::Signer, &key, 1);
        req.subject.email = Some("lisi@example.test".into());
        req.phone = Some("+8613800138000".into());
        let c = issue_certificate(&req, Issuer::SelfSigned(&key)).unwrap();
        let ext = c
            .tbs_certificate()
            .extensions()
            .unwrap()
            .iter()
            .find(|e| e.extn_id == oid::ID_CE_SUBJECT_ALT_NAME)
            .expect("a subjectAltName");
        let san = SubjectAltName::from_der(ext.extn_value.as_bytes()).unwrap();
        let names: Vec<String> = san
            .0
            .iter()
            .map(|n| match n {
                GeneralName::Rfc822Name(s) => format!("email:{}", s.as_str()),
                GeneralName::UniformResourceIdentifier(s) => format!("uri:{}", s.as_str()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["email:lisi@example.test", "uri:tel:+8613800138000"]);
        req.phone = Some("call me".into());
        assert!(issue_certificate(&req, Issuer::SelfSigned(&key)).is_err());
    }

    #[test]
    fn name_formatting_escapes_and_decodes_string_types() {
        let dn = DistinguishedName {
            common_name: "Doe, John".into(),
            organization: Some("A+B".into()),
            ..Default::default()
        };
        let name = dn.to_name().unwrap();
        assert_eq!(name_string(&name), "CN=Doe\\, John, O=A\\+B");
        let bmp = Any::new(Tag::BmpString, vec![0x5f, 0x20, 0x4e, 0x09]).unwrap();
        assert_eq!(attribute_value_string(&bmp), "张三");
        let odd = Any::new(Tag::Integer, vec![0x05]).unwrap();
        assert_eq!(attribute_value_string(&odd), "#020105");
        // A UTF8String "ABC" and a PrintableString "abc" name the same CN.
        let a2 = Name::from_der(&hex::decode("300e310c300a06035504030c03414243").unwrap()).unwrap();
        let b2 = Name::from_der(&hex::decode("300e310c300a06035504031303616263").unwrap()).unwrap();
        assert!(names_match(&a2, &b2));
    }

    #[test]
    fn openssl_reads_the_certificates() {
        let pki = test_pki(KeyAlgorithm::P256);
        let dir = tempdir("cert");
        std::fs::write(dir.join("tsa.pem"), crate::pem::cert_to_pem(&pki.tsa)).unwrap();
        std::fs::write(dir.join("leaf.pem"), crate::pem::cert_to_pem(&pki.leaf)).unwrap();
        let (ok, text) = openssl(&dir, &["x509", "-in", "tsa.pem", "-noout", "-text"]);
        assert!(ok, "{text}");
        assert!(
            text.contains("X509v3 Extended Key Usage: critical"),
            "{text}"
        );
        assert!(text.contains("Time Stamping"), "{text}");
        assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
        let (ok, text) = openssl(
            &dir,
            &[
                "x509",
                "-in",
                "leaf.pem",
                "-noout",
                "-subject",
                "-nameopt",
                "utf8,sep_comma_plus",
            ],
        );
        assert!(ok, "{text}");
        assert!(text.contains("CN=张三"), "{text}");
        let (ok, text) = openssl(&dir, &["x509", "-in", "leaf.pem", "-noout", "-text"]);
        assert!(ok, "{text}");
        assert!(text.contains("Non Repudiation"), "{text}");
        assert!(
            text.contains("URI:http://pki.example.test/ca.crl"),
            "{text}"
        );
        assert!(
            text.contains("OCSP - URI:http://ocsp.example.test/"),
            "{text}"
        );
        assert!(
            text.contains("CA Issuers - URI:http://pki.example.test/ca.cer"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

