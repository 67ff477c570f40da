//! OCSP (RFC 6960): requests, an in-process responder for Signet's CA, and reading and checking
//! responses from any responder.
//!
//! The ASN.1 structures live in [`asn1`], written with `der` derives (the `x509-ocsp` crate is
//! on the older `der` generation). [`OcspResponder::respond`] is total: a malformed request gets
//! a `malformedRequest` response, never an error or a panic, so the HTTP edge can return its
//! bytes as they are.
//!
//! What it does not do: HTTP (the `signet` binary serves and fetches), keep revocation state
//! (the caller's `status` function answers), sign requests, or judge freshness (the verifier
//! compares `this_update`/`next_update` with its validation time).

use std::time::{Duration, SystemTime};

use der::asn1::{GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;

use crate::alg::{Signer, digest_by_oid, verify_signature};
use crate::cert::{self, Certificate, key_identifier};
use crate::{PkiError, oid};

pub use asn1::EnumeratedU8;

/// RFC 6960 ASN.1 structures (module `OCSP-2013-08`, EXPLICIT TAGS).
pub mod asn1 {
    use der::asn1::{Any, BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
    use der::{
        Choice, DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer,
    };
    use spki::AlgorithmIdentifierOwned;
    use x509_cert::Certificate;
    use x509_cert::ext::Extensions;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::name::Name;

    /// An ENUMERATED kept as a number, so values we do not know survive (`OCSPResponseStatus`,
    /// `CRLReason`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct EnumeratedU8(pub u8);

    impl FixedTag for EnumeratedU8 {
        const TAG: Tag = Tag::Enumerated;
    }
    impl EncodeValue for EnumeratedU8 {
        fn value_len(&self) -> der::Result<Length> {
            self.0.value_len()
        }
        fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
            self.0.encode_value(writer)
        }
    }
    impl<'a> DecodeValue<'a> for EnumeratedU8 {
        type Error = der::Error;
        fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
            u8::decode_value(reader, header).map(EnumeratedU8)
        }
    }

    /// `OCSPRequest ::= SEQUENCE { tbsRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct OcspRequest {
        pub tbs_request: TbsRequest,
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub optional_signature: Option<Signature>,
    }

    /// `TBSRequest`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct TbsRequest {
        #[asn1(
            context_specific = "0",
            tag_mode = "EXPLICIT",
            default = "Default::default"
        )]
        pub version: u8,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        pub requestor_name: Option<GeneralName>,
        pub request_list: Vec<Request>,
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
        pub request_extensions: Option<Extensions>,
    }

    /// `Signature` (of a signed request).
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct Signature {
        pub signature_algorithm: AlgorithmIdentifierOwned,
        pub signature: BitString,
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub certs: Option<Vec<Certificate>>,
    }

    /// `Request`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct Request {
        pub req_cert: CertId,
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub single_request_extensions: Option<Extensions>,
    }

    /// `CertID` (the serial is an `Int` so that odd serials from other CAs still parse).
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct CertId {
        pub hash_algorithm: AlgorithmIdentifierOwned,
        pub issuer_name_hash: OctetString,
        pub issuer_key_hash: OctetString,
        pub serial_number: Int,
    }

    /// `OCSPResponse`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct OcspResponse {
        pub response_status: EnumeratedU8,
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub response_bytes: Option<ResponseBytes>,
    }

    /// `ResponseBytes`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct ResponseBytes {
        pub response_type: ObjectIdentifier,
        pub response: OctetString,
    }

    /// `BasicOCSPResponse`, with `tbsResponseData` kept as the exact signed bytes (decode them
    /// with [`ResponseData`]).
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct BasicOcspResponse {
        pub tbs_response_data: Any,
        pub signature_algorithm: AlgorithmIdentifierOwned,
        pub signature: BitString,
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub certs: Option<Vec<Certificate>>,
    }

    /// `ResponseData`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct ResponseData {
        #[asn1(
            context_specific = "0",
            tag_mode = "EXPLICIT",
            default = "Default::default"
        )]
        pub version: u8,
        pub responder_id: ResponderId,
        pub produced_at: GeneralizedTime,
        pub responses: Vec<SingleResponse>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        pub response_extensions: Option<Extensions>,
    }

    /// `ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }`
    #[derive(Clone, Debug, Eq, PartialEq, Choice)]
    pub enum ResponderId {
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
        ByName(Name),
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
        ByKey(OctetString),
    }

    /// `SingleResponse`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct SingleResponse {
        pub cert_id: CertId,
        pub cert_status: CertStatus,
        pub this_update: GeneralizedTime,
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub next_update: Option<GeneralizedTime>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        pub single_extensions: Option<Extensions>,
    }

    /// `CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo,
    /// unknown [2] IMPLICIT UnknownInfo }`
    #[derive(Clone, Debug, Eq, PartialEq, Choice)]
    pub enum CertStatus {
        #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
        Good(Null),
        #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
        Revoked(RevokedInfo),
        #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
        Unknown(Null),
    }

    /// `RevokedInfo`
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct RevokedInfo {
        pub revocation_time: GeneralizedTime,
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub revocation_reason: Option<EnumeratedU8>,
    }
}

