//! RFC 3161 time-stamps (with RFC 5816 ESSCertIDv2): requests, Signet's built-in TSA, and
//! parsing and checking of responses and tokens from any TSA.
//!
//! The TSA here is the signing half only: it turns a request DER into a response DER for a
//! given time and serial number. Serving it over HTTP, reading the clock and allocating unique
//! serials belong to the caller (the `signet` binary). Fetching tokens from a remote TSA is
//! likewise the caller's; this module builds the request and checks the answer.
//!
//! What it does not do: decide whether a TSA certificate is trusted (path validation at the
//! token's genTime belongs to `chain`).

use std::time::{Duration, SystemTime};

use der::asn1::{BitString, ObjectIdentifier, OctetString, Uint};
use der::{Any, Decode, Encode, Sequence, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::ext::pkix::name::GeneralName;

use crate::alg::{Signer, sha256};
use crate::cms::{self, ParsedSignedData};
use crate::{PkiError, oid};

// ---------------------------------------------------------------------------------------------
// ASN.1 structures (RFC 3161 section 2.4)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TimeStampReqAsn1 {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Uint>,
    #[asn1(default = "default_false")]
    cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

fn default_false() -> bool {
    false
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TimeStampRespAsn1 {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u16>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TstInfoAsn1 {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Uint,
    /// A GeneralizedTime, kept raw because `der` does not accept fractional seconds.
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "default_false")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Uint>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// A time-stamp request. `nonce` is the unsigned big-endian magnitude of the INTEGER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    pub hash_algorithm: ObjectIdentifier,
    pub message_imprint: Vec<u8>,
    pub policy: Option<ObjectIdentifier>,
    pub nonce: Option<Vec<u8>>,
    pub cert_req: bool,
}

impl TimeStampRequest {
    /// An in-process request for a SHA-256 imprint: no policy, no nonce, certificate wanted
    /// (what PAdES signing asks of a TSA in the same process).
    pub fn sha256(imprint: &[u8; 32]) -> Self {
        TimeStampRequest {
            hash_algorithm: oid::ID_SHA256,
            message_imprint: imprint.to_vec(),
            policy: None,
            nonce: None,
            cert_req: true,
        }
    }
}

/// A `TimeStampReq` DER for a SHA-256 imprint. `nonce` is an unsigned big-endian number
/// (e.g. 8 random bytes); `cert_req` asks the TSA to include its certificate (PAdES wants it).
pub fn build_request(
    sha256_imprint: &[u8; 32],
    nonce: Option<&[u8]>,
    cert_req: bool,
) -> Result<Vec<u8>, PkiError> {
    let req = TimeStampReqAsn1 {
        version: 1,
        message_imprint: MessageImprint {
            // With NULL parameters, as OpenSSL and most TSAs send it.
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: oid::ID_SHA256,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(sha256_imprint.to_vec())?,
        },
        req_policy: None,
        nonce: nonce.map(Uint::new).transpose()?,
        cert_req,
        extensions: None,
    };
    Ok(req.to_der()?)
}

/// Parses a `TimeStampReq` DER.
pub fn parse_request(der: &[u8]) -> Result<TimeStampRequest, PkiError> {
    let req = TimeStampReqAsn1::from_der(der)
        .map_err(|e| PkiError::malformed("time-stamp request", e))?;
    if req.version != 1 {
        return Err(PkiError::malformed("time-stamp request", format!("version {}", req.version)));
    }
    if req.extensions.is_some() {
        return Err(PkiError::Timestamp("request extensions are not supported".into()));
    }
    Ok(TimeStampRequest {
        hash_algorithm: req.message_imprint.hash_algorithm.oid,
        message_imprint: req.message_imprint.hashed_message.into_bytes().into_vec(),
        policy: req.req_policy,
        nonce: req.nonce.map(|n| n.as_bytes().to_vec()),
        cert_req: req.cert_req,
    })
}

// ---------------------------------------------------------------------------------------------
// The TSA
// ---------------------------------------------------------------------------------------------

/// Signet's time-stamping authority: a certificate with EKU timeStamping (critical), its chain
/// and key. It never reads a clock: the time and the serial number come with each call.
pub struct Tsa<'a> {
    pub cert: &'a Certificate,
    pub chain: &'a [Certificate],
    pub key: &'a dyn Signer,
    /// The policy every token names (usually [`oid::SIGNET_TSA_POLICY`]). A request asking for
    /// another policy is rejected with `unacceptedPolicy`.
    pub policy: ObjectIdentifier,
    /// Accuracy of the time source, stated in every token (0: no accuracy field).
    pub accuracy_millis: u32,
}

/// PKIFailureInfo bits (RFC 3161 2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailInfo {
    BadAlg = 0,
    BadRequest = 2,
    BadDataFormat = 5,
    UnacceptedPolicy = 15,
    UnacceptedExtension = 16,
    SystemFailure = 25,
}

