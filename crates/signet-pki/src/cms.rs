//! CMS `SignedData` (RFC 5652) as PAdES and RFC 3161 use it: making a detached CAdES signature
//! over a digest the PDF layer computed, adding a signature time-stamp afterwards, and parsing
//! and checking SignedData that we or others produced.
//!
//! What it does not do: decide whether a signer certificate is trusted (that is path
//! validation in `chain`), hash PDF byte ranges (the caller passes the digest), or support
//! several signer infos in one SignedData (PAdES and RFC 3161 use exactly one; more is refused).
//!
//! Parsing reads the structure with a small TLV walker instead of decoding into `cms` types and
//! re-encoding, because the signature covers the signed attributes *exactly as transmitted*:
//! the `der` crate sorts a `SET OF` on decode, which would change the bytes of a signer whose
//! attributes are not in DER order.

use std::time::SystemTime;

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::serial_number::SerialNumber;

use crate::alg::{Signer, digest_by_oid, sha256, verify_signature};
use crate::{PkiError, oid};

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

/// A CAdES detached signature (ETSI.CAdES.detached sub-filter) under construction: signed, and
/// open for unsigned attributes (the signature time-stamp) until it is encoded.
#[derive(Debug, Clone)]
pub struct CadesSignature {
    certificates: Vec<Certificate>,
    signer_info: SignerInfo,
}

/// Signs `message_digest` (SHA-256 of the PDF byte ranges) as a detached CAdES signature.
///
/// Signed attributes, in DER `SET` order: content-type (id-data), message-digest and
/// signing-certificate-v2 (SHA-256 hash of the signer certificate plus issuerSerial). There is
/// no signing-time: PAdES baseline carries the claimed time in the signature dictionary's `/M`.
pub fn sign_cades_detached(
    signer: &dyn Signer,
    signer_cert: &Certificate,
    chain: &[Certificate],
    message_digest: &[u8; 32],
) -> Result<CadesSignature, PkiError> {
    check_key_matches_cert(signer, signer_cert)?;
    let signer_info = build_signer_info(signer, signer_cert, oid::ID_DATA, message_digest)?;
    let mut certificates = vec![signer_cert.clone()];
    for c in chain {
        if !certificates.contains(c) {
            certificates.push(c.clone());
        }
    }
    Ok(CadesSignature { certificates, signer_info })
}

impl CadesSignature {
    /// The signature value: what a signature time-stamp is computed over (RFC 3161 appendix A:
    /// the imprint is the hash of the `signature` field's value octets).
    pub fn signature_value(&self) -> &[u8] {
        self.signer_info.signature.as_bytes()
    }

    /// Adds a time-stamp token (a `ContentInfo` DER, as returned by
    /// [`crate::tsp::parse_response`]) as the unsigned attribute id-aa-signatureTimeStampToken.
    /// A second call adds a second value to the same attribute.
    ///
    /// The token is checked to be a SignedData `ContentInfo`; whether it covers this signature
    /// is the caller's business (it built the request from [`Self::signature_value`]).
    pub fn add_signature_timestamp(&mut self, token_der: &[u8]) -> Result<(), PkiError> {
        let ci = ContentInfo::from_der(token_der)
            .map_err(|e| PkiError::malformed("time-stamp token", e))?;
        if ci.content_type != oid::ID_SIGNED_DATA {
            return Err(PkiError::malformed(
                "time-stamp token",
                format!("content type {} is not SignedData", ci.content_type),
            ));
        }
        let value = Any::from_der(token_der)?;
        let mut attrs: Vec<Attribute> = match self.signer_info.unsigned_attrs.take() {
            Some(a) => a.into_vec(),
            None => Vec::new(),
        };
        match attrs.iter_mut().find(|a| a.oid == oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN) {
            Some(a) => a.values.insert(value)?,
            None => attrs.push(Attribute {
                oid: oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
                values: SetOfVec::try_from(vec![value])?,
            }),
        }
        self.signer_info.unsigned_attrs = Some(SetOfVec::try_from(attrs)?);
        Ok(())
    }

    /// The `ContentInfo { id-signedData, SignedData }` DER that goes into the PDF `/Contents`.
    pub fn to_der(&self) -> Result<Vec<u8>, PkiError> {
        signed_data_content_info(
            oid::ID_DATA,
            None,
            &self.certificates,
            self.signer_info.clone(),
        )
    }
}

/// Checks that the signer's public key is the one in its certificate: a mismatch would produce a
/// signature nobody can verify, so it is refused before signing.
pub(crate) fn check_key_matches_cert(
    signer: &dyn Signer,
    cert: &Certificate,
) -> Result<(), PkiError> {
    let spki = cert.tbs_certificate().subject_public_key_info().to_der()?;
    if spki.as_slice() != signer.public_key_der() {
        return Err(PkiError::Key(
            "the signing key does not belong to the signer certificate".into(),
        ));
    }
    Ok(())
}

/// ESS `SigningCertificateV2` (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