/// `OCSPResponseStatus` values.
pub mod status {
    pub const SUCCESSFUL: u8 = 0;
    pub const MALFORMED_REQUEST: u8 = 1;
    pub const INTERNAL_ERROR: u8 = 2;
    pub const TRY_LATER: u8 = 3;
    pub const SIG_REQUIRED: u8 = 5;
    pub const UNAUTHORIZED: u8 = 6;

    /// The RFC name of a status, for messages.
    pub fn name(s: u8) -> &'static str {
        match s {
            SUCCESSFUL => "successful",
            MALFORMED_REQUEST => "malformedRequest",
            INTERNAL_ERROR => "internalError",
            TRY_LATER => "tryLater",
            SIG_REQUIRED => "sigRequired",
            UNAUTHORIZED => "unauthorized",
            _ => "unknown status",
        }
    }
}

/// Most requests a responder answers in one go; more is a malformed request.
pub const MAX_REQUESTS: usize = 64;

/// Which certificate a request or response is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertId {
    /// Hash used for the two issuer hashes (`oid::ID_SHA1` or `oid::ID_SHA256`, …).
    pub hash_algorithm: ObjectIdentifier,
    pub issuer_name_hash: Vec<u8>,
    pub issuer_key_hash: Vec<u8>,
    /// Serial number, positive big-endian without leading zero bytes.
    pub serial: Vec<u8>,
}

impl CertId {
    fn from_asn1(id: &asn1::CertId) -> Self {
        CertId {
            hash_algorithm: id.hash_algorithm.oid,
            issuer_name_hash: id.issuer_name_hash.as_bytes().to_vec(),
            issuer_key_hash: id.issuer_key_hash.as_bytes().to_vec(),
            serial: strip_zeros(id.serial_number.as_bytes()),
        }
    }

    fn to_asn1(&self) -> Result<asn1::CertId, PkiError> {
        let mut serial = strip_zeros(&self.serial);
        if serial.first().is_some_and(|b| b & 0x80 != 0) {
            serial.insert(0, 0);
        }
        Ok(asn1::CertId {
            // NULL parameters, as OpenSSL and most responders write them.
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: self.hash_algorithm,
                parameters: Some(der::asn1::Any::null()),
            },
            issuer_name_hash: OctetString::new(self.issuer_name_hash.clone())?,
            issuer_key_hash: OctetString::new(self.issuer_key_hash.clone())?,
            serial_number: Int::new(&serial)?,
        })
    }

    /// True when this id names a certificate issued by `issuer` (whatever the serial).
    pub fn matches_issuer(&self, issuer: &Certificate) -> bool {
        issuer_hashes(issuer, self.hash_algorithm)
            .is_ok_and(|(n, k)| n == self.issuer_name_hash && k == self.issuer_key_hash)
    }

    /// True when this id names `cert` issued by `issuer`.
    pub fn matches(&self, cert: &Certificate, issuer: &Certificate) -> bool {
        self.serial == cert::serial_bytes(cert) && self.matches_issuer(issuer)
    }
}

/// (hash of the issuer's subject DER, hash of its public key bits).
fn issuer_hashes(
    issuer: &Certificate,
    hash: ObjectIdentifier,
) -> Result<(Vec<u8>, Vec<u8>), PkiError> {
    let name = issuer.tbs_certificate().subject().to_der()?;
    let key = issuer
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    Ok((digest_by_oid(&hash, &name)?, digest_by_oid(&hash, key)?))
}

/// The CertID of `cert` issued by `issuer`, hashed with `hash` (`oid::ID_SHA1`, the one every
/// responder understands, or `oid::ID_SHA256`).
pub fn cert_id(
    cert: &Certificate,
    issuer: &Certificate,
    hash: ObjectIdentifier,
) -> Result<CertId, PkiError> {
    if !cert::names_match(
        cert.tbs_certificate().issuer(),
        issuer.tbs_certificate().subject(),
    ) {
        return Err(PkiError::Ocsp(format!(
            "{} is not the issuer of {}",
            cert::subject_string(issuer),
            cert::subject_string(cert)
        )));
    }
    let (issuer_name_hash, issuer_key_hash) = issuer_hashes(issuer, hash)?;
    Ok(CertId {
        hash_algorithm: hash,
        issuer_name_hash,
        issuer_key_hash,
        serial: cert::serial_bytes(cert),
    })
}