const FAIL_INFO_NAMES: &[(usize, &str)] = &[
    (0, "badAlg (unrecognized or unsupported hash algorithm)"),
    (2, "badRequest (transaction not permitted or supported)"),
    (5, "badDataFormat (the data submitted has the wrong format)"),
    (14, "timeNotAvailable (the TSA's time source is not available)"),
    (15, "unacceptedPolicy (the requested TSA policy is not supported)"),
    (16, "unacceptedExtension (the requested extension is not supported)"),
    (17, "addInfoNotAvailable"),
    (25, "systemFailure"),
];

struct Rejection {
    fail: FailInfo,
    text: String,
}

/// Expected digest length for the hash algorithms the TSA accepts (SHA-1 is refused).
fn imprint_len(alg: &ObjectIdentifier) -> Option<usize> {
    match *alg {
        o if o == oid::ID_SHA256 => Some(32),
        o if o == oid::ID_SHA384 => Some(48),
        o if o == oid::ID_SHA512 => Some(64),
        _ => None,
    }
}

impl Tsa<'_> {
    fn check(&self, req: &TimeStampRequest) -> Result<(), Rejection> {
        let Some(len) = imprint_len(&req.hash_algorithm) else {
            return Err(Rejection {
                fail: FailInfo::BadAlg,
                text: format!(
                    "hash algorithm {} is not accepted; use SHA-256, SHA-384 or SHA-512",
                    req.hash_algorithm
                ),
            });
        };
        if req.message_imprint.len() != len {
            return Err(Rejection {
                fail: FailInfo::BadDataFormat,
                text: format!(
                    "message imprint is {} bytes; {} expected for {}",
                    req.message_imprint.len(),
                    len,
                    req.hash_algorithm
                ),
            });
        }
        if let Some(p) = req.policy
            && p != self.policy {
                return Err(Rejection {
                    fail: FailInfo::UnacceptedPolicy,
                    text: format!("policy {p} is not offered; this TSA issues under {}", self.policy),
                });
            }
        Ok(())
    }

    /// A token (ContentInfo DER): SignedData v3 over a TSTInfo { v1, policy, messageImprint,
    /// serialNumber, genTime with millisecond fraction, accuracy, nonce echo, tsa name }, signed
    /// attributes content-type id-ct-TSTInfo, message-digest and signing-certificate-v2;
    /// certificates = TSA cert + chain when `cert_req`. `serial` is an unsigned big-endian
    /// number the caller guarantees unique for this TSA.
    pub fn issue_token(
        &self,
        req: &TimeStampRequest,
        time: SystemTime,
        serial: &[u8],
    ) -> Result<Vec<u8>, PkiError> {
        self.check(req).map_err(|r| PkiError::Timestamp(r.text))?;
        cms::check_key_matches_cert(self.key, self.cert)?;
        if serial.iter().all(|b| *b == 0) {
            return Err(PkiError::Timestamp("the serial number must be positive".into()));
        }
        let accuracy = (self.accuracy_millis > 0).then(|| {
            let (s, ms) = (self.accuracy_millis / 1000, self.accuracy_millis % 1000);
            Accuracy {
                seconds: (s > 0).then_some(s),
                millis: (ms > 0).then_some(ms as u16),
                micros: None,
            }
        });
        let tst = TstInfoAsn1 {
            version: 1,
            policy: self.policy,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: req.hash_algorithm,
                    parameters: Some(Any::null()),
                },
                hashed_message: OctetString::new(req.message_imprint.clone())?,
            },
            serial_number: Uint::new(serial)?,
            gen_time: Any::new(Tag::GeneralizedTime, generalized_time_millis(time)?.into_bytes())?,
            accuracy,
            ordering: false,
            nonce: req.nonce.as_deref().map(Uint::new).transpose()?,
            tsa: Some(GeneralName::DirectoryName(self.cert.tbs_certificate().subject().clone())),
            extensions: None,
        };
        let econtent = tst.to_der()?;
        let signer_info =
            cms::build_signer_info(self.key, self.cert, oid::ID_CT_TST_INFO, &sha256(&econtent))?;
        let mut certs = Vec::new();
        if req.cert_req {
            certs.push(self.cert.clone());
            certs.extend(self.chain.iter().filter(|c| *c != self.cert).cloned());
        }
        cms::signed_data_content_info(oid::ID_CT_TST_INFO, Some(&econtent), &certs, signer_info)
    }

    /// A `TimeStampResp` DER for a request DER: granted with a token, or a rejection (status 2)
    /// with failInfo badRequest (malformed request), badAlg (hash not accepted), badDataFormat
    /// (imprint of the wrong length), unacceptedPolicy, unacceptedExtension or systemFailure
    /// (signing failed). Bad input never makes this fail.
    pub fn respond(&self, request_der: &[u8], time: SystemTime, serial: &[u8]) -> Vec<u8> {
        let outcome = match parse_request(request_der) {
            Err(PkiError::Timestamp(text)) => {
                Err(Rejection { fail: FailInfo::UnacceptedExtension, text })
            }
            Err(e) => Err(Rejection { fail: FailInfo::BadRequest, text: e.to_string() }),
            Ok(req) => self.check(&req).and_then(|()| {
                self.issue_token(&req, time, serial).map_err(|e| Rejection {
                    fail: FailInfo::SystemFailure,
                    text: format!("the TSA could not sign: {e}"),
                })
            }),
        };
        let encoded = match outcome {
            Ok(token) => Any::from_der(&token).map_err(PkiError::from).and_then(|token| {
                let resp = TimeStampRespAsn1 {
                    status: PkiStatusInfo { status: 0, status_string: None, fail_info: None },
                    time_stamp_token: Some(token),
                };
                Ok(resp.to_der()?)
            }),
            Err(r) => rejection_der(r.fail, &r.text),
        };
        // Encoding our own well-formed structures does not fail; if it ever did, answer with a
        // bare systemFailure built from constant bytes.
        encoded.unwrap_or_else(|_| SYSTEM_FAILURE_RESPONSE.to_vec())
    }
}

