//! PAdES baseline signing (ETSI EN 319 142-1): B-B, B-T, B-LT and B-LTA.
//!
//! This crate joins the two trust cores: `signet-pdf` prepares a signature placeholder in an
//! incremental update, `signet-pki` builds the CMS. It adds what neither knows: the level
//! ladder (signature time-stamp, DSS with validation data, document time-stamp) and the checks
//! a signer must pass before signing (certificate validity at the signing time, key usage, key
//! matching the certificate).
//!
//! Pure like its dependencies: the document comes in as a [`Source`], the time as a
//! parameter, and the outside world (a TSA, OCSP responders, CRL servers) through the
//! [`TimestampSource`] and [`ValidationDataSource`] traits, which the `signet` binary
//! implements over HTTP or with an in-process CA.
//!
//! What it does not do: write files (it returns the bytes to append), verify signatures (that
//! is `signet-verify`).

use std::time::SystemTime;

use signet_pdf::{
    Appended, Document, DssData, PdfError, PreparedSignature, SignatureKind, SignatureRequest,
    Source,
};
use signet_pki::cert::{self, Certificate};
use signet_pki::{PkiError, Signer, cms, tsp};

/// The PAdES baseline level to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Basic signature: CMS with signing-certificate-v2 over the byte range.
    BB,
    /// B-B plus a signature time-stamp (trusted time).
    BT,
    /// B-T plus validation data (certificates, OCSP responses, CRLs) in the DSS.
    BLT,
    /// B-LT plus a document time-stamp over everything.
    BLTA,
}

impl Level {
    /// Parses `B-B`, `B-T`, `B-LT`, `B-LTA` (case-insensitive; the `B-` may be left out).
    pub fn parse(s: &str) -> Option<Level> {
        let up = s.trim().to_ascii_uppercase();
        match up.strip_prefix("B-").unwrap_or(&up) {
            "B" => Some(Level::BB),
            "T" => Some(Level::BT),
            "LT" => Some(Level::BLT),
            "LTA" => Some(Level::BLTA),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLT => "B-LT",
            Level::BLTA => "B-LTA",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors of the signing pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PadesError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("the signing certificate ({subject}) expired on {not_after}; issue a new one")]
    CertificateExpired { subject: String, not_after: String },
    #[error("the signing certificate ({subject}) is not valid before {not_before}; check the clock or wait")]
    CertificateNotYetValid { subject: String, not_before: String },
    #[error(
        "the signing certificate ({subject}) does not allow digital signatures (keyUsage lacks digitalSignature); use a signing certificate"
    )]
    NoDigitalSignatureUsage { subject: String },
    #[error("the private key does not belong to the signing certificate ({subject})")]
    KeyMismatch { subject: String },
    #[error("level {level} needs a time-stamp authority: pass --tsa URL or --tsa-dir DIR")]
    NoTimestampSource { level: Level },
    #[error("time-stamp authority failed: {0}")]
    Timestamp(String),
    #[error("could not collect validation data for {subject}: {detail}")]
    ValidationData { subject: String, detail: String },
}

/// A source of RFC 3161 time-stamp tokens: an HTTP TSA, or a TSA in this process.
pub trait TimestampSource {
    /// Returns a time-stamp token (CMS `ContentInfo` DER) over the SHA-256 `imprint`.
    fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError>;
}

/// Revocation data for one certificate.
#[derive(Debug, Default, Clone)]
pub struct Revocation {
    pub ocsp: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    /// Extra certificates needed to check the data (e.g. a delegated OCSP responder's).
    pub certs: Vec<Certificate>,
}

/// Where validation data comes from: fetched over HTTP from the URLs in the certificates, or
/// produced directly by a Signet CA in this process.
pub trait ValidationDataSource {
    fn revocation(&self, cert: &Certificate, issuer: &Certificate) -> Result<Revocation, PadesError>;
}

/// The signer's key and certificates.
pub struct Credentials<'a> {
    pub key: &'a dyn Signer,
    pub cert: &'a Certificate,
    /// Issuer certificates, in any order (as found in a PKCS#12 file).
    pub chain: &'a [Certificate],
}