/// An unsigned OCSP request for `ids`, with a nonce extension (RFC 8954: 1 to 32 bytes) when
/// given. Returns DER.
pub fn build_request(ids: &[CertId], nonce: Option<&[u8]>) -> Result<Vec<u8>, PkiError> {
    if ids.is_empty() {
        return Err(PkiError::Ocsp(
            "an OCSP request needs at least one certificate".into(),
        ));
    }
    let request_list = ids
        .iter()
        .map(|id| {
            Ok(asn1::Request {
                req_cert: id.to_asn1()?,
                single_request_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let request_extensions = match nonce {
        None => None,
        Some(n) if n.is_empty() || n.len() > 32 => {
            return Err(PkiError::Ocsp(
                "an OCSP nonce must be 1 to 32 bytes (RFC 8954)".into(),
            ));
        }
        Some(n) => Some(vec![cert::extension(
            oid::ID_PKIX_OCSP_NONCE,
            false,
            &OctetString::new(n.to_vec())?,
        )?]),
    };
    let req = asn1::OcspRequest {
        tbs_request: asn1::TbsRequest {
            version: 0,
            requestor_name: None,
            request_list,
            request_extensions,
        },
        optional_signature: None,
    };
    Ok(req.to_der()?)
}

/// A request as read by [`parse_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    pub ids: Vec<CertId>,
    /// The nonce value (the OCTET STRING inside the extension; older clients that put the raw
    /// bytes in the extension value get those).
    pub nonce: Option<Vec<u8>>,
}

/// Parses a DER OCSP request (a signature on it, if any, is ignored).
pub fn parse_request(der: &[u8]) -> Result<ParsedRequest, PkiError> {
    let req =
        asn1::OcspRequest::from_der(der).map_err(|e| PkiError::malformed("OCSP request", e))?;
    let tbs = &req.tbs_request;
    let nonce = nonce_extension(tbs.request_extensions.as_deref()).map(nonce_value);
    Ok(ParsedRequest {
        ids: tbs
            .request_list
            .iter()
            .map(|r| CertId::from_asn1(&r.req_cert))
            .collect(),
        nonce,
    })
}

fn nonce_extension(exts: Option<&[Extension]>) -> Option<&Extension> {
    exts?.iter().find(|e| e.extn_id == oid::ID_PKIX_OCSP_NONCE)
}

fn nonce_value(e: &Extension) -> Vec<u8> {
    let raw = e.extn_value.as_bytes();
    OctetString::from_der(raw)
        .map(|o| o.as_bytes().to_vec())
        .unwrap_or_else(|_| raw.to_vec())
}

/// A certificate's revocation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    /// Revoked at `time`; `reason` is an RFC 5280 CRLReason code.
    Revoked {
        time: SystemTime,
        reason: Option<u8>,
    },
    Unknown,
}

/// Signet's OCSP responder for one CA.
pub struct OcspResponder<'a> {
    /// The CA whose certificates it answers for.
    pub ca: &'a Certificate,
    /// The certificate that signs responses: the CA itself, or a delegated responder issued by
    /// it (EKU OCSPSigning, id-pkix-ocsp-nocheck).
    pub responder_cert: &'a Certificate,
    /// The key of `responder_cert`.
    pub key: &'a dyn Signer,
    /// Certificates to include in responses. A delegated `responder_cert` is added in front
    /// when missing, so clients can always find the signer.
    pub chain: Vec<Certificate>,
}

impl std::fmt::Debug for OcspResponder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspResponder")
            .field("ca", &cert::subject_string(self.ca))
            .field("responder", &cert::subject_string(self.responder_cert))
            .finish_non_exhaustive()
    }
}

const MALFORMED_REQUEST: [u8; 5] = [0x30, 0x03, 0x0a, 0x01, status::MALFORMED_REQUEST];
const INTERNAL_ERROR: [u8; 5] = [0x30, 0x03, 0x0a, 0x01, status::INTERNAL_ERROR];

enum RespondError {
    Malformed,
    Internal,
}