/// TimeStampResp { status { rejection(2), failInfo systemFailure } }.
const SYSTEM_FAILURE_RESPONSE: &[u8] =
    &[0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40];

fn rejection_der(fail: FailInfo, text: &str) -> Result<Vec<u8>, PkiError> {
    // A named-bit BIT STRING in DER drops trailing zero bits.
    let bit = fail as usize;
    let mut bytes = vec![0u8; bit / 8 + 1];
    if let Some(b) = bytes.last_mut() {
        *b = 0x80 >> (bit % 8);
    }
    let unused = 7 - (bit % 8) as u8;
    let resp = TimeStampRespAsn1 {
        status: PkiStatusInfo {
            status: 2,
            status_string: Some(vec![text.to_string()]),
            fail_info: Some(BitString::new(unused, bytes)?),
        },
        time_stamp_token: None,
    };
    Ok(resp.to_der()?)
}

/// `YYYYMMDDHHMMSS[.fff]Z` with trailing zeros of the fraction removed (DER, RFC 3161 2.4.2).
fn generalized_time_millis(time: SystemTime) -> Result<String, PkiError> {
    let t = time::OffsetDateTime::from(time);
    if !(0..=9999).contains(&t.year()) {
        return Err(PkiError::Timestamp(format!("time {t} cannot be encoded")));
    }
    let mut s = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let millis = t.millisecond();
    if millis > 0 {
        let frac = format!("{millis:03}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    Ok(s)
}

/// Parses a GeneralizedTime value `YYYYMMDDHHMMSS[.f+]Z` (UTC only, as RFC 3161 requires).
fn parse_generalized_time(bytes: &[u8]) -> Result<SystemTime, PkiError> {
    let bad = || PkiError::malformed("genTime", String::from_utf8_lossy(bytes));
    let s = std::str::from_utf8(bytes).map_err(|_| bad())?;
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| whole.get(r).and_then(|x| x.parse::<u32>().ok()).ok_or_else(bad);
    let month = time::Month::try_from(num(4..6)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(num(0..4)? as i32, month, num(6..8)? as u8)
        .map_err(|_| bad())?;
    let mut nanos = 0u32;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let padded = format!("{f:0<9}");
        nanos = padded.parse().map_err(|_| bad())?;
    }
    let tod = time::Time::from_hms_nano(num(8..10)? as u8, num(10..12)? as u8, num(12..14)? as u8, nanos)
        .map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, tod).assume_utc().into())
}

// ---------------------------------------------------------------------------------------------
// Responses and tokens
// ---------------------------------------------------------------------------------------------