/// The services a level needs.
#[derive(Default, Clone, Copy)]
pub struct Services<'a> {
    pub tsa: Option<&'a dyn TimestampSource>,
    pub validation: Option<&'a dyn ValidationDataSource>,
}

/// Room reserved in `/Contents` beyond the certificates: signature, attributes, and a
/// time-stamp token with its certificates.
const CONTENTS_BASE: usize = 4096;
const TOKEN_ALLOWANCE: usize = 12288;

/// Signs `src` at `level`. Returns the bytes to append to `src` (one incremental update per
/// step: the signature, then the DSS for B-LT, then the document time-stamp for B-LTA).
pub fn sign(
    src: &dyn Source,
    creds: &Credentials<'_>,
    request: &SignatureRequest<'_>,
    level: Level,
    services: Services<'_>,
    now: SystemTime,
) -> Result<Vec<u8>, PadesError> {
    check_credentials(creds, now)?;
    if level >= Level::BT && services.tsa.is_none() {
        return Err(PadesError::NoTimestampSource { level });
    }
    let doc = Document::open(src)?;

    // 1. The signature.
    let certs_len: usize =
        cert::cert_der(creds.cert).len() + creds.chain.iter().map(|c| cert::cert_der(c).len()).sum::<usize>();
    let mut req = request.clone();
    req.kind = SignatureKind::Cades;
    req.contents_capacity = req
        .contents_capacity
        .max(CONTENTS_BASE + certs_len + if level >= Level::BT { TOKEN_ALLOWANCE } else { 0 });
    if req.signing_time.is_none() {
        req.signing_time = Some(now);
    }
    let mut prepared = signet_pdf::prepare_signature(&doc, &req)?;
    let digest = signed_digest(src, &prepared)?;
    let chain = order_chain(creds.cert, creds.chain);
    let mut cades = cms::sign_cades_detached(creds.key, creds.cert, &chain, &digest)?;
    let mut tsa_chain: Vec<Certificate> = Vec::new();
    if level >= Level::BT {
        let tsa = services.tsa.ok_or(PadesError::NoTimestampSource { level })?;
        let imprint = signet_pki::alg::sha256(cades.signature_value());
        let token = tsa.timestamp(&imprint)?;
        let (parsed, _) = tsp::parse_token(&token)?;
        tsa_chain = tsa_certificates(&parsed);
        cades.add_signature_timestamp(&token)?;
    }
    prepared.embed(&cades.to_der()?)?;
    let mut out = prepared.update;
    if level < Level::BLT {
        return Ok(out);
    }

    // 2. Validation data in the DSS for the signer's and the TSA's chains.
    let validation = services.validation.ok_or_else(|| PadesError::ValidationData {
        subject: cert::subject_string(creds.cert),
        detail: "no source of OCSP/CRL data was configured".into(),
    })?;
    let mut full_signer_chain = vec![creds.cert.clone()];
    full_signer_chain.extend(chain.iter().cloned());
    let dss = collect_dss(&[full_signer_chain, tsa_chain.clone()], validation)?;
    {
        let appended = Appended { base: src, tail: &out };
        let doc = Document::open(&appended)?;
        let update = signet_pdf::add_dss(&doc, &dss)?;
        out.extend_from_slice(&update);
    }
    if level < Level::BLTA {
        return Ok(out);
    }

    // 3. The document time-stamp over everything.
    let tsa = services.tsa.ok_or(PadesError::NoTimestampSource { level })?;
    let update = document_timestamp(&Appended { base: src, tail: &out }, tsa, now)?;
    out.extend_from_slice(&update);
    Ok(out)
}

/// Adds a document time-stamp (`/ETSI.RFC3161`) to `src`; returns the bytes to append.
pub fn document_timestamp(
    src: &dyn Source,
    tsa: &dyn TimestampSource,
    _now: SystemTime,
) -> Result<Vec<u8>, PadesError> {
    let doc = Document::open(src)?;
    let req = SignatureRequest {
        kind: SignatureKind::DocTimestamp,
        field_name: None,
        placement: None,
        appearance: None,
        contents_capacity: TOKEN_ALLOWANCE,
        signing_time: None,
        name: None,
        reason: None,
        location: None,
        contact_info: None,
        certify: None,
        add_fields: Vec::new(),
    };
    let mut prepared = signet_pdf::prepare_signature(&doc, &req)?;
    let digest = signed_digest(src, &prepared)?;
    let token = tsa.timestamp(&digest)?;
    prepared.embed(&token)?;
    Ok(prepared.update)
}

