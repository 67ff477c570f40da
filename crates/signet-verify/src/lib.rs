//! Verification of signed PDFs: for every signature and document time-stamp, the byte range,
//! the CMS signature, the certificate chain to a trust anchor, the time-stamp, the PAdES level
//! reached and the revision covered.
//!
//! Pure: the document comes in as a [`Source`], trust anchors and the validation time as
//! [`Options`]. It fetches nothing; validation data comes from the CMS and the DSS.
//!
//! Every revision after the first signature is diffed object by object against the one before
//! it and judged against DocMDP, FieldMDP and a strict default policy ([`modification`]): a
//! change that can alter what a signer saw fails the document, while the signature itself is
//! still reported intact for the revision it covers.

pub mod modification;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use signet_pdf::{Document, FoundSignature, Object, PdfError, Prefix, Source};

pub use modification::{Change, Verdict};
use signet_pki::cert::{self, Certificate};
use signet_pki::{alg, chain, cms, ocsp, tsp};

/// What the verification is judged against.
#[derive(Clone)]
pub struct Options {
    pub trust_anchors: Vec<Certificate>,
    /// The time "now" for certificates without a trusted time-stamp.
    pub now: SystemTime,
    /// Where to fetch revocation data the document does not carry (`--online`); `None`
    /// checks only what the DSS holds.
    pub online: Option<std::sync::Arc<dyn RevocationFetcher>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("trust_anchors", &self.trust_anchors.len())
            .field("now", &self.now)
            .field("online", &self.online.is_some())
            .finish()
    }
}

/// Revocation data fetched while verifying: raw OCSP responses and CRLs, unchecked (the
/// verifier checks them), with any extra certificates (a delegated OCSP responder's).
#[derive(Debug, Default)]
pub struct Fetched {
    pub ocsps: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub certs: Vec<Certificate>,
}

/// Fetches revocation data for `cert` (issued by `issuer`) from the services it names; the
/// I/O side (HTTP with timeouts) lives in the caller.
pub trait RevocationFetcher: Send + Sync {
    fn fetch(&self, cert: &Certificate, issuer: &Certificate) -> Result<Fetched, String>;
}

/// How the signer's certificate's revocation status was established.
#[derive(Debug, Clone, Serialize)]
pub struct RevocationReport {
    /// "good", "revoked", "unknown" or "not_checked".
    pub status: &'static str,
    /// "dss" (validation data in the document) or "online"; absent when not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// Most signatures and document time-stamps examined in one document.
pub const MAX_SIGNATURES: usize = 500;

/// Why a file could not be examined at all (the caller's exit code 2 cases).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("not a PDF file: {0}")]
    NotPdf(String),
    #[error("cannot read the file: {0}")]
    Unreadable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    TotalPassed,
    TotalFailed,
    Indeterminate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Integrity {
    Intact,
    Broken,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Signature,
    DocumentTimestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: u64,
    pub not_after: u64,
    /// e.g. "EC 256", "RSA 2048".
    pub key: String,
    /// SHA-256 of the certificate's DER, hex.
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SigningTime {
    /// Seconds since 1970 (UTC).
    pub unix: u64,
    /// RFC 3339.
    pub time: String,
    /// "timestamp" (from an RFC 3161 token) or "claimed" (the signer's own clock).
    pub source: &'static str,
    /// Whether the time comes from a time-stamp authority that chains to a trust anchor.
    pub trusted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimestampSummary {
    pub time: String,
    pub unix: u64,
    pub tsa: String,
    pub valid: bool,
    /// The TSA chains to a trust anchor now.
    pub trusted: bool,
    /// The TSA chained to a trust anchor at the time it stamped (what counts when a later
    /// trusted document time-stamp proves the token existed then).
    pub trusted_at_time: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub field: String,
    pub kind: Kind,
    pub sub_filter: String,
    pub indication: Indication,
    pub sub_indication: Option<&'static str>,
    pub integrity: Integrity,
    pub crypto_valid: bool,
    pub trusted: bool,
    pub signer: Option<CertSummary>,
    pub signing_time: Option<SigningTime>,
    pub timestamp: Option<TimestampSummary>,
    pub revocation: Option<RevocationReport>,
    pub level: Option<String>,
    /// 1-based revision whose end the byte range reaches.
    pub covered_revision: Option<usize>,
    pub covers_whole_file: bool,
    /// How the revisions after the covered one changed the document.
    pub modification_after: Verdict,
    pub certify: Option<u8>,
    /// Other fields whose value is this same signature dictionary.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_in_fields: Vec<String>,
    pub notes: Vec<String>,
}

/// The document-level modification finding.
#[derive(Debug, Clone, Serialize)]
pub struct Modification {
    pub verdict: Verdict,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub revisions: usize,
    pub signatures: Vec<SignatureReport>,
    pub modification: Modification,
    /// Why the document as a whole fails (no signature, unreadable structure), if it does.
    pub problems: Vec<String>,
}

/// The one-word conclusion for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FileVerdict {
    Valid,
    Invalid,
    Indeterminate,
}

impl FileVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            FileVerdict::Valid => "VALID",
            FileVerdict::Invalid => "INVALID",
            FileVerdict::Indeterminate => "INDETERMINATE",
        }
    }
}