/// The content of a token, as a verifier reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    pub policy: ObjectIdentifier,
    pub hash_algorithm: ObjectIdentifier,
    pub message_imprint: Vec<u8>,
    /// Unsigned big-endian serial number.
    pub serial: Vec<u8>,
    pub gen_time: SystemTime,
    pub accuracy_millis: Option<u64>,
    /// Unsigned big-endian nonce.
    pub nonce: Option<Vec<u8>>,
    /// The TSA name (an RFC 4514 string for a directoryName).
    pub tsa_name: Option<String>,
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[first..]
}

/// Checks a `TimeStampResp` and returns its token (ContentInfo DER).
///
/// Errors name the TSA's status, failInfo and text for a refusal; an imprint or nonce that
/// differs from the request; a response that is not a TimeStampResp at all. When the token
/// carries the TSA certificate, the token is also fully checked with [`verify_token`]
/// (signature, message digest, ESS certificate binding, EKU timeStamping).
pub fn parse_response(
    resp_der: &[u8],
    expected_imprint: &[u8],
    expected_nonce: Option<&[u8]>,
) -> Result<Vec<u8>, PkiError> {
    let resp = TimeStampRespAsn1::from_der(resp_der).map_err(|e| {
        PkiError::Timestamp(format!("the TSA's answer is not an RFC 3161 TimeStampResp ({e})"))
    })?;
    let st = &resp.status;
    if st.status > 1 {
        let status = match st.status {
            2 => "rejection",
            3 => "waiting",
            4 => "revocationWarning",
            5 => "revocationNotification",
            _ => "unknown status",
        };
        let mut msg = format!("the TSA refused the request: status {} ({status})", st.status);
        if let Some(fi) = &st.fail_info {
            let names: Vec<&str> = fi
                .bits()
                .enumerate()
                .filter(|(_, set)| *set)
                .map(|(i, _)| {
                    FAIL_INFO_NAMES.iter().find(|(b, _)| *b == i).map_or("unknown failure", |(_, n)| n)
                })
                .collect();
            if !names.is_empty() {
                msg.push_str(&format!(", failInfo {}", names.join(", ")));
            }
        }
        if let Some(texts) = &st.status_string
            && !texts.is_empty() {
                msg.push_str(&format!(": {}", texts.join("; ")));
            }
        return Err(PkiError::Timestamp(msg));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| PkiError::Timestamp("the TSA granted the request but sent no token".into()))?
        .to_der()?;
    let (sd, tst) = parse_token(&token)?;
    if tst.message_imprint != expected_imprint {
        return Err(PkiError::Timestamp(
            "the token's message imprint differs from the request: it time-stamps other data".into(),
        ));
    }
    if let Some(n) = expected_nonce {
        match &tst.nonce {
            Some(got) if strip_zeros(got) == strip_zeros(n) => {}
            Some(_) => {
                return Err(PkiError::Timestamp(
                    "the token's nonce differs from the request (a replayed or foreign response)".into(),
                ));
            }
            None => {
                return Err(PkiError::Timestamp("the token lacks the nonce of the request".into()));
            }
        }
    }
    if sd.signer_cert.is_some() {
        verify_token(&token, Some(expected_imprint))?;
    }
    Ok(token)
}

/// Parses a token (ContentInfo DER) into its SignedData and TSTInfo. No crypto checks.
pub fn parse_token(token_der: &[u8]) -> Result<(ParsedSignedData, TstInfo), PkiError> {
    let sd = cms::parse_signed_data(token_der)?;
    if sd.econtent_type != oid::ID_CT_TST_INFO {
        return Err(PkiError::Timestamp(format!(
            "not a time-stamp token: content type {} instead of id-ct-TSTInfo",
            sd.econtent_type
        )));
    }
    let econtent = sd
        .econtent
        .as_deref()
        .ok_or_else(|| PkiError::Timestamp("time-stamp token without TSTInfo content".into()))?;
    let t = TstInfoAsn1::from_der(econtent).map_err(|e| PkiError::malformed("TSTInfo", e))?;
    if t.version != 1 {
        return Err(PkiError::malformed("TSTInfo", format!("version {}", t.version)));
    }
    if t.gen_time.tag() != Tag::GeneralizedTime {
        return Err(PkiError::malformed("TSTInfo", "genTime is not a GeneralizedTime"));
    }
    let accuracy_millis = t.accuracy.map(|a| {
        u64::from(a.seconds.unwrap_or(0)) * 1000
            + u64::from(a.millis.unwrap_or(0))
            + u64::from(a.micros.unwrap_or(0)).div_ceil(1000)
    });
    let tsa_name = t.tsa.map(|gn| match gn {
        GeneralName::DirectoryName(n) => n.to_string(),
        other => format!("{other:?}"),
    });
    let info = TstInfo {
        policy: t.policy,
        hash_algorithm: t.message_imprint.hash_algorithm.oid,
        message_imprint: t.message_imprint.hashed_message.into_bytes().into_vec(),
        serial: t.serial_number.as_bytes().to_vec(),
        gen_time: parse_generalized_time(t.gen_time.value())?,
        accuracy_millis,
        nonce: t.nonce.map(|n| n.as_bytes().to_vec()),
        tsa_name,
    };
    Ok((sd, info))
}