/// SHA-256 over the byte range: all of `src`, then the update around the `/Contents` hole.
/// Streams `src` in chunks so a 1 GB input never sits in memory.
pub fn signed_digest(src: &dyn Source, prepared: &PreparedSignature) -> Result<[u8; 32], PadesError> {
    let mut h = signet_pki::alg::Sha256::default();
    signet_pdf::for_each_chunk(src, 0, src.len(), |c| h.update(c))?;
    let (a, b) = prepared.signed_parts();
    h.update(a);
    h.update(b);
    Ok(h.finish())
}

fn check_credentials(creds: &Credentials<'_>, now: SystemTime) -> Result<(), PadesError> {
    let subject = cert::subject_string(creds.cert);
    let (not_before, not_after) = cert::validity(creds.cert);
    if now > not_after {
        return Err(PadesError::CertificateExpired { subject, not_after: fmt_time(not_after) });
    }
    if now < not_before {
        return Err(PadesError::CertificateNotYetValid { subject, not_before: fmt_time(not_before) });
    }
    if let Some(ku) = cert::key_usage(creds.cert)
        && !ku.digital_signature && !ku.non_repudiation {
            return Err(PadesError::NoDigitalSignatureUsage { subject });
        }
    if cert::spki_der(creds.cert) != creds.key.public_key_der() {
        return Err(PadesError::KeyMismatch { subject });
    }
    Ok(())
}

/// Orders issuer certificates from the leaf's issuer upwards; certificates that belong to no
/// path are kept at the end (harmless in CMS).
pub fn order_chain(leaf: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    let mut out: Vec<Certificate> = Vec::new();
    let mut current = leaf.clone();
    for _ in 0..pool.len() {
        if cert::is_self_issued(&current) {
            break;
        }
        let issuer = current.tbs_certificate().issuer();
        let next = pool.iter().find(|c| {
            c.tbs_certificate().subject() == issuer && !out.iter().any(|o| o == *c) && *c != &current
        });
        match next {
            Some(n) => {
                out.push(n.clone());
                current = n.clone();
            }
            None => break,
        }
    }
    for c in pool {
        if !out.contains(c) && c != leaf {
            out.push(c.clone());
        }
    }
    out
}

/// The TSA certificate first, then the rest of the token's certificates ordered as a chain.
fn tsa_certificates(parsed: &cms::ParsedSignedData) -> Vec<Certificate> {
    match &parsed.signer_cert {
        Some(tsa) => {
            let mut v = vec![tsa.clone()];
            v.extend(order_chain(tsa, &parsed.certificates));
            v
        }
        None => parsed.certificates.clone(),
    }
}

/// Certificates of every chain plus OCSP responses/CRLs for every certificate that is not a
/// self-issued root.
fn collect_dss(
    chains: &[Vec<Certificate>],
    source: &dyn ValidationDataSource,
) -> Result<DssData, PadesError> {
    let mut dss = DssData { certs: Vec::new(), ocsps: Vec::new(), crls: Vec::new() };
    let mut done: Vec<Vec<u8>> = Vec::new();
    let push = |v: &mut Vec<Vec<u8>>, item: Vec<u8>| {
        if !v.contains(&item) {
            v.push(item);
        }
    };
    for chain in chains {
        for (i, c) in chain.iter().enumerate() {
            push(&mut dss.certs, cert::cert_der(c));
            if cert::is_self_issued(c) {
                continue;
            }
            let der = cert::cert_der(c);
            if done.contains(&der) {
                continue;
            }
            done.push(der);
            let Some(issuer) = chain.get(i + 1) else {
                return Err(PadesError::ValidationData {
                    subject: cert::subject_string(c),
                    detail: "its issuer certificate is missing from the chain (put the whole chain in the PKCS#12 file)"
                        .into(),
                });
            };
            let rev = source.revocation(c, issuer)?;
            if rev.ocsp.is_empty() && rev.crls.is_empty() {
                return Err(PadesError::ValidationData {
                    subject: cert::subject_string(c),
                    detail: "neither an OCSP response nor a CRL could be obtained".into(),
                });
            }
            for o in rev.ocsp {
                push(&mut dss.ocsps, o);
            }
            for crl in rev.crls {
                push(&mut dss.crls, crl);
            }
            for extra in rev.certs {
                push(&mut dss.certs, cert::cert_der(&extra));
            }
        }
    }
    Ok(dss)
}