impl Report {
    /// True when the file has signatures, every one passed, and no change after any of them
    /// is forbidden.
    pub fn all_passed(&self) -> bool {
        self.verdict() == FileVerdict::Valid
    }

    /// VALID when every signature and document time-stamp passed and nothing changed that
    /// may not; INVALID when anything failed (a signature, the structure, a forbidden
    /// change, no signature at all); INDETERMINATE otherwise (e.g. an untrusted chain).
    pub fn verdict(&self) -> FileVerdict {
        if self.signatures.is_empty()
            || !self.problems.is_empty()
            || self.modification.verdict == Verdict::NotPermitted
            || self.signatures.iter().any(|s| s.indication == Indication::TotalFailed)
        {
            FileVerdict::Invalid
        } else if self.signatures.iter().all(|s| s.indication == Indication::TotalPassed) {
            FileVerdict::Valid
        } else {
            FileVerdict::Indeterminate
        }
    }
}

/// The versioned wire shape of a report (`signet.verify/v1`, see `docs/verify.md`): what the
/// CLI prints with `--json` and what the server's verification API returns.
#[derive(Debug, Serialize)]
pub struct ReportV1<'a> {
    pub schema: &'static str,
    pub file: &'a str,
    pub verdict: FileVerdict,
    pub signatures: &'a [SignatureReport],
    pub document: DocumentV1<'a>,
    pub problems: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct DocumentV1<'a> {
    pub revisions: usize,
    pub modification: &'a Modification,
}

/// The schema name of [`ReportV1`].
pub const SCHEMA_V1: &str = "signet.verify/v1";

impl Report {
    /// This report in the `signet.verify/v1` shape, for the file shown as `file`.
    pub fn v1<'a>(&'a self, file: &'a str) -> ReportV1<'a> {
        ReportV1 {
            schema: SCHEMA_V1,
            file,
            verdict: self.verdict(),
            signatures: &self.signatures,
            document: DocumentV1 { revisions: self.revisions, modification: &self.modification },
            problems: &self.problems,
        }
    }
}

fn empty_report() -> Report {
    Report {
        revisions: 0,
        signatures: Vec::new(),
        modification: Modification { verdict: Verdict::None, changes: Vec::new() },
        problems: Vec::new(),
    }
}

/// Verifies every signature of the PDF in `src`.
pub fn verify(src: &dyn Source, opts: &Options) -> Result<Report, VerifyError> {
    let head_len = src.len().min(1024) as usize;
    let mut head = vec![0u8; head_len];
    src.read_at(0, &mut head).map_err(|e| VerifyError::Unreadable(e.to_string()))?;
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(VerifyError::NotPdf("no %PDF- header".into()));
    }
    let mut report = empty_report();
    let doc = match Document::open(src) {
        Ok(d) => d,
        Err(e) => {
            report.problems.push(format!("the PDF structure cannot be read: {e}"));
            return Ok(report);
        }
    };
    let revisions = match doc.revisions() {
        Ok(r) => r,
        Err(e) => {
            report.problems.push(format!("the revisions cannot be read: {e}"));
            Vec::new()
        }
    };
    report.revisions = revisions.len();
    let found = match signet_pdf::signatures(&doc) {
        Ok(f) => f,
        Err(e) => {
            report.problems.push(format!("the signature fields cannot be read: {e}"));
            return Ok(report);
        }
    };
    if found.is_empty() {
        report.problems.push("the document has no signature".into());
        return Ok(report);
    }
    if found.len() > MAX_SIGNATURES {
        // Each signature costs a hash of (up to) the whole file: thousands of them in a hostile
        // file would take minutes. No real contract comes near this many.
        report.problems.push(format!(
            "the document has {} signatures, more than the {MAX_SIGNATURES} this verifier examines; refusing it",
            found.len()
        ));
        return Ok(report);
    }
    let dss = read_dss(&doc, MAX_DSS_BYTES).unwrap_or_else(|e| {
        report.problems.push(format!("the DSS cannot be read: {e}"));
        Dss::default()
    });
    // One signature dictionary shown by several fields is one signature (reported once).
    let mut first_field: HashMap<signet_pdf::ObjRef, usize> = HashMap::new();
    let mut unique: Vec<(&FoundSignature, Vec<String>)> = Vec::new();
    for f in &found {
        if f.problem.is_none() && f.sig_ref.num != 0 {
            if let Some(&i) = first_field.get(&f.sig_ref) {
                unique[i].1.push(f.field_name.clone());
                continue;
            }
            first_field.insert(f.sig_ref, unique.len());
        }
        unique.push((f, Vec::new()));
    }
    // Document time-stamps first: a trusted one is proof of existence, at its time, for every
    // signature and time-stamp in the revisions it covers (long-term validation).
    let mut done: Vec<Option<SignatureReport>> = vec![None; unique.len()];
    for (i, (f, _)) in unique.iter().enumerate().filter(|(_, (f, _))| f.is_doc_timestamp) {
        done[i] = Some(check_one(&doc, f, &revisions, &dss, opts, &[]));
    }
    let poe: Vec<usize> = done
        .iter()
        .flatten()
        .filter(|r| r.indication == Indication::TotalPassed)
        .filter_map(|r| r.covered_revision)
        .collect();
    let mut sigs: Vec<SignatureReport> = unique
        .iter()
        .zip(done)
        .map(|((f, also), done)| {
            let mut r = done.unwrap_or_else(|| check_one(&doc, f, &revisions, &dss, opts, &poe));
            if !also.is_empty() {
                r.notes.push(format!("the same signature is also the value of field(s) {}", also.join(", ")));
                r.also_in_fields = also.clone();
            }
            r
        })
        .collect();
    assign_levels(&mut sigs, &dss, &revisions);

    // What changed after each signature.
    let scopes: Vec<modification::SignatureScope> = unique
        .iter()
        .zip(&sigs)
        .filter_map(|((f, _), r)| {
            let revision = r.covered_revision?;
            let lock = match doc.get(f.sig_ref) {
                Ok(Object::Dict(d)) => modification::fieldmdp_lock(&doc, &d),
                _ => None,
            };
            Some(modification::SignatureScope { revision, certify: f.certify, lock })
        })
        .collect();
    if let Some(first) = scopes.iter().map(|s| s.revision).min() {
        let changes = modification::analyse(src, &revisions, first, &scopes);
        for s in &mut sigs {
            if let Some(rev) = s.covered_revision {
                s.modification_after = modification::verdict_after(&changes, rev);
            }
        }
        report.modification = Modification { verdict: modification::verdict_after(&changes, first), changes };
    }
    report.signatures = sigs;
    Ok(report)
}