/// `ESSCertIDv2`; `hash_algorithm` absent means SHA-256 (the DEFAULT, which DER omits).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// ESS `SigningCertificate` (RFC 2634), SHA-1 only; parsed, never produced.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV1 {
    certs: Vec<EssCertIdV1>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV1 {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: GeneralNames,
    serial_number: SerialNumber,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PkiError> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

/// Builds and signs one `SignerInfo` (v1, issuerAndSerialNumber) over signed attributes
/// content-type, message-digest and signing-certificate-v2.
pub(crate) fn build_signer_info(
    signer: &dyn Signer,
    signer_cert: &Certificate,
    econtent_type: ObjectIdentifier,
    content_digest: &[u8],
) -> Result<SignerInfo, PkiError> {
    let tbs = signer_cert.tbs_certificate();
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(sha256(&signer_cert.to_der()?).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            }),
        }],
        policies: None,
    };
    let attrs = SetOfVec::try_from(vec![
        attribute(oid::ID_CONTENT_TYPE, Any::encode_from(&econtent_type)?)?,
        attribute(
            oid::ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(content_digest.to_vec())?)?,
        )?,
        attribute(oid::ID_AA_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?;
    // The signature covers the attributes DER-encoded with the universal SET tag (RFC 5652 5.4).
    let signed_bytes = attrs.to_der()?;
    let signature = signer.sign(&signed_bytes)?;
    let scheme = signer.scheme();
    Ok(SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: scheme.digest_algorithm(),
        signed_attrs: Some(attrs),
        signature_algorithm: scheme.algorithm_identifier(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    })
}

/// Encodes `ContentInfo { id-signedData, SignedData }` with one signer info. The version is 1
/// for id-data content and 3 otherwise (RFC 5652 5.1).
pub(crate) fn signed_data_content_info(
    econtent_type: ObjectIdentifier,
    econtent: Option<&[u8]>,
    certificates: &[Certificate],
    signer_info: SignerInfo,
) -> Result<Vec<u8>, PkiError> {
    let certificates = if certificates.is_empty() {
        None
    } else {
        let choices: Vec<_> = certificates
            .iter()
            .cloned()
            .map(cms::cert::CertificateChoices::Certificate)
            .collect();
        Some(CertificateSet::try_from(choices)?)
    };
    let econtent = match econtent {
        Some(bytes) => Some(Any::encode_from(&OctetString::new(bytes.to_vec())?)?),
        None => None,
    };
    let sd = SignedData {
        version: if econtent_type == oid::ID_DATA { CmsVersion::V1 } else { CmsVersion::V3 },
        digest_algorithms: SetOfVec::try_from(vec![signer_info.digest_alg.clone()])?,
        encap_content_info: EncapsulatedContentInfo { econtent_type, econtent },
        certificates,
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info])?,
    };
    let ci = ContentInfo { content_type: oid::ID_SIGNED_DATA, content: Any::encode_from(&sd)? };
    Ok(ci.to_der()?)
}

// ---------------------------------------------------------------------------------------------
// Parsing and checking
// ---------------------------------------------------------------------------------------------

/// A parsed `SignedData` with exactly one signer, as found in a PDF `/Contents` or a time-stamp
/// token. Parsing checks structure only; call the `verify_*`/`check_*` methods for the crypto.
#[derive(Debug, Clone)]
pub struct ParsedSignedData {
    pub econtent_type: ObjectIdentifier,
    /// The encapsulated content (absent for detached signatures).
    pub econtent: Option<Vec<u8>>,
    pub digest_algorithms: Vec<ObjectIdentifier>,
    /// Every X.509 certificate in the `certificates` field, in the order found.
    pub certificates: Vec<Certificate>,
    /// The certificate among `certificates` that the signer identifier names.
    pub signer_cert: Option<Certificate>,
    pub digest_algorithm: ObjectIdentifier,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: Vec<u8>,
    /// The signed attributes with the universal SET tag: the bytes the signature covers.
    pub signed_attrs_der: Option<Vec<u8>>,
    pub content_type_attr: Option<ObjectIdentifier>,
    pub message_digest: Option<Vec<u8>>,
    pub signing_time: Option<SystemTime>,
    /// certHash of the first ESSCertIDv2 in signing-certificate-v2.
    pub signing_certificate_v2: Option<Vec<u8>>,
    /// Hash algorithm of that ESSCertIDv2 (SHA-256 when the field is absent).
    pub signing_certificate_v2_algorithm: Option<ObjectIdentifier>,
    /// certHash (SHA-1) of the first ESSCertID in signing-certificate (v1).
    pub signing_certificate_v1: Option<Vec<u8>>,
    /// The time-stamp token (ContentInfo DER) of the first signatureTimeStampToken value.
    pub signature_timestamp: Option<Vec<u8>>,
    /// issuerSerial of the first ESS cert id, if any: (issuer GeneralNames DER, serial bytes).
    ess_issuer_serial: Option<IssuerSerial>,
}

/// Splits a PDF `/Contents` value into the DER of its first TLV and what follows it; the flag
/// says whether anything other than zero padding follows (some signers leave the rest of an
/// older, longer signature there; it lies in the unsigned gap and is ignored).
pub fn split_contents(contents: &[u8]) -> (&[u8], bool) {
    match tlv::read(contents) {
        Ok((_, rest)) => {
            let used = contents.len() - rest.len();
            (&contents[..used], rest.iter().any(|b| *b != 0))
        }
        Err(_) => (contents, false),
    }
}