fn fmt_time(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => time::OffsetDateTime::from_unix_timestamp(d.as_secs() as i64)
            .map(|t| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            })
            .unwrap_or_else(|_| format!("{}s after 1970", d.as_secs())),
        Err(_) => "before 1970".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_pki::cert::{CertProfile, CertRequest, DistinguishedName, Issuer};
    use signet_pki::{KeyAlgorithm, PrivateKey, crl};
    use std::time::Duration;

    const DAY: u64 = 86_400;

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
    }

    struct Pki {
        root: Certificate,
        root_key: PrivateKey,
        tsa: Certificate,
        tsa_key: PrivateKey,
    }

    fn issue(
        cn: &str,
        profile: CertProfile,
        key: &PrivateKey,
        issuer: Issuer<'_>,
        not_before: SystemTime,
        days: u64,
    ) -> Certificate {
        cert::issue_certificate(
            &CertRequest {
                subject: DistinguishedName::new(cn),
                profile,
                public_key_der: key.public_key_der(),
                serial: vec![0x42, (days % 251) as u8 + 1, cn.len() as u8],
                not_before,
                not_after: not_before + Duration::from_secs(days * DAY),
                crl_url: Some("http://127.0.0.1:1/crl".into()),
                ocsp_url: None,
                ca_issuers_url: None,
                phone: None,
            },
            issuer,
        )
        .unwrap()
    }

    fn pki() -> Pki {
        let root_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let root = issue("Test Root", CertProfile::RootCa, &root_key, Issuer::SelfSigned(&root_key), t0(), 3650);
        let tsa_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let tsa = issue("Test TSA", CertProfile::TimeStamping, &tsa_key, Issuer::Ca { cert: &root, key: &root_key }, t0(), 3650);
        Pki { root, root_key, tsa, tsa_key }
    }

    impl TimestampSource for Pki {
        fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
            let tsa = tsp::Tsa {
                cert: &self.tsa,
                chain: std::slice::from_ref(&self.root),
                key: &self.tsa_key,
                policy: signet_pki::oid::SIGNET_TSA_POLICY,
                accuracy_millis: 100,
            };
            let req = tsp::TimeStampRequest::sha256(imprint);
            Ok(tsa.issue_token(&req, t0() + Duration::from_secs(DAY), &[7, 7, 7])?)
        }
    }

    impl ValidationDataSource for Pki {
        fn revocation(&self, _c: &Certificate, issuer: &Certificate) -> Result<Revocation, PadesError> {
            assert_eq!(issuer, &self.root);
            let now = t0() + Duration::from_secs(DAY);
            let crl = crl::build_crl(&self.root, &self.root_key, now, now + Duration::from_secs(7 * DAY), 1, &[])?;
            Ok(Revocation { ocsp: vec![], crls: vec![crl], certs: vec![] })
        }
    }

    /// Answers with nothing at all.
    struct NoData;
    impl ValidationDataSource for NoData {
        fn revocation(&self, _c: &Certificate, _i: &Certificate) -> Result<Revocation, PadesError> {
            Ok(Revocation::default())
        }
    }

    fn request() -> SignatureRequest<'static> {
        SignatureRequest { name: Some("Signer".into()), ..Default::default() }
    }

    #[test]
    fn every_level_adds_what_it_promises_and_verifies() {
        let p = pki();
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let signer = issue("Signer", CertProfile::Signer, &key, Issuer::Ca { cert: &p.root, key: &p.root_key }, t0(), 365);
        let chain = [p.root.clone()];
        let creds = Credentials { key: &key, cert: &signer, chain: &chain };
        let pdf = signet_pdf::sample_contract("Test", 2, 0);
        let now = t0() + Duration::from_secs(DAY);
        for (level, expected_sigs, expected_level) in
            [(Level::BB, 1, "B-B"), (Level::BT, 1, "B-T"), (Level::BLT, 1, "B-LT"), (Level::BLTA, 2, "B-LTA")]
        {
            let services = Services { tsa: Some(&p), validation: Some(&p) };
            let tail = sign(&pdf, &creds, &request(), level, services, now).unwrap();
            let signed = Appended { base: &pdf, tail: &tail };
            let doc = Document::open(&signed).unwrap();
            assert_eq!(signet_pdf::signatures(&doc).unwrap().len(), expected_sigs, "{level}");
            let (_, catalog) = doc.catalog().unwrap();
            assert_eq!(catalog.get(b"DSS").is_some(), level >= Level::BLT, "{level}: DSS");
            // One revision per step.
            let steps = match level {
                Level::BB | Level::BT => 1,
                Level::BLT => 2,
                Level::BLTA => 3,
            };
            assert_eq!(doc.revisions().unwrap().len(), 1 + steps, "{level}");
            let mut whole = pdf.clone();
            whole.extend_from_slice(&tail);
            let report = signet_verify::verify(
                &whole,
                &signet_verify::Options { trust_anchors: vec![p.root.clone()], now, online: None },
            )
            .unwrap();
            assert!(report.all_passed(), "{level}: {report:?}");
            assert_eq!(report.signatures[0].level.as_deref(), Some(expected_level));
        }
    }

    /// A time-stamp authority with its own (short) certificate.
    struct ShortTsa {
        cert: Certificate,
        key: PrivateKey,
        root: Certificate,
    }

    impl TimestampSource for ShortTsa {
        fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
            let tsa = tsp::Tsa {
                cert: &self.cert,
                chain: std::slice::from_ref(&self.root),
                key: &self.key,
                policy: signet_pki::oid::SIGNET_TSA_POLICY,
                accuracy_millis: 100,
            };
            Ok(tsa.issue_token(&tsp::TimeStampRequest::sha256(imprint), t0() + Duration::from_secs(DAY), &[1])?)
        }
    }

    /// Long-term validation: years later the signer's and the signature TSA's certificates
    /// have expired; a document time-stamp from a still-valid TSA proves the signature and its
    /// time-stamp existed while they were valid, so the signature still passes. Without it,
    /// nothing proves that: INDETERMINATE / OUT_OF_BOUNDS_NO_POE.
    #[test]
    fn a_document_time_stamp_keeps_an_expired_signature_provable() {
        let p = pki();
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let ca = Issuer::Ca { cert: &p.root, key: &p.root_key };
        let signer = issue("Signer", CertProfile::Signer, &key, ca, t0(), 365);
        let short_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let short = ShortTsa { cert: issue("Short TSA", CertProfile::TimeStamping, &short_key, ca, t0(), 30), key: short_key, root: p.root.clone() };
        let chain = [p.root.clone()];
        let creds = Credentials { key: &key, cert: &signer, chain: &chain };
        let pdf = signet_pdf::sample_contract("LTV", 1, 0);
        let signing = t0() + Duration::from_secs(DAY);
        let tail = sign(&pdf, &creds, &request(), Level::BT, Services { tsa: Some(&short), validation: None }, signing).unwrap();
        let mut bt = pdf.clone();
        bt.extend_from_slice(&tail);
        let mut lta = bt.clone();
        lta.extend_from_slice(&document_timestamp(&bt, &p, signing).unwrap());

        let years_later = t0() + Duration::from_secs(400 * DAY);
        let opts = signet_verify::Options { trust_anchors: vec![p.root.clone()], now: years_later, online: None };
        let report = signet_verify::verify(&bt, &opts).unwrap();
        let s = &report.signatures[0];
        assert_eq!(s.indication, signet_verify::Indication::Indeterminate, "{report:?}");
        assert_eq!(s.sub_indication, Some("OUT_OF_BOUNDS_NO_POE"), "{report:?}");

        let report = signet_verify::verify(&lta, &opts).unwrap();
        assert!(report.all_passed(), "{report:?}");
        let s = &report.signatures[0];
        assert_eq!(s.signing_time.as_ref().map(|t| t.trusted), Some(true));
        assert!(s.notes.iter().any(|n| n.contains("expired since")), "{report:?}");
    }

    #[test]
    fn unusable_credentials_are_refused() {
        let p = pki();
        let pdf = signet_pdf::sample_contract("Test", 1, 0);
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let ca = Issuer::Ca { cert: &p.root, key: &p.root_key };
        let later = t0() + Duration::from_secs(100 * DAY);
        let chain = [p.root.clone()];
        let services = Services { tsa: Some(&p), validation: Some(&p) };

        // Expired at the signing time.
        let old = issue("Old", CertProfile::Signer, &key, ca, t0(), 30);
        let err = sign(&pdf, &Credentials { key: &key, cert: &old, chain: &chain }, &request(), Level::BB, services, later);
        assert!(matches!(err, Err(PadesError::CertificateExpired { .. })), "{err:?}");
        // Not yet valid.
        let future = issue("Future", CertProfile::Signer, &key, Issuer::Ca { cert: &p.root, key: &p.root_key }, later, 30);
        let err = sign(&pdf, &Credentials { key: &key, cert: &future, chain: &chain }, &request(), Level::BB, services, t0() + Duration::from_secs(DAY));
        assert!(matches!(err, Err(PadesError::CertificateNotYetValid { .. })), "{err:?}");
        // A CA certificate has keyCertSign but not digitalSignature.
        let ca_only = issue("Not a signer", CertProfile::RootCa, &key, Issuer::SelfSigned(&key), t0(), 365);
        let err = sign(&pdf, &Credentials { key: &key, cert: &ca_only, chain: &[] }, &request(), Level::BB, services, later);
        assert!(matches!(err, Err(PadesError::NoDigitalSignatureUsage { .. })), "{err:?}");
        // Someone else's key.
        let good = issue("Signer", CertProfile::Signer, &key, Issuer::Ca { cert: &p.root, key: &p.root_key }, t0(), 365);
        let other = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let err = sign(&pdf, &Credentials { key: &other, cert: &good, chain: &chain }, &request(), Level::BB, services, later);
        assert!(matches!(err, Err(PadesError::KeyMismatch { .. })), "{err:?}");
        // B-T without a TSA; B-LT without any revocation data.
        let creds = Credentials { key: &key, cert: &good, chain: &chain };
        let err = sign(&pdf, &creds, &request(), Level::BT, Services::default(), later);
        assert!(matches!(err, Err(PadesError::NoTimestampSource { .. })), "{err:?}");
        let err = sign(&pdf, &creds, &request(), Level::BLT, Services { tsa: Some(&p), validation: Some(&NoData) }, later);
        assert!(matches!(err, Err(PadesError::ValidationData { .. })), "{err:?}");
        // B-LT with a chain missing the issuer.
        let err = sign(&pdf, &Credentials { key: &key, cert: &good, chain: &[] }, &request(), Level::BLT, services, later);
        assert!(matches!(err, Err(PadesError::ValidationData { .. })), "{err:?}");
    }

    #[test]
    fn streamed_digest_equals_one_shot_digest() {
        let pdf = signet_pdf::sample_contract("Digest", 3, 700 * 1024);
        let doc = Document::open(&pdf).unwrap();
        let prepared = signet_pdf::prepare_signature(&doc, &SignatureRequest { contents_capacity: 4096, ..Default::default() }).unwrap();
        let mut all = pdf.clone();
        let (a, b) = prepared.signed_parts();
        all.extend_from_slice(a);
        all.extend_from_slice(b);
        assert_eq!(signed_digest(&pdf, &prepared).unwrap(), signet_pki::alg::sha256(&all));
    }

    #[test]
    fn levels_parse() {
        assert_eq!(Level::parse("b-lta"), Some(Level::BLTA));
        assert_eq!(Level::parse("T"), Some(Level::BT));
        assert_eq!(Level::parse("B-X"), None);
        assert!(Level::BB < Level::BLTA);
    }
}