impl OcspResponder<'_> {
    /// Checks the configuration: the key matches `responder_cert`, and `responder_cert` is the
    /// CA or a certificate the CA issued with EKU OCSPSigning. Call it once at start-up.
    pub fn check(&self) -> Result<(), PkiError> {
        if self.key.public_key_der() != cert::spki_der(self.responder_cert).as_slice() {
            return Err(PkiError::Ocsp(
                "the responder key does not match its certificate".into(),
            ));
        }
        if self.responder_cert == self.ca {
            return Ok(());
        }
        cert::verify_issued_by(self.responder_cert, self.ca)?;
        if !cert::extended_key_usages(self.responder_cert).contains(&oid::ID_KP_OCSP_SIGNING) {
            return Err(PkiError::Ocsp(format!(
                "{} lacks the OCSPSigning extended key usage",
                cert::subject_string(self.responder_cert)
            )));
        }
        Ok(())
    }

    /// Answers a DER request. For each CertID whose issuer hashes (SHA-1, SHA-256, SHA-384 or
    /// SHA-512) match `ca`, `status(serial)` decides; other issuers get `unknown`. The nonce
    /// extension is echoed. A malformed request gets a `malformedRequest` response; a signing
    /// failure an `internalError` response. `thisUpdate` is `produced_at`, `nextUpdate` is
    /// `produced_at + validity` (omitted when `validity` is zero).
    pub fn respond(
        &self,
        request_der: &[u8],
        status: &dyn Fn(&[u8]) -> CertStatus,
        produced_at: SystemTime,
        validity: Duration,
    ) -> Vec<u8> {
        match self.try_respond(request_der, status, produced_at, validity) {
            Ok(der) => der,
            Err(RespondError::Malformed) => MALFORMED_REQUEST.to_vec(),
            Err(RespondError::Internal) => INTERNAL_ERROR.to_vec(),
        }
    }

    fn try_respond(
        &self,
        request_der: &[u8],
        status: &dyn Fn(&[u8]) -> CertStatus,
        produced_at: SystemTime,
        validity: Duration,
    ) -> Result<Vec<u8>, RespondError> {
        let req = asn1::OcspRequest::from_der(request_der).map_err(|_| RespondError::Malformed)?;
        let tbs = req.tbs_request;
        if tbs.request_list.is_empty() || tbs.request_list.len() > MAX_REQUESTS {
            return Err(RespondError::Malformed);
        }
        let mut singles = Vec::with_capacity(tbs.request_list.len());
        for r in tbs.request_list {
            let id = CertId::from_asn1(&r.req_cert);
            let st = if id.matches_issuer(self.ca) {
                status(&id.serial)
            } else {
                CertStatus::Unknown
            };
            singles.push(
                single_response(r.req_cert, st, produced_at, validity)
                    .map_err(|_| RespondError::Internal)?,
            );
        }
        let nonce = nonce_extension(tbs.request_extensions.as_deref()).cloned();
        self.sign_response(singles, nonce, produced_at)
            .map_err(|_| RespondError::Internal)
    }

    /// A signed response about one certificate without a request (to embed as validation data).
    pub fn respond_for(
        &self,
        id: &CertId,
        status: CertStatus,
        produced_at: SystemTime,
        validity: Duration,
    ) -> Result<Vec<u8>, PkiError> {
        let single = single_response(id.to_asn1()?, status, produced_at, validity)?;
        self.sign_response(vec![single], None, produced_at)
    }

    fn sign_response(
        &self,
        responses: Vec<asn1::SingleResponse>,
        nonce: Option<Extension>,
        produced_at: SystemTime,
    ) -> Result<Vec<u8>, PkiError> {
        let key_hash = key_identifier(
            self.responder_cert
                .tbs_certificate()
                .subject_public_key_info(),
        )?;
        let data = asn1::ResponseData {
            version: 0,
            responder_id: asn1::ResponderId::ByKey(OctetString::new(key_hash)?),
            produced_at: generalized(produced_at)?,
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        let tbs_der = data.to_der()?;
        let signature = self.key.sign(&tbs_der)?;
        let mut certs = self.chain.clone();
        if self.responder_cert != self.ca && !certs.contains(self.responder_cert) {
            certs.insert(0, self.responder_cert.clone());
        }
        let basic = asn1::BasicOcspResponse {
            tbs_response_data: der::asn1::Any::from_der(&tbs_der)?,
            signature_algorithm: self.key.scheme().algorithm_identifier(),
            signature: der::asn1::BitString::from_bytes(&signature)?,
            certs: if certs.is_empty() { None } else { Some(certs) },
        };
        let resp = asn1::OcspResponse {
            response_status: EnumeratedU8(status::SUCCESSFUL),
            response_bytes: Some(asn1::ResponseBytes {
                response_type: oid::ID_PKIX_OCSP_BASIC,
                response: OctetString::new(basic.to_der()?)?,
            }),
        };
        Ok(resp.to_der()?)
    }
}

fn generalized(t: SystemTime) -> Result<GeneralizedTime, PkiError> {
    GeneralizedTime::from_system_time(t)
        .map_err(|e| PkiError::Ocsp(format!("time out of range: {e}")))
}

fn single_response(
    cert_id: asn1::CertId,
    st: CertStatus,
    produced_at: SystemTime,
    validity: Duration,
) -> Result<asn1::SingleResponse, PkiError> {
    let cert_status = match st {
        CertStatus::Good => asn1::CertStatus::Good(Null),
        CertStatus::Unknown => asn1::CertStatus::Unknown(Null),
        CertStatus::Revoked { time, reason } => asn1::CertStatus::Revoked(asn1::RevokedInfo {
            revocation_time: generalized(time)?,
            revocation_reason: reason.map(EnumeratedU8),
        }),
    };
    let next_update = if validity.is_zero() {
        None
    } else {
        let next = produced_at
            .checked_add(validity)
            .ok_or_else(|| PkiError::Ocsp("validity period out of range".into()))?;
        Some(generalized(next)?)
    };
    Ok(asn1::SingleResponse {
        cert_id,
        cert_status,
        this_update: generalized(produced_at)?,
        next_update,
        single_extensions: None,
    })
}

/// One certificate's status in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleStatus {
    pub id: CertId,
    pub status: CertStatus,
    pub this_update: SystemTime,
    pub next_update: Option<SystemTime>,
}