/// Parses `ContentInfo { id-signedData, SignedData }`. Only the first TLV is read, so the
/// zero padding after the DER in a PDF `/Contents` is ignored.
pub fn parse_signed_data(content_info_der: &[u8]) -> Result<ParsedSignedData, PkiError> {
    let what = "CMS SignedData";
    let bad = |d: &str| PkiError::malformed(what, d);
    let (ci, padding) = tlv::read(content_info_der).map_err(|e| bad(&e))?;
    if padding.iter().any(|b| *b != 0) {
        return Err(bad("data after the ContentInfo other than zero padding"));
    }
    let ci_fields = ci.expect(tlv::SEQUENCE).and_then(tlv::children).map_err(|e| bad(&e))?;
    let [ct, content] = ci_fields.as_slice() else {
        return Err(bad("ContentInfo is not a SEQUENCE of two elements"));
    };
    let ct = ObjectIdentifier::from_der(ct.raw)?;
    if ct != oid::ID_SIGNED_DATA {
        return Err(bad(&format!("content type {ct} is not id-signedData")));
    }
    let sd = content
        .expect(0xa0)
        .and_then(tlv::children)
        .and_then(|c| match c.as_slice() {
            [one] => Ok(*one),
            _ => Err("content [0] must hold exactly one element".into()),
        })
        .and_then(|sd| sd.expect(tlv::SEQUENCE))
        .and_then(tlv::children)
        .map_err(|e| bad(&e))?;

    let mut it = sd.into_iter().peekable();
    let mut next = |name: &str| it.next().ok_or_else(|| bad(&format!("SignedData lacks {name}")));
    let _version = next("version")?.expect(tlv::INTEGER).map_err(|e| bad(&e))?;
    let digest_algorithms = next("digestAlgorithms")?
        .expect(tlv::SET)
        .and_then(tlv::children)
        .map_err(|e| bad(&e))?
        .iter()
        .map(|t| AlgorithmIdentifierOwned::from_der(t.raw).map(|a| a.oid))
        .collect::<Result<Vec<_>, _>>()?;
    let encap = next("encapContentInfo")?
        .expect(tlv::SEQUENCE)
        .and_then(tlv::children)
        .map_err(|e| bad(&e))?;
    let (econtent_type, econtent) = match encap.as_slice() {
        [t] => (ObjectIdentifier::from_der(t.raw)?, None),
        [t, c] => {
            let inner = c.expect(0xa0).and_then(tlv::children).map_err(|e| bad(&e))?;
            let [os] = inner.as_slice() else {
                return Err(bad("eContent [0] must hold one OCTET STRING"));
            };
            (ObjectIdentifier::from_der(t.raw)?, Some(tlv::octet_string(os).map_err(|e| bad(&e))?))
        }
        _ => return Err(bad("encapContentInfo has the wrong number of fields")),
    };
    let mut certificates = Vec::new();
    let mut signer_infos = None;
    for field in it {
        match field.tag {
            0xa0 => {
                for c in tlv::children(field).map_err(|e| bad(&e))? {
                    // Other certificate formats (attribute certificates, ...) are skipped.
                    if c.tag == tlv::SEQUENCE {
                        certificates.push(Certificate::from_der(c.raw).map_err(|e| {
                            PkiError::malformed("certificate in SignedData", e)
                        })?);
                    }
                }
            }
            0xa1 => {} // CRLs: revocation data in PAdES lives in the DSS, not here.
            tlv::SET if signer_infos.is_none() => {
                signer_infos = Some(tlv::children(field).map_err(|e| bad(&e))?)
            }
            t => return Err(bad(&format!("unexpected field with tag {t:#04x} in SignedData"))),
        }
    }
    let signer_infos = signer_infos.ok_or_else(|| bad("SignedData lacks signerInfos"))?;
    let [si] = signer_infos.as_slice() else {
        return Err(bad(&format!(
            "{} signer infos; exactly one is supported",
            signer_infos.len()
        )));
    };
    let si = si.expect(tlv::SEQUENCE).and_then(tlv::children).map_err(|e| bad(&e))?;
    let mut it = si.into_iter().peekable();
    let mut next = |name: &str| it.next().ok_or_else(|| bad(&format!("SignerInfo lacks {name}")));
    let _version = next("version")?.expect(tlv::INTEGER).map_err(|e| bad(&e))?;
    let sid = next("sid")?;
    let signer_id = match sid.tag {
        tlv::SEQUENCE => SignerId::IssuerSerial(IssuerAndSerialNumber::from_der(sid.raw)?),
        0x80 => SignerId::KeyId(sid.content.to_vec()),
        t => return Err(bad(&format!("signer identifier with tag {t:#04x}"))),
    };
    let digest_algorithm = AlgorithmIdentifierOwned::from_der(next("digestAlgorithm")?.raw)?.oid;
    let mut field = next("signatureAlgorithm")?;
    let mut signed_attrs = None;
    if field.tag == 0xa0 {
        signed_attrs = Some(field);
        field = next("signatureAlgorithm")?;
    }
    let signature_algorithm = AlgorithmIdentifierOwned::from_der(field.raw)?;
    let signature = tlv::octet_string(&next("signature")?).map_err(|e| bad(&e))?;
    let unsigned_attrs = match it.next() {
        Some(t) if t.tag == 0xa1 => Some(t),
        Some(t) => return Err(bad(&format!("unexpected field with tag {:#04x} in SignerInfo", t.tag))),
        None => None,
    };
    if it.next().is_some() {
        return Err(bad("trailing fields in SignerInfo"));
    }

    let signer_cert = certificates.iter().find(|c| signer_id.matches(c)).cloned();
    let mut parsed = ParsedSignedData {
        econtent_type,
        econtent,
        digest_algorithms,
        certificates,
        signer_cert,
        digest_algorithm,
        signature_algorithm,
        signature,
        signed_attrs_der: None,
        content_type_attr: None,
        message_digest: None,
        signing_time: None,
        signing_certificate_v2: None,
        signing_certificate_v2_algorithm: None,
        signing_certificate_v1: None,
        signature_timestamp: None,
        ess_issuer_serial: None,
    };
    if let Some(sa) = signed_attrs {
        let mut set_der = sa.raw.to_vec();
        set_der[0] = tlv::SET; // the signature covers the attributes with the SET tag
        parsed.signed_attrs_der = Some(set_der);
        parsed.read_signed_attributes(sa)?;
    }
    if let Some(ua) = unsigned_attrs {
        for (attr_oid, values) in attributes(ua)? {
            if attr_oid == oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN && parsed.signature_timestamp.is_none() {
                parsed.signature_timestamp = values.first().map(|v| v.raw.to_vec());
            }
        }
    }
    Ok(parsed)
}