/// Checks a token: CMS signature valid; eContentType TSTInfo; message-digest attribute equal
/// to the hash of the TSTInfo; ESS signing-certificate(-v2) naming the signer certificate; that
/// certificate carries the EKU id-kp-timeStamping, critical (RFC 3161 2.3); and, when
/// `imprint` is given, the token's imprint equals it. Returns the TSTInfo and the TSA
/// certificate, whose path the caller validates at `gen_time`.
pub fn verify_token(
    token_der: &[u8],
    imprint: Option<&[u8]>,
) -> Result<(TstInfo, Certificate), PkiError> {
    let (sd, tst) = parse_token(token_der)?;
    sd.verify_signature()
        .map_err(|e| PkiError::Timestamp(format!("token signature: {e}")))?;
    let digest = sd.econtent_digest()?.ok_or_else(|| {
        PkiError::Timestamp("time-stamp token without TSTInfo content".into())
    })?;
    sd.check_message_digest(&digest)
        .map_err(|e| PkiError::Timestamp(format!("token content: {e}")))?;
    sd.check_signing_certificate()
        .map_err(|e| PkiError::Timestamp(format!("token signer: {e}")))?;
    let cert = sd.signer_cert.ok_or_else(|| {
        PkiError::Timestamp("the token does not include the TSA certificate".into())
    })?;
    match cert.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
        Ok(Some((true, eku))) if eku.0.contains(&oid::ID_KP_TIME_STAMPING) => {}
        Ok(Some((false, eku))) if eku.0.contains(&oid::ID_KP_TIME_STAMPING) => {
            return Err(PkiError::Timestamp(
                "the TSA certificate's extended key usage timeStamping is not critical".into(),
            ));
        }
        _ => {
            return Err(PkiError::Timestamp(
                "the token signer is not a TSA: no extended key usage timeStamping".into(),
            ));
        }
    }
    if let Some(expected) = imprint
        && tst.message_imprint != expected {
            return Err(PkiError::Timestamp(
                "the token's message imprint differs: it time-stamps other data".into(),
            ));
        }
    Ok((tst, cert))
}