#[derive(Default)]
struct Dss {
    certs: Vec<Certificate>,
    ocsps: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
}

/// Most decoded bytes read from the DSS streams altogether (each stream alone is bounded by
/// `signet_pdf::MAX_DECODED`; without a total, one small compressed stream listed many times
/// would take gigabytes).
const MAX_DSS_BYTES: u64 = signet_pdf::MAX_DECODED;

fn read_dss(doc: &Document<'_>, budget: u64) -> Result<Dss, PdfError> {
    let mut dss = Dss::default();
    let (_, catalog) = doc.catalog()?;
    let Some(d) = catalog.get(b"DSS") else { return Ok(dss) };
    let Object::Dict(d) = doc.resolve(d)? else { return Ok(dss) };
    let mut total = 0u64;
    let mut streams = |key: &[u8]| -> Result<Vec<Vec<u8>>, PdfError> {
        let mut out = Vec::new();
        if let Some(a) = d.get(key)
            && let Object::Array(items) = doc.resolve(a)? {
                for item in items.iter().take(10_000) {
                    if let Object::Stream(s) = doc.resolve(item)? {
                        let data = s.decoded()?;
                        total = total.saturating_add(data.len() as u64);
                        if total > budget {
                            return Err(PdfError::LimitExceeded {
                                what: "decoded size of the DSS streams",
                                limit: budget,
                            });
                        }
                        out.push(data);
                    }
                }
            }
        Ok(out)
    };
    for c in streams(b"Certs")? {
        if let Ok(mut v) = signet_pki::pem::certs_from_pem_or_der(&c) {
            dss.certs.append(&mut v);
        }
    }
    dss.ocsps = streams(b"OCSPs")?;
    dss.crls = streams(b"CRLs")?;
    Ok(dss)
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{secs}"))
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn summary(c: &Certificate) -> CertSummary {
    let (nb, na) = cert::validity(c);
    let (alg, bits) = cert::key_strength(c);
    CertSummary {
        subject: cert::subject_string(c),
        issuer: cert::issuer_string(c),
        serial: cert::serial_hex(c),
        not_before: unix(nb),
        not_after: unix(na),
        key: if bits > 0 { format!("{alg} {bits}") } else { alg },
        sha256: cert::fingerprint_sha256(c).iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Digest of the byte range with the algorithm `alg_oid` (SHA-256 streamed; others read the
/// ranges into memory).
fn range_digest(src: &dyn Source, br: &[i64; 4], alg_oid: &der::asn1::ObjectIdentifier) -> Result<Vec<u8>, String> {
    let (a0, a1, b0, b1) = (br[0] as u64, br[1] as u64, br[2] as u64, br[3] as u64);
    if *alg_oid == signet_pki::oid::ID_SHA256 {
        let mut h = alg::Sha256::default();
        signet_pdf::for_each_chunk(src, a0, a0 + a1, |c| h.update(c)).map_err(|e| e.to_string())?;
        signet_pdf::for_each_chunk(src, b0, b0 + b1, |c| h.update(c)).map_err(|e| e.to_string())?;
        return Ok(h.finish().to_vec());
    }
    let total = a1.checked_add(b1).filter(|t| *t <= 512 * 1024 * 1024).ok_or("byte range too large")?;
    let mut data = Vec::with_capacity(total as usize);
    signet_pdf::for_each_chunk(src, a0, a0 + a1, |c| data.extend_from_slice(c)).map_err(|e| e.to_string())?;
    signet_pdf::for_each_chunk(src, b0, b0 + b1, |c| data.extend_from_slice(c)).map_err(|e| e.to_string())?;
    alg::digest_by_oid(alg_oid, &data).map_err(|e| e.to_string())
}

/// Checks the byte range: [0, a, b, c] with the gap exactly the /Contents string and the end
/// inside the file.
fn check_byte_range(f: &FoundSignature, len: u64) -> Result<[i64; 4], String> {
    let br: [i64; 4] = f
        .byte_range
        .as_slice()
        .try_into()
        .map_err(|_| format!("/ByteRange has {} numbers instead of 4", f.byte_range.len()))?;
    if br.iter().any(|v| *v < 0) {
        return Err("/ByteRange has negative numbers".into());
    }
    if br[0] != 0 {
        return Err("/ByteRange does not start at the beginning of the file".into());
    }
    let (gap_start, gap_end) = (br[1] as u64, br[2] as u64);
    if (gap_start, gap_end) != f.contents_span {
        return Err("/ByteRange leaves out more or less than the /Contents string".into());
    }
    let end = (br[2] as u64).checked_add(br[3] as u64).ok_or("/ByteRange overflows")?;
    if end > len {
        return Err("/ByteRange runs past the end of the file".into());
    }
    Ok(br)
}

fn failed(mut r: SignatureReport, ind: Indication, sub: &'static str, note: String) -> SignatureReport {
    r.indication = ind;
    r.sub_indication = Some(sub);
    r.notes.push(note);
    r
}

fn check_one(
    doc: &Document<'_>,
    f: &FoundSignature,
    revisions: &[u64],
    dss: &Dss,
    opts: &Options,
    poe: &[usize],
) -> SignatureReport {
    let kind = if f.is_doc_timestamp { Kind::DocumentTimestamp } else { Kind::Signature };
    let mut r = SignatureReport {
        field: f.field_name.clone(),
        kind,
        sub_filter: String::from_utf8_lossy(&f.sub_filter).into_owned(),
        indication: Indication::Indeterminate,
        sub_indication: None,
        integrity: Integrity::Unknown,
        crypto_valid: false,
        trusted: false,
        signer: None,
        signing_time: None,
        timestamp: None,
        revocation: None,
        level: None,
        covered_revision: None,
        covers_whole_file: false,
        modification_after: Verdict::None,
        certify: f.certify,
        also_in_fields: Vec::new(),
        notes: Vec::new(),
    };
    let src = doc.source();
    if let Some(p) = &f.problem {
        return failed(r, Indication::TotalFailed, "FORMAT_FAILURE", format!("the signature cannot be read: {p}"));
    }
    // The revision the byte range claims to end with, known even when the range is bad, so
    // that what changed after it is still analysed.
    if let [_, _, b, c] = f.byte_range[..]
        && b >= 0
        && c >= 0
    {
        let end = (b as u64).saturating_add(c as u64);
        r.covered_revision = revisions.iter().position(|e| *e == end).map(|i| i + 1);
    }
    let br = match check_byte_range(f, src.len()) {
        Ok(b) => b,
        Err(e) => return failed(r, Indication::TotalFailed, "FORMAT_FAILURE", e),
    };
    let end = (br[2] + br[3]) as u64;
    r.covers_whole_file = end == src.len();
    r.covered_revision = revisions.iter().position(|e| *e == end).map(|i| i + 1);
    if r.covered_revision.is_none() {
        return failed(
            r,
            Indication::TotalFailed,
            "FORMAT_FAILURE",
            "the signed bytes do not end where a revision of the document ends".into(),
        );
    }
    if let Err(e) = signed_in_its_revision(doc, f, end) {
        return failed(r, Indication::TotalFailed, "FORMAT_FAILURE", e);
    }
    if !r.covers_whole_file {
        r.notes.push(format!(
            "the signature covers revision {} of {}; the document's changes after it are listed under the document's modifications",
            r.covered_revision.unwrap_or(0),
            revisions.len()
        ));
    }
    let mut pool: Vec<Certificate> = dss.certs.clone();

    if f.is_doc_timestamp {
        let token = cms::split_contents(&f.contents).0;
        let (parsed, info) = match tsp::parse_token(token) {
            Ok(p) => p,
            Err(e) => return failed(r, Indication::TotalFailed, "FORMAT_FAILURE", format!("the time-stamp token cannot be read: {e}")),
        };
        let digest = match range_digest(src, &br, &info.hash_algorithm) {
            Ok(d) => d,
            Err(e) => return failed(r, Indication::Indeterminate, "FORMAT_FAILURE", e),
        };
        match tsp::verify_token(token, Some(&digest)) {
            Ok((info, tsa_cert)) => {
                r.integrity = Integrity::Intact;
                r.crypto_valid = true;
                r.signer = Some(summary(&tsa_cert));
                r.signing_time = Some(SigningTime { unix: unix(info.gen_time), time: rfc3339(info.gen_time), source: "timestamp", trusted: false });
                pool.extend(parsed.certificates.iter().cloned());
                match chain::build_chain(&tsa_cert, &pool, &opts.trust_anchors, opts.now) {
                    Ok(_) => {
                        r.trusted = true;
                        if let Some(t) = &mut r.signing_time {
                            t.trusted = true;
                        }
                        r.indication = Indication::TotalPassed;
                    }
                    Err(e) => {
                        r.sub_indication = Some(chain_sub_indication(&e));
                        r.notes.push(format!("time-stamp authority certificate: {e}"));
                    }
                }
                r.level = Some("document time-stamp".into());
            }
            Err(e) => {
                r.integrity = Integrity::Broken;
                return failed(r, Indication::TotalFailed, "HASH_FAILURE", format!("the document time-stamp does not match the document: {e}"));
            }
        }
        return r;
    }

    let (der, trailing) = cms::split_contents(&f.contents);
    if trailing {
        r.notes.push("the /Contents string holds other data after the signature (outside the signed bytes; ignored)".into());
    }
    let sd = match cms::parse_signed_data(der) {
        Ok(sd) => sd,
        Err(e) => return failed(r, Indication::TotalFailed, "FORMAT_FAILURE", format!("the CMS signature cannot be read: {e}")),
    };
    let Some(signer_cert) = sd.signer_cert.clone() else {
        return failed(r, Indication::Indeterminate, "NO_SIGNING_CERTIFICATE_FOUND", "the signer's certificate is not in the signature".into());
    };
    r.signer = Some(summary(&signer_cert));
    let digest = match range_digest(src, &br, &sd.digest_algorithm) {
        Ok(d) => d,
        Err(e) => return failed(r, Indication::Indeterminate, "FORMAT_FAILURE", e),
    };
    if sd.signed_attrs_der.is_none() || sd.message_digest.is_none() {
        // Without signed attributes nothing binds the signer's certificate and the document
        // digest together as PAdES and CAdES require; such a signature is not judged.
        return failed(
            r,
            Indication::Indeterminate,
            "FORMAT_FAILURE",
            "the signature has no signed attributes with a message digest, so it cannot be bound to the document's bytes".into(),
        );
    }
    if let Err(e) = sd.check_message_digest(&digest) {
        r.integrity = Integrity::Broken;
        return failed(r, Indication::TotalFailed, "HASH_FAILURE", format!("the signed bytes were changed: {e}"));
    }
    r.integrity = Integrity::Intact;
    if let Err(e) = sd.verify_signature() {
        return failed(r, Indication::TotalFailed, "SIG_CRYPTO_FAILURE", format!("the signature value does not verify: {e}"));
    }
    r.crypto_valid = true;
    let pades = r.sub_filter == "ETSI.CAdES.detached";
    if pades
        && let Err(e) = sd.check_signing_certificate() {
            return failed(r, Indication::TotalFailed, "FORMAT_FAILURE", format!("signing-certificate attribute: {e}"));
        }

    // Trusted time from the signature time-stamp, if any.
    let mut validation_time = opts.now;
    // The time a trusted time-stamp proves the signature existed, if one does.
    let mut proven_time = None;
    if let Some(token) = &sd.signature_timestamp {
        let ts = check_timestamp_token(token, &sd.signature, &pool, opts);
        // A trusted document time-stamp over this signature's revision proves the token
        // existed when its TSA's certificate was still valid.
        let proven_by_archive = r.covered_revision.is_some_and(|rev| poe.iter().any(|p| *p > rev));
        if let Some(ts) = &ts {
            if ts.valid && (ts.trusted || (ts.trusted_at_time && proven_by_archive)) {
                if !ts.trusted {
                    r.notes.push("the time-stamp authority's certificate has expired since; a later document time-stamp proves the token existed while it was valid".into());
                }
                // Long-term validation: the chain is judged at the time the time-stamp proves.
                validation_time = SystemTime::UNIX_EPOCH + Duration::from_secs(ts.unix);
                proven_time = Some(validation_time);
                r.signing_time = Some(SigningTime { unix: ts.unix, time: ts.time.clone(), source: "timestamp", trusted: true });
            } else if ts.valid {
                r.signing_time = Some(SigningTime { unix: ts.unix, time: ts.time.clone(), source: "timestamp", trusted: false });
                r.notes.push("the time-stamp authority is not trusted: the certificates are checked at the current time".into());
            } else {
                r.notes.push("the signature time-stamp is not valid".into());
            }
        } else {
            r.notes.push("the signature time-stamp token cannot be read".into());
        }
        r.timestamp = ts;
    }
    if r.signing_time.is_none() {
        if let Some(t) = sd.signing_time {
            r.signing_time = Some(SigningTime { unix: unix(t), time: rfc3339(t), source: "claimed", trusted: false });
        } else if let Some(m) = &f.signing_time_text
            && let Some(t) = parse_pdf_date(m) {
                r.signing_time = Some(SigningTime { unix: unix(t), time: rfc3339(t), source: "claimed", trusted: false });
            }
    }

    pool.extend(sd.certificates.iter().cloned());
    let weak = weak_algorithms(&sd, &signer_cert);
    match chain::build_chain(&signer_cert, &pool, &opts.trust_anchors, validation_time) {
        Ok(valid) => {
            r.trusted = true;
            let (report, note, revoked) = revocation(&signer_cert, valid.certs.get(1), dss, opts);
            r.notes.extend(note);
            r.revocation = Some(report);
            if let Some(t) = revoked {
                // Revoked after the time a trusted time-stamp proves the signature existed:
                // the signature stays valid (long-term validation); otherwise it fails.
                let at = rfc3339(t);
                match proven_time {
                    Some(p) if t > p => r.notes.push(format!(
                        "the signer's certificate was revoked at {at}, after the time-stamp proves the signature existed"
                    )),
                    _ => return failed(r, Indication::TotalFailed, "REVOKED", format!("the signer's certificate was revoked at {at}")),
                }
            }
            r.indication = Indication::TotalPassed;
        }
        Err(e) => {
            r.sub_indication = Some(chain_sub_indication(&e));
            r.notes.push(format!("certificate chain: {e}"));
        }
    }
    if let Some(w) = weak {
        r.notes.push(w);
        if r.indication == Indication::TotalPassed || r.sub_indication.is_none() {
            r.indication = Indication::Indeterminate;
            r.sub_indication = Some("CRYPTO_CONSTRAINTS_FAILURE");
        }
    }
    if !pades {
        r.level = Some("CMS, not PAdES".into());
    }
    r
}

/// Checks that the signature dictionary is the one the signed revision holds: the same xref
/// entry in the document cut at the end of the byte range (so the whole dictionary lies inside
/// the signed bytes, and no later revision redefined it).
fn signed_in_its_revision(doc: &Document<'_>, f: &FoundSignature, end: u64) -> Result<(), String> {
    let prefix = Prefix { src: doc.source(), len: end };
    let at_signing = Document::open(&prefix).map_err(|e| format!("the signed revision cannot be read: {e}"))?;
    if at_signing.xref_entry(f.sig_ref.num) != doc.xref_entry(f.sig_ref.num) {
        return Err("the signature dictionary is not the one stored in the signed revision".into());
    }
    match at_signing.get(f.sig_ref) {
        Ok(Object::Dict(d)) if d.get(b"Contents").and_then(Object::as_bytes) == Some(f.contents.as_slice()) => Ok(()),
        Ok(_) => Err("the signature dictionary differs from the one in the signed revision".into()),
        Err(e) => Err(format!("the signature dictionary is not inside the signed bytes: {e}")),
    }
}

/// Algorithms too weak to rely on: SHA-1 digests, RSA keys under 2048 bits, EC under 256.
fn weak_algorithms(sd: &cms::ParsedSignedData, signer: &Certificate) -> Option<String> {
    let mut weak = Vec::new();
    if sd.digest_algorithm == signet_pki::oid::ID_SHA1 || sd.signature_algorithm.oid == signet_pki::oid::SHA1_WITH_RSA {
        weak.push("SHA-1".to_string());
    }
    match cert::key_strength(signer) {
        (alg, bits) if alg == "RSA" && bits < 2048 => weak.push(format!("an RSA key of {bits} bits")),
        (alg, bits) if alg == "EC" && bits < 256 => weak.push(format!("an EC key of {bits} bits")),
        _ => {}
    }
    (!weak.is_empty()).then(|| format!("the signature uses {}, below today's cryptographic constraints", weak.join(" and ")))
}

fn chain_sub_indication(e: &chain::ChainError) -> &'static str {
    match e {
        chain::ChainError::Expired { .. } => "OUT_OF_BOUNDS_NO_POE",
        chain::ChainError::NotYetValid { .. } => "NOT_YET_VALID",
        chain::ChainError::BadSignature { .. } => "CERTIFICATE_CHAIN_GENERAL_FAILURE",
        _ => "NO_CERTIFICATE_CHAIN_FOUND",
    }
}

fn check_timestamp_token(token: &[u8], signature: &[u8], pool: &[Certificate], opts: &Options) -> Option<TimestampSummary> {
    let (parsed, info) = tsp::parse_token(token).ok()?;
    let imprint = alg::digest_by_oid(&info.hash_algorithm, signature).ok()?;
    let tsa_name = parsed.signer_cert.as_ref().map(cert::subject_string).unwrap_or_default();
    let mut s = TimestampSummary {
        time: rfc3339(info.gen_time),
        unix: unix(info.gen_time),
        tsa: tsa_name,
        valid: false,
        trusted: false,
        trusted_at_time: false,
    };
    if let Ok((_, tsa_cert)) = tsp::verify_token(token, Some(&imprint)) {
        s.valid = true;
        let mut p = pool.to_vec();
        p.extend(parsed.certificates.iter().cloned());
        s.trusted = chain::build_chain(&tsa_cert, &p, &opts.trust_anchors, opts.now).is_ok();
        s.trusted_at_time = s.trusted || chain::build_chain(&tsa_cert, &p, &opts.trust_anchors, info.gen_time).is_ok();
    }
    Some(s)
}

/// The revocation status of `leaf`: from the DSS, else (with `--online`) fetched; with a note
/// for the report when something could not be established, and the revocation time when it
/// is revoked.
fn revocation(leaf: &Certificate, issuer: Option<&Certificate>, dss: &Dss, opts: &Options) -> (RevocationReport, Option<String>, Option<SystemTime>) {
    let unchecked = |status, source, note: String| (RevocationReport { status, source, revoked_at: None }, Some(note), None);
    let Some(issuer) = issuer else {
        // A self-signed signer trusted directly: there is nobody to revoke it.
        return (RevocationReport { status: "good", source: None, revoked_at: None }, None, None);
    };
    if let Some(status) = status_in(leaf, issuer, &dss.ocsps, &dss.crls, &dss.certs) {
        return report(status, "dss");
    }
    if cert::crl_urls(leaf).is_empty() && cert::ocsp_urls(leaf).is_empty() {
        return unchecked("not_checked", None, "the signer's certificate names no CRL or OCSP service and the document holds no revocation data for it: revocation was not checked".into());
    }
    let Some(fetcher) = &opts.online else {
        return unchecked("not_checked", None, "the document holds no revocation data for the signer's certificate: revocation was not checked (use --online to ask its CRL/OCSP services)".into());
    };
    match fetcher.fetch(leaf, issuer) {
        Ok(f) => match status_in(leaf, issuer, &f.ocsps, &f.crls, &f.certs) {
            Some(status) => report(status, "online"),
            None => unchecked("unknown", Some("online"), "the revocation data fetched online does not cover the signer's certificate".into()),
        },
        Err(e) => unchecked("unknown", Some("online"), format!("revocation data could not be fetched: {e}")),
    }
}

enum Status {
    Good,
    Revoked(SystemTime),
    Unknown,
}

fn report(s: Status, source: &'static str) -> (RevocationReport, Option<String>, Option<SystemTime>) {
    let (status, revoked) = match s {
        Status::Good => ("good", None),
        Status::Revoked(t) => ("revoked", Some(t)),
        Status::Unknown => ("unknown", None),
    };
    (RevocationReport { status, source: Some(source), revoked_at: revoked.map(rfc3339) }, None, revoked)
}

/// The status of `leaf` in verified OCSP responses and CRLs of `issuer` (a revocation found
/// anywhere wins); `None` when none of them speaks about it.
fn status_in(leaf: &Certificate, issuer: &Certificate, ocsps: &[Vec<u8>], crls: &[Vec<u8>], certs: &[Certificate]) -> Option<Status> {
    let serial = leaf.tbs_certificate().serial_number().as_bytes();
    let mut found: Option<Status> = None;
    for o in ocsps {
        let Ok(resp) = ocsp::parse_response(o) else { continue };
        if ocsp::verify_response(&resp, issuer, certs).is_err() {
            continue;
        }
        for s in resp.single.iter().filter(|s| s.id.serial == serial) {
            match s.status {
                ocsp::CertStatus::Revoked { time, .. } => return Some(Status::Revoked(time)),
                ocsp::CertStatus::Good => found = Some(Status::Good),
                ocsp::CertStatus::Unknown => {
                    if found.is_none() {
                        found = Some(Status::Unknown);
                    }
                }
            }
        }
    }
    for c in crls {
        let Ok(crl) = signet_pki::crl::verify_crl(c, issuer) else { continue };
        if let Some((_, t)) = crl.revoked.iter().find(|(s, _)| s.as_slice() == serial) {
            return Some(Status::Revoked(*t));
        }
        if !matches!(found, Some(Status::Good)) {
            found = Some(Status::Good);
        }
    }
    found
}

/// PAdES levels: B-B for a CAdES signature, B-T with a valid signature time-stamp, B-LT with
/// revocation data in the DSS, B-LTA when a valid document time-stamp covers the DSS.
fn assign_levels(sigs: &mut [SignatureReport], dss: &Dss, revisions: &[u64]) {
    let doc_ts: Vec<usize> = sigs
        .iter()
        .filter(|s| s.kind == Kind::DocumentTimestamp && s.integrity == Integrity::Intact && s.crypto_valid)
        .filter_map(|s| s.covered_revision)
        .collect();
    let has_revocation = !dss.ocsps.is_empty() || !dss.crls.is_empty();
    for s in sigs.iter_mut().filter(|s| s.kind == Kind::Signature) {
        if s.level.is_some() || s.integrity != Integrity::Intact || !s.crypto_valid {
            continue;
        }
        let rev = s.covered_revision.unwrap_or(0);
        let mut level = "B-B";
        if s.timestamp.as_ref().is_some_and(|t| t.valid) {
            level = "B-T";
            if has_revocation && rev < revisions.len() {
                level = "B-LT";
                if doc_ts.iter().any(|d| *d >= rev + 2) {
                    level = "B-LTA";
                }
            }
        }
        s.level = Some(level.to_string());
    }
}

/// Parses a PDF date `D:YYYYMMDDHHmmSS[Z|+HH'mm']` (prefix parts optional).
pub fn parse_pdf_date(s: &str) -> Option<SystemTime> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let num = |a: usize, b: usize, default: u32| -> u32 { digits.get(a..b).and_then(|x| x.parse().ok()).unwrap_or(default) };
    let year = num(0, 4, 1970) as i32;
    let month = time::Month::try_from(num(4, 6, 1) as u8).ok()?;
    let date = time::Date::from_calendar_date(year, month, num(6, 8, 1) as u8).ok()?;
    let t = time::Time::from_hms(num(8, 10, 0) as u8, num(10, 12, 0) as u8, num(12, 14, 0) as u8).ok()?;
    let mut dt = time::PrimitiveDateTime::new(date, t).assume_utc();
    let rest = &s[digits.len()..];
    let sign = match rest.chars().next() {
        Some('+') => 1,
        Some('-') => -1,
        _ => 0,
    };
    if sign != 0 {
        let tz: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
        let h: i64 = tz.get(0..2).and_then(|x| x.parse().ok()).unwrap_or(0);
        let m: i64 = tz.get(2..4).and_then(|x| x.parse().ok()).unwrap_or(0);
        dt -= time::Duration::minutes(sign * (h * 60 + m));
    }
    let secs = dt.unix_timestamp();
    if secs < 0 {
        return None;
    }
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_pdf::Stream;

    #[test]
    fn pdf_dates() {
        let t = parse_pdf_date("D:20261128120000Z").unwrap();
        assert_eq!(rfc3339(t), "2026-11-28T12:00:00Z");
        let t = parse_pdf_date("D:20261128200000+08'00'").unwrap();
        assert_eq!(rfc3339(t), "2026-11-28T12:00:00Z");
        assert!(parse_pdf_date("D:20").is_none());
        assert!(parse_pdf_date("D:20261399").is_none());
    }

    #[test]
    fn too_many_signatures_are_refused_not_hashed() {
        let mut pdf = signet_pdf::sample_contract("Many", 1, 0);
        for _ in 0..=MAX_SIGNATURES {
            let doc = Document::open(&pdf).unwrap();
            let req = signet_pdf::SignatureRequest { contents_capacity: 8, ..Default::default() };
            let mut p = signet_pdf::prepare_signature(&doc, &req).unwrap();
            p.embed(&[0x30, 0x00]).unwrap();
            pdf.extend_from_slice(&p.update);
        }
        let opts = Options { trust_anchors: vec![], now: SystemTime::UNIX_EPOCH, online: None };
        let report = verify(&pdf, &opts).unwrap();
        assert!(!report.all_passed());
        assert!(report.problems.iter().any(|p| p.contains("more than")), "{:?}", report.problems);
    }

    #[test]
    fn not_a_pdf_is_a_usage_error() {
        let junk = b"hello, this is not a pdf".to_vec();
        let opts = Options { trust_anchors: vec![], now: SystemTime::UNIX_EPOCH, online: None };
        assert!(matches!(verify(&junk, &opts), Err(VerifyError::NotPdf(_))));
    }

    /// Found while fuzzing (reading the pdf_document paths): the DSS arrays may list one
    /// compressed stream many times, each copy decoded anew; the total is bounded.
    #[test]
    fn dss_streams_listed_many_times_are_bounded() {
        // zlib of 4096 zero bytes.
        let z = [0x78, 0xda, 0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00, 0x00, 0xc2, 0xa0, 0xf7, 0x4f, 0x6d, 0x0f, 0x07, 0x14, 0x00, 0x00, 0x00, 0xf0, 0x6e, 0x10, 0x00, 0x00, 0x01];
        assert_eq!(Stream { dict: [("Filter", Object::name(b"FlateDecode"))].into_iter().collect(), data: z.to_vec() }.decoded().unwrap().len(), 4096);
        let certs = "4 0 R ".repeat(100);
        let objs = [
            "<< /Type /Catalog /Pages 2 0 R /DSS 3 0 R >>".to_string(),
            "<< /Type /Pages /Kids [] /Count 0 >>".into(),
            format!("<< /Certs [{certs}] >>"),
        ];
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offs = vec![];
        for (i, o) in objs.iter().enumerate() {
            offs.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        offs.push(pdf.len());
        pdf.extend_from_slice(format!("4 0 obj\n<< /Filter /FlateDecode /Length {} >>\nstream\n", z.len()).as_bytes());
        pdf.extend_from_slice(&z);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for o in offs {
            pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        let doc = Document::open(&pdf).unwrap();
        assert_eq!(read_dss(&doc, 100 * 4096).unwrap().certs.len(), 0);
        assert!(matches!(read_dss(&doc, 99 * 4096), Err(PdfError::LimitExceeded { .. })));
    }
}