/// How the signer info names its certificate.
enum SignerId {
    IssuerSerial(IssuerAndSerialNumber),
    KeyId(Vec<u8>),
}

impl SignerId {
    fn matches(&self, cert: &Certificate) -> bool {
        let tbs = cert.tbs_certificate();
        match self {
            SignerId::IssuerSerial(isn) => {
                isn.serial_number.as_bytes() == tbs.serial_number().as_bytes()
                    && same_name(&isn.issuer, tbs.issuer())
            }
            SignerId::KeyId(kid) => matches!(
                tbs.get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, ski))) if ski.0.as_bytes() == kid.as_slice()
            ),
        }
    }
}

fn same_name(a: &x509_cert::name::Name, b: &x509_cert::name::Name) -> bool {
    match (a.to_der(), b.to_der()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Splits an attribute SET (any tag) into (type, values).
fn attributes<'a>(set: tlv::Tlv<'a>) -> Result<Vec<(ObjectIdentifier, Vec<tlv::Tlv<'a>>)>, PkiError> {
    let bad = |d: String| PkiError::malformed("CMS attribute", d);
    let mut out = Vec::new();
    for attr in tlv::children(set).map_err(bad)? {
        let fields = attr.expect(tlv::SEQUENCE).and_then(tlv::children).map_err(bad)?;
        let [t, values] = fields.as_slice() else {
            return Err(bad("attribute is not SEQUENCE { type, values }".into()));
        };
        let attr_oid = ObjectIdentifier::from_der(t.raw)?;
        let values = values.expect(tlv::SET).and_then(tlv::children).map_err(bad)?;
        out.push((attr_oid, values));
    }
    Ok(out)
}

impl ParsedSignedData {
    fn read_signed_attributes(&mut self, sa: tlv::Tlv<'_>) -> Result<(), PkiError> {
        let mut seen = Vec::new();
        for (attr_oid, values) in attributes(sa)? {
            // RFC 5652 11: these attributes are single-valued and appear once. A second
            // message-digest would let a forger choose which one a verifier reads.
            if seen.contains(&attr_oid) {
                return Err(PkiError::malformed(
                    "CMS signed attributes",
                    format!("attribute {attr_oid} appears twice"),
                ));
            }
            seen.push(attr_oid);
            let single = || match values.as_slice() {
                [v] => Ok(*v),
                _ => Err(PkiError::malformed(
                    "CMS signed attributes",
                    format!("attribute {attr_oid} must have exactly one value"),
                )),
            };
            match attr_oid {
                o if o == oid::ID_CONTENT_TYPE => {
                    self.content_type_attr = Some(ObjectIdentifier::from_der(single()?.raw)?);
                }
                o if o == oid::ID_MESSAGE_DIGEST => {
                    self.message_digest = Some(OctetString::from_der(single()?.raw)?.into_bytes().into_vec());
                }
                o if o == oid::ID_SIGNING_TIME => {
                    let t = x509_cert::time::Time::from_der(single()?.raw)?;
                    self.signing_time = Some(t.to_system_time());
                }
                o if o == oid::ID_AA_SIGNING_CERTIFICATE_V2 => {
                    let sc = SigningCertificateV2::from_der(single()?.raw)?;
                    let first = sc.certs.into_iter().next().ok_or_else(|| {
                        PkiError::malformed("signing-certificate-v2", "no certificate ids")
                    })?;
                    self.signing_certificate_v2 = Some(first.cert_hash.into_bytes().into_vec());
                    self.signing_certificate_v2_algorithm =
                        Some(first.hash_algorithm.map_or(oid::ID_SHA256, |a| a.oid));
                    self.ess_issuer_serial = first.issuer_serial;
                }
                o if o == oid::ID_AA_SIGNING_CERTIFICATE => {
                    let sc = SigningCertificateV1::from_der(single()?.raw)?;
                    let first = sc.certs.into_iter().next().ok_or_else(|| {
                        PkiError::malformed("signing-certificate", "no certificate ids")
                    })?;
                    self.signing_certificate_v1 = Some(first.cert_hash.into_bytes().into_vec());
                    if self.ess_issuer_serial.is_none() {
                        self.ess_issuer_serial = first.issuer_serial;
                    }
                }
                _ => {} // other attributes (e.g. CMSAlgorithmProtection) are covered by the signature
            }
        }
        Ok(())
    }

    /// Verifies the signature with the signer certificate's public key: over the signed
    /// attributes when present (and then the content-type attribute must equal the
    /// eContentType), else over the encapsulated content. Trust in the certificate is not
    /// checked here.
    pub fn verify_signature(&self) -> Result<(), PkiError> {
        let cert = self.signer_cert.as_ref().ok_or_else(|| {
            PkiError::Certificate(
                "the signer certificate is not included in the SignedData".into(),
            )
        })?;
        let message: &[u8] = match (&self.signed_attrs_der, &self.econtent) {
            (Some(attrs), _) => {
                match self.content_type_attr {
                    Some(ct) if ct == self.econtent_type => {}
                    Some(ct) => {
                        return Err(PkiError::BadSignature(format!(
                            "content-type attribute {ct} differs from eContentType {}",
                            self.econtent_type
                        )));
                    }
                    None => {
                        return Err(PkiError::malformed(
                            "CMS signed attributes",
                            "content-type attribute missing",
                        ));
                    }
                }
                if self.message_digest.is_none() {
                    return Err(PkiError::malformed(
                        "CMS signed attributes",
                        "message-digest attribute missing",
                    ));
                }
                attrs
            }
            (None, Some(content)) => content,
            (None, None) => {
                return Err(PkiError::UnsupportedAlgorithm(
                    "detached SignedData without signed attributes".into(),
                ));
            }
        };
        let spki = cert.tbs_certificate().subject_public_key_info().to_der()?;
        // Some producers name the key type (id-ecPublicKey) instead of the signature algorithm.
        let sig_alg = if self.signature_algorithm.oid == oid::ID_EC_PUBLIC_KEY {
            let ecdsa = match self.digest_algorithm {
                d if d == oid::ID_SHA384 => oid::ECDSA_WITH_SHA384,
                d if d == oid::ID_SHA512 => oid::ECDSA_WITH_SHA512,
                _ => oid::ECDSA_WITH_SHA256,
            };
            AlgorithmIdentifierOwned { oid: ecdsa, parameters: None }
        } else {
            self.signature_algorithm.clone()
        };
        verify_signature(&spki, &sig_alg, Some(&self.digest_algorithm), message, &self.signature)
    }

    /// Compares the message-digest attribute with `content_digest` (computed by the caller with
    /// [`Self::digest_algorithm`] over the signed content) in constant time.
    pub fn check_message_digest(&self, content_digest: &[u8]) -> Result<(), PkiError> {
        let md = self.message_digest.as_deref().ok_or_else(|| {
            PkiError::malformed("CMS signed attributes", "message-digest attribute missing")
        })?;
        aws_lc_rs::constant_time::verify_slices_are_equal(md, content_digest).map_err(|_| {
            PkiError::BadSignature("the signed content does not match the message-digest attribute".into())
        })
    }

    /// Checks that the ESS signing-certificate(-v2) attribute names the signer certificate:
    /// the hash matches and, when present, issuerSerial too. An absent attribute is an error.
    pub fn check_signing_certificate(&self) -> Result<(), PkiError> {
        let cert = self.signer_cert.as_ref().ok_or_else(|| {
            PkiError::Certificate("the signer certificate is not included in the SignedData".into())
        })?;
        let cert_der = cert.to_der()?;
        let (alg, expected) = match (&self.signing_certificate_v2, &self.signing_certificate_v1) {
            (Some(h), _) => (self.signing_certificate_v2_algorithm.unwrap_or(oid::ID_SHA256), h),
            (None, Some(h)) => (oid::ID_SHA1, h),
            (None, None) => {
                return Err(PkiError::Certificate(
                    "no ESS signing-certificate attribute binds the signer certificate".into(),
                ));
            }
        };
        if digest_by_oid(&alg, &cert_der)? != *expected {
            return Err(PkiError::Certificate(
                "the ESS signing-certificate hash does not match the signer certificate".into(),
            ));
        }
        if let Some(is) = &self.ess_issuer_serial {
            let tbs = cert.tbs_certificate();
            let issuer_ok = is.issuer.iter().any(|gn| {
                matches!(gn, GeneralName::DirectoryName(n) if same_name(n, tbs.issuer()))
            });
            if !issuer_ok || is.serial_number.as_bytes() != tbs.serial_number().as_bytes() {
                return Err(PkiError::Certificate(
                    "the ESS issuerSerial does not name the signer certificate".into(),
                ));
            }
        }
        Ok(())
    }

    /// Digest of the encapsulated content with the signer's digest algorithm (None when
    /// detached).
    pub fn econtent_digest(&self) -> Result<Option<Vec<u8>>, PkiError> {
        self.econtent.as_deref().map(|c| digest_by_oid(&self.digest_algorithm, c)).transpose()
    }
}

/// A minimal reader of DER TLVs (one-byte tags: all CMS needs), tolerating the BER indefinite
/// lengths of streamed CMS.
pub(crate) mod tlv {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;

    #[derive(Debug, Clone, Copy)]
    pub struct Tlv<'a> {
        pub tag: u8,
        pub content: &'a [u8],
        /// Tag, length and content.
        pub raw: &'a [u8],
    }

    impl<'a> Tlv<'a> {
        pub fn expect(self, tag: u8) -> Result<Self, String> {
            if self.tag == tag {
                Ok(self)
            } else {
                Err(format!("expected tag {tag:#04x}, found {:#04x}", self.tag))
            }
        }
    }

    /// Deepest nesting of indefinite-length (BER) elements accepted: a bound on recursion.
    const MAX_INDEFINITE_DEPTH: usize = 32;

    /// Reads one TLV from the front of `input`; returns it and the rest. Definite lengths, and
    /// BER indefinite lengths on constructed elements (as `openssl cms -stream` writes them);
    /// for those, `content` excludes and `raw` includes the end-of-contents octets.
    pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
        read_at(input, 0)
    }

    fn read_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), String> {
        let (&tag, rest) = input.split_first().ok_or("unexpected end of data")?;
        if tag & 0x1f == 0x1f {
            return Err("multi-byte tags are not supported".into());
        }
        let (&first, rest) = rest.split_first().ok_or("unexpected end of data in a length")?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else if first == 0x80 {
            if tag & 0x20 == 0 || depth >= MAX_INDEFINITE_DEPTH {
                return Err("indefinite length on a primitive or too deeply nested element".into());
            }
            let mut inner = rest;
            loop {
                if inner.starts_with(&[0, 0]) {
                    break;
                }
                let (_, r) = read_at(inner, depth + 1)?;
                inner = r;
            }
            let content_len = rest.len() - inner.len();
            let header_len = input.len() - rest.len();
            let (content, after) = rest.split_at(content_len);
            let after = after.get(2..).ok_or("missing end-of-contents")?;
            let raw = &input[..header_len + content_len + 2];
            return Ok((Tlv { tag, content, raw }, after));
        } else {
            let n = (first & 0x7f) as usize;
            if n > 4 || rest.len() < n {
                return Err("length field too long or truncated".into());
            }
            let (bytes, rest) = rest.split_at(n);
            let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (len, rest)
        };
        if rest.len() < len {
            return Err(format!("truncated: {len} bytes announced, {} present", rest.len()));
        }
        let header_len = input.len() - rest.len();
        let (content, rest) = rest.split_at(len);
        Ok((Tlv { tag, content, raw: &input[..header_len + len] }, rest))
    }

    /// The TLVs inside a constructed TLV.
    pub fn children(t: Tlv<'_>) -> Result<Vec<Tlv<'_>>, String> {
        if t.tag & 0x20 == 0 {
            return Err(format!("tag {:#04x} is not constructed", t.tag));
        }
        let mut out = Vec::new();
        let mut rest = t.content;
        while !rest.is_empty() {
            let (child, r) = read(rest)?;
            out.push(child);
            rest = r;
        }
        Ok(out)
    }

    /// The value of an OCTET STRING (primitive, or constructed from primitive segments).
    pub fn octet_string(t: &Tlv<'_>) -> Result<Vec<u8>, String> {
        match t.tag {
            OCTET_STRING => Ok(t.content.to_vec()),
            0x24 => {
                let mut out = Vec::new();
                for seg in children(*t)? {
                    // Segments are primitive in DER-ish BER; nested constructed ones are rare
                    // and refused.
                    out.extend_from_slice(seg.expect(OCTET_STRING)?.content);
                }
                Ok(out)
            }
            other => Err(format!("expected an OCTET STRING, found tag {other:#04x}")),
        }
    }
}