/// How the responder named itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponderIdentity {
    /// Formatted name (as in [`cert::subject_string`]) and its DER.
    ByName { name: String, der: Vec<u8> },
    /// SHA-1 of the responder's public key bits.
    ByKey(Vec<u8>),
}

/// A response as read by [`parse_response`]. For a status other than successful (0) only
/// `status` is meaningful: the lists and byte fields are empty and `signature_algorithm` is a
/// placeholder (OID 0.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    /// `OCSPResponseStatus` (see [`status`]).
    pub status: u8,
    pub produced_at: Option<SystemTime>,
    pub single: Vec<SingleStatus>,
    pub certs: Vec<Certificate>,
    pub responder_id: Option<ResponderIdentity>,
    pub nonce: Option<Vec<u8>>,
    /// The signed `ResponseData` bytes.
    pub tbs_der: Vec<u8>,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: Vec<u8>,
}

impl ParsedResponse {
    /// The status entry about `cert` issued by `issuer`, if the response has one.
    pub fn find(&self, cert: &Certificate, issuer: &Certificate) -> Option<&SingleStatus> {
        self.single.iter().find(|s| s.id.matches(cert, issuer))
    }
}

const PLACEHOLDER_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.0");

/// Parses a DER OCSP response without checking its signature (see [`verify_response`]).
pub fn parse_response(der: &[u8]) -> Result<ParsedResponse, PkiError> {
    let bad = |e: der::Error| PkiError::malformed("OCSP response", e);
    let resp = asn1::OcspResponse::from_der(der).map_err(bad)?;
    let st = resp.response_status.0;
    let Some(bytes) = resp.response_bytes else {
        if st == status::SUCCESSFUL {
            return Err(PkiError::malformed(
                "OCSP response",
                "successful but without a response",
            ));
        }
        return Ok(ParsedResponse {
            status: st,
            produced_at: None,
            single: Vec::new(),
            certs: Vec::new(),
            responder_id: None,
            nonce: None,
            tbs_der: Vec::new(),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: PLACEHOLDER_OID,
                parameters: None,
            },
            signature: Vec::new(),
        });
    };
    if bytes.response_type != oid::ID_PKIX_OCSP_BASIC {
        return Err(PkiError::Ocsp(format!(
            "unsupported response type {} (only id-pkix-ocsp-basic is understood)",
            bytes.response_type
        )));
    }
    let basic = asn1::BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(bad)?;
    let tbs_der = basic.tbs_response_data.to_der().map_err(bad)?;
    let data = asn1::ResponseData::from_der(&tbs_der).map_err(bad)?;
    let single = data
        .responses
        .iter()
        .map(|s| SingleStatus {
            id: CertId::from_asn1(&s.cert_id),
            status: match &s.cert_status {
                asn1::CertStatus::Good(_) => CertStatus::Good,
                asn1::CertStatus::Unknown(_) => CertStatus::Unknown,
                asn1::CertStatus::Revoked(info) => CertStatus::Revoked {
                    time: info.revocation_time.to_system_time(),
                    reason: info.revocation_reason.map(|r| r.0),
                },
            },
            this_update: s.this_update.to_system_time(),
            next_update: s.next_update.map(|t| t.to_system_time()),
        })
        .collect();
    let responder_id = Some(match &data.responder_id {
        asn1::ResponderId::ByName(n) => ResponderIdentity::ByName {
            name: cert::name_string(n),
            der: n.to_der().map_err(bad)?,
        },
        asn1::ResponderId::ByKey(k) => ResponderIdentity::ByKey(k.as_bytes().to_vec()),
    });
    Ok(ParsedResponse {
        status: st,
        produced_at: Some(data.produced_at.to_system_time()),
        single,
        certs: basic.certs.unwrap_or_default(),
        responder_id,
        nonce: nonce_extension(data.response_extensions.as_deref()).map(nonce_value),
        tbs_der,
        signature_algorithm: basic.signature_algorithm,
        signature: basic
            .signature
            .as_bytes()
            .ok_or_else(|| PkiError::malformed("OCSP response", "signature has unused bits"))?
            .to_vec(),
    })
}