/// The time a token asserts, widened by its accuracy: (earliest, latest).
pub fn time_bounds(tst: &TstInfo) -> (SystemTime, SystemTime) {
    let acc = Duration::from_millis(tst.accuracy_millis.unwrap_or(0));
    (
        tst.gen_time.checked_sub(acc).unwrap_or(tst.gen_time),
        tst.gen_time.checked_add(acc).unwrap_or(tst.gen_time),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::testkit::{Issued, KeyKind, TestPki, openssl, openssl_raw};

    fn tsa_of<'a>(t: &'a Issued, chain: &'a [Certificate]) -> Tsa<'a> {
        Tsa { cert: &t.cert, chain, key: &t.key, policy: oid::SIGNET_TSA_POLICY, accuracy_millis: 1500 }
    }

    fn raw_request(alg: ObjectIdentifier, imprint: &[u8], policy: Option<ObjectIdentifier>) -> Vec<u8> {
        TimeStampReqAsn1 {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned { oid: alg, parameters: None },
                hashed_message: OctetString::new(imprint.to_vec()).unwrap(),
            },
            req_policy: policy,
            nonce: None,
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn generalized_time_known_answers() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_120);
        assert_eq!(generalized_time_millis(t).unwrap(), "20231114221320.12Z");
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(generalized_time_millis(t0).unwrap(), "20231114221320Z");
        let t5 = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_005);
        assert_eq!(generalized_time_millis(t5).unwrap(), "20231114221320.005Z");
        for (s, expect) in [("20231114221320.12Z", Some(t)), ("20231114221320Z", Some(t0)), ("20231114221320.005Z", Some(t5))] {
            assert_eq!(parse_generalized_time(s.as_bytes()).ok(), expect, "{s}");
        }
        for bad in ["20231114221320", "2023111422132Z", "20231314221320Z", "20231114221320.Z", "20231114221320+0100", "２０２３1114221320Z"] {
            assert!(parse_generalized_time(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn openssl_queries_get_tokens_openssl_verifies() {
        let pki = TestPki::new("tsp-openssl");
        let root_pem = pki.root_pem.to_str().unwrap().to_owned();
        std::fs::write(pki.dir.join("f.bin"), b"signature value to be time-stamped").unwrap();
        let imprint = sha256(b"signature value to be time-stamped");
        for kind in [KeyKind::P256, KeyKind::Rsa] {
            let t = pki.issue(&format!("tsa{kind:?}"), "/CN=Signet TSA/O=Signet", kind, true);
            let chain = [pki.root.clone()];
            let tsa = tsa_of(&t, &chain);
            let tsa_pem = t.pem_path.to_str().unwrap();
            // OpenSSL adds a 64-bit nonce unless told -no_nonce.
            for (i, nonce_flag) in ["-no_nonce", "-sha256"].into_iter().enumerate() {
                let q = format!("q{kind:?}{i}.tsq");
                let r = format!("r{kind:?}{i}.tsr");
                let tok = format!("t{kind:?}{i}.der");
                openssl(&pki.dir, &["ts", "-query", "-data", "f.bin", "-sha256", "-cert", nonce_flag, "-out", &q]);
                let qder = std::fs::read(pki.dir.join(&q)).unwrap();
                let req = parse_request(&qder).unwrap();
                assert_eq!(req.message_imprint, imprint);
                assert!(req.cert_req);
                assert_eq!(req.nonce.is_some(), nonce_flag != "-no_nonce");
                let now = SystemTime::now();
                let resp = tsa.respond(&qder, now, &[0x01, i as u8 + 0x10]);
                std::fs::write(pki.dir.join(&r), &resp).unwrap();

                let text = openssl(&pki.dir, &["ts", "-reply", "-in", &r, "-text"]);
                assert!(text.contains("Status: Granted"), "{text}");
                assert!(text.contains("1.3.6.1.4.1.59999.1.1"), "{text}");
                assert!(text.contains("Accuracy: 0x01 seconds, 0x01F4 millis"), "{text}");
                let v = openssl(&pki.dir, &[
                    "ts", "-verify", "-in", &r, "-queryfile", &q, "-CAfile", &root_pem,
                    "-untrusted", tsa_pem,
                ]);
                assert!(v.contains("Verification: OK"), "{v}");

                let token = parse_response(&resp, &imprint, req.nonce.as_deref()).unwrap();
                std::fs::write(pki.dir.join(&tok), &token).unwrap();
                let v = openssl(&pki.dir, &[
                    "ts", "-verify", "-in", &tok, "-token_in", "-digest", &hex::encode(imprint),
                    "-CAfile", &root_pem, "-untrusted", tsa_pem,
                ]);
                assert!(v.contains("Verification: OK"), "{v}");

                let (info, cert) = verify_token(&token, Some(&imprint)).unwrap();
                assert_eq!(cert, t.cert);
                assert_eq!(info.policy, oid::SIGNET_TSA_POLICY);
                assert_eq!(info.hash_algorithm, oid::ID_SHA256);
                assert_eq!(info.serial, vec![0x01, i as u8 + 0x10]);
                assert_eq!(info.accuracy_millis, Some(1500));
                assert_eq!(info.nonce, req.nonce);
                assert!(info.tsa_name.as_deref().unwrap_or("").contains("CN=Signet TSA"));
                let ms = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis();
                assert_eq!(ms(info.gen_time), ms(now));
                let (lo, hi) = time_bounds(&info);
                assert!(lo < now && now < hi);
                assert!(verify_token(&token, Some(&[0u8; 32])).is_err());
            }
        }
    }

    #[test]
    fn token_without_certificates_when_not_requested() {
        let pki = TestPki::new("tsp-nocert");
        let t = pki.issue("tsa", "/CN=TSA", KeyKind::P256, true);
        let tsa = tsa_of(&t, &[]);
        let imprint = sha256(b"x");
        let q = build_request(&imprint, Some(&[0, 0, 7, 1]), false).unwrap();
        let resp = tsa.respond(&q, SystemTime::now(), &[9]);
        let token = parse_response(&resp, &imprint, Some(&[7, 1])).unwrap();
        let (sd, info) = parse_token(&token).unwrap();
        assert!(sd.certificates.is_empty());
        assert_eq!(info.nonce.as_deref(), Some(&[7u8, 1][..]));
        assert!(verify_token(&token, None).is_err(), "no certificate to check against");
    }

    #[test]
    fn rejections_carry_status_and_fail_info() {
        let pki = TestPki::new("tsp-reject");
        let t = pki.issue("tsa", "/CN=TSA", KeyKind::P256, true);
        let tsa = tsa_of(&t, &[]);
        let now = SystemTime::now();
        let cases: [(Vec<u8>, &str); 5] = [
            (raw_request(oid::ID_SHA256, &[1; 20], None), "badDataFormat"),
            (raw_request(oid::ID_SHA1, &[1; 20], None), "badAlg"),
            (raw_request(oid::ID_SHA256, &[1; 32], Some(oid::ID_DATA)), "unacceptedPolicy"),
            (b"not a request".to_vec(), "badRequest"),
            (vec![], "badRequest"),
        ];
        for (i, (q, expect)) in cases.iter().enumerate() {
            let resp = tsa.respond(q, now, &[1]);
            let err = parse_response(&resp, &[1; 32], None).unwrap_err().to_string();
            assert!(err.contains("status 2 (rejection)") && err.contains(expect), "{expect}: {err}");
            let f = format!("rej{i}.tsr");
            std::fs::write(pki.dir.join(&f), &resp).unwrap();
            let text = openssl(&pki.dir, &["ts", "-reply", "-in", &f, "-text"]);
            assert!(text.contains("Status: Rejected"), "{text}");
        }
        // The constant fallback is a well-formed rejection too.
        let err = parse_response(SYSTEM_FAILURE_RESPONSE, &[], None).unwrap_err().to_string();
        assert!(err.contains("systemFailure"), "{err}");
        // The requested policy, when it is ours, is fine.
        let ok = tsa.respond(&raw_request(oid::ID_SHA256, &[1; 32], Some(oid::SIGNET_TSA_POLICY)), now, &[1]);
        parse_response(&ok, &[1; 32], None).unwrap();
        // issue_token refuses what respond would reject.
        let req = parse_request(&raw_request(oid::ID_SHA1, &[1; 20], None)).unwrap();
        assert!(tsa.issue_token(&req, now, &[1]).is_err());
        let req = parse_request(&raw_request(oid::ID_SHA256, &[1; 32], None)).unwrap();
        assert!(tsa.issue_token(&req, now, &[0]).is_err(), "serial must be positive");
    }

    #[test]
    fn parse_response_catches_mismatches_and_garbage() {
        let pki = TestPki::new("tsp-mismatch");
        let t = pki.issue("tsa", "/CN=TSA", KeyKind::P256, true);
        let tsa = tsa_of(&t, &[]);
        let imprint = sha256(b"sig");
        let q = build_request(&imprint, Some(&[1, 2, 3, 4, 5, 6, 7, 8]), true).unwrap();
        let resp = tsa.respond(&q, SystemTime::now(), &[5]);
        parse_response(&resp, &imprint, Some(&[1, 2, 3, 4, 5, 6, 7, 8])).unwrap();
        let e = parse_response(&resp, &sha256(b"other"), Some(&[1, 2, 3, 4, 5, 6, 7, 8])).unwrap_err();
        assert!(e.to_string().contains("imprint"), "{e}");
        let e = parse_response(&resp, &imprint, Some(&[9, 9])).unwrap_err();
        assert!(e.to_string().contains("nonce"), "{e}");
        let q2 = build_request(&imprint, None, true).unwrap();
        let resp2 = tsa.respond(&q2, SystemTime::now(), &[6]);
        let e = parse_response(&resp2, &imprint, Some(&[1])).unwrap_err();
        assert!(e.to_string().contains("nonce"), "{e}");
        for garbage in [&b""[..], b"garbage", b"\x30\x03\x02\x01\x00", b"<html>502 Bad Gateway</html>"] {
            let e = parse_response(garbage, &imprint, None).unwrap_err();
            assert!(e.to_string().contains("not an RFC 3161"), "{e}");
        }
        for len in 0..resp.len() {
            assert!(parse_response(&resp[..len], &imprint, None).is_err());
        }
        for i in 0..resp.len() {
            let mut r = resp.clone();
            r[i] ^= 0x5a;
            let _ = parse_response(&r, &imprint, None); // must not panic
        }
        assert!(parse_request(b"\x30\x00").is_err());
    }

    #[test]
    fn token_from_a_signer_without_tsa_eku_is_refused() {
        let pki = TestPki::new("tsp-noeku");
        let t = pki.issue("notsa", "/CN=Not a TSA", KeyKind::P256, false);
        let tsa = tsa_of(&t, &[]);
        let imprint = sha256(b"x");
        let resp = tsa.respond(&build_request(&imprint, None, true).unwrap(), SystemTime::now(), &[1]);
        let e = parse_response(&resp, &imprint, None).unwrap_err();
        assert!(e.to_string().contains("timeStamping"), "{e}");
        // A token with a tampered TSTInfo fails the message-digest check.
        let t2 = pki.issue("tsa", "/CN=TSA", KeyKind::P256, true);
        let tsa2 = tsa_of(&t2, &[]);
        let resp = tsa2.respond(&build_request(&imprint, None, true).unwrap(), SystemTime::now(), &[1]);
        let mut token = parse_response(&resp, &imprint, None).unwrap();
        let pos = token.windows(32).position(|w| w == imprint).unwrap();
        token[pos] ^= 1;
        assert!(verify_token(&token, None).is_err());
        let _ = openssl_raw; // (kept for parity with the other suites)
    }

    #[test]
    fn pades_flow_signature_time_stamp() {
        let pki = TestPki::new("tsp-pades");
        let s = pki.issue("signer", "/CN=张三", KeyKind::Rsa, false);
        let t = pki.issue("tsa", "/CN=TSA", KeyKind::P256, true);
        let chain = [pki.root.clone()];
        let tsa = tsa_of(&t, &chain);
        let data = b"pdf byte ranges";
        std::fs::write(pki.dir.join("data.bin"), data).unwrap();
        let mut sig = crate::cms::sign_cades_detached(&s.key, &s.cert, &chain, &sha256(data)).unwrap();
        let imprint = sha256(sig.signature_value());
        let q = build_request(&imprint, Some(&[0x42; 8]), true).unwrap();
        let token = parse_response(&tsa.respond(&q, SystemTime::now(), &[7]), &imprint, Some(&[0x42; 8])).unwrap();
        sig.add_signature_timestamp(&token).unwrap();
        let der = sig.to_der().unwrap();
        std::fs::write(pki.dir.join("sig.der"), &der).unwrap();
        let out = openssl(&pki.dir, &[
            "cms", "-verify", "-inform", "DER", "-in", "sig.der", "-content", "data.bin", "-binary",
            "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null",
        ]);
        assert!(out.contains("Verification successful"), "{out}");
        let p = crate::cms::parse_signed_data(&der).unwrap();
        let tok = p.signature_timestamp.clone().unwrap();
        verify_token(&tok, Some(&sha256(&p.signature))).unwrap();
    }

    /// The same flow with certificates from `cert.rs` (the profiles Signet's own CA issues).
    #[test]
    fn pades_flow_with_signet_issued_certificates() {
        use crate::cert::tests::{request, t0, test_pki};
        use crate::cert::{CertProfile, Issuer, issue_certificate};
        use crate::{KeyAlgorithm, PrivateKey};
        let pki = test_pki(KeyAlgorithm::P256);
        let tsa_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let tsa_cert = issue_certificate(
            &request("Signet TSA", CertProfile::TimeStamping, &tsa_key, 365),
            Issuer::Ca { cert: &pki.ca, key: &pki.ca_key },
        )
        .unwrap();
        let chain = [pki.ca.clone(), pki.root.clone()];
        let tsa = Tsa { cert: &tsa_cert, chain: &chain, key: &tsa_key, policy: oid::SIGNET_TSA_POLICY, accuracy_millis: 100 };
        let digest = sha256(b"pdf");
        let mut sig = crate::cms::sign_cades_detached(&pki.leaf_key, &pki.leaf, &chain, &digest).unwrap();
        let imprint = sha256(sig.signature_value());
        let nonce = [0x11; 8];
        let q = build_request(&imprint, Some(&nonce), true).unwrap();
        let token = parse_response(&tsa.respond(&q, t0(), &[1, 2, 3]), &imprint, Some(&nonce)).unwrap();
        sig.add_signature_timestamp(&token).unwrap();
        let p = crate::cms::parse_signed_data(&sig.to_der().unwrap()).unwrap();
        p.verify_signature().unwrap();
        p.check_message_digest(&digest).unwrap();
        p.check_signing_certificate().unwrap();
        let (info, cert) = verify_token(p.signature_timestamp.as_deref().unwrap(), Some(&imprint)).unwrap();
        assert_eq!(cert, tsa_cert);
        assert_eq!(info.gen_time, t0());
        assert!(info.tsa_name.unwrap().contains("CN=Signet TSA"));
        // Signet's signer certificate is no TSA.
        let bad = Tsa { cert: &pki.leaf, chain: &chain, key: &pki.leaf_key, policy: oid::SIGNET_TSA_POLICY, accuracy_millis: 0 };
        assert!(parse_response(&bad.respond(&q, t0(), &[1]), &imprint, Some(&nonce)).is_err());
    }
}