/// Test fixtures made with the `openssl` command line: a root CA, an end-entity signer and a
/// TSA certificate (critical EKU timeStamping), each in a fresh directory under the temp dir.
#[cfg(test)]
pub(crate) mod testkit {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    use der::{Decode, DecodePem};
    use x509_cert::Certificate;

    use crate::alg::{PrivateKey, SignatureScheme};

    /// A fresh, empty directory for one test.
    pub fn tmpdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("signet-pki-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    /// Runs `openssl args...` in `dir` and returns its output (not checking the status).
    pub fn openssl_raw(dir: &Path, args: &[&str]) -> Output {
        Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl")
    }

    /// Runs `openssl args...` in `dir`, panicking with its stderr on failure; returns stdout+stderr.
    pub fn openssl(dir: &Path, args: &[&str]) -> String {
        let out = openssl_raw(dir, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
        text
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum KeyKind {
        P256,
        Rsa,
        RsaPss,
    }

    pub struct Issued {
        pub cert: Certificate,
        pub key: PrivateKey,
        pub pem_path: PathBuf,
        pub key_path: PathBuf,
    }

    pub struct TestPki {
        pub dir: PathBuf,
        pub root: Certificate,
        pub root_pem: PathBuf,
    }

    impl TestPki {
        pub fn new(name: &str) -> Self {
            let dir = tmpdir(name);
            openssl(&dir, &[
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "root.key", "-out", "root.pem", "-subj", "/CN=Signet Test Root/O=Signet",
                "-days", "3", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            let root_pem = dir.join("root.pem");
            let root = load_pem(&root_pem);
            TestPki { dir, root, root_pem }
        }

        /// Issues an end-entity certificate under the root. `tsa` adds a critical EKU
        /// timeStamping; otherwise the certificate is a document signer.
        pub fn issue(&self, name: &str, subject: &str, kind: KeyKind, tsa: bool) -> Issued {
            let d = &self.dir;
            let key = format!("{name}.key");
            match kind {
                KeyKind::P256 => openssl(d, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &key]),
                KeyKind::Rsa | KeyKind::RsaPss => openssl(d, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", &key]),
            };
            let ext = if tsa {
                "[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            } else {
                "[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            };
            std::fs::write(d.join(format!("{name}.ext")), ext).expect("write ext");
            let csr = format!("{name}.csr");
            let pem = format!("{name}.pem");
            openssl(d, &["req", "-new", "-utf8", "-key", &key, "-subj", subject, "-out", &csr]);
            openssl(d, &[
                "x509", "-req", "-in", &csr, "-CA", "root.pem", "-CAkey", "root.key",
                "-CAcreateserial", "-days", "3", "-out", &pem, "-extfile", &format!("{name}.ext"),
                "-extensions", "v3",
            ]);
            let p8 = format!("{name}.p8");
            openssl(d, &["pkcs8", "-topk8", "-nocrypt", "-in", &key, "-outform", "DER", "-out", &p8]);
            let pkcs8 = std::fs::read(d.join(&p8)).expect("read pkcs8");
            let mut private = PrivateKey::from_pkcs8_der(&pkcs8).expect("load key");
            if kind == KeyKind::RsaPss {
                private = private.with_scheme(SignatureScheme::RsaPssSha256).expect("pss");
            }
            Issued { cert: load_pem(&d.join(&pem)), key: private, pem_path: d.join(pem), key_path: d.join(key) }
        }
    }

    pub fn load_pem(path: &Path) -> Certificate {
        let bytes = std::fs::read(path).expect("read pem");
        Certificate::from_pem(&bytes).or_else(|_| Certificate::from_der(&bytes)).expect("parse cert")
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::{KeyKind, TestPki, openssl, openssl_raw};
    use super::*;

    fn flip_first(haystack: &mut [u8], needle: &[u8], offset: usize) {
        let pos = haystack
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("needle present");
        haystack[pos + offset] ^= 0x01;
    }

    #[test]
    fn cades_detached_verifies_with_openssl_and_round_trips() {
        let pki = TestPki::new("cms-cades");
        let data = b"%PDF-1.7 contract bytes, byte ranges of a PDF".repeat(50);
        std::fs::write(pki.dir.join("data.bin"), &data).unwrap();
        let digest = sha256(&data);
        for kind in [KeyKind::P256, KeyKind::Rsa, KeyKind::RsaPss] {
            let signer = pki.issue(&format!("{kind:?}"), "/CN=张三/O=Signet Test", kind, false);
            let sig = sign_cades_detached(&signer.key, &signer.cert, std::slice::from_ref(&pki.root), &digest)
                .unwrap();
            let der = sig.to_der().unwrap();
            let file = format!("sig-{kind:?}.der");
            std::fs::write(pki.dir.join(&file), &der).unwrap();
            let out = openssl(&pki.dir, &[
                "cms", "-verify", "-inform", "DER", "-in", &file, "-content", "data.bin",
                "-binary", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null",
            ]);
            assert!(out.contains("Verification successful"), "{kind:?}: {out}");

            let p = parse_signed_data(&der).unwrap();
            assert_eq!(p.econtent_type, oid::ID_DATA);
            assert_eq!(p.econtent, None);
            assert_eq!(p.digest_algorithms, vec![oid::ID_SHA256]);
            assert_eq!(p.certificates.len(), 2);
            assert_eq!(p.signer_cert.as_ref(), Some(&signer.cert));
            assert_eq!(p.digest_algorithm, oid::ID_SHA256);
            assert_eq!(p.signature_algorithm, signer.key.scheme().algorithm_identifier());
            assert_eq!(p.signature, sig.signature_value());
            assert_eq!(p.content_type_attr, Some(oid::ID_DATA));
            assert_eq!(p.message_digest.as_deref(), Some(&digest[..]));
            assert_eq!(p.signing_time, None);
            assert!(p.signing_certificate_v2.is_some());
            assert_eq!(p.signature_timestamp, None);
            p.verify_signature().unwrap();
            p.check_message_digest(&digest).unwrap();
            p.check_signing_certificate().unwrap();
            assert!(p.check_message_digest(&sha256(b"other")).is_err());

            // A flipped bit in the signature value.
            let mut bad = der.clone();
            flip_first(&mut bad, sig.signature_value(), 10);
            let p = parse_signed_data(&bad).unwrap();
            assert!(matches!(p.verify_signature(), Err(PkiError::BadSignature(_))));
            // A flipped bit in the message-digest attribute: signature and digest both fail.
            let mut bad = der.clone();
            flip_first(&mut bad, &digest, 0);
            let p = parse_signed_data(&bad).unwrap();
            assert!(matches!(p.verify_signature(), Err(PkiError::BadSignature(_))));
            assert!(p.check_message_digest(&digest).is_err());
            // A flipped bit in another signed attribute (the ESS certificate hash).
            let mut bad = der.clone();
            let cert_hash = sha256(&signer.cert.to_der().unwrap());
            flip_first(&mut bad, &cert_hash, 5);
            let p = parse_signed_data(&bad).unwrap();
            assert!(matches!(p.verify_signature(), Err(PkiError::BadSignature(_))));
            assert!(p.check_signing_certificate().is_err());
        }
    }

    #[test]
    fn trailing_zero_padding_is_tolerated_and_garbage_is_an_error() {
        let pki = TestPki::new("cms-padding");
        let signer = pki.issue("p256", "/CN=Signer", KeyKind::P256, false);
        let digest = sha256(b"x");
        let der = sign_cades_detached(&signer.key, &signer.cert, &[], &digest)
            .unwrap()
            .to_der()
            .unwrap();
        let mut padded = der.clone();
        padded.extend_from_slice(&[0u8; 4096]);
        let p = parse_signed_data(&padded).unwrap();
        p.verify_signature().unwrap();
        p.check_message_digest(&digest).unwrap();
        let mut trailing = der.clone();
        trailing.extend_from_slice(b"\0\0junk");
        assert!(parse_signed_data(&trailing).is_err());

        for garbage in [&b""[..], b"\0", b"\x30", b"\x30\x80\0\0", b"\x30\x80", b"\x04\x80\0\0", b"\x30\x84\xff\xff\xff\xff", b"hello world"] {
            assert!(parse_signed_data(garbage).is_err());
        }
        // Deeply nested indefinite lengths are refused without exhausting the stack.
        let mut deep = b"\x30\x80".repeat(100_000);
        deep.extend(std::iter::repeat_n(0u8, 200_000));
        assert!(parse_signed_data(&deep).is_err());
        // Every truncation of a valid signature is an error, never a panic.
        for len in 0..der.len() {
            assert!(parse_signed_data(&der[..len]).is_err(), "truncated at {len}");
        }
        // Single-byte corruptions never panic.
        for i in 0..der.len() {
            let mut d = der.clone();
            d[i] ^= 0xff;
            if let Ok(p) = parse_signed_data(&d) {
                let _ = p.verify_signature();
                let _ = p.check_signing_certificate();
            }
        }
    }

    #[test]
    fn signature_timestamp_attribute_round_trips() {
        let pki = TestPki::new("cms-tsattr");
        let signer = pki.issue("p256", "/CN=Signer", KeyKind::P256, false);
        let digest = sha256(b"doc");
        let mut sig = sign_cades_detached(&signer.key, &signer.cert, &[], &digest).unwrap();
        // Any SignedData ContentInfo will do as a stand-in token here (tsp.rs tests real ones).
        let other = sign_cades_detached(&signer.key, &signer.cert, &[], &sha256(b"t")).unwrap();
        let token = other.to_der().unwrap();
        assert!(sig.add_signature_timestamp(b"\x30\x00").is_err());
        sig.add_signature_timestamp(&token).unwrap();
        let der = sig.to_der().unwrap();
        let p = parse_signed_data(&der).unwrap();
        assert_eq!(p.signature_timestamp.as_deref(), Some(&token[..]));
        // Unsigned attributes are outside the signature.
        p.verify_signature().unwrap();
        p.check_message_digest(&digest).unwrap();
    }

    #[test]
    fn key_not_matching_certificate_is_refused() {
        let pki = TestPki::new("cms-mismatch");
        let a = pki.issue("a", "/CN=A", KeyKind::P256, false);
        let b = pki.issue("b", "/CN=B", KeyKind::P256, false);
        assert!(matches!(
            sign_cades_detached(&a.key, &b.cert, &[], &[0; 32]),
            Err(PkiError::Key(_))
        ));
    }

    #[test]
    fn openssl_made_signed_data_parses_and_verifies() {
        let pki = TestPki::new("cms-openssl");
        let data = b"content signed by OpenSSL\n".repeat(10);
        std::fs::write(pki.dir.join("data.bin"), &data).unwrap();
        for kind in [KeyKind::P256, KeyKind::Rsa] {
            let s = pki.issue(&format!("o{kind:?}"), "/CN=OpenSSL Signer", kind, false);
            let (cert, key) = (s.pem_path.to_str().unwrap(), s.key_path.to_str().unwrap());
            for (mode, extra) in [("nodetach", "-nodetach"), ("detached", "-binary"), ("cades", "-cades"), ("stream", "-stream")] {
                let out = format!("{kind:?}-{mode}.der");
                openssl(&pki.dir, &[
                    "cms", "-sign", "-binary", extra, "-in", "data.bin", "-signer", cert,
                    "-inkey", key, "-md", "sha256", "-outform", "DER", "-out", &out,
                ]);
                let der = std::fs::read(pki.dir.join(&out)).unwrap();
                let p = parse_signed_data(&der).unwrap();
                p.verify_signature().unwrap();
                assert_eq!(p.signer_cert.as_ref(), Some(&s.cert));
                assert!(p.signing_time.is_some(), "OpenSSL adds signing-time");
                if mode == "stream" {
                    assert_eq!(der.get(1), Some(&0x80), "BER indefinite length expected");
                }
                if mode == "nodetach" || mode == "stream" {
                    assert_eq!(p.econtent.as_deref(), Some(&data[..]));
                    p.check_message_digest(&p.econtent_digest().unwrap().unwrap()).unwrap();
                } else {
                    assert_eq!(p.econtent, None);
                    p.check_message_digest(&sha256(&data)).unwrap();
                }
                if mode == "cades" {
                    p.check_signing_certificate().unwrap();
                } else {
                    assert!(p.check_signing_certificate().is_err(), "no ESS attribute without -cades");
                }
            }
        }
        // Without signed attributes the signature covers the content itself.
        let s = pki.issue("noattr", "/CN=No Attr", KeyKind::Rsa, false);
        let out = openssl_raw(&pki.dir, &[
            "cms", "-sign", "-binary", "-nodetach", "-noattr", "-in", "data.bin", "-signer",
            s.pem_path.to_str().unwrap(), "-inkey", s.key_path.to_str().unwrap(), "-md", "sha256",
            "-outform", "DER", "-out", "noattr.der",
        ]);
        assert!(out.status.success());
        let p = parse_signed_data(&std::fs::read(pki.dir.join("noattr.der")).unwrap()).unwrap();
        assert!(p.signed_attrs_der.is_none());
        p.verify_signature().unwrap();
    }
}