/// Checks the response signature: made by `issuer` itself, or by a certificate from the
/// response (or `extra`) that `issuer` issued, that carries EKU OCSPSigning and that was valid
/// at `producedAt` (RFC 6960 §4.2.2.2). Status, freshness and nonce are the caller's business.
pub fn verify_response(
    resp: &ParsedResponse,
    issuer: &Certificate,
    extra: &[Certificate],
) -> Result<(), PkiError> {
    if resp.status != status::SUCCESSFUL {
        return Err(PkiError::Ocsp(format!(
            "the responder answered {} ({})",
            status::name(resp.status),
            resp.status
        )));
    }
    let check = |signer: &Certificate| {
        verify_signature(
            &cert::spki_der(signer),
            &resp.signature_algorithm,
            None,
            &resp.tbs_der,
            &resp.signature,
        )
    };
    if check(issuer).is_ok() {
        return Ok(());
    }
    let mut reasons = Vec::new();
    for cand in resp.certs.iter().chain(extra) {
        if cand == issuer || check(cand).is_err() {
            continue;
        }
        let subject = cert::subject_string(cand);
        if let Err(e) = cert::verify_issued_by(cand, issuer) {
            reasons.push(format!("{subject}: {e}"));
            continue;
        }
        if !cert::extended_key_usages(cand).contains(&oid::ID_KP_OCSP_SIGNING) {
            reasons.push(format!(
                "{subject} lacks the OCSPSigning extended key usage"
            ));
            continue;
        }
        if let Some(at) = resp.produced_at {
            let (nb, na) = cert::validity(cand);
            if at < nb || at > na {
                reasons.push(format!(
                    "{subject} was not valid when the response was produced"
                ));
                continue;
            }
        }
        return Ok(());
    }
    Err(PkiError::BadSignature(if reasons.is_empty() {
        format!(
            "OCSP response not signed by {} or by a responder it authorized",
            cert::subject_string(issuer)
        )
    } else {
        format!(
            "OCSP response signer not authorized: {}",
            reasons.join("; ")
        )
    }))
}

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    let start = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    b.get(start..).unwrap_or(b).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;
    use crate::cert::tests::{DAY, TestPki, openssl, t0, tempdir, test_pki};
    use crate::pem::cert_to_pem;

    fn at() -> SystemTime {
        t0() + DAY * 10
    }

    /// The responses are dated in January 2026; OpenSSL judges their freshness against the real
    /// clock (`-attime` covers only the certificates), so allow a century of leeway.
    const VALIDITY_LEEWAY: &str = "3153600000";

    fn attime() -> String {
        at().duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string()
    }

    fn revoked_leaf(pki: &TestPki) -> impl Fn(&[u8]) -> CertStatus + '_ {
        move |serial: &[u8]| {
            if serial == cert::serial_bytes(&pki.leaf).as_slice() {
                CertStatus::Revoked {
                    time: t0() + DAY * 2,
                    reason: Some(1),
                }
            } else {
                CertStatus::Good
            }
        }
    }

    fn write_pki(pki: &TestPki, dir: &std::path::Path) {
        std::fs::write(dir.join("root.pem"), cert_to_pem(&pki.root)).unwrap();
        std::fs::write(dir.join("issuing.pem"), cert_to_pem(&pki.ca)).unwrap();
        std::fs::write(dir.join("leaf.pem"), cert_to_pem(&pki.leaf)).unwrap();
        std::fs::write(dir.join("tsa.pem"), cert_to_pem(&pki.tsa)).unwrap();
    }

    #[test]
    fn request_round_trip_and_openssl_reads_it() {
        let pki = test_pki(KeyAlgorithm::P256);
        let ids = vec![
            cert_id(&pki.leaf, &pki.ca, oid::ID_SHA1).unwrap(),
            cert_id(&pki.tsa, &pki.ca, oid::ID_SHA256).unwrap(),
        ];
        assert!(ids[0].matches(&pki.leaf, &pki.ca));
        assert!(!ids[0].matches(&pki.tsa, &pki.ca));
        assert!(!ids[1].matches_issuer(&pki.root));
        assert!(cert_id(&pki.leaf, &pki.root, oid::ID_SHA1).is_err());
        let der = build_request(&ids, Some(b"0123456789abcdef")).unwrap();
        let parsed = parse_request(&der).unwrap();
        assert_eq!(parsed.ids, ids);
        assert_eq!(parsed.nonce.as_deref(), Some(&b"0123456789abcdef"[..]));
        assert!(build_request(&[], None).is_err());
        assert!(build_request(&ids, Some(b"")).is_err());

        let dir = tempdir("ocsp-req");
        std::fs::write(dir.join("req.der"), &der).unwrap();
        let (ok, text) = openssl(&dir, &["ocsp", "-reqin", "req.der", "-req_text"]);
        assert!(ok, "{text}");
        assert!(text.contains(&cert::serial_hex(&pki.leaf)), "{text}");
        assert!(text.contains(&cert::serial_hex(&pki.tsa)), "{text}");
        assert!(text.contains("sha1") && text.contains("sha256"), "{text}");
        assert!(text.contains("OCSP Nonce"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn responder_answers_an_openssl_request_and_openssl_verifies() {
        for (alg, delegated) in [(KeyAlgorithm::P256, false), (KeyAlgorithm::Rsa2048, true)] {
            let pki = test_pki(alg);
            let responder = if delegated {
                OcspResponder {
                    ca: &pki.ca,
                    responder_cert: &pki.ocsp,
                    key: &pki.ocsp_key,
                    chain: vec![pki.ca.clone()],
                }
            } else {
                OcspResponder {
                    ca: &pki.ca,
                    responder_cert: &pki.ca,
                    key: &pki.ca_key,
                    chain: vec![],
                }
            };
            responder.check().unwrap();
            let dir = tempdir("ocsp");
            write_pki(&pki, &dir);
            for (who, expect) in [("leaf", "revoked"), ("tsa", "good")] {
                let req = format!("{who}.req");
                let resp = format!("{who}.resp");
                let (ok, text) = openssl(
                    &dir,
                    &[
                        "ocsp",
                        "-issuer",
                        "issuing.pem",
                        "-cert",
                        &format!("{who}.pem"),
                        "-reqout",
                        &req,
                    ],
                );
                assert!(ok, "{text}");
                let req_der = std::fs::read(dir.join(&req)).unwrap();
                let parsed_req = parse_request(&req_der).unwrap();
                assert_eq!(parsed_req.ids[0].hash_algorithm, oid::ID_SHA1);
                assert!(parsed_req.nonce.is_some());
                let resp_der = responder.respond(
                    &req_der,
                    &revoked_leaf(&pki),
                    at(),
                    Duration::from_secs(86_400),
                );
                std::fs::write(dir.join(&resp), &resp_der).unwrap();

                let parsed = parse_response(&resp_der).unwrap();
                assert_eq!(parsed.status, status::SUCCESSFUL);
                assert_eq!(parsed.nonce, parsed_req.nonce);
                assert_eq!(parsed.produced_at, Some(at()));
                verify_response(&parsed, &pki.ca, &[]).unwrap();
                let target = if who == "leaf" { &pki.leaf } else { &pki.tsa };
                let s = parsed.find(target, &pki.ca).unwrap();
                assert_eq!(s.this_update, at());
                assert_eq!(s.next_update, Some(at() + DAY));
                match (who, s.status) {
                    ("leaf", CertStatus::Revoked { time, reason }) => {
                        assert_eq!((time, reason), (t0() + DAY * 2, Some(1)));
                    }
                    ("tsa", CertStatus::Good) => {}
                    other => panic!("unexpected {other:?}"),
                }

                let (ok, text) = openssl(
                    &dir,
                    &[
                        "ocsp",
                        "-respin",
                        &resp,
                        "-resp_text",
                        "-CAfile",
                        "root.pem",
                        "-issuer",
                        "issuing.pem",
                        "-cert",
                        &format!("{who}.pem"),
                        "-attime",
                        &attime(),
                        "-no_nonce",
                        "-validity_period",
                        VALIDITY_LEEWAY,
                    ],
                );
                assert!(ok, "{text}");
                assert!(text.contains("Response verify OK"), "{text}");
                assert!(text.contains(&format!("{who}.pem: {expect}")), "{text}");
                assert!(text.contains(&format!("Cert Status: {expect}")), "{text}");
                if who == "leaf" {
                    assert!(text.contains("keyCompromise"), "{text}");
                }
                // Against the original request: OpenSSL checks that the nonce was echoed.
                let (ok, text) = openssl(
                    &dir,
                    &[
                        "ocsp",
                        "-respin",
                        &resp,
                        "-reqin",
                        &req,
                        "-CAfile",
                        "root.pem",
                        "-issuer",
                        "issuing.pem",
                        "-attime",
                        &attime(),
                        "-validity_period",
                        VALIDITY_LEEWAY,
                    ],
                );
                assert!(ok && text.contains("Response verify OK"), "{text}");
                assert!(!text.contains("Nonce Verify error"), "{text}");
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn other_issuers_get_unknown_and_sha256_ids_work() {
        let pki = test_pki(KeyAlgorithm::P256);
        let other = test_pki(KeyAlgorithm::P256);
        let responder = OcspResponder {
            ca: &pki.ca,
            responder_cert: &pki.ca,
            key: &pki.ca_key,
            chain: vec![],
        };
        let ids = vec![
            cert_id(&pki.leaf, &pki.ca, oid::ID_SHA256).unwrap(),
            cert_id(&other.leaf, &other.ca, oid::ID_SHA1).unwrap(),
        ];
        let req = build_request(&ids, None).unwrap();
        let der = responder.respond(&req, &|_| CertStatus::Good, at(), Duration::ZERO);
        let parsed = parse_response(&der).unwrap();
        verify_response(&parsed, &pki.ca, &[]).unwrap();
        assert_eq!(parsed.nonce, None);
        assert_eq!(parsed.single.len(), 2);
        assert_eq!(parsed.single[0].id, ids[0]);
        assert_eq!(parsed.single[0].status, CertStatus::Good);
        assert_eq!(parsed.single[0].next_update, None);
        assert_eq!(parsed.single[1].status, CertStatus::Unknown);
        assert!(parsed.certs.is_empty());
        assert_eq!(
            parsed.responder_id,
            Some(ResponderIdentity::ByKey(
                key_identifier(pki.ca.tbs_certificate().subject_public_key_info()).unwrap()
            ))
        );
        // Not signed by another CA of the same name.
        assert!(verify_response(&parsed, &other.ca, &[]).is_err());
    }

    #[test]
    fn respond_for_and_signer_authorization() {
        let pki = test_pki(KeyAlgorithm::P256);
        let id = cert_id(&pki.leaf, &pki.ca, oid::ID_SHA1).unwrap();
        // Delegated responder, chain left empty: the responder certificate is added.
        let delegated = OcspResponder {
            ca: &pki.ca,
            responder_cert: &pki.ocsp,
            key: &pki.ocsp_key,
            chain: vec![],
        };
        let der = delegated
            .respond_for(&id, CertStatus::Good, at(), DAY)
            .unwrap();
        let parsed = parse_response(&der).unwrap();
        assert_eq!(parsed.certs, vec![pki.ocsp.clone()]);
        verify_response(&parsed, &pki.ca, &[]).unwrap();
        // Without the certificate in the response it verifies only with `extra`.
        let mut stripped = parsed.clone();
        stripped.certs.clear();
        assert!(verify_response(&stripped, &pki.ca, &[]).is_err());
        verify_response(&stripped, &pki.ca, std::slice::from_ref(&pki.ocsp)).unwrap();
        // A certificate without OCSPSigning (here the signer's) cannot sign responses.
        let rogue = OcspResponder {
            ca: &pki.ca,
            responder_cert: &pki.leaf,
            key: &pki.leaf_key,
            chain: vec![],
        };
        assert!(rogue.check().is_err());
        let der = rogue.respond_for(&id, CertStatus::Good, at(), DAY).unwrap();
        let err = verify_response(&parse_response(&der).unwrap(), &pki.ca, &[]).unwrap_err();
        assert!(err.to_string().contains("OCSPSigning"), "{err}");
        // The responder certificate must be valid at producedAt.
        let late = delegated
            .respond_for(&id, CertStatus::Good, t0() + DAY * 400, DAY)
            .unwrap();
        assert!(verify_response(&parse_response(&late).unwrap(), &pki.ca, &[]).is_err());
        // Tampering with the signed data breaks the signature.
        let mut bad = der.clone();
        let pos = bad.windows(2).position(|w| w == [0x80, 0x00]).unwrap(); // [0] IMPLICIT NULL = good
        bad[pos] = 0x82; // → unknown
        let parsed = parse_response(&bad).unwrap();
        assert_eq!(parsed.single[0].status, CertStatus::Unknown);
        assert!(verify_response(&parsed, &pki.ca, std::slice::from_ref(&pki.leaf)).is_err());
        // Root-level status-only responses.
        let p = parse_response(&MALFORMED_REQUEST).unwrap();
        assert_eq!(p.status, status::MALFORMED_REQUEST);
        assert!(verify_response(&p, &pki.ca, &[]).is_err());
    }

    #[test]
    fn malformed_requests_get_malformed_request_and_garbage_never_panics() {
        let pki = test_pki(KeyAlgorithm::P256);
        let responder = OcspResponder {
            ca: &pki.ca,
            responder_cert: &pki.ca,
            key: &pki.ca_key,
            chain: vec![],
        };
        let good = build_request(
            &[cert_id(&pki.leaf, &pki.ca, oid::ID_SHA1).unwrap()],
            Some(b"n"),
        )
        .unwrap();
        let mut inputs: Vec<Vec<u8>> = vec![
            vec![],
            b"GET / HTTP/1.1".to_vec(),
            vec![0x30, 0x00],
            vec![0x30, 0x80, 0x00, 0x00],
            vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            // tbsRequest with an empty requestList.
            vec![0x30, 0x04, 0x30, 0x02, 0x30, 0x00],
        ];
        inputs.extend((0..good.len()).step_by(3).map(|n| good[..n].to_vec()));
        for (i, input) in inputs.iter().enumerate() {
            let out = responder.respond(input, &|_| CertStatus::Good, at(), DAY);
            assert_eq!(out, MALFORMED_REQUEST, "input {i}");
            assert!(parse_request(input).is_err() || i == 5, "input {i}");
        }
        // Byte flips anywhere: never a panic, always a response that parses.
        for i in 0..good.len() {
            let mut m = good.clone();
            m[i] ^= 0xff;
            let out = responder.respond(&m, &|_| CertStatus::Good, at(), DAY);
            let p = parse_response(&out).unwrap();
            assert!(p.status == status::SUCCESSFUL || p.status == status::MALFORMED_REQUEST);
            let _ = parse_request(&m);
        }
        // Garbage and truncated responses are errors.
        let resp = responder.respond(&good, &|_| CertStatus::Good, at(), DAY);
        for n in [0, 1, 4, resp.len() / 2, resp.len() - 1] {
            assert!(parse_response(&resp[..n]).is_err(), "truncated at {n}");
        }
        for i in 0..resp.len() {
            let mut m = resp.clone();
            m[i] ^= 0x55;
            if let Ok(p) = parse_response(&m) {
                let _ = verify_response(&p, &pki.ca, &[]);
            }
        }
        assert!(parse_response(b"\x30\x03\x0a\x01\x00").is_err());
    }
}
